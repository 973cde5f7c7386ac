"""saasctl's tables in a log 80 columns wide: nothing is cut short."""

from __future__ import annotations

import io

from rich.console import Console

from saasctl import console

ARN = "arn:aws:ecs:eu-central-1:111122223333:task-definition/prod-tenant-globex-web:42"


def printed(width: int, *rows: tuple[str, ...]) -> str:
    out = io.StringIO()
    table = console.table("output", "value", title="outputs")
    for row in rows:
        table.add_row(*row)
    Console(file=out, width=width, no_color=True).print(table)
    return out.getvalue()


def cells(text: str) -> str:
    """The table's characters without borders, padding and line breaks."""
    return "".join(ch for ch in text if ch not in "│┃┏┓┗┛┡┩└┘┌┐━─╇┳┻┴┬ \n")


def test_a_long_value_folds_and_keeps_every_character() -> None:
    text = printed(80, ("task_definition_arn", ARN), ("cluster_arn", ARN.replace("task", "x")))
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    assert ARN in cells(text)
    assert ARN.replace("task", "x") in cells(text)


def test_a_plain_rich_table_would_have_cut_it() -> None:
    """What the fold guards against: rich's default is to end a cell with '…'."""
    from rich.table import Table

    out = io.StringIO()
    table = Table("output", "value", "other")
    table.add_row("task_definition_arn", ARN, ARN)
    Console(file=out, width=80, no_color=True).print(table)
    assert "…" in out.getvalue()


def test_a_question_shows_its_default_and_enter_declines(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ui = console.UI()
    out = io.StringIO()
    ui.err = Console(file=out, no_color=True)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["", "y"])
    monkeypatch.setattr("builtins.input", lambda: next(answers))
    assert ui.confirm("Offboard x: destroy 26 resource(s). Proceed?") is False
    assert "Proceed? [y/N]" in out.getvalue()
    assert ui.confirm("Proceed?") is True


def test_a_large_ledger_lists_only_the_units_to_look_at() -> None:
    from saasctl.cli.release import LISTED_UNITS, ledger_table

    labels = [f"t{i:03d}" for i in range(LISTED_UNITS + 10)]
    states = {label: "healthy" for label in labels} | {"t001": "rolled-back", "t002": "skipped"}
    data = {
        "kind": "rollout", "version": "2.0.0", "state": "halted",
        "waves": [{"name": "advanced", "units": labels, "state": "halted"}],
        "units": {label: {"from": "1.0.0", "to": "2.0.0", "state": state, "detail": ""}
                  for label, state in states.items()},
    }  # fmt: skip

    def shown(every_unit: bool) -> str:
        out = io.StringIO()
        table = ledger_table(data, every_unit=every_unit)
        Console(file=out, width=120, no_color=True).print(table)
        return out.getvalue()

    brief = shown(False)
    assert "t001" in brief and "rolled-back" in brief
    assert "t000" not in brief and "t002" not in brief
    assert f"({len(labels) - 1} more)" in brief
    assert f"{len(labels) - 2} healthy, 1 skipped" in brief
    full = shown(True)
    assert all(label in full for label in labels)

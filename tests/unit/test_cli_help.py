"""`--help` of every command, against tests/golden/help.txt: how the CLI is built
may change, what its users read may not, unless on purpose (UPDATE_GOLDEN=1
rewrites the file; review its diff like any other change)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
import typer

from saasctl import cli
from tests.conftest import CliResult

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "help.txt"
# The same pages on the documentation site, generated from the golden file.
REFERENCE = Path(__file__).resolve().parents[2] / "docs" / "reference" / "cli.md"


def reference_page(help_text: str) -> str:
    return (
        "# Command-line reference\n\n"
        "The `--help` of every command as `saasctl` prints it, 100 columns wide (a\n"
        "terminal sets its own width). Generated from `tests/golden/help.txt`, which\n"
        "a test keeps equal to the real output. What each command does:\n"
        "[Commands](commands.md).\n\n"
        f"```text\n{help_text.rstrip()}\n```\n"
    )


CPUS = os.cpu_count() or 2


def command_paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from command_paths(sub, (*path, name))


def machine_free(text: str) -> str:
    """The parallelism default is this machine's CPU count: shown as a name, in a
    cell of the same width whatever the count."""
    out, in_parallelism = [], False
    cell = re.compile(rf"\[default: {CPUS}\] *")
    for line in text.splitlines():
        if re.match(r"^│ --\S", line):
            in_parallelism = line.startswith("│ --parallelism")
        if in_parallelism:
            line = cell.sub(lambda m: "[default: <cpus>]".ljust(len(m.group(0))), line)
        out.append(line.rstrip())
    return "\n".join(out)


def test_help_of_every_command_is_unchanged(
    run_cli: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not (os.environ.get("UPDATE_GOLDEN") and os.environ.get("CI")), (
        "UPDATE_GOLDEN is refused under CI: regenerate golden files locally and review the diff"
    )
    monkeypatch.setenv("COLUMNS", "100")
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("TERM", "dumb")
    for name in ("SAASCTL_ENV", "SAASCTL_PARALLELISM", "SAASCTL_SHARD"):
        monkeypatch.delenv(name, raising=False)
    pages = []
    for path in command_paths(typer.main.get_command(cli.app)):
        result: CliResult = run_cli(*path, "--help")  # type: ignore[operator]
        assert result.code == 0, (path, result.err)
        pages.append(f"$ saasctl {' '.join((*path, '--help'))}\n{machine_free(result.out)}\n")
    text = "\n".join(pages)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
        REFERENCE.write_text(reference_page(text))
    assert GOLDEN.is_file(), f"missing {GOLDEN}; run UPDATE_GOLDEN=1"
    golden = GOLDEN.read_text()
    # One command at a time: the first that differs is named in the failure.
    for got, want in zip(text.split("\n$ "), golden.split("\n$ "), strict=False):
        assert got == want, f"--help changed: {got.splitlines()[0]}"
    assert text == golden
    assert REFERENCE.read_text() == reference_page(golden), "run UPDATE_GOLDEN=1"

"""Fleet commands: render, plan, apply and drift over the shared workspace and
every tenant, with a progress display and reports."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

from saasctl import audit, policy
from saasctl.cli.common import EnvOpt, allowances, context, with_options
from saasctl.errors import ExitCode, UserError
from saasctl.specs import Tier

if TYPE_CHECKING:
    from saasctl.fleet import WorkspaceResult

STATUS_COLORS = {
    "no changes": "dim",
    "changes": "yellow",
    "applied": "green",
    "error": "red",
    "policy": "red",
}


def render(
    env: EnvOpt = "local",
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any rendered file is stale.")
    ] = False,
) -> None:
    """Render the shared and every tenant workspace from templates and specs."""
    ctx = context(env)
    from saasctl import fleet

    stale = fleet.render_all(ctx, check=check)
    verb = "stale" if check else "rendered"
    for path in stale:
        ctx.ui.info(f"  {verb}: {path}")
    if check and stale:
        ctx.ui.error(f"{len(stale)} rendered file(s) are stale; run `saasctl render --env {env}`")
        raise typer.Exit(ExitCode.ERROR)
    ctx.ui.success(
        "rendered files are up to date" if not stale else f"{len(stale)} file(s) written"
    )


def _fleet(
    mode: str,
    *,
    env: str = "local",
    tenant: list[str] | None = None,
    tier: list[Tier] | None = None,
    shared_only: bool = False,
    cell: list[str] | None = None,
    parallelism: int,
    changed_since: str | None = None,
    shard: str | None = None,
    fail_fast: bool = False,
    allow_destroy: bool = False,
    allow: list[str] | None = None,
    yes: bool = False,
    json_out: bool = False,
    report_json: Path | None = None,
    summary_md: Path | None = None,
) -> None:
    # Imported here: tenant commands start faster without them.
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    from saasctl import changes, fleet

    ctx = context(env)
    if shared_only and (tenant or tier):
        raise UserError("--shared-only cannot be combined with --tenant or --tier")
    opts = fleet.Options(
        mode=mode,
        parallelism=parallelism,
        tenants=tenant,
        tiers=tier,
        shared_only=shared_only,
        changed_since=changed_since,
        shard=changes.parse_shard(shard) if shard else None,
        fail_fast=fail_fast,
        # a drift check applies nothing: no gate to pass
        allow=frozenset(policy.RULES) if mode == "drift" else allowances(ctx, allow_destroy, allow),
        yes=yes,
        cells=cell,
    )
    started = time.monotonic()
    ui = ctx.ui
    show_progress = ui.err.is_terminal and not ui.quiet and not json_out
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=ui.err,
        disable=not show_progress,
        transient=True,
    )
    task = progress.add_task(f"{mode} {env}", total=None)

    def done(result: WorkspaceResult) -> None:
        progress.advance(task)
        c = result.counts()
        detail = result.error or (
            f"+{c['add']} ~{c['change']} -{c['destroy']} -/+{c['replace']}"
            if result.status in ("changes", "applied")
            else ""
        )
        if result.note:
            detail = f"{detail} ({result.note})".lstrip()
        line = (
            f"  [{STATUS_COLORS[result.status]}]{result.status:<10}[/] {result.workspace} "
            f"[dim]{result.seconds:.1f}s[/] {escape(detail)}"
        )
        if show_progress:
            progress.console.print(line)
        else:
            ui.info(line)

    def confirm(what: str) -> None:
        progress.stop()
        ctx.confirm_destroy(what, yes)
        progress.start()

    with audit.recorded(ctx, mode) if mode == "apply" else contextlib.nullcontext(
        audit.Entry()) as entry, progress:  # fmt: skip
        results = fleet.run(ctx, opts, done, confirm)
        data = fleet.report(env, mode, opts, results, time.monotonic() - started)
        code = fleet.aggregate(results)
        entry.changes = bool(data["totals"]["with_changes"])
        entry.detail = dict(data["totals"])
        if code not in (ExitCode.OK, ExitCode.CHANGES):
            entry.outcome = f"failed: {data['totals']['failed']} workspace(s)"
    fleet.write_reports(data, report_json, summary_md)
    if json_out:
        ui.emit_json(data)
    else:
        t = data["totals"]
        ui.info(
            f"{mode}: {t['workspaces']} workspace(s), {t['with_changes']} with changes, "
            f"{t['failed']} failed in {data['seconds']:.1f}s (exit {int(code)})"
        )
    raise typer.Exit(code)


_SELECTION = ("env", "tenant", "tier", "shared_only", "cell", "parallelism")
_REPORTS = ("json_out", "report_json", "summary_md")
_PLANNING = ("changed_since", "shard", "fail_fast", "allow_destroy", "allow")


@with_options(*_SELECTION, *_PLANNING, *_REPORTS)
def plan(**options: object) -> None:
    """Plan the shared workspace, then the tenants in parallel, with policy gates.

    Exit 0 no changes, 2 changes, 1 any error or policy violation.
    """
    _fleet("plan", **options)  # type: ignore[arg-type]


@with_options(*_SELECTION, *_PLANNING, "yes", *_REPORTS)
def apply(**options: object) -> None:
    """Plan everything, ask once if anything is destroyed, then apply those plans (shared first)."""
    _fleet("apply", **options)  # type: ignore[arg-type]


@with_options(*_SELECTION, "shard", *_REPORTS)
def drift(**options: object) -> None:
    """Refresh-only plans: exit 2 when real infrastructure drifted from state."""
    _fleet("drift", **options)  # type: ignore[arg-type]

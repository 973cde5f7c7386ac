"""Whole-environment commands: render, plan and apply the shared workspace and
every tenant, shared first. Serial here; failures are reported per workspace."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from saasctl import render
from saasctl.context import Context, Workspace
from saasctl.errors import ExitCode, SaasctlError
from saasctl.project import TENANT_FILE


@dataclass
class WorkspaceResult:
    workspace: str
    exit_code: int
    summary: dict[str, Any]
    seconds: float
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 2),
            "error": self.error,
            **self.summary,
        }


def render_all(ctx: Context, *, check: bool) -> list[str]:
    """Render every workspace; with ``check``, write nothing and return the stale files."""
    env = ctx.env
    tenants = env.load_tenants()
    planned = {ctx.shared_workspace().dir: render.render_shared(env, tenants)}
    for spec in tenants:
        planned[env.tenant_dir(spec.id)] = render.render_tenant(env, spec)
    stale: list[str] = []
    for workdir, files in planned.items():  # all rendered before anything is written
        names = render.stale_files(workdir, files)
        stale += [env.project.display(workdir / n) for n in names]
        if not check:
            render.write_workspace(workdir, files)
    # A rendered tenant directory without a spec is a leftover: report it.
    if env.tenants_dir.is_dir():
        for d in sorted(env.tenants_dir.iterdir()):
            if d.is_dir() and not d.name.startswith(".") and not (d / TENANT_FILE).exists():
                stale.append(env.project.display(d) + " (no tenant.yaml)")
    return stale


def select(ctx: Context, tenants: list[str] | None, shared: bool) -> list[Workspace]:
    ids = ctx.env.tenant_ids() if tenants is None else tenants
    for t in ids:
        ctx.env.load_tenant(t)  # unknown ids fail before any terraform runs
    spaces = [ctx.shared_workspace()] if shared else []
    return spaces + [ctx.tenant_workspace(t) for t in ids]


def run(ctx: Context, spaces: list[Workspace], *, apply: bool, yes: bool) -> list[WorkspaceResult]:
    ctx.preflight()
    render_all(ctx, check=False)
    results: list[WorkspaceResult] = []
    for ws in spaces:
        start = time.monotonic()
        try:
            with ctx.ui.status(f"planning {ws.label}"):
                summary = ctx.plan(ws)
            ctx.show_summary(ws, summary)
            if apply and summary.has_changes:
                ctx.apply(ws, summary, yes=yes)
            code = ExitCode.CHANGES if summary.has_changes and not apply else ExitCode.OK
            results.append(
                WorkspaceResult(ws.label, code, summary.as_dict(), time.monotonic() - start)
            )
        except SaasctlError as exc:
            ctx.ui.error(f"{ws.label}: {exc.one_line()}")
            results.append(
                WorkspaceResult(
                    ws.label, int(exc.exit_code), {}, time.monotonic() - start, exc.one_line()
                )
            )
            if ws.tenant_id is None:
                break  # tenants read the shared state: without it their plans mean little
    return results


def aggregate(results: list[WorkspaceResult]) -> ExitCode:
    """1 if any failed, else 2 if any has changes, else 0."""
    codes = {r.exit_code for r in results}
    if codes - {ExitCode.OK, ExitCode.CHANGES}:
        return ExitCode.ERROR
    return ExitCode.CHANGES if ExitCode.CHANGES in codes else ExitCode.OK

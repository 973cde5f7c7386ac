"""State commands: the state bucket, and the locks a run that died leaves behind."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from saasctl import console
from saasctl.cli.common import EnvOpt, JsonOpt, YesOpt, context
from saasctl.errors import NotFoundError
from saasctl.ids import validate_tenant_id
from saasctl.project import SHARED

WorkspaceArg = Annotated[str, typer.Argument(help="'shared' or a tenant id.", show_default=False)]


def bootstrap(
    env: EnvOpt = "local",
    lock_table: Annotated[
        bool | None,
        typer.Option(
            "--lock-table/--no-lock-table",
            help="Create the DynamoDB lock table (default: when terraform < 1.10).",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create (or repair) the state bucket and lock table. Idempotent."""
    ctx = context(env)
    if lock_table is None:
        lock_table = ctx.binary.version < (1, 10, 0)
    done = ctx.store.bootstrap(lock_table=lock_table)
    if json_out:
        ctx.ui.emit_json({"environment": env, "bucket": ctx.store.bucket, "done": done})
        return
    for line in done:
        ctx.ui.success(line)


def unlock_lock(workspace: str, env: str, yes: bool) -> None:
    """Remove saasctl's operation lock of 'shared' or a tenant, after showing its holder."""
    ctx = context(env)
    if workspace != SHARED:
        validate_tenant_id(workspace)
    ctx.preflight()
    what = "the shared workspace" if workspace == SHARED else workspace
    holder = ctx.store.holder(workspace)
    if holder is None:
        ctx.ui.success(f"{what} is not locked")
        return
    ctx.confirm_destroy(f"remove the lock of {what} held by {holder.describe()}.", yes)
    ctx.store.release(workspace)
    ctx.ui.success(f"lock of {what} removed")


def unlock(workspace: WorkspaceArg, env: EnvOpt = "local", yes: YesOpt = False) -> None:
    """Remove saasctl's operation lock of a workspace left by a run that died.

    Onboard, set-tier, offboard and fleet apply hold the shared workspace's lock
    while they converge it; a run killed meanwhile leaves it, and the next run
    names this command. (Terraform's own state lock: see `unlock-state`.)
    """
    unlock_lock(workspace, env, yes)


def unlock_state(
    workspace: WorkspaceArg,
    lock_id: Annotated[
        str, typer.Argument(help="The lock id a lock error named.", show_default=False)
    ],
    env: EnvOpt = "local",
    yes: YesOpt = False,
) -> None:
    """Remove terraform's state lock left by a run that died (terraform force-unlock).

    A saasctl run killed while terraform works takes terraform with it; the lock
    error of the next run names this command with the lock's id.
    """
    ctx = context(env)
    if workspace != SHARED:
        validate_tenant_id(workspace)
    ctx.preflight()
    ws = ctx.workspace(workspace)
    if not ws.dir.is_dir():
        raise NotFoundError(f"no workspace {workspace!r} in environment {env!r}")
    ctx.confirm_destroy(f"remove terraform's state lock {lock_id} of {workspace}.", yes)
    ctx.init(ws)
    ctx.tf.force_unlock(ws.dir, lock_id)
    ctx.ui.success(f"state lock {lock_id} of {workspace} removed")


def audit(
    env: EnvOpt = "local",
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Only this tenant's records.")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", help="Only records from this UTC date or time on (2026-12-07T14:00:00Z)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """The audit trail: every change saasctl made (onboard, offboard, tier moves,
    suspend, resume, restore, rollouts, applies), who ran it, the command, the
    plan's counts and the outcome, oldest first.

    Records are objects under <env>/audit/ in the state bucket, one per change,
    never rewritten.
    """
    from saasctl import audit as trail

    ctx = context(env)
    if tenant is not None:
        validate_tenant_id(tenant)
    records = trail.read(ctx, tenant=tenant, since=since)
    if json_out:
        ctx.ui.emit_json({"environment": env, "records": records})
        return
    table = console.table("time", "who", "action", "tenant", "plan", "outcome",
                          title=f"audit trail of {env}")  # fmt: skip
    for r in records:
        who = r["who"].get("aws", "?").rsplit("/", 1)[-1] + f" ({r['who'].get('user', '?')})"
        plan = " ".join(f"{k} {v}" for k, v in sorted((r.get("plan") or {}).items()) if v)
        plan = plan or ("changed" if r.get("changes") else "-")
        table.add_row(r["time"], escape(who), r["action"], r.get("tenant") or "", plan,
                      escape(r["outcome"]))  # fmt: skip
    ctx.ui.out.print(table)

"""Tenant lifecycle: onboard, set-tier, offboard, status.

Every operation holds the tenant's operation lock, renders everything in
memory before writing, and converges when re-run after a failure.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from saasctl import cells, failpoints, health, maintenance, policy, releases, render, rollout
from saasctl.context import Context, Workspace
from saasctl.errors import (
    AbortedError,
    BackendError,
    ConflictError,
    LockError,
    NotFoundError,
    PolicyError,
    SaasctlError,
    UserError,
)
from saasctl.files import atomic_write
from saasctl.ids import validate_tenant_id
from saasctl.priorities import allocate
from saasctl.project import TENANT_FILE, Cell
from saasctl.quotas import QuotaError
from saasctl.specs import Suspension, TenantSpec, Tier, parse_duration
from saasctl.tenant_data import Location, Manifest, TenantData
from saasctl.terraform import PlanSummary


@dataclass
class Outcome:
    tenant_id: str
    action: str
    changes: bool = False
    plan: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    archive: str | None = None
    data: dict[str, Any] = field(default_factory=dict)  # export, counts, admin user

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant_id,
            "action": self.action,
            "changes": self.changes,
            "plan": self.plan,
            "outputs": self.outputs,
            "archive": self.archive,
            "data": self.data,
        }


@contextmanager
def _locked(ctx: Context, tenant_id: str, operation: str) -> Iterator[None]:
    ctx.store.acquire(tenant_id, operation)
    try:
        failpoints.hit(f"{operation}-locked")
        yield
    finally:
        ctx.store.release(tenant_id)


def edit_spec(ctx: Context, tenant_id: str, operation: str, **fields: Any) -> TenantSpec:
    """Set fields of a tenant's spec that need no apply (its maintenance settings, its
    own config values), under its lock: read again there, so a rollout's or a move's
    write in between is kept."""
    ctx.preflight()
    with _locked(ctx, tenant_id, operation):
        done = ctx.env.load_tenant(tenant_id).model_copy(update=fields)
        atomic_write(ctx.env.tenant_file(tenant_id), done.to_yaml())
    return done


def _snapshot(workdir: Path) -> dict[str, str]:
    names = (TENANT_FILE, *render.RENDERED_FILES)
    return {n: (workdir / n).read_text(encoding="utf-8") for n in names if (workdir / n).is_file()}


def _put_back(ctx: Context, ws: Workspace, before: dict[str, str]) -> None:
    """The spec and rendered files as ``_snapshot`` took them (nothing was applied),
    and the cell's shared workspace rendered from the specs as they are again."""
    for name, text in before.items():
        atomic_write(ws.dir / name, text)
    ctx.write_cell(ctx.cell_of(ws))


def _write_tenant(ctx: Context, spec: TenantSpec) -> Workspace:
    files = render.render_tenant(ctx.env, spec)  # everything in memory first
    ws = ctx.tenant_workspace(spec.id, ctx.env.cell_of(spec))
    atomic_write(ws.dir / TENANT_FILE, spec.to_yaml())
    render.write_workspace(ws.dir, files)
    return ws


def _remove_dir(path: Path, point: str | None = None) -> None:
    """Rename out of the way first, so a crash never leaves half a tenant directory.
    ``point``: the failpoint between the two (an offboard's, not a failed onboard's
    clean-up, whose last point must stay where it failed)."""
    if not path.exists():
        return
    trash = path.with_name(f".removed-{path.name}-{time.time_ns()}")
    os.replace(path, trash)
    if point is not None:
        failpoints.hit(point, path=str(trash))
    shutil.rmtree(trash)


def _cell_converged(ctx: Context, cell: Cell) -> bool:
    """The cell's shared workspace, rendered from the specs as they are, is what
    its state says was applied."""
    files = ctx.render_cell(cell)
    applied = ctx.outputs(ctx.cell_workspace(cell)).get("saasctl_config_digest")
    return applied == render.config_digest(files)


def _needs_cell(ctx: Context, cell: Cell, spec: TenantSpec, previous: TenantSpec | None) -> bool:
    """Whether this tenant's change reaches its cell's shared workspace: it changes
    what the cell renders (a dedicated tier lists its tenants' hosts), or a
    dedicated tenant's host may still be missing there (an earlier run died
    before the shared apply). A basic tenant's onboard never needs it."""
    others = [t for t in ctx.env.tenants_of(cell) if t.id != spec.id]
    with_it = render.render_shared(ctx.env, cell, [*others, spec])
    without = render.render_shared(ctx.env, cell, [*others, *([previous] if previous else [])])
    if with_it != without:
        return True
    return spec.tier != Tier.BASIC and not _cell_converged(ctx, cell)


def _plan_and_apply(
    ctx: Context,
    ws: Workspace,
    spec: TenantSpec,
    operation: str,
    *,
    yes: bool,
    plan_only: bool,
    previous: TenantSpec | None = None,
    applied: list[bool] | None = None,
    confirm: str | None = None,
) -> tuple[PlanSummary, PlanSummary | None]:
    """Plan the tenant and, when the tenant changes it (a dedicated tenant's host
    in its tier's rate rule), its cell's shared workspace under the cell's lock;
    show both, confirm, commit their quota usage, apply both together.
    ``applied`` gets True once the tenant's apply succeeded. Returns the plans
    (the shared one None when the cell had nothing to converge). ``confirm``: a
    question asked (or --yes) even when the plans destroy nothing.

    The tenant plan runs while this run waits for the cell's lock. An operator
    at a terminal is asked about the tenant plan before the lock is taken, so
    other runs never wait on the answer.
    """
    _ = ctx.tf  # set up once, before the thread
    cell = ctx.cell_of(ws)
    ask_first = not yes and not plan_only and ctx.ui.can_ask()
    with ThreadPoolExecutor(1) as pool:
        tenant_job = pool.submit(ctx.plan_json, ws)

        def tenant_plan() -> tuple[dict[str, Any], PlanSummary]:
            plan = tenant_job.result()
            return plan, PlanSummary.from_show_json(plan)

        if ask_first:
            with ctx.ui.status(f"planning {ws.label}"):
                plan, summary = tenant_plan()
            ctx.show_summary(ws, summary)
            ctx.confirm_plan(ws, summary, yes=yes)
            if confirm:
                ctx.confirm_destroy(confirm, yes)
        guard = ctx.cell_lock(cell, operation) if _needs_cell(ctx, cell, spec, previous) else None
        with guard or contextlib.nullcontext():
            shared = shared_plan = shared_summary = None
            if guard is not None:
                shared = ctx.write_cell(cell)  # from the specs as they are now, under the lock
                with ctx.ui.status(f"planning {ws.label} and {shared.label}"):
                    shared_plan = ctx.plan_json(shared)
                    plan, summary = tenant_plan()
                shared_summary = PlanSummary.from_show_json(shared_plan)
                _gate_shared(ctx, shared, shared_plan)
            else:
                with ctx.ui.status(f"planning {ws.label}"):
                    plan, summary = tenant_plan()
            if not ask_first:
                ctx.show_summary(ws, summary)
            if shared is not None and shared_summary is not None:
                ctx.show_summary(shared, shared_summary)
            failpoints.hit("planned")
            usage = cells.usage_of_plan(ctx, ws, plan)
            if plan_only:  # the quota gate of a plan check: refused in one line, nothing kept
                cells.commit(ctx, cell, ws, spec.tier, usage, record=False)
                return summary, shared_summary
            if not ask_first:
                ctx.confirm_plan(ws, summary, yes=yes)
                if confirm:
                    ctx.confirm_destroy(confirm, yes)
            todo = [(ws, summary)]
            # Before anything is applied: the cell stays within AWS's quotas with both.
            cells.commit(ctx, cell, ws, spec.tier, usage)
            if shared is not None and shared_plan is not None and shared_summary is not None:
                ctx.confirm_plan(shared, shared_summary, yes=yes)
                cells.commit(ctx, cell, shared, None, cells.usage_of_plan(ctx, shared, shared_plan))
                todo.append((shared, shared_summary))
            failpoints.hit("committed")
            done: list[str] = []
            try:
                ctx.apply_together(todo, done=done)
            finally:
                if applied is not None and ws.label in done:
                    applied.append(True)
                for space, planned in todo:
                    if space.label in done or not planned.has_changes:
                        cells.applied(ctx, cell, space)
    return summary, shared_summary


def _gate_shared(ctx: Context, shared: Workspace, plan: dict[str, Any]) -> None:
    """A tenant changes its cell's shared workspace only by its host in a rate rule;
    whatever else that plan holds is a change of its own, pending (a module or
    env.yaml edit), and passes the policy gates before a tenant command applies it."""
    found = policy.evaluate(plan)
    if found:
        raise PolicyError(
            f"policy: {found[0]}",
            hint=f"{shared.label} has a change of its own pending: review it with `saasctl "
            f"plan --shared-only --env {ctx.env.name}`, apply it with `saasctl apply "
            "--shared-only` (and --allow RULE if intended), then run this command again",
        )


def _finish(ctx: Context, ws: Workspace, outcome: Outcome) -> Outcome:
    outcome.outputs = ctx.outputs(ws)
    return outcome


# --- the tenant's data: users and items --------------------------------------


def _data(ctx: Context, spec: TenantSpec | str, cell: Cell | None = None) -> TenantData:
    """The tenant's data, in its cell's account."""
    tenant_id = spec if isinstance(spec, str) else spec.id
    if cell is None:
        cell = ctx.env.cell_of(spec) if isinstance(spec, TenantSpec) else ctx.tenant_cell(spec)
    return TenantData(ctx.store, tenant_id, ctx.aws_of(cell))


def _pool_location(ctx: Context, cell: Cell) -> Location:
    """The cell's pooled tables and shared user pool, from its shared workspace's outputs."""
    shared = ctx.outputs(ctx.cell_workspace(cell))
    return Location(tables=dict(shared.get("pool_tables") or {}), pooled=True,
                    user_pool_id=shared.get("user_pool_id"))  # fmt: skip


def data_location(ctx: Context, spec: TenantSpec) -> Location:
    """Where the tenant's users and items are, from the applied outputs: its cell's
    pooled tables for basic tenants, its own otherwise."""
    cell = ctx.env.cell_of(spec)
    tenant = ctx.outputs(ctx.tenant_workspace(spec.id, cell)).get("tenant") or {}
    identity = tenant.get("identity") or {}
    user_pool_id, group = identity.get("user_pool_id"), identity.get("group_name")
    logs = tuple(g for g in [tenant.get("log_group_name")] if g)
    if spec.tier == Tier.BASIC:
        return replace(_pool_location(ctx, cell), user_pool_id=user_pool_id, group=group,
                       log_groups=logs)  # fmt: skip
    tables = dict(tenant.get("table_names") or {})
    return Location(tables=tables, pooled=False, user_pool_id=user_pool_id, group=group,
                    log_groups=logs)  # fmt: skip


def tenant_config(ctx: Context, spec: TenantSpec) -> dict[str, Any]:
    """What the tenant's application and its sign-in need: pool, client, issuer,
    endpoint and tables (the client of a group in the shared pool is the pool's)."""
    cell = ctx.env.cell_of(spec)
    outputs = ctx.outputs(ctx.tenant_workspace(spec.id, cell))
    identity = (outputs.get("tenant") or {}).get("identity") or {}
    client = identity.get("client_id")
    if client is None and identity.get("group_name"):
        client = ctx.outputs(ctx.cell_workspace(cell)).get("user_pool_client_id")
    location = data_location(ctx, spec)
    return {
        "cell": cell.name,
        "user_pool_id": identity.get("user_pool_id"),
        "client_id": client,
        "issuer": identity.get("issuer"),
        "group": identity.get("group_name"),
        "endpoint": f"https://{spec.id}.{ctx.env.spec.domain}",
        "tables": location.tables,
        "data": "pooled" if location.pooled else "dedicated",
    }


def _admin_user(ctx: Context, spec: TenantSpec, outcome: Outcome) -> None:
    if spec.admin_email is None:
        return
    location = data_location(ctx, spec)
    if location.user_pool_id is None:
        ctx.ui.warn(f"{spec.id}: the modules made no user pool; admin user not created")
        return
    user = {
        "username": spec.admin_email,
        "attributes": {
            "email": spec.admin_email,
            "email_verified": "true",
            "custom:tenantId": spec.id,
            "custom:tenantTier": spec.tier.value,
            "custom:userRole": "admin",
        },
    }
    created = _data(ctx, spec).ensure_user(location, user)
    outcome.data["admin_user"] = spec.admin_email
    ctx.ui.step(f"admin user {spec.admin_email} {'created' if created else 'exists'}")


def _check_pointers(ctx: Context, tenant_id: str, spec: TenantSpec | None) -> None:
    """Every export that the spec (``offboarding``, ``data_move``) or a restore marker
    points at is this tenant's own: checked before anything is written, since a
    pointer to another tenant's export would copy that tenant's data into this one."""
    data = TenantData(ctx.store, tenant_id)  # exports only: the state bucket
    pointers = [p for p in (spec.offboarding, spec.data_move) if p] if spec else []
    marker = ctx.store.read_json(ctx.env.restore_marker_key(tenant_id))
    # A marker names an export, or (since cells) may name only the cell to go back to.
    if marker is not None and (marker.get("export") or "cell" not in marker):
        pointers.append(str(marker.get("export") or ""))
    for pointer in pointers:
        data.manifest(pointer)


def _admin_is_free(
    ctx: Context, tenant_id: str, tier: Tier, admin_email: str | None, cell: Cell
) -> None:
    """A new admin in the cell's shared user pool must not be someone else's user:
    refused before anything is written rather than taken into this tenant's group."""
    if admin_email is None or ctx.env.spec.identity(tier) != "shared":
        return
    if not ctx.store.exists(cell.state_key):
        return  # no shared pool yet: nobody to collide with
    pool = _pool_location(ctx, cell)
    if pool.user_pool_id:
        _data(ctx, tenant_id, cell).check_users(pool, [{"username": admin_email}])


def _restore_data(ctx: Context, spec: TenantSpec, outcome: Outcome) -> None:
    """Finish a `tenant restore`: the export it named goes into the new tables and pool."""
    marker = ctx.store.read_json(ctx.env.restore_marker_key(spec.id))
    if marker is None:
        return
    if not marker.get("export"):  # a state restored without a data export
        ctx.store.delete_object(ctx.env.restore_marker_key(spec.id))
        return
    data = _data(ctx, spec)
    restored = data.restore(marker["export"], data_location(ctx, spec))
    ctx.store.delete_object(ctx.env.restore_marker_key(spec.id))
    outcome.data["restored"] = {"export": marker["export"], **restored}
    ctx.ui.success(
        f"restored {sum(v for k, v in restored.items() if k != 'users')} item(s) and "
        f"{restored.get('users', 0)} user(s) from {marker['export']}"
    )


def _export(ctx: Context, spec: TenantSpec) -> tuple[TenantSpec, Manifest]:
    """Export the tenant's data once per offboard (a re-run reuses the export its
    spec names) and record it in the spec: from then on deletion protection is off."""
    data = _data(ctx, spec)
    if spec.offboarding is not None:
        return spec, data.manifest(spec.offboarding)
    location = data_location(ctx, spec)
    with ctx.ui.status(f"exporting the data of {spec.id}"):
        folder, manifest = data.export(location, progress=ctx.ui.info)
    ctx.ui.success(
        f"exported {manifest.items} item(s), {manifest.users['count']} user(s) and "
        f"{manifest.log_events} log event(s) to s3://{ctx.store.bucket}/{folder}"
    )
    spec = spec.model_copy(update={"offboarding": folder})
    _write_tenant(ctx, spec)
    failpoints.hit("offboard-exported")
    return spec, manifest


def _placement(ctx: Context, tier: Tier) -> tuple[str, str]:
    return ("pooled" if tier == Tier.BASIC else "dedicated", ctx.env.spec.identity(tier))


def _data_direction(ctx: Context, spec: TenantSpec, tier: Tier) -> str | None:
    """'up' when a move to ``tier`` carries the tenant's data from the pool to its
    own tables and user pool, 'down' for the reverse, None when it stays put."""
    if spec.tier == tier or _placement(ctx, spec.tier) == _placement(ctx, tier):
        return None
    if spec.tier == Tier.BASIC:
        return None if spec.data_move is not None else "up"  # resumed: export exists
    location = data_location(ctx, spec)
    return "down" if location.owned else None


def _export_for_move(ctx: Context, spec: TenantSpec) -> str:
    data = _data(ctx, spec)
    with ctx.ui.status(f"exporting the data of {spec.id} before the move"):
        folder, manifest = data.export(data_location(ctx, spec), progress=ctx.ui.info)
    ctx.ui.step(
        f"exported {manifest.items} item(s) and {manifest.users['count']} user(s) of "
        f"{spec.id} to s3://{ctx.store.bucket}/{folder}"
    )
    return folder


def _leave_own_tables(ctx: Context, spec: TenantSpec, ws: Workspace, *, yes: bool) -> TenantSpec:
    """Before a move into the pool destroys the tenant's own tables and user pool:
    export them (once), copy the items into the pool's tables and the users into
    the shared pool (idempotent, so a re-run repeats it and picks up new items),
    and lift the deletion protection. Returns the spec as written."""
    location = data_location(ctx, spec)
    pool = _pool_location(ctx, ctx.env.cell_of(spec))
    data = _data(ctx, spec)
    if pool.user_pool_id and pool.user_pool_id != location.user_pool_id:
        data.check_users(pool, data.users(location))  # none may be another tenant's there
    if spec.data_move is None:  # asked once, before anything is copied
        ctx.confirm_destroy(
            f"Move {spec.id} into the pool: its items and users are exported and copied into "
            "the pool's tables and user pool, then its own tables and user pool destroyed.",
            yes,
        )
    folder = spec.data_move or _export_for_move(ctx, spec)
    with ctx.ui.status(f"copying the items of {spec.id} into the pool"):
        copied = data.copy(location, pool)
    failpoints.hit("set-tier-copied", copied=copied)
    if pool.user_pool_id and pool.user_pool_id != location.user_pool_id:
        data.copy_users(folder, pool, Tier.BASIC.value)  # its group comes with the move
    spec = spec.model_copy(update={"data_move": folder, "deletion_protection": False})
    _write_tenant(ctx, spec)
    with ctx.ui.status(f"lifting the deletion protection of {spec.id}"):
        unprotect = ctx.plan(ws)
    if unprotect.has_changes:
        ctx.show_summary(ws, unprotect)
        ctx.apply(ws, unprotect, yes=yes)
    failpoints.hit("set-tier-unprotected")
    ctx.ui.step(f"copied {sum(copied.values())} item(s) of {spec.id} into the pool")
    return spec


def _join_pool(ctx: Context, spec: TenantSpec, outcome: Outcome) -> None:
    """After a move into the pool has been applied: its users join its new group;
    the pool holds at least what the export did."""
    assert spec.data_move is not None
    data = _data(ctx, spec)
    manifest = data.manifest(spec.data_move)
    location = data_location(ctx, spec)
    for name, entry in manifest.tables.items():
        have = data.count(location.tables[name], pooled=True)
        if have < int(entry["count"]):
            raise BackendError(
                f"{location.tables[name]} holds {have} item(s) of {spec.id}, the export "
                f"{entry['count']}: restore it from {spec.data_move}"
            )
    users = 0
    if location.user_pool_id:
        users = data.copy_users(spec.data_move, location, Tier.BASIC.value)
    done = spec.model_copy(update={"data_move": None, "deletion_protection": True})
    ctx.converge(_write_tenant(ctx, done), yes=True)  # records the spec as applied
    outcome.data = {"export": spec.data_move, "items": manifest.items, "users": users}
    ctx.ui.success(f"moved {manifest.items} item(s) and {users} user(s) of {spec.id} into the pool")


def _carry_data(ctx: Context, spec: TenantSpec, outcome: Outcome) -> None:
    """After a move from the pool has been applied: copy the tenant's pooled items
    into its own tables and its users into its own pool, check the copy, and only
    then remove them from the pool. Every step is idempotent, so a re-run of the
    move after a crash finishes it."""
    assert spec.data_move is not None
    data = _data(ctx, spec)
    before = data.manifest(spec.data_move)
    # Items only: its users come from the export, and an export or purge of this
    # location must never touch the shared user pool's other tenants.
    source = replace(_pool_location(ctx, ctx.env.cell_of(spec)), user_pool_id=None)
    dest = data_location(ctx, spec)
    with ctx.ui.status(f"copying the items of {spec.id} to its own tables"):
        copied = data.copy(source, dest)  # the pool as it is now, verified by count
    failpoints.hit("set-tier-copied", copied=copied)
    old_pool = before.source.get("user_pool_id")
    moved_users = 0
    if old_pool and old_pool != dest.user_pool_id and dest.user_pool_id:
        moved_users = data.copy_users(spec.data_move, dest, spec.tier.value)
    failpoints.hit("set-tier-users-copied")
    # Remove from the pool only what the new tables now hold: an export of the pool
    # as it is now, whose items the purge checks one by one.
    with ctx.ui.status(f"removing the items of {spec.id} from the pool"):
        folder, remaining = data.export(source)
        for name, entry in remaining.tables.items():
            have = data.count(dest.tables[name], pooled=dest.pooled)
            if have < int(entry["count"]):
                raise BackendError(
                    f"{dest.tables[name]} holds {have} item(s), the pool {entry['count']}: "
                    "nothing removed from the pool"
                )
        removed = data.purge(source, folder)
        if old_pool and old_pool != dest.user_pool_id and dest.user_pool_id:
            data.delete_users(old_pool, data.exported_users(spec.data_move))
    failpoints.hit("set-tier-purged")
    done = spec.model_copy(update={"data_move": None})
    atomic_write(ctx.env.tenant_file(spec.id), done.to_yaml())
    outcome.data = {"export": spec.data_move, "copied": copied, "users": moved_users,
                    "removed_from_pool": removed}  # fmt: skip
    ctx.ui.success(
        f"moved {sum(copied.values())} item(s) and {moved_users} user(s) of {spec.id} "
        "to its own tables and user pool"
    )


def _same_destroy(confirmed: PlanSummary, fresh: PlanSummary, label: str) -> None:
    unconfirmed = set(fresh.destroy + fresh.replace) - set(confirmed.destroy + confirmed.replace)
    if unconfirmed:
        raise AbortedError(
            f"{label}: the plan now also destroys {', '.join(sorted(unconfirmed))}, "
            "which was not confirmed",
            hint="run the command again to review the new plan",
        )


def _versions_for(ctx: Context, tier: Tier, spec: TenantSpec | None) -> dict[str, str | None]:
    """The release and config version a tenant's own services run (see _release_for);
    a basic tenant's are its pool's."""
    if tier == Tier.BASIC:
        config = None
    elif spec is not None and spec.tier != Tier.BASIC:
        config = spec.config_version
    else:
        config = ctx.env.current_config()
    return {"release": _release_for(ctx, tier, spec), "config_version": config}


def _release_for(ctx: Context, tier: Tier, spec: TenantSpec | None) -> str | None:
    """A tenant with services of its own runs a release: the one it ran before, or
    the environment's current one (the pool's). A basic tenant runs the pool's."""
    if tier == Tier.BASIC:
        return None
    if spec is not None and spec.tier != Tier.BASIC:
        return spec.release
    return ctx.env.current_release()


def _claim_priority(ctx: Context, cell: Cell, tenant_id: str) -> int:
    """The lowest block free in the cell (its load balancer's priorities), both in
    the specs on disk and in the bucket's claims."""
    cfg = ctx.env.spec.listener_priorities
    claims = ctx.store.claims(cell)
    on_disk = {t.listener_priority for t in ctx.env.tenants_of(cell)}
    for start in sorted(claims - on_disk):  # claims no spec names: a run that died?
        if ctx.store.claim_owner(cell, start) == tenant_id:
            return start  # ours: take the same block again
    taken = on_disk | claims
    while True:
        start = allocate(cfg, taken)
        failpoints.hit("priority-allocated", start=start, tenant=tenant_id)
        if ctx.store.claim(cell, start, tenant_id):
            return start
        taken.add(start)  # claimed by a concurrent onboard a moment ago


def _no_table_collision(ctx: Context, tenant_id: str, cell: Cell) -> None:
    """A new tenant's own tables must not exist yet: one that does belongs to
    something else (terraform would fail half-way, or worse, adopt it later)."""
    prefix = render.tenant_name_prefix(ctx.env, tenant_id)
    names = [f"{prefix}-{table}" for table in ctx.env.spec.tables()]
    taken = _data(ctx, tenant_id, cell).existing(names)
    if taken:
        raise ConflictError(
            f"table {taken[0]} already exists: {tenant_id!r} would need that name for its own "
            "data; nothing written",
            hint="choose another tenant id, or remove or rename that table",
        )


def _ensure_applied(ctx: Context, cell: Cell, *, yes: bool, plan_only: bool) -> None:
    """The first onboard into a cell applies its shared workspace first (the
    tenant's services need its network, load balancer and clusters): shown, and
    asked (``--yes`` in CI), like any apply."""
    if ctx.store.exists(cell.state_key):
        return
    if plan_only:  # a plan of the tenant needs the shared outputs: nothing to plan against
        ctx.require_applied(cell)
    name = ctx.env.name
    what = f"{name!r}" if len(ctx.env.cells()) == 1 else f"cell {cell.name}"
    ctx.ui.step(f"the shared workspace of {what} was never applied: the tenant needs it first")
    only = "" if len(ctx.env.cells()) == 1 else f" --cell {cell.name}"
    cells.converge(
        ctx, cell, "onboard", yes=yes, unless_applied=True,
        confirm=f"apply the shared workspace of {what} first ({{adds}} to add) "
                f"(the same as `saasctl apply --shared-only --env {name}{only}`).",
    )  # fmt: skip


def onboard(
    ctx: Context,
    tenant_id: str,
    tier: Tier,
    *,
    yes: bool,
    plan_only: bool,
    tags: dict[str, str] | None = None,
    admin_email: str | None = None,
    cell: str | None = None,
    wait: float | None = None,
) -> Outcome:
    """Onboard a tenant: a new one is placed into ``cell``, or the first cell with
    room for its tier (the next one when AWS's quotas refuse its plan there).
    ``wait``: seconds to wait for its services to serve (None: do not wait)."""
    validate_tenant_id(tenant_id)
    env = ctx.env
    existing = env.load_tenant(tenant_id) if env.has_tenant(tenant_id) else None
    if existing is not None and existing.tier != tier:
        raise ConflictError(
            f"tenant {tenant_id!r} already exists in {env.name!r} with tier {existing.tier.value}",
            hint=f"to move it: `saasctl tenant set-tier {tenant_id} --tier {tier.value}`",
        )
    if existing is not None and tags and tags != existing.tags:
        raise ConflictError(
            f"tenant {tenant_id!r} exists with tags {existing.tags}: --tag is for new tenants",
            hint=f"edit {env.project.display(env.tenant_file(tenant_id))} and re-run the onboard",
        )
    if existing is not None and admin_email and existing.admin_email not in (None, admin_email):
        raise ConflictError(
            f"tenant {tenant_id!r} has admin {existing.admin_email}: --admin-email is for new "
            "tenants (or ones without an admin)",
        )
    try:
        new_tags = TenantSpec(id=tenant_id, tier=tier, listener_priority=1, tags=tags or {}).tags
    except ValueError as exc:
        raise UserError(f"--tag: {' '.join(str(exc).split())}") from None
    try:
        TenantSpec(id=tenant_id, tier=tier, listener_priority=1, admin_email=admin_email)
    except ValueError as exc:
        raise UserError(f"--admin-email: {_reason(exc)}") from None
    if cell is not None:
        env.cell(cell)  # an unknown cell: one line, exit 3, before anything else
    ctx.preflight()
    _check_pointers(ctx, tenant_id, existing)
    if existing is not None:
        home = env.cell_of(existing)
        if cell is not None and cell != home.name:
            raise ConflictError(
                f"tenant {tenant_id!r} lives in cell {home.name}, not {cell}: a tenant stays "
                "in the cell it was placed into"
            )
        spec = existing
        if admin_email and spec.admin_email is None:
            spec = spec.model_copy(update={"admin_email": admin_email})
        return _onboard_in(ctx, home, spec, existing, yes=yes, plan_only=plan_only, wait=wait)
    marker = ctx.store.read_json(env.restore_marker_key(tenant_id)) or {}
    if marker.get("cell"):  # a restored tenant goes back to the cell its state is in
        if cell not in (None, marker["cell"]):
            raise ConflictError(
                f"tenant {tenant_id!r} was restored from cell {marker['cell']}, not {cell}: "
                "its state names that cell's resources"
            )
        cell = str(marker["cell"])
    choices = cells.candidates(ctx, tier, cell)
    for i, candidate in enumerate(choices):
        spec = TenantSpec(
            id=tenant_id,
            tier=tier,
            listener_priority=1,  # claimed in the cell, under the tenant's lock
            **_versions_for(ctx, tier, None),
            tags=new_tags,
            admin_email=admin_email,
            cell=None if candidate.first else candidate.name,
        )
        try:
            return _onboard_in(ctx, candidate, spec, None, yes=yes, plan_only=plan_only,
                               wait=wait)  # fmt: skip
        except QuotaError as exc:
            if cell is not None or i == len(choices) - 1:
                raise
            ctx.ui.info(f"  {exc.one_line()}: trying the next cell")
    raise AssertionError("unreachable: no candidate cell")  # pragma: no cover


def _onboard_in(
    ctx: Context,
    cell: Cell,
    spec: TenantSpec,
    existing: TenantSpec | None,
    *,
    yes: bool,
    plan_only: bool,
    wait: float | None = None,
) -> Outcome:
    tenant_id, tier = spec.id, spec.tier
    _admin_is_free(ctx, tenant_id, tier, spec.admin_email if existing is None else None, cell)
    if existing is None and tier != Tier.BASIC:
        _no_table_collision(ctx, tenant_id, cell)
    _ensure_applied(ctx, cell, yes=yes, plan_only=plan_only)
    with _locked(ctx, tenant_id, "onboard"):
        if existing is None:
            spec = spec.model_copy(
                update={"listener_priority": _claim_priority(ctx, cell, tenant_id)}
            )
            where = f" in cell {cell.name}" if len(ctx.env.cells()) > 1 else ""
            ctx.ui.step(
                f"onboarding {tenant_id} ({tier.value}{where}, listener priorities from "
                f"{spec.listener_priority})"
            )
        else:
            ctx.ui.step(f"{tenant_id} is already onboarded ({tier.value}): converging")
        ws = _write_tenant(ctx, spec)
        failpoints.hit("onboard-written")
        try:
            summary, shared_plan = _plan_and_apply(
                ctx, ws, spec, "onboard", yes=yes, plan_only=plan_only, previous=existing
            )
        except BaseException:
            if existing is None and not ctx.store.exists(ws.state_key):
                _remove_dir(ws.dir)  # nothing was created: leave no trace
                ctx.write_cell(cell)
                with contextlib.suppress(SaasctlError):  # a re-run takes its claim back
                    ctx.store.unclaim(cell, spec.listener_priority, tenant_id)
                    cells.release(ctx, cell, tenant_id)
                ctx.ui.warn(
                    f"onboarding {tenant_id} failed before anything was created; "
                    "its files were removed"
                )
            raise
        failpoints.hit("applied")
        outcome = Outcome(tenant_id, "onboard", summary.has_changes, summary.as_dict())
        outcome.changes = outcome.changes or bool(shared_plan and shared_plan.has_changes)
        outcome.data["cell"] = cell.name
        if plan_only:
            return outcome
        _restore_data(ctx, spec, outcome)
        _admin_user(ctx, spec, outcome)
        _serves(ctx, spec, outcome, wait)
        return _finish(ctx, ws, outcome)


def set_tier(
    ctx: Context, tenant_id: str, tier: Tier, *, yes: bool, plan_only: bool,
    wait: float | None = None,
) -> Outcome:  # fmt: skip
    spec = ctx.env.load_tenant(validate_tenant_id(tenant_id))
    if tier is Tier.BASIC and spec.maintenance is not None and spec.tier is not Tier.BASIC:
        raise ConflictError(
            f"tenant {tenant_id!r} has maintenance settings; basic tenants follow the "
            "pool's release, so they would no longer hold",
            hint=f"remove them first: `saasctl tenant maintenance {tenant_id} --no-windows "
            "--unpin`",
        )
    ctx.preflight()
    _check_pointers(ctx, tenant_id, spec)
    cell = ctx.env.cell_of(spec)
    ctx.require_applied(cell)
    with _locked(ctx, tenant_id, "set-tier"):
        ws = ctx.tenant_workspace(tenant_id, cell)
        direction = _data_direction(ctx, spec, tier)
        opened = direction is not None and not plan_only and spec.suspension is None
        if opened:  # no write may land between the copy and the old tables' end
            spec = _quiet(ctx, spec, ws, f"move to {tier.value}")
        before = _snapshot(ws.dir)
        applied: list[bool] = []
        try:
            outcome = _move(ctx, ws, spec, tier, direction, before, applied, yes=yes,
                            plan_only=plan_only)  # fmt: skip
        except BaseException:
            if opened and not applied:  # declined or failed before the move: resume it
                with contextlib.suppress(SaasctlError):
                    _unquiet(ctx, ctx.env.load_tenant(tenant_id), ws)
            raise
        if plan_only:
            return outcome
        _unquiet(ctx, ctx.env.load_tenant(tenant_id), ws)
        _serves(ctx, ctx.env.load_tenant(tenant_id), outcome, wait)
        return _finish(ctx, ws, outcome)


def _move(
    ctx: Context, ws: Workspace, spec: TenantSpec, tier: Tier, direction: str | None,
    before: dict[str, str], applied: list[bool], *, yes: bool, plan_only: bool,
) -> Outcome:  # fmt: skip
    """The move itself, its data carried (see ``set_tier``)."""
    tenant_id, cell = spec.id, ctx.env.cell_of(spec)
    moved = spec.model_copy(update={"tier": tier, **_versions_for(ctx, tier, spec)})
    if direction == "up" and not plan_only:
        # Its users are known by its group only until the apply removes it:
        # export items and users first (verified), the move's safety net.
        moved = moved.model_copy(update={"data_move": _export_for_move(ctx, spec)})
    elif direction == "down" and not plan_only:
        spec = _leave_own_tables(ctx, spec, ws, yes=yes)
        moved = spec.model_copy(update={"tier": tier, **_versions_for(ctx, tier, spec)})
    if spec.tier == tier:
        ctx.ui.step(f"{tenant_id} is already {tier.value}: converging")
    else:
        ctx.ui.step(f"moving {tenant_id}: {spec.tier.value} -> {tier.value}")
    _write_tenant(ctx, moved)
    failpoints.hit("set-tier-written")
    try:
        summary, shared_plan = _plan_and_apply(
            ctx,
            ws,
            moved,
            "set-tier",
            yes=yes,
            plan_only=plan_only,
            previous=spec,
            applied=applied,
        )
    except BaseException:
        if not applied:  # put the old spec and files back: nothing changed
            _put_back(ctx, ws, before)
            with contextlib.suppress(SaasctlError):  # and its usage as applied
                cells.commit(ctx, cell, ws, spec.tier, cells.usage_of_state(ctx, ws))
        raise
    failpoints.hit("applied")
    outcome = Outcome(tenant_id, "set-tier", summary.has_changes, summary.as_dict())
    outcome.changes = outcome.changes or bool(shared_plan and shared_plan.has_changes)
    if plan_only:
        return outcome
    if moved.data_move is not None and moved.tier != Tier.BASIC:
        _carry_data(ctx, moved, outcome)
    elif moved.data_move is not None:
        _join_pool(ctx, moved, outcome)
    return outcome


def offboard(ctx: Context, tenant_id: str, *, yes: bool) -> Outcome:
    validate_tenant_id(tenant_id)
    if not ctx.env.has_tenant(tenant_id):
        return _already_offboarded(ctx, tenant_id, yes=yes)
    spec = ctx.env.load_tenant(tenant_id)
    ctx.preflight()
    _check_pointers(ctx, tenant_id, spec)
    cell = ctx.env.cell_of(spec)
    with _locked(ctx, tenant_id, "offboard"):
        ws = _write_tenant(ctx, spec)
        outcome = Outcome(tenant_id, "offboard")
        has_state = ctx.store.exists(ws.state_key)
        if has_state:
            with ctx.ui.status(f"planning the destruction of {tenant_id}"):
                summary = ctx.plan(ws, destroy=True)
            ctx.show_summary(ws, summary)
            outcome.plan, outcome.changes = summary.as_dict(), summary.has_changes
            what = (
                f"Offboard {tenant_id}: destroy {len(summary.destroy)} resource(s), archive "
                "its state, delete its spec and workspace."
            )
        else:
            what = f"Offboard {tenant_id}: it has no state; delete its spec and workspace."
            what = what.replace("archive its state", "export its data and archive its state")
        ctx.confirm_destroy(what, yes)
        if has_state:
            # No write may land between the export and the destroy: writers stop first.
            quieted = spec.suspension is None
            spec = _quiet(ctx, spec, ws, "offboarding")
            # Data first: nothing is removed unless the export was read back whole.
            reused = spec.offboarding is not None
            spec, manifest = _export(ctx, spec)
            location = data_location(ctx, spec)
            data = _data(ctx, spec)
            try:
                removed = data.purge(location, spec.offboarding or "")
            except ConflictError as exc:
                if not reused:
                    raise
                # Resumed, and the tenant's data changed since: export what is there now
                # (the earlier export stays; it holds what was removed before).
                ctx.ui.warn(f"{exc.one_line()}: exporting again")
                spec, manifest = _export(ctx, spec.model_copy(update={"offboarding": None}))
                removed = data.purge(location, spec.offboarding or "")
            outcome.data = {"export": spec.offboarding, "items": manifest.items,
                            "users": manifest.users["count"],
                            "log_events": manifest.log_events}  # fmt: skip
            if removed:
                ctx.ui.step(f"removed from the pool: {_counts(removed)}")
            failpoints.hit("offboard-purged")
            # Its own pool and tables are deletion-protected: lift that (the spec now
            # says offboarding), then plan the destroy again (the plan file is one per run).
            if location.owned:
                with ctx.ui.status(f"lifting the deletion protection of {tenant_id}"):
                    unprotect = ctx.plan(ws)
                    if unprotect.has_changes:
                        ctx.show_summary(ws, unprotect)
                        ctx.apply_saved(ws, unprotect)
            if location.owned or quieted:  # the run's plan file now holds another plan
                with ctx.ui.status(f"planning the destruction of {tenant_id}"):
                    fresh = ctx.plan(ws, destroy=True)
                _same_destroy(summary, fresh, ws.label)
                summary = fresh
            outcome.archive = ctx.store.archive(ws.state_key, tenant_id, spec.cell)
            ctx.ui.success(f"state archived to s3://{ctx.store.bucket}/{outcome.archive}")
            failpoints.hit("offboard-archived")
            with ctx.ui.status(f"destroying {tenant_id}"):
                ctx.apply_saved(ws, summary, destroy=True)  # the confirmed destroy plan
            failpoints.hit("offboard-destroyed")
            ctx.store.delete_state(ws.state_key)
            failpoints.hit("offboard-state-deleted")
        ctx.store.unclaim(cell, spec.listener_priority, tenant_id)
        cells.release(ctx, cell, tenant_id)
        failpoints.hit("offboard-unclaimed")
        # Last: while the spec exists, a re-run can finish the job.
        _remove_dir(ws.dir, "offboard-dir-renamed")
    _converge_after(ctx, tenant_id, [cell], yes=yes)
    return outcome


def _converge_after(ctx: Context, tenant_id: str, where: list[Cell], *, yes: bool) -> None:
    """After an offboard: the tenant's host leaves its cell's shared workspace (a
    dedicated tier's rate rule, the web ACL's rule for blocked hosts). A lock left
    by a run that died stops it with its unlock command (exit 4), so a re-run
    finishes the job; anything else is a warning: the tenant is offboarded."""
    try:
        for cell in where:
            if not _cell_converged(ctx, cell):
                cells.converge(ctx, cell, "offboard", yes=yes)
    except LockError:
        raise
    except SaasctlError as exc:
        ctx.ui.warn(
            f"{tenant_id} is offboarded but the shared workspace did not converge "
            f"({exc.one_line()}); run `saasctl apply --env {ctx.env.name} --shared-only`"
        )
    else:
        ctx.ui.success(f"{tenant_id} offboarded")


def _reason(exc: ValueError) -> str:
    """The message of a pydantic error without its field path and URL."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in errors())
    return " ".join(str(exc).split())


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))


def _already_offboarded(ctx: Context, tenant_id: str, *, yes: bool) -> Outcome:
    """A re-run of an offboard that finished its work: say so (exit 0) when the
    bucket shows it happened, else the tenant is unknown (exit 3)."""
    try:
        ctx.preflight()
        archives = ctx.store.archives(tenant_id)
        live = ctx.store.exists(ctx.env.tenant_state_key(tenant_id))
    except BackendError:
        archives, live = [], False
    if live or not archives:
        ctx.env.load_tenant(tenant_id)  # raises: not found, with the usual hint
    holder = ctx.store.holder(tenant_id)
    if holder is not None:
        ctx.ui.warn(
            f"a lock of {tenant_id} remains ({holder.describe()}); if that run died: "
            f"`saasctl tenant unlock {tenant_id} --env {ctx.env.name}`"
        )
    ctx.ui.success(f"{tenant_id} is already offboarded (last archive {archives[-1]['key']})")
    if not live:  # a run that died before its cell converged: finish that
        _converge_after(ctx, tenant_id, ctx.env.cells(), yes=yes)
    outcome = Outcome(tenant_id, "offboard")
    outcome.archive = archives[-1]["key"]
    return outcome


# --- serving ---------------------------------------------------------------------


def wait_timeout(ctx: Context) -> float:
    """How long an onboard or a move waits for the tenant to serve by default: the
    rollout's deployment timeout."""
    return parse_duration(rollout.config(ctx).deployment_timeout)


def _serves(ctx: Context, spec: TenantSpec, outcome: Outcome, timeout: float | None) -> None:
    """After an apply that created or moved a tenant's own services: wait until they
    serve (the release health gate: deployments completed, running = desired, no
    alarm). One that does not is marked unhealthy and the run fails (exit 1); it is
    left as it is, for the operator (rolling back a first deployment has nothing to
    go back to, and a move's old tier is gone)."""
    if timeout is None or spec.tier == Tier.BASIC or spec.suspended:
        return  # basic tenants serve through the pool, which releases watch
    unit = releases.Unit(spec.id, spec.release, spec.tier, tuple(sorted(spec.tags.items())),
                         ctx.env.cell_of(spec).name)  # fmt: skip
    with ctx.ui.status(f"watching {spec.id}'s services until they serve ({timeout:.0f}s at most)"):
        found = health.watch(ctx, unit, timeout=timeout, bake=0, stop=lambda: False)
    outcome.data["health"] = found.detail
    current = ctx.env.load_tenant(spec.id)  # as the run's other steps left it
    marked = current.model_copy(update={"unhealthy": None if found.ok else found.detail})
    if marked != current:
        atomic_write(ctx.env.tenant_file(spec.id), marked.to_yaml())
    if not found.ok:
        raise SaasctlError(
            f"{spec.id} does not serve: {found.detail}",
            hint="it is applied and left as it is (`tenant list` shows it unhealthy): fix "
            "the cause (image, capacity, quota) and run the command again",
        )
    ctx.ui.success(f"{spec.id} serves: {found.detail}")


# --- suspend and resume ----------------------------------------------------------


def _own_services(ctx: Context, spec: TenantSpec) -> dict[str, dict[str, Any]]:
    """The tenant's own ECS services (advanced, premium), from its applied outputs
    (stand-in modules create none: their outputs only look like it)."""
    if render.module_set(ctx.env) == "standin":
        return {}
    tenant = ctx.outputs(ctx.tenant_workspace(spec.id, ctx.env.cell_of(spec))).get("tenant") or {}
    return dict(sorted((tenant.get("services") or {}).items()))


def _desired_counts(ctx: Context, spec: TenantSpec) -> dict[str, int]:
    """What each of its own services desires now (autoscaling or an operator may
    have changed it since terraform set it)."""
    ecs = ctx.aws_of(ctx.env.cell_of(spec)).client("ecs")
    counts: dict[str, int] = {}
    for name, svc in _own_services(ctx, spec).items():
        found = ecs.describe_services(cluster=svc["cluster_arn"], services=[svc["service_name"]])
        for s in found.get("services", []):
            counts[name] = int(s.get("desiredCount", 0))
    return counts


def _scale(ctx: Context, spec: TenantSpec, counts: dict[str, int]) -> None:
    """Set its own services' desired counts (terraform leaves them to ECS)."""
    ecs = ctx.aws_of(ctx.env.cell_of(spec)).client("ecs")
    for name, svc in _own_services(ctx, spec).items():
        if name in counts:
            ecs.update_service(cluster=svc["cluster_arn"], service=svc["service_name"],
                               desiredCount=counts[name])  # fmt: skip


def _scale_back(ctx: Context, spec: TenantSpec, record: Suspension) -> None:
    """Its own services back at the counts recorded when they went to zero; one
    the record does not name (a new tier's, after a move) at the tier's count."""
    default = int(render.tenant_inputs(ctx.env, spec).get("desired_count", 1))
    services = _own_services(ctx, spec)
    _scale(ctx, spec, {name: record.desired.get(name, default) for name in services})


def suspend(ctx: Context, tenant_id: str, reason: str, *, yes: bool) -> Outcome:
    """Cut a tenant off without losing anything: its host answered 503 at the edge
    (the cell's web ACL), its own services sized to zero, its users disabled. What
    it changed is recorded in the spec first, so a re-run after a kill finishes it
    and ``resume`` restores exactly that. Data, state, tables, pools and keys are
    untouched."""
    if len(reason) > 200 or any(ord(c) < 32 for c in reason):
        raise UserError("--reason: one line of at most 200 characters, no control characters")
    spec = ctx.env.load_tenant(validate_tenant_id(tenant_id))
    ctx.preflight()
    _check_pointers(ctx, tenant_id, spec)
    if spec.offboarding is not None or spec.data_move is not None:
        raise ConflictError(f"{tenant_id} is being offboarded or moved: finish that first")
    cell = ctx.env.cell_of(spec)
    ctx.require_applied(cell)
    with _locked(ctx, tenant_id, "suspend"):
        ws = ctx.tenant_workspace(tenant_id, cell)
        before = _snapshot(ws.dir)
        record = spec.suspension
        if record is None:  # the first run: record what the suspension changes
            known = list(_data(ctx, spec).users(data_location(ctx, spec)))
            record = Suspension(
                reason=reason, since=_now(), desired=_desired_counts(ctx, spec),
                disabled_before=sorted(u["username"] for u in known if not u["enabled"]),
            )  # fmt: skip
        # an operator's suspension: a quiet data window under way does not end it
        record = record.model_copy(
            update={"state": "suspended", "reason": reason or record.reason, "quiet": False}
        )
        suspended = spec.model_copy(update={"suspension": record})
        ctx.ui.step(f"suspending {tenant_id}" + (f": {record.reason}" if record.reason else ""))
        _write_tenant(ctx, suspended)
        failpoints.hit("suspend-recorded")
        applied: list[bool] = []
        try:
            # against the tenant as if never suspended: a re-run after a kill before the
            # cell's apply still converges the cell's web ACL
            summary, shared_plan = _plan_and_apply(
                ctx, ws, suspended, "suspend", yes=yes, plan_only=False,
                previous=spec.model_copy(update={"suspension": None}), applied=applied,
                confirm=f"Suspend {tenant_id}: its host answers 503, {len(record.desired)} "
                f"service(s) go to zero, its users are disabled.",
            )  # fmt: skip
        except BaseException:
            if not applied and spec.suspension is None:  # declined or failed: as it was
                _put_back(ctx, ws, before)
            raise
        failpoints.hit("suspend-applied")
        _scale(ctx, suspended, dict.fromkeys(record.desired, 0))
        data = _data(ctx, suspended)
        location = data_location(ctx, suspended)
        users = [u["username"] for u in data.users(location) if u["enabled"]]
        disabled = data.set_enabled(location, users, False)
        outcome = Outcome(tenant_id, "suspend", summary.has_changes, summary.as_dict())
        outcome.changes |= bool(shared_plan and shared_plan.has_changes) or bool(disabled)
        outcome.data = {"reason": record.reason, "since": record.since,
                        "services_at_zero": sorted(record.desired),
                        "users_disabled": disabled}  # fmt: skip
        ctx.ui.success(
            f"{tenant_id} is suspended: 503 at the edge, {len(record.desired)} service(s) at "
            f"zero, {disabled} user(s) disabled (`saasctl tenant resume {tenant_id}` undoes it)"
        )
        return _finish(ctx, ws, outcome)


def resume(ctx: Context, tenant_id: str, *, yes: bool) -> Outcome:
    """Undo a suspension exactly: the edge open again, its services at the desired
    counts recorded when it was suspended, its users enabled but those that were
    already disabled then. A re-run after a kill finishes it."""
    spec = ctx.env.load_tenant(validate_tenant_id(tenant_id))
    ctx.preflight()
    if spec.suspension is None:
        ctx.ui.success(f"{tenant_id} is not suspended: nothing to do")
        return Outcome(tenant_id, "resume")
    cell = ctx.env.cell_of(spec)
    ctx.require_applied(cell)
    with _locked(ctx, tenant_id, "resume"):
        ws = ctx.tenant_workspace(tenant_id, cell)
        before = _snapshot(ws.dir)
        record = spec.suspension.model_copy(update={"state": "resuming"})
        resuming = spec.model_copy(update={"suspension": record})
        _write_tenant(ctx, resuming)
        failpoints.hit("resume-recorded")
        applied: list[bool] = []
        try:
            summary, shared_plan = _plan_and_apply(
                ctx, ws, resuming, "resume", yes=yes, plan_only=False,
                previous=spec.model_copy(update={"suspension": record.model_copy(
                    update={"state": "suspended"})}), applied=applied,
                confirm=f"Resume {tenant_id}: served again, its services and users as before.",
            )  # fmt: skip
        except BaseException:
            if not applied and spec.suspension.state == "suspended":  # as it was
                _put_back(ctx, ws, before)
            raise
        failpoints.hit("resume-applied")
        _scale_back(ctx, resuming, record)
        data = _data(ctx, resuming)
        location = data_location(ctx, resuming)
        keep = set(record.disabled_before)
        users = [u["username"] for u in data.users(location)
                 if not u["enabled"] and u["username"] not in keep]  # fmt: skip
        enabled = data.set_enabled(location, users, True)
        failpoints.hit("resume-enabled")
        atomic_write(ws.dir / TENANT_FILE, spec.model_copy(update={"suspension": None}).to_yaml())
        outcome = Outcome(tenant_id, "resume", summary.has_changes, summary.as_dict())
        outcome.changes |= bool(shared_plan and shared_plan.has_changes) or bool(enabled)
        outcome.data = {"desired": record.desired, "users_enabled": enabled,
                        "kept_disabled": sorted(keep)}  # fmt: skip
        ctx.ui.success(
            f"{tenant_id} is resumed: served again, {len(record.desired)} service(s) back to "
            f"their desired counts, {enabled} user(s) enabled"
        )
        return _finish(ctx, ws, outcome)


def _quiet(ctx: Context, spec: TenantSpec, ws: Workspace, why: str) -> TenantSpec:
    """Stop the tenant's writers before its items are exported or copied, so no
    write lands between the export (or copy) and the destruction of the old
    tables: its host blocked at the edge, its own services at zero (a suspension
    that keeps its users enabled). A suspended tenant is quiet already."""
    if spec.suspension is not None:
        return spec
    record = Suspension(reason=f"quiet data window: {why}", since=_now(),
                        desired=_desired_counts(ctx, spec), quiet=True)  # fmt: skip
    quiet = spec.model_copy(update={"suspension": record})
    ctx.ui.step(f"stopping the writers of {spec.id} for the {why} (a quiet data window)")
    _write_tenant(ctx, quiet)
    _plan_and_apply(ctx, ws, quiet, why, yes=True, plan_only=False,
                    previous=spec)  # fmt: skip
    _scale(ctx, quiet, dict.fromkeys(record.desired, 0))
    failpoints.hit("quiet")
    return quiet


def _unquiet(ctx: Context, spec: TenantSpec, ws: Workspace) -> TenantSpec:
    """End a quiet data window saasctl opened: the edge open again, its own services
    at the counts they had (new ones, of a new tier, at the tier's)."""
    record = spec.suspension
    if record is None or not record.quiet:
        return spec
    resuming = spec.model_copy(update={"suspension": record.model_copy(
        update={"state": "resuming"})})  # fmt: skip
    _write_tenant(ctx, resuming)
    _plan_and_apply(ctx, ws, resuming, "resume", yes=True, plan_only=False, previous=spec)
    _scale_back(ctx, resuming, record)
    done = spec.model_copy(update={"suspension": None})
    atomic_write(ws.dir / TENANT_FILE, done.to_yaml())
    ctx.ui.step(f"{spec.id}'s writers may write again (the quiet data window ended)")
    return done


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def status(ctx: Context, spec: TenantSpec) -> dict[str, Any]:
    """rendered (never applied) / applied / drifted / missing-state, from the bucket."""
    ws = ctx.tenant_workspace(spec.id)
    files = render.render_tenant(ctx.env, spec)
    stale = render.stale_files(ws.dir, files)
    state = ctx.store.read_json(ws.state_key)
    if state is None:
        status = "missing-state" if ctx.store.ever_existed(ws.state_key) else "rendered"
        applied_digest = None
    else:
        applied_digest = ((state.get("outputs") or {}).get("saasctl_config_digest") or {}).get(
            "value"
        )
        status = "applied" if applied_digest == render.config_digest(files) else "drifted"
    return {
        "id": spec.id,
        "tier": spec.tier.value,
        "release": releases.release_of(ctx.env, spec),
        "listener_priority": spec.listener_priority,
        "status": status,
        "unhealthy": spec.unhealthy,
        "suspended": None
        if spec.suspension is None
        else {
            "reason": spec.suspension.reason,
            "since": spec.suspension.since,
            "state": spec.suspension.state,
        },
        "stale_files": stale,
        "state_key": ws.state_key,
    }


def listing(ctx: Context) -> list[dict[str, Any]]:
    """Every tenant's status (see ``status``)."""
    specs = ctx.env.load_tenants()
    ctx.preflight()
    return [status(ctx, spec) for spec in specs]


def describe(ctx: Context, tenant_id: str) -> dict[str, Any]:
    """A tenant's status, spec, outputs and configuration."""
    spec = ctx.env.load_tenant(validate_tenant_id(tenant_id))
    ctx.preflight()
    info = status(ctx, spec)
    info["outputs"] = ctx.outputs(ctx.tenant_workspace(tenant_id))
    info["spec"] = spec.model_dump(mode="json")
    info["config"] = tenant_config(ctx, spec)
    info["maintenance"] = maintenance.describe(spec.maintenance, maintenance.now())
    return info


def archives(ctx: Context, tenant_id: str) -> dict[str, Any]:
    """A tenant's state archives and data exports, oldest first."""
    ctx.preflight()
    items = ctx.store.archives(validate_tenant_id(tenant_id))
    data = TenantData(ctx.store, tenant_id)
    prefix = ctx.env.archive_prefix(tenant_id)
    exports = []
    for folder in data.exports():
        m = data.manifest(folder)
        exports.append({"key": folder, "name": folder.removeprefix(prefix), "items": m.items,
                        "users": m.users["count"], "log_events": m.log_events,
                        "created": m.created,
                        "tables": {k: v["count"] for k, v in m.tables.items()}})  # fmt: skip
    return {"tenant": tenant_id, "archives": items, "exports": exports}


def restore(
    ctx: Context, tenant_id: str, archive: str | None, export: str | None
) -> tuple[dict[str, Any], Manifest | None]:
    """Copy a state archive back to the tenant's state key (never over live state)
    and name the data export its next onboard writes back (default: the newest).
    Returns what was restored, and the manifest of the export named."""
    ctx.preflight()
    validate_tenant_id(tenant_id)
    data = TenantData(ctx.store, tenant_id)
    exports = data.exports()
    chosen = None
    if export is not None:
        chosen = data.folder(export)  # this tenant's archive only
        if chosen not in exports:
            raise NotFoundError(
                f"{export!r} is not a complete data export of {tenant_id!r}",
                hint=f"`saasctl tenant archives {tenant_id}` lists them",
            )
    elif exports:
        chosen = exports[-1]
    manifest = data.manifest(chosen) if chosen is not None else None  # before any write
    source, key = ctx.store.restore(tenant_id, archive)
    cell = ctx.store.archive_cell(source)
    if chosen is not None or cell is not None:  # what the next onboard brings back, and where
        marker = {"export": chosen, "cell": cell}
        ctx.store.put_json(ctx.env.restore_marker_key(tenant_id), marker)
    return {"tenant": tenant_id, "archive": source, "state": key, "export": chosen}, manifest

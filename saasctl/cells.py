"""Cells: placing tenants within AWS quotas, and each cell's usage of them.

An environment holds one or more cells (``project.Cell``); each tenant lives in
one. What a cell's workspaces consume of every quota (``quotas.py``) is kept in
the cell's usage ledger in the state bucket, one entry per workspace, counted
from the plan it applied (or, for a workspace applied before there was a ledger,
from its state). Before any apply, the workspace's planned usage is *committed*
to the ledger with a conditional write that checks the cell's total, and that of
every cell in the same account, against the limits: two onboards racing for a
cell's last slot can never both commit, and no apply starts that AWS would
refuse for a quota.

Placement: a new tenant goes into the first cell (in cells.yaml's order) where
its tier's footprint fits, estimated from tenants of the same tier already
applied anywhere in the environment; ``--cell`` chooses one. The footprint is
an estimate only: the commit of the tenant's real plan decides, and an onboard
that was placed automatically tries the next cell when its commit is refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from saasctl import quotas
from saasctl.context import Context, Workspace
from saasctl.errors import ConflictError, SaasctlError, UserError
from saasctl.files import atomic_write
from saasctl.project import Cell, Environment
from saasctl.quotas import QuotaError, Scope, Usage
from saasctl.specs import CellSpec, CellsSpec, Network, Tier
from saasctl.terraform import PlanSummary

REMEDY = "add a cell (`saasctl cell add`) or place the tenant in another (`--cell`)"
# What to do when a cell's own shared workspace would pass a quota.
CELL_REMEDY = "lower what the environment asks of each cell (env.yaml) or move tenants out"
# Quotas a tier's footprint is placed by: those whose scope a new tenant shares
# with its cell's other tenants (its load balancer, account and Region). The
# others (a web ACL's, a cluster's, a user pool's) are checked on every plan.
PLACED_BY = (Scope.ALB, Scope.REGION, Scope.ACCOUNT)


def where(ctx: Context, cell: Cell, label: str) -> quotas.Where:
    return quotas.Where(label, cell.name, cell.spec.account_id, cell.spec.region)


def limits(ctx: Context, cell: Cell) -> quotas.Limits:
    """The defaults, env.yaml's `quotas:`, then the cell's own."""
    return quotas.Limits.of(ctx.env.spec.quotas, cell.spec.quotas)


def usage_of_plan(ctx: Context, ws: Workspace, plan: dict[str, Any]) -> Usage:
    """What the workspace holds after ``plan``: counted from its planned values, or
    from its state when the plan changes nothing (terraform then shows no values)."""
    cell = ctx.cell_of(ws)
    if "planned_values" not in plan:
        return usage_of_state(ctx, ws)
    return quotas.count(quotas.from_plan(plan), where(ctx, cell, ws.label))


def usage_of_state(ctx: Context, ws: Workspace) -> Usage:
    state = ctx.store.read_json(ws.state_key) or {}
    return quotas.count(quotas.from_state(state), where(ctx, ctx.cell_of(ws), ws.label))


# --- the ledger --------------------------------------------------------------------


def _entries(ledger: dict[str, Any]) -> dict[str, dict[str, Any]]:
    entries: dict[str, dict[str, Any]] = ledger.setdefault("workspaces", {})
    return entries


def _sum(entries: Iterable[dict[str, Any]]) -> Usage:
    return quotas.add(*(e.get("usage") or {} for e in entries))


def _account_wide(usage: Usage) -> Usage:
    """The part of a usage that counts against an account's or a Region's quota."""
    wide = {q.key for q in quotas.QUOTAS if q.scope in (Scope.REGION, Scope.ACCOUNT)}
    return {k: v for k, v in usage.items() if k in wide}


def others_in_account(ctx: Context, cell: Cell) -> Usage:
    """Account- and Region-wide usage of the other cells in the cell's account."""
    found: list[Usage] = []
    for other in ctx.env.cells():
        if other.name != cell.name and other.spec.account_id == cell.spec.account_id:
            ledger, _ = ctx.store.read_usage(other)
            found.append(_account_wide(_sum(_entries(ledger).values())))
    return quotas.add(*found)


def reconcile(ctx: Context, cell: Cell) -> None:
    """Give the ledger an entry for every workspace of the cell that has state and
    none: an environment from before ledgers, or one applied by hand."""
    tenants = ctx.env.tenants_of(cell)
    spaces = [(ctx.cell_workspace(cell), None)] + [
        (ctx.tenant_workspace(t.id, cell), t.tier.value) for t in tenants
    ]
    ledger, _ = ctx.store.read_usage(cell)
    missing = [(ws, tier) for ws, tier in spaces if ws.label not in _entries(ledger)]
    counted = {ws.label: (tier, usage_of_state(ctx, ws)) for ws, tier in missing
               if ctx.store.exists(ws.state_key)}  # fmt: skip
    if not counted:
        return

    def change(ledger: dict[str, Any]) -> bool:
        entries = _entries(ledger)
        added = False
        for label, (tier, usage) in counted.items():
            if label not in entries:
                entries[label] = {"tier": tier, "usage": usage, "state": "applied"}
                added = True
        return added

    ctx.store.update_usage(cell, change)


def commit(
    ctx: Context,
    cell: Cell,
    ws: Workspace,
    tier: Tier | None,
    usage: Usage,
    *,
    remedy: str = REMEDY,
    record: bool = True,
) -> None:
    """Record ``usage`` as the workspace's, before its apply, if the cell (and every
    cell of its account) stays within the limits with it; else a QuotaError and
    nothing recorded. Conditional on the ledger as read: a concurrent commit makes
    this one read again and check again. ``record=False``: check only (plans)."""
    reconcile(ctx, cell)
    outside = others_in_account(ctx, cell)
    limit = limits(ctx, cell)
    shown = cell.describe()

    def change(ledger: dict[str, Any]) -> bool:
        entries = _entries(ledger)
        others = [e for label, e in entries.items() if label != ws.label]
        total = quotas.add(_sum(others), outside, usage)
        before = entries.get(ws.label, {}).get("usage") or {}
        # What the plan leaves as it was never fails it: only what it adds is checked.
        for excess in quotas.excesses(total, limit):
            was = quotas.add(_sum(others), outside, before)
            if was.get(excess.quota.key, {}).get(excess.scope, 0) < excess.used:
                raise QuotaError(excess.line(shown, remedy))
        if not record:
            return False
        state = "applied" if entries.get(ws.label, {}).get("state") == "applied" else "reserved"
        entry = {"tier": tier.value if tier else None, "usage": usage, "state": state}
        if entries.get(ws.label) == entry:
            return False  # as recorded already: nothing to write
        entries[ws.label] = entry
        return True

    ctx.store.update_usage(cell, change)


def tier_of(ctx: Context, ws: Workspace) -> Tier | None:
    """The tier of a tenant's workspace (None: a cell's shared workspace)."""
    if ws.tenant_id is None or not ctx.env.has_tenant(ws.tenant_id):
        return None
    return ctx.env.load_tenant(ws.tenant_id).tier


def applied(ctx: Context, cell: Cell, ws: Workspace) -> None:
    """The workspace's committed usage is now applied (no longer a reservation)."""

    def change(ledger: dict[str, Any]) -> bool:
        entry = _entries(ledger).get(ws.label)
        if entry is None or entry.get("state") == "applied":
            return False
        entry["state"] = "applied"
        return True

    ctx.store.update_usage(cell, change)


def release(ctx: Context, cell: Cell, label: str) -> None:
    """Forget a workspace's entry (offboarded, or an onboard that created nothing)."""

    def change(ledger: dict[str, Any]) -> bool:
        return _entries(ledger).pop(label, None) is not None

    ctx.store.update_usage(cell, change)


# --- placement ------------------------------------------------------------------------


@dataclass(frozen=True)
class CellUsage:
    cell: Cell
    usage: Usage  # the cell's own, plus its account's other cells' account-wide use
    limits: quotas.Limits
    tiers: dict[str, int]  # tenants per tier (applied or reserved)


def usage(ctx: Context, cell: Cell) -> CellUsage:
    reconcile(ctx, cell)
    ledger, _ = ctx.store.read_usage(cell)
    entries = _entries(ledger)
    tiers: dict[str, int] = {t.value: 0 for t in Tier}
    for e in entries.values():
        if e.get("tier"):
            tiers[e["tier"]] = tiers.get(e["tier"], 0) + 1
    own = _sum(entries.values())
    return CellUsage(cell, quotas.add(own, others_in_account(ctx, cell)), limits(ctx, cell), tiers)


def footprints(ledgers: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Per tier, the most any applied tenant of that tier consumes of each quota
    (summed over its scopes): the estimate placement works with."""
    out: dict[str, dict[str, int]] = {}
    for ledger in ledgers:
        for e in _entries(ledger).values():
            if not e.get("tier") or e.get("state") != "applied":
                continue
            tier = out.setdefault(e["tier"], {})
            for key, scopes in (e.get("usage") or {}).items():
                tier[key] = max(tier.get(key, 0), sum(scopes.values()))
    return out


def _scope_in(cell: Cell, scope: Scope) -> str:
    return quotas.Where("", cell.name, cell.spec.account_id, cell.spec.region).scope_id(scope)


def room(cu: CellUsage, footprint: dict[str, int]) -> tuple[int | None, str | None]:
    """How many more tenants of ``footprint`` fit in the cell (None: no quota binds),
    and the quota that binds first."""
    fit: int | None = None
    binding = None
    for quota in quotas.QUOTAS:
        need = footprint.get(quota.key, 0)
        limit = cu.limits[quota.key]
        if need <= 0 or limit is None or quota.scope not in PLACED_BY:
            continue
        used = (cu.usage.get(quota.key) or {}).get(_scope_in(cu.cell, quota.scope), 0)
        n = max(0, (limit - used) // need)
        if fit is None or n < fit:
            fit, binding = n, quota.name
    return fit, binding


def candidates(ctx: Context, tier: Tier, requested: str | None) -> list[Cell]:
    """The cells to try for a new tenant of ``tier``, in order: the one asked for,
    or every cell with room by the tier's footprint (none known yet: every cell)."""
    if requested is not None:
        return [ctx.env.cell(requested)]
    cells = ctx.env.cells()
    per_cell = [usage(ctx, c) for c in cells]
    ledgers = [ctx.store.read_usage(c)[0] for c in cells]
    footprint = footprints(ledgers).get(tier.value, {})
    fitting = [cu.cell for cu in per_cell if _fits(room(cu, footprint)[0])]
    if not fitting:
        _, binding = room(per_cell[-1], footprint)
        raise QuotaError(
            f"no cell of environment {ctx.env.name!r} has room for another {tier.value} tenant "
            f"({binding} is used up in each): add a cell (`saasctl cell add`)"
        )
    return fitting


def _fits(n: int | None) -> bool:
    return n is None or n > 0


def is_quota(exc: BaseException) -> bool:
    return isinstance(exc, QuotaError) or (
        isinstance(exc, SaasctlError) and exc.message.startswith("quota: ")
    )


def converge(
    ctx: Context,
    cell: Cell,
    operation: str,
    *,
    yes: bool,
    unless_applied: bool = False,
    confirm: str | None = None,
) -> PlanSummary | None:
    """Under the cell's lock: render its shared workspace from the specs as they
    are then, plan, show, commit its usage, confirm and apply. ``unless_applied``:
    nothing when its state exists (another run applied it meanwhile); ``confirm``:
    ask with this text even when nothing is destroyed."""
    with ctx.cell_lock(cell, operation):
        if unless_applied and ctx.store.exists(cell.state_key):
            return None
        ws = ctx.write_cell(cell)
        with ctx.ui.status(f"planning {ws.label}"):
            plan = ctx.plan_json(ws)
        summary = PlanSummary.from_show_json(plan)
        ctx.show_summary(ws, summary)
        if not summary.has_changes:
            return summary
        if confirm is not None:
            ctx.confirm_destroy(confirm.format(adds=len(summary.add)), yes)
        commit(ctx, cell, ws, None, usage_of_plan(ctx, ws, plan), remedy=CELL_REMEDY)
        ctx.apply(ws, summary, yes=yes)
        applied(ctx, cell, ws)
        return summary


# --- reporting and adding cells ----------------------------------------------------


def _scopes_of(cell: Cell, entries: dict[str, dict[str, Any]]) -> set[str]:
    """Where the cell's quotas are counted: its load balancer, account and Region,
    and the web ACLs, clusters and user pools its workspaces hold."""
    own = {_scope_in(cell, s) for s in PLACED_BY}
    for e in entries.values():
        for key, scopes in (e.get("usage") or {}).items():
            if quotas.BY_KEY[key].scope not in PLACED_BY:
                own.update(scopes)
    return own


def report(ctx: Context, only: str | None = None) -> list[dict[str, Any]]:
    """Each cell's use of every quota and its room for each tier (`saasctl cell`)."""
    env = ctx.env
    ledgers = {c.name: ctx.store.read_usage(c)[0] for c in env.cells()}
    for c in env.cells():
        if only in (None, c.name):
            reconcile(ctx, c)
            ledgers[c.name] = ctx.store.read_usage(c)[0]
    prints = footprints(ledgers.values())
    out = []
    for cell in env.cells():
        if only not in (None, cell.name):
            continue
        cu = usage(ctx, cell)
        entries = _entries(ledgers[cell.name])
        rows: list[dict[str, Any]] = []
        for quota in quotas.QUOTAS:
            used_by = cu.usage.get(quota.key) or {}
            for scope in sorted(_scopes_of(cell, entries)):
                kind = _kind_of(cell, scope)
                if kind is not None and kind != quota.scope:
                    continue
                if kind is None and scope not in used_by:
                    continue
                limit = cu.limits[quota.key]
                rows.append({"quota": quota.key, "name": quota.name, "scope": scope,
                             "used": used_by.get(scope, 0), "limit": limit,
                             "adjustable": quota.adjustable, "source": quota.source})  # fmt: skip
        known = [r for r in rows if r["limit"]]
        top = max(known, key=lambda r: r["used"] / r["limit"], default=None)
        room_for: dict[str, dict[str, Any]] = {}
        for tier in Tier:
            footprint = prints.get(tier.value)
            n, binding = room(cu, footprint) if footprint else (None, None)
            room_for[tier.value] = {
                "tenants": n,
                "bound_by": binding or (None if footprint else "no tenant of this tier yet"),
                "footprint": footprint or {},
            }
        out.append({
            "cell": cell.name, "label": cell.label, "account_id": cell.spec.account_id,
            "region": cell.spec.region, "role_arn": cell.spec.role_arn,
            "state": "applied" if ctx.store.exists(cell.state_key) else "not applied",
            "tenants": cu.tiers, "quotas": rows, "room": room_for,
            "fullest": None if top is None else {
                "name": top["name"], "used": top["used"], "limit": top["limit"],
                "share": round(top["used"] / top["limit"], 3)},
        })  # fmt: skip
    return out


def _kind_of(cell: Cell, scope: str) -> Scope | None:
    """Which scope kind a scope id of this cell is (None: an ACL, cluster or pool)."""
    for kind in PLACED_BY:
        if scope == _scope_in(cell, kind):
            return kind
    return None


def add(
    env: Environment,
    name: str,
    *,
    account: str | None,
    region: str | None,
    role_arn: str | None,
    vpc_cidr: str | None,
) -> tuple[CellSpec, str]:
    """Write a new cell into cells.yaml (with the first cell, when the file is new).
    Returns the new cell's spec and the file as shown."""
    existing = env.cells()
    if any(c.name == name for c in existing):
        raise ConflictError(f"cell {name!r} already exists in environment {env.name!r}")
    s = env.spec
    account = account or s.account_id
    region = region or s.region
    if account != s.account_id and role_arn is None:
        raise UserError(
            f"cell {name!r} is in account {account}, not the environment's ({s.account_id}): "
            "give --role-arn, a role there that saasctl's credentials may assume"
        )
    if vpc_cidr is None:
        vpc_cidr = _next_network(env, [c.network.vpc_cidr for c in existing])
    azs = list(s.network.azs) if region == s.region else [f"{region}a", f"{region}b"]
    shown = env.project.display(env.cells_file)
    try:
        network = Network(
            vpc_cidr=vpc_cidr, azs=azs, single_nat_gateway=s.network.single_nat_gateway
        )
        new = CellSpec(name=name, account_id=account, region=region, role_arn=role_arn,
                       network=network)  # fmt: skip
        spec = CellsSpec(cells=[*(c.spec for c in existing), new])
    except ValueError as exc:
        raise UserError(f"cell {name}: {' '.join(str(exc).split())}") from None
    atomic_write(env.cells_file, spec.to_yaml())
    return new, shown


def _next_network(env: Environment, taken: list[str]) -> str:
    """The next /16 after env.yaml's VPC network that no cell uses."""
    base = ipaddress.ip_network(env.spec.network.vpc_cidr)
    if base.prefixlen != 16 or base.version != 4:
        raise UserError("give --vpc-cidr: env.yaml's vpc_cidr is not a /16 to count on from")
    used = {ipaddress.ip_network(t) for t in taken}
    start = int(base.network_address) >> 16
    for n in range(start + 1, start + 256):
        net = ipaddress.ip_network(f"{ipaddress.IPv4Address(n << 16)}/16")
        if not net.is_private:
            break
        if not any(net.overlaps(u) for u in used):
            return str(net)
    raise UserError("give --vpc-cidr: no free private /16 after env.yaml's vpc_cidr")


def add_usage(cu: CellUsage, usage: Usage, tier: str | None) -> CellUsage:
    """The cell with one more workspace's usage (a placement planned in memory)."""
    tiers = dict(cu.tiers)
    if tier:
        tiers[tier] = tiers.get(tier, 0) + 1
    return CellUsage(cu.cell, quotas.add(cu.usage, usage), cu.limits, tiers)


def plan_placement(
    cells: list[CellUsage], tenants: list[tuple[str, str, Usage]]
) -> tuple[dict[str, str | None], list[CellUsage]]:
    """Place tenants (id, tier, the usage it would add in the first cell) over cells
    in order, first cell with room, as onboards one after another would; returns
    each tenant's cell (None: no room anywhere) and the cells after. A tenant's
    usage is moved to each cell's scopes (its load balancer, account, Region).
    Cells fill in order, so each tier resumes from the first cell it fitted in."""
    placed: dict[str, str | None] = {}
    start: dict[str, int] = {}
    cells = list(cells)
    for tenant_id, tier, usage in tenants:
        footprint = {k: sum(v.values()) for k, v in usage.items()}
        placed[tenant_id] = None
        for i in range(start.get(tier, 0), len(cells)):
            n, _ = room(cells[i], footprint)
            if n is not None and n < 1:
                start[tier] = i + 1  # full for this tier from now on
                continue
            cell = cells[i].cell
            moved = {
                k: {_scope_in(cell, quotas.BY_KEY[k].scope): sum(v.values())}
                for k, v in usage.items()
                if quotas.BY_KEY[k].scope in PLACED_BY
            }
            cells[i] = add_usage(cells[i], moved, tier)
            placed[tenant_id] = cell.name
            start[tier] = i
            break
    return placed, cells

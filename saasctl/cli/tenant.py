"""Tenant commands: onboard, set-tier, offboard, suspend, resume, maintenance, config,
list, show, archives, restore, unlock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from saasctl import audit, console, tenants
from saasctl.cli.common import (
    EnvOpt,
    JsonOpt,
    NewTenantArg,
    NoWaitOpt,
    PlanOnlyOpt,
    TenantArg,
    TierOpt,
    WaitTimeoutOpt,
    YesOpt,
    candidates,
    command,
    context,
    env_of,
    group,
)
from saasctl.cli.state import unlock_lock
from saasctl.context import Context
from saasctl.errors import ExitCode, UserError
from saasctl.specs import parse_duration

app = group("Onboard, move, offboard and inspect tenants.")

STATUS_COLORS = {
    "applied": "green",
    "drifted": "yellow",
    "rendered": "cyan",
    "missing-state": "red",
}


def _report(ctx: Context, outcome: tenants.Outcome, json_out: bool) -> None:
    if json_out:
        ctx.ui.emit_json(outcome.as_dict())
        return
    if outcome.outputs:
        ctx.ui.out.print(_outputs_table(outcome.outputs, f"{outcome.tenant_id} outputs"))


def _outputs_table(outputs: dict[str, Any], title: str) -> Table:
    """The tenant module's outputs, one row each (the config digest is for machines)."""
    table = console.table("output", "value", title=title)
    module = outputs.get("tenant")
    rows = module.items() if isinstance(module, dict) else outputs.items()
    for key, value in sorted(rows):
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
        table.add_row(key, str(value))
    return table


def _tags(pairs: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in pairs or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--tag {item!r}: expected KEY=VALUE")
        tags[key] = value
    return tags


@command(app)
def onboard(
    tenant_id: NewTenantArg,
    tier: TierOpt,
    env: EnvOpt = "local",
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", help="KEY=VALUE tag of a new tenant (repeatable), e.g. Ring=canary."),
    ] = None,
    admin_email: Annotated[
        str | None,
        typer.Option(
            "--admin-email",
            help="The tenant's first administrator: created in its user pool (or its group "
            "in the shared pool) with custom:tenantId, custom:tenantTier, custom:userRole=admin.",
        ),
    ] = None,
    cell: Annotated[
        str | None,
        typer.Option(
            "--cell",
            help="Place a new tenant into this cell (default: the first with room for its tier).",
            autocompletion=candidates(lambda ctx: [c.name for c in env_of(ctx).cells()]),
        ),
    ] = None,
    yes: YesOpt = False,
    plan_only: PlanOnlyOpt = False,
    no_wait: NoWaitOpt = False,
    wait_timeout: WaitTimeoutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Write the tenant's spec, render its workspace, plan and apply it; create its
    admin user; bring back its data after a `tenant restore`.

    A new tenant goes into --cell, or the first cell (in cells.yaml's order) where
    its tier fits within AWS's quotas. Re-running for an existing tenant of the
    same tier converges (a no-op when up to date).

    It is done when its services serve (deployments completed, running = desired,
    no alarm), not when terraform returns: one that does not within the wait is
    left as it is, shown unhealthy by `tenant list`, and the run exits 1.
    """
    ctx = context(env)
    wait = _wait(ctx, no_wait, wait_timeout)
    outcome = _audited(ctx, "tenant onboard", tenant_id, plan_only, lambda: tenants.onboard(
        ctx, tenant_id, tier, yes=yes, plan_only=plan_only, tags=_tags(tag),
        admin_email=admin_email, cell=cell, wait=wait))  # fmt: skip
    _report(ctx, outcome, json_out)
    if plan_only and outcome.changes:
        raise typer.Exit(ExitCode.CHANGES)
    if not plan_only:
        ctx.ui.success(f"{tenant_id} onboarded ({tier.value})")


@command(app, "set-tier")
def set_tier(
    tenant_id: TenantArg,
    tier: TierOpt,
    env: EnvOpt = "local",
    yes: YesOpt = False,
    plan_only: PlanOnlyOpt = False,
    no_wait: NoWaitOpt = False,
    wait_timeout: WaitTimeoutOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Move a tenant between tiers; shows the plan of the move and asks before destroying.

    Done when its services in the new tier serve (see `tenant onboard`).
    """
    ctx = context(env)
    wait = _wait(ctx, no_wait, wait_timeout)
    outcome = _audited(ctx, "tenant set-tier", tenant_id, plan_only, lambda: tenants.set_tier(
        ctx, tenant_id, tier, yes=yes, plan_only=plan_only, wait=wait))  # fmt: skip
    _report(ctx, outcome, json_out)
    if plan_only and outcome.changes:
        raise typer.Exit(ExitCode.CHANGES)
    if not plan_only:
        ctx.ui.success(f"{tenant_id} is now {tier.value}")


@command(app)
def offboard(
    tenant_id: TenantArg, env: EnvOpt = "local", yes: YesOpt = False, json_out: JsonOpt = False
) -> None:
    """Show the destroy plan, confirm, archive the state, destroy, remove spec and workspace."""
    ctx = context(env)
    outcome = _audited(
        ctx, "tenant offboard", tenant_id, False, lambda: tenants.offboard(ctx, tenant_id, yes=yes)
    )
    _report(ctx, outcome, json_out)


def _wait(ctx: Context, no_wait: bool, timeout: str | None) -> float | None:
    if no_wait:
        if timeout is not None:
            raise UserError("--no-wait and --wait-timeout: give one of them")
        return None
    if timeout is None:
        return tenants.wait_timeout(ctx)
    try:
        return parse_duration(timeout)
    except ValueError as exc:
        raise UserError(f"--wait-timeout: {exc}") from None


def _audited(
    ctx: Context, action: str, tenant_id: str, plan_only: bool,
    run: Callable[[], tenants.Outcome],
) -> tenants.Outcome:  # fmt: skip
    """Run a change and append its record to the audit trail (a plan-only run
    changes nothing and is not recorded)."""
    if plan_only:
        return run()
    with audit.recorded(ctx, action, tenant_id) as entry:
        outcome = run()
        entry.result(outcome.as_dict())
        entry.detail = dict(outcome.data)
    return outcome


@command(app)
def suspend(
    tenant_id: TenantArg,
    reason: Annotated[
        str, typer.Option("--reason", help="Why (one line, shown by `tenant list/show`).")
    ] = "",
    env: EnvOpt = "local",
    yes: YesOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Cut a tenant off, losing nothing: its host answers 503 at the edge, its own
    services go to zero, its users are disabled.

    What it changes is recorded in the spec first (the services' desired counts,
    the users already disabled), so `tenant resume` restores exactly that and a
    re-run after a kill finishes the job. Data, state, tables, user pools and keys
    are untouched. The plan is shown and confirmed (--yes for CI); fleet runs and
    releases leave a suspended tenant suspended.
    """
    ctx = context(env)
    outcome = _audited(
        ctx,
        "tenant suspend",
        tenant_id,
        False,
        lambda: tenants.suspend(ctx, tenant_id, reason, yes=yes),
    )
    _report(ctx, outcome, json_out)


@command(app)
def resume(
    tenant_id: TenantArg, env: EnvOpt = "local", yes: YesOpt = False, json_out: JsonOpt = False
) -> None:
    """Undo `tenant suspend` exactly: the edge open, its services at the desired
    counts recorded then, its users enabled but those already disabled then.

    A tenant that is not suspended is left as it is (exit 0).
    """
    ctx = context(env)
    outcome = _audited(
        ctx, "tenant resume", tenant_id, False, lambda: tenants.resume(ctx, tenant_id, yes=yes)
    )
    _report(ctx, outcome, json_out)


@command(app)
def maintenance(
    tenant_id: TenantArg,
    window: Annotated[
        list[str] | None,
        typer.Option(
            "--window",
            help="DAYS HH:MM DURATION in the tenant's timezone, e.g. 'sat 02:00 4h' or "
            "'mon-fri 22:00 2h' (repeat for more; replaces the windows).",
            show_default=False,
        ),
    ] = None,
    no_windows: Annotated[
        bool, typer.Option("--no-windows", help="Remove the windows: releases at any time.")
    ] = False,
    timezone: Annotated[
        str | None,
        typer.Option(
            "--timezone",
            help="IANA timezone of the windows, e.g. Europe/Berlin.",
            show_default=False,
        ),
    ] = None,
    pin: Annotated[
        str | None,
        typer.Option(
            "--pin",
            help="Hold the tenant on this release: rollouts of others skip it.",
            show_default=False,
        ),
    ] = None,
    pin_until: Annotated[
        str | None,
        typer.Option(
            "--pin-until",
            help="When the pin ends (ISO 8601 with a zone, e.g. "
            "2027-01-31T00:00:00Z; default: until --unpin).",
            show_default=False,
        ),
    ] = None,
    unpin: Annotated[bool, typer.Option("--unpin", help="Remove the pin.")] = False,
    env: EnvOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Show or set when rollouts may move a tenant's services: maintenance windows
    (outside them, a rollout's policy waits, skips or goes ahead) and a pin to a
    release (every rollout to another release skips the tenant until it ends).

    Without options, shows the settings and whether a window is open now. Changes
    only the tenant's spec (nothing to apply); everything is checked first: a bad
    window, an unknown timezone or a pin to an unknown release is exit 3 and
    writes nothing. Advanced and premium tenants (basic ones follow the pool).
    """
    from saasctl import maintenance as mnt

    ctx = context(env)
    asked = bool(window or no_windows or timezone or pin or pin_until or unpin)
    if not asked:
        settings = mnt.describe(ctx.env.load_tenant(tenant_id).maintenance, mnt.now())
        changed = False
    else:
        with audit.recorded(ctx, "tenant maintenance", tenant_id) as entry:
            updated, changed = mnt.change(
                ctx, tenant_id, windows=window, clear_windows=no_windows,
                timezone_name=timezone, pin=pin, pin_until=pin_until, unpin=unpin,
            )  # fmt: skip
            if changed:
                tenants.edit_spec(ctx, tenant_id, "maintenance", maintenance=updated)
            settings = mnt.describe(updated, mnt.now())
            entry.changes, entry.detail = changed, dict(settings)
    if json_out:
        ctx.ui.emit_json({"tenant": tenant_id, "changed": changed, "maintenance": settings})
        return
    ctx.ui.out.print(_maintenance_table(tenant_id, settings))
    if asked:
        ctx.ui.success(f"{tenant_id}: maintenance {'updated' if changed else 'unchanged'}")


def _maintenance_table(tenant_id: str, m: dict[str, Any]) -> Table:
    table = console.table(title=f"maintenance of {tenant_id}", show_header=False)
    table.add_row("windows", escape(", ".join(m["windows"]) or "(none: any time)"))
    if m["windows"]:
        table.add_row("timezone", str(m["timezone"]))
        now = "open now" if m["inside_window"] else f"closed; next opens {m['next_window']}"
        table.add_row("window", now)
    pinned = m["pinned_release"]
    if pinned:
        until = f" until {m['pinned_until']}" if m["pinned_until"] else " (until --unpin)"
        held = "" if m["pinned_now"] else " (expired)"
        table.add_row("pinned", f"{pinned}{until}{held}")
    return table


config_app = group(
    "A tenant's settings and flags: the values its services run, and its own values "
    "for the next config version."
)
app.add_typer(config_app, name="config")


@command(config_app, "show")
def config_show(tenant_id: TenantArg, env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """The tenant's effective settings: the value its services run (of its config
    version, or its pool's for a basic tenant) and where each comes from (default,
    tier, tenant), and what the next config version would change."""
    from saasctl import configs

    ctx = context(env)
    info = configs.show(ctx.env, ctx.env.load_tenant(tenant_id))
    if json_out:
        ctx.ui.emit_json(info)
        return
    version = info["config_version"] or "none (no config version rolled out to it)"
    table = console.table("setting", "value", "from", "next version",
                          title=f"configuration of {tenant_id}: {version}")  # fmt: skip
    for row in info["settings"]:
        pending = row["pending"]
        later = "" if pending is None else f"{_text(pending['value'])} ({pending['source']})"
        shown = "-" if row["source"] is None else _text(row["value"])
        table.add_row(row["key"], escape(shown), row["source"] or "-", escape(later))
    ctx.ui.out.print(table)
    if info["parameter"]:
        ctx.ui.info(f"its services read SSM parameter {info['parameter']}")


def _text(value: Any) -> str:
    return json.dumps(value) if isinstance(value, bool) else str(value)


ValuesArg = Annotated[
    list[str],
    typer.Argument(help="KEY=VALUE pairs (a setting of env.yaml's config).", show_default=False),
]


@command(config_app, "set")
def config_set(
    tenant_id: TenantArg, values: ValuesArg, env: EnvOpt = "local", json_out: JsonOpt = False
) -> None:
    """Set the tenant's own values (checked against env.yaml's settings; exit 3 and
    nothing written if one is not). They reach its services with the next config
    version: `saasctl config create VERSION`, then `config rollout VERSION`."""
    _change_config(env, tenant_id, values, [], json_out)


@command(config_app, "unset")
def config_unset(
    tenant_id: TenantArg,
    keys: Annotated[
        list[str],
        typer.Argument(help="Settings to take from the tier or default again.", show_default=False),
    ],
    env: EnvOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Remove the tenant's own values (the tier's or the default applies again, with
    the next config version)."""
    _change_config(env, tenant_id, [], keys, json_out)


def _change_config(
    env: str, tenant_id: str, values: list[str], unset: list[str], json_out: bool
) -> None:
    from saasctl import configs

    ctx = context(env)
    spec = ctx.env.load_tenant(tenant_id)
    schema = ctx.env.spec.config
    given = configs.parse_assignments(schema, values)
    unknown = [k for k in unset if k not in schema.keys]
    if unknown:
        raise UserError(f"{unknown[0]!r} is not a setting of env.yaml's config "
                        f"(settings: {', '.join(sorted(schema.keys)) or 'none'})")  # fmt: skip
    own = {k: v for k, v in {**spec.config, **given}.items() if k not in unset}
    changed = own != spec.config
    if changed:
        with audit.recorded(ctx, "tenant config", tenant_id) as entry:
            tenants.edit_spec(ctx, tenant_id, "config", config=own)
            entry.changes, entry.detail = True, {"config": own}
    if json_out:
        ctx.ui.emit_json({"tenant": tenant_id, "changed": changed, "config": own})
        return
    if changed:
        ctx.ui.success(
            f"{tenant_id}: own values {own or '(none)'}; they reach its services with the "
            "next config version (`saasctl config create VERSION`)"
        )
    else:
        ctx.ui.success(f"{tenant_id}: unchanged")


@command(app, "list")
def list_(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Tenants with tier, listener priority and status (rendered/applied/drifted/missing-state)."""
    ctx = context(env)
    rows = tenants.listing(ctx)
    if json_out:
        ctx.ui.emit_json({"environment": env, "tenants": rows})
        return
    table = console.table(
        "tenant", "tier", "release", "priority", "status", "suspended", title=f"tenants in {env}"
    )
    for r in rows:
        c = STATUS_COLORS[r["status"]]
        release = r["release"] or "(env.yaml)"
        if r["tier"] == "basic":
            release += " (pool)"
        held = r["suspended"]
        suspended = "" if held is None else escape(held["reason"] or "yes")
        if held is not None and held["state"] != "suspended":
            suspended += f" ({held['state']})"
        unhealthy = ", [red]unhealthy[/]" if r["unhealthy"] else ""
        table.add_row(
            r["id"], r["tier"], release, str(r["listener_priority"]),
            f"[{c}]{r['status']}[/]{unhealthy}", suspended,
        )  # fmt: skip
    ctx.ui.out.print(table)


@command(app)
def show(tenant_id: TenantArg, env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """A tenant's spec, status and outputs from its state."""
    ctx = context(env)
    info = tenants.describe(ctx, tenant_id)
    if json_out:
        ctx.ui.emit_json(info)
        return
    table = console.table(title=f"tenant {tenant_id}", show_header=False)
    for key in ("tier", "release", "listener_priority", "status", "state_key"):
        table.add_row(key, str(info[key] or "(env.yaml)") if key == "release" else str(info[key]))
    if info["unhealthy"]:
        table.add_row("unhealthy", escape(info["unhealthy"]))
    held = info["suspended"]
    if held is not None:
        why = f": {held['reason']}" if held["reason"] else ""
        table.add_row("suspended", escape(f"{held['state']} since {held['since']}{why}"))
    ctx.ui.out.print(table)
    if info["maintenance"]["windows"] or info["maintenance"]["pinned_release"]:
        ctx.ui.out.print(_maintenance_table(tenant_id, info["maintenance"]))
    config = console.table("setting", "value", title="tenant configuration")
    for key, value in info["config"].items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "(none)"
        config.add_row(key, "(none)" if value is None else str(value))
    ctx.ui.out.print(config)
    if info["outputs"]:
        ctx.ui.out.print(_outputs_table(info["outputs"], "outputs"))


@command(app)
def archives(tenant_id: TenantArg, env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """State archives kept by offboarding (newest last)."""
    ctx = context(env)
    found = tenants.archives(ctx, tenant_id)
    if json_out:
        ctx.ui.emit_json(found)
        return
    where = f"s3://{ctx.env.spec.backend.bucket}/{ctx.env.archive_prefix(tenant_id)}"
    table = console.table(
        "archive", "size", "modified", title=f"archives of {tenant_id} in {where}"
    )
    for item in found["archives"]:
        table.add_row(item["name"], str(item["size"]), item["modified"])
    ctx.ui.out.print(table)
    if found["exports"]:
        table = console.table("data export", "items", "users", "log events", "created",
                              title=f"data exports of {tenant_id}")  # fmt: skip
        for e in found["exports"]:
            table.add_row(e["name"], str(e["items"]), str(e["users"]), str(e["log_events"]),
                          e["created"])  # fmt: skip
        ctx.ui.out.print(table)


@command(app)
def restore(
    tenant_id: TenantArg,
    archive: Annotated[
        str | None,
        typer.Option(
            "--archive", help="Archive name or key (default: the newest; see `archives`)."
        ),
    ] = None,
    export: Annotated[
        str | None,
        typer.Option(
            "--export", help="Data export name or key (default: the newest; see `archives`)."
        ),
    ] = None,
    env: EnvOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Copy an offboarded tenant's state archive back to its state key, and name
    the data export its next onboard brings back (items and users).

    Nothing is overwritten: a tenant with live state is refused (exit 3). Onboard
    the tenant again afterwards: terraform plans against the restored state, and
    once applied the export's items and users are written back (restored users
    sign in after a password reset: Cognito exports no passwords).
    """
    ctx = context(env)
    with audit.recorded(ctx, "tenant restore", tenant_id) as entry:
        done, manifest = tenants.restore(ctx, tenant_id, archive, export)
        entry.changes, entry.detail = True, {k: done[k] for k in ("archive", "export") if k in done}
    if json_out:
        ctx.ui.emit_json(done)
        return
    ctx.ui.success(f"restored {done['archive']} to s3://{ctx.store.bucket}/{done['state']}")
    if manifest is not None:
        ctx.ui.info(
            f"data export {done['export']}: {manifest.items} item(s), "
            f"{manifest.users['count']} user(s)"
        )
    ctx.ui.info(
        f"next: `saasctl tenant onboard {tenant_id} --tier TIER --env {env}` manages it again"
        + (" and writes its data back" if done["export"] else "")
    )


@command(app)
def unlock(tenant_id: TenantArg, env: EnvOpt = "local", yes: YesOpt = False) -> None:
    """Remove a tenant's operation lock left by a run that died (shows who holds it)."""
    unlock_lock(tenant_id, env, yes)

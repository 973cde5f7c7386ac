"""Config commands: create, list, plan, rollout (per-tenant settings and flags)."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from saasctl import console
from saasctl.cli.common import (
    AllowDestroyOpt,
    AllowOpt,
    CellsOpt,
    EnvOpt,
    JsonOpt,
    allowances,
    candidates,
    command,
    context,
    env_of,
    group,
)
from saasctl.cli.release import (
    InfraOpt,
    MaintenanceOpt,
    ResumeOpt,
    StartOpt,
    run_rollout,
    show_plan,
)
from saasctl.files import atomic_write

app = group("Ship per-tenant settings and feature flags in waves (config versions), like releases.")

ConfigVersionArg = Annotated[
    str,
    typer.Argument(
        help="Config version, e.g. c2.", show_default=False,
        autocompletion=candidates(lambda ctx: env_of(ctx).config_versions()),
    ),
]  # fmt: skip


@command(app, "create")
def create(
    version: Annotated[str, typer.Argument(help="The new version, e.g. c2.", show_default=False)],
    notes: Annotated[str, typer.Option(help="What changed, for reviewers.")] = "",
    env: EnvOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Freeze env.yaml's settings and tier defaults and every tenant's own values
    into terraform/envs/ENV/configs/VERSION.yaml (review it in a pull request).

    Nothing reaches a tenant until `config rollout VERSION` moves it there. A
    version is never changed (exit 3 if it exists): a change is a new version.
    """
    from saasctl import configs

    ctx = context(env)
    config = configs.create(ctx.env, version, notes)
    path = ctx.env.config_file(version)
    for spec in ctx.env.load_tenants():  # every document fits its parameter
        configs.document(config, spec.id, spec.tier)
    atomic_write(path, config.to_yaml())
    shown = ctx.env.project.display(path)
    if json_out:
        ctx.ui.emit_json({"config": config.model_dump(mode="json", by_alias=True), "file": shown})
        return
    ctx.ui.success(f"wrote {shown}: {len(config.schema_.keys)} setting(s), "
                   f"{len(config.tenants)} tenant(s) with values of their own")  # fmt: skip
    ctx.ui.info(f"next: `saasctl config plan {version}`, then `saasctl config rollout {version}`")


@command(app, "list")
def list_(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Config versions and the units that run each."""
    from saasctl import releases

    ctx = context(env)
    units = releases.units(ctx.env)
    rows: list[dict[str, Any]] = []
    for version in ctx.env.config_versions():
        config = ctx.env.load_config(version)
        rows.append({"version": version, "notes": config.notes, "created": config.created,
                     "settings": sorted(config.schema_.keys),
                     "units": [u.label for u in units if u.config == version]})  # fmt: skip
    if json_out:
        ctx.ui.emit_json({"environment": env, "current": ctx.env.current_config(),
                          "configs": rows})  # fmt: skip
        return
    table = console.table("version", "settings", "units", "notes", title=f"config in {env}")
    current = ctx.env.current_config()
    for row in rows:
        mark = " (current)" if row["version"] == current else ""
        table.add_row(f"{row['version']}{mark}", ", ".join(row["settings"]),
                      ", ".join(row["units"]) or "-", escape(str(row["notes"])))  # fmt: skip
    ctx.ui.out.print(table)


@command(app, "plan")
def plan(
    version: ConfigVersionArg,
    env: EnvOpt = "local",
    cell: CellsOpt = None,
    maintenance: MaintenanceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The waves of a rollout of config VERSION, their units and each unit's plan
    (its parameter and its services' new task definitions).

    Exit 2 when units would change, 1 when a plan changes more than a rollout
    should or breaks a policy gate, 0 when nothing would change.
    """
    ctx = context(env)
    ctx.env.load_config(version)
    show_plan(ctx, version, allow_infra_change=False, cells=cell, policy=maintenance,
              json_out=json_out, what="config")  # fmt: skip


@command(app, "rollout")
def rollout_(
    version: ConfigVersionArg,
    env: EnvOpt = "local",
    yes: StartOpt = False,
    resume: ResumeOpt = False,
    allow_infra_change: InfraOpt = False,
    allow_destroy: AllowDestroyOpt = False,
    allow: AllowOpt = None,
    cell: CellsOpt = None,
    maintenance: MaintenanceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Move the units to config VERSION wave by wave, as a release: each unit's
    reviewed plan applied (its parameter, its services' task definitions), then
    its health watched for the wave's bake time. Past a wave's error budget: halt,
    roll that wave back to the version it ran, start no further wave (exit 1).

    `release status` shows it (a config version of its own), `release rollback`
    takes it back; one rollout of either kind per environment at a time.
    """
    ctx = context(env)
    allowed = allowances(ctx, allow_destroy, allow)
    ctx.env.load_config(version)
    run_rollout(ctx, version, "rollout", None, yes=yes, resume=resume,
                allow_infra_change=allow_infra_change, allow=allowed, json_out=json_out,
                cells=cell, policy=maintenance, what="config")  # fmt: skip

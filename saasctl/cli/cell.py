"""Cell commands: list, show, add."""

from __future__ import annotations

from typing import Annotated

import typer

from saasctl import console
from saasctl.cli.common import EnvOpt, JsonOpt, candidates, command, context, env_of, group

app = group("Cells: copies of the shared stack that tenants are placed into, within AWS quotas.")

CellArg = Annotated[
    str,
    typer.Argument(
        help="Cell name, e.g. main.", show_default=False,
        autocompletion=candidates(lambda ctx: [c.name for c in env_of(ctx).cells()]),
    ),
]  # fmt: skip


def _fits(n: int | None) -> str:
    return "no limit known" if n is None else str(n)


@command(app, "list")
def list_(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Cells: account, Region, tenants per tier, fullest quota, room per tier.

    Room is how many more tenants of each tier fit within AWS's quotas, by what
    tenants of that tier already applied consume."""
    from saasctl import cells

    ctx = context(env)
    ctx.preflight()
    rows = cells.report(ctx)
    if json_out:
        ctx.ui.emit_json({"environment": env, "cells": rows})
        return
    table = console.table("cell", "account / region", "tenants", "fullest quota", "room for",
                          title=f"cells in {env}")  # fmt: skip
    for r in rows:
        tenants = ", ".join(f"{n} {t}" for t, n in r["tenants"].items() if n) or "none"
        top = r["fullest"]
        fullest = f"{top['name']}: {top['used']}/{top['limit']}" if top else "-"
        room = ", ".join(f"{_fits(r['room'][t]['tenants'])} {t}" for t in r["room"])
        table.add_row(r["cell"], f"{r['account_id']} / {r['region']}", tenants, fullest, room)
    ctx.ui.out.print(table)


@command(app, "show")
def show(cell: CellArg, env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """A cell's use of every AWS quota, and its room for each tier.

    Each quota with where it is counted (the cell's load balancer, its account and
    Region, its web ACL...), its use and its limit (fixed or adjustable); then how
    many more tenants of each tier fit and the quota that binds first."""
    from saasctl import cells

    ctx = context(env)
    ctx.env.cell(cell)  # unknown: one line, exit 3
    ctx.preflight()
    data = next(r for r in cells.report(ctx, only=cell))
    if json_out:
        ctx.ui.emit_json(data)
        return
    ctx.ui.info(f"cell {cell}: account {data['account_id']}, {data['region']}, {data['state']}")
    table = console.table("quota", "where", "used", "limit", title=f"quotas of cell {cell}")
    for q in data["quotas"]:
        limit = "-" if q["limit"] is None else f"{q['limit']}{'' if q['adjustable'] else ' fixed'}"
        table.add_row(q["name"], q["scope"], str(q["used"]), limit)
    ctx.ui.out.print(table)
    room = console.table("tier", "tenants now", "room for", "bound by", title="capacity")
    for tier, r in data["room"].items():
        room.add_row(tier, str(data["tenants"][tier]), _fits(r["tenants"]), r["bound_by"] or "-")
    ctx.ui.out.print(room)


@command(app, "add")
def add(
    name: Annotated[str, typer.Argument(help="The new cell's name, e.g. c2.", show_default=False)],
    account: Annotated[
        str | None,
        typer.Option("--account", help="Its AWS account (default: the environment's)."),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="Its Region (default: the environment's).")
    ] = None,
    role_arn: Annotated[
        str | None,
        typer.Option("--role-arn", help="The role terraform and saasctl assume in its account."),
    ] = None,
    vpc_cidr: Annotated[
        str | None,
        typer.Option("--vpc-cidr", help="Its VPC's network (default: the next free /16)."),
    ] = None,
    env: EnvOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Add a cell to terraform/envs/ENV/cells.yaml (review it in a pull request).

    Then apply its shared workspace: `saasctl apply --shared-only --cell NAME`. A
    cell in another account needs --role-arn: a role there that the credentials
    saasctl runs with may assume."""
    from saasctl import cells

    ctx = context(env)
    spec, path = cells.add(ctx.env, name, account=account, region=region, role_arn=role_arn,
                           vpc_cidr=vpc_cidr)  # fmt: skip
    if json_out:
        ctx.ui.emit_json({"cell": spec.model_dump(mode="json", exclude_none=True), "file": path})
        return
    ctx.ui.success(f"wrote {path}: cell {name} in account {spec.account_id}, {spec.region}")
    ctx.ui.info(f"next: `saasctl apply --shared-only --cell {name} --env {env}`")

"""Release commands: create, list, plan, rollout, rollback, status."""

from __future__ import annotations

from collections import Counter
from enum import Enum
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from saasctl import audit, console
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
from saasctl.context import Context
from saasctl.errors import ExitCode, NotFoundError

app = group("Ship application versions to the tenants in waves.")

VersionArg = Annotated[
    str,
    typer.Argument(
        help="Release version, e.g. 1.4.0.", show_default=False,
        autocompletion=candidates(lambda ctx: env_of(ctx).release_versions()),
    ),
]  # fmt: skip
StartOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask before starting (for CI; review `release plan`)."),
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted rollout where it stopped.")
]


class Policy(str, Enum):
    STRICT = "strict"
    SKIP = "skip"
    IGNORE = "ignore"


MaintenanceOpt = Annotated[
    Policy | None,
    typer.Option(
        "--maintenance",
        help="Units outside their maintenance window: strict (wait for it), skip (leave "
        "them for a later rollout) or ignore (go ahead: emergencies). Default: each "
        "wave's `maintenance`, else skip. Pins hold under every policy.",
        show_default=False,
    ),
]
InfraOpt = Annotated[
    bool,
    typer.Option("--allow-infra-change", help="Let a release change more than tasks and services."),
]

# Past this many units a ledger table lists only the units that need a look (failed,
# in flight, rolled back...) and counts the rest per wave: a fleet of 1,000 stays
# readable, and quick (a rich table of 1,000 rows takes seconds to lay out).
LISTED_UNITS = 50
QUIET_STATES = ("healthy", "skipped", "pending")


def ledger_table(data: dict[str, Any], *, every_unit: bool = False) -> Table:
    what = "config " if data.get("what") == "config" else ""
    title = f"{what}{data['kind']} of {data['version']}: {data['state']}"
    none = "(none)" if what else "(env.yaml)"
    table = console.table("wave", "unit", "from", "to", "state", "detail", title=title)
    brief = not every_unit and len(data["units"]) > LISTED_UNITS
    for wave in data["waves"]:
        if not wave["units"]:
            table.add_row(wave["name"], "-", "", "", wave["state"], "no units")
        quiet: Counter[str] = Counter()
        for label in wave["units"]:
            u = data["units"][label]
            if brief and u["state"] in QUIET_STATES and not u.get("held"):
                quiet[u["state"]] += 1
                continue
            detail = "; ".join(x for x in (u.get("detail"), u.get("note")) if x)
            table.add_row(wave["name"], label, u["from"] or none, u["to"] or none,
                          u["state"], escape(detail))  # fmt: skip
        if quiet:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(quiet.items()))
            table.add_row(wave["name"], f"({sum(quiet.values())} more)", "", "", counts,
                          "`release status --all` lists them")  # fmt: skip
    return table


@command(app, "create")
def create(
    version: Annotated[
        str, typer.Argument(help="The new version, e.g. 1.4.0.", show_default=False)
    ],
    image: Annotated[
        list[str],
        typer.Option(
            "--image", "-i", help="SERVICE=IMAGE, pinned by tag or digest (one per service)."
        ),
    ],
    notes: Annotated[str, typer.Option(help="What changed, for reviewers.")] = "",
    upgradeable_from: Annotated[
        list[str] | None,
        typer.Option("--upgradeable-from", help="Only units on these versions may move to it."),
    ] = None,
    env: EnvOpt = "local",
    json_out: JsonOpt = False,
) -> None:
    """Write terraform/envs/ENV/releases/VERSION.yaml (review it in a pull request).

    Images must name a tag or a digest (not :latest). A release that a unit runs
    cannot be changed: create a new version.
    """
    from saasctl import releases

    ctx = context(env)
    release, changed = releases.create(
        ctx.env, version, releases.parse_images(image), notes=notes,
        upgradeable_from=upgradeable_from,
    )  # fmt: skip
    path = ctx.env.project.display(ctx.env.release_file(version))
    if json_out:
        ctx.ui.emit_json({"release": release.model_dump(mode="json"), "file": path,
                          "written": changed})  # fmt: skip
        return
    ctx.ui.success(f"{'wrote' if changed else 'unchanged:'} {path}")


@command(app, "list")
def list_(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Releases, their images and the units that run each (the pool and the tenants
    of the advanced and premium tiers; basic tenants run the pool's)."""
    from saasctl import releases

    ctx = context(env)
    rows = releases.listing(ctx.env)
    if json_out:
        ctx.ui.emit_json(
            {"environment": env, "current": ctx.env.current_release(), "releases": rows}
        )
        return
    table = console.table("version", "images", "units", "notes", title=f"releases in {env}")
    for row in rows:
        images = "\n".join(f"{k}={v}" for k, v in sorted(row["images"].items()))
        version = row["version"] or "(env.yaml)"
        units = ", ".join(row["units"]) or "-"
        mark = " (current)" if row["current"] else ""
        table.add_row(f"{version}{mark}", images, units, row["notes"] or "")
    ctx.ui.out.print(table)


def run_rollout(
    ctx: Context,
    version: str,
    kind: str,
    targets: dict[str, str | None] | None,
    *,
    yes: bool,
    resume: bool,
    allow_infra_change: bool,
    allow: frozenset[str],
    json_out: bool,
    cells: list[str] | None = None,
    policy: Policy | None = None,
    what: str = "release",
) -> None:
    """Start or resume a rollout (of a release or, ``what`` config, of a config
    version), report its ledger, exit 1 if it halted."""
    from saasctl import rollout

    group = "release" if what == "release" else "config"

    def confirm(data: dict[str, Any]) -> None:
        if yes:
            return
        pending = [u for u in data["units"].values() if u["state"] not in ("healthy", "skipped")]
        if ctx.ui.can_ask():
            ctx.ui.err.print(ledger_table(data))
        ctx.confirm_destroy(
            f"{kind} of {data['version']}: {len(pending)} unit(s) in {len(data['waves'])} "
            f"wave(s) get new task definitions (`saasctl {group} plan` shows each plan).",
            yes,
        )

    with audit.recorded(ctx, f"{group} {kind}") as entry:
        data = rollout.start(ctx, targets, version, kind, resume=resume,
                             allow_infra_change=allow_infra_change, allow=allow,
                             report=ctx.ui.info, confirm=confirm, only_cells=cells,
                             window_policy=policy and policy.value, what=what)  # fmt: skip
        units = data.get("units", {}).values()
        entry.changes = any(u.get("state") not in ("pending", "skipped") for u in units)
        entry.detail = {"version": data.get("version"), "state": data.get("state"),
                        "reason": data.get("reason")}  # fmt: skip
        if data.get("state") == "halted":
            entry.outcome = f"halted: {data.get('reason', '')}"
    if json_out:
        ctx.ui.emit_json(data)
    else:
        ctx.ui.out.print(ledger_table(data))
    if data["state"] == "halted":
        ctx.ui.error(f"{kind} of {data['version']} halted: {data.get('reason', '')}")
        raise typer.Exit(ExitCode.ERROR)
    ctx.ui.success(f"{kind} of {data['version']} completed")
    held = [label for label, u in data["units"].items() if u.get("held")]
    if held:
        again = "release rollback" if kind == "rollback" else f"{group} rollout {data['version']}"
        ctx.ui.warn(
            f"{len(held)} unit(s) held back by their maintenance settings: {', '.join(held)}; "
            f"`saasctl {again}` takes them once their windows open or pins end"
        )


@command(app, "plan")
def plan(
    version: VersionArg,
    env: EnvOpt = "local",
    allow_infra_change: InfraOpt = False,
    cell: CellsOpt = None,
    maintenance: MaintenanceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """The waves of a rollout of VERSION, their units, and each unit's plan; units
    outside their maintenance window or pinned are shown skipped or waiting, and why.

    Exit 2 when units would change, 1 when a plan changes more than a release
    should (infrastructure) or breaks a policy gate, 0 when nothing would change.
    """
    ctx = context(env)
    ctx.env.load_release(version)
    show_plan(ctx, version, allow_infra_change=allow_infra_change, cells=cell,
              policy=maintenance, json_out=json_out)  # fmt: skip


def show_plan(
    ctx: Context,
    version: str,
    *,
    allow_infra_change: bool,
    cells: list[str] | None,
    policy: Policy | None,
    json_out: bool,
    what: str = "release",
) -> None:
    """Preview a rollout (of a release, or of a config version) and exit 2 when
    units would change, 1 when one would change more than a rollout should."""
    from saasctl import rollout

    ctx.preflight()
    data = rollout.preview(ctx, version, allow_infra_change=allow_infra_change, only_cells=cells,
                           window_policy=policy and policy.value, what=what)  # fmt: skip
    if json_out:
        ctx.ui.emit_json(data)
    else:
        ctx.ui.out.print(ledger_table(data))
    refused = [u for u in data["units"].values() if u["state"] == "refused"]
    if refused:
        ctx.ui.error(f"{len(refused)} unit(s) would change more than a {what} rollout: see above")
        raise typer.Exit(ExitCode.ERROR)
    if any(u["state"] in ("pending", "waiting") for u in data["units"].values()):
        raise typer.Exit(ExitCode.CHANGES)


@command(app, "rollout")
def rollout_(
    version: VersionArg,
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
    """Ship VERSION wave by wave: apply each unit's reviewed plan, then gate on its
    health (ECS deployment completed, running = desired, no alarm in ALARM) for the
    wave's bake time. Past a wave's error budget: halt, roll that wave's failed and
    in-flight units back, start no further wave (exit 1).

    With --cell, only that cell's pool and tenants move (the others are skipped,
    and a later rollout of VERSION takes them). One rollout per environment at a
    time (exit 4 names the one running); a killed rollout continues with --resume.
    Tenants pinned to another release are skipped; outside their maintenance
    windows, --maintenance (or the wave's policy) decides.
    """
    ctx = context(env)
    allowed = allowances(ctx, allow_destroy, allow)
    ctx.env.load_release(version)
    run_rollout(ctx, version, "rollout", None, yes=yes, resume=resume,
                 allow_infra_change=allow_infra_change, allow=allowed,
                 json_out=json_out, cells=cell, policy=maintenance)  # fmt: skip


@command(app, "rollback")
def rollback(
    env: EnvOpt = "local",
    yes: StartOpt = False,
    resume: ResumeOpt = False,
    allow_destroy: AllowDestroyOpt = False,
    allow: AllowOpt = None,
    cell: CellsOpt = None,
    maintenance: MaintenanceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Take every unit of the last rollout (of a release, or of a config version)
    back to what it ran before, in the same waves, with the same health gates
    (with --cell, that cell's units only)."""
    from saasctl import rollout

    ctx = context(env)
    allowed = allowances(ctx, allow_destroy, allow)
    version, targets, what = (
        rollout.previous_targets(ctx) if not resume else ("previous", {}, "release")
    )
    run_rollout(ctx, version, "rollback", targets, yes=yes, resume=resume,
                allow_infra_change=False, allow=allowed,
                json_out=json_out, cells=cell, policy=maintenance, what=what)  # fmt: skip


@command(app, "status")
def status(
    env: EnvOpt = "local",
    every_unit: Annotated[
        bool,
        typer.Option(
            "--all", help=f"List every unit (past {LISTED_UNITS}, only those to look at)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """The last rollout: its waves, units, versions, health and timings; units
    waiting for their maintenance window or skipped, and why."""
    ctx = context(env)
    data, _ = ctx.store.read_ledger()
    if data is None:
        raise NotFoundError(f"no rollout recorded in environment {env!r}")
    if json_out:
        ctx.ui.emit_json(data)
        return
    ctx.ui.out.print(ledger_table(data, every_unit=every_unit))
    if data.get("reason"):
        ctx.ui.info(f"halted: {data['reason']}")

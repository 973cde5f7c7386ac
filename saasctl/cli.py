"""The saasctl command line. Commands are thin: they parse options and call the library."""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.table import Table

from saasctl import __version__, console, tenants
from saasctl.context import Context
from saasctl.errors import ExitCode, NotFoundError, SaasctlError, UserError
from saasctl.files import atomic_write
from saasctl.ids import validate_tenant_id
from saasctl.project import SHARED, Environment, Project, find_root
from saasctl.specs import Tier
from saasctl.tenant_data import TenantData
from saasctl.terraform import Terraform, find_binary

if TYPE_CHECKING:
    from saasctl.fleet import WorkspaceResult

EXIT_CODES = """\
Exit codes: 0 success (plans: no changes) · 1 error · 2 plan has changes ·
3 invalid input or usage · 4 locked by another run · 5 not confirmed · 130 interrupted
"""

app = typer.Typer(
    name="saasctl",
    help="Control plane of a tiered multi-tenant SaaS on AWS ECS, driven by Terraform.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
tenant_app = typer.Typer(
    help="Onboard, move, offboard and inspect tenants.", epilog=EXIT_CODES, no_args_is_help=True
)
app.add_typer(tenant_app, name="tenant")
ci_app = typer.Typer(help="Helpers for CI pipelines.", epilog=EXIT_CODES, no_args_is_help=True)
app.add_typer(ci_app, name="ci")
offline_app = typer.Typer(
    help="Run any Terraform code through saasctl's offline AWS provider.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
)
app.add_typer(offline_app, name="offline")
release_app = typer.Typer(
    help="Ship application versions to the tenants in waves.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
)
app.add_typer(release_app, name="release")

CPUS = os.cpu_count() or 2


def _candidates(names: Callable[[typer.Context], list[str]]) -> Callable[..., list[str]]:
    """Shell completion from the project's files (never AWS); silent when it cannot."""

    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        try:
            return [n for n in names(ctx) if n.startswith(incomplete)]
        except Exception:  # a broken project completes nothing, quietly
            return []

    return complete


def _env_of(ctx: typer.Context) -> Environment:
    env = ctx.params.get("env") or os.environ.get("SAASCTL_ENV") or "local"
    return Project(find_root()).load_env(env)


EnvOpt = Annotated[
    str,
    typer.Option(
        "--env", "-e", envvar="SAASCTL_ENV", help="Environment under terraform/envs.",
        autocompletion=_candidates(lambda _: Project(find_root()).env_names()),
    ),
]  # fmt: skip
JsonOpt = Annotated[bool, typer.Option("--json", help="Print a JSON result on stdout.")]
YesOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask before destroying (for CI; review the plan)."),
]
PlanOnlyOpt = Annotated[
    bool, typer.Option("--plan-only", help="Render and plan, apply nothing; exit 2 on changes.")
]
TierOpt = Annotated[Tier, typer.Option("--tier", "-t", help="basic (pool), advanced or premium.")]
TenantArg = Annotated[
    str,
    typer.Argument(
        help="Tenant id, e.g. acme.", show_default=False,
        autocompletion=_candidates(lambda ctx: _env_of(ctx).tenant_ids()),
    ),
]  # fmt: skip
NewTenantArg = Annotated[
    str, typer.Argument(help="Id of the new tenant, e.g. acme.", show_default=False)
]


def _context(env: str) -> Context:
    project = Project(find_root())
    return Context(project.load_env(env), console.ui())


def _version(value: bool) -> None:
    if value:
        typer.echo(f"saasctl {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only errors and results.")] = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show terraform commands and output.")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Shared options; NO_COLOR turns colour off."""
    console.configure(quiet=quiet, verbose=verbose)


# --- environment-wide commands ---------------------------------------------


@app.command(epilog=EXIT_CODES)
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
    ctx = _context(env)
    if lock_table is None:
        lock_table = ctx.binary.version < (1, 10, 0)
    done = ctx.store.bootstrap(lock_table=lock_table)
    if json_out:
        ctx.ui.emit_json({"environment": env, "bucket": ctx.store.bucket, "done": done})
        return
    for line in done:
        ctx.ui.success(line)


@app.command("render", epilog=EXIT_CODES)
def render_cmd(
    env: EnvOpt = "local",
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 if any rendered file is stale.")
    ] = False,
) -> None:
    """Render the shared and every tenant workspace from templates and specs."""
    ctx = _context(env)
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


TenantsOpt = Annotated[
    list[str] | None, typer.Option("--tenant", help="Only this tenant (repeatable).")
]
TiersOpt = Annotated[
    list[Tier] | None, typer.Option("--tier", help="Only tenants of this tier (repeatable).")
]
SharedOnlyOpt = Annotated[bool, typer.Option("--shared-only", help="Only the shared workspace.")]
ParallelOpt = Annotated[
    int,
    typer.Option(
        "--parallelism",
        "-p",
        envvar="SAASCTL_PARALLELISM",
        help="Workspaces run at once (default: CPU count).",
    ),
]
ChangedOpt = Annotated[
    str | None,
    typer.Option(
        "--changed-since",
        metavar="GIT_REF",
        help="Only workspaces whose inputs changed since this git ref.",
    ),
]
ShardOpt = Annotated[
    str | None,
    typer.Option(
        "--shard",
        metavar="i/N",
        envvar="SAASCTL_SHARD",
        help="Only this stable shard of the workspaces (CI matrix).",
    ),
]
FailFastOpt = Annotated[
    bool, typer.Option("--fail-fast", help="Stop starting workspaces after a failure.")
]
AllowDestroyOpt = Annotated[
    bool,
    typer.Option("--allow-destroy", help="Let plans destroy or replace stateful/shared resources."),
]
ReportOpt = Annotated[Path | None, typer.Option("--report-json", help="Write a JSON report here.")]
SummaryOpt = Annotated[
    Path | None,
    typer.Option(
        "--summary-md",
        help="Write a Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set).",
    ),
]


def _fleet(
    mode: str,
    env: str,
    tenant: list[str] | None,
    tier: list[Tier] | None,
    shared_only: bool,
    parallelism: int,
    changed_since: str | None,
    shard: str | None,
    fail_fast: bool,
    allow_destroy: bool,
    yes: bool,
    json_out: bool,
    report_json: Path | None,
    summary_md: Path | None,
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

    ctx = _context(env)
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
        allow_destroy=allow_destroy,
        yes=yes,
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
    colors = {
        "no changes": "dim",
        "changes": "yellow",
        "applied": "green",
        "error": "red",
        "policy": "red",
    }

    def done(result: WorkspaceResult) -> None:
        progress.advance(task)
        c = result.counts()
        detail = result.error or (
            f"+{c['add']} ~{c['change']} -{c['destroy']} -/+{c['replace']}"
            if result.status in ("changes", "applied")
            else ""
        )
        line = (
            f"  [{colors[result.status]}]{result.status:<10}[/] {result.workspace} "
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

    with progress:
        results = fleet.run(ctx, opts, done, confirm)
    data = fleet.report(env, mode, opts, results, time.monotonic() - started)
    code = fleet.aggregate(results)
    if report_json:
        atomic_write(report_json, json.dumps(data, indent=2, sort_keys=True) + "\n")
    markdown = fleet.summary_markdown(data)
    if summary_md:
        atomic_write(summary_md, markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(markdown)
    if json_out:
        ui.emit_json(data)
    else:
        t = data["totals"]
        ui.info(
            f"{mode}: {t['workspaces']} workspace(s), {t['with_changes']} with changes, "
            f"{t['failed']} failed in {data['seconds']:.1f}s (exit {int(code)})"
        )
    raise typer.Exit(code)


@app.command(epilog=EXIT_CODES)
def plan(
    env: EnvOpt = "local",
    tenant: TenantsOpt = None,
    tier: TiersOpt = None,
    shared_only: SharedOnlyOpt = False,
    parallelism: ParallelOpt = CPUS,
    changed_since: ChangedOpt = None,
    shard: ShardOpt = None,
    fail_fast: FailFastOpt = False,
    allow_destroy: AllowDestroyOpt = False,
    json_out: JsonOpt = False,
    report_json: ReportOpt = None,
    summary_md: SummaryOpt = None,
) -> None:
    """Plan the shared workspace, then the tenants in parallel, with policy gates.

    Exit 0 no changes, 2 changes, 1 any error or policy violation.
    """
    _fleet(
        "plan",
        env,
        tenant,
        tier,
        shared_only,
        parallelism,
        changed_since,
        shard,
        fail_fast,
        allow_destroy,
        False,
        json_out,
        report_json,
        summary_md,
    )


@app.command(epilog=EXIT_CODES)
def apply(
    env: EnvOpt = "local",
    tenant: TenantsOpt = None,
    tier: TiersOpt = None,
    shared_only: SharedOnlyOpt = False,
    parallelism: ParallelOpt = CPUS,
    changed_since: ChangedOpt = None,
    shard: ShardOpt = None,
    fail_fast: FailFastOpt = False,
    allow_destroy: AllowDestroyOpt = False,
    yes: YesOpt = False,
    json_out: JsonOpt = False,
    report_json: ReportOpt = None,
    summary_md: SummaryOpt = None,
) -> None:
    """Plan everything, ask once if anything is destroyed, then apply those plans (shared first)."""
    _fleet(
        "apply",
        env,
        tenant,
        tier,
        shared_only,
        parallelism,
        changed_since,
        shard,
        fail_fast,
        allow_destroy,
        yes,
        json_out,
        report_json,
        summary_md,
    )


@app.command(epilog=EXIT_CODES)
def drift(
    env: EnvOpt = "local",
    tenant: TenantsOpt = None,
    tier: TiersOpt = None,
    shared_only: SharedOnlyOpt = False,
    parallelism: ParallelOpt = CPUS,
    shard: ShardOpt = None,
    json_out: JsonOpt = False,
    report_json: ReportOpt = None,
    summary_md: SummaryOpt = None,
) -> None:
    """Refresh-only plans: exit 2 when real infrastructure drifted from state."""
    _fleet(
        "drift",
        env,
        tenant,
        tier,
        shared_only,
        parallelism,
        None,
        shard,
        False,
        True,
        False,
        json_out,
        report_json,
        summary_md,
    )


@ci_app.command("matrix", epilog=EXIT_CODES)
def ci_matrix(
    shards: Annotated[int, typer.Option("--shards", min=1, max=256, help="Number of CI jobs.")] = 4,
) -> None:
    """Print the CI matrix JSON for `--shard i/N` (GitHub Actions `strategy.matrix`)."""
    from saasctl import changes

    typer.echo(json.dumps(changes.matrix(shards)))


@ci_app.command("cache-key", epilog=EXIT_CODES)
def ci_cache_key(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Print the key of a CI cache of init (and, with --json, the paths it holds).

    Restore those paths into the fresh clone before `saasctl plan`: workspaces
    whose init stamp still matches skip `terraform init`. The key changes with the
    terraform binary, any module or template file, the backend settings, the
    providers offered and saasctl's version."""
    from saasctl import changes

    ctx = _context(env)
    key = changes.cache_key(ctx)
    if json_out:
        ctx.ui.emit_json({"key": key, "paths": changes.cache_paths(ctx.env.name)})
    else:
        typer.echo(key)


@app.command("fmt", epilog=EXIT_CODES)
def fmt_cmd(
    check: Annotated[
        bool, typer.Option("--check", help="Change nothing; exit 1 if unformatted.")
    ] = False,
) -> None:
    """terraform fmt over terraform/ (modules and environments)."""
    project = Project(find_root())
    tf = Terraform(find_binary())
    args = ["fmt", "-recursive", "-no-color"] + (["-check", "-diff"] if check else [])
    result = tf.run(project.root / "terraform", args, ok_codes=(0, 3))
    if result.stdout.strip():
        console.ui().info(result.stdout.rstrip())
    if result.code:
        console.ui().error("terraform files are not formatted; run `make fmt`")
        raise typer.Exit(ExitCode.ERROR)


@app.command("validate", epilog=EXIT_CODES)
def validate_cmd(
    env: Annotated[
        list[str] | None,
        typer.Option("--env", "-e", help="Only this environment's workspaces (default: all)."),
    ] = None,
    parallelism: ParallelOpt = CPUS,
    json_out: JsonOpt = False,
) -> None:
    """terraform validate of every module, example and rendered workspace, offline.

    hashicorp/aws is the real provider from $SAASCTL_PROVIDER_MIRROR when set,
    else saasctl's offline provider (serves the real schema; creates nothing).
    Exit 0 all valid, 3 any invalid (terraform's messages on stderr), 1 other errors.
    """
    from saasctl import validate

    ui = console.ui()
    project = Project(find_root())
    names = env or project.env_names()
    for name in names:
        project.load_env(name)  # unknown environment: one line, exit 3

    def progress(o: validate.Outcome) -> None:
        if o.ok:
            ui.debug(f"valid: {o.target}")
        else:
            ui.error(f"invalid: {o.target}")
            for line in o.errors:
                ui.info(f"  {line}")

    with ui.status("terraform validate ..."):
        outcomes = validate.validate_all(project, names, parallelism=parallelism, progress=progress)
    bad = [o for o in outcomes if not o.ok]
    if json_out:
        ui.emit_json({"valid": not bad, "targets": [o.as_dict() for o in outcomes]})
    summary = f"{len(outcomes) - len(bad)}/{len(outcomes)} valid"
    if bad:
        ui.error(f"{summary}; invalid: {', '.join(o.target for o in bad)}")
        raise typer.Exit(ExitCode.INVALID)
    ui.success(f"{summary} (modules, examples, rendered workspaces of {', '.join(names)})")


@app.command(epilog=EXIT_CODES)
def emulator(
    port: Annotated[int, typer.Option(help="Loopback port (0: a free one).")] = 0,
) -> None:
    """Run the local AWS emulator (moto) in the foreground until Ctrl-C."""
    from saasctl.emulator import moto_server

    with moto_server(port or None) as url:
        console.ui().info(f"moto listening on {url}; in another shell:")
        console.ui().out.print(f"export AWS_ENDPOINT_URL={url}")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            console.ui().info("stopping moto")


@offline_app.command("env", epilog=EXIT_CODES)
def offline_env(
    env: EnvOpt = "local",
    unset: Annotated[
        bool, typer.Option("--unset", help="Print the lines that undo it instead.")
    ] = False,
) -> None:
    """Print `export` lines that make plain `terraform` use the offline AWS provider.

    Run `eval "$(saasctl offline env)"`: terraform in any directory of that shell
    then takes hashicorp/aws (saasctl's offline provider: the real schema, nothing
    created in AWS) and hashicorp/null from saasctl's mirror, with no network, and
    the emulator's endpoint and credentials. Every terraform run says it is
    offline. `eval "$(saasctl offline env --unset)"` undoes it.
    """
    import shlex

    from saasctl import backend
    from saasctl.aws import endpoint_for

    ctx = _context(env)
    variables = backend.offline_shell(ctx.env, endpoint_for(ctx.env.spec))
    if unset:
        typer.echo(f"unset {' '.join(sorted(variables))}")
        return
    typer.echo(
        "# saasctl offline AWS provider: terraform in this shell creates nothing in AWS.\n"
        f'# Apply with: eval "$(saasctl offline env --env {env})"; undo with --unset.'
    )
    for name, value in variables.items():
        typer.echo(f"export {name}={shlex.quote(value)}")


# --- releases --------------------------------------------------------------

VersionArg = Annotated[
    str,
    typer.Argument(
        help="Release version, e.g. 1.4.0.", show_default=False,
        autocompletion=_candidates(lambda ctx: _env_of(ctx).release_versions()),
    ),
]  # fmt: skip


@release_app.command("create", epilog=EXIT_CODES)
def release_create(
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

    ctx = _context(env)
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


@release_app.command("list", epilog=EXIT_CODES)
def release_list(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Releases, their images and the units that run each (the pool and the tenants
    of the advanced and premium tiers; basic tenants run the pool's)."""
    from saasctl import releases

    ctx = _context(env)
    by_release = releases.running(ctx.env)
    current = ctx.env.current_release()
    rows: list[dict[str, Any]] = []
    versions: list[str | None] = [None] if None in by_release else []
    for version in versions + ctx.env.release_versions():
        release = ctx.env.load_release(version) if version else None
        rows.append(
            {
                "version": version,
                "images": release.images if release else ctx.env.images(None),
                "notes": release.notes if release else "the images in env.yaml",
                "upgradeable_from": release.upgradeable_from if release else None,
                "units": by_release.get(version, []),
                "current": version == current,
            }
        )
    if json_out:
        ctx.ui.emit_json({"environment": env, "current": current, "releases": rows})
        return
    table = console.table("version", "images", "units", "notes", title=f"releases in {env}")
    for row in rows:
        images = "\n".join(f"{k}={v}" for k, v in sorted(row["images"].items()))
        version = row["version"] or "(env.yaml)"
        units = ", ".join(row["units"]) or "-"
        mark = " (current)" if row["current"] else ""
        table.add_row(f"{version}{mark}", images, units, row["notes"] or "")
    ctx.ui.out.print(table)


# Past this many units a ledger table lists only the units that need a look (failed,
# in flight, rolled back...) and counts the rest per wave: a fleet of 1,000 stays
# readable, and quick (a rich table of 1,000 rows takes seconds to lay out).
LISTED_UNITS = 50
QUIET_STATES = ("healthy", "skipped", "pending")


def _ledger_table(ctx: Context, data: dict[str, Any], *, every_unit: bool = False) -> Table:
    title = f"{data['kind']} of {data['version']}: {data['state']}"
    table = console.table("wave", "unit", "from", "to", "state", "detail", title=title)
    brief = not every_unit and len(data["units"]) > LISTED_UNITS
    for wave in data["waves"]:
        if not wave["units"]:
            table.add_row(wave["name"], "-", "", "", wave["state"], "no units")
        quiet: Counter[str] = Counter()
        for label in wave["units"]:
            u = data["units"][label]
            if brief and u["state"] in QUIET_STATES:
                quiet[u["state"]] += 1
                continue
            table.add_row(wave["name"], label, u["from"] or "(env.yaml)", u["to"] or "(env.yaml)",
                          u["state"], escape(u.get("detail") or ""))  # fmt: skip
        if quiet:
            counts = ", ".join(f"{n} {state}" for state, n in sorted(quiet.items()))
            table.add_row(wave["name"], f"({sum(quiet.values())} more)", "", "", counts,
                          "`release status --all` lists them")  # fmt: skip
    return table


def _run_rollout(
    ctx: Context,
    version: str,
    kind: str,
    targets: dict[str, str | None] | None,
    *,
    yes: bool,
    resume: bool,
    allow_infra_change: bool,
    allow_destroy: bool,
    json_out: bool,
) -> None:
    from saasctl import rollout

    def confirm(data: dict[str, Any]) -> None:
        if yes:
            return
        pending = [u for u in data["units"].values() if u["state"] not in ("healthy", "skipped")]
        if ctx.ui.can_ask():
            ctx.ui.err.print(_ledger_table(ctx, data))
        ctx.confirm_destroy(
            f"{kind} of {data['version']}: {len(pending)} unit(s) in {len(data['waves'])} "
            "wave(s) get new task definitions (`saasctl release plan` shows each plan).",
            yes,
        )

    data = rollout.start(ctx, targets, version, kind, resume=resume,
                         allow_infra_change=allow_infra_change, allow_destroy=allow_destroy,
                         report=ctx.ui.info, confirm=confirm)  # fmt: skip
    if json_out:
        ctx.ui.emit_json(data)
    else:
        ctx.ui.out.print(_ledger_table(ctx, data))
    if data["state"] == "halted":
        ctx.ui.error(f"{kind} of {data['version']} halted: {data.get('reason', '')}")
        raise typer.Exit(ExitCode.ERROR)
    ctx.ui.success(f"{kind} of {data['version']} completed")


StartOpt = Annotated[
    bool,
    typer.Option("--yes", "-y", help="Do not ask before starting (for CI; review `release plan`)."),
]
ResumeOpt = Annotated[
    bool, typer.Option("--resume", help="Continue an interrupted rollout where it stopped.")
]
InfraOpt = Annotated[
    bool,
    typer.Option("--allow-infra-change", help="Let a release change more than tasks and services."),
]


@release_app.command("plan", epilog=EXIT_CODES)
def release_plan(
    version: VersionArg,
    env: EnvOpt = "local",
    allow_infra_change: InfraOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """The waves of a rollout of VERSION, their units, and each unit's plan.

    Exit 2 when units would change, 1 when a plan changes more than a release
    should (infrastructure) or breaks a policy gate, 0 when nothing would change.
    """
    from saasctl import rollout

    ctx = _context(env)
    ctx.env.load_release(version)
    ctx.preflight()
    data = rollout.preview(ctx, version, allow_infra_change=allow_infra_change)
    if json_out:
        ctx.ui.emit_json(data)
    else:
        ctx.ui.out.print(_ledger_table(ctx, data))
    refused = [u for u in data["units"].values() if u["state"] == "refused"]
    if refused:
        ctx.ui.error(f"{len(refused)} unit(s) would change more than a release: see above")
        raise typer.Exit(ExitCode.ERROR)
    if any(u["state"] == "pending" for u in data["units"].values()):
        raise typer.Exit(ExitCode.CHANGES)


@release_app.command("rollout", epilog=EXIT_CODES)
def release_rollout(
    version: VersionArg,
    env: EnvOpt = "local",
    yes: StartOpt = False,
    resume: ResumeOpt = False,
    allow_infra_change: InfraOpt = False,
    allow_destroy: AllowDestroyOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Ship VERSION wave by wave: apply each unit's reviewed plan, then gate on its
    health (ECS deployment completed, running = desired, no alarm in ALARM) for the
    wave's bake time. Past a wave's error budget: halt, roll that wave's failed and
    in-flight units back, start no further wave (exit 1).

    One rollout per environment at a time (exit 4 names the one running); a killed
    rollout continues with --resume.
    """
    ctx = _context(env)
    ctx.env.load_release(version)
    _run_rollout(ctx, version, "rollout", None, yes=yes, resume=resume,
                 allow_infra_change=allow_infra_change, allow_destroy=allow_destroy,
                 json_out=json_out)  # fmt: skip


@release_app.command("rollback", epilog=EXIT_CODES)
def release_rollback(
    env: EnvOpt = "local",
    yes: StartOpt = False,
    resume: ResumeOpt = False,
    allow_destroy: AllowDestroyOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Take every unit of the last rollout back to the release it ran before, in the
    same waves, with the same health gates."""
    from saasctl import rollout

    ctx = _context(env)
    version, targets = rollout.previous_targets(ctx) if not resume else ("previous", {})
    _run_rollout(ctx, version, "rollback", targets, yes=yes, resume=resume,
                 allow_infra_change=False, allow_destroy=allow_destroy,
                 json_out=json_out)  # fmt: skip


@release_app.command("status", epilog=EXIT_CODES)
def release_status(
    env: EnvOpt = "local",
    every_unit: Annotated[
        bool,
        typer.Option(
            "--all", help=f"List every unit (past {LISTED_UNITS}, only those to look at)."
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """The last rollout: its waves, units, versions, health and timings."""
    ctx = _context(env)
    data, _ = ctx.store.read_ledger()
    if data is None:
        raise NotFoundError(f"no rollout recorded in environment {env!r}")
    if json_out:
        ctx.ui.emit_json(data)
        return
    ctx.ui.out.print(_ledger_table(ctx, data, every_unit=every_unit))
    if data.get("reason"):
        ctx.ui.info(f"halted: {data['reason']}")


# --- tenant commands -------------------------------------------------------


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


@tenant_app.command(epilog=EXIT_CODES)
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
    yes: YesOpt = False,
    plan_only: PlanOnlyOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Write the tenant's spec, render its workspace, plan and apply it; create its
    admin user; bring back its data after a `tenant restore`.

    Re-running for an existing tenant of the same tier converges (a no-op when up to date).
    """
    ctx = _context(env)
    tags: dict[str, str] = {}
    for item in tag or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise UserError(f"--tag {item!r}: expected KEY=VALUE")
        tags[key] = value
    outcome = tenants.onboard(
        ctx, tenant_id, tier, yes=yes, plan_only=plan_only, tags=tags, admin_email=admin_email
    )
    _report(ctx, outcome, json_out)
    if plan_only and outcome.changes:
        raise typer.Exit(ExitCode.CHANGES)
    if not plan_only:
        ctx.ui.success(f"{tenant_id} onboarded ({tier.value})")


@tenant_app.command("set-tier", epilog=EXIT_CODES)
def set_tier(
    tenant_id: TenantArg,
    tier: TierOpt,
    env: EnvOpt = "local",
    yes: YesOpt = False,
    plan_only: PlanOnlyOpt = False,
    json_out: JsonOpt = False,
) -> None:
    """Move a tenant between tiers; shows the plan of the move and asks before destroying."""
    ctx = _context(env)
    outcome = tenants.set_tier(ctx, tenant_id, tier, yes=yes, plan_only=plan_only)
    _report(ctx, outcome, json_out)
    if plan_only and outcome.changes:
        raise typer.Exit(ExitCode.CHANGES)
    if not plan_only:
        ctx.ui.success(f"{tenant_id} is now {tier.value}")


@tenant_app.command(epilog=EXIT_CODES)
def offboard(
    tenant_id: TenantArg, env: EnvOpt = "local", yes: YesOpt = False, json_out: JsonOpt = False
) -> None:
    """Show the destroy plan, confirm, archive the state, destroy, remove spec and workspace."""
    ctx = _context(env)
    outcome = tenants.offboard(ctx, tenant_id, yes=yes)
    _report(ctx, outcome, json_out)


@tenant_app.command("list", epilog=EXIT_CODES)
def list_cmd(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Tenants with tier, listener priority and status (rendered/applied/drifted/missing-state)."""
    ctx = _context(env)
    specs = ctx.env.load_tenants()
    ctx.preflight()
    rows = [tenants.status(ctx, spec) for spec in specs]
    if json_out:
        ctx.ui.emit_json({"environment": env, "tenants": rows})
        return
    table = console.table(
        "tenant", "tier", "release", "priority", "status", title=f"tenants in {env}"
    )
    colors = {"applied": "green", "drifted": "yellow", "rendered": "cyan", "missing-state": "red"}
    for r in rows:
        c = colors[r["status"]]
        release = r["release"] or "(env.yaml)"
        if r["tier"] == "basic":
            release += " (pool)"
        table.add_row(
            r["id"], r["tier"], release, str(r["listener_priority"]), f"[{c}]{r['status']}[/]"
        )
    ctx.ui.out.print(table)


@tenant_app.command(epilog=EXIT_CODES)
def show(tenant_id: TenantArg, env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """A tenant's spec, status and outputs from its state."""
    ctx = _context(env)
    spec = ctx.env.load_tenant(validate_tenant_id(tenant_id))
    ctx.preflight()
    info = tenants.status(ctx, spec)
    info["outputs"] = ctx.outputs(ctx.tenant_workspace(tenant_id))
    info["spec"] = spec.model_dump(mode="json")
    info["config"] = tenants.tenant_config(ctx, spec)
    if json_out:
        ctx.ui.emit_json(info)
        return
    table = console.table(title=f"tenant {tenant_id}", show_header=False)
    for key in ("tier", "release", "listener_priority", "status", "state_key"):
        table.add_row(key, str(info[key] or "(env.yaml)") if key == "release" else str(info[key]))
    ctx.ui.out.print(table)
    config = console.table("setting", "value", title="tenant configuration")
    for key, value in info["config"].items():
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in sorted(value.items())) or "(none)"
        config.add_row(key, "(none)" if value is None else str(value))
    ctx.ui.out.print(config)
    if info["outputs"]:
        ctx.ui.out.print(_outputs_table(info["outputs"], "outputs"))


@tenant_app.command(epilog=EXIT_CODES)
def archives(tenant_id: TenantArg, env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """State archives kept by offboarding (newest last)."""
    ctx = _context(env)
    ctx.preflight()
    items = ctx.store.archives(validate_tenant_id(tenant_id))
    data = TenantData(ctx.store, tenant_id)
    exports = []
    prefix = ctx.env.archive_prefix(tenant_id)
    for folder in data.exports():
        m = data.manifest(folder)
        exports.append({"key": folder, "name": folder.removeprefix(prefix), "items": m.items,
                        "users": m.users["count"], "created": m.created,
                        "tables": {k: v["count"] for k, v in m.tables.items()}})  # fmt: skip
    if json_out:
        ctx.ui.emit_json({"tenant": tenant_id, "archives": items, "exports": exports})
        return
    where = f"s3://{ctx.env.spec.backend.bucket}/{ctx.env.archive_prefix(tenant_id)}"
    table = console.table(
        "archive", "size", "modified", title=f"archives of {tenant_id} in {where}"
    )
    for item in items:
        table.add_row(item["name"], str(item["size"]), item["modified"])
    ctx.ui.out.print(table)
    if exports:
        table = console.table("data export", "items", "users", "created",
                              title=f"data exports of {tenant_id}")  # fmt: skip
        for e in exports:
            table.add_row(e["name"], str(e["items"]), str(e["users"]), e["created"])
        ctx.ui.out.print(table)


@tenant_app.command(epilog=EXIT_CODES)
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
    ctx = _context(env)
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
    if chosen is not None:
        ctx.store.put_json(ctx.env.restore_marker_key(tenant_id), {"export": chosen})
    if json_out:
        ctx.ui.emit_json({"tenant": tenant_id, "archive": source, "state": key, "export": chosen})
        return
    ctx.ui.success(f"restored {source} to s3://{ctx.store.bucket}/{key}")
    if manifest is not None:
        ctx.ui.info(
            f"data export {chosen}: {manifest.items} item(s), {manifest.users['count']} user(s)"
        )
    ctx.ui.info(
        f"next: `saasctl tenant onboard {tenant_id} --tier TIER --env {env}` manages it again"
        + (" and writes its data back" if chosen else "")
    )


def _unlock(workspace: str, env: str, yes: bool) -> None:
    ctx = _context(env)
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


@tenant_app.command(epilog=EXIT_CODES)
def unlock(tenant_id: TenantArg, env: EnvOpt = "local", yes: YesOpt = False) -> None:
    """Remove a tenant's operation lock left by a run that died (shows who holds it)."""
    _unlock(tenant_id, env, yes)


@app.command("unlock", epilog=EXIT_CODES)
def unlock_workspace(
    workspace: Annotated[str, typer.Argument(help="'shared' or a tenant id.", show_default=False)],
    env: EnvOpt = "local",
    yes: YesOpt = False,
) -> None:
    """Remove saasctl's operation lock of a workspace left by a run that died.

    Onboard, set-tier, offboard and fleet apply hold the shared workspace's lock
    while they converge it; a run killed meanwhile leaves it, and the next run
    names this command. (Terraform's own state lock: see `unlock-state`.)
    """
    _unlock(workspace, env, yes)


@app.command("unlock-state", epilog=EXIT_CODES)
def unlock_state(
    workspace: Annotated[str, typer.Argument(help="'shared' or a tenant id.", show_default=False)],
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
    ctx = _context(env)
    if workspace != "shared":
        validate_tenant_id(workspace)
    ctx.preflight()
    ws = ctx.workspace(workspace)
    if not ws.dir.is_dir():
        raise NotFoundError(f"no workspace {workspace!r} in environment {env!r}")
    ctx.confirm_destroy(f"remove terraform's state lock {lock_id} of {workspace}.", yes)
    ctx.init(ws)
    ctx.tf.force_unlock(ws.dir, lock_id)
    ctx.ui.success(f"state lock {lock_id} of {workspace} removed")


# --- the boundary ----------------------------------------------------------


# Typer >= 0.23 vendors click; find its UsageError through a public class.
_UsageError: type[Exception] = next(
    c for c in typer.BadParameter.__mro__ if c.__name__ == "UsageError"
)


def run(argv: list[str] | None = None) -> int:
    """Run the CLI; every error becomes one line on stderr and a documented exit code."""
    try:
        result = app(args=argv, standalone_mode=False, prog_name="saasctl")
    except _UsageError as exc:
        ctx = getattr(exc, "ctx", None)
        where = ctx.command_path if ctx is not None else "saasctl"
        message = exc.format_message().replace("Value error, ", "")  # type: ignore[attr-defined]
        console.ui().error(f"{' '.join(message.split())} (see `{where} -h`)")
        return int(ExitCode.INVALID)
    except typer.Abort:
        return int(ExitCode.INTERRUPTED)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except SaasctlError as exc:
        console.ui().error(exc.one_line())
        return int(exc.exit_code)
    except KeyboardInterrupt:
        console.ui().error("interrupted")
        return int(ExitCode.INTERRUPTED)
    return int(result) if isinstance(result, int) else 0


def main() -> NoReturn:
    code = run()
    if sys.getprofile() is not None:  # a profiler writes its report after main returns
        sys.exit(code)
    # Interpreter teardown (botocore's models: many thousands of objects) costs
    # ~0.1 s per command and does nothing for us: do what exit would do that
    # matters (threads joined, atexit handlers, streams flushed), then leave.
    for thread in threading.enumerate():
        if thread is not threading.main_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError, ValueError):  # a closed pipe: nothing to lose
            stream.flush()
    os._exit(code)

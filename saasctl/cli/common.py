"""What every command group shares: options and their help text (declared once),
the command context, shell completion and the exit codes' epilog."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from saasctl import console, policy
from saasctl.context import Context
from saasctl.errors import UserError
from saasctl.project import Environment, Project, find_root
from saasctl.specs import Tier

EXIT_CODES = """\
Exit codes: 0 success (plans: no changes) · 1 error · 2 plan has changes ·
3 invalid input or usage · 4 locked by another run · 5 not confirmed · 130 interrupted
"""
CPUS = os.cpu_count() or 2


def group(help: str) -> typer.Typer:
    """A command group (``saasctl tenant …``), documented like the root."""
    return typer.Typer(help=help, epilog=EXIT_CODES, no_args_is_help=True)


def command(app: typer.Typer, name: str | None = None) -> Callable[[Any], Any]:
    """Register a command of ``app``, its help ending with the exit codes."""
    return app.command(name, epilog=EXIT_CODES)


def context(env: str) -> Context:
    project = Project(find_root())
    return Context(project.load_env(env), console.ui())


def candidates(names: Callable[[typer.Context], list[str]]) -> Callable[..., list[str]]:
    """Shell completion from the project's files (never AWS); silent when it cannot."""

    def complete(ctx: typer.Context, incomplete: str) -> list[str]:
        try:
            return [n for n in names(ctx) if n.startswith(incomplete)]
        except Exception:  # a broken project completes nothing, quietly
            return []

    return complete


def env_of(ctx: typer.Context) -> Environment:
    env = ctx.params.get("env") or os.environ.get("SAASCTL_ENV") or "local"
    return Project(find_root()).load_env(env)


# --- options and arguments, each declared once -------------------------------

EnvOpt = Annotated[
    str,
    typer.Option(
        "--env", "-e", envvar="SAASCTL_ENV", help="Environment under terraform/envs.",
        autocompletion=candidates(lambda _: Project(find_root()).env_names()),
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
NoWaitOpt = Annotated[
    bool,
    typer.Option(
        "--no-wait", help="Do not wait for the tenant's services to serve after the apply."
    ),
]
WaitTimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--wait-timeout", metavar="DURATION",
        help="How long to wait for them to serve (30s, 10m; default: the rollout's "
        "deployment_timeout).",
    ),
]  # fmt: skip
TierOpt = Annotated[Tier, typer.Option("--tier", "-t", help="basic (pool), advanced or premium.")]
TenantArg = Annotated[
    str,
    typer.Argument(
        help="Tenant id, e.g. acme.", show_default=False,
        autocompletion=candidates(lambda ctx: env_of(ctx).tenant_ids()),
    ),
]  # fmt: skip
NewTenantArg = Annotated[
    str, typer.Argument(help="Id of the new tenant, e.g. acme.", show_default=False)
]
ParallelOpt = Annotated[
    int,
    typer.Option(
        "--parallelism",
        "-p",
        envvar="SAASCTL_PARALLELISM",
        help="Workspaces run at once (default: CPU count).",
    ),
]
AllowDestroyOpt = Annotated[
    bool,
    typer.Option("--allow-destroy", help="Let plans destroy or replace stateful/shared resources."),
]
AllowOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--allow",
        metavar="RULE",
        help="Let plans break this policy rule (repeatable; printed): "
        + ", ".join(r for r in policy.RULES if r != "destroy")
        + ".",
        autocompletion=candidates(lambda ctx: list(policy.RULES)),
    ),
]
TenantsOpt = Annotated[
    list[str] | None, typer.Option("--tenant", help="Only this tenant (repeatable).")
]
TiersOpt = Annotated[
    list[Tier] | None, typer.Option("--tier", help="Only tenants of this tier (repeatable).")
]
SharedOnlyOpt = Annotated[
    bool, typer.Option("--shared-only", help="Only the cells' shared workspaces.")
]
CellsOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--cell", help="Only this cell's shared workspace and tenants (repeatable).",
        autocompletion=candidates(lambda ctx: [c.name for c in env_of(ctx).cells()]),
    ),
]  # fmt: skip
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
ReportOpt = Annotated[Path | None, typer.Option("--report-json", help="Write a JSON report here.")]
SummaryOpt = Annotated[
    Path | None,
    typer.Option(
        "--summary-md",
        help="Write a Markdown summary here (also appended to $GITHUB_STEP_SUMMARY when set).",
    ),
]

# Options several commands take the same way: name -> (annotation, default).
# `with_options` builds a command's parameters from these names, so a shared
# option is declared here once rather than in every command that takes it.
SHARED_OPTIONS: dict[str, tuple[Any, Any]] = {
    "env": (EnvOpt, "local"),
    "tenant": (TenantsOpt, None),
    "tier": (TiersOpt, None),
    "shared_only": (SharedOnlyOpt, False),
    "cell": (CellsOpt, None),
    "parallelism": (ParallelOpt, CPUS),
    "changed_since": (ChangedOpt, None),
    "shard": (ShardOpt, None),
    "fail_fast": (FailFastOpt, False),
    "allow_destroy": (AllowDestroyOpt, False),
    "allow": (AllowOpt, None),
    "yes": (YesOpt, False),
    "json_out": (JsonOpt, False),
    "report_json": (ReportOpt, None),
    "summary_md": (SummaryOpt, None),
}


def with_options(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a ``def command(**options)`` the parameters ``names`` of SHARED_OPTIONS,
    in that order (Typer reads a function's signature and annotations)."""

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        params = [
            inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=SHARED_OPTIONS[n][1],
                              annotation=SHARED_OPTIONS[n][0])
            for n in names
        ]  # fmt: skip
        fn.__signature__ = inspect.Signature(params, return_annotation=None)  # type: ignore[attr-defined]
        fn.__annotations__ = {n: SHARED_OPTIONS[n][0] for n in names}
        return fn

    return decorate


def allowances(ctx: Context, allow_destroy: bool, allow: list[str] | None) -> frozenset[str]:
    """The policy rules an operator lets plans break in this run, each printed."""
    rules = set(allow or []) | ({"destroy"} if allow_destroy else set())
    unknown = sorted(rules - set(policy.RULES))
    if unknown:
        raise UserError(
            f"unknown policy rule: {', '.join(unknown)} (rules: {', '.join(policy.RULES)})"
        )
    for rule in sorted(rules):
        ctx.ui.info(f"policy: letting plans break {rule!r}: {policy.RULES[rule]}")
    return frozenset(rules)

"""The project's Terraform code: fmt and validate (offline)."""

from __future__ import annotations

from typing import Annotated

import typer

from saasctl import console
from saasctl.cli.common import CPUS, JsonOpt, ParallelOpt
from saasctl.errors import ExitCode
from saasctl.project import Project, find_root
from saasctl.terraform import Terraform, find_binary


def fmt(
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


def validate(
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

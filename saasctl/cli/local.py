"""Local AWS: the emulator, and `offline env` for any Terraform code."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Annotated

import typer

from saasctl import console
from saasctl.cli.common import EnvOpt, command, context, group

offline_app = group("Run any Terraform code through saasctl's offline AWS provider.")


def emulator(
    port: Annotated[int, typer.Option(help="Loopback port (0: a free one).")] = 0,
) -> None:
    """Run the local AWS emulator (moto) in the foreground until Ctrl-C, SIGTERM or
    SIGHUP; the server it started stops with it."""
    from saasctl.emulator import moto_server

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # so the server's context manager stops it

    # The server runs in a session of its own (a Ctrl-C in this terminal is ours
    # to handle): a cancelled CI job, `kill` or a service manager must stop it too.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    try:
        with moto_server(port or None) as url:
            console.ui().info(f"moto listening on {url}; in another shell:")
            console.ui().out.print(f"export AWS_ENDPOINT_URL={url}")
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        console.ui().info("moto stopped")


@command(offline_app, "env")
def offline_env(
    env: EnvOpt = "local",
    unset: Annotated[
        bool, typer.Option("--unset", help="Print the lines that undo it instead.")
    ] = False,
    modules: Annotated[
        list[Path] | None,
        typer.Option(
            "--modules",
            help="Checkouts of registry modules (terraform-<provider>-<name>, or a directory "
            "of them) that `terraform init` resolves registry sources from; default: "
            "$SAASCTL_OFFLINE_MODULES (colon-separated).",
            show_default=False,
        ),
    ] = None,
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

    ctx = context(env)
    if modules is None and os.environ.get("SAASCTL_OFFLINE_MODULES"):
        modules = [Path(p) for p in os.environ["SAASCTL_OFFLINE_MODULES"].split(":") if p]
    if unset:  # the registry this shell uses stops with it (not another shell's)
        from saasctl.offline_aws import registry

        used = registry.key_in(os.environ.get("TF_CLI_CONFIG_FILE", ""))
        for key in {*([registry.key_of(modules)] if modules else []), *([used] if used else [])}:
            registry.stop(ctx.env.project.cache, key)
        variables = backend.offline_shell(ctx.env, endpoint_for(ctx.env.spec))
        typer.echo(f"unset {' '.join(sorted(variables))}")
        return
    variables = backend.offline_shell(ctx.env, endpoint_for(ctx.env.spec), modules)
    typer.echo(
        "# saasctl offline AWS provider: terraform in this shell creates nothing in AWS.\n"
        f'# Apply with: eval "$(saasctl offline env --env {env})"; undo with --unset.'
    )
    if modules:
        from saasctl.offline_aws import registry

        typer.echo(
            "# Registry modules come from a local registry of "
            + ", ".join(str(m) for m in modules)
            + "; --unset stops it. A module it lacks: fetch its repository there."
        )
        for found in registry.discover(modules):
            owner = found.namespace or "terraform-aws-modules"
            where = "" if found.namespace else " (any namespace)"
            older = f" (and {len(found.tags)} other releases from its tags)" if found.tags else ""
            typer.echo(
                f"# serving {owner}/{found.name}/{found.provider} {found.version}{where}{older}"
            )
    for name, value in variables.items():
        typer.echo(f"export {name}={shlex.quote(value)}")

"""Helpers for CI pipelines: the shard matrix and the key of the init cache."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from saasctl.cli.common import EnvOpt, JsonOpt, command, context, group

app = group("Helpers for CI pipelines.")


@command(app, "matrix")
def matrix(
    shards: Annotated[int, typer.Option("--shards", min=1, max=256, help="Number of CI jobs.")] = 4,
) -> None:
    """Print the CI matrix JSON for `--shard i/N` (GitHub Actions `strategy.matrix`)."""
    from saasctl import changes

    typer.echo(json.dumps(changes.matrix(shards)))


@command(app, "cache-key")
def cache_key(env: EnvOpt = "local", json_out: JsonOpt = False) -> None:
    """Print the key of a CI cache of init (and, with --json, the paths it holds).

    Restore those paths into the fresh clone before `saasctl plan`: workspaces
    whose init stamp still matches skip `terraform init`. The key changes with the
    terraform binary, any module or template file, the backend settings, the
    providers offered and saasctl's version."""
    from saasctl import changes

    ctx = context(env)
    key = changes.cache_key(ctx)
    if json_out:
        ctx.ui.emit_json({"key": key, "paths": changes.cache_paths(ctx.env.name)})
    else:
        typer.echo(key)

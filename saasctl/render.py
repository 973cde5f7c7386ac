"""Pure, deterministic rendering of workspaces from ``templates/``.

Templates produce structure only. Every value reaches terraform through
``terraform.tfvars.json`` or ``backend.tf.json`` (JSON-encoded, so nothing in
a value can become HCL). Output is byte-identical for identical inputs.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from saasctl import configs
from saasctl.backend import aws_provider_available, offline_aws_available, static_backend
from saasctl.errors import SaasctlError, UserError
from saasctl.files import atomic_write
from saasctl.ids import aws_name
from saasctl.priorities import check_fits
from saasctl.project import Cell, Environment
from saasctl.specs import PoolSpec, TenantSpec, Tier

if TYPE_CHECKING:
    import jinja2

# The module interface. Stand-ins and real modules must declare exactly these
# (tests/unit/test_module_interface.py checks it).
SHARED_INPUTS = (
    "name",
    "region",
    "account_id",
    "domain",
    "vpc_cidr",
    "azs",
    "single_nat_gateway",
    "certificate_arn",
    "allowed_cidrs",
    "services",
    "pool",
    "tier_rate_limits",
    "ip_rate_limit",
    "suspended_hosts",
    "tags",
    "pool_tables",
    "shared_user_pool",
    "tenant_configs",
)
SHARED_OUTPUTS = (
    "vpc_id",
    "private_subnet_ids",
    "public_subnet_ids",
    "alb_arn",
    "alb_dns_name",
    "https_listener_arn",
    "alb_security_group_id",
    "waf_web_acl_arn",
    "pool_cluster_arn",
    "advanced_cluster_arn",
    "pool_target_group_arns",
    "log_group_name",
    "alb_arn_suffix",
    "pool_services",
    "user_pool_id",
    "user_pool_client_id",
    "pool_tables",
    "endpoints",
    "tenant_log_group_prefix",
)
_TENANT_COMMON = ("tenant_id", "name_prefix", "host", "listener_priority", "services", "tags",
                  "identity", "deletion_protection")  # fmt: skip
_SIZING = ("cpu", "memory", "desired_count", "min_capacity", "max_capacity",
           "deployment_strategy", "deployment_bake_minutes")  # fmt: skip
_DEDICATED = (*_SIZING, "tables", "config")
TENANT_INPUTS: dict[Tier, tuple[str, ...]] = {
    Tier.BASIC: _TENANT_COMMON,
    Tier.ADVANCED: _TENANT_COMMON + _DEDICATED,
    Tier.PREMIUM: _TENANT_COMMON + _DEDICATED,
}
# Variables of the tenant modules that the workspace passes itself (not from tfvars).
TENANT_WIRED = ("shared", "shared_user_pool_id", "endpoints", "tenant_log_group_prefix")
RENDERED_FILES = ("main.tf", "backend.tf.json", "terraform.tfvars.json")
MODULE_SETS = ("real", "standin")


def aws_provider(env: Environment) -> str | None:
    """Where hashicorp/aws comes from here: a real provider mirror
    ($SAASCTL_PROVIDER_MIRROR), saasctl's offline provider (emulator
    environments only: it creates nothing), or nowhere."""
    if aws_provider_available():
        return "mirror"
    if env.spec.emulator and offline_aws_available(env.project.cache):
        return "offline"
    return None


def module_set(env: Environment) -> str:
    """Which modules a workspace uses: env.yaml `modules`, resolving `auto` on this machine."""
    if env.spec.modules != "auto":
        return env.spec.modules
    real = env.project.modules / "shared-stack"
    return "real" if real.is_dir() and aws_provider(env) is not None else "standin"


def uses_offline_aws(env: Environment) -> bool:
    return module_set(env) == "real" and aws_provider(env) == "offline"


def module_dir(env: Environment, name: str, which: str | None = None) -> Path:
    which = which or module_set(env)
    base = env.project.modules / "standins" if which == "standin" else env.project.modules
    return base / name


@functools.lru_cache(maxsize=8)
def _env(templates: Path) -> jinja2.Environment:
    """One environment per templates directory: templates compile once per process."""
    import jinja2  # on first render: help and completion skip it

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,  # noqa: S701 - HCL, not HTML; no values are rendered into it
    )


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _tags(env: Environment, extra: Mapping[str, str]) -> dict[str, str]:
    return {**env.spec.tags, "Environment": env.name, "ManagedBy": "saasctl", **extra}


def _services(env: Environment, release: str | None, *, images: bool = True) -> list[Any]:
    """The services with the images of ``release`` (None: env.yaml's). Basic tenants'
    workspaces hold no image: their services are the pool's."""
    running = env.images(release) if images else {}
    out = []
    for svc in env.spec.services:
        data = svc.model_dump(mode="json", exclude={"image"})
        if images:
            data["image"] = running[svc.name]
        out.append(data)
    return out


def cell_name_prefix(env: Environment, cell: Cell) -> str:
    """Prefix of a cell's shared AWS names: the first cell keeps the environment's."""
    parts = ("saas", env.name) if cell.first else ("saas", env.name, cell.name)
    return aws_name(*parts, max_len=16)  # + "-pool-<service>" <= 32


def shared_inputs(
    env: Environment, cell: Cell, tenants: list[TenantSpec], pool: PoolSpec | None = None
) -> dict[str, Any]:
    s = env.spec
    pool = pool if pool is not None else env.load_pool(cell)
    network = cell.network
    tenant_configs = None  # the cell's basic tenants' values, of the pool's config version
    if pool.config_version is not None:
        config = env.load_config(pool.config_version)
        tenant_configs = {
            "version": config.version,
            "prefix": configs.pool_prefix(env, cell),
            "documents": {t.id: configs.document(config, t.id, Tier.BASIC)
                          for t in tenants if t.tier == Tier.BASIC},
        }  # fmt: skip
    return {
        "name": cell_name_prefix(env, cell),
        "region": cell.spec.region,
        "account_id": cell.spec.account_id,
        "domain": s.domain,
        "vpc_cidr": network.vpc_cidr,
        "azs": list(network.azs),
        "single_nat_gateway": network.single_nat_gateway,
        "certificate_arn": s.certificate_arn,
        "allowed_cidrs": list(s.allowed_cidrs),
        "services": _services(env, pool.release),
        "pool": s.tiers[Tier.BASIC].model_dump(
            mode="json",
            exclude={
                "waf_rate_limit",
                "deployment_strategy",
                "deployment_bake_minutes",
                "identity",
            },
        ),
        # One WAF rate rule per tier, counting per host: the dedicated tiers list their
        # tenants' hosts, the pool covers every other host (a basic onboard changes
        # nothing here).
        "tier_rate_limits": {
            tier.value: {
                "limit": s.tiers[tier].waf_rate_limit,
                "hosts": []
                if tier == Tier.BASIC
                else sorted(f"{t.id}.{s.domain}" for t in tenants if t.tier == tier),
                "pool": tier == Tier.BASIC,
            }
            for tier in Tier
        },
        "ip_rate_limit": s.waf_ip_rate_limit or max(d.waf_rate_limit for d in s.tiers.values()),
        # Suspended tenants' hosts: the web ACL answers them 503 with a short page.
        "suspended_hosts": sorted(f"{t.id}.{s.domain}" for t in tenants if t.suspended),
        "tags": _tags(env, {}),
        # Basic tenants' data is pooled: the pool's services serve every one of them.
        "pool_tables": s.tables(),
        "shared_user_pool": any(s.identity(t) == "shared" for t in Tier),
        "tenant_configs": tenant_configs,
    }


def tenant_name_prefix(env: Environment, tenant_id: str) -> str:
    """Prefix of a tenant's AWS names (its tables: <prefix>-<table>)."""
    return aws_name(env.name, tenant_id, max_len=21)  # + "-<service>" <= 32


def tenant_inputs(env: Environment, spec: TenantSpec) -> dict[str, Any]:
    s = env.spec
    check_fits(s.listener_priorities, spec.listener_priority, len(s.services))
    defaults = s.tiers[spec.tier].model_dump(mode="json")
    overrides = spec.overrides.model_dump(mode="json", exclude_none=True)
    sizing = {**defaults, **overrides}
    if not sizing["min_capacity"] <= sizing["desired_count"] <= sizing["max_capacity"]:
        raise UserError(
            f"tenant {spec.id!r}: overrides give desired_count {sizing['desired_count']} outside "
            f"min_capacity {sizing['min_capacity']}..max_capacity {sizing['max_capacity']}"
        )
    if spec.suspended:  # nothing scales a suspended tenant's services up, a release neither
        sizing.update(desired_count=0, min_capacity=0, max_capacity=0)
    values: dict[str, Any] = {
        "tenant_id": spec.id,
        "name_prefix": tenant_name_prefix(env, spec.id),
        "host": f"{spec.id}.{s.domain}",
        "listener_priority": spec.listener_priority,
        "services": _services(env, spec.release, images=spec.tier != Tier.BASIC),
        "tags": _tags(env, {**spec.tags, "Tenant": spec.id, "Tier": spec.tier.value}),
        **{k: sizing[k] for k in _SIZING},
        "identity": s.identity(spec.tier),
        "deletion_protection": spec.deletion_protection and spec.offboarding is None,
        "tables": s.tables(),
        "config": None
        if spec.config_version is None
        else {
            "version": spec.config_version,
            "parameter": configs.parameter_name(env, spec),
            "document": configs.document(env.load_config(spec.config_version), spec.id, spec.tier),
        },
    }
    return {k: values[k] for k in TENANT_INPUTS[spec.tier]}


def _relative(from_dir: Path, to: Path) -> str:
    return Path(os.path.relpath(to, from_dir)).as_posix()


def _finish(main_tf: str, backend: dict[str, Any], tfvars: dict[str, Any]) -> dict[str, str]:
    files = {
        "main.tf": main_tf,
        "backend.tf.json": _json({"terraform": {"backend": {"s3": backend}}}),
    }
    digest = hashlib.sha256()
    compact = json.dumps(tfvars, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for name, text in (*sorted(files.items()), ("terraform.tfvars.json", compact)):
        digest.update(name.encode() + b"\0" + text.encode() + b"\0")
    files["terraform.tfvars.json"] = _json({**tfvars, "saasctl_config_digest": digest.hexdigest()})
    return files


def _render_template(env: Environment, template: str, **context: Any) -> str:
    real = module_set(env) == "real"
    key = (env.project.templates, template, real, tuple(sorted(context.items())))
    return _render_cached(*key)


@functools.lru_cache(maxsize=256)
def _render_cached(
    templates: Path, template: str, real: bool, context: tuple[tuple[str, Any], ...]
) -> str:
    """Templates see only structure (module source, input names), never a tenant's values,
    so every tenant of a tier shares one rendered main.tf."""
    import jinja2

    try:
        jinja = _env(templates)
        return jinja.get_template(template).render(
            template=template, aws_provider=real, **dict(context)
        )
    except jinja2.TemplateNotFound as exc:
        raise SaasctlError(f"template {exc.name} not found under templates/") from None
    except jinja2.TemplateError as exc:
        where = getattr(exc, "filename", None) or template
        raise SaasctlError(f"templates/{where}: {exc}") from None


def render_shared(
    env: Environment, cell: Cell, tenants: list[TenantSpec], pool: PoolSpec | None = None
) -> dict[str, str]:
    """A cell's shared workspace, for the tenants placed into it."""
    workdir = cell.dir
    main_tf = _render_template(
        env,
        "shared/main.tf.j2",
        module_source=_relative(workdir, module_dir(env, "shared-stack")),
        inputs=SHARED_INPUTS,
        outputs=SHARED_OUTPUTS,
    )
    inputs = shared_inputs(env, cell, tenants, pool)
    return _finish(main_tf, static_backend(env, cell.state_key), inputs)


def render_tenant(env: Environment, spec: TenantSpec) -> dict[str, str]:
    workdir = env.tenant_dir(spec.id)
    main_tf = _render_template(
        env,
        f"tenant/{spec.tier.value}.tf.j2",
        module_source=_relative(workdir, module_dir(env, f"tenant-{spec.tier.value}")),
        inputs=TENANT_INPUTS[spec.tier],
    )
    return _finish(
        main_tf, static_backend(env, env.tenant_state_key(spec.id)), tenant_inputs(env, spec)
    )


def stale_files(workdir: Path, files: Mapping[str, str]) -> list[str]:
    stale = []
    for name, text in sorted(files.items()):
        path = workdir / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(name)
    return stale


def write_workspace(workdir: Path, files: Mapping[str, str]) -> list[str]:
    """Write what changed (each file atomically); returns the names written.

    Everything is rendered in memory before the first write, so a template or
    spec error never leaves a half-rendered workspace.
    """
    changed = stale_files(workdir, files)
    for name in changed:
        atomic_write(workdir / name, files[name])
    return changed


def config_digest(files: Mapping[str, str]) -> str:
    return str(json.loads(files["terraform.tfvars.json"])["saasctl_config_digest"])

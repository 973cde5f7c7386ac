"""Per-tenant configuration and feature flags, changed only through rollouts.

env.yaml's ``config:`` declares the settings (typed, with defaults and bounds) and
each tier's defaults; a tenant's spec may set its own values. None of that reaches
a service directly: ``saasctl config create VERSION`` freezes all of it into
``configs/VERSION.yaml``, and ``saasctl config rollout VERSION`` moves the units to
it in the release waves, behind the same health gates, halt and rollback.

A unit's services read their tenant's effective values (setting default, then the
tier's, then the tenant's own) as one JSON document in an SSM parameter, named in
their environment with the version (``SAASCTL_CONFIG_PARAMETER`` or, pooled,
``SAASCTL_CONFIG_PREFIX``, and ``SAASCTL_CONFIG_VERSION``): a new version is a new
task definition, so ECS deploys it and the health gate watches it."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from saasctl.errors import ConflictError, SpecError, UserError
from saasctl.specs import CONFIG_DOCUMENT_BYTES, ConfigSchema, ConfigSpec, TenantSpec, Tier

if TYPE_CHECKING:
    from saasctl.project import Cell, Environment


def effective(schema: ConfigSchema, tier: Tier, own: dict[str, Any]) -> dict[str, tuple[Any, str]]:
    """Each setting's value and where it comes from: default, tier or tenant."""
    out: dict[str, tuple[Any, str]] = {}
    tier_values = schema.tiers.get(tier, {})
    for name, key in sorted(schema.keys.items()):
        if name in own:
            out[name] = (own[name], "tenant")
        elif name in tier_values:
            out[name] = (tier_values[name], f"tier {tier.value}")
        else:
            out[name] = (key.default, "default")
    return out


def document(config: ConfigSpec, tenant_id: str, tier: Tier) -> str:
    """The JSON a tenant's services read: its version's effective values."""
    values = effective(config.schema_, tier, config.tenants.get(tenant_id, {}))
    text = json.dumps(
        {"version": config.version, "values": {k: v for k, (v, _) in values.items()}},
        sort_keys=True, separators=(",", ":"), ensure_ascii=False,
    )  # fmt: skip
    if len(text.encode()) > CONFIG_DOCUMENT_BYTES:
        raise SpecError(
            f"config {config.version}: {tenant_id}'s values take {len(text.encode())} bytes; "
            f"an SSM standard parameter holds {CONFIG_DOCUMENT_BYTES}",
            hint="shorten string settings (max_length) or split them",
        )
    return text


def parameter_prefix(env: Environment) -> str:
    """Where dedicated tenants' parameters live: /saasctl/<env>/tenants/<id>/config."""
    return f"/saasctl/{env.name}/tenants/"


def pool_prefix(env: Environment, cell: Cell) -> str:
    """Where a cell's pool keeps its basic tenants' parameters (apart from the
    dedicated ones: a tier move creates the one while it destroys the other)."""
    return f"/saasctl/{env.name}/pools/{cell.name}/"


def parameter_name(env: Environment, spec: TenantSpec) -> str:
    """The SSM parameter a tenant's services read its configuration from."""
    if spec.tier is Tier.BASIC:
        return f"{pool_prefix(env, env.cell_of(spec))}{spec.id}/config"
    return f"{parameter_prefix(env)}{spec.id}/config"


def create(env: Environment, version: str, notes: str) -> ConfigSpec:
    """Freeze the settings, tier defaults and every tenant's values into a new
    version (written by the caller); an existing version is never changed."""
    path = env.config_file(version)
    if path.is_file():
        raise ConflictError(
            f"config version {version!r} exists in {env.name!r}: versions are immutable",
            hint="create a new version for a change",
        )
    if not env.spec.config.keys:
        raise UserError(
            f"env.yaml of {env.name!r} declares no settings (`config: keys:`): nothing to version"
        )
    tenants = {t.id: dict(t.config) for t in env.load_tenants() if t.config}
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return ConfigSpec(version=version, notes=notes, created=created,
                      schema_=env.spec.config, tenants=tenants)  # fmt: skip


def parse_assignments(schema: ConfigSchema, pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE from the command line, each VALUE read as its setting's type."""
    out: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep:
            raise UserError(f"{pair!r}: give KEY=VALUE, e.g. new_checkout=true")
        key = schema.keys.get(name)
        if key is None:
            known = ", ".join(sorted(schema.keys)) or "none"
            raise UserError(f"{name!r} is not a setting of env.yaml's config (settings: {known})")
        value: Any = text
        if key.type == "bool":
            words = {"true": True, "false": False}
            if text.lower() not in words:
                raise UserError(f"{name}: {text!r} is not true or false")
            value = words[text.lower()]
        elif key.type == "int":
            try:
                value = int(text)
            except ValueError:
                raise UserError(f"{name}: {text!r} is not a whole number") from None
        try:
            out[name] = key.check(value, name)
        except ValueError as exc:
            raise UserError(str(exc)) from None
    return out


def unit_version(env: Environment, spec: TenantSpec) -> str | None:
    """The config version a tenant's services run: its own, or its pool's."""
    if spec.tier is Tier.BASIC:
        return env.load_pool(env.cell_of(spec)).config_version
    return spec.config_version


def show(env: Environment, spec: TenantSpec) -> dict[str, Any]:
    """What `tenant config show` prints: the values the tenant's services run, where
    each comes from, and what the next config version would change."""
    version = unit_version(env, spec)
    running: dict[str, tuple[Any, str]] = {}
    if version is not None:
        config = env.load_config(version)
        running = effective(config.schema_, spec.tier, config.tenants.get(spec.id, {}))
    desired = effective(env.spec.config, spec.tier, spec.config)
    rows = []
    for name in sorted(set(running) | set(desired)):
        now, then = running.get(name), desired.get(name)
        rows.append({
            "key": name,
            "value": now[0] if now else None,
            "source": now[1] if now else None,
            "pending": None if then is None or then == now else {"value": then[0],
                                                                 "source": then[1]},
            "type": env.spec.config.keys[name].type if name in env.spec.config.keys else None,
        })  # fmt: skip
    return {"tenant": spec.id, "tier": spec.tier.value, "config_version": version,
            "parameter": parameter_name(env, spec) if version else None,
            "settings": rows}  # fmt: skip

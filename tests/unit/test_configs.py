"""Per-tenant configuration: settings checked by meaning, effective values and their
sources, the document a tenant's services read, versions frozen and immutable, and
the rendered workspace inputs (nothing delivered before a version is rolled out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from saasctl import configs, render
from saasctl.errors import ConflictError, SpecError, UserError
from saasctl.project import Project
from saasctl.specs import ConfigKey, ConfigSchema, ConfigSpec, PoolSpec, TenantSpec, Tier

SCHEMA = ConfigSchema.model_validate({
    "keys": {
        "new_checkout": {"type": "bool", "default": False},
        "max_upload_mb": {"type": "int", "default": 10, "min": 1, "max": 1000},
        "support": {"type": "string", "default": "standard", "choices": ["standard", "priority"]},
    },
    "tiers": {"premium": {"max_upload_mb": 100, "support": "priority"}},
})  # fmt: skip


def test_effective_values_come_from_the_tenant_then_the_tier_then_the_default() -> None:
    got = configs.effective(SCHEMA, Tier.PREMIUM, {"new_checkout": True, "max_upload_mb": 5})
    assert got == {"max_upload_mb": (5, "tenant"), "new_checkout": (True, "tenant"),
                   "support": ("priority", "tier premium")}  # fmt: skip
    assert configs.effective(SCHEMA, Tier.BASIC, {})["max_upload_mb"] == (10, "default")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ({"type": "bool", "default": False}, 1, "1 is not true or false"),
        ({"type": "int", "default": 1}, True, "True is not a whole number"),  # bool is no int
        ({"type": "int", "default": 1, "max": 5}, 6, "6 is above the maximum 5"),
        ({"type": "int", "default": 1, "min": 1}, 0, "0 is below the minimum 1"),
        ({"type": "string", "default": "a"}, 7, "7 is not text"),
        ({"type": "string", "default": "a", "max_length": 3}, "abcd", "longer than 3"),
        ({"type": "string", "default": "a"}, "a\nb", "control characters"),
        ({"type": "string", "default": "a", "choices": ["a", "b"]}, "c", "'c' is not one of a, b"),
    ],
)
def test_values_are_checked_by_meaning(key: dict[str, Any], value: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConfigKey.model_validate(key).check(value, "x")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"keys": {"Bad-Name": {"type": "bool", "default": True}}}, "lower-case letters"),
        ({"keys": {"n": {"type": "int", "default": 50, "max": 10}}}, "above the maximum"),
        ({"keys": {"n": {"type": "bool", "default": True, "min": 1}}}, "only for int"),
        ({"keys": {"n": {"type": "int", "default": 1}}, "tiers": {"premium": {"m": 2}}},
         "tiers.premium: unknown setting 'm'"),
        ({"keys": {"n": {"type": "int", "default": 1}}, "tiers": {"premium": {"n": "2"}}},
         "'2' is not a whole number"),
    ],
)  # fmt: skip
def test_bad_settings_in_env_yaml_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ConfigSchema.model_validate(data)


def test_command_line_values_are_read_as_their_setting_type() -> None:
    got = configs.parse_assignments(SCHEMA, ["new_checkout=TRUE", "max_upload_mb=50",
                                             "support=priority"])  # fmt: skip
    assert got == {"new_checkout": True, "max_upload_mb": 50, "support": "priority"}
    for pair, message in [("new_checkout", "give KEY=VALUE"), ("nope=1", "'nope' is not"),
                          ("max_upload_mb=ten", "not a whole number"),
                          ("max_upload_mb=5000", "above the maximum 1000")]:  # fmt: skip
        with pytest.raises(UserError, match=message):
            configs.parse_assignments(SCHEMA, [pair])


def test_a_document_holds_the_version_and_fits_a_parameter() -> None:
    config = ConfigSpec(version="c1", schema_=SCHEMA, tenants={"hooli": {"new_checkout": True}})
    doc = json.loads(configs.document(config, "hooli", Tier.ADVANCED))
    assert doc == {"version": "c1", "values": {"max_upload_mb": 10, "new_checkout": True,
                                               "support": "standard"}}  # fmt: skip
    big = ConfigSchema.model_validate(
        {
            "keys": {
                f"k{i}": {"type": "string", "default": "x" * 2000, "max_length": 2000}
                for i in range(3)
            }
        }
    )
    with pytest.raises(SpecError, match="an SSM standard parameter holds 4096"):
        configs.document(ConfigSpec(version="c2", schema_=big), "hooli", Tier.ADVANCED)
    with pytest.raises(ValueError, match=r"tenants\.hooli: unknown setting 'nope'"):
        ConfigSpec(version="c3", schema_=SCHEMA, tenants={"hooli": {"nope": 1}})


@pytest.fixture
def env(project: Path) -> Any:
    return Project(project).load_env("local")


def spec_of(env: Any, tenant: str, tier: str, extra: str = "") -> TenantSpec:
    path = env.tenant_file(tenant)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"id: {tenant}\ntier: {tier}\nlistener_priority: {100 + len(tenant)}\n{extra}")
    spec: TenantSpec = env.load_tenant(tenant)
    return spec


def test_a_version_freezes_every_tenants_values_and_is_never_rewritten(env: Any) -> None:
    spec_of(env, "hooli", "advanced", "config: {max_upload_mb: 50}\n")
    spec_of(env, "acme", "basic")
    config = configs.create(env, "c1", "first")
    assert config.tenants == {"hooli": {"max_upload_mb": 50}}
    assert config.schema_ == env.spec.config
    env.config_file("c1").parent.mkdir(parents=True, exist_ok=True)
    env.config_file("c1").write_text(config.to_yaml())
    assert env.load_config("c1") == config  # read back as written
    with pytest.raises(ConflictError, match="versions are immutable"):
        configs.create(env, "c1", "again")
    with pytest.raises(SpecError, match=r"config\.max_upload_mb: 'lots' is not a whole"):
        spec_of(env, "hooli", "advanced", "config: {max_upload_mb: lots}\n")


def test_nothing_is_delivered_before_a_version_and_each_unit_gets_its_own(env: Any) -> None:
    hooli = spec_of(env, "hooli", "advanced", "config: {new_checkout: true}\n")
    acme = spec_of(env, "acme", "basic")
    assert render.tenant_inputs(env, hooli)["config"] is None
    cell = env.first_cell
    assert render.shared_inputs(env, cell, [acme, hooli])["tenant_configs"] is None
    path = env.config_file("c1")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(configs.create(env, "c1", "").to_yaml())
    moved = render.tenant_inputs(env, hooli.model_copy(update={"config_version": "c1"}))["config"]
    assert moved["parameter"] == "/saasctl/local/tenants/hooli/config"
    assert json.loads(moved["document"])["values"]["new_checkout"] is True
    pool = render.shared_inputs(env, cell, [acme, hooli], PoolSpec(config_version="c1"))
    assert pool["tenant_configs"]["prefix"] == "/saasctl/local/pools/main/"
    assert set(pool["tenant_configs"]["documents"]) == {"acme"}  # basic tenants only
    shown = configs.show(env, hooli.model_copy(update={"config_version": "c1"}))
    assert {r["key"]: (r["value"], r["source"]) for r in shown["settings"]}["new_checkout"] == (
        True, "tenant")  # fmt: skip

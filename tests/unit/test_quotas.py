"""The quota model: every quota counted from plan JSON and gated one under, exactly
at and one over its limit; recorded values that AWS would not grant refused; the
real modules' plans counted as AWS would count them."""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from saasctl import quotas
from saasctl.errors import UserError
from saasctl.quotas import Limits, QuotaError, Where

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "plans"
WHERE = Where("shared", "main", "123456789012", "us-east-1")
Resources = list[tuple[str, str, dict[str, Any]]]  # (address, type, values)


def plan_of(resources: Resources) -> dict[str, Any]:
    """A plan JSON whose planned values hold these resources (module paths kept)."""
    root: dict[str, Any] = {"resources": [], "child_modules": []}  # one level is enough
    for address, rtype, values in resources:
        module = address.rsplit(".", 2)[0] if address.startswith("module.") else ""
        holder = root
        if module:
            holder = next((m for m in root["child_modules"] if m["address"] == module), None) or {
                "address": module, "resources": []}  # fmt: skip
            if holder not in root["child_modules"]:
                root["child_modules"].append(holder)
        name = address.rsplit(".", 1)[1]
        holder["resources"].append(
            {"address": address, "mode": "managed", "type": rtype, "name": name, "values": values}
        )
    return {"planned_values": {"root_module": root}}


def many(rtype: str, n: int, values: dict[str, Any] | None = None) -> Resources:
    return [(f"{rtype}.r{i}", rtype, dict(values or {})) for i in range(n)]


def rate_rule(i: int) -> dict[str, Any]:
    statement = {"rate_based_statement": [{"limit": 1000, "aggregate_key_type": "IP"}]}
    return {"name": f"rate-{i}", "priority": i, "statement": [statement]}


def service(n_tasks: int, *, shifting: bool = False, cpu: int = 1024) -> Resources:
    m = 'module.svc["web"]'
    strategy = "BLUE_GREEN" if shifting else "ROLLING"
    return [
        (f"{m}.aws_ecs_service.this", "aws_ecs_service", {
            "cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/c1", "desired_count": 1,
            "load_balancer": [{"container_port": 80}],
            "capacity_provider_strategy": [{"capacity_provider": "FARGATE", "weight": 1}],
            "deployment_configuration": [{"strategy": strategy}]}),
        (f"{m}.aws_appautoscaling_target.this", "aws_appautoscaling_target",
         {"max_capacity": n_tasks, "service_namespace": "ecs"}),
        (f"{m}.aws_ecs_task_definition.this", "aws_ecs_task_definition", {"cpu": str(cpu)}),
    ]  # fmt: skip


# How to make n units of each quota's consumption, in one scope.
MAKERS: dict[str, Callable[[int], Resources]] = {
    "waf_rate_rules": lambda n: [("module.waf.aws_wafv2_web_acl.this", "aws_wafv2_web_acl",
                                  {"rule": [rate_rule(i) for i in range(n)], "capacity": 1})],
    "waf_wcu": lambda n: [("aws_wafv2_web_acl.this", "aws_wafv2_web_acl",
                           {"rule": [], "capacity": n})],
    "alb_rules": lambda n: many("aws_lb_listener_rule", n),
    "alb_target_groups": lambda n: many("aws_lb_target_group", n),
    "alb_targets": lambda n: service(n),
    "cloudmap_namespaces": lambda n: many("aws_service_discovery_http_namespace", n),
    "cognito_user_pools": lambda n: many("aws_cognito_user_pool", n),
    "cognito_groups": lambda n: many("aws_cognito_user_group", n, {"user_pool_id": "p1"}),
    "cognito_identity_pools": lambda n: many("aws_cognito_identity_pool", n),
    "log_groups": lambda n: many("aws_cloudwatch_log_group", n),
    "ssm_parameters": lambda n: many("aws_ssm_parameter", n),
    "vpc_interface_endpoints": lambda n: many("aws_vpc_endpoint", n,
                                              {"vpc_endpoint_type": "Interface"}),
    "dynamodb_tables": lambda n: many("aws_dynamodb_table", n),
    "iam_roles": lambda n: many("aws_iam_role", n),
    "security_groups": lambda n: many("aws_security_group", n),
    "ecs_services": lambda n: many("aws_ecs_service", n, {"cluster": "arn:aws:ecs:x:1:cluster/c1"}),
    "scalable_targets": lambda n: many("aws_appautoscaling_target", n),
    "fargate_vcpu": lambda n: service(n),
}  # fmt: skip


def test_every_quota_has_a_maker() -> None:
    assert set(MAKERS) == set(quotas.BY_KEY)


def test_gateway_endpoints_are_not_interface_endpoints() -> None:
    """The 50 per VPC are interface endpoints; S3 and DynamoDB gateways are apart."""
    gateways = many("aws_vpc_endpoint", 2, {"vpc_endpoint_type": "Gateway"})
    usage = quotas.count(quotas.from_plan(plan_of(gateways)), WHERE)
    assert sum((usage.get("vpc_interface_endpoints") or {}).values()) == 0


@pytest.mark.parametrize("key", sorted(quotas.BY_KEY))
@pytest.mark.parametrize(("n", "refused"), [(4, False), (5, False), (6, True)])
def test_the_gate_one_under_at_and_over(key: str, n: int, refused: bool) -> None:
    usage = quotas.count(quotas.from_plan(plan_of(MAKERS[key](n))), WHERE)
    assert sum((usage.get(key) or {}).values()) == n, usage
    limits = Limits.of({key: 5})  # small enough to build cheaply; the rest at AWS's
    if not refused:
        quotas.gate(usage, limits, where="cell main", remedy="add a cell")
        return
    quota = quotas.BY_KEY[key]
    with pytest.raises(QuotaError) as exc:
        quotas.gate(usage, limits, where="cell main", remedy="add a cell")
    line = exc.value.one_line()
    assert line.startswith(f"quota: {quota.name}: 6 after this plan in ")
    assert "(cell main), limit 5 (" in line and quota.source in line
    assert ("request an increase" in line) == quota.adjustable
    assert "add a cell" in line


def test_the_defaults_are_awss() -> None:
    limits = Limits.of()
    expected = {"waf_rate_rules": 10, "waf_wcu": 5000, "alb_rules": 100, "alb_target_groups": 100,
                "alb_targets": 1000, "cloudmap_namespaces": 50, "cognito_user_pools": 1000,
                "cognito_groups": 10000, "cognito_identity_pools": 1000,
                "log_groups": 1000000, "vpc_interface_endpoints": 50,
                "dynamodb_tables": 2500, "iam_roles": 1000,
                "security_groups": 2500, "ecs_services": 5000, "scalable_targets": 3000,
                "ssm_parameters": 10000, "fargate_vcpu": None}  # fmt: skip
    assert {q.key: limits[q.key] for q in quotas.QUOTAS} == expected
    fixed = {q.key for q in quotas.QUOTAS if not q.adjustable}
    assert fixed == {"waf_rate_rules", "waf_wcu", "alb_target_groups", "cognito_groups",
                     "ecs_services", "ssm_parameters"}  # fmt: skip
    assert all(q.source.startswith("https://docs.aws.amazon.com/") for q in quotas.QUOTAS)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"waf_rate_rules": 11}, "is a fixed quota of 10; AWS grants no increase"),
        ({"alb_target_groups": 101}, "is a fixed quota of 100"),
        ({"iam_roles": 5001}, "can be raised to 5000 at most"),
        ({"alb_rule": 200}, "unknown quota 'alb_rule'"),
        ({"alb_rules": -1}, "must be a whole number >= 0"),
        ({"alb_rules": True}, "must be a whole number >= 0"),
    ],
)
def test_recorded_values_aws_would_not_grant_are_refused(
    values: dict[str, Any], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        quotas.check_overrides(values, "env.yaml: quotas")


def test_a_fixed_quota_may_be_lowered_and_an_adjustable_one_raised() -> None:
    values = {"waf_rate_rules": 3, "alb_rules": 200, "iam_roles": 5000, "fargate_vcpu": 6}
    assert quotas.check_overrides(values, "x") == values
    limits = Limits.of({"alb_rules": 200}, {"alb_rules": 150})  # the cell's over the env's
    assert limits["alb_rules"] == 150


def test_only_what_a_plan_adds_beyond_the_limit_is_counted_per_scope() -> None:
    # Rules on two load balancers (two cells) are two scopes: 60 + 60 passes 100.
    one = quotas.count(quotas.from_plan(plan_of(many("aws_lb_listener_rule", 60))), WHERE)
    other = quotas.count(
        quotas.from_plan(plan_of(many("aws_lb_listener_rule", 60))),
        Where("shared@c2", "c2", "123456789012", "us-east-1"),
    )
    quotas.gate(quotas.add(one, other), Limits.of(), where="x", remedy="y")
    with pytest.raises(QuotaError, match="120 after this plan in cell main"):
        quotas.gate(quotas.add(one, one), Limits.of(), where="x", remedy="y")


def test_peaks_count_twice_for_traffic_shifting_deployments() -> None:
    rolling = quotas.count(quotas.from_plan(plan_of(service(4))), WHERE)
    shifting = quotas.count(quotas.from_plan(plan_of(service(4, shifting=True))), WHERE)
    assert rolling["alb_targets"] == {"cell main": 4}
    assert shifting["alb_targets"] == {"cell main": 8}
    quarter = quotas.count(quotas.from_plan(plan_of(service(6, cpu=256))), WHERE)
    assert quarter["fargate_vcpu"] == {"123456789012/us-east-1": 2}  # 1.5 vCPUs, rounded up


def test_a_web_acl_stored_as_one_dynamic_value_is_counted_too() -> None:
    # The offline provider keeps `rule` as {"value": [...], "type": ...} in state.
    rules = [rate_rule(i) for i in range(3)]
    dynamic = {"rule": {"value": rules, "type": ["list", ["object", {}]]}, "capacity": 0}
    assert quotas.acl_counts(dynamic) == (3, 6)  # 2 WCUs a plain rate-based rule


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(gzip.decompress((FIXTURES / name).read_bytes()))
    return data


def test_the_real_modules_are_counted_from_their_plans() -> None:
    """Plans of the real modules (tests/fixtures/plans, recorded through the offline
    provider with the local environment's two services): what each tier consumes."""
    use = {
        name: quotas.count(quotas.from_plan(fixture(f"{name}.plan.json.gz")),
                           Where(name, "main", "123456789012", "us-east-1"))
        for name in ("shared", "basic", "advanced", "premium")
    }  # fmt: skip

    def total(name: str, key: str) -> int:
        return sum((use[name].get(key) or {}).values())

    # a basic tenant: its two host rules on the cell's load balancer and a group
    assert set(use["basic"]) == {"alb_rules", "cognito_groups"}
    assert total("basic", "alb_rules") == 2 and total("basic", "cognito_groups") == 1
    for tier in ("advanced", "premium"):  # two services, traffic-shifting deployments
        assert total(tier, "alb_rules") == 2
        assert total(tier, "alb_target_groups") == 4  # a primary and an alternate each
        assert total(tier, "cloudmap_namespaces") == 1
        assert total(tier, "cognito_user_pools") == 1
        assert total(tier, "dynamodb_tables") == 1
        assert total(tier, "iam_roles") == 7
        assert total(tier, "scalable_targets") == 2
    # the shared stack with no tenant: the five managed rule groups' 1,175 WCUs, the
    # pool's rate rule and the per-IP one; a probe rule and target group per service
    assert total("shared", "waf_wcu") > 1175 and total("shared", "waf_rate_rules") == 2
    assert total("shared", "alb_rules") == 2 and total("shared", "alb_target_groups") == 2
    # and as its state holds it after a tenant of each tier: one rule per tier and
    # the per-IP one (the offline provider stores the rules as one dynamic value)
    state = fixture("shared.state.json.gz")
    after = quotas.count(quotas.from_state(state), WHERE)
    assert sum(after["waf_rate_rules"].values()) == 4
    assert quotas.WCU_BASE_PRICE > sum(after["waf_wcu"].values()) > total("shared", "waf_wcu")

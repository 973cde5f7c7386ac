"""AWS quotas that saasctl's resources consume: the one table of them, how each is
counted, and the gate that refuses a plan before AWS would refuse its apply.

Consumption is counted from what terraform plans or holds, never from numbers
per tier: a plan's ``planned_values`` (everything the workspace will hold after
the apply) or a state's resources, by resource type, nested WAF rules and
maximum task counts. A module change is therefore counted without anyone
remembering to. Stand-in modules' null resources count as the AWS type they
declare in ``triggers.stands_for`` (with the counts the real resource's nested
blocks would give, e.g. ``rate_based_rules``).

Limits: the defaults below, raised where an account was granted more
(``quotas:`` in env.yaml, or of a cell in cells.yaml) and never above a fixed
quota's value or an adjustable one's ceiling; a value may be lowered, to keep
a cell smaller than AWS allows.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from saasctl.errors import SaasctlError, UserError


class Scope(str, Enum):
    WEB_ACL = "web ACL"
    ALB = "load balancer"
    CLUSTER = "ECS cluster"
    USER_POOL = "user pool"
    VPC = "VPC"
    REGION = "account and Region"
    ACCOUNT = "account"


@dataclass(frozen=True)
class Quota:
    key: str
    name: str
    default: int | None  # None: account-specific, must be recorded in env.yaml
    adjustable: bool
    scope: Scope
    source: str
    ceiling: int | None = None  # the most AWS grants for an adjustable quota
    note: str = ""

    def describe_limit(self, limit: int) -> str:
        if not self.adjustable:
            return f"{limit} (fixed)"
        return f"{limit} (adjustable)" if limit == self.default else f"{limit} (recorded)"


_WAF = "https://docs.aws.amazon.com/waf/latest/developerguide/limits.html"
_ALB = (
    "https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-limits.html"
)
_ECS = "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-quotas.html"

# The one table of quotas (README and docs/concepts/cells.md show it; `saasctl
# cell show` reports use of each). Values as AWS documents them by default.
QUOTAS: tuple[Quota, ...] = (
    Quota("waf_rate_rules", "WAF rate-based rules per web ACL", 10, False, Scope.WEB_ACL, _WAF),
    Quota("waf_wcu", "WAF capacity units (WCUs) per web ACL", 5000, False, Scope.WEB_ACL, _WAF,
          note="above 1,500 WCUs each request costs extra"),
    Quota("alb_rules", "Rules per Application Load Balancer (default rules apart)", 100, True,
          Scope.ALB, _ALB),
    Quota("alb_target_groups", "Target groups per Application Load Balancer", 100, False,
          Scope.ALB, _ALB),
    Quota("alb_targets", "Targets per Application Load Balancer", 1000, True, Scope.ALB, _ALB,
          note="counted at every service's maximum task count, twice for traffic-shifting "
               "deployments (both target groups hold tasks while one runs)"),
    Quota("cloudmap_namespaces", "Cloud Map namespaces per Region", 50, True, Scope.REGION,
          "https://docs.aws.amazon.com/cloud-map/latest/dg/cloud-map-limits.html"),
    Quota("cognito_user_pools", "Cognito user pools per Region", 1000, True, Scope.REGION,
          "https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html"),
    Quota("cognito_groups", "Cognito groups per user pool", 10000, False, Scope.USER_POOL,
          "https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html"),
    Quota("cognito_identity_pools", "Cognito identity pools per Region", 1000, True,
          Scope.REGION, "https://docs.aws.amazon.com/cognito/latest/developerguide/quotas.html",
          note="one per pooled service with tenant data, in each cell"),
    Quota("log_groups", "CloudWatch Logs log groups per Region", 1000000, True, Scope.REGION,
          "https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html",
          note="one per tenant; an advanced or premium one kept after offboarding, out of state"),
    Quota("vpc_interface_endpoints", "Interface VPC endpoints per VPC", 50, True, Scope.VPC,
          "https://docs.aws.amazon.com/vpc/latest/privatelink/vpc-endpoints-limits.html"),
    Quota("dynamodb_tables", "DynamoDB tables per Region", 2500, True, Scope.REGION,
          "https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html"),
    Quota("iam_roles", "IAM roles per account", 1000, True, Scope.ACCOUNT,
          "https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html",
          ceiling=5000),
    Quota("security_groups", "VPC security groups per Region", 2500, True, Scope.REGION,
          "https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html",
          note="each VPC's default security group counts too"),
    Quota("ecs_services", "ECS services per cluster", 5000, False, Scope.CLUSTER, _ECS),
    Quota("scalable_targets", "Application Auto Scaling scalable targets per Region", 3000, True,
          Scope.REGION,
          "https://docs.aws.amazon.com/autoscaling/application/userguide/"
          "application-auto-scaling-limits.html"),
    Quota("ssm_parameters", "Systems Manager standard parameters per Region", 10000, False,
          Scope.REGION, "https://docs.aws.amazon.com/general/latest/gr/ssm.html",
          note="one per tenant with a config version (its configuration); the advanced tier "
               "holds 100,000 at a cost"),
    Quota("fargate_vcpu", "Fargate On-Demand vCPUs per Region", None, True, Scope.REGION, _ECS,
          note="account-specific (new accounts can have as few as 6): record it in env.yaml; "
               "counted at every service's maximum task count"),
)  # fmt: skip
BY_KEY = {q.key: q for q in QUOTAS}

# WCUs of the AWS managed rule groups the waf module uses (AWS's rule group pages).
MANAGED_GROUP_WCU = {
    "AWSManagedRulesAmazonIpReputationList": 25,
    "AWSManagedRulesAnonymousIpList": 50,
    "AWSManagedRulesCommonRuleSet": 700,
    "AWSManagedRulesKnownBadInputsRuleSet": 200,
    "AWSManagedRulesSQLiRuleSet": 200,
}
WCU_BASE_PRICE = 1500
# Deployment strategies that keep a second set of tasks while a deployment runs.
TRAFFIC_SHIFTING = ("BLUE_GREEN", "CANARY", "LINEAR")


class QuotaError(SaasctlError):
    """A plan would pass an AWS quota."""


# --- what a plan or a state holds ------------------------------------------------


@dataclass(frozen=True)
class Resource:
    """One resource instance as AWS would see it: its type (a stand-in's declared
    type), its values (a stand-in's triggers) and its module path."""

    type: str
    values: Mapping[str, Any]
    address: str

    @property
    def module(self) -> str:
        """The module instance the resource belongs to ('' at the root)."""
        head, _, _ = self.address.rpartition(".")  # drop the resource name
        head, _, _ = head.rpartition(".")  # and its type
        return head if head.startswith("module.") else ""


def _as_resource(rtype: str, values: Mapping[str, Any] | None, address: str) -> Resource:
    values = values or {}
    if rtype == "null_resource":
        triggers = values.get("triggers") or {}
        if isinstance(triggers, Mapping) and triggers.get("stands_for"):
            return Resource(str(triggers["stands_for"]), triggers, address)
    return Resource(rtype, values, address)


def from_plan(plan: Mapping[str, Any]) -> list[Resource]:
    """Every managed resource the workspace holds after this plan is applied."""
    out: list[Resource] = []

    def walk(module: Mapping[str, Any]) -> None:
        for r in module.get("resources") or []:
            if r.get("mode", "managed") == "managed":
                out.append(_as_resource(str(r["type"]), r.get("values"), str(r["address"])))
        for child in module.get("child_modules") or []:
            walk(child)

    walk((plan.get("planned_values") or {}).get("root_module") or {})
    return out


def from_state(state: Mapping[str, Any]) -> list[Resource]:
    """Every managed resource instance of a state (the JSON terraform stores)."""
    out: list[Resource] = []
    for r in state.get("resources") or []:
        if r.get("mode") != "managed":
            continue
        base = ".".join(p for p in (r.get("module"), f"{r['type']}.{r['name']}") if p)
        for inst in r.get("instances") or []:
            key = inst.get("index_key")
            suffix = "" if key is None else f"[{json.dumps(key)}]"
            out.append(_as_resource(str(r["type"]), inst.get("attributes"), base + suffix))
    return out


# --- counting ----------------------------------------------------------------------


@dataclass(frozen=True)
class Where:
    """Where a workspace's resources are: the cell (its ALB), account and Region."""

    workspace: str
    cell: str
    account: str
    region: str

    def scope_id(self, scope: Scope, of: str = "") -> str:
        if scope == Scope.ALB:
            return f"cell {self.cell}"
        if scope == Scope.REGION:
            return f"{self.account}/{self.region}"
        if scope == Scope.ACCOUNT:
            return self.account
        return of  # web ACL, cluster, user pool, VPC: named by the caller


Usage = dict[str, dict[str, int]]  # quota key -> scope id -> count


def _blocks(value: Any) -> list[Any]:
    """A nested block list as the real provider stores it, or as the offline provider
    stores a dynamically typed one: {"value": [...], "type": ...}."""
    if isinstance(value, Mapping) and "value" in value and "type" in value:
        value = value["value"]
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _first(value: Any) -> Mapping[str, Any]:
    blocks = _blocks(value)
    return blocks[0] if blocks and isinstance(blocks[0], Mapping) else {}


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return default


def _statement_wcu(statement: Mapping[str, Any], transforms: set[str]) -> int:
    """WCUs of one rule statement (AWS WAF developer guide, statement pages). Text
    transformations cost 10 each, counted once per web ACL (``transforms``)."""
    total = 0
    for kind, body in statement.items():
        for block in _blocks(body):
            if not isinstance(block, Mapping):
                continue
            if kind == "managed_rule_group_statement":
                total += MANAGED_GROUP_WCU.get(str(block.get("name")), 0)
            elif kind == "rate_based_statement":
                keys = _blocks(block.get("custom_key"))
                total += 2 + 30 * len(keys)
                for key in keys:
                    for part in key.values() if isinstance(key, Mapping) else ():
                        total += _transforms_wcu(_first(part), transforms)
                down = _first(block.get("scope_down_statement"))
                total += _statement_wcu(down, transforms)
            elif kind == "byte_match_statement":
                costly = ("CONTAINS", "CONTAINS_WORD")
                total += 10 if block.get("positional_constraint") in costly else 2
                total += _transforms_wcu(block, transforms)
            elif kind in ("and_statement", "or_statement"):
                for inner in _blocks(block.get("statement")):
                    total += _statement_wcu(inner, transforms)
            elif kind == "not_statement":
                total += _statement_wcu(_first(block.get("statement")), transforms)
            else:
                total += 1  # other statements: at least their base cost
    return total


def _transforms_wcu(block: Mapping[str, Any], seen: set[str]) -> int:
    field = json.dumps(block.get("field_to_match"), sort_keys=True, default=str)
    cost = 0
    for t in _blocks(block.get("text_transformation")):
        kind = str(t.get("type")) if isinstance(t, Mapping) else ""
        if kind and kind != "NONE" and f"{field}/{kind}" not in seen:
            seen.add(f"{field}/{kind}")
            cost += 10
    return cost


def acl_counts(values: Mapping[str, Any]) -> tuple[int, int]:
    """(rate-based rules, WCUs) of a web ACL's values. WCUs are AWS's own figure
    (``capacity``) once known, else estimated from the rules."""
    if "rate_based_rules" in values:  # a stand-in gives the counts
        return _int(values["rate_based_rules"]), _int(values.get("wcu"))
    rules = [r for r in _blocks(values.get("rule")) if isinstance(r, Mapping)]
    rate = sum(1 for r in rules if _first(r.get("statement")).get("rate_based_statement"))
    capacity = _int(values.get("capacity"))
    if capacity <= 0:
        seen: set[str] = set()
        capacity = sum(_statement_wcu(_first(r.get("statement")), seen) for r in rules)
    return rate, capacity


def _shifts_traffic(values: Mapping[str, Any]) -> bool:
    strategy = values.get("deployment_strategy") or _first(
        values.get("deployment_configuration")
    ).get("strategy")
    return str(strategy) in TRAFFIC_SHIFTING


def _on_fargate(values: Mapping[str, Any]) -> bool:
    if values.get("launch_type") == "FARGATE":
        return True
    providers = _blocks(values.get("capacity_provider_strategy"))
    return any(
        isinstance(p, Mapping) and p.get("capacity_provider") == "FARGATE" for p in providers
    )


def count(resources: Iterable[Resource], where: Where) -> Usage:
    """What ``resources`` consume of every quota, by scope."""
    usage: dict[str, Counter[str]] = {q.key: Counter() for q in QUOTAS}
    resources = list(resources)
    region, account = where.scope_id(Scope.REGION), where.scope_id(Scope.ACCOUNT)
    alb = where.scope_id(Scope.ALB)
    # ECS services' peak task counts: the scalable target of the same module, if any.
    maxima = {r.module: _int(r.values.get("max_capacity")) for r in resources
              if r.type == "aws_appautoscaling_target"}  # fmt: skip
    cpus = {r.module: _int(r.values.get("cpu")) for r in resources
            if r.type == "aws_ecs_task_definition"}  # fmt: skip
    cpu_units = 0  # Fargate CPU units (1,024 a vCPU) at every service's peak
    for r in resources:
        v = r.values
        if r.type == "aws_wafv2_web_acl":
            rate, wcu = acl_counts(v)
            acl = f"{where.workspace}: {r.address}"
            usage["waf_rate_rules"][acl] += rate
            usage["waf_wcu"][acl] += wcu
        elif r.type == "aws_lb_listener_rule":
            usage["alb_rules"][alb] += 1
        elif r.type == "aws_lb_target_group":
            usage["alb_target_groups"][alb] += 1
        elif r.type in ("aws_service_discovery_http_namespace",
                        "aws_service_discovery_private_dns_namespace",
                        "aws_service_discovery_public_dns_namespace"):  # fmt: skip
            usage["cloudmap_namespaces"][region] += 1
        elif r.type == "aws_cognito_user_pool":
            usage["cognito_user_pools"][region] += 1
        elif r.type == "aws_cognito_identity_pool":
            usage["cognito_identity_pools"][region] += 1
        elif r.type == "aws_cognito_user_group":
            pool = v.get("user_pool_id")
            scope = f"pool {pool}" if isinstance(pool, str) else f"{where.workspace}: user pool"
            usage["cognito_groups"][scope] += 1
        elif r.type == "aws_cloudwatch_log_group":
            usage["log_groups"][region] += 1
        elif r.type == "aws_vpc_endpoint":
            if v.get("vpc_endpoint_type") == "Interface":
                usage["vpc_interface_endpoints"][f"{where.workspace}: VPC"] += 1
        elif r.type == "aws_dynamodb_table":
            usage["dynamodb_tables"][region] += 1
        elif r.type == "aws_iam_role":
            usage["iam_roles"][account] += 1
        elif r.type == "aws_security_group":
            usage["security_groups"][region] += 1
        elif r.type == "aws_vpc":
            usage["security_groups"][region] += 1  # its default security group
        elif r.type == "aws_ssm_parameter":
            usage["ssm_parameters"][region] += 1
        elif r.type == "aws_appautoscaling_target":
            usage["scalable_targets"][region] += 1
        elif r.type == "aws_ecs_service":
            cluster = v.get("cluster")
            name = str(cluster).rsplit("/", 1)[-1] if isinstance(cluster, str) else "?"
            usage["ecs_services"][f"cluster {name} ({where.workspace})"] += 1
            peak = (
                maxima.get(r.module) or _int(v.get("max_capacity")) or _int(v.get("desired_count"))
            )
            peak *= 2 if _shifts_traffic(v) else 1
            if v.get("load_balancer") or v.get("stands_for"):
                usage["alb_targets"][alb] += peak
            if _on_fargate(v) or v.get("stands_for"):
                cpu_units += peak * (cpus.get(r.module) or _int(v.get("cpu")))
    if cpu_units:
        usage["fargate_vcpu"][region] += -(-cpu_units // 1024)  # whole vCPUs, rounded up
    return {key: dict(c) for key, c in usage.items() if c}


def add(*usages: Usage) -> Usage:
    total: dict[str, Counter[str]] = {}
    for usage in usages:
        for key, scopes in usage.items():
            total.setdefault(key, Counter()).update(scopes)
    return {key: dict(c) for key, c in total.items()}


# --- limits and the gate -----------------------------------------------------------


def check_overrides(values: Mapping[str, int], where: str) -> dict[str, int]:
    """Recorded quota values: known keys, whole numbers, not above what AWS grants."""
    out: dict[str, int] = {}
    for key, value in values.items():
        quota = BY_KEY.get(key)
        if quota is None:
            known = ", ".join(sorted(BY_KEY))
            raise UserError(f"{where}: unknown quota {key!r} (known: {known})")
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise UserError(f"{where}: quota {key} must be a whole number >= 0, not {value!r}")
        if not quota.adjustable and quota.default is not None and value > quota.default:
            raise UserError(
                f"{where}: {quota.name} is a fixed quota of {quota.default}; AWS grants no "
                f"increase, so {value} cannot be recorded ({quota.source})"
            )
        if quota.ceiling is not None and value > quota.ceiling:
            raise UserError(
                f"{where}: {quota.name} can be raised to {quota.ceiling} at most, not {value} "
                f"({quota.source})"
            )
        out[key] = value
    return out


@dataclass(frozen=True)
class Limits:
    values: Mapping[str, int | None] = field(default_factory=dict)

    @classmethod
    def of(cls, *overrides: Mapping[str, int]) -> Limits:
        """The defaults, then each mapping of recorded values over them in order."""
        values: dict[str, int | None] = {q.key: q.default for q in QUOTAS}
        for mapping in overrides:
            values.update(mapping)
        return cls(values)

    def __getitem__(self, key: str) -> int | None:
        return self.values.get(key, BY_KEY[key].default)


@dataclass(frozen=True)
class Excess:
    quota: Quota
    scope: str
    used: int
    limit: int

    def line(self, where: str, remedy: str) -> str:
        fix = (
            f"{remedy}, or request an increase and record it under `quotas:` in env.yaml"
            if self.quota.adjustable
            else remedy
        )
        return (
            f"quota: {self.quota.name}: {self.used} after this plan in {self.scope} "
            f"({where}), limit {self.quota.describe_limit(self.limit)}: {fix} "
            f"({self.quota.source})"
        )


def excesses(usage: Usage, limits: Limits) -> Iterator[Excess]:
    """Every scope whose use is above its limit; unknown limits are not checked."""
    for quota in QUOTAS:
        limit = limits[quota.key]
        if limit is None:
            continue
        for scope, used in sorted((usage.get(quota.key) or {}).items()):
            if used > limit:
                yield Excess(quota, scope, used, limit)


def gate(usage: Usage, limits: Limits, *, where: str, remedy: str) -> None:
    """Refuse, in one line, the first quota ``usage`` would pass."""
    for excess in excesses(usage, limits):
        raise QuotaError(excess.line(where, remedy))

"""Policy gates evaluated on ``terraform show -json`` of a plan.

Each gate is a rule with an id (``RULES``). A plan that breaks one fails in one
line naming the resource, the attribute and the rule; an operator lets one rule
pass for one run with ``--allow RULE`` (``--allow-destroy`` for ``destroy``),
and saasctl prints what it let pass. The gates judge what a plan *changes*: a
setting already weak before the plan is not this plan's doing (checkov and
trivy judge the modules as written).

Stand-in modules mark each null resource with ``triggers.stands_for`` (the AWS
type it models), so the destroy gate applies to stand-in plans as to real ones.
A value the plan does not know yet (computed at apply) is not judged.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

RULES: dict[str, str] = {
    "destroy": "stateful or shared resources destroyed or replaced (--allow-destroy)",
    "internet-ingress": "ingress from the internet, except to a load balancer's own 80/443",
    "ingress-path": "ingress added to a default security group or through a prefix list",
    "open-egress": "egress to the internet on every port",
    "data-protection": "DynamoDB deletion protection or point-in-time recovery turned off",
    "kms": "a KMS key disabled or its rotation turned off",
    "wildcard-policy": "an IAM, key or bucket policy widened to `*` actions or resources",
    "public-access": "an S3 public-access block setting turned off",
    "tenant-claim": "custom:tenantId made writable by an app client or mutable",
    "public-ip": "ECS tasks given public IP addresses",
    "tls": "an HTTPS listener's TLS policy weakened (or below TLS 1.2)",
    "edge": "the web ACL's association or an HTTPS listener removed",
}

PROTECTED_TYPES = frozenset(
    {
        "aws_s3_bucket",
        "aws_lb",
        "aws_vpc",
        "aws_ecs_cluster",
        "aws_dynamodb_table",
        "aws_kms_key",
        "aws_cloudwatch_log_group",
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_efs_file_system",
        "aws_cognito_user_pool",  # its users
    }
)
ALB_PORTS = (80, 443)
# A rule is open to the internet when its ranges together cover at least this
# share of every IPv4 (or IPv6) address: 0.0.0.0/0, but also 1.2.3.4/0,
# ::ffff:0:0/96 (all IPv4, mapped), or two /1 halves side by side.
OPEN_SHARE = 0.5
# Claims saasctl's authorization rests on: no app client may write them.
TENANT_CLAIMS = ("custom:tenantId", "custom:tenantTier")
# Actions AWS defines no resource type for: "*" is the only resource they can name.
RESOURCELESS = frozenset(
    {
        "ecr:getauthorizationtoken",
        "ssmmessages:createcontrolchannel",
        "ssmmessages:createdatachannel",
        "ssmmessages:opencontrolchannel",
        "ssmmessages:opendatachannel",
        "sts:getcalleridentity",
        "cloudwatch:putmetricdata",
        "xray:puttracesegments",
        "xray:puttelemetryrecords",
    }
)
POLICY_ATTRS = {
    "aws_iam_policy": "policy",
    "aws_iam_role_policy": "policy",
    "aws_iam_user_policy": "policy",
    "aws_iam_group_policy": "policy",
    "aws_kms_key": "policy",
    "aws_s3_bucket_policy": "policy",
}
PUBLIC_ACCESS = (
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
)


@dataclass(frozen=True)
class Violation:
    address: str
    rule: str
    rule_id: str = "destroy"

    def __str__(self) -> str:
        return f"{self.address}: {self.rule}"


def _effective_type(rc: Mapping[str, Any]) -> str:
    change = rc.get("change") or {}
    for side in ("before", "after"):
        triggers = (change.get(side) or {}).get("triggers") or {}
        if isinstance(triggers, dict) and triggers.get("stands_for"):
            return str(triggers["stands_for"])
    return str(rc.get("type", ""))


def open_to_internet(cidrs: Iterable[object]) -> bool:
    """Whether these source ranges together cover the internet (see OPEN_SHARE)."""
    covered = {4: 0, 6: 0}
    nets: dict[int, list[Any]] = {4: [], 6: []}
    for cidr in cidrs:
        if not isinstance(cidr, str):
            continue  # unknown until apply, or not a range (prefix lists, groups)
        try:
            net = ipaddress.ip_network(cidr.strip(), strict=False)
        except ValueError:
            continue  # terraform or AWS rejects it; not this gate's concern
        mapped = net.version == 6 and net.subnet_of(_V4_MAPPED)  # type: ignore[arg-type]
        if mapped:  # ::ffff:a.b.c.d/n is IPv4 space
            first = ipaddress.IPv4Address(int(net.network_address) & 0xFFFFFFFF)
            net = ipaddress.ip_network(f"{first}/{net.prefixlen - 96}", strict=False)
        nets[net.version].append(net)
    for version, found in nets.items():
        for net in ipaddress.collapse_addresses(found):  # overlaps counted once
            covered[version] += net.num_addresses
    return any(covered[v] >= OPEN_SHARE * _SPACE[v] for v in covered)


_V4_MAPPED = ipaddress.ip_network("::ffff:0:0/96")
_SPACE = {4: 2**32, 6: 2**128}
_KEYS = re.compile(r"\[[^\]]*\]")


def config_address(address: str) -> str:
    """A resource instance's address without instance keys: its place in the
    configuration (``module.a["x"].aws_y.z[0]`` -> ``module.a.aws_y.z``)."""
    return _KEYS.sub("", address)


def _modules(
    module: Mapping[str, Any], prefix: str = ""
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    yield prefix, module
    for name, call in (module.get("module_calls") or {}).items():
        yield from _modules(call.get("module") or {}, f"{prefix}module.{name}.")


def _refs(resource: Mapping[str, Any], attr: str) -> list[str]:
    expr = (resource.get("expressions") or {}).get(attr) or {}
    return [str(r) for r in expr.get("references") or []]


def balancer_groups(plan: Mapping[str, Any]) -> frozenset[str]:
    """Configuration addresses of the load balancers' own security groups and of
    the rules attached to them, from the plan's configuration: the resources, not
    their names, earn the 80/443 exemption."""
    root = (plan.get("configuration") or {}).get("root_module") or {}
    found: set[str] = set()
    for prefix, module in _modules(root):
        resources = module.get("resources") or []
        groups = {
            m.group(1)
            for r in resources
            if r.get("type") == "aws_lb"
            for ref in _refs(r, "security_groups")
            if (m := re.match(r"aws_security_group\.(\w+)$", ref))
        }
        found |= {f"{prefix}aws_security_group.{g}" for g in groups}
        for r in resources:
            if r.get("type") in _RULE_TYPES and any(
                ref == f"aws_security_group.{g}.id"
                for g in groups
                for ref in _refs(r, "security_group_id")
            ):
                found.add(f"{prefix}{r['address']}")
    return frozenset(found)


_RULE_TYPES = (
    "aws_vpc_security_group_ingress_rule",
    "aws_security_group_rule",
    "aws_vpc_security_group_egress_rule",
)


def _sg_rules(rtype: str, values: Mapping[str, Any], direction: str) -> list[Mapping[str, Any]]:
    """The ``direction`` (ingress/egress) rules of a resource, in one shape: from_port,
    to_port, protocol, cidrs, prefix_lists."""
    if rtype == f"aws_vpc_security_group_{direction}_rule":
        return [
            {
                "from_port": values.get("from_port"),
                "to_port": values.get("to_port"),
                "protocol": values.get("ip_protocol"),
                "cidrs": [values.get("cidr_ipv4"), values.get("cidr_ipv6")],
                "prefix_lists": [values.get("prefix_list_id")]
                if values.get("prefix_list_id")
                else [],
            }
        ]
    if rtype == "aws_security_group_rule":
        if values.get("type") != direction:
            return []
        found: list[Mapping[str, Any]] = [values]
    elif rtype in ("aws_security_group", "aws_default_security_group"):
        found = [r for r in values.get(direction) or [] if isinstance(r, dict)]
    else:
        return []
    return [
        {
            "from_port": r.get("from_port"),
            "to_port": r.get("to_port"),
            "protocol": r.get("protocol"),
            "cidrs": [*(r.get("cidr_blocks") or []), *(r.get("ipv6_cidr_blocks") or [])],
            "prefix_lists": list(r.get("prefix_list_ids") or []),
        }
        for r in found
    ]


def _new_rules(
    rtype: str, before: Mapping[str, Any], after: Mapping[str, Any], direction: str
) -> list[Mapping[str, Any]]:
    old = _sg_rules(rtype, before, direction)
    return [r for r in _sg_rules(rtype, after, direction) if r not in old]


def _all_ports(rule: Mapping[str, Any]) -> bool:
    if str(rule.get("protocol")) in ("-1", "all"):
        return True
    return rule.get("from_port") in (0, -1) and rule.get("to_port") in (65535, -1)


def _policy_grants(text: object, *, key_policy: bool) -> set[str] | None:
    """What an Allow statement grants with a wildcard: ``action X`` for `*` or
    ``svc:*`` actions (and NotAction), ``X on *`` for an action on every resource
    (and NotResource). None when the policy is not known or not JSON."""
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    grants: set[str] = set()
    for st in statements(doc):
        if not isinstance(st, dict) or st.get("Effect") != "Allow":
            continue
        actions = [str(a).lower() for a in as_list(st.get("Action"))]
        if "NotAction" in st:
            grants.add("action NotAction")
        for action in actions:
            if action == "*" or action.endswith(":*"):
                grants.add(f"action {action}")
        resources = [str(r) for r in as_list(st.get("Resource"))]
        everywhere = "*" in resources or "NotResource" in st
        if everywhere and not key_policy:  # in a key policy, "*" is the key itself
            for action in actions:
                verb = action.split(":", 1)[-1]
                if action not in RESOURCELESS and not verb.startswith("describe"):
                    grants.add(f"{action} on *")
    return grants


def as_list(value: object) -> list[object]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def statements(doc: object) -> list[object]:
    """A policy document's statements as a list (IAM allows a single one unlisted);
    entries are as written, dicts or not."""
    found = doc.get("Statement") if isinstance(doc, dict) else None
    return as_list(found)


def _policies(rtype: str, values: Mapping[str, Any]) -> list[object]:
    if rtype == "aws_iam_role":
        return [p.get("policy") for p in values.get("inline_policy") or [] if isinstance(p, dict)]
    attr = POLICY_ATTRS.get(rtype)
    return [values.get(attr)] if attr else []


def _widened(rtype: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    key = rtype == "aws_kms_key"
    had: set[str] = set()
    for text in _policies(rtype, before):
        had |= _policy_grants(text, key_policy=key) or set()
    new: set[str] = set()
    for text in _policies(rtype, after):
        new |= _policy_grants(text, key_policy=key) or set()
    return sorted(new - had)


def _tls_rank(name: object) -> tuple[int, int, int]:
    """(minimum TLS version, post-quantum, cipher set) of an ELB security policy
    name: ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09 -> (12, 1, 1)."""
    text = str(name or "")
    match = re.search(r"TLS(?:13)?-1-([0-3])", text)
    version = 10 + int(match.group(1)) if match else 10  # 2016-08, FS-2018-06: TLS 1.0
    ciphers = 1 if "-Res-" in text else -1 if "-Ext" in text else 0
    return version, int("-PQ-" in text), ciphers


def _was(
    before: Mapping[str, Any], after: Mapping[str, Any], path: tuple[str, ...]
) -> tuple[Any, Any]:
    def get(values: Mapping[str, Any]) -> Any:
        value: Any = values
        for part in path:
            if isinstance(value, list):
                value = value[0] if value else None
            value = value.get(part) if isinstance(value, dict) else None
        return value

    return get(before), get(after)


def _turned_off(before: Mapping[str, Any], after: Mapping[str, Any], *path: str) -> bool:
    old, new = _was(before, after, path)
    return old is True and new is False


def _changes(rc: Mapping[str, Any], rtype: str, alb: frozenset[str]) -> Iterator[tuple[str, str]]:
    """(rule id, what) for each weakening in one resource's change."""
    change = rc.get("change") or {}
    before: Mapping[str, Any] = change.get("before") or {}
    after: Mapping[str, Any] = change.get("after") or {}
    address = str(rc.get("address", ""))

    for rule in _new_rules(rtype, before, after, "ingress"):
        if open_to_internet(rule["cidrs"]):
            ports = (rule["from_port"], rule["to_port"])
            if config_address(address) in alb and ports[0] == ports[1] and ports[0] in ALB_PORTS:
                continue
            yield (
                "internet-ingress",
                f"security group ingress from the internet on ports "
                f"{ports[0]}-{ports[1]} (only a load balancer's own 80/443 may be open)",
            )
        if rule["prefix_lists"]:
            yield (
                "ingress-path",
                f"ingress through prefix list "
                f"{', '.join(map(str, rule['prefix_lists']))} (ports {rule['from_port']}-"
                f"{rule['to_port']})",
            )
        elif rtype == "aws_default_security_group":
            yield "ingress-path", "ingress added to the VPC's default security group"
    for rule in _new_rules(rtype, before, after, "egress"):
        if open_to_internet(rule["cidrs"]) and _all_ports(rule):
            yield "open-egress", "egress to the internet on every port and protocol"

    if rtype == "aws_dynamodb_table":
        if _turned_off(before, after, "deletion_protection_enabled"):
            yield "data-protection", "deletion_protection_enabled turned off"
        if _turned_off(before, after, "point_in_time_recovery", "enabled"):
            yield "data-protection", "point_in_time_recovery.enabled turned off"
    if rtype == "aws_kms_key":
        if _turned_off(before, after, "is_enabled"):
            yield "kms", "is_enabled turned off: the key is disabled"
        if _turned_off(before, after, "enable_key_rotation"):
            yield "kms", "enable_key_rotation turned off"
    for grant in _widened(rtype, before, after):
        yield "wildcard-policy", f"policy widened: Allow {grant}"
    if rtype in ("aws_s3_bucket_public_access_block", "aws_s3_account_public_access_block"):
        for attr in PUBLIC_ACCESS:
            if after.get(attr) is False and before.get(attr) is not False:
                yield "public-access", f"{attr} set to false"
    if rtype == "aws_cognito_user_pool_client":
        could = {str(a) for a in before.get("write_attributes") or []}
        for claim in TENANT_CLAIMS:
            if claim in (after.get("write_attributes") or []) and claim not in could:
                yield "tenant-claim", f"write_attributes lets the client write {claim}"
    if rtype == "aws_cognito_user_pool" and _claim_mutable(after) and not _claim_mutable(before):
        yield "tenant-claim", f"schema makes {TENANT_CLAIMS[0]} mutable"
    if rtype == "aws_ecs_service":
        old_ip, new_ip = _was(before, after, ("network_configuration", "assign_public_ip"))
        if new_ip is True and old_ip is not True:
            yield "public-ip", "network_configuration.assign_public_ip turned on"
    if rtype == "aws_lb_listener" and str(after.get("protocol")) == "HTTPS":
        new = after.get("ssl_policy")
        if isinstance(new, str):
            old = before.get("ssl_policy") if before else None
            if _tls_rank(new)[0] < 12 or (old and _tls_rank(new) < _tls_rank(old)):
                yield ("tls", f"ssl_policy {new} is weaker than {old or 'TLS 1.2 with TLS 1.3'}")


def _claim_mutable(pool: Mapping[str, Any]) -> bool:
    return any(
        isinstance(a, dict) and f"custom:{a.get('name')}" == TENANT_CLAIMS[0] and a.get("mutable")
        for a in pool.get("schema") or []
    )


def _removed(rtype: str, before: Mapping[str, Any]) -> str | None:
    if rtype == "aws_wafv2_web_acl_association":
        return "removes the web ACL's association"
    if rtype == "aws_lb_listener" and str(before.get("protocol")) == "HTTPS":
        return "removes an HTTPS listener"
    return None


def evaluate(plan: Mapping[str, Any], *, allow: Collection[str] = ()) -> list[Violation]:
    """Every rule the plan breaks that ``allow`` (rule ids) does not let pass."""
    unknown = set(allow) - set(RULES)
    if unknown:
        raise ValueError(f"unknown policy rule(s): {', '.join(sorted(unknown))}")
    alb = balancer_groups(plan)
    violations: list[Violation] = []
    for rc in plan.get("resource_changes") or []:
        address = str(rc.get("address", "?"))
        change = rc.get("change") or {}
        actions = change.get("actions") or []
        rtype = _effective_type(rc)
        if "delete" in actions:
            verb = "replaces" if "create" in actions else "destroys"
            if rtype in PROTECTED_TYPES:
                violations.append(
                    Violation(
                        address,
                        f"plan {verb} a stateful/shared {rtype} (pass --allow-destroy if intended)",
                        "destroy",
                    )
                )
            elif (what := _removed(rtype, change.get("before") or {})) and "create" not in actions:
                violations.append(
                    Violation(address, f"plan {what} (pass --allow edge if intended)", "edge")
                )
        if "create" in actions or "update" in actions:
            for rule_id, what in _changes(rc, rtype, alb):
                violations.append(
                    Violation(address, f"{what} (pass --allow {rule_id} if intended)", rule_id)
                )
    return [v for v in violations if v.rule_id not in allow]


# What a release may do: register task definition revisions (a new one replaces
# the old) and update services to them. Deleting a service, or replacing it
# (its tasks stop first), is a change of infrastructure.
RELEASE_ACTIONS = {
    "aws_ecs_task_definition": (["create"], ["update"], ["delete", "create"], ["create", "delete"]),
    "aws_ecs_service": (["update"],),
    # a config version's document (only rendered settings: nothing stateful)
    "aws_ssm_parameter": (["create"], ["update"], ["delete"]),
}
RELEASE_TYPES = frozenset(RELEASE_ACTIONS)


CONFIG_POLICY = "tenant-config"  # ecs-service's task role grant to read its config


def _config_grant(rc: Mapping[str, Any], rtype: str) -> bool:
    """The task role's grant to read its tenant configuration: a service's first
    config version adds it, a rollback to none removes it."""
    change = rc.get("change") or {}
    values = change.get("after") or change.get("before") or {}
    return rtype == "aws_iam_role_policy" and values.get("name") == CONFIG_POLICY


def release_violations(plan: Mapping[str, Any]) -> list[Violation]:
    found = []
    for rc in plan.get("resource_changes") or []:
        actions = (rc.get("change") or {}).get("actions") or []
        rtype = _effective_type(rc)
        if rc.get("type") != rtype and sorted(actions) == ["create", "delete"]:
            actions = ["update"]  # a stand-in (null_resource) changes only by replacement
        if actions in ([], ["no-op"], ["read"]) or actions in RELEASE_ACTIONS.get(rtype, ()):
            continue
        if _config_grant(rc, rtype):
            continue
        found.append(
            Violation(
                str(rc.get("address", "?")),
                f"a release changes only task definitions, services and config parameters; "
                f"this plan would {'/'.join(actions)} a {rtype} "
                "(pass --allow-infra-change if intended)",
                "release",
            )
        )
    return found

"""Policy gates evaluated on ``terraform show -json`` of a plan.

- Stateful or shared resources (state and log buckets, the ALB, the VPC,
  clusters, tables) are not destroyed or replaced unless ``allow_destroy``.
- No security group ingress open to the internet (ranges covering it, IPv4 or
  IPv6, in any resource shape), except the ALB's 80/443.

Stand-in modules mark each null resource with ``triggers.stands_for`` (the AWS
type it models), so the gates apply to stand-in plans as to real ones.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

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
    }
)
ALB_PORTS = (80, 443)
# A rule is open to the internet when its ranges together cover at least this
# share of every IPv4 (or IPv6) address: 0.0.0.0/0, but also 1.2.3.4/0,
# ::ffff:0:0/96 (all IPv4, mapped), or two /1 halves side by side.
OPEN_SHARE = 0.5


@dataclass(frozen=True)
class Violation:
    address: str
    rule: str

    def __str__(self) -> str:
        return f"{self.address}: {self.rule}"


def _effective_type(rc: Mapping[str, Any]) -> str:
    change = rc.get("change") or {}
    for side in ("before", "after"):
        triggers = (change.get(side) or {}).get("triggers") or {}
        if isinstance(triggers, dict) and triggers.get("stands_for"):
            return str(triggers["stands_for"])
    return str(rc.get("type", ""))


def _is_alb(address: str) -> bool:
    return "module.alb." in address or address.startswith("aws_lb")


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


def _open_ingress(rtype: str, after: Mapping[str, Any]) -> Iterator[tuple[int | None, int | None]]:
    """(from_port, to_port) of every ingress rule in ``after`` open to the internet, for
    each resource shape that can open one: inline rules of aws_security_group, and
    aws_security_group_rule / aws_vpc_security_group_ingress_rule, IPv4 and IPv6."""
    if rtype == "aws_vpc_security_group_ingress_rule":
        rules = [(after, [after.get("cidr_ipv4"), after.get("cidr_ipv6")])]
    elif rtype == "aws_security_group_rule" and after.get("type") == "ingress":
        rules = [(after, _ranges(after))]
    elif rtype == "aws_security_group":
        rules = [(r, _ranges(r)) for r in after.get("ingress") or [] if isinstance(r, dict)]
    else:
        rules = []
    for rule, cidrs in rules:
        if open_to_internet(cidrs):
            yield rule.get("from_port"), rule.get("to_port")


def _ranges(rule: Mapping[str, Any]) -> list[object]:
    return [*(rule.get("cidr_blocks") or []), *(rule.get("ipv6_cidr_blocks") or [])]


def evaluate(plan: Mapping[str, Any], *, allow_destroy: bool) -> list[Violation]:
    violations: list[Violation] = []
    for rc in plan.get("resource_changes") or []:
        address = str(rc.get("address", "?"))
        change = rc.get("change") or {}
        actions = change.get("actions") or []
        rtype = _effective_type(rc)
        if "delete" in actions and rtype in PROTECTED_TYPES and not allow_destroy:
            verb = "replaces" if "create" in actions else "destroys"
            violations.append(
                Violation(
                    address,
                    f"plan {verb} a stateful/shared {rtype} (pass --allow-destroy if intended)",
                )
            )
        after = change.get("after")
        if "create" in actions or "update" in actions:
            for from_port, to_port in _open_ingress(rtype, after or {}):
                if _is_alb(address) and from_port == to_port and from_port in ALB_PORTS:
                    continue
                violations.append(
                    Violation(
                        address,
                        f"security group ingress from the internet on ports {from_port}-{to_port} "
                        "(only the ALB's 80/443 may be open)",
                    )
                )
    return violations


# What a release changes: the task definitions (new images) and the services that
# run them. Anything else in a release's plan is an infrastructure change.
RELEASE_TYPES = frozenset({"aws_ecs_task_definition", "aws_ecs_service"})


def release_violations(plan: Mapping[str, Any]) -> list[Violation]:
    found = []
    for rc in plan.get("resource_changes") or []:
        actions = (rc.get("change") or {}).get("actions") or []
        rtype = _effective_type(rc)
        if actions in ([], ["no-op"], ["read"]) or rtype in RELEASE_TYPES:
            continue
        found.append(
            Violation(
                str(rc.get("address", "?")),
                f"a release changes only task definitions and services; this plan would "
                f"{'/'.join(actions)} a {rtype} (pass --allow-infra-change if intended)",
            )
        )
    return found

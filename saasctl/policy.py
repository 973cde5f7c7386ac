"""Policy gates evaluated on ``terraform show -json`` of a plan.

- Stateful or shared resources (state and log buckets, the ALB, the VPC,
  clusters, tables) are not destroyed or replaced unless ``allow_destroy``.
- No security group ingress from 0.0.0.0/0 (or ::/0), except the ALB's 80/443.

Stand-in modules mark each null resource with ``triggers.stands_for`` (the AWS
type it models), so the gates apply to stand-in plans as to real ones.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
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
OPEN = ("0.0.0.0/0", "::/0")
ALB_PORTS = (80, 443)


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


def _open_ingress(rtype: str, after: Mapping[str, Any]) -> Iterator[tuple[int | None, int | None]]:
    if rtype == "aws_vpc_security_group_ingress_rule":
        if after.get("cidr_ipv4") in OPEN or after.get("cidr_ipv6") in OPEN:
            yield after.get("from_port"), after.get("to_port")
    elif rtype == "aws_security_group_rule" and after.get("type") == "ingress":
        if set(after.get("cidr_blocks") or []) & set(OPEN) or set(
            after.get("ipv6_cidr_blocks") or []
        ) & set(OPEN):
            yield after.get("from_port"), after.get("to_port")
    elif rtype == "aws_security_group":
        for rule in after.get("ingress") or []:
            if set(rule.get("cidr_blocks") or []) & set(OPEN):
                yield rule.get("from_port"), rule.get("to_port")


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

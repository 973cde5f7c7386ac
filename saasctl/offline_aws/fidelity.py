"""Plausible values for what AWS would fill in, and which changes replace.

Values are derived from a hash of the resource's known values, so the same
plan applies to the same ids; they look like AWS's (``vpc-…`` ids, ARNs with
the configured region and account, AZ names from the region).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from saasctl.offline_aws.values import UNKNOWN, Path

# Resource id prefixes, as EC2 prints them.
ID_PREFIX = {
    "aws_vpc": "vpc",
    "aws_subnet": "subnet",
    "aws_security_group": "sg",
    "aws_default_security_group": "sg",
    "aws_internet_gateway": "igw",
    "aws_nat_gateway": "nat",
    "aws_eip": "eipalloc",
    "aws_route_table": "rtb",
    "aws_route_table_association": "rtbassoc",
    "aws_route": "r-rtb",
    "aws_vpc_endpoint": "vpce",
    "aws_flow_log": "fl",
    "aws_network_acl": "acl",
    "aws_vpc_security_group_ingress_rule": "sgr",
    "aws_vpc_security_group_egress_rule": "sgr",
    "aws_service_discovery_service": "srv",
}
# Attribute names ending in _id whose prefix is not the attribute's own stem.
ATTR_PREFIX = {
    "allocation_id": "eipalloc",
    "association_id": "eipassoc",
    "network_interface_id": "eni",
    "main_route_table_id": "rtb",
    "default_route_table_id": "rtb",
    "default_network_acl_id": "acl",
    "default_security_group_id": "sg",
    "dhcp_options_id": "dopt",
    "security_group_rule_id": "sgr",
    "owner_id": "",
}
# (service, resource kind) for ARNs; IAM and S3 ARNs carry no region.
ARN = {
    "aws_lb": ("elasticloadbalancing", "loadbalancer/app"),
    "aws_lb_target_group": ("elasticloadbalancing", "targetgroup"),
    "aws_lb_listener": ("elasticloadbalancing", "listener/app"),
    "aws_lb_listener_rule": ("elasticloadbalancing", "listener-rule/app"),
    "aws_ecs_cluster": ("ecs", "cluster"),
    "aws_ecs_service": ("ecs", "service"),
    "aws_ecs_task_definition": ("ecs", "task-definition"),
    "aws_cloudwatch_log_group": ("logs", "log-group"),
    "aws_iam_role": ("iam", "role"),
    "aws_iam_policy": ("iam", "policy"),
    "aws_wafv2_web_acl": ("wafv2", "regional/webacl"),
    "aws_s3_bucket": ("s3", ""),
    "aws_service_discovery_service": ("servicediscovery", "service"),
    "aws_appautoscaling_policy": ("autoscaling", "scalingPolicy"),
    "aws_flow_log": ("ec2", "vpc-flow-log"),
}
# Resources whose id is their ARN, or one of their arguments.
ID_IS_ARN = {
    "aws_lb", "aws_lb_target_group", "aws_lb_listener", "aws_lb_listener_rule",
    "aws_ecs_cluster", "aws_ecs_service",
}  # fmt: skip
ID_FROM = {
    "aws_iam_role": "name",
    "aws_cloudwatch_log_group": "name",
    "aws_ecs_task_definition": "family",
    "aws_s3_bucket": "bucket",
    "aws_s3_bucket_policy": "bucket",
    "aws_s3_bucket_versioning": "bucket",
    "aws_s3_bucket_public_access_block": "bucket",
    "aws_s3_bucket_ownership_controls": "bucket",
    "aws_s3_bucket_lifecycle_configuration": "bucket",
    "aws_s3_bucket_server_side_encryption_configuration": "bucket",
    "aws_appautoscaling_policy": "name",
    "aws_wafv2_web_acl_logging_configuration": "resource_arn",
    "aws_ecs_cluster_capacity_providers": "cluster_name",
}
# Arguments whose change replaces the resource (ForceNew in the real provider),
# for the resource types the modules use; others are updated in place.
FORCE_NEW = {
    "aws_vpc": ["cidr_block", "instance_tenancy"],
    "aws_subnet": ["vpc_id", "cidr_block", "availability_zone", "availability_zone_id"],
    "aws_security_group": ["name", "name_prefix", "vpc_id", "description"],
    "aws_default_security_group": ["vpc_id"],
    "aws_internet_gateway": [],
    "aws_nat_gateway": ["allocation_id", "subnet_id", "connectivity_type"],
    "aws_eip": ["domain", "network_border_group"],
    "aws_route": ["route_table_id", "destination_cidr_block", "destination_ipv6_cidr_block"],
    "aws_route_table": ["vpc_id"],
    "aws_route_table_association": ["subnet_id", "gateway_id"],
    "aws_vpc_endpoint": ["vpc_id", "service_name", "vpc_endpoint_type"],
    "aws_vpc_security_group_ingress_rule": ["security_group_id"],
    "aws_vpc_security_group_egress_rule": ["security_group_id"],
    "aws_flow_log": ["vpc_id", "subnet_id", "log_destination", "log_destination_type",
                     "traffic_type", "iam_role_arn", "log_format"],
    "aws_lb": ["name", "name_prefix", "internal", "load_balancer_type"],
    "aws_lb_target_group": ["name", "name_prefix", "port", "protocol", "vpc_id", "target_type"],
    "aws_lb_listener": ["load_balancer_arn"],
    "aws_lb_listener_rule": ["listener_arn"],
    "aws_wafv2_web_acl": ["name", "scope"],
    "aws_wafv2_web_acl_association": ["resource_arn", "web_acl_arn"],
    "aws_wafv2_web_acl_logging_configuration": ["resource_arn"],
    "aws_ecs_cluster": ["name"],
    "aws_ecs_cluster_capacity_providers": ["cluster_name"],
    "aws_ecs_service": ["name", "cluster", "launch_type", "scheduling_strategy"],
    "aws_ecs_task_definition": ["family", "container_definitions", "cpu", "memory",
                                "network_mode", "requires_compatibilities",
                                "execution_role_arn", "task_role_arn"],
    "aws_cloudwatch_log_group": ["name", "name_prefix"],
    "aws_iam_role": ["name", "name_prefix", "path"],
    "aws_iam_role_policy": ["name", "name_prefix", "role"],
    "aws_s3_bucket": ["bucket", "bucket_prefix"],
    "aws_s3_bucket_policy": ["bucket"],
    "aws_s3_bucket_versioning": ["bucket"],
    "aws_s3_bucket_public_access_block": ["bucket"],
    "aws_s3_bucket_ownership_controls": ["bucket"],
    "aws_s3_bucket_lifecycle_configuration": ["bucket"],
    "aws_s3_bucket_server_side_encryption_configuration": ["bucket"],
    "aws_service_discovery_service": ["name", "namespace_id"],
    "aws_appautoscaling_target": ["resource_id", "scalable_dimension", "service_namespace"],
    "aws_appautoscaling_policy": ["name", "resource_id", "scalable_dimension",
                                  "service_namespace"],
}  # fmt: skip
ELB_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240",
                "us-west-2": "797873946194", "eu-west-1": "156460612806",
                "eu-central-1": "054676820928"}  # fmt: skip


def _known(value: Any) -> Any:
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: _known(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_known(v) for v in value]
    return value


class Filler:
    """Fills the unknowns of one resource on apply."""

    def __init__(self, type_name: str, value: dict[str, Any], region: str, account: str) -> None:
        self.type_name, self.value = type_name, value
        self.region, self.account = region, account
        known = json.dumps(_known(value), sort_keys=True, default=str)
        self.seed = hashlib.sha256(f"{type_name}\0{known}".encode()).hexdigest()

    def hex(self, what: str, n: int = 17) -> str:
        return hashlib.sha256(f"{self.seed}\0{what}".encode()).hexdigest()[:n]

    def name(self) -> str:
        for key in ("name", "bucket", "family"):
            got = self.value.get(key)
            if isinstance(got, str) and got:
                return got
        return f"terraform-{self.hex('name', 20)}"

    def arn(self) -> str:
        service, kind = ARN.get(self.type_name, ("ec2", self.type_name.removeprefix("aws_")))
        if service == "s3":
            return f"arn:aws:s3:::{self.name()}"
        region = "" if service == "iam" else self.region
        tail = f"{kind}/{self.name()}"
        if service == "elasticloadbalancing":
            tail += f"/{self.hex('arn', 16)}"
        elif self.type_name == "aws_ecs_task_definition":
            tail = f"{kind}/{self.name()}:1"
        elif service == "ec2" and self.type_name in ID_PREFIX:
            tail = f"{kind}/{self.ident()}"
        elif service == "ec2":
            tail = f"{kind}/{self.hex('arn')}"
        return f"arn:aws:{service}:{region}:{self.account}:{tail}"

    def ident(self) -> str:
        if self.type_name in ID_IS_ARN:
            got = self.value.get("arn")
            return got if isinstance(got, str) else self.arn()
        source = ID_FROM.get(self.type_name)
        if source and isinstance(self.value.get(source), str):
            return str(self.value[source])
        if self.type_name == "aws_wafv2_web_acl_association":
            return f"{self.value.get('web_acl_arn')},{self.value.get('resource_arn')}"
        if self.type_name == "aws_iam_role_policy":
            return f"{self.value.get('role')}:{self.value.get('name')}"
        if self.type_name in ID_PREFIX:
            return f"{ID_PREFIX[self.type_name]}-{self.hex('id')}"
        if self.type_name == "aws_wafv2_web_acl":
            h = self.hex("id", 32)
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        return f"{self.type_name.removeprefix('aws_')}-{self.hex('id')}"

    def __call__(self, path: Path, typ: Any) -> Any:
        name = str(path[-1]) if path else ""
        if typ == "string":
            return self.string(name, len(path) == 1)
        if typ == "number":
            return 0
        if typ == "bool":
            return False
        if isinstance(typ, list) and typ[0] == "map":
            if name == "tags_all":
                return dict(self.value.get("tags") or {})
            return {}
        if isinstance(typ, list) and typ[0] in ("list", "set"):
            return []
        return None

    def string(self, name: str, top: bool) -> str:
        if top and name == "id":
            return self.ident()
        if top and name == "arn":
            return self.arn()
        if top and name == "name":
            return self.name()
        if name in ("owner_id", "account_id"):
            return self.account
        if name == "region":
            return self.region
        if name == "availability_zone":
            return f"{self.region}a"
        if name == "dns_name":
            return (
                f"{self.name()[:20]}-{int(self.hex('dns', 8), 16)}.{self.region}.elb.amazonaws.com"
            )
        if name == "zone_id":
            return "Z35SXDOTRQ7X7K"
        if name == "arn_suffix":
            return self.arn().split(":", 5)[5].split("/", 1)[1]
        if name.endswith("_arn"):
            return self.arn() + f"/{name.removesuffix('_arn')}"
        if name.endswith("_id"):
            prefix = ATTR_PREFIX.get(name, name.removesuffix("_id").split("_")[-1])
            return f"{prefix}-{self.hex(name)}" if prefix else self.account
        if name in ("public_ip", "private_ip"):
            h = self.hex(name, 4)
            return f"10.{int(h[:2], 16)}.{int(h[2:], 16)}.10"
        return ""


def requires_replace(type_name: str, prior: dict[str, Any], planned: dict[str, Any]) -> list[str]:
    return [k for k in FORCE_NEW.get(type_name, []) if prior.get(k) != planned.get(k)]


# --- data sources ------------------------------------------------------------


def _one_or_list(values: list[str] | None) -> Any:
    items = sorted(values or [])
    return items[0] if len(items) == 1 else items


def policy_json(config: dict[str, Any]) -> str:
    """aws_iam_policy_document: the JSON document the statement blocks describe."""
    statements = []
    for st in config.get("statement") or []:
        out: dict[str, Any] = {}
        if st.get("sid"):
            out["Sid"] = st["sid"]
        out["Effect"] = st.get("effect") or "Allow"
        for key, field in (
            ("Action", "actions"),
            ("NotAction", "not_actions"),
            ("Resource", "resources"),
            ("NotResource", "not_resources"),
        ):
            if st.get(field):
                out[key] = _one_or_list(st[field])
        for key, field in (("Principal", "principals"), ("NotPrincipal", "not_principals")):
            if st.get(field):
                out[key] = {p["type"]: _one_or_list(p["identifiers"]) for p in st[field]}
        if st.get("condition"):
            cond: dict[str, dict[str, Any]] = {}
            for c in st["condition"]:
                cond.setdefault(c["test"], {})[c["variable"]] = _one_or_list(c["values"])
            out["Condition"] = cond
        statements.append(out)
    return json.dumps(
        {"Version": config.get("version") or "2012-10-17", "Statement": statements}, indent=2
    )


def read_data(type_name: str, config: dict[str, Any], region: str, account: str) -> dict[str, Any]:
    state = dict(config)
    if type_name == "aws_iam_policy_document":
        state["json"] = policy_json(config)
        state["minified_json"] = json.dumps(json.loads(state["json"]), separators=(",", ":"))
        state["id"] = str(int(hashlib.sha256(state["json"].encode()).hexdigest()[:8], 16))
    elif type_name == "aws_elb_service_account":
        acct = ELB_ACCOUNTS.get(region, "127311923021")
        state.update(id=acct, arn=f"arn:aws:iam::{acct}:root")
    elif type_name == "aws_caller_identity":
        state.update(id=account, account_id=account, arn=f"arn:aws:iam::{account}:user/offline",
                     user_id="AIDAOFFLINE")  # fmt: skip
    elif type_name == "aws_region":
        state.update(id=region, name=region, region=region, endpoint=f"ec2.{region}.amazonaws.com",
                     description=region)  # fmt: skip
    elif type_name == "aws_partition":
        state.update(id="aws", partition="aws", dns_suffix="amazonaws.com",
                     reverse_dns_prefix="com.amazonaws")  # fmt: skip
    elif type_name == "aws_availability_zones":
        names = [f"{region}{z}" for z in "abc"]
        state.update(id=region, names=names, zone_ids=[f"use1-az{i}" for i in (1, 2, 4)],
                     group_names=[region])  # fmt: skip
    return state

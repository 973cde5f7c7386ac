"""What AWS would fill in, and which changes replace: every value rule in one place.

Values are made for one resource instance when it is applied: ids are random
(two instances with the same arguments get different ids; a re-plan reads them
back from state, so they are stable), names follow ``name_prefix`` /
``bucket_prefix`` as the real provider does, ARNs carry the right service for
every resource type (derived from the type name, plus a small table of
exceptions), the configured region and account. Rules are by attribute name
and type first; tables only hold what no rule can derive (EC2's id prefixes,
ARN service namespaces that differ from the type name).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import secrets
import time
import uuid
from collections.abc import Mapping
from typing import Any

from saasctl.offline_aws.values import UNKNOWN, Path

# --- names ----------------------------------------------------------------

_counter = [0]


def unique_suffix() -> str:
    """26 digits, like the provider's id.UniqueId: a timestamp and a counter."""
    _counter[0] += 1
    stamp = time.strftime("%Y%m%d%H%M%S", time.gmtime())
    return f"{stamp}{time.time_ns() % 10**4:04d}{_counter[0] % 10**8:08d}"


def hexid(n: int = 17, rng: random.Random | None = None) -> str:
    if rng is not None:
        return f"{rng.getrandbits(4 * n):0{n}x}"
    return secrets.token_hex((n + 1) // 2)[:n]


# --- ids --------------------------------------------------------------------

# EC2 ids as EC2 prints them: <prefix>-<17 hex>.
EC2_ID = {
    "aws_vpc": "vpc", "aws_default_vpc": "vpc", "aws_subnet": "subnet",
    "aws_default_subnet": "subnet", "aws_security_group": "sg",
    "aws_default_security_group": "sg", "aws_internet_gateway": "igw",
    "aws_egress_only_internet_gateway": "eigw", "aws_nat_gateway": "nat",
    "aws_eip": "eipalloc", "aws_eip_association": "eipassoc", "aws_route_table": "rtb",
    "aws_default_route_table": "rtb", "aws_route_table_association": "rtbassoc",
    "aws_main_route_table_association": "rtbassoc", "aws_route": "r-rtb",
    "aws_vpc_endpoint": "vpce", "aws_flow_log": "fl", "aws_network_acl": "acl",
    "aws_default_network_acl": "acl", "aws_network_acl_rule": "nacl",
    "aws_network_interface": "eni", "aws_instance": "i", "aws_spot_instance_request": "sir",
    "aws_ebs_volume": "vol", "aws_ebs_snapshot": "snap", "aws_ami": "ami", "aws_ami_copy": "ami",
    "aws_launch_template": "lt", "aws_key_pair": "key", "aws_placement_group": "pg",
    "aws_vpc_security_group_ingress_rule": "sgr", "aws_vpc_security_group_egress_rule": "sgr",
    "aws_security_group_rule": "sgrule", "aws_customer_gateway": "cgw",
    "aws_vpn_gateway": "vgw", "aws_vpn_connection": "vpn", "aws_vpc_peering_connection": "pcx",
    "aws_ec2_transit_gateway": "tgw", "aws_ec2_transit_gateway_vpc_attachment": "tgw-attach",
    "aws_ec2_transit_gateway_route_table": "tgw-rtb", "aws_vpc_dhcp_options": "dopt",
    "aws_default_vpc_dhcp_options": "dopt", "aws_vpc_ipam": "ipam",
    "aws_vpc_ipam_pool": "ipam-pool", "aws_vpc_ipam_scope": "ipam-scope",
    "aws_ec2_managed_prefix_list": "pl", "aws_ec2_fleet": "fleet",
    "aws_ec2_capacity_reservation": "cr", "aws_ec2_host": "h",
    "aws_vpc_endpoint_service": "vpce-svc", "aws_vpc_ipv4_cidr_block_association": "vpc-cidr-assoc",
    "aws_ec2_traffic_mirror_filter": "tmf", "aws_ec2_traffic_mirror_session": "tms",
    "aws_ec2_traffic_mirror_target": "tmt", "aws_vpn_gateway_attachment": "vpc-attach",
    "aws_ec2_instance_connect_endpoint": "eice",
}  # fmt: skip
# Attributes ending in _id whose prefix is not the attribute's own stem.
ATTR_PREFIX = {
    "allocation_id": "eipalloc", "association_id": "eipassoc",
    "network_interface_id": "eni", "primary_network_interface_id": "eni",
    "main_route_table_id": "rtb", "default_route_table_id": "rtb",
    "default_network_acl_id": "acl", "default_security_group_id": "sg",
    "dhcp_options_id": "dopt", "security_group_rule_id": "sgr", "instance_id": "i",
    "image_id": "ami", "snapshot_id": "snap", "volume_id": "vol", "hosted_zone_id": "Z",
    "prefix_list_id": "pl", "source_prefix_list_id": "pl", "destination_prefix_list_id": "pl",
    "owner_id": "", "account_id": "",
}  # fmt: skip
# Resources whose id is their ARN, or one of their arguments.
ID_IS_ARN = {
    "aws_lb", "aws_alb", "aws_lb_target_group", "aws_alb_target_group", "aws_lb_listener",
    "aws_alb_listener", "aws_lb_listener_rule", "aws_alb_listener_rule", "aws_ecs_cluster",
    "aws_ecs_service", "aws_sns_topic", "aws_secretsmanager_secret", "aws_iam_policy",
    "aws_sfn_state_machine", "aws_acm_certificate", "aws_cloudformation_stack",
}  # fmt: skip
ID_FROM = {
    "aws_ecs_task_definition": "family", "aws_lambda_function": "function_name",
    "aws_s3_bucket": "bucket", "aws_wafv2_web_acl_logging_configuration": "resource_arn",
    "aws_ecs_cluster_capacity_providers": "cluster_name", "aws_dynamodb_table": "name",
    "aws_cloudwatch_metric_alarm": "alarm_name", "aws_sqs_queue": "url",
    "aws_kms_alias": "name", "aws_ssm_parameter": "name",
}  # fmt: skip
# Resource ids joined from arguments, as the provider composes them.
ID_JOIN = {
    "aws_wafv2_web_acl_association": ("web_acl_arn", "resource_arn"),
    "aws_iam_role_policy": ("role", "name"),
    "aws_iam_role_policy_attachment": ("role", "policy_arn"),
    "aws_s3_bucket_object": ("bucket", "key"),
    "aws_s3_object": ("bucket", "key"),
}
UUID_ID = {"aws_wafv2_web_acl", "aws_wafv2_ip_set", "aws_wafv2_rule_group", "aws_kms_key",
           "aws_wafv2_regex_pattern_set", "aws_guardduty_detector"}  # fmt: skip

# --- ARNs ---------------------------------------------------------------------

# Type-name prefixes whose ARN service is not the first word of the type, longest first.
ARN_SERVICE = {
    "cloudwatch_log": "logs", "cloudwatch_event": "events", "cloudwatch_query": "logs",
    "cognito_identity_pool": "cognito-identity", "cognito": "cognito-idp",
    "kinesis_firehose": "firehose", "kinesis_analytics": "kinesisanalytics",
    "kinesisanalyticsv2": "kinesisanalytics", "service_discovery": "servicediscovery",
    "appautoscaling": "application-autoscaling", "api_gateway": "apigateway",
    "apigatewayv2": "apigateway", "lb": "elasticloadbalancing", "alb": "elasticloadbalancing",
    "elb": "elasticloadbalancing", "load_balancer": "elasticloadbalancing",
    "lb_cookie": "elasticloadbalancing", "app_cookie": "elasticloadbalancing",
    "proxy_protocol": "elasticloadbalancing", "db": "rds", "docdb": "rds", "neptune": "rds",
    "efs": "elasticfilesystem", "elasticsearch": "es", "opensearch": "es",
    "opensearchserverless": "aoss", "msk": "kafka", "mskconnect": "kafkaconnect",
    "sfn": "states", "sesv2": "ses", "wafregional": "waf-regional", "emr": "elasticmapreduce",
    "emrcontainers": "emr-containers", "emrserverless": "emr-serverless", "acmpca": "acm-pca",
    "ssoadmin": "sso", "directory_service": "ds", "s3control": "s3", "s3outposts": "s3-outposts",
    "redshiftserverless": "redshift-serverless", "prometheus": "aps", "lexv2models": "lex",
    "media_convert": "mediaconvert", "media_package": "mediapackage",
    "media_store": "mediastore", "route53recoveryreadiness": "route53-recovery-readiness",
    "route53recoverycontrolconfig": "route53-recovery-control-config",
    "codestarconnections": "codestar-connections",
    "codestarnotifications": "codestar-notifications",
    "servicecatalogappregistry": "servicecatalog", "elastic_beanstalk": "elasticbeanstalk",
    "cloudfrontkeyvaluestore": "cloudfront", "pinpointsmsvoicev2": "sms-voice",
    "chimesdkvoice": "chime", "chimesdkmediapipelines": "chime",
    "timestreamwrite": "timestream", "timestreaminfluxdb": "timestream-influxdb",
    "timestreamquery": "timestream", "dx": "directconnect", "vpclattice": "vpc-lattice",
    "networkmanager": "networkmanager", "autoscalingplans": "autoscaling-plans",
    "vpc_ipam": "ec2", "verifiedaccess": "ec2", "vpn": "ec2", "ebs": "ec2", "ami": "ec2",
    "default": "ec2", "eip": "ec2", "nat": "ec2", "internet": "ec2", "egress": "ec2",
    "subnet": "ec2", "route": "ec2", "network_acl": "ec2", "network_interface": "ec2",
    "customer_gateway": "ec2", "flow_log": "ec2", "instance": "ec2", "key_pair": "ec2",
    "launch_template": "ec2", "placement_group": "ec2", "security_group": "ec2",
    "spot": "ec2", "snapshot": "ec2", "volume": "ec2", "main_route": "ec2", "vpc": "ec2",
    "ec2": "ec2", "iam": "iam", "accessanalyzer": "access-analyzer", "ce": "ce",
    "securitylake": "securitylake", "ecrpublic": "ecr-public", "identitystore": "identitystore",
    "rolesanywhere": "rolesanywhere", "ssmincidents": "ssm-incidents",
    "ssmcontacts": "ssm-contacts", "workspacesweb": "workspaces-web",
    "resourceexplorer2": "resource-explorer-2", "resourcegroups": "resource-groups",
    "paymentcryptography": "payment-cryptography", "bedrockagent": "bedrock",
    "bedrockagentcore": "bedrock-agentcore", "mwaa": "airflow", "osis": "osis",
    "devopsguru": "devops-guru", "computeoptimizer": "compute-optimizer",
    "costoptimizationhub": "cost-optimization-hub", "dataexchange": "dataexchange",
    "applicationinsights": "applicationinsights", "serverlessapplicationrepository":
    "serverlessrepo", "cloudcontrolapi": "cloudformation", "internetmonitor": "internetmonitor",
    "networkmonitor": "networkmonitor", "networkflowmonitor": "networkflowmonitor",
}  # fmt: skip
# Services whose ARNs carry no region (and, for s3 and route53, no account).
NO_REGION = {"iam", "s3", "route53", "cloudfront", "organizations", "waf", "globalaccelerator",
             "shield", "budgets", "ce", "route53domains", "sts"}  # fmt: skip
NO_ACCOUNT = {"s3", "route53"}
# Services that separate resource kind and name with ':' rather than '/'.
COLON = {"lambda", "logs", "cloudwatch", "states", "rds", "elasticache", "redshift",
         "secretsmanager", "ssm-incidents", "codedeploy", "glue", "sagemaker"}  # fmt: skip
# Services whose ARN resource is the bare name (no kind).
BARE = {"sns", "sqs", "s3"}
# ARN resource kinds that differ from the type's remaining words.
ARN_KIND = {
    "aws_lb": "loadbalancer/app", "aws_alb": "loadbalancer/app",
    "aws_lb_target_group": "targetgroup", "aws_alb_target_group": "targetgroup",
    "aws_lb_listener": "listener/app", "aws_alb_listener": "listener/app",
    "aws_lb_listener_rule": "listener-rule/app", "aws_alb_listener_rule": "listener-rule/app",
    "aws_cloudwatch_metric_alarm": "alarm", "aws_cloudwatch_composite_alarm": "alarm",
    "aws_cloudwatch_event_rule": "rule", "aws_cloudwatch_event_bus": "event-bus",
    "aws_sfn_state_machine": "stateMachine", "aws_db_instance": "db", "aws_rds_cluster": "cluster",
    "aws_cognito_user_pool": "userpool", "aws_cognito_identity_pool": "identitypool",
    "aws_wafv2_web_acl": "regional/webacl", "aws_wafv2_ip_set": "regional/ipset",
    "aws_wafv2_rule_group": "regional/rulegroup", "aws_service_discovery_service": "service",
    "aws_service_discovery_private_dns_namespace": "namespace",
    "aws_service_discovery_http_namespace": "namespace",
    "aws_appautoscaling_target": "scalable-target", "aws_appautoscaling_policy": "scaling-policy",
    "aws_elasticache_cluster": "cluster", "aws_elasticache_replication_group": "replicationgroup",
    "aws_ecs_task_definition": "task-definition", "aws_ecs_service": "service",
    "aws_ecs_cluster": "cluster", "aws_kms_key": "key", "aws_kms_alias": "alias",
    "aws_iam_role": "role", "aws_iam_user": "user", "aws_iam_policy": "policy",
    "aws_iam_instance_profile": "instance-profile", "aws_iam_group": "group",
    "aws_api_gateway_rest_api": "/restapis", "aws_apigatewayv2_api": "/apis",
    "aws_ecr_repository": "repository", "aws_efs_file_system": "file-system",
    "aws_secretsmanager_secret": "secret", "aws_ssm_parameter": "parameter",
    "aws_dynamodb_table": "table", "aws_route53_zone": "hostedzone",
    "aws_cloudfront_distribution": "distribution", "aws_lambda_function": "function",
    "aws_lambda_layer_version": "layer",
}  # fmt: skip
# Attributes naming the resource, in order of preference, for ARNs and ids.
NAME_ATTRS = ("name", "function_name", "bucket", "family", "cluster_name", "alarm_name",
              "table_name", "repository_name", "role_name", "queue_name", "topic_name",
              "identifier", "cluster_identifier", "domain_name", "user_name")  # fmt: skip
ARN_RE = re.compile(r"^arn:aws:[a-z0-9-]+:([a-z]{2}(-[a-z]+)+-\d)?:(\d{12})?:\S+$")


def arn_service(type_name: str) -> str:
    words = type_name.removeprefix("aws_")
    for size in range(len(words), 0, -1):
        head = words[:size]
        if (size == len(words) or words[size] == "_") and head in ARN_SERVICE:
            return ARN_SERVICE[head]
    return words.split("_", 1)[0]


def arn_kind(type_name: str) -> str:
    if type_name in ARN_KIND:
        return ARN_KIND[type_name]
    words = type_name.removeprefix("aws_").split("_")
    service = arn_service(type_name)
    # drop the words that named the service: keep what names the resource kind
    rest = words[1:] if len(words) > 1 else words
    if service == "ec2" and words[0] in ("vpc", "ec2") and len(words) > 1:
        rest = words[1:]
    elif service == "ec2":
        rest = words
    return "-".join(rest) or words[-1]


def region_zone_ids(region: str) -> list[str]:
    """AZ ids as AWS names them: use1-az1, euw1-az1, apne1-az1, cac1-az1 ..."""
    area, *directions, number = region.split("-")
    code = area + "".join(
        {"northeast": "ne", "southeast": "se", "northwest": "nw", "southwest": "sw"}.get(d, d[:1])
        for d in directions
    )
    return [f"{code}{number}-az{i}" for i in (1, 2, 3)]


def _within(arn: Any, marker: str) -> str | None:
    """What follows ``marker`` in a known ARN (its resource path), else None."""
    known = _known(arn)
    if not isinstance(known, str) or marker not in known:
        return None
    return known.split(marker, 1)[1]


def well_formed_arn(arn: str) -> bool:
    return bool(ARN_RE.match(arn))


# --- values on apply -----------------------------------------------------------


def _known(value: Any) -> Any:
    return None if value is UNKNOWN else value


class Values:
    """Fills the unknowns of one resource instance on apply."""

    def __init__(
        self,
        type_name: str,
        value: dict[str, Any],
        region: str,
        account: str,
        default_tags: Mapping[str, str] | None = None,
        seed: str | None = None,
    ) -> None:
        self.type_name, self.value = type_name, value
        self.region, self.account = region, account
        self.default_tags = dict(default_tags or {})
        # random per instance; a seed (data sources) makes the same inputs give the same values
        self.rng = random.Random(seed) if seed is not None else None  # noqa: S311
        self._arn: str | None = None
        self._id: str | None = None
        self._names: dict[str, str] = {}

    # -- the resource's own name, id and ARN ----------------------------------

    def prefixed(self, attr: str) -> str:
        """A computed name: from ``<attr>_prefix`` when given, else terraform-<unique>."""
        if attr not in self._names:
            prefix = _known(self.value.get(f"{attr}_prefix"))
            base = prefix if isinstance(prefix, str) else "terraform-"
            suffix = unique_suffix() if self.rng is None else f"{self.rng.getrandbits(86):026d}"
            self._names[attr] = f"{base}{suffix[:26]}"
        return self._names[attr]

    def name(self) -> str:
        for key in NAME_ATTRS:
            got = _known(self.value.get(key))
            if isinstance(got, str) and got:
                return got
            if key in self.value and got is None and f"{key}_prefix" in self.value:
                return self.prefixed(key)
        if "name" in self.value:
            return self.prefixed("name")
        if self.type_name in ID_IS_ARN:  # its id is its ARN: the ARN cannot name it by id
            return self._names.setdefault("", self.hex(16))
        return self.ident()

    def arn(self) -> str:
        if self._arn is None:
            self._arn = self._make_arn()
        return self._arn

    def _make_arn(self) -> str:
        service = arn_service(self.type_name)
        region = "" if service in NO_REGION else self.region
        account = "" if service in NO_ACCOUNT else self.account
        kind = arn_kind(self.type_name)
        if service == "ec2" and self.type_name in EC2_ID:
            return f"arn:aws:ec2:{region}:{account}:{kind}/{self.ident()}"
        name = self.name()
        if service in BARE:
            resource = name
        elif kind.startswith("/"):  # API Gateway: no account, a path
            return f"arn:aws:{service}:{region}::{kind}/{self.ident()}"
        elif self.type_name in ("aws_lb_listener", "aws_alb_listener") and _within(
            self.value.get("load_balancer_arn"), ":loadbalancer/"
        ):
            # AWS: listener/app/<balancer name>/<balancer id>/<listener id>
            resource = f"listener/{_within(self.value['load_balancer_arn'], ':loadbalancer/')}/"
            resource += self.hex(16)
        elif self.type_name in ("aws_lb_listener_rule", "aws_alb_listener_rule") and _within(
            self.value.get("listener_arn"), ":listener/"
        ):
            # AWS: listener-rule/app/<balancer name>/<balancer id>/<listener id>/<rule id>
            resource = f"listener-rule/{_within(self.value['listener_arn'], ':listener/')}/"
            resource += self.hex(16)
        elif service == "elasticloadbalancing":
            resource = f"{kind}/{name}/{self.hex(16)}"
        elif self.type_name == "aws_ecs_task_definition":
            resource = f"{kind}/{name}:{self.revision()}"
        elif self.type_name == "aws_ecs_service":
            cluster = str(_known(self.value.get("cluster")) or "default").rsplit("/", 1)[-1]
            resource = f"{kind}/{cluster}/{name}"
        elif self.type_name == "aws_secretsmanager_secret":
            resource = f"{kind}:{name}-{self.hex(6)}"
        elif self.type_name == "aws_ssm_parameter":
            resource = f"{kind}/{name.lstrip('/')}"
        elif self.type_name in UUID_ID:
            resource = (
                f"{kind}/{self.ident()}" if service == "kms" else (f"{kind}/{name}/{self.ident()}")
            )
        elif self.type_name == "aws_cognito_user_pool":
            resource = f"{kind}/{self.ident()}"
        else:
            sep = ":" if service in COLON else "/"
            resource = f"{kind}{sep}{name}"
        return f"arn:aws:{service}:{region}:{account}:{resource}"

    def hex(self, n: int = 17) -> str:
        return hexid(n, self.rng)

    def revision(self) -> int:
        got = _known(self.value.get("revision"))
        return got if isinstance(got, int) and got > 0 else 1

    def ident(self) -> str:
        if self._id is None:
            self._id = self._make_id()
        return self._id

    def _make_id(self) -> str:
        t = self.type_name
        if t in ID_IS_ARN:
            got = _known(self.value.get("arn"))
            return got if isinstance(got, str) else self.arn()
        if t in ID_JOIN:
            a, b = (str(_known(self.value.get(k)) or "") for k in ID_JOIN[t])
            return (
                f"{a}:{b}"
                if t == "aws_iam_role_policy"
                else (f"{a}/{b}" if t.startswith("aws_s3") else f"{a},{b}")
            )
        source = ID_FROM.get(t)
        if source == "url":
            return self.queue_url()
        if source and isinstance(_known(self.value.get(source)), str):
            return str(self.value[source])
        if t in EC2_ID:
            return f"{EC2_ID[t]}-{self.hex()}"
        if t in UUID_ID:
            h = self.hex(32)
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if t == "aws_cognito_user_pool":
            return f"{self.region}_{self.hex(9)}"
        if any(key in self.value for key in NAME_ATTRS):
            return self.name()
        return self.hex(20)

    def queue_url(self) -> str:
        return f"https://sqs.{self.region}.amazonaws.com/{self.account}/{self.name()}"

    # -- every other unknown: by attribute name and type ----------------------

    def __call__(self, path: Path, typ: Any) -> Any:
        name = str(path[-1]) if path else ""
        top = len(path) == 1
        if typ == "string":
            return self.string(name, top)
        if typ == "number":
            return self.number(name)
        if typ == "bool":
            return False
        if isinstance(typ, list) and typ[0] == "map":
            if name == "tags_all" and top:
                return merged_tags(self.default_tags, self.value.get("tags"))
            return {}
        if isinstance(typ, list) and typ[0] in ("list", "set"):
            return []
        if isinstance(typ, list) and typ[0] == "object":
            return {k: self((*path, k), t) for k, t in typ[1].items()}
        return None

    def number(self, name: str) -> int:
        if name in ("revision", "version", "latest_version", "schema_version"):
            return self.revision() if name == "revision" else 1
        return 0

    def string(self, name: str, top: bool) -> str:
        if top and name == "id":
            return self.ident()
        if top and name == "arn":
            return self.arn()
        if top and (name in NAME_ATTRS or f"{name}_prefix" in self.value):
            return self.prefixed(name) if f"{name}_prefix" in self.value else self.name()
        if top and name == "arn_without_revision":
            return re.sub(r":\d+$", "", self.arn())
        if top and name == "url" and self.type_name == "aws_sqs_queue":
            return self.queue_url()
        if name in ("owner_id", "account_id"):
            return self.account
        if name == "region":
            return self.region
        if name == "availability_zone":
            return f"{self.region}a"
        if name == "availability_zone_id":
            return region_zone_ids(self.region)[0]
        if name == "dns_name" and arn_service(self.type_name) == "elasticloadbalancing":
            return f"{self.name()[:20]}-{int(self.hex(8), 16)}.{self.region}.elb.amazonaws.com"
        if name == "zone_id":
            return "Z35SXDOTRQ7X7K"
        if name == "arn_suffix":
            return self.arn().split(":", 5)[5].split("/", 1)[1]
        if name.endswith("_arn"):
            return f"{self.arn()}/{name.removesuffix('_arn')}"
        if name.endswith("_id"):
            prefix = ATTR_PREFIX.get(name, name.removesuffix("_id").split("_")[-1])
            return f"{prefix}-{self.hex()}" if prefix else self.account
        return self.shaped(name)

    def shaped(self, name: str) -> str:
        """A string whose name says what it holds: addresses, ranges, times, URLs."""
        h = self.hex(6)
        if "ipv6" in name and "cidr" in name:
            return f"2600:1f18:{h[:4]}:{h[4:]}00::/56"
        if "cidr" in name:
            return f"10.{int(h[:2], 16)}.0.0/16"
        if "ipv6" in name and ("ip" in name.split("_") or name.endswith(("address", "addresses"))):
            return f"2600:1f18:{h[:4]}::{h[4:]}"
        if name.endswith(("_ip", "ip_address")) or name in ("ip", "public_ip", "private_ip"):
            return f"10.{int(h[:2], 16)}.{int(h[2:4], 16)}.{int(h[4:], 16) % 254 + 1}"
        if name.endswith(("_date", "_time", "_timestamp")) or name in ("created", "updated"):
            return "2026-01-01T00:00:00Z"
        if name.endswith(("url", "_uri", "endpoint")):
            return f"https://{self.name()[:32].lower()}.{self.region}.amazonaws.com"
        if name.endswith(("dns_name", "_domain", "hostname", "fqdn")):
            return f"{self.name()[:32].lower()}-{h}.{self.region}.amazonaws.com"
        if name.endswith(("_json", "policy", "document")):
            return "{}"
        return ""


def fill_names(values: Values, planned: dict[str, Any]) -> None:
    """Give unknown names their value now (from prefixes): the emulator needs them."""
    for name in NAME_ATTRS:
        if planned.get(name) is UNKNOWN:
            planned[name] = values.string(name, True)


def merged_tags(default_tags: Mapping[str, str], tags: Any) -> Any:
    """tags_all: the provider's default_tags, overridden by the resource's tags."""
    if tags is UNKNOWN or (isinstance(tags, dict) and any(v is UNKNOWN for v in tags.values())):
        return UNKNOWN
    return {**default_tags, **(tags if isinstance(tags, dict) else {})}


# --- what some resources compute at plan time ---------------------------------


def _acm_validation(planned: dict[str, Any], values: Values | None) -> None:
    """aws_acm_certificate plans one validation record per domain (names known at
    plan time, records after apply), as modules index them."""
    if planned.get("validation_method") not in ("DNS", None, UNKNOWN):
        return
    domains = [planned.get("domain_name"), *(planned.get("subject_alternative_names") or [])]
    if any(d is UNKNOWN for d in domains) or planned.get("subject_alternative_names") is UNKNOWN:
        return
    options = planned.get("domain_validation_options")
    if values is None:  # plan: known domains, unknown records
        planned["domain_validation_options"] = [
            {"domain_name": d, "resource_record_name": UNKNOWN,
             "resource_record_type": UNKNOWN, "resource_record_value": UNKNOWN}
            for d in sorted({d for d in domains if isinstance(d, str)})
        ]  # fmt: skip
    elif isinstance(options, list):  # apply: the CNAME records ACM asks for
        for option in options:
            token = values.hex(32)
            domain = str(option.get("domain_name", "")).lstrip("*.")
            option.update(
                resource_record_name=f"_{token}.{domain}.",
                resource_record_type="CNAME",
                resource_record_value=f"_{values.hex(32)}.acm-validations.aws.",
            )


def _signed_object(planned: dict[str, Any], values: Values | None) -> None:
    """aws_signer_signing_job writes the signed copy where its destination says
    (modules deploy it from signed_object[0].s3[0])."""
    try:
        s3 = planned["destination"][0]["s3"][0]
    except (KeyError, IndexError, TypeError):
        return
    if values is None or not isinstance(s3.get("bucket"), str):
        return
    key = f"{s3.get('prefix') or ''}{uuid.UUID(values.hex(32))}.zip"
    planned["signed_object"] = [{"s3": [{"bucket": s3["bucket"], "key": key}]}]


# type -> rule(planned, values): called on create with values None (plan) and
# with the instance's Values (apply), before the generic fill.
COMPUTED = {"aws_acm_certificate": _acm_validation, "aws_signer_signing_job": _signed_object}


def on_plan(type_name: str, planned: dict[str, Any]) -> None:
    rule = COMPUTED.get(type_name)
    if rule is not None:
        rule(planned, None)


def on_apply(type_name: str, planned: dict[str, Any], values: Values) -> None:
    rule = COMPUTED.get(type_name)
    if rule is not None:
        rule(planned, values)


# --- replacement ---------------------------------------------------------------

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
    "aws_cloudwatch_metric_alarm": ["alarm_name"],
    "aws_dynamodb_table": ["name"],
    "aws_cognito_user_pool": ["name", "alias_attributes", "username_attributes"],
    "aws_cognito_user_pool_client": ["user_pool_id"],
    "aws_cognito_user_group": ["name", "user_pool_id"],
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


def requires_replace(type_name: str, prior: dict[str, Any], planned: dict[str, Any]) -> list[str]:
    return [k for k in FORCE_NEW.get(type_name, []) if prior.get(k) != planned.get(k)]


# --- data sources ------------------------------------------------------------

ELB_ACCOUNTS = {"us-east-1": "127311923021", "us-east-2": "033677994240",
                "us-west-2": "797873946194", "eu-west-1": "156460612806",
                "eu-central-1": "054676820928"}  # fmt: skip


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


def public_parameter(name: str, region: str) -> str | None:
    """The value of one of AWS's public SSM parameters (``/aws/service/...``), in the
    shape AWS publishes it: modules compute with it at plan (``jsondecode`` of the
    ECS-optimized AMI's document, an AMI id, an image URI)."""
    if not name.startswith("/aws/service/"):
        return None
    seed = hashlib.sha256(f"{region}:{name}".encode()).hexdigest()
    ami = f"ami-{seed[:17]}"
    if "aws-for-fluent-bit" in name:
        tag = name.rsplit("/", 1)[1]
        return f"906394416424.dkr.ecr.{region}.amazonaws.com/aws-for-fluent-bit:{tag}"
    if name.endswith("/recommended") and "optimized-ami" in name:
        return json.dumps({
            "ecs_agent_version": "1.89.2", "ecs_runtime_version": "Docker version 25.0.6",
            "image_id": ami, "image_name": "al2023-ami-ecs-hvm-2023.0.20250110-kernel-6.1-x86_64",
            "image_version": "2023.0.20250110", "os": "Amazon Linux 2023", "schema_version": 1,
            "source_image_name": "al2023-ami-minimal-2023.6.20250107.0-kernel-6.1-x86_64",
        })  # fmt: skip
    if name.endswith("/image_name"):
        return "al2023-ami-ecs-hvm-2023.0.20250110-kernel-6.1-x86_64"
    if name.endswith("/image_id") or "ami" in name:
        return ami
    return None


def read_data(type_name: str, config: dict[str, Any], region: str, account: str) -> dict[str, Any]:
    """What a data source returns beyond its computed attributes' well-formed values
    (filled afterwards by type): the sources whose values modules compute with."""
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
    elif type_name == "aws_ssm_parameter" and isinstance(config.get("name"), str):
        value = public_parameter(config["name"], region)
        if value is not None:
            state.update(value=value, insecure_value=value, type="String", version=1)
    elif type_name == "aws_availability_zones":
        state.update(id=region, names=[f"{region}{z}" for z in "abc"],
                     zone_ids=region_zone_ids(region), group_names=[region])  # fmt: skip
    return state


def data_value(values: Values, path: Path, typ: Any) -> Any:
    """A computed attribute of a data source nobody set: well-formed for its type.
    Lists and sets of primitives get one element, so indexing them works."""
    if isinstance(typ, list) and typ[0] in ("list", "set") and isinstance(typ[1], str):
        name = str(path[-1]) if path else ""
        stem = values.type_name.removesuffix("s")
        if name == "ids" and stem in EC2_ID:  # aws_subnets.ids -> ["subnet-..."]
            return [f"{EC2_ID[stem]}-{values.hex()}"]
        return [values((*path[:-1], name.removesuffix("s")), typ[1])]
    return values(path, typ)

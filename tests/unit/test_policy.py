import gzip
import json

import pytest

from saasctl import policy
from saasctl.policy import evaluate, open_to_internet
from tests.conftest import REPO

PLANS = REPO / "tests" / "fixtures" / "plans"


def change(
    address: str,
    rtype: str,
    actions: list[str],
    after: dict | None = None,  # type: ignore[type-arg]
    before: dict | None = None,
) -> dict:  # type: ignore[type-arg]
    return {
        "address": address,
        "type": rtype,
        "change": {"actions": actions, "after": after, "before": before},
    }


def test_destroying_protected_resources_needs_allow_destroy() -> None:
    plan = {
        "resource_changes": [
            change("module.shared.module.vpc.aws_vpc.this", "aws_vpc", ["delete"]),
            change("module.shared.aws_s3_bucket.alb_logs", "aws_s3_bucket", ["delete", "create"]),
            change("module.tenant.aws_lb_listener_rule.this", "aws_lb_listener_rule", ["delete"]),
        ]
    }
    found = evaluate(plan)
    assert [v.address for v in found] == [
        "module.shared.module.vpc.aws_vpc.this",
        "module.shared.aws_s3_bucket.alb_logs",
    ]
    assert "destroys a stateful/shared aws_vpc" in found[0].rule
    assert "replaces a stateful/shared aws_s3_bucket" in found[1].rule
    assert evaluate(plan, allow={"destroy"}) == []


def test_stand_ins_are_judged_as_what_they_stand_for() -> None:
    plan = {
        "resource_changes": [
            change(
                "module.tenant.null_resource.cluster",
                "null_resource",
                ["delete"],
                before={"triggers": {"stands_for": "aws_ecs_cluster"}},
            ),
            change(
                "module.tenant.null_resource.service",
                "null_resource",
                ["delete"],
                before={"triggers": {"stands_for": "aws_ecs_service"}},
            ),
        ]
    }
    assert [v.address for v in evaluate(plan)] == ["module.tenant.null_resource.cluster"]


# The configuration of an ALB module as `terraform show -json` gives it: the load
# balancer names its security group, the ingress rules attach to that group.
ALB_CONFIG = {
    "root_module": {
        "module_calls": {
            "shared": {
                "module": {
                    "module_calls": {
                        "alb": {
                            "module": {
                                "resources": [
                                    {
                                        "address": "aws_lb.this",
                                        "type": "aws_lb",
                                        "expressions": {
                                            "security_groups": {
                                                "references": [
                                                    "aws_security_group.this.id",
                                                    "aws_security_group.this",
                                                ]
                                            }
                                        },
                                    },
                                    {
                                        "address": "aws_vpc_security_group_ingress_rule.https",
                                        "type": "aws_vpc_security_group_ingress_rule",
                                        "expressions": {
                                            "security_group_id": {
                                                "references": [
                                                    "aws_security_group.this.id",
                                                    "aws_security_group.this",
                                                ]
                                            }
                                        },
                                    },
                                ]
                            }
                        }
                    }
                }
            }
        }
    }
}


def test_open_ingress_only_on_alb_http_ports() -> None:
    ok = {
        "configuration": ALB_CONFIG,
        "resource_changes": [
            change(
                'module.shared.module.alb.aws_vpc_security_group_ingress_rule.https["0.0.0.0/0"]',
                "aws_vpc_security_group_ingress_rule",
                ["create"],
                {"cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443},
            ),
            change(
                "module.x.aws_vpc_security_group_ingress_rule.from_alb",
                "aws_vpc_security_group_ingress_rule",
                ["create"],
                {"referenced_security_group_id": "sg-1", "from_port": 80, "to_port": 80},
            ),
        ],
    }
    assert evaluate(ok) == []
    bad = {
        "configuration": ALB_CONFIG,
        "resource_changes": [
            change(
                "module.shared.module.alb.aws_vpc_security_group_ingress_rule.ssh",
                "aws_vpc_security_group_ingress_rule",
                ["create"],
                {"cidr_ipv4": "0.0.0.0/0", "from_port": 22, "to_port": 22},
            ),
            change(
                "module.svc.aws_vpc_security_group_ingress_rule.web",
                "aws_vpc_security_group_ingress_rule",
                ["update"],
                {"cidr_ipv6": "::/0", "from_port": 443, "to_port": 443},
            ),
            change(
                "aws_security_group.legacy",
                "aws_security_group",
                ["create"],
                {"ingress": [{"cidr_blocks": ["0.0.0.0/0"], "from_port": 0, "to_port": 65535}]},
            ),
            change(
                "aws_security_group_rule.r",
                "aws_security_group_rule",
                ["create"],
                {
                    "type": "ingress",
                    "cidr_blocks": ["0.0.0.0/0"],
                    "from_port": 5432,
                    "to_port": 5432,
                },
            ),
        ],
    }
    found = evaluate(bad, allow={"destroy"})
    assert len(found) == 4
    assert "ports 22-22" in found[0].rule and "only a load balancer's own 80/443" in found[0].rule


# Each resource shape that can open ingress, with where its ranges go.
SHAPES = {
    "aws_vpc_security_group_ingress_rule": lambda v4, v6: {
        "cidr_ipv4": v4,
        "cidr_ipv6": v6,
        "from_port": 5432,
        "to_port": 5432,
    },
    "aws_security_group_rule": lambda v4, v6: {
        "type": "ingress",
        "cidr_blocks": [v4] if v4 else [],
        "ipv6_cidr_blocks": [v6] if v6 else [],
        "from_port": 5432,
        "to_port": 5432,
    },
    "aws_security_group": lambda v4, v6: {
        "ingress": [
            {
                "cidr_blocks": [v4] if v4 else [],
                "ipv6_cidr_blocks": [v6] if v6 else [],
                "from_port": 5432,
                "to_port": 5432,
            }
        ]
    },
}


def _one(rtype: str, after: dict, actions: tuple[str, ...] = ("create",)) -> list[str]:  # type: ignore[type-arg]
    plan = {"resource_changes": [change(f"module.db.{rtype}.x", rtype, list(actions), after)]}
    return [v.rule for v in evaluate(plan, allow={"destroy"})]


@pytest.mark.parametrize("rtype", sorted(SHAPES))
@pytest.mark.parametrize(
    ("v4", "v6"),
    [
        ("0.0.0.0/0", None),
        (None, "::/0"),  # the hole: inline ipv6_cidr_blocks were ignored
        ("1.2.3.4/0", None),  # host bits set: still every address
        (None, "::ffff:0:0/96"),  # every IPv4 address, mapped into IPv6
        (None, "::/1"),  # half of IPv6
        (" 0.0.0.0/0 ", None),
    ],
)
def test_ingress_open_to_the_internet_is_caught_in_every_shape(
    rtype: str, v4: str | None, v6: str | None
) -> None:
    for actions in (("create",), ("update",), ("delete", "create")):
        rules = _one(rtype, SHAPES[rtype](v4, v6), actions)
        assert len(rules) == 1 and "ports 5432-5432" in rules[0], (rtype, v4, v6, rules)


@pytest.mark.parametrize("rtype", sorted(SHAPES))
@pytest.mark.parametrize(
    ("v4", "v6"),
    [
        ("10.0.0.0/16", None),
        (None, "2001:db8::/32"),
        ("203.0.113.7/32", "2001:db8::1/128"),
        ("0.0.0.0/2", None),  # a quarter: not the internet by OPEN_SHARE
        ("not-a-cidr", None),  # invalid: terraform rejects it, not this gate
    ],
)
def test_restricted_ingress_passes_in_every_shape(
    rtype: str, v4: str | None, v6: str | None
) -> None:
    assert _one(rtype, SHAPES[rtype](v4, v6)) == []


def test_coverage_is_judged_over_all_ranges_of_a_rule() -> None:
    halves = {
        "type": "ingress",
        "cidr_blocks": ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        "from_port": 22,
        "to_port": 22,
    }
    assert len(_one("aws_security_group_rule", halves)) == 1
    assert open_to_internet(["0.0.0.0/1", "0.0.0.0/2"]) is True  # overlap counted once
    assert open_to_internet(["0.0.0.0/2", "0.0.0.0/2"]) is False
    assert open_to_internet([None, 7, "::/0"]) is True  # unknowns are skipped


@pytest.mark.parametrize(
    "rtype",
    [
        "aws_cloudwatch_log_group",
        "aws_dynamodb_table",
        "aws_kms_key",
        "aws_db_instance",
        "aws_rds_cluster",
        "aws_efs_file_system",
        "aws_s3_bucket",
        "aws_lb",
        "aws_vpc",
        "aws_ecs_cluster",
        "aws_cognito_user_pool",
    ],
)
def test_every_protected_type_is_gated(rtype: str) -> None:
    for actions, verb in ((["delete"], "destroys"), (["delete", "create"], "replaces")):
        plan = {"resource_changes": [change(f"module.m.{rtype}.this", rtype, actions)]}
        found = evaluate(plan)
        assert [str(v) for v in found] == [
            f"module.m.{rtype}.this: plan {verb} a stateful/shared {rtype} "
            "(pass --allow-destroy if intended)"
        ]
        assert evaluate(plan, allow={"destroy"}) == []


def test_the_alb_exemption_is_the_balancers_group_not_a_module_name() -> None:
    """80/443 open to the internet pass on the group a load balancer uses, found in
    the configuration; a group that only lives in a module called `alb` does not."""
    rule = {"cidr_ipv4": "0.0.0.0/0", "from_port": 443, "to_port": 443}
    attached = 'module.shared.module.alb.aws_vpc_security_group_ingress_rule.https["0.0.0.0/0"]'
    other = "module.shared.module.alb.aws_vpc_security_group_ingress_rule.admin"
    plan = {
        "configuration": ALB_CONFIG,
        "resource_changes": [
            change(attached, "aws_vpc_security_group_ingress_rule", ["create"], rule),
            change(other, "aws_vpc_security_group_ingress_rule", ["create"], rule),
        ],
    }
    assert [v.address for v in evaluate(plan)] == [other]
    # Without the configuration (a plan from elsewhere) nothing is exempt.
    assert len(evaluate({"resource_changes": plan["resource_changes"]})) == 2


def _policy(*statements: dict) -> str:  # type: ignore[type-arg]
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


READ_ITEMS = {"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "arn:aws:dynamodb:::t"}
# (rule id, resource type, before, after): each a plan that weakens a control.
WEAKENINGS = {
    "table deletion protection off": (
        "data-protection", "aws_dynamodb_table",
        {"deletion_protection_enabled": True}, {"deletion_protection_enabled": False},
    ),
    "table PITR off": (
        "data-protection", "aws_dynamodb_table",
        {"point_in_time_recovery": [{"enabled": True}]},
        {"point_in_time_recovery": [{"enabled": False}]},
    ),
    "key disabled": ("kms", "aws_kms_key", {"is_enabled": True}, {"is_enabled": False}),
    "key rotation off": (
        "kms", "aws_kms_key", {"enable_key_rotation": True}, {"enable_key_rotation": False},
    ),
    "policy to * actions": (
        "wildcard-policy", "aws_iam_role_policy",
        {"policy": _policy(READ_ITEMS)},
        {"policy": _policy({**READ_ITEMS, "Action": "*"})},
    ),
    "policy to svc:* actions": (
        "wildcard-policy", "aws_iam_policy",
        {"policy": _policy(READ_ITEMS)},
        {"policy": _policy({**READ_ITEMS, "Action": ["dynamodb:*"]})},
    ),
    "policy to * resources": (
        "wildcard-policy", "aws_iam_role_policy",
        {"policy": _policy(READ_ITEMS)},
        {"policy": _policy({**READ_ITEMS, "Resource": ["*"]})},
    ),
    "inline role policy with NotAction": (
        "wildcard-policy", "aws_iam_role",
        {"inline_policy": [{"policy": _policy(READ_ITEMS)}]},
        {"inline_policy": [{"policy": _policy({"Effect": "Allow", "NotAction": "iam:*",
                                               "Resource": "arn:aws:s3:::b"})}]},
    ),
    "key policy to kms:*": (
        "wildcard-policy", "aws_kms_key",
        {"policy": _policy({"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"})},
        {"policy": _policy({"Effect": "Allow", "Action": "kms:*", "Resource": "*"})},
    ),
    "egress everywhere on every port": (
        "open-egress", "aws_vpc_security_group_egress_rule",
        None, {"cidr_ipv4": "0.0.0.0/0", "ip_protocol": "-1"},
    ),
    "inline egress everywhere on 0-65535": (
        "open-egress", "aws_security_group",
        {"egress": []},
        {"egress": [{"cidr_blocks": ["0.0.0.0/0"], "protocol": "tcp", "from_port": 0,
                     "to_port": 65535}]},
    ),
    "ingress into the default group": (
        "ingress-path", "aws_default_security_group",
        {"ingress": []},
        {"ingress": [{"cidr_blocks": ["10.0.0.0/16"], "protocol": "tcp", "from_port": 22,
                      "to_port": 22}]},
    ),
    "ingress through a prefix list": (
        "ingress-path", "aws_vpc_security_group_ingress_rule",
        None, {"prefix_list_id": "pl-123", "ip_protocol": "tcp", "from_port": 443, "to_port": 443},
    ),
    "public-access block off": (
        "public-access", "aws_s3_bucket_public_access_block",
        {"block_public_policy": True}, {"block_public_policy": False},
    ),
    "client writes custom:tenantId": (
        "tenant-claim", "aws_cognito_user_pool_client",
        {"write_attributes": ["email"]}, {"write_attributes": ["email", "custom:tenantId"]},
    ),
    "custom:tenantId made mutable": (
        "tenant-claim", "aws_cognito_user_pool",
        {"schema": [{"name": "tenantId", "mutable": False}]},
        {"schema": [{"name": "tenantId", "mutable": True}]},
    ),
    "tasks with public IPs": (
        "public-ip", "aws_ecs_service",
        {"network_configuration": [{"assign_public_ip": False}]},
        {"network_configuration": [{"assign_public_ip": True}]},
    ),
    "TLS policy weakened": (
        "tls", "aws_lb_listener",
        {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"},
        {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
    ),
    "TLS 1.0 policy": (
        "tls", "aws_lb_listener",
        None, {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-2016-08"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(WEAKENINGS))
def test_each_weakening_fails_in_one_line_unless_its_rule_is_allowed(case: str) -> None:
    rule_id, rtype, before, after = WEAKENINGS[case]
    actions = ["create"] if before is None else ["update"]
    plan = {"resource_changes": [change(f"module.m.{rtype}.this", rtype, actions, after, before)]}
    found = evaluate(plan)
    assert [v.rule_id for v in found] == [rule_id], (case, found)
    line = str(found[0])
    assert line.startswith(f"module.m.{rtype}.this: ") and "\n" not in line
    assert f"--allow {rule_id}" in line
    assert evaluate(plan, allow={rule_id}) == []
    assert [v.rule_id for v in evaluate(plan, allow={"destroy"})] == [rule_id]  # per rule
    # The same setting unchanged is not this plan's doing.
    if before is not None:
        same = {
            "resource_changes": [change(f"module.m.{rtype}.this", rtype, ["update"], after, after)]
        }
        assert evaluate(same) == [], case


@pytest.mark.parametrize(
    ("rtype", "before"),
    [
        ("aws_wafv2_web_acl_association", {"resource_arn": "arn:lb"}),
        ("aws_lb_listener", {"protocol": "HTTPS", "port": 443}),
    ],
)
def test_removing_the_edge_needs_its_own_allowance(rtype: str, before: dict) -> None:  # type: ignore[type-arg]
    plan = {"resource_changes": [change(f"module.m.{rtype}.this", rtype, ["delete"], None, before)]}
    assert [v.rule_id for v in evaluate(plan, allow={"destroy"})] == ["edge"]
    assert evaluate(plan, allow={"edge"}) == []
    http = change("module.m.aws_lb_listener.http", "aws_lb_listener", ["delete"], None,
                  {"protocol": "HTTP", "port": 80})  # fmt: skip
    assert evaluate({"resource_changes": [http]}) == []


def test_narrowing_and_resourceless_actions_pass() -> None:
    narrowed = change(
        "module.m.aws_iam_role_policy.p", "aws_iam_role_policy", ["update"],
        {"policy": _policy(READ_ITEMS)}, {"policy": _policy({**READ_ITEMS, "Action": "*"})},
    )  # fmt: skip
    token = change(
        "module.m.aws_iam_role_policy.ecr", "aws_iam_role_policy", ["create"],
        {"policy": _policy({"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken",
                           "elasticloadbalancing:DescribeRules"], "Resource": "*"})},
    )  # fmt: skip
    denied = change(
        "module.m.aws_s3_bucket_policy.tls", "aws_s3_bucket_policy", ["create"],
        {"policy": _policy({"Effect": "Deny", "Action": "s3:*", "Resource": "*"})},
    )  # fmt: skip
    unknown = change("module.m.aws_iam_role_policy.u", "aws_iam_role_policy", ["create"], {})
    stronger = change(
        "module.m.aws_lb_listener.https", "aws_lb_listener", ["update"],
        {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-Res-PQ-2025-09"},
        {"protocol": "HTTPS", "ssl_policy": "ELBSecurityPolicy-TLS13-1-2-2021-06"},
    )  # fmt: skip
    plan = {"resource_changes": [narrowed, token, denied, unknown, stronger]}
    assert evaluate(plan) == []


def test_an_unknown_rule_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown policy rule"):
        evaluate({"resource_changes": []}, allow={"no-such-rule"})


@pytest.mark.parametrize("name", ["shared", "basic", "advanced", "premium"])
def test_the_real_modules_own_plans_pass_every_gate(name: str) -> None:
    """Recorded plans of the real modules (tests/fixtures/plans): a fresh
    environment and a tenant of each tier break no rule, the ALB's 80/443 included."""
    plan = json.loads(gzip.decompress((PLANS / f"{name}.plan.json.gz").read_bytes()))
    assert evaluate(plan) == []
    if name == "shared":
        groups = policy.balancer_groups(plan)
        assert "module.shared.module.alb.aws_security_group.this" in groups
        assert "module.shared.module.alb.aws_vpc_security_group_ingress_rule.https" in groups


@pytest.mark.parametrize(
    ("rtype", "actions", "refused"),
    [
        ("aws_ecs_task_definition", ["create"], False),  # a new revision
        ("aws_ecs_task_definition", ["delete", "create"], False),  # replacing the old
        ("aws_ecs_task_definition", ["create", "delete"], False),
        ("aws_ecs_service", ["update"], False),  # pointed at it
        ("aws_ecs_service", ["delete"], True),  # the service gone
        ("aws_ecs_service", ["delete", "create"], True),  # its tasks stopped first
        ("aws_ecs_service", ["create"], True),  # a new service is infrastructure
        ("aws_ecs_task_definition", ["delete"], True),  # nothing left to run
        ("aws_lb_listener_rule", ["update"], True),
        ("aws_iam_role_policy", ["delete"], True),
        ("aws_ssm_parameter", ["create"], False),  # a config version's document
        ("aws_ssm_parameter", ["update"], False),
        ("aws_ssm_parameter", ["delete"], False),  # rolled back to no configuration
        ("aws_ssm_parameter", ["delete", "create"], True),  # replaced: a renamed parameter
    ],
)
def test_a_release_registers_revisions_and_updates_services_only(
    rtype: str, actions: list[str], refused: bool
) -> None:
    plan = {"resource_changes": [change(f"module.svc.{rtype}.this", rtype, actions, {}, {})]}
    found = policy.release_violations(plan)
    assert bool(found) is refused, found
    if refused:
        assert f"would {'/'.join(actions)} a {rtype}" in str(found[0])
        assert "--allow-infra-change" in str(found[0])


def test_release_checks_judge_stand_ins_as_what_they_stand_for() -> None:
    """A stand-in service changes only by replacement (null_resource): that is its
    update; deleting it is still deleting a service."""

    def standin(actions: list[str]) -> dict:  # type: ignore[type-arg]
        return change("module.svc.null_resource.service", "null_resource", actions,
                      None, {"triggers": {"stands_for": "aws_ecs_service"}})  # fmt: skip

    assert policy.release_violations({"resource_changes": [standin(["delete", "create"])]}) == []
    [found] = policy.release_violations({"resource_changes": [standin(["delete"])]})
    assert "would delete a aws_ecs_service" in str(found)


def test_a_config_rollout_may_grant_only_reading_the_tenant_config() -> None:
    """The task role's `tenant-config` policy comes with a service's first config
    version and goes with a rollback to none; any other role policy is refused."""

    def policy_change(actions: list[str], name: str) -> dict:  # type: ignore[type-arg]
        values = {"name": name, "policy": "{}"}
        after, before = (None, values) if actions == ["delete"] else (values, None)
        return change("module.svc.aws_iam_role_policy.config", "aws_iam_role_policy", actions,
                      after, before)  # fmt: skip

    for actions in (["create"], ["update"], ["delete"]):
        plan = {"resource_changes": [policy_change(actions, "tenant-config")]}
        assert policy.release_violations(plan) == [], actions
    [found] = policy.release_violations(
        {"resource_changes": [policy_change(["create"], "tenant-logs")]}
    )
    assert "would create a aws_iam_role_policy" in str(found)

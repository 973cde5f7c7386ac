import pytest

from saasctl.policy import evaluate, open_to_internet


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
    found = evaluate(plan, allow_destroy=False)
    assert [v.address for v in found] == [
        "module.shared.module.vpc.aws_vpc.this",
        "module.shared.aws_s3_bucket.alb_logs",
    ]
    assert "destroys a stateful/shared aws_vpc" in found[0].rule
    assert "replaces a stateful/shared aws_s3_bucket" in found[1].rule
    assert evaluate(plan, allow_destroy=True) == []


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
    assert [v.address for v in evaluate(plan, allow_destroy=False)] == [
        "module.tenant.null_resource.cluster"
    ]


def test_open_ingress_only_on_alb_http_ports() -> None:
    ok = {
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
        ]
    }
    assert evaluate(ok, allow_destroy=False) == []
    bad = {
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
        ]
    }
    found = evaluate(bad, allow_destroy=True)
    assert len(found) == 4
    assert "ports 22-22" in found[0].rule and "only the ALB's 80/443" in found[0].rule


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
    return [v.rule for v in evaluate(plan, allow_destroy=True)]


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
    ],
)
def test_every_protected_type_is_gated(rtype: str) -> None:
    for actions, verb in ((["delete"], "destroys"), (["delete", "create"], "replaces")):
        plan = {"resource_changes": [change(f"module.m.{rtype}.this", rtype, actions)]}
        found = evaluate(plan, allow_destroy=False)
        assert [str(v) for v in found] == [
            f"module.m.{rtype}.this: plan {verb} a stateful/shared {rtype} "
            "(pass --allow-destroy if intended)"
        ]
        assert evaluate(plan, allow_destroy=True) == []

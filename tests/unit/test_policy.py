from saasctl.policy import evaluate


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

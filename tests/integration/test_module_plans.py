"""Plans of the real modules, state only, through the offline provider: what a
module grants follows from its inputs."""

from __future__ import annotations

import json
import shutil
from functools import partial
from pathlib import Path

import pytest

from saasctl import lifecycle
from tests.conftest import REPO
from tests.iam_eval import allowed
from tests.integration.conftest import BINARIES, NEEDS_OFFLINE_AWS, NEEDS_TERRAFORM
from tests.integration.test_conformance import offline_terraform

pytestmark = [pytest.mark.integration, NEEDS_TERRAFORM, NEEDS_OFFLINE_AWS]
FIXTURES = REPO / "tests" / "fixtures"
PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def _prepare(tmp_path: Path, fixture: str) -> Path:
    """The fixture and the modules it calls, with the fixtures' provider beside it."""
    workdir = lifecycle.prepare(FIXTURES / fixture, tmp_path / fixture)
    shutil.copy(FIXTURES / "module-plans-provider.tf", workdir / "provider.tf")
    return workdir


def _plan(tmp_path: Path, fixture: str, variables: dict | None = None) -> dict:  # type: ignore[type-arg]
    tf = offline_terraform(BINARIES[-1])
    workdir = _prepare(tmp_path, fixture)
    (workdir / "terraform.tfvars.json").write_text(json.dumps(variables or {}))
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    tf.run(workdir, ["plan", "-input=false", "-no-color", "-out=plan"], ok_codes=(0, 2))
    return json.loads(tf.run(workdir, ["show", "-json", "plan"]).stdout)  # type: ignore[no-any-return]


def _execution_policies(tmp_path: Path, images: dict[str, str]) -> dict[str, dict]:  # type: ignore[type-arg]
    plan = _plan(tmp_path, "ecr-pull", {"images": images})
    return {  # module.service["private"] -> its execution role's policy
        rc["module_address"].split('"')[1]: json.loads(rc["change"]["after"]["policy"])
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_iam_role_policy" and rc["name"] == "execution"
    }


def test_a_private_ecr_image_is_pulled_from_its_repository_only(tmp_path: Path) -> None:
    images = {
        "private": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.0",
        "digest": "444455556666.dkr.ecr.us-east-2.amazonaws.com/web@sha256:" + "a" * 64,
        "public": "public.ecr.aws/nginx/nginx:1.27",
    }
    policies = _execution_policies(tmp_path, images)

    def granted(name: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for st in policies[name]["Statement"]:
            for action in st["Action"] if isinstance(st["Action"], list) else [st["Action"]]:
                if action.startswith("ecr:"):
                    res = st["Resource"]
                    found[action] = sorted(res if isinstance(res, list) else [res])
        return found

    private = granted("private")
    repo = "arn:aws:ecr:eu-west-1:111122223333:repository/team/api"
    assert all(private[a] == [repo] for a in PULL), private
    assert private["ecr:GetAuthorizationToken"] == ["*"]  # AWS gives it no resource type
    digest = granted("digest")
    assert digest["ecr:BatchGetImage"] == ["arn:aws:ecr:us-east-2:444455556666:repository/web"]
    assert granted("public") == {}  # a public image needs no pull permission


def test_a_tenants_key_serves_dynamodb_for_its_tables_only(tmp_path: Path) -> None:
    plan = _plan(tmp_path, "tenant-key")
    [policy] = [
        rc["change"]["after"]["policy"]
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_kms_key"
    ]
    key = "arn:aws:kms:eu-west-1:111122223333:key/0000"
    # a role of the key's account asks (the key policy names principals)
    as_app = partial(allowed, principal={"AWS": "arn:aws:iam::111122223333:role/app"})
    via = {
        "kms:calleraccount": ["111122223333"],
        "kms:viaservice": ["dynamodb.eu-west-1.amazonaws.com"],
    }

    def table(name: str) -> dict[str, list[str]]:
        return {**via, "kms:encryptioncontext:aws:dynamodb:tablename": [name]}

    for action in ("kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"):
        assert as_app([policy], action, key, table("prod-acme-orders")), action
        assert as_app([policy], action, key, table("prod-acme-invoices")), action
        assert not as_app([policy], action, key, table("prod-globex-orders")), action
        assert not as_app([policy], action, key, via), action  # no table named
        direct = {"kms:calleraccount": ["111122223333"], **table("prod-acme-orders")}
        del direct["kms:viaservice"]
        assert not as_app([policy], action, key, direct), action  # not through DynamoDB
        other = {**table("prod-acme-orders"), "kms:calleraccount": ["444455556666"]}
        assert not as_app([policy], action, key, other), action
    assert as_app([policy], "kms:DescribeKey", key, via)
    assert as_app([policy], "kms:CreateGrant", key, {**via, "kms:grantisforawsresource": ["true"]})
    assert not as_app(
        [policy], "kms:CreateGrant", key, {**via, "kms:grantisforawsresource": ["false"]}
    )


def test_tasks_reach_aws_through_the_endpoints_only_and_they_serve_this_account(
    tmp_path: Path,
) -> None:
    tf = offline_terraform(BINARIES[-1])
    workdir = _prepare(tmp_path, "egress")
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    tf.run(workdir, ["apply", "-input=false", "-no-color", "-auto-approve"])
    state = json.loads(tf.run(workdir, ["show", "-json"]).stdout)["values"]
    outputs = {k: v["value"] for k, v in state["outputs"].items()}
    resources = [r for m in state["root_module"]["child_modules"] for r in m["resources"]]

    # The task's security group: 443 to the endpoints' group and the gateways'
    # prefix lists, and nowhere else.
    task_group = outputs["service_security_group_id"]
    egress = [r["values"] for r in resources if r["type"] == "aws_vpc_security_group_egress_rule"
              and r["values"]["security_group_id"] == task_group]  # fmt: skip
    ways = sorted(
        (e["from_port"], e["to_port"], e["cidr_ipv4"] or e["referenced_security_group_id"]
         or e["prefix_list_id"]) for e in egress
    )  # fmt: skip
    pl = outputs["endpoints"]["prefix_list_ids"]
    assert set(pl) == {"s3", "dynamodb"} and all(v.startswith("pl-") for v in pl.values()), pl
    assert ways == sorted(
        [(443, 443, outputs["endpoints"]["security_group_id"]), (443, 443, pl["s3"]),
         (443, 443, pl["dynamodb"])]
    ), ways  # fmt: skip

    # The endpoints' policies: this account's principals only, through the
    # gateways to this account's buckets and tables, and ECR's layer bucket.
    policies = {r["values"]["service_name"].rsplit(".", 1)[-1]
                if r["values"]["vpc_endpoint_type"] == "Gateway"
                else r["values"]["service_name"].split("eu-west-1.", 1)[1]: r["values"]["policy"]
                for r in resources if r["type"] == "aws_vpc_endpoint"}  # fmt: skip
    ours, theirs = "111122223333", "444455556666"
    task = {"AWS": f"arn:aws:iam::{ours}:role/egress-api-task"}
    stranger = {"AWS": f"arn:aws:iam::{theirs}:user/exfil"}

    def through(service: str, caller: dict[str, str], action: str, resource: str,
                resource_account: str | None) -> bool:  # fmt: skip
        context = {"aws:principalaccount": [caller["AWS"].split(":")[4]]}
        if resource_account:
            context["aws:resourceaccount"] = [resource_account]
        return allowed([policies[service]], action, resource, context, principal=caller)

    own_bucket, their_bucket = "arn:aws:s3:::prod-exports/x", "arn:aws:s3:::drop-box/x"
    assert through("s3", task, "s3:PutObject", own_bucket, ours)
    assert not through("s3", task, "s3:PutObject", their_bucket, theirs)
    assert not through("s3", stranger, "s3:PutObject", their_bucket, theirs)
    layers = "arn:aws:s3:::prod-eu-west-1-starport-layer-bucket/sha256/abc"
    assert through("s3", task, "s3:GetObject", layers, "999999999999")
    assert not through("s3", task, "s3:PutObject", layers, "999999999999")
    table = f"arn:aws:dynamodb:eu-west-1:{theirs}:table/drop"
    assert not through("dynamodb", task, "dynamodb:PutItem", table, theirs)
    assert through("dynamodb", task, "dynamodb:PutItem", table.replace(theirs, ours), ours)
    calls = {"ecr.api": "ecr:GetAuthorizationToken", "ecr.dkr": "ecr:BatchGetImage",
             "logs": "logs:PutLogEvents", "sts": "sts:AssumeRole", "ssm": "ssm:GetParameters",
             "secretsmanager": "secretsmanager:GetSecretValue"}  # fmt: skip
    for service, action in calls.items():
        assert through(service, task, action, "*", None), service
        assert not through(service, stranger, action, "*", None), service
    assert not through("logs", task, "s3:PutObject", "*", None)  # its own service's only
    # Cognito's token exchange carries no AWS principal: no account condition there
    assert "PrincipalAccount" not in (policies["cognito-identity"] or "")

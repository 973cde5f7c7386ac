"""An environment built by saasctl before cells becomes its first cell with nothing
destroyed or replaced, and grows a second cell in a second account of the
emulator. Real modules through the offline provider, newest terraform.

The environment is built by saasctl as it was before cells (the commit below,
from git: its code, templates and modules), then taken over by this saasctl."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.integration.conftest import (
    NEEDS_AWS,
    NEEDS_TERRAFORM,
    Stack,
    built_by,
    needs_commit,
    old_saasctl,
    take_over,
)

BEFORE_CELLS = "4f2e5c3d5455cdb70b9e5e777b912aa5a1960325"  # saasctl before cells and quotas
SECOND_ACCOUNT = "210987654321"
ROLE = f"arn:aws:iam::{SECOND_ACCOUNT}:role/saasctl-cell"


pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
    NEEDS_AWS,
    needs_commit(BEFORE_CELLS),
]


@pytest.fixture(scope="module")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    yield from built_by(BEFORE_CELLS, tmp_path_factory.mktemp("migrate"))


def test_an_environment_from_before_cells_is_its_first_cell(
    migrated: tuple[Stack, Path],
) -> None:
    s, old_code = migrated
    old = old_saasctl(s, old_code)
    old("bootstrap")
    old("apply", "--shared-only", "--yes")
    for tenant, tier in (("acme", "basic"), ("globex", "advanced"), ("initech", "premium")):
        old("tenant", "onboard", tenant, "--tier", tier, "--yes")
    keys = set(s.object_keys("local/"))

    # This saasctl, its templates and modules, over the same files and state.
    take_over(s)
    report = json.loads(s.saasctl("plan", "--json", check=2, timeout=900).stdout)
    spaces = {w["workspace"]: w for w in report["workspaces"]}
    assert set(spaces) == {"shared", "acme", "globex", "initech"}
    # Nothing destroyed or replaced anywhere but by hardening since: the pool's
    # task role no longer assumes the tenant-scoped role (Cognito hands out its
    # sessions), its task definition names the identity pool (a new revision), and
    # its tasks' HTTPS to anywhere gives way to the VPC endpoints. The tenants'
    # services follow once the shared stack has its endpoints output (on apply).
    pool = "module.shared.module.pool_service"
    anywhere = 'aws_vpc_security_group_egress_rule.https["0.0.0.0/0"]'
    # Dedicated tenants' containers log to a group of their own: new task
    # definition revisions.
    revisions = [f'module.tenant.module.service["{svc}"].aws_ecs_task_definition.this'
                 for svc in ("api", "web")]  # fmt: skip
    # Both pooled services' task definitions route logs by tenant (FireLens).
    hardened = {"shared": ([f'{pool}["api"].aws_ecs_task_definition.this',
                            f'{pool}["web"].aws_ecs_task_definition.this'],
                           [f'{pool}["api"].aws_iam_role_policy.assume_tenant[0]',
                            f'{pool}["api"].{anywhere}', f'{pool}["web"].{anywhere}']),
                "globex": (revisions, []), "initech": (revisions, [])}  # fmt: skip
    for name, w in spaces.items():
        assert (w["replaced"], w["destroyed"], w["error"]) == (*hardened.get(name, ([], [])), None)
    # The tenants' resources are as they were (their rendered files changed: the
    # provider block may assume a cell's role), but for hardening added since: the
    # dedicated user pools' email verification, keys' policies and the tenant-scoped
    # role's trust, pinned to its tenant (in place); the web ACL and probe rules
    # change; the pool gets its identity pool (3 resources), its services their
    # endpoint rules (3 each), the VPC a cognito-identity endpoint.
    # Their log group is the one resource added, the services and execution
    # policies follow it (in place).
    svc = 'module.tenant.module.service["{}"].'
    own = [
        svc.format("api") + "aws_ecs_service.this",
        svc.format("api") + "aws_iam_role.tenant[0]",
        svc.format("api") + "aws_iam_role_policy.assume_tenant[0]",
        svc.format("api") + "aws_iam_role_policy.execution",
        svc.format("web") + "aws_ecs_service.this",
        svc.format("web") + "aws_iam_role_policy.execution",
        "module.tenant.module.isolation.module.data[0].aws_kms_key.this[0]",
        "module.tenant.module.isolation.module.identity.aws_cognito_user_pool.this[0]",
    ]
    # A basic tenant's log group follows the shared stack's prefix output (on apply).
    for name, add, changed in (("acme", 0, []), ("globex", 1, own), ("initech", 1, own)):
        assert (spaces[name]["add"], spaces[name]["changed"]) == (add, changed), spaces[name]
    # The pooled services' task roles may write to the tenants' log groups (2).
    assert spaces["shared"]["change"] > 0 and spaces["shared"]["add"] == 3 + 2 * 3 + 1 + 2
    s.saasctl("apply", "--yes", timeout=1800)
    assert s.saasctl("plan", timeout=900).returncode == 0
    assert keys <= set(s.object_keys("local/"))  # every state key where it was
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: t["status"] for t in listing} == dict.fromkeys(
        ("acme", "globex", "initech"), "applied"
    )
    cells = json.loads(s.saasctl("cell", "list", "--json").stdout)["cells"]
    assert [(c["cell"], c["tenants"]) for c in cells] == [
        ("main", {"basic": 1, "advanced": 1, "premium": 1})
    ]


def _as_second_account(url: str, service: str) -> Any:
    sts = boto3.client("sts", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    c = sts.assume_role(RoleArn=ROLE, RoleSessionName="test")["Credentials"]
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id=c["AccessKeyId"],
                        aws_secret_access_key=c["SecretAccessKey"],
                        aws_session_token=c["SessionToken"])  # fmt: skip


def test_a_cell_in_a_second_account(migrated: tuple[Stack, Path]) -> None:
    s, _ = migrated
    s.saasctl("cell", "add", "c2", "--account", SECOND_ACCOUNT, "--role-arn", ROLE)
    s.saasctl("apply", "--shared-only", "--cell", "c2", "--yes", timeout=1800)
    admin = "admin@hooli.example.com"
    s.saasctl("tenant", "onboard", "hooli", "--tier", "basic", "--cell", "c2",
              "--admin-email", admin, "--yes", timeout=900)  # fmt: skip
    config = json.loads(s.saasctl("tenant", "show", "hooli", "--json").stdout)["config"]
    assert config["cell"] == "c2"
    # The cell's resources live in the second account; the first account has none.
    tables = _as_second_account(s.endpoint, "dynamodb").list_tables()["TableNames"]
    assert config["tables"]["orders"] in tables
    first = boto3.client("dynamodb", endpoint_url=s.endpoint, region_name="us-east-1",
                         aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    assert config["tables"]["orders"] not in first.list_tables()["TableNames"]
    # saasctl's own calls for the cell (the admin user) went through its role.
    idp = _as_second_account(s.endpoint, "cognito-idp")
    user = idp.admin_get_user(UserPoolId=config["user_pool_id"], Username=admin)
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert attrs["custom:tenantId"] == "hooli"
    members = idp.list_users_in_group(UserPoolId=config["user_pool_id"], GroupName="tenant-hooli")
    assert [u["Username"] for u in members["Users"]] == [admin]
    assert "local/cells/c2/terraform.tfstate" in s.object_keys("local/cells/")
    assert os.path.isdir(s.root / "terraform/envs/local/cells/c2")

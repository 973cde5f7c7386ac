"""The real AWS modules end to end: init, plan, apply, clean re-plan, destroy.

hashicorp/aws is the real provider when $SAASCTL_PROVIDER_MIRROR names a mirror
that holds it, otherwise saasctl's offline provider (it serves the real schema,
keeps ECS, CloudWatch and other backed types in the emulator and the rest in
Terraform state). State lives in the moto S3 backend either way. Runs on
terraform 1.0.x and the newest terraform present.
"""

from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saasctl.backend import offline_aws_env
from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.iam_eval import allowed
from tests.integration.conftest import (
    BINARIES,
    BINARY_PARAMS,
    NEEDS_AWS,
    NEEDS_TERRAFORM,
    Stack,
    make_stack,
)

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
    NEEDS_AWS,
]
TENANTS = {"acme": "basic", "globex": "advanced", "initech": "premium"}
OFFLINE_DOC = REPO / "docs" / "offline.md"


@pytest.fixture(scope="module", params=BINARY_PARAMS)
def real_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("real"),
        {"local": REPO / "terraform/envs/local/env.yaml"},
        modules="real",
    )
    with moto_server(log=root / "moto.log") as url:
        yield make_stack(root, url, request.param)


def _terraform(s: Stack, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """terraform as saasctl runs it (its CLI config, var file, offline marker)."""
    rc = next((s.root / ".saasctl").glob("terraform*.rc"))
    env = {
        **s.env,
        **offline_aws_env(s.root / ".saasctl"),
        "TF_CLI_CONFIG_FILE": str(rc),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    return subprocess.run(
        [s.binary.path, f"-chdir={workdir}", *args, "-no-color"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_real_modules_lifecycle(real_stack: Stack) -> None:
    s = real_stack
    s.saasctl("bootstrap")
    applied = s.saasctl("apply", "--shared-only", "--yes", "--json", timeout=1800)
    shared = json.loads(applied.stdout)["workspaces"][0]
    assert shared["status"] == "applied", shared
    # What was added is what the state holds, and what docs/offline.md says it is.
    state = s.read_json("local/shared/terraform.tfstate")
    managed = sum(len(r["instances"]) for r in state["resources"] if r["mode"] == "managed")
    assert shared["add"] == managed
    claim = re.search(r"apply of the shared workspace \((\d+) resources\)", OFFLINE_DOC.read_text())
    assert claim and int(claim.group(1)) == managed, (claim, managed)
    _check_pool_sessions(state)
    for tenant, tier in TENANTS.items():
        admin = f"--admin-email=admin@{tenant}.example.com"
        s.saasctl("tenant", "onboard", tenant, "--tier", tier, admin, "--yes", timeout=1800)
    states = [k for k in s.object_keys("local/") if k.endswith(".tfstate")]
    assert sorted(states) == sorted(
        ["local/shared/terraform.tfstate"]
        + [f"local/tenants/{t}/terraform.tfstate" for t in TENANTS]
    )
    assert len(s.object_keys("local/priorities/")) == len(TENANTS)  # one claim each
    # Values filled in on apply look like AWS's and use the env file's region/account.
    shown = json.loads(s.saasctl("tenant", "show", "initech", "--json").stdout)
    cluster = json.dumps(shown)
    assert "arn:aws:ecs:us-east-1:123456789012:cluster/" in cluster, cluster
    configs = _check_isolation(s)
    tenant_logs = _log_groups(s)
    for tenant, n in (("acme", 3), ("initech", 2)):
        _log_events(s, tenant_logs[tenant], n)
    _write_items(s, configs["acme"]["tables"]["orders"], "acme", 29)
    _write_items(s, configs["acme"]["tables"]["orders"], "zeta", 5)  # another tenant's
    _write_items(s, configs["initech"]["tables"]["orders"], "initech", 19)
    for tenant in ("acme", "initech"):  # and one item of every DynamoDB type each
        s.client("dynamodb").put_item(TableName=configs[tenant]["tables"]["orders"],
                                      Item=_every_type(tenant))  # fmt: skip
    # A clean re-plan of everything after apply: no changes (exit 0).
    report = json.loads(s.saasctl("plan", "--json", check=0, timeout=1800).stdout)
    assert {w["workspace"] for w in report["workspaces"]} == {"shared", *TENANTS}
    assert all(w["status"] == "no changes" for w in report["workspaces"]), report

    # What saasctl does with terraform's output, not terraform's behaviour, is
    # checked on the newest binary only: the policy gate (test_fleet checks it on
    # every binary), the restore and the shared stack's destroy.
    newest = s.binary == BINARIES[-1]
    if newest:
        _policy_gate(s)

    offboarded = {}
    for tenant in TENANTS:
        out = json.loads(s.saasctl("tenant", "offboard", tenant, "--yes", "--json").stdout)
        assert out["archive"]
        offboarded[tenant] = out["data"]
    assert s.object_keys("local/tenants/") == []
    assert s.object_keys("local/priorities/") == []  # claims released
    kept = {g["logGroupName"] for g in s.client("logs").describe_log_groups()["logGroups"]}
    # Dedicated tenants' groups outlive them (until their retention ends); a basic
    # tenant's goes with it (its name comes back with a restore). Both are exported.
    assert {t: g in kept for t, g in tenant_logs.items()} == {
        t: tier != "basic" for t, tier in TENANTS.items()}  # fmt: skip
    assert {t: d["log_events"] for t, d in offboarded.items()} == {
        "acme": 3, "globex": 0, "initech": 2}  # fmt: skip
    # Data kept: every item and user exported; the pool holds none of acme's, the
    # other tenant's untouched; dedicated tables and pools destroyed.
    assert (offboarded["acme"]["items"], offboarded["acme"]["users"]) == (30, 1)
    assert (offboarded["globex"]["items"], offboarded["globex"]["users"]) == (0, 1)
    assert (offboarded["initech"]["items"], offboarded["initech"]["users"]) == (20, 1)
    pool_table = configs["acme"]["tables"]["orders"]
    assert _count(s, pool_table, "acme") == 0 and _count(s, pool_table, "zeta") == 5
    tables = s.client("dynamodb").list_tables()["TableNames"]
    assert configs["initech"]["tables"]["orders"] not in tables and pool_table in tables
    pools = {p["Id"] for p in s.client("cognito-idp").list_user_pools(MaxResults=60)["UserPools"]}
    assert configs["initech"]["user_pool_id"] not in pools
    assert configs["acme"]["user_pool_id"] in pools
    for tenant in TENANTS:
        listed = json.loads(s.saasctl("tenant", "archives", tenant, "--json").stdout)
        assert len(listed["archives"]) == 1, listed
        assert [e["items"] for e in listed["exports"]] == [offboarded[tenant]["items"]]

    if not newest:
        return
    # Restore brings the state and the data back: items and users.
    for tenant, count in (("acme", 30), ("initech", 20)):
        s.saasctl("tenant", "restore", tenant)
        s.saasctl("tenant", "onboard", tenant, "--tier", TENANTS[tenant], "--yes", timeout=1800)
        config = _config(s, tenant)
        assert _count(s, config["tables"]["orders"], tenant) == count
        # Read back through a plain client, not saasctl's reader: every type as written.
        key = {"tenantId": {"S": tenant}, "sk": {"S": "types#all"}}
        back = s.client("dynamodb").get_item(TableName=config["tables"]["orders"], Key=key)
        assert _sets_sorted(back["Item"]) == _sets_sorted(_every_type(tenant)), back
        user = s.client("cognito-idp").admin_get_user(
            UserPoolId=config["user_pool_id"], Username=f"admin@{tenant}.example.com"
        )
        assert {"Name": "custom:tenantId", "Value": tenant} in user["UserAttributes"]
        s.saasctl("tenant", "offboard", tenant, "--yes")

    # Destroy the shared workspace too; its state is left with no resources.
    shared_dir = s.root / "terraform/envs/local/shared"
    var_file = shared_dir / ".terraform/saasctl.tfvars.json"
    destroyed = _terraform(s, shared_dir, "destroy", "-auto-approve", f"-var-file={var_file}")
    # The pooled tables are deletion-protected: an operator lifts it on purpose.
    assert destroyed.returncode == 1 and "DeletionProtectionEnabled" in destroyed.stderr
    s.client("dynamodb").update_table(TableName=pool_table, DeletionProtectionEnabled=False)
    idp = s.client("cognito-idp")
    for pool in idp.list_user_pools(MaxResults=60)["UserPools"]:
        idp.update_user_pool(UserPoolId=pool["Id"], DeletionProtection="INACTIVE")
    destroyed = _terraform(s, shared_dir, "destroy", "-auto-approve", f"-var-file={var_file}")
    assert destroyed.returncode == 0, destroyed.stderr
    assert "Destroy complete!" in destroyed.stdout
    state = _terraform(s, shared_dir, "state", "list")
    assert state.returncode == 0 and state.stdout.strip() == "", state.stdout


def _policy_gate(s: Stack) -> None:
    """Premium -> advanced destroys the tenant's cluster; a spec that turns the
    tables' deletion protection off weakens them: each blocked unless its rule is
    allowed, by name, and the allowance printed."""
    spec = s.tenant_dir("initech") / "tenant.yaml"
    original = spec.read_text()
    spec.write_text(original.replace("tier: premium", "tier: advanced"))
    try:
        blocked = json.loads(s.saasctl("plan", "--tenant", "initech", "--json", check=1).stdout)
        ws = blocked["workspaces"][0]
        assert ws["status"] == "policy", ws["error"]
        assert any("aws_ecs_cluster" in str(v) for v in ws["violations"]), ws["violations"]
        allowed = json.loads(
            s.saasctl("plan", "--tenant", "initech", "--allow-destroy", "--json", check=2).stdout
        )
        assert allowed["workspaces"][0]["destroy"] >= 1
        spec.write_text(original + "deletion_protection: false\n")
        blocked = json.loads(s.saasctl("plan", "--tenant", "initech", "--json", check=1).stdout)
        [violation] = blocked["workspaces"][0]["violations"]
        assert "aws_dynamodb_table" in violation, violation
        assert "deletion_protection_enabled turned off (pass --allow data-protection" in violation
        passed = s.saasctl("plan", "--tenant", "initech", "--allow", "data-protection", check=2)
        assert "policy: letting plans break 'data-protection'" in passed.stderr
    finally:
        spec.write_text(original)


def _config(s: Stack, tenant: str) -> dict[str, Any]:
    config: dict[str, Any] = json.loads(s.saasctl("tenant", "show", tenant, "--json").stdout)[
        "config"
    ]
    return config


def _check_isolation(s: Stack) -> dict[str, dict[str, Any]]:
    """Each tier's identity and tables as the issue's table says; the admin users;
    and a tenant-scoped role that reaches its own items only."""
    configs = {t: _config(s, t) for t in TENANTS}
    idp, ddb = s.client("cognito-idp"), s.client("dynamodb")
    acme = configs["acme"]
    assert (acme["group"], acme["data"]) == ("tenant-acme", "pooled") and acme["client_id"]
    for tenant in ("globex", "initech"):
        c = configs[tenant]
        assert c["group"] is None and c["data"] == "dedicated" and c["client_id"]
        assert c["user_pool_id"] != acme["user_pool_id"]
        assert c["tables"]["orders"] != acme["tables"]["orders"]
        table = ddb.describe_table(TableName=c["tables"]["orders"])["Table"]
        assert [k["AttributeName"] for k in table["KeySchema"]] == ["tenantId", "sk"]
        assert table["DeletionProtectionEnabled"] is True
    for tenant, c in configs.items():
        user = idp.admin_get_user(
            UserPoolId=c["user_pool_id"], Username=f"admin@{tenant}.example.com"
        )
        attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
        assert (attrs["custom:tenantId"], attrs["custom:tenantTier"], attrs["custom:userRole"]) == (
            tenant,
            TENANTS[tenant],
            "admin",
        )
    members = idp.list_users_in_group(UserPoolId=acme["user_pool_id"], GroupName="tenant-acme")
    assert [u["Username"] for u in members["Users"]] == ["admin@acme.example.com"]

    # The tenant-scoped policy as applied, evaluated: its own items only, no Scan.
    state = s.read_json("local/tenants/initech/terraform.tfstate")
    policies = [
        i["attributes"]["policy"]
        for r in state["resources"]
        if r["type"] == "aws_iam_role_policy" and r["name"] == "tenant_items"
        for i in r["instances"]
    ]
    assert policies
    arn = ddb.describe_table(TableName=configs["initech"]["tables"]["orders"])["Table"]["TableArn"]
    as_initech = {"aws:principaltag/tenant": ["initech"]}
    for policy in policies:
        assert allowed([policy], "dynamodb:GetItem", arn,
                       {**as_initech, "dynamodb:leadingkeys": ["initech"]})  # fmt: skip
        assert not allowed([policy], "dynamodb:GetItem", arn,
                           {**as_initech, "dynamodb:leadingkeys": ["acme"]})  # fmt: skip
        assert not allowed([policy], "dynamodb:Query", arn, as_initech)  # no leading key
        assert not allowed([policy], "dynamodb:Scan", arn, as_initech)
    return configs


def _check_pool_sessions(state: dict) -> None:  # type: ignore[type-arg]
    """The pool's tenant-scoped role as applied: only Cognito, for a signed-in user
    of its identity pool, may hand out its sessions, tagged with the token's
    custom:tenantId; the pool's own task role obtains none, whatever tag it asks."""

    [module] = [r["module"] for r in state["resources"]  # the pooled service keeping items
                if (r["type"], r["name"]) == ("aws_iam_role", "tenant")
                and "pool_service" in r.get("module", "")]  # fmt: skip

    def one(type_: str, name: str) -> dict:  # type: ignore[type-arg]
        [found] = [i["attributes"] for r in state["resources"]
                   if (r["type"], r["name"], r.get("module")) == (type_, name, module)
                   for i in r["instances"]]  # fmt: skip
        return found  # type: ignore[no-any-return]

    role, task = one("aws_iam_role", "tenant"), one("aws_iam_role", "task")
    pool = one("aws_cognito_identity_pool", "tenant")
    tags = one("aws_cognito_identity_pool_provider_principal_tag", "tenant")
    attached = one("aws_cognito_identity_pool_roles_attachment", "tenant")
    assert not pool["allow_unauthenticated_identities"] and not pool["allow_classic_flow"]
    assert tags["principal_tags"] == {"tenant": "custom:tenantId"} and not tags["use_defaults"]
    assert attached["roles"] == {"authenticated": role["arn"]}
    [provider] = pool["cognito_identity_providers"]
    assert tags["identity_provider_name"] == provider["provider_name"]
    trust = role["assume_role_policy"]
    for tenant in ("acme", "zeta", "*"):
        tagged = {"aws:requesttag/tenant": [tenant], "aws:tagkeys": ["tenant"]}
        for action in ("sts:AssumeRole", "sts:TagSession", "sts:AssumeRoleWithWebIdentity"):
            assert not allowed([trust], action, role["arn"], tagged,
                               principal={"AWS": task["arn"]}), (tenant, action)  # fmt: skip
    cognito = {"Federated": "cognito-identity.amazonaws.com"}
    signed_in = {"cognito-identity.amazonaws.com:aud": [pool["id"]],
                 "cognito-identity.amazonaws.com:amr": ["authenticated"],
                 "aws:requesttag/tenant": ["acme"], "aws:tagkeys": ["tenant"]}  # fmt: skip
    for action in ("sts:AssumeRoleWithWebIdentity", "sts:TagSession"):
        assert allowed([trust], action, role["arn"], signed_in, principal=cognito)
    for wrong in ({"cognito-identity.amazonaws.com:aud": ["us-east-1:another-pool"]},
                  {"cognito-identity.amazonaws.com:amr": ["unauthenticated"]},
                  {"aws:requesttag/tenant": [""]}):  # fmt: skip
        assert not allowed([trust], "sts:AssumeRoleWithWebIdentity", role["arn"],
                           {**signed_in, **wrong}, principal=cognito), wrong  # fmt: skip


def _log_groups(s: Stack) -> dict[str, str]:
    """Each tenant's container logs go to a group of its own: a dedicated tenant's
    services log there, and only they; the pool's FireLens router sends a record
    to the group its `tenant` field names, which the basic tenant's workspace made."""
    ecs = s.client("ecs")
    groups: dict[str, set[str]] = {}
    templates = set()
    for arn in ecs.list_task_definitions()["taskDefinitionArns"]:
        td = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        app = td["containerDefinitions"][0]["logConfiguration"]
        if app["logDriver"] == "awsfirelens":
            assert "-pool-" in td["family"], td["family"]
            [router] = [c for c in td["containerDefinitions"] if "firelensConfiguration" in c]
            assert router["firelensConfiguration"]["type"] == "fluentbit"
            assert (app["options"]["Name"], app["options"]["auto_create_group"]) == (
                "cloudwatch_logs", "false")  # fmt: skip
            templates.add(app["options"]["log_group_template"])
            continue
        groups.setdefault(app["options"]["awslogs-group"], set()).add(td["family"])
    own = {}
    for tenant in (t for t, tier in TENANTS.items() if tier != "basic"):
        [group] = [g for g, families in groups.items() if any(f"-{tenant}-" in f for f in families)]
        assert all(f"-{tenant}-" in f for f in groups[group]), groups  # nobody else's
        own[tenant] = group
    [template] = templates
    existing = {g["logGroupName"] for g in s.client("logs").describe_log_groups()["logGroups"]}
    for tenant in (t for t, tier in TENANTS.items() if tier == "basic"):
        own[tenant] = template.replace("$tenant", tenant)
        assert own[tenant] in existing, (own[tenant], existing)
    assert len(set(own.values())) == len(own), own
    return own


def _log_events(s: Stack, group: str, n: int) -> None:
    logs = s.client("logs")
    logs.create_log_stream(logGroupName=group, logStreamName="app/1")
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="app/1", logEvents=[
        {"timestamp": now + i, "message": json.dumps({"tenant": "x", "n": i})} for i in range(n)
    ])  # fmt: skip


def _every_type(tenant: str) -> dict[str, Any]:
    """An item with each DynamoDB attribute type, nested in lists and maps too."""
    return {
        "tenantId": {"S": tenant}, "sk": {"S": "types#all"},
        "s": {"S": "naïve ✓"}, "n": {"N": "-12.5e3"}, "b": {"B": b"\x00\xffbytes"},
        "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": [b"\x01", b"\x02"]},
        "l": {"L": [{"S": "x"}, {"N": "1"}, {"NULL": True}, {"BOOL": False}, {"B": b"\x03"}]},
        "m": {"M": {"inner": {"M": {"ss": {"SS": ["z"]}, "bool": {"BOOL": True}}}}},
        "bool": {"BOOL": True}, "null": {"NULL": True},
    }  # fmt: skip


def _sets_sorted(value: Any) -> Any:
    """An item with its sets in order (DynamoDB keeps no order in a set)."""
    if isinstance(value, dict):
        return {k: sorted(v) if k in ("SS", "NS", "BS") else _sets_sorted(v)
                for k, v in value.items()}  # fmt: skip
    if isinstance(value, list):
        return [_sets_sorted(v) for v in value]
    return value


def _write_items(s: Stack, table: str, tenant: str, n: int) -> None:
    ddb = s.client("dynamodb")
    for i in range(n):
        ddb.put_item(TableName=table, Item={"tenantId": {"S": tenant}, "sk": {"S": f"o#{i:04d}"},
                                            "total": {"N": str(i)}})  # fmt: skip


def _count(s: Stack, table: str, tenant: str) -> int:
    out = s.client("dynamodb").query(
        TableName=table,
        KeyConditionExpression="tenantId = :t",
        ExpressionAttributeValues={":t": {"S": tenant}},
        Select="COUNT",
    )
    return int(out["Count"])

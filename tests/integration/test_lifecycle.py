"""The tenant lifecycle with real terraform and real S3 state in a moto server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import boto3
import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM, Stack, make_stack

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]

TIERS = {"acme": "basic", "globex": "advanced", "initech": "premium"}


def tenants(stack: Stack) -> dict[str, dict]:  # type: ignore[type-arg]
    listing = json.loads(stack.saasctl("tenant", "list", "--json").stdout)
    return {t["id"]: t for t in listing["tenants"]}


def ensure(stack: Stack, tenant: str, tier: str) -> None:
    """The tenant exists, applied, with this tier: each test sets up what it needs,
    so the tests pass in any order (checked with pytest-randomly)."""
    current = tenants(stack).get(tenant)
    if current is None:
        stack.saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes")
    elif current["tier"] != tier or current["status"] != "applied":
        stack.saasctl("tenant", "set-tier", tenant, "--tier", tier, "--yes")


def absent(stack: Stack, tenant: str) -> None:
    if tenant in tenants(stack):
        stack.saasctl("tenant", "offboard", tenant, "--yes")


def test_bootstrap_is_idempotent_and_secures_the_bucket(stack: Stack) -> None:
    out = json.loads(stack.saasctl("bootstrap", "--json").stdout)
    assert "bucket saasctl-local-tfstate exists" in out["done"]
    s3 = stack.s3
    assert s3.get_bucket_versioning(Bucket="saasctl-local-tfstate")["Status"] == "Enabled"
    rules = s3.get_bucket_encryption(Bucket="saasctl-local-tfstate")[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rules[0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    block = s3.get_public_access_block(Bucket="saasctl-local-tfstate")[
        "PublicAccessBlockConfiguration"
    ]
    assert all(block.values())
    assert "local/shared/terraform.tfstate" in stack.object_keys()
    # Tenant exports: a key of their own (rotated), and a retention rule that keeps
    # the bucket's other lifecycle rules.
    assert (
        "tenant exports expire after 365 days (lifecycle rule saasctl-tenant-exports)"
        in out["done"]
    )
    kms = stack.client("kms")
    key = kms.describe_key(KeyId="alias/saasctl-exports/saasctl-local-tfstate")["KeyMetadata"]
    assert kms.get_key_rotation_status(KeyId=key["KeyId"])["KeyRotationEnabled"]
    other = {"ID": "operators-own", "Filter": {"Prefix": "tmp/"}, "Status": "Enabled",
             "Expiration": {"Days": 7}}  # fmt: skip
    rules = s3.get_bucket_lifecycle_configuration(Bucket="saasctl-local-tfstate")["Rules"]
    s3.put_bucket_lifecycle_configuration(
        Bucket="saasctl-local-tfstate", LifecycleConfiguration={"Rules": [*rules, other]}
    )
    again = json.loads(stack.saasctl("bootstrap", "--json").stdout)["done"]
    assert "found exports key alias/saasctl-exports/saasctl-local-tfstate (rotation on)" in again
    rules = s3.get_bucket_lifecycle_configuration(Bucket="saasctl-local-tfstate")["Rules"]
    by_id = {r["ID"]: r for r in rules}
    assert set(by_id) == {"operators-own", "saasctl-tenant-exports"}
    ours = by_id["saasctl-tenant-exports"]
    assert ours["Expiration"] == {"Days": 365} and ours["Status"] == "Enabled"
    assert ours["Filter"] == {"Tag": {"Key": "saasctl-kind", "Value": "tenant-export"}}


@pytest.mark.newest_terraform  # refused before terraform runs
def test_a_table_name_collision_is_refused_before_anything_is_written(stack: Stack) -> None:
    ddb = stack.client("dynamodb")
    ddb.create_table(
        TableName="local-umbrella-orders",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    try:
        before = stack.object_keys()
        refused = stack.saasctl("tenant", "onboard", "umbrella", "--tier", "premium", "--yes",
                                check=3)  # fmt: skip
        assert "table local-umbrella-orders already exists" in refused.stderr, refused.stderr
        assert not stack.tenant_dir("umbrella").exists()
        assert stack.object_keys() == before
    finally:
        ddb.delete_table(TableName="local-umbrella-orders")


def _shared_state(stack: Stack) -> dict[str, Any]:
    key = "local/shared/terraform.tfstate"
    state: dict[str, Any] = json.loads(
        stack.s3.get_object(Bucket="saasctl-local-tfstate", Key=key)["Body"].read()
    )
    return state


def test_onboard_one_tenant_per_tier(stack: Stack) -> None:
    fresh = {f"new{t}": tier for t, tier in TIERS.items()}  # never onboarded in this stack
    for tenant, tier in fresh.items():
        serial = _shared_state(stack)["serial"]
        result = json.loads(
            stack.saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes", "--json").stdout
        )
        assert result["changes"] is True and result["plan"]["add"]
        assert result["outputs"]["tenant"]["host"] == f"{tenant}.saas.local"
        assert f"local/tenants/{tenant}/terraform.tfstate" in stack.object_keys()
        assert (stack.tenant_dir(tenant) / "tenant.yaml").is_file()
        # a basic tenant is rate limited by its tier's rule: the shared stack is untouched
        assert (_shared_state(stack)["serial"] == serial) == (tier == "basic"), tier
    listing = tenants(stack)
    assert {t: (listing[t]["tier"], listing[t]["status"]) for t in fresh} == {
        t: (tier, "applied") for t, tier in fresh.items()
    }
    priorities = [v["listener_priority"] for v in listing.values()]
    assert len(set(priorities)) == len(priorities)
    # premium gets its own cluster, the others use the shared ones
    shown = {t: json.loads(stack.saasctl("tenant", "show", t, "--json").stdout) for t in fresh}
    arns = {t: s["outputs"]["tenant"]["cluster_arn"] for t, s in shown.items()}
    assert arns["newacme"].endswith("-pool") and arns["newglobex"].endswith("-advanced")
    assert "newinitech" in arns["newinitech"]
    # one rate rule per tier and one per client IP; the dedicated tenants' hosts listed
    acl = next(r for r in _shared_state(stack)["resources"] if r["name"] == "web_acl")
    triggers = acl["instances"][0]["attributes"]["triggers"]
    dedicated = sorted(f"{t}.saas.local" for t, v in listing.items() if v["tier"] != "basic")
    assert triggers["hosts"].split(",") == dedicated
    assert triggers["rate_based_rules"] == "4"
    for tenant in fresh:
        stack.saasctl("tenant", "offboard", tenant, "--yes")


def test_reonboard_is_a_noop_plan(stack: Stack) -> None:
    ensure(stack, "acme", "basic")
    result = stack.saasctl("tenant", "onboard", "acme", "--tier", "basic", "--plan-only", check=0)
    assert "acme: no changes" in result.stderr
    stack.saasctl("plan", check=0)


def test_set_tier_needs_confirmation_and_moves(stack: Stack) -> None:
    ensure(stack, "globex", "advanced")
    spec = stack.tenant_dir("globex") / "tenant.yaml"
    before = spec.read_text()
    refused = stack.saasctl("tenant", "set-tier", "globex", "--tier", "premium", check=5)
    assert "not confirmed" in refused.stderr
    assert spec.read_text() == before  # nothing changed
    answered_no = stack.saasctl(
        "tenant", "set-tier", "globex", "--tier", "premium", stdin="n\n", check=5
    )
    assert answered_no.returncode == 5 and spec.read_text() == before
    moved = json.loads(
        stack.saasctl("tenant", "set-tier", "globex", "--tier", "premium", "--yes", "--json").stdout
    )
    assert moved["plan"]["replace"] or moved["plan"]["destroy"]
    assert "tier: premium" in spec.read_text()
    assert tenants(stack)["globex"] == {
        **tenants(stack)["globex"],
        "tier": "premium",
        "status": "applied",
    }
    shown = json.loads(stack.saasctl("tenant", "show", "globex", "--json").stdout)
    assert "globex" in shown["outputs"]["tenant"]["cluster_arn"]  # its own cluster now


def test_drift_is_reported_and_planned(stack: Stack) -> None:
    ensure(stack, "initech", "premium")
    spec = stack.tenant_dir("initech") / "tenant.yaml"
    original = spec.read_text()
    spec.write_text(original + "overrides:\n  desired_count: 3\n")
    try:
        assert tenants(stack)["initech"]["status"] == "drifted"
        stack.saasctl("plan", "--tenant", "initech", check=2)
    finally:
        spec.write_text(original)
    stack.saasctl("render")
    assert tenants(stack)["initech"]["status"] == "applied"


def test_offboard_archives_then_destroys(stack: Stack) -> None:
    ensure(stack, "acme", "basic")
    before = json.loads(
        stack.s3.get_object(
            Bucket="saasctl-local-tfstate", Key="local/tenants/acme/terraform.tfstate"
        )["Body"].read()
    )
    managed = sum(len(r["instances"]) for r in before["resources"] if r["mode"] == "managed")
    assert managed >= 2  # a listener rule per service (stand-ins)
    archives_before = stack.object_keys("archive/local/tenants/acme/")
    refused = stack.saasctl("tenant", "offboard", "acme", check=5)
    assert f"Offboard acme: destroy {managed} resource(s), archive its state" in refused.stderr
    assert "local/tenants/acme/terraform.tfstate" in stack.object_keys()
    result = json.loads(stack.saasctl("tenant", "offboard", "acme", "--yes", "--json").stdout)
    assert result["archive"].startswith("archive/local/tenants/acme/")
    assert result["archive"] in stack.object_keys("archive/")
    archived = json.loads(
        stack.s3.get_object(Bucket="saasctl-local-tfstate", Key=result["archive"])["Body"].read()
    )
    assert archived["resources"], "the archive is the state before destroy"
    assert "local/tenants/acme/terraform.tfstate" not in stack.object_keys()
    assert not stack.tenant_dir("acme").exists()
    assert "acme" not in tenants(stack)
    listed = json.loads(stack.saasctl("tenant", "archives", "acme", "--json").stdout)
    assert [a["key"] for a in listed["archives"]] == [*archives_before, result["archive"]]
    # a log 80 columns wide shows each archive's name whole: what --archive takes
    narrow = stack.saasctl_env({**stack.env, "COLUMNS": "80"}, "tenant", "archives", "acme")
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 80
    name = result["archive"].removeprefix("archive/local/tenants/acme/")
    assert name in narrow.stdout and "archive/local/tenants/acme/" in narrow.stdout
    shown = stack.saasctl("tenant", "show", "acme", check=3)
    assert "tenant 'acme' not found" in shown.stderr

    # The archive can be restored to the state key, never over live state.
    wrong = stack.saasctl("tenant", "restore", "acme", "--archive", "archive/x.tfstate", check=3)
    assert "is not an archive of 'acme'" in wrong.stderr
    restored = json.loads(
        stack.saasctl("tenant", "restore", "acme", "--archive", name, "--json").stdout
    )
    assert restored == {
        "tenant": "acme",
        "archive": result["archive"],
        "state": "local/tenants/acme/terraform.tfstate",
        "export": result["data"]["export"],  # stand-ins hold no data: an empty export
    }
    state = json.loads(
        stack.s3.get_object(Bucket="saasctl-local-tfstate", Key=restored["state"])["Body"].read()
    )
    assert (state["lineage"], state["serial"]) == (archived["lineage"], archived["serial"])
    again = stack.saasctl("tenant", "restore", "acme", check=3)
    assert "refusing to overwrite" in again.stderr
    # leave the stack as offboarding left it (the archive stays)
    stack.s3.delete_object(Bucket="saasctl-local-tfstate", Key=restored["state"])


@pytest.mark.newest_terraform  # saasctl's tenant lock: no terraform path
def test_concurrent_onboards_of_one_tenant(stack: Stack, tmp_path: Path) -> None:
    absent(stack, "hooli")
    log = tmp_path / "points.jsonl"
    # Whichever takes the lock holds it until the test says go, which it does once
    # the other run has ended: they are certain to collide, whatever the load.
    env = {**stack.env, "SAASCTL_FAILPOINT_LOG": str(log),
           "SAASCTL_FAILPOINTS": "onboard-locked=await:go:1"}  # fmt: skip
    procs = [
        stack.popen_env(env, "tenant", "onboard", "hooli", "--tier", "advanced", "--yes")
        for _ in range(2)
    ]
    while all(p.poll() is None for p in procs):
        time.sleep(0.05)
    with log.open("a") as fh:
        fh.write(json.dumps({"point": "go", "pid": 0}) + "\n")
    results = []
    for p in procs:
        _, err = p.communicate(timeout=300)
        results.append((p.returncode, err))
    codes = sorted(code for code, _ in results)
    assert codes == [0, 4], results
    loser = next(err for code, err in results if code == 4)
    assert "tenant 'hooli' is locked by" in loser and "onboard since" in loser
    assert tenants(stack)["hooli"]["status"] == "applied"
    assert not stack.object_keys("local/tenants/hooli/saasctl.lock")  # released


@pytest.mark.newest_terraform  # saasctl's tenant lock: no terraform path
def test_stale_lock_is_reported_and_unlockable(stack: Stack) -> None:
    ensure(stack, "hooli", "advanced")
    stack.s3.put_object(
        Bucket="saasctl-local-tfstate",
        Key="local/tenants/hooli/saasctl.lock",
        Body=json.dumps(
            {"who": "bob@ci-7", "operation": "offboard", "created": "2026-01-01T00:00:00+00:00"}
        ).encode(),
    )
    blocked = stack.saasctl("tenant", "offboard", "hooli", "--yes", check=4)
    assert "locked by bob@ci-7 (offboard since 2026-01-01" in blocked.stderr
    assert "saasctl tenant unlock hooli --env local" in blocked.stderr
    assert stack.tenant_dir("hooli").exists()
    stack.saasctl("tenant", "unlock", "hooli", check=5)  # needs confirmation
    stack.saasctl("tenant", "unlock", "hooli", "--yes")
    start = time.monotonic()
    stack.saasctl("tenant", "offboard", "hooli", "--yes")
    assert time.monotonic() - start < 120
    assert not stack.tenant_dir("hooli").exists()


def test_stale_terraform_state_lock_is_named_and_removable(stack: Stack) -> None:
    """A saasctl killed mid-apply takes terraform with it (its pipes close), leaving
    terraform's state lock: the next run names the saasctl command that removes it."""
    ensure(stack, "globex", "advanced")
    lock_id = "5f0e2d1c-0000-4000-8000-000000000001"
    path = "saasctl-local-tfstate/local/tenants/globex/terraform.tfstate"
    info = {"ID": lock_id, "Operation": "OperationTypeApply", "Who": "carol@ci-9",
            "Version": stack.binary.version_str, "Created": "2026-01-01T00:00:00Z",
            "Path": path, "Info": ""}  # fmt: skip
    if stack.binary.version >= (1, 10, 0):  # S3-native lock object
        stack.s3.put_object(
            Bucket="saasctl-local-tfstate",
            Key="local/tenants/globex/terraform.tfstate.tflock",
            Body=json.dumps(info).encode(),
        )
    else:  # DynamoDB lock row
        boto3.client(
            "dynamodb", endpoint_url=stack.endpoint, region_name="us-east-1",
            aws_access_key_id="testing", aws_secret_access_key="testing",
        ).put_item(
            TableName="saasctl-local-tflock",
            Item={"LockID": {"S": info["Path"]}, "Info": {"S": json.dumps(info)}},
        )  # fmt: skip
    quick = {**stack.env, "SAASCTL_LOCK_TIMEOUT": "1s"}  # do not wait 30 s per attempt
    blocked = stack.saasctl_env(quick, "plan", "--tenant", "globex", "--json")
    assert blocked.returncode == 1, blocked.stderr  # fleet plan: 1 for any error
    command = f"saasctl unlock-state globex {lock_id} --env local"
    assert f"`{command}`" in blocked.stdout + blocked.stderr
    refused = stack.saasctl(*command.split()[1:], check=5)  # shown, then asked
    assert lock_id in refused.stderr
    stack.saasctl(*command.split()[1:], "--yes")
    stack.saasctl("plan", "--tenant", "globex", check=0)


@pytest.mark.newest_terraform  # saasctl's gate on terraform's plan: no terraform path
def test_a_tenant_command_does_not_carry_a_pending_shared_change_past_the_gates(
    stack: Stack,
) -> None:
    """An env.yaml edit would replace the load balancer; an onboard that converges
    the shared workspace refuses it, names the way to review it, and leaves nothing."""
    s = stack
    absent(s, "umbra")
    env_file = s.root / "terraform/envs/local/env.yaml"
    original = env_file.read_text()
    env_file.write_text(
        original.replace('allowed_cidrs: ["0.0.0.0/0"]', 'allowed_cidrs: ["10.0.0.0/8"]')
    )
    try:
        refused = s.saasctl("tenant", "onboard", "umbra", "--tier", "advanced", "--yes", check=1)
        error = refused.stderr.strip().splitlines()[-1]
        assert "policy: " in error and "replaces a stateful/shared aws_lb" in error, error
        assert "saasctl plan --shared-only --env local" in error
        assert "umbra" not in tenants(s) and not s.tenant_dir("umbra").exists()
    finally:
        env_file.write_text(original)
    s.saasctl("plan", "--shared-only", check=0)  # nothing was applied


@pytest.mark.newest_terraform  # saasctl's bucket checks, before terraform
def test_unversioned_state_bucket_is_refused_unless_told(stack: Stack) -> None:
    s = stack
    s.s3.put_bucket_versioning(
        Bucket="saasctl-local-tfstate", VersioningConfiguration={"Status": "Suspended"}
    )
    s.s3.delete_public_access_block(Bucket="saasctl-local-tfstate")
    try:
        refused = s.saasctl("plan", "--shared-only", check=1)
        assert "versioning Suspended" in refused.stderr
        assert "SAASCTL_ALLOW_UNVERSIONED_STATE=1" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1  # one line, no traceback
        unversioned = {**s.env, "SAASCTL_ALLOW_UNVERSIONED_STATE": "1"}
        weak = s.saasctl_env(unversioned, "plan", "--shared-only")
        assert weak.returncode == 1, weak.stderr  # the public access block is not optional
        assert "does not block all public access" in weak.stderr
        assert "SAASCTL_ALLOW_WEAK_STATE_BUCKET=1" in weak.stderr
        assert len(weak.stderr.strip().splitlines()) == 1
        told = s.saasctl_env(
            {**unversioned, "SAASCTL_ALLOW_WEAK_STATE_BUCKET": "1"}, "plan", "--shared-only"
        )
        assert told.returncode == 0, told.stderr
        assert "is not versioned" in told.stderr
        assert "does not block all public access" in told.stderr
    finally:
        s.saasctl("bootstrap")  # re-enables versioning and the public access block
    again = s.saasctl("plan", "--shared-only", check=0)
    assert "warning" not in again.stderr.lower()


@pytest.mark.newest_terraform  # saasctl's bucket calls, before terraform
def test_a_state_bucket_of_another_account_is_refused_and_a_policy_kept(stack: Stack) -> None:
    s = stack
    env_file = s.root / "terraform/envs/local/env.yaml"
    original = env_file.read_text()
    env_file.write_text(original.replace("123456789012", "210987654321"))
    try:
        refused = s.saasctl("plan", "--shared-only", check=1)
        assert "not owned by account 210987654321 (env.yaml account_id)" in refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    finally:
        env_file.write_text(original)
    # bootstrap puts its own statement in (here: takes it out, the emulator serves
    # plain HTTP) and keeps the bucket's other statements.
    audit = {"Sid": "AuditRead", "Effect": "Allow", "Action": "s3:GetObject",
             "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
             "Resource": "arn:aws:s3:::saasctl-local-tfstate/*"}  # fmt: skip
    s.s3.put_bucket_policy(
        Bucket="saasctl-local-tfstate",
        Policy=json.dumps({"Version": "2012-10-17", "Statement": [audit]}),
    )
    s.saasctl("bootstrap")
    kept = json.loads(s.s3.get_bucket_policy(Bucket="saasctl-local-tfstate")["Policy"])
    assert kept["Statement"] == [audit]
    s.s3.delete_bucket_policy(Bucket="saasctl-local-tfstate")


@NEEDS_TERRAFORM
def test_the_first_onboard_applies_the_shared_workspace_when_confirmed(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """In a bootstrapped environment whose shared workspace was never applied, an
    onboard offers to apply it first: refused without --yes and without a terminal
    (nothing written), done with --yes."""
    root = copy_project(
        tmp_path_factory.mktemp("first"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url:
        s = make_stack(root, url, BINARIES[-1])
        s.saasctl("bootstrap")
        before = s.object_keys()
        refused = s.saasctl("tenant", "onboard", "acme", "--tier", "basic", check=5)
        assert "not confirmed: apply the shared workspace of 'local' first" in refused.stderr
        assert "to add" in refused.stderr
        # nothing but the audit trail's record of the declined run
        added = sorted(set(s.object_keys()) - set(before))
        assert [k.split("/")[1] for k in added] == ["audit"], added
        assert (s.read_json(added[0]) or {})["outcome"] == "not confirmed"
        assert not s.tenant_dir("acme").exists()
        plan_only = s.saasctl(
            "tenant", "onboard", "acme", "--tier", "basic", "--plan-only", check=1
        )
        assert "has not been applied" in plan_only.stderr
        s.saasctl("tenant", "onboard", "acme", "--tier", "basic", "--yes")
        assert {"local/shared/terraform.tfstate", "local/tenants/acme/terraform.tfstate"} <= set(
            s.object_keys()
        )
        listed = tenants(s)
        assert (listed["acme"]["tier"], listed["acme"]["status"]) == ("basic", "applied")

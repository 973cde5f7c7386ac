"""Emulator-backed resources: with an endpoint configured, the offline provider keeps
ECS clusters, task definitions and services, CloudWatch alarms and log groups,
DynamoDB tables, Cognito pools, clients and groups, S3 buckets and SSM parameters in the
emulator for real. Each is created there, changed, drifted (changed or deleted
behind terraform's back: the refresh sees it, the next apply repairs it) and
destroyed; every other type stays in state only."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest

from saasctl import lifecycle
from saasctl.emulator import free_port
from saasctl.terraform import Terraform
from tests.conftest import REPO
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM
from tests.integration.test_conformance import offline_terraform

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
CASE = REPO / "tests" / "conformance" / "backed"


def client(url: str, service: str):  # type: ignore[no-untyped-def]
    return boto3.client(service, endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def apply(tf: Terraform, workdir: Path, *variables: str) -> dict[str, str]:
    tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color", *variables])
    out = tf.run(workdir, ["output", "-json", "-no-color", "ids"]).stdout
    ids: dict[str, str] = json.loads(out)
    return ids


def test_backed_types_live_in_the_emulator(emulator: str, tmp_path: Path) -> None:
    tf = offline_terraform(BINARIES[-1])
    workdir = lifecycle.prepare(CASE, tmp_path / "backed")
    url = f"-var=endpoint={emulator}"
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    ids = apply(tf, workdir, url)
    services = ("ecs", "cloudwatch", "logs", "dynamodb", "cognito-idp", "s3", "ssm")
    ecs, cw, logs, ddb, idp, s3, ssm = (client(emulator, name) for name in services)

    # created: ids and ARNs are the emulator's
    [cluster] = ecs.describe_clusters(clusters=[ids["cluster_arn"]])["clusters"]
    assert cluster["status"] == "ACTIVE" and cluster["clusterName"] == "backed"
    task = ecs.describe_task_definition(taskDefinition=ids["task_arn"])["taskDefinition"]
    assert task["revision"] == 1 and task["containerDefinitions"][0]["image"].endswith(":1.27")
    [service] = ecs.describe_services(cluster="backed", services=[ids["service_arn"]])["services"]
    assert service["desiredCount"] == 1 and service["taskDefinition"] == ids["task_arn"]
    [alarm] = cw.describe_alarms(AlarmNames=["backed-5xx"])["MetricAlarms"]
    assert alarm["AlarmArn"] == ids["alarm_arn"] and alarm["Threshold"] == 5
    [group] = logs.describe_log_groups(logGroupNamePrefix="/backed/app")["logGroups"]
    assert group["retentionInDays"] == 7
    table = ddb.describe_table(TableName="backed-items")["Table"]
    assert table["TableArn"] == ids["table_arn"]
    backups = ddb.describe_continuous_backups(TableName="backed-items")[
        "ContinuousBackupsDescription"
    ]
    assert backups["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    pool = idp.describe_user_pool(UserPoolId=ids["pool_id"])["UserPool"]
    assert pool["Name"] == "backed-users"
    assert any(a["Name"] == "custom:tenantId" for a in pool["SchemaAttributes"])
    idp.describe_user_pool_client(UserPoolId=ids["pool_id"], ClientId=ids["client_id"])
    idp.get_group(GroupName="tenant-acme", UserPoolId=ids["pool_id"])
    assert ids["bucket"].startswith("backed-")
    s3.head_bucket(Bucket=ids["bucket"])
    param = ssm.get_parameter(Name="/backed/tenants/acme/config")["Parameter"]
    assert param["ARN"] == ids["parameter"] and json.loads(param["Value"])["values"] == {
        "retention": 7}  # fmt: skip
    clean = tf.run(workdir, ["plan", "-detailed-exitcode", "-no-color", url], ok_codes=(0, 2))
    assert clean.code == 0, clean.stdout[-2000:]

    # changed: the emulator follows
    changed = apply(tf, workdir, url, "-var=desired_count=2", "-var=retention_in_days=14",
                    "-var=threshold=9")  # fmt: skip
    assert changed == ids  # updated in place: same resources
    [service] = ecs.describe_services(cluster="backed", services=[ids["service_arn"]])["services"]
    assert service["desiredCount"] == 2
    assert cw.describe_alarms(AlarmNames=["backed-5xx"])["MetricAlarms"][0]["Threshold"] == 9
    group = logs.describe_log_groups(logGroupNamePrefix="/backed/app")["logGroups"][0]
    assert group["retentionInDays"] == 14
    param = ssm.get_parameter(Name="/backed/tenants/acme/config")["Parameter"]
    assert json.loads(param["Value"])["values"] == {"retention": 14} and param["Version"] == 2

    # drifted behind terraform's back: changed, and deleted
    v2 = [url, "-var=desired_count=2", "-var=retention_in_days=14", "-var=threshold=9"]
    ecs.update_service(cluster="backed", service=ids["service_arn"], desiredCount=5)
    logs.delete_log_group(logGroupName="/backed/app")
    s3.delete_bucket(Bucket=ids["bucket"])
    idp.delete_group(GroupName="tenant-acme", UserPoolId=ids["pool_id"])
    ssm.delete_parameter(Name="/backed/tenants/acme/config")
    drift = tf.run(workdir, ["plan", "-refresh-only", "-detailed-exitcode", "-no-color", *v2],
                   ok_codes=(0, 2))  # fmt: skip
    assert drift.code == 2
    for gone in (
        "aws_cloudwatch_log_group.app",
        "aws_s3_bucket.data",
        "aws_cognito_user_group.tenant",
        "aws_ssm_parameter.config",
    ):
        assert f"# {gone} has been deleted" in drift.stdout, drift.stdout[-3000:]
    assert "desired_count" in drift.stdout and "5" in drift.stdout
    repaired = apply(tf, workdir, *v2)
    assert repaired["bucket"] != ids["bucket"]  # a new bucket from the same prefix
    [service] = ecs.describe_services(cluster="backed", services=[ids["service_arn"]])["services"]
    assert service["desiredCount"] == 2
    assert logs.describe_log_groups(logGroupNamePrefix="/backed/app")["logGroups"]
    idp.get_group(GroupName="tenant-acme", UserPoolId=ids["pool_id"])
    s3.head_bucket(Bucket=repaired["bucket"])
    assert ssm.get_parameter(Name="/backed/tenants/acme/config")["Parameter"]["Value"]

    # destroyed: gone from the emulator too
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color", *v2])
    assert ecs.describe_clusters(clusters=[ids["cluster_arn"]])["clusters"][0]["status"] != "ACTIVE"
    assert (
        ecs.describe_task_definition(taskDefinition=ids["task_arn"])["taskDefinition"]["status"]
        == "INACTIVE"
    )
    assert cw.describe_alarms(AlarmNames=["backed-5xx"])["MetricAlarms"] == []
    assert logs.describe_log_groups(logGroupNamePrefix="/backed/app")["logGroups"] == []
    assert "backed-items" not in ddb.list_tables()["TableNames"]
    assert ids["pool_id"] not in [p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]]
    assert repaired["bucket"] not in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert ssm.describe_parameters()["Parameters"] == []


def test_with_no_emulator_listening_everything_stays_in_state(tmp_path: Path) -> None:
    """An endpoint nobody listens on (an `offline env` shell without `saasctl
    emulator`): one warning, and the apply keeps the backed types in state rather
    than failing on a connection error."""
    tf = offline_terraform(BINARIES[-1])
    workdir = lifecycle.prepare(CASE, tmp_path / "nobody")
    port = free_port()
    url = f"-var=endpoint=http://127.0.0.1:{port}"
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    done = tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color", url])
    said = " ".join((done.stdout + done.stderr).split())
    assert f"no emulator answers at http://127.0.0.1:{port}" in said
    assert f"saasctl emulator --port {port}" in said
    held = tf.run(workdir, ["state", "list"]).stdout.split()
    assert {"aws_s3_bucket.data", "aws_ssm_parameter.config", "aws_ecs_service.app"} <= set(held)
    clean = tf.run(workdir, ["plan", "-detailed-exitcode", "-no-color", url], ok_codes=(0, 2))
    assert clean.code == 0, clean.stdout[-2000:]
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color", url])

"""DynamoDB tables in the emulator (key schema, billing, streams, PITR, protection)."""

from __future__ import annotations

from typing import Any

from saasctl.offline_aws.backed import Handler, State, register, tags_list
from saasctl.offline_aws.backed.client import error_code


def _key_schema(s: State) -> list[dict[str, str]]:
    keys = [{"AttributeName": s["hash_key"], "KeyType": "HASH"}]
    if s.get("range_key"):
        keys.append({"AttributeName": s["range_key"], "KeyType": "RANGE"})
    return keys


def _pitr(api: Any, s: State) -> None:
    enabled = any(p.get("enabled") for p in s.get("point_in_time_recovery") or [])
    api.update_continuous_backups(
        TableName=s["name"],
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": enabled},
    )


def table_create(api: Any, s: State) -> State:
    billing = s.get("billing_mode") or "PROVISIONED"
    args: dict[str, Any] = {
        "TableName": s["name"],
        "KeySchema": _key_schema(s),
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]}
            for a in s.get("attribute") or []
        ],
        "BillingMode": billing,
        "Tags": tags_list(s.get("tags_all") or s.get("tags"), "Key", "Value"),
        "DeletionProtectionEnabled": bool(s.get("deletion_protection_enabled")),
    }
    if billing == "PROVISIONED":
        args["ProvisionedThroughput"] = {
            "ReadCapacityUnits": int(s.get("read_capacity") or 1),
            "WriteCapacityUnits": int(s.get("write_capacity") or 1),
        }
    if s.get("stream_enabled"):
        args["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": s.get("stream_view_type") or "NEW_IMAGE",
        }
    out = api.create_table(**args)["TableDescription"]
    _pitr(api, s)
    return {"id": s["name"], "arn": out["TableArn"], "stream_arn": out.get("LatestStreamArn", ""),
            "stream_label": out.get("LatestStreamLabel", "")}  # fmt: skip


def table_read(api: Any, s: State) -> State | None:
    try:
        out = api.describe_table(TableName=s["name"])["Table"]
    except Exception as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    billing = (out.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    return {"billing_mode": billing,
            "deletion_protection_enabled": bool(out.get("DeletionProtectionEnabled"))}  # fmt: skip


def table_update(api: Any, prior: State, s: State) -> State:
    changes: dict[str, Any] = {}
    if prior.get("billing_mode") != s.get("billing_mode"):
        changes["BillingMode"] = s.get("billing_mode") or "PROVISIONED"
    if prior.get("deletion_protection_enabled") != s.get("deletion_protection_enabled"):
        changes["DeletionProtectionEnabled"] = bool(s.get("deletion_protection_enabled"))
    if changes:
        api.update_table(TableName=s["name"], **changes)
    if prior.get("point_in_time_recovery") != s.get("point_in_time_recovery"):
        _pitr(api, s)
    return {k: prior[k] for k in ("id", "arn", "stream_arn", "stream_label") if k in prior}


def table_delete(api: Any, s: State) -> None:
    api.delete_table(TableName=s["name"])


register("aws_dynamodb_table", Handler("dynamodb", "dynamodb", table_create, table_read,
                                       table_update, table_delete))  # fmt: skip

"""CloudWatch log groups in the emulator."""

from __future__ import annotations

from typing import Any

from saasctl.offline_aws.backed import Handler, State, register


def _group(api: Any, name: str) -> dict[str, Any] | None:
    found = api.describe_log_groups(logGroupNamePrefix=name)["logGroups"]
    return next((g for g in found if g["logGroupName"] == name), None)


def _retention(api: Any, s: State) -> None:
    if s.get("retention_in_days"):
        api.put_retention_policy(
            logGroupName=s["name"], retentionInDays=int(s["retention_in_days"])
        )
    else:
        api.delete_retention_policy(logGroupName=s["name"])


def group_create(api: Any, s: State) -> State:
    args: dict[str, Any] = {"logGroupName": s["name"], "tags": dict(s.get("tags_all") or {})}
    if s.get("kms_key_id"):
        args["kmsKeyId"] = s["kms_key_id"]
    api.create_log_group(**args)
    _retention(api, s)
    found = _group(api, s["name"]) or {}
    return {"id": s["name"], "arn": str(found.get("arn", "")).removesuffix(":*")}


def group_read(api: Any, s: State) -> State | None:
    found = _group(api, s["name"])
    if found is None:
        return None
    return {"retention_in_days": found.get("retentionInDays") or 0}


def group_update(api: Any, prior: State, s: State) -> State:
    _retention(api, s)
    return {"id": prior["id"], "arn": prior["arn"]}


def group_delete(api: Any, s: State) -> None:
    if s.get("skip_destroy"):  # as the provider does: out of state, kept in AWS
        return
    api.delete_log_group(logGroupName=s["name"])


register("aws_cloudwatch_log_group", Handler("logs", "logs", group_create, group_read,
                                             group_update, group_delete))  # fmt: skip

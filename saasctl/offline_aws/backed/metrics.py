"""CloudWatch metric alarms in the emulator."""

from __future__ import annotations

from typing import Any

from saasctl.offline_aws.backed import Handler, State, register, tags_list
from saasctl.offline_aws.backed.client import error_code

_ARGS = (("ComparisonOperator", "comparison_operator"), ("EvaluationPeriods", "evaluation_periods"),
         ("MetricName", "metric_name"), ("Namespace", "namespace"), ("Period", "period"),
         ("Statistic", "statistic"), ("Threshold", "threshold"),
         ("AlarmDescription", "alarm_description"), ("TreatMissingData", "treat_missing_data"),
         ("DatapointsToAlarm", "datapoints_to_alarm"), ("ActionsEnabled", "actions_enabled"),
         ("Unit", "unit"), ("ExtendedStatistic", "extended_statistic"))  # fmt: skip


def _put(api: Any, s: State) -> None:
    args: dict[str, Any] = {"AlarmName": s["alarm_name"]}
    for arg, attr in _ARGS:
        if s.get(attr) is not None:
            args[arg] = int(s[attr]) if arg in ("EvaluationPeriods", "Period",
                                                "DatapointsToAlarm") else s[attr]  # fmt: skip
    if s.get("dimensions"):
        args["Dimensions"] = [{"Name": k, "Value": v} for k, v in sorted(s["dimensions"].items())]
    for arg, attr in (
        ("AlarmActions", "alarm_actions"),
        ("OKActions", "ok_actions"),
        ("InsufficientDataActions", "insufficient_data_actions"),
    ):
        if s.get(attr):
            args[arg] = sorted(s[attr])
    args["Tags"] = tags_list(s.get("tags_all") or s.get("tags"), "Key", "Value")
    api.put_metric_alarm(**args)


def _arn(api: Any, name: str) -> str | None:
    found = api.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return found[0]["AlarmArn"] if found else None


def alarm_create(api: Any, s: State) -> State:
    _put(api, s)
    return {"id": s["alarm_name"], "arn": _arn(api, s["alarm_name"])}


def alarm_read(api: Any, s: State) -> State | None:
    found = api.describe_alarms(AlarmNames=[s["alarm_name"]])["MetricAlarms"]
    if not found:
        return None
    return {"threshold": found[0]["Threshold"]}


def alarm_update(api: Any, prior: State, s: State) -> State:
    _put(api, s)  # put_metric_alarm replaces the alarm's definition
    return {"id": prior["id"], "arn": prior["arn"]}


def alarm_delete(api: Any, s: State) -> None:
    try:
        api.delete_alarms(AlarmNames=[s["alarm_name"]])
    except Exception as exc:  # already gone
        if error_code(exc) != "ResourceNotFound":
            raise


ALARM = Handler("cloudwatch", "cloudwatch", alarm_create, alarm_read, alarm_update, alarm_delete)
register("aws_cloudwatch_metric_alarm", ALARM)

"""SSM parameters in the emulator (a tenant's configuration is read from one)."""

from __future__ import annotations

from typing import Any

from saasctl.offline_aws.backed import Handler, State, register, tags_list
from saasctl.offline_aws.backed.client import error_code


def _put(api: Any, s: State, *, overwrite: bool) -> State:
    args: dict[str, Any] = {
        "Name": s["name"],
        "Value": s["value"],
        "Type": s.get("type") or "String",
        "Tier": s.get("tier") or "Standard",
        "Overwrite": overwrite,
    }
    if s.get("description"):
        args["Description"] = s["description"]
    if s.get("key_id") and args["Type"] == "SecureString":
        args["KeyId"] = s["key_id"]
    tags = tags_list(s.get("tags_all") or s.get("tags"), "Key", "Value")
    if tags and not overwrite:  # SSM takes tags only on a new parameter
        args["Tags"] = tags
    api.put_parameter(**args)
    arn = api.get_parameter(Name=s["name"])["Parameter"]["ARN"]
    # `version` stays the plan's: terraform accepts no other after an update
    return {"id": s["name"], "arn": arn}


def parameter_create(api: Any, s: State) -> State:
    return _put(api, s, overwrite=False)


def parameter_read(api: Any, s: State) -> State | None:
    try:
        found = api.get_parameter(Name=s["name"], WithDecryption=True)["Parameter"]
    except Exception as exc:
        if error_code(exc) == "ParameterNotFound":
            return None
        raise
    return {"value": found["Value"]}


def parameter_update(api: Any, prior: State, s: State) -> State:
    return _put(api, s, overwrite=True)


def parameter_delete(api: Any, s: State) -> None:
    api.delete_parameter(Name=s["name"])


register("aws_ssm_parameter", Handler("ssm", "ssm", parameter_create, parameter_read,
                                      parameter_update, parameter_delete))  # fmt: skip

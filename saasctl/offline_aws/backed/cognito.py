"""Cognito user pools, app clients and groups in the emulator."""

from __future__ import annotations

from typing import Any

from saasctl.offline_aws.backed import Handler, State, keep_ids, register
from saasctl.offline_aws.backed.client import error_code

_TYPES = {"String": "String", "Number": "Number", "DateTime": "DateTime", "Boolean": "Boolean"}


def _gone(exc: Exception) -> bool:
    return error_code(exc) == "ResourceNotFoundException"


def pool_create(api: Any, s: State) -> State:
    args: dict[str, Any] = {"PoolName": s["name"], "UserPoolTags": dict(s.get("tags_all") or {})}
    if s.get("mfa_configuration"):
        args["MfaConfiguration"] = s["mfa_configuration"]
    schema = [
        {"Name": a["name"], "AttributeDataType": _TYPES.get(a.get("attribute_data_type"), "String"),
         "Mutable": bool(a.get("mutable", True)), "DeveloperOnlyAttribute": False}
        for a in s.get("schema") or []
    ]  # fmt: skip
    if schema:
        args["Schema"] = schema
    policy = (s.get("password_policy") or [None])[0]
    if policy:
        args["Policies"] = {"PasswordPolicy": {
            "MinimumLength": int(policy.get("minimum_length") or 8),
            "RequireUppercase": bool(policy.get("require_uppercase")),
            "RequireLowercase": bool(policy.get("require_lowercase")),
            "RequireNumbers": bool(policy.get("require_numbers")),
            "RequireSymbols": bool(policy.get("require_symbols")),
        }}  # fmt: skip
    if s.get("deletion_protection"):
        args["DeletionProtection"] = s["deletion_protection"]
    out = api.create_user_pool(**args)["UserPool"]
    region = api.meta.region_name
    return {"id": out["Id"], "arn": out["Arn"],
            "endpoint": f"cognito-idp.{region}.amazonaws.com/{out['Id']}"}  # fmt: skip


def pool_read(api: Any, s: State) -> State | None:
    try:
        out = api.describe_user_pool(UserPoolId=s["id"])["UserPool"]
    except Exception as exc:
        if _gone(exc):
            return None
        raise
    return {"name": out["Name"]}


def pool_delete(api: Any, s: State) -> None:
    api.delete_user_pool(UserPoolId=s["id"])


def client_create(api: Any, s: State) -> State:
    args: dict[str, Any] = {"UserPoolId": s["user_pool_id"], "ClientName": s["name"],
                            "GenerateSecret": bool(s.get("generate_secret"))}  # fmt: skip
    if s.get("explicit_auth_flows"):
        args["ExplicitAuthFlows"] = sorted(s["explicit_auth_flows"])
    out = api.create_user_pool_client(**args)["UserPoolClient"]
    return {"id": out["ClientId"], "client_secret": out.get("ClientSecret", "")}


def client_read(api: Any, s: State) -> State | None:
    try:
        api.describe_user_pool_client(UserPoolId=s["user_pool_id"], ClientId=s["id"])
    except Exception as exc:
        if _gone(exc):
            return None
        raise
    return {}


def client_delete(api: Any, s: State) -> None:
    api.delete_user_pool_client(UserPoolId=s["user_pool_id"], ClientId=s["id"])


def group_create(api: Any, s: State) -> State:
    args: dict[str, Any] = {"GroupName": s["name"], "UserPoolId": s["user_pool_id"]}
    for arg, attr in (("Description", "description"), ("RoleArn", "role_arn")):
        if s.get(attr):
            args[arg] = s[attr]
    if s.get("precedence") is not None:
        args["Precedence"] = int(s["precedence"])
    api.create_group(**args)
    return {"id": f"{s['user_pool_id']}/{s['name']}"}


def group_read(api: Any, s: State) -> State | None:
    try:
        api.get_group(GroupName=s["name"], UserPoolId=s["user_pool_id"])
    except Exception as exc:
        if _gone(exc):
            return None
        raise
    return {}


def group_delete(api: Any, s: State) -> None:
    api.delete_group(GroupName=s["name"], UserPoolId=s["user_pool_id"])


register("aws_cognito_user_pool", Handler("cognitoidp", "cognito-idp", pool_create, pool_read,
                                          keep_ids, pool_delete))  # fmt: skip
register("aws_cognito_user_pool_client", Handler("cognitoidp", "cognito-idp", client_create,
                                                 client_read, keep_ids, client_delete))  # fmt: skip
register("aws_cognito_user_group", Handler("cognitoidp", "cognito-idp", group_create, group_read,
                                           keep_ids, group_delete))  # fmt: skip

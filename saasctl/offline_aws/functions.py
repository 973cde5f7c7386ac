"""The provider-defined functions of hashicorp/aws (``provider::aws::…``), computed as
the real provider computes them; their signatures come from the schema."""

from __future__ import annotations

import re
from typing import Any


class FunctionError(Exception):
    def __init__(self, message: str, argument: int | None = None) -> None:
        super().__init__(message)
        self.argument = argument


def _text(args: list[Any], index: int) -> str:
    value = args[index] if index < len(args) else None
    if not isinstance(value, str):
        raise FunctionError(f"argument {index + 1} must be a string", index)
    return value


def arn_parse(args: list[Any]) -> dict[str, str]:
    arn = _text(args, 0)
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or not (parts[1] and parts[2] and parts[5]):
        raise FunctionError(f"invalid ARN: {arn!r}", 0)
    _, partition, service, region, account, resource = parts
    return {"partition": partition, "service": service, "region": region,
            "account_id": account, "resource": resource}  # fmt: skip


def arn_build(args: list[Any]) -> str:
    partition, service, region, account, resource = (_text(args, i) for i in range(5))
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def trim_iam_role_path(args: list[Any]) -> str:
    arn = _text(args, 0)
    m = re.fullmatch(r"(arn:[^:]+:iam::\d{12}:role)/(?:[^/]+/)*([^/]+)", arn)
    if not m:
        raise FunctionError(f"invalid IAM role ARN: {arn!r}", 0)
    return f"{m.group(1)}/{m.group(2)}"


def user_agent(args: list[Any]) -> str:
    name, version, comment = (
        _text(args, i) if i < len(args) and args[i] is not None else "" for i in range(3)
    )
    if not name:
        raise FunctionError("product_name must not be empty", 0)
    out = f"{name}/{version}" if version else name
    return f"{out} ({comment})" if comment else out


FUNCTIONS = {
    "arn_parse": arn_parse,
    "arn_build": arn_build,
    "trim_iam_role_path": trim_iam_role_path,
    "user_agent": user_agent,
}


def call(name: str, args: list[Any]) -> Any:
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise FunctionError(f"provider::aws::{name} is not available in saasctl's offline provider")
    return fn(args)

"""Tenant id rules and AWS-safe resource names."""

from __future__ import annotations

import hashlib
import re

from saasctl.errors import UserError

# Short enough that "<env>-<tenant>-<service>" fits the 32-character ALB and
# target group name limits with room for a hash suffix.
TENANT_ID_MIN = 3
TENANT_ID_MAX = 20
TENANT_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
RESERVED_IDS = frozenset(
    {
        "admin",
        "all",
        "api",
        "archive",
        "archives",
        "default",
        "internal",
        "locks",
        "none",
        "pool",
        "root",
        "saasctl",
        "shared",
        "system",
        "tenant",
        "tenants",
        "www",
    }
)
AWS_NAME_MAX = 32
ENV_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9-]{0,15}$")

ID_RULE = (
    f"{TENANT_ID_MIN}-{TENANT_ID_MAX} characters: lower-case letters, digits and single "
    "hyphens, starting with a letter"
)


def validate_tenant_id(tenant_id: str) -> str:
    shown = repr(tenant_id)
    if not tenant_id:
        raise UserError("tenant id is empty", hint=ID_RULE)
    if "/" in tenant_id or "\\" in tenant_id or ".." in tenant_id:
        raise UserError(f"tenant id {shown} contains a path separator or '..'", hint=ID_RULE)
    if len(tenant_id) > TENANT_ID_MAX:
        raise UserError(
            f"tenant id {shown} is {len(tenant_id)} characters long; the limit is "
            f"{TENANT_ID_MAX} so AWS names (32 characters) stay readable"
        )
    if len(tenant_id) < TENANT_ID_MIN:
        raise UserError(f"tenant id {shown} is shorter than {TENANT_ID_MIN} characters")
    if any(c.isupper() for c in tenant_id):
        raise UserError(f"tenant id {shown} has upper-case letters", hint=ID_RULE)
    if not TENANT_ID_PATTERN.fullmatch(tenant_id):
        raise UserError(f"tenant id {shown} is not valid", hint=ID_RULE)
    if tenant_id in RESERVED_IDS:
        raise UserError(f"tenant id {shown} is reserved", hint="pick another id")
    return tenant_id


def validate_env_name(name: str) -> str:
    if not ENV_NAME_PATTERN.fullmatch(name):
        raise UserError(
            f"environment name {name!r} is not valid",
            hint="1-16 characters: lower-case letters, digits, hyphens, starting with a letter",
        )
    return name


def aws_name(*parts: str, max_len: int = AWS_NAME_MAX) -> str:
    """Join parts with '-', truncating with a stable hash suffix past ``max_len``."""
    name = "-".join(p for p in parts if p)
    if len(name) <= max_len:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:6]
    return f"{name[: max_len - 7].rstrip('-')}-{digest}"

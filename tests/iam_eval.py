"""A small IAM policy evaluator for tests: is a request allowed by identity
policies, or by a role's trust policy for a given principal?

Covers what saasctl's policies use, by AWS's documented rules: Allow/Deny with
explicit deny winning and implicit deny otherwise; Action and Resource with `*`
and `?` wildcards; policy variables (``${aws:PrincipalTag/tenant}``) taken from
the request context; condition operators StringEquals, StringNotEquals,
StringLike, Bool, Null, and the set qualifiers ForAllValues (true on an empty or
missing key) and ForAnyValue (false on one); in trust policies, ``Principal``
(``*``, or AWS, Service and Federated identifiers, with wildcards), matched
against the caller's. Anything else raises (``NotAction``, ``NotResource``,
``NotPrincipal``, another operator, a principal in an identity policy), so a
policy this does not understand is never silently judged.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable
from typing import Any

Context = dict[str, list[str]]  # condition key (lower case) -> values of the request


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, case: bool = True) -> bool:
    regex = fnmatch.translate(pattern.replace("[", "[[]"))
    return re.match(regex, value, 0 if case else re.IGNORECASE) is not None


def _substitute(text: str, context: Context) -> str | None:
    """Policy variables; None when one is missing (the condition then fails)."""
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        values = context.get(m.group(1).lower())
        if not values:
            missing = True
            return ""
        return values[0]

    out = re.sub(r"\$\{([^}]+)\}", one, text)
    return None if missing else out


def _string_match(op: str, wanted: list[str], have: str) -> bool:
    if op == "StringEquals":
        return have in wanted
    if op == "StringLike":
        return any(_glob(w, have) for w in wanted)
    raise NotImplementedError(op)


KNOWN = {"StringEquals", "StringNotEquals", "StringLike", "Bool", "Null"}


def _condition(op: str, key: str, values: list[str], context: Context) -> bool:
    if op.rpartition(":")[2] not in KNOWN or op.rpartition(":")[0] not in (
        "",
        "ForAllValues",
        "ForAnyValue",
    ):
        raise NotImplementedError(op)
    have = context.get(key.lower())
    if op == "Null":
        return (have is None) == (str(values[0]).lower() == "true")
    qualifier, _, base = op.rpartition(":")
    wanted = [w for w in (_substitute(str(v), context) for v in values) if w is not None]
    if qualifier == "ForAllValues":
        return all(_string_match(base, wanted, h) for h in have or [])
    if qualifier == "ForAnyValue":
        return any(_string_match(base, wanted, h) for h in have or [])
    if qualifier:
        raise NotImplementedError(op)
    if have is None:
        return op == "StringNotEquals"  # a negated operator matches a missing key
    if base == "Bool":
        return str(have[0]).lower() == str(values[0]).lower()
    if base == "StringNotEquals":
        return all(h not in wanted for h in have)
    return all(_string_match(base, wanted, h) for h in have)


Principal = dict[str, str]  # {"AWS": role ARN} or {"Federated": provider} or {"Service": ...}


def _principal_matches(named: Any, caller: Principal) -> bool:
    if named == "*":
        return True
    if not isinstance(named, dict) or set(named) - {"AWS", "Service", "Federated"}:
        raise NotImplementedError(f"Principal {named!r}")
    return any(
        _one_principal(kind, str(ident), caller[kind])
        for kind, idents in named.items() if kind in caller for ident in _list(idents)
    )  # fmt: skip


def _one_principal(kind: str, named: str, caller: str) -> bool:
    # An account (its id, or its root user's ARN) stands for every principal of it.
    account = re.fullmatch(r"(?:arn:aws[a-z-]*:iam::)?(\d{12})(?::root)?", named)
    if kind == "AWS" and account:
        return caller.split(":")[4:5] == [account.group(1)]
    return _glob(named, caller)


def _matches(
    stmt: dict[str, Any], action: str, resource: str, context: Context,
    principal: Principal | None,
) -> bool:  # fmt: skip
    unknown = {"NotAction", "NotResource", "NotPrincipal"} & set(stmt)
    if unknown:
        raise NotImplementedError(", ".join(sorted(unknown)))
    if ("Principal" in stmt) != (principal is not None):
        raise NotImplementedError("a Principal belongs to a trust policy, judged with a caller")
    if not any(_glob(a, action, case=False) for a in _list(stmt.get("Action", []))):
        return False
    if principal is not None and not _principal_matches(stmt["Principal"], principal):
        return False
    resources = [_substitute(r, context) for r in _list(stmt.get("Resource", []))]
    # A trust policy names no resource: it is the role's own.
    if ("Resource" in stmt or principal is None) and not any(
        r is not None and _glob(r, resource) for r in resources
    ):
        return False
    for op, keys in (stmt.get("Condition") or {}).items():
        for key, values in keys.items():
            if not _condition(op, key, [str(v) for v in _list(values)], context):
                return False
    return True


def allowed(
    policies: Iterable[str | dict[str, Any]], action: str, resource: str, context: Context,
    *, principal: Principal | None = None,
) -> bool:  # fmt: skip
    """Identity policies (``principal`` None), or a trust policy for the caller
    ``principal``; ``resource`` is the role for a trust policy."""
    verdict = False
    for policy in policies:
        doc = json.loads(policy) if isinstance(policy, str) else policy
        for stmt in _list(doc.get("Statement", [])):
            if _matches(stmt, action, resource, context, principal):
                if stmt.get("Effect") == "Deny":
                    return False
                verdict = True
    return verdict

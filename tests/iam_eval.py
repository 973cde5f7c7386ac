"""A small IAM policy evaluator for tests: is a request allowed by identity policies?

Covers what saasctl's policies use, by AWS's documented rules: Allow/Deny with
explicit deny winning and implicit deny otherwise; Action and Resource with `*`
and `?` wildcards; policy variables (``${aws:PrincipalTag/tenant}``) taken from
the request context; condition operators StringEquals, StringNotEquals,
StringLike, Bool, Null, and the set qualifiers ForAllValues (true on an empty or
missing key) and ForAnyValue (false on one). Anything else raises, so a policy
using an operator this does not know is never silently judged.
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


def _matches(stmt: dict[str, Any], action: str, resource: str, context: Context) -> bool:
    if not any(_glob(a, action, case=False) for a in _list(stmt.get("Action", []))):
        return False
    resources = [_substitute(r, context) for r in _list(stmt.get("Resource", []))]
    if not any(r is not None and _glob(r, resource) for r in resources):
        return False
    for op, keys in (stmt.get("Condition") or {}).items():
        for key, values in keys.items():
            if not _condition(op, key, [str(v) for v in _list(values)], context):
                return False
    return True


def allowed(
    policies: Iterable[str | dict[str, Any]], action: str, resource: str, context: Context
) -> bool:
    verdict = False
    for policy in policies:
        doc = json.loads(policy) if isinstance(policy, str) else policy
        for stmt in _list(doc.get("Statement", [])):
            if _matches(stmt, action, resource, context):
                if stmt.get("Effect") == "Deny":
                    return False
                verdict = True
    return verdict

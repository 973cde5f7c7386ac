"""Utility providers served offline by the same program: hashicorp/random.

Their values are made here, as the real providers make them: random but stable
in state (made once, at apply), new only when the resource is replaced, and
every argument replaces it when it changes (``keepers`` included), as in the
real provider. Defaults the real provider plans (``special = true``...) are
planned here too, so a re-plan is clean.
"""

from __future__ import annotations

import base64
import random
import secrets
import string
import uuid
from typing import Any

from saasctl.offline_aws.values import UNKNOWN

State = dict[str, Any]

# What the real provider (3.9) plans for an unset optional argument.
_CHARACTER_SETS = {"special": True, "upper": True, "lower": True, "numeric": True,
                   "number": True, "min_upper": 0, "min_lower": 0, "min_numeric": 0,
                   "min_special": 0}  # fmt: skip
DEFAULTS: dict[str, dict[str, Any]] = {
    "random_string": _CHARACTER_SETS,
    "random_pet": {"length": 2, "separator": "-"},
}
DEFAULTS["random_password"] = DEFAULTS["random_string"]
SPECIAL = "!@#$%&*()-_=+[]{}<>:?"  # the real provider's default special characters
# random_pet's words: a short list of its own (the provider's lists are longer).
ADJECTIVES = ("able", "bold", "calm", "eager", "fair", "glad", "keen", "neat", "quick", "wise")
NAMES = ("badger", "crane", "falcon", "gecko", "heron", "ibis", "koala", "lynx", "otter", "wren")


def plan(type_name: str, block: dict[str, Any], prior: State | None, planned: State) -> list[str]:
    """Fill the real provider's defaults; mark what apply makes unknown. Returns the
    arguments whose change replaces the resource (every one that changed)."""
    args = [n for n, a in block["attributes"].items() if not _computed_only(a)]
    for name, value in DEFAULTS.get(type_name, {}).items():
        if planned.get(name) is None:
            planned[name] = value
    if type_name == "random_string" or type_name == "random_password":
        planned["number"] = planned["numeric"]  # the deprecated twin follows
    changed = [] if prior is None else [n for n in args if planned.get(n) != prior.get(n)]
    if prior is None or changed:
        for name, attr in block["attributes"].items():
            if _computed_only(attr):
                planned[name] = UNKNOWN
    return changed


def _computed_only(attr: dict[str, Any]) -> bool:
    return bool(attr.get("computed")) and not attr.get("optional") and not attr.get("required")


def apply(type_name: str, planned: State) -> State:
    """The values the real provider makes at create."""
    made = MAKERS[type_name](planned)
    return {**planned, **made}


def _chars(s: State) -> str:
    length = int(s["length"])
    special = s.get("override_special")
    sets: list[tuple[str, bool, int]] = [
        (string.ascii_uppercase, s["upper"], s["min_upper"]),
        (string.ascii_lowercase, s["lower"], s["min_lower"]),
        (string.digits, s["numeric"], s["min_numeric"]),
        (str(special) if special is not None else SPECIAL, s["special"], s["min_special"]),
    ]
    pool = "".join(chars for chars, on, _ in sets if on)
    if not pool:
        raise ValueError("random_string: every character class is off")
    out = [secrets.choice(chars) for chars, on, least in sets if on for _ in range(int(least))]
    out += [secrets.choice(pool) for _ in range(max(0, length - len(out)))]
    secrets.SystemRandom().shuffle(out)
    return "".join(out[:length])


def _string(s: State) -> State:
    result = _chars(s)
    return {"result": result, "id": result}


def _password(s: State) -> State:
    # bcrypt_hash: not made offline (no bcrypt here); empty, as documented
    return {"result": _chars(s), "id": "none", "bcrypt_hash": ""}


def _id(s: State) -> State:
    raw = secrets.token_bytes(int(s["byte_length"]))
    prefix = s.get("prefix") or ""
    url = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return {"id": url, "b64_url": prefix + url,
            "b64_std": prefix + base64.b64encode(raw).decode(),
            "hex": prefix + raw.hex(), "dec": prefix + str(int.from_bytes(raw, "big"))}  # fmt: skip


def _integer(s: State) -> State:
    low, high = int(s["min"]), int(s["max"])
    if high < low:
        raise ValueError(f"random_integer: min ({low}) is greater than max ({high})")
    value = _rng(s).randint(low, high)
    return {"result": value, "id": str(value)}


def _rng(s: State) -> random.Random:
    """The provider's `seed`: the same result for the same seed (not for secrets)."""
    if s.get("seed") is not None:
        return random.Random(s["seed"])  # noqa: S311 - reproducible by design, as documented
    return secrets.SystemRandom()


def _pet(s: State) -> State:
    words = [secrets.choice(ADJECTIVES) for _ in range(max(0, int(s["length"]) - 1))]
    words.append(secrets.choice(NAMES))
    if s.get("prefix"):
        words.insert(0, s["prefix"])
    return {"id": str(s["separator"]).join(words)}


def _shuffle(s: State) -> State:
    items = list(s.get("input") or [])
    _rng(s).shuffle(items)
    count = s.get("result_count")
    return {"result": items[: int(count)] if count is not None else items, "id": "-"}


def _uuid(s: State) -> State:
    value = str(uuid.uuid4())
    return {"result": value, "id": value}


def _uuid7(s: State) -> State:
    import os
    import time

    millis = time.time_ns() // 1_000_000
    raw = bytearray(millis.to_bytes(6, "big") + os.urandom(10))
    raw[6] = 0x70 | (raw[6] & 0x0F)  # version 7
    raw[8] = 0x80 | (raw[8] & 0x3F)  # RFC 4122 variant
    value = str(uuid.UUID(bytes=bytes(raw)))
    return {"result": value, "id": value}


def _bytes(s: State) -> State:
    raw = secrets.token_bytes(int(s["length"]))
    return {"base64": base64.b64encode(raw).decode(), "hex": raw.hex()}


MAKERS = {
    "random_string": _string, "random_password": _password, "random_id": _id,
    "random_integer": _integer, "random_pet": _pet, "random_shuffle": _shuffle,
    "random_uuid": _uuid, "random_uuid4": _uuid, "random_uuid7": _uuid7, "random_bytes": _bytes,
}  # fmt: skip

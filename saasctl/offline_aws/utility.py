"""Utility providers served offline by the same program: hashicorp/random, time,
local, archive, null, external and tls (its keys and certificates in offline_aws/tls.py).

Their values are made here, as the real providers make them: random but stable
in state (made once, at apply), new only when the resource is replaced, and
every argument replaces it when it changes (``keepers`` included), as in the
real provider. Defaults the real provider plans (``special = true``...) are
planned here too, so a re-plan is clean.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import re
import secrets
import string
import subprocess
import time
import uuid
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
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
    args = _arguments(block)
    for name, value in DEFAULTS.get(type_name, {}).items():
        if planned.get(name) is None:
            planned[name] = value
    if type_name == "random_string" or type_name == "random_password":
        planned["number"] = planned["numeric"]  # the deprecated twin follows
    args += list(block["block_types"])  # a tls certificate's subject: replaced too
    changed = [] if prior is None else [n for n in args if planned.get(n) != prior.get(n)]
    for name, attr in block["attributes"].items():
        # made at apply: what only the provider sets, and (new) what the config leaves unset
        unset = prior is None and attr.get("computed") and planned.get(name) is None
        if unset or ((prior is None or changed) and _computed_only(attr)):
            planned[name] = UNKNOWN
    return changed


def open_ephemeral(type_name: str, block: dict[str, Any], config: State) -> State:
    """An ephemeral twin of a resource (random_password): its defaults, then its
    values, made now (nothing is kept)."""
    planned = dict(config)
    for name, value in DEFAULTS.get(type_name, {}).items():
        if name in block["attributes"] and planned.get(name) is None:
            planned[name] = value
    made = MAKERS[type_name](planned)
    return {k: v for k, v in {**planned, **made}.items() if k in block["attributes"]}


def _computed_only(attr: dict[str, Any]) -> bool:
    return bool(attr.get("computed")) and not attr.get("optional") and not attr.get("required")


def apply(type_name: str, planned: State) -> State:
    """The values the real provider makes at create."""
    made = MAKERS[type_name](planned)
    return {**planned, **made}


def plan_any(
    type_name: str, block: dict[str, Any], prior: State | None, planned: State
) -> list[str]:
    if type_name.startswith("time_"):
        return plan_time(type_name, block, prior, planned)
    return plan(type_name, block, prior, planned)


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


# --- hashicorp/time ------------------------------------------------------------------

TIME_PARTS = ("year", "month", "day", "hour", "minute", "second", "unix")
OFFSETS = ("offset_years", "offset_months", "offset_days", "offset_hours", "offset_minutes",
           "offset_seconds")  # fmt: skip
ROTATIONS = ("rotation_years", "rotation_months", "rotation_days", "rotation_hours",
             "rotation_minutes")  # fmt: skip


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def rfc3339(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not an RFC 3339 time like 2026-12-07T00:00:00Z") from None


def _parts(at: datetime) -> State:
    at = at.astimezone(timezone.utc)
    return {"year": at.year, "month": at.month, "day": at.day, "hour": at.hour,
            "minute": at.minute, "second": at.second, "unix": int(at.timestamp())}  # fmt: skip


def _add(
    at: datetime, years: int = 0, months: int = 0, days: int = 0, seconds: int = 0
) -> datetime:
    """Go's AddDate then Add: a day past the month's end rolls into the next month."""
    month = at.month - 1 + months
    year, month = at.year + years + month // 12, month % 12 + 1
    base = at.replace(year=year, month=month, day=1)
    return base + timedelta(days=at.day - 1 + days, seconds=seconds)


def _offset(base: datetime, s: State, names: tuple[str, ...]) -> datetime:
    n = {name.split("_", 1)[1]: int(s.get(name) or 0) for name in names}
    seconds = n.get("hours", 0) * 3600 + n.get("minutes", 0) * 60 + n.get("seconds", 0)
    return _add(base, n.get("years", 0), n.get("months", 0), n.get("days", 0), seconds)


def plan_time(
    type_name: str, block: dict[str, Any], prior: State | None, planned: State
) -> list[str]:
    """time_offset's offsets change in place (the result planned from its base); any
    other change (triggers, a given time) replaces, as the real provider does."""
    if type_name == "time_offset" and prior is not None:
        in_place = set(OFFSETS)
        changed = [n for n in _arguments(block) if planned.get(n) != prior.get(n)]
        if changed and set(changed) <= in_place:
            result = _offset(parse_rfc3339(prior["base_rfc3339"]), planned, OFFSETS)
            planned.update(_parts(result), rfc3339=rfc3339(result), id=rfc3339(result))
            return []
    return plan(type_name, block, prior, planned)


def _arguments(block: dict[str, Any]) -> list[str]:
    return [n for n, a in block["attributes"].items() if not _computed_only(a)]


def _static(s: State) -> State:
    at = parse_rfc3339(s["rfc3339"]) if s.get("rfc3339") not in (None, UNKNOWN) else _now()
    return {**_parts(at), "rfc3339": rfc3339(at), "id": rfc3339(at)}


def _time_offset(s: State) -> State:
    given = s.get("base_rfc3339")
    base = parse_rfc3339(given) if given not in (None, UNKNOWN) else _now()
    result = _offset(base, s, OFFSETS)
    return {**_parts(result), "base_rfc3339": rfc3339(base), "rfc3339": rfc3339(result),
            "id": rfc3339(result)}  # fmt: skip


def _rotating(s: State) -> State:
    given = s.get("rfc3339")
    base = parse_rfc3339(given) if given not in (None, UNKNOWN) else _now()
    if not any(s.get(name) for name in ROTATIONS) and s.get("rotation_rfc3339") in (None, UNKNOWN):
        raise ValueError("time_rotating: give one of rotation_years ... rotation_minutes")
    explicit = s.get("rotation_rfc3339")
    turns = (parse_rfc3339(explicit) if explicit not in (None, UNKNOWN)
             else _offset(base, s, ROTATIONS))  # fmt: skip
    return {**_parts(base), "rfc3339": rfc3339(base), "rotation_rfc3339": rfc3339(turns),
            "id": rfc3339(base)}  # fmt: skip


def _sleep(s: State) -> State:
    time.sleep(go_duration(s.get("create_duration")))
    return {"id": rfc3339(_now())}


def go_duration(text: Any) -> float:
    """Seconds of a Go duration ("30s", "1m30s", "1.5h"); None: none."""
    if text in (None, UNKNOWN, ""):
        return 0.0
    parts = re.findall(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)", str(text))
    if not parts or "".join(a + b for a, b in parts) != str(text):
        raise ValueError(f"{text!r} is not a duration like 30s or 1m30s")
    unit = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
    return sum(float(n) * unit[u] for n, u in parts)


def rotated(type_name: str, state: State) -> bool:
    """A time_rotating past its rotation is gone at refresh: the plan makes it anew."""
    if type_name != "time_rotating" or not state.get("rotation_rfc3339"):
        return False
    return _now() >= parse_rfc3339(state["rotation_rfc3339"])


def gone(type_name: str, state: State) -> bool:
    """What a refresh finds gone, so the plan makes it anew: a due rotation, a file
    deleted or changed behind terraform's back."""
    return rotated(type_name, state) or file_gone(type_name, state)


def destroy(type_name: str, prior: State) -> None:
    if type_name == "time_sleep":
        time.sleep(go_duration(prior.get("destroy_duration")))
    elif type_name in ("local_file", "local_sensitive_file"):
        Path(prior["filename"]).unlink(missing_ok=True)


MAKERS.update({"time_static": _static, "time_offset": _time_offset, "time_rotating": _rotating,
               "time_sleep": _sleep})  # fmt: skip


# --- hashicorp/local and hashicorp/archive -----------------------------------------


def _digests(data: bytes) -> State:
    return {
        "content_md5": hashlib.md5(data).hexdigest(),  # noqa: S324 - what the provider reports
        "content_sha1": hashlib.sha1(data).hexdigest(),  # noqa: S324
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "content_sha512": hashlib.sha512(data).hexdigest(),
        "content_base64sha256": base64.b64encode(hashlib.sha256(data).digest()).decode(),
        "content_base64sha512": base64.b64encode(hashlib.sha512(data).digest()).decode(),
    }


def _file_content(s: State) -> bytes:
    given = [n for n in ("content", "sensitive_content", "content_base64", "source")
             if s.get(n) is not None]  # fmt: skip
    if len(given) != 1:
        raise ValueError("local_file: give exactly one of content, sensitive_content, "
                         "content_base64 or source")  # fmt: skip
    if given[0] == "content_base64":
        return base64.b64decode(s["content_base64"])
    if given[0] == "source":
        return Path(s["source"]).read_bytes()
    return str(s[given[0]]).encode()


def _local_file(s: State) -> State:
    data = _file_content(s)
    path = Path(s["filename"])
    path.parent.mkdir(parents=True, exist_ok=True, mode=int(s["directory_permission"], 8))
    path.write_bytes(data)
    path.chmod(int(s["file_permission"], 8))
    return {**_digests(data), "id": hashlib.sha1(data).hexdigest()}  # noqa: S324 - its id


def _read_file(s: State) -> State:
    data = Path(s["filename"]).read_bytes()
    return {**_digests(data), "id": hashlib.sha1(data).hexdigest(),  # noqa: S324 - its id
            "content": data.decode(errors="replace"),
            "content_base64": base64.b64encode(data).decode()}  # fmt: skip


def file_gone(type_name: str, state: State) -> bool:
    """A local file deleted (or changed) behind terraform's back: made anew."""
    if type_name not in ("local_file", "local_sensitive_file"):
        return False
    path = Path(state.get("filename") or "")
    if not path.is_file():
        return True
    return hashlib.sha1(path.read_bytes()).hexdigest() != state.get("id")  # noqa: S324


ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every entry's time: the same sources, the same bytes


def _archive(s: State) -> State:
    if s.get("type") != "zip":
        raise ValueError(f"archive_file: type {s.get('type')!r} is not supported offline (zip)")
    entries: list[tuple[str, bytes]] = []
    if s.get("source_content") is not None:
        entries.append((str(s.get("source_content_filename") or "content"),
                        str(s["source_content"]).encode()))  # fmt: skip
    if s.get("source_file"):
        entries.append((Path(s["source_file"]).name, Path(s["source_file"]).read_bytes()))
    if s.get("source_dir"):
        root = Path(s["source_dir"])
        skip = set(s.get("excludes") or [])
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            if name not in skip:
                entries.append((name, path.read_bytes()))
    for block in s.get("source") or []:
        entries.append((str(block["filename"]), str(block["content"]).encode()))
    if not entries:
        raise ValueError("archive_file: no source (source_file, source_dir, source_content "
                         "or source blocks)")  # fmt: skip
    mode = int(s["output_file_mode"], 8) if s.get("output_file_mode") else 0o644
    out = Path(s["output_path"])
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, ZIP_TIME)
            info.external_attr = mode << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    data = out.read_bytes()
    digests = _digests(data)
    return {
        "output_md5": digests["content_md5"], "output_sha": digests["content_sha1"],
        "output_sha256": digests["content_sha256"], "output_sha512": digests["content_sha512"],
        "output_base64sha256": digests["content_base64sha256"],
        "output_base64sha512": digests["content_base64sha512"],
        "output_size": len(data), "id": digests["content_sha1"],
    }  # fmt: skip


def _command(s: State) -> State:
    # the configuration's own command, run as the real provider runs it
    done = subprocess.run(
        [s["command"], *(s.get("arguments") or [])], input=s.get("stdin"), capture_output=True,
        text=True, cwd=s.get("working_directory") or None, check=False,
    )  # fmt: skip
    if done.returncode != 0 and not s.get("allow_non_zero_exit_code"):
        raise ValueError(f"local_command: {s['command']} exited {done.returncode}: "
                         f"{done.stderr.strip()[:200]}")  # fmt: skip
    return {"stdout": done.stdout, "stderr": done.stderr, "exit_code": done.returncode}


DEFAULTS["local_file"] = {"file_permission": "0777", "directory_permission": "0777"}
DEFAULTS["local_sensitive_file"] = {"file_permission": "0700", "directory_permission": "0700"}
MAKERS.update({"local_file": _local_file, "local_sensitive_file": _local_file,
               "archive_file": _archive})  # fmt: skip
READERS = {"local_file": _read_file, "local_sensitive_file": _read_file,
           "archive_file": _archive, "local_command": _command}  # fmt: skip


# --- hashicorp/null (3.x) -----------------------------------------------------------


def _null_resource(s: State) -> State:
    return {"id": str(secrets.randbits(63))}  # the real one: a random decimal int


def _null_data(s: State) -> State:
    return {"id": "static", "outputs": dict(s.get("inputs") or {}),
            "random": str(secrets.randbits(63)),
            "has_computed_default": s.get("has_computed_default") or "default"}  # fmt: skip


MAKERS["null_resource"] = _null_resource
READERS["null_data_source"] = _null_data


# --- hashicorp/external ---------------------------------------------------------------


def _external(s: State) -> State:
    """Run the program with the query as JSON on stdin; its stdout must be a JSON
    object of strings (the real provider's protocol: terraform-aws-lambda's
    package.py speaks it)."""
    program = list(s.get("program") or [])
    if not program:
        raise ValueError("external: program is empty")
    try:
        done = subprocess.run(
            program, input=json.dumps(s.get("query") or {}), capture_output=True, text=True,
            cwd=s.get("working_dir") or None, check=False,
        )  # fmt: skip
    except OSError as exc:
        raise ValueError(f"external program {program[0]!r} cannot run: {exc}") from None
    if done.returncode != 0:
        raise ValueError(f"external program {program[0]!r} failed (exit {done.returncode}): "
                         f"{done.stderr.strip()[-300:]}")  # fmt: skip
    try:
        result = json.loads(done.stdout)
    except ValueError:
        result = None
    if not isinstance(result, dict) or not all(isinstance(v, str) for v in result.values()):
        raise ValueError(f"external program {program[0]!r} did not print a JSON object of strings")
    return {"id": "-", "result": result}


READERS["external"] = _external


def read_data(type_name: str, config: State) -> State:
    """A data source of a utility provider, read now (at plan, as the real one)."""
    reader = READERS.get(type_name)
    if reader is None:
        raise ValueError(f"data source {type_name} is not served offline")
    return {**config, **reader(config)}


def _register_tls() -> None:
    from saasctl.offline_aws import tls

    MAKERS.update(tls.MAKERS)
    READERS.update(tls.READERS)
    DEFAULTS.update(tls.DEFAULTS)


_register_tls()

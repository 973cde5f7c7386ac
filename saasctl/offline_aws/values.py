"""Terraform values as the plugin protocol carries them (cty msgpack), and the
walks over a block schema that planning and applying need.

Unknown values arrive as msgpack extension 0, or extension 12 when Terraform
>= 1.6 refines them; both decode to :data:`UNKNOWN`, which encodes back as
extension 0. Dynamic-typed values travel as [type JSON, value] and pass
through untouched.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import msgpack


class _Unknown:
    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()
_UNKNOWN_CODES = (0, 12)


def _ext(code: int, data: bytes) -> Any:
    if code in _UNKNOWN_CODES:
        return UNKNOWN
    return msgpack.ExtType(code, data)


def _default(value: Any) -> Any:
    if value is UNKNOWN:
        return msgpack.ExtType(0, b"\x00")
    raise TypeError(f"cannot encode {type(value).__name__}")


def unpack(data: bytes) -> Any:
    if not data:
        return None
    return msgpack.unpackb(data, raw=False, ext_hook=_ext, strict_map_key=False)


def pack(value: Any) -> bytes:
    packed: bytes = msgpack.packb(value, use_bin_type=True, default=_default)
    return packed


def from_json(data: bytes) -> Any:
    return json.loads(data) if data else None


# --- schema walks -------------------------------------------------------------

Path = tuple[str | int, ...]


def is_dynamic(value: Any) -> bool:
    """A value sent as [type JSON, value]: list blocks that hold `any`-typed
    attributes travel this way (Terraform types them as tuples)."""
    if not (isinstance(value, list) and len(value) == 2):
        return False
    head = value[0]
    if isinstance(head, bytes):
        head = head.decode(errors="replace")
    return isinstance(head, str) and head.startswith(("[", '"'))


def conform(block: dict[str, Any], value: dict[str, Any] | None) -> dict[str, Any] | None:
    """Every attribute and block of the schema present (null if absent), nothing else."""
    if value is None:
        return None
    out: dict[str, Any] = {name: value.get(name) for name in block["attributes"]}
    for name, bt in block["block_types"].items():
        inner = bt["block"]
        got = value.get(name)
        mode = bt["nesting_mode"]
        if is_dynamic(got) or got is UNKNOWN:
            out[name] = got  # passed through as Terraform sent it (a whole unknown block too)
        elif mode == "single":
            out[name] = conform(inner, got) if isinstance(got, dict) else None
        elif mode == "map":
            out[name] = {
                k: v if v is UNKNOWN else conform(inner, v) for k, v in (got or {}).items()
            }
        else:
            out[name] = [
                v if v is UNKNOWN else conform(inner, v)
                for v in (got or [])
                if isinstance(v, dict) or v is UNKNOWN
            ]
    return out


def from_dynamic_json(block: dict[str, Any], value: Any) -> tuple[Any, bool]:
    """A state's JSON with nested blocks that an earlier schema typed loosely (stored
    as {"value": [...], "type": ...}) written as the blocks the schema declares
    now; and whether anything changed."""
    if not isinstance(value, dict):
        return value, False
    changed = False
    out = dict(value)
    for name, bt in block["block_types"].items():
        got = out.get(name)
        if isinstance(got, dict) and set(got) == {"value", "type"}:
            got, changed = got["value"], True
        if isinstance(got, list):
            fixed = [from_dynamic_json(bt["block"], v) for v in got]
            got = [v for v, _ in fixed]
            changed = changed or any(c for _, c in fixed)
        elif isinstance(got, dict) and bt["nesting_mode"] == "single":
            got, inner = from_dynamic_json(bt["block"], got)
            changed = changed or inner
        out[name] = got
    return out, changed


def elements(bt: dict[str, Any], value: Any) -> Iterator[tuple[str | int, dict[str, Any]]]:
    """(key, element) of a nested block's value, whatever its nesting mode."""
    if value is None or value is UNKNOWN or is_dynamic(value):
        return
    if bt["nesting_mode"] == "single":
        if isinstance(value, dict):
            yield 0, value
    elif bt["nesting_mode"] == "map":
        for k, v in value.items():
            if isinstance(v, dict):
                yield k, v
    else:
        for i, v in enumerate(value):
            if isinstance(v, dict):
                yield i, v


def mark_unknown(block: dict[str, Any], planned: dict[str, Any]) -> None:
    """On create: every computed attribute the configuration left null is unknown."""
    for name, attr in block["attributes"].items():
        if attr.get("computed") and planned.get(name) is None:
            planned[name] = UNKNOWN
    for name, bt in block["block_types"].items():
        for _, element in elements(bt, planned.get(name)):
            mark_unknown(bt["block"], element)


Filler = Callable[[Path, Any], Any]


def fill_unknown(
    block: dict[str, Any],
    value: dict[str, Any],
    fill: Filler,
    path: Path = (),
    only_computed: bool = False,
) -> None:
    """On apply: replace every unknown with ``fill(path, type)``, at any depth.

    A whole nested block that is unknown becomes empty (no element). With
    ``only_computed`` (data sources), computed attributes left null are filled
    too: whatever the source would return.
    """
    for name, attr in block["attributes"].items():
        current = value.get(name)
        if only_computed and current is None and attr.get("computed"):
            current = UNKNOWN
        value[name] = _fill_value(current, attr["type"], fill, (*path, name))
    for name, bt in block["block_types"].items():
        got = value.get(name)
        if got is UNKNOWN:
            value[name] = (
                None
                if bt["nesting_mode"] == "single"
                else ({} if bt["nesting_mode"] == "map" else [])
            )
            continue
        if isinstance(got, list) and any(v is UNKNOWN for v in got):
            value[name] = got = [v for v in got if v is not UNKNOWN]
        for key, element in elements(bt, got):
            fill_unknown(bt["block"], element, fill, (*path, name, key), only_computed)


def _fill_value(value: Any, typ: Any, fill: Filler, path: Path) -> Any:
    if value is UNKNOWN:
        return fill(path, typ)
    if isinstance(typ, list) and value is not None and typ[0] != "object":
        element = typ[1]
        if isinstance(value, dict):
            return {k: _fill_value(v, element, fill, (*path, k)) for k, v in value.items()}
        if isinstance(value, list) and typ[0] in ("list", "set"):
            return [_fill_value(v, element, fill, (*path, i)) for i, v in enumerate(value)]
    if isinstance(typ, list) and typ[0] == "object" and isinstance(value, dict):
        return {k: _fill_value(value.get(k), t, fill, (*path, k)) for k, t in typ[1].items()}
    return value


def has_unknown(value: Any) -> bool:
    if value is UNKNOWN:
        return True
    if isinstance(value, dict):
        return any(has_unknown(v) for v in value.values())
    if isinstance(value, list):
        return any(has_unknown(v) for v in value)
    return False


def known_only(value: Any) -> Any:
    """The value with every unknown (at any depth) as null: what an API call may send."""
    if value is UNKNOWN:
        return None
    if isinstance(value, dict):
        return {k: known_only(v) for k, v in value.items()}
    if isinstance(value, list):
        return [known_only(v) for v in value if v is not UNKNOWN]
    return value

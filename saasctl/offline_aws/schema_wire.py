"""The GetProviderSchema reply, encoded once from the JSON schema and cached.

Building the full reply takes longer than a provider start may (Terraform
starts a provider 2-5 times per command), so it is serialized once per schema
version and each start reads the bytes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from saasctl.offline_aws import wire

_NESTING = {"single": 1, "list": 2, "set": 3, "map": 4, "group": 5}


def _attribute(name: str, attr: dict[str, Any]) -> bytes:
    return (
        wire.text(1, name)
        + wire.message(2, json.dumps(attr["type"], separators=(",", ":")).encode())
        + wire.varint(4, int(bool(attr.get("required"))))
        + wire.varint(5, int(bool(attr.get("optional"))))
        + wire.varint(6, int(bool(attr.get("computed"))))
        + wire.varint(7, int(bool(attr.get("sensitive"))))
        + wire.varint(11, int(bool(attr.get("write_only"))))  # terraform < 1.11 skips it
    )


def _block(block: dict[str, Any]) -> bytes:
    out = [wire.message(2, _attribute(n, a)) for n, a in sorted(block["attributes"].items())]
    for name, bt in sorted(block["block_types"].items()):
        nested = (
            wire.text(1, name)
            + wire.message(2, _block(bt["block"]))
            + wire.varint(3, _NESTING[bt["nesting_mode"]])
            + wire.varint(4, bt.get("min_items", 0))
            + wire.varint(5, bt.get("max_items", 0))
        )
        out.append(wire.message(3, nested))
    return b"".join(out)


def _schema(entry: dict[str, Any]) -> bytes:
    return wire.varint(1, entry.get("version", 0)) + wire.message(2, _block(entry["block"]))


def _type(typ: Any) -> bytes:
    return json.dumps(typ, separators=(",", ":")).encode()


def _function(fn: dict[str, Any]) -> bytes:
    """tfplugin6 Function: parameters (1), return (3), summary (4), description (5)."""
    out = [
        wire.message(1, wire.text(1, p["name"]) + wire.message(2, _type(p["type"]))
                     + wire.text(5, p.get("description", "")))
        for p in fn["parameters"]
    ]  # fmt: skip
    out.append(wire.message(3, wire.message(1, _type(fn["return_type"]))))
    out.append(wire.text(4, fn.get("summary", "")) + wire.text(5, fn.get("description", "")))
    return b"".join(out)


def functions(provider_schema: dict[str, Any], field: int) -> bytes:
    """The map<string, Function> of provider functions, as field ``field``."""
    return b"".join(
        wire.message(field, wire.text(1, name) + wire.message(2, _function(fn)))
        for name, fn in sorted(provider_schema.get("functions", {}).items())
    )


def encode(provider_schema: dict[str, Any]) -> bytes:
    """tfplugin6 GetProviderSchema.Response for one provider's JSON schema: provider (1),
    resources (2), data sources (3), provider_meta (5), functions (7), ephemeral
    resources (8; terraform before 1.10 skips the field)."""
    parts = [wire.message(1, _schema(provider_schema["provider"]))]
    for field, key in ((2, "resource_schemas"), (3, "data_source_schemas"),
                       (8, "ephemeral_resource_schemas")):  # fmt: skip
        for name, entry in sorted(provider_schema.get(key, {}).items()):
            parts.append(wire.message(field, wire.text(1, name) + wire.message(2, _schema(entry))))
    if "provider_meta" in provider_schema:
        parts.append(wire.message(5, _schema(provider_schema["provider_meta"])))
    parts.append(functions(provider_schema, 7))
    # ServerCapabilities.get_provider_schema_optional: the schema never changes, so
    # terraform (>= 1.6) may ask once per command and reuse it for every start.
    parts.append(wire.message(6, wire.varint(2, 1)))
    return b"".join(parts)


def write(provider_schema: dict[str, Any], directory: Path) -> None:
    """The reply bytes and one JSON file per type (a start reads only what it uses)."""
    import os
    import shutil
    import tempfile

    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".schema-", dir=directory.parent))
    try:
        (tmp / "reply.bin").write_bytes(encode(provider_schema))
        (tmp / "functions.bin").write_bytes(functions(provider_schema, 1))  # GetFunctions
        for kind, key in (("resource", "resource_schemas"), ("data", "data_source_schemas"),
                          ("ephemeral", "ephemeral_resource_schemas")):  # fmt: skip
            (tmp / kind).mkdir()
            for name, entry in provider_schema.get(key, {}).items():
                (tmp / kind / f"{name}.json").write_text(json.dumps(entry["block"]))
        (tmp / "provider.json").write_text(json.dumps(provider_schema["provider"]["block"]))
        shutil.rmtree(directory, ignore_errors=True)
        os.replace(tmp, directory)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

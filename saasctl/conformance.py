"""Static conformance of Terraform files with the AWS provider's argument schema.

Every ``aws_*`` resource and data block (nested blocks and ``dynamic`` blocks
included) is checked: an unknown argument or block, an argument written as a
block (or the reverse), and a missing required argument or block are reported
as ``file:resource.name: problem``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hcl2

META = {"count", "for_each", "depends_on", "provider", "lifecycle", "provisioner", "connection"}


def _unquote(name: str) -> str:
    return name.strip('"')


def _is_block(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(v, dict) and v.get("__is_block__") for v in value)
    )


def _attributes_as_blocks(attributes: dict[str, Any]) -> dict[str, Any]:
    """Lists and sets of objects also take block syntax (terraform's blocktoattr)."""
    out: dict[str, Any] = {}
    for name, attr in attributes.items():
        t = attr.get("type")
        if (
            isinstance(t, list)
            and t[0] in ("list", "set")
            and isinstance(t[1], list)
            and t[1][0] == "object"
        ):
            fields = {k: {"type": v, "optional": True} for k, v in t[1][1].items()}
            out[name] = {"block": {"attributes": fields, "block_types": {}}}
    return out


def _check_body(
    body: dict[str, Any], schema: dict[str, Any], where: str, top: bool
) -> Iterator[str]:
    attributes = schema.get("attributes", {})
    blocks = {**_attributes_as_blocks(attributes), **schema.get("block_types", {})}
    present: set[str] = set()
    for key, value in body.items():
        if key.startswith("__") or (top and key in META):
            continue
        if key == "dynamic":
            for dyn in value:
                for raw_name, spec in dyn.items():
                    name = _unquote(raw_name)
                    if name.startswith("__"):
                        continue
                    present.add(name)
                    if name not in blocks:
                        yield f"{where}: unknown block {name!r} (in a dynamic block)"
                        continue
                    for content in spec.get("content", []):
                        yield from _check_body(
                            content, blocks[name]["block"], f"{where}.{name}", False
                        )
            continue
        present.add(key)
        if key in blocks:
            if _is_block(value):
                for item in value:
                    yield from _check_body(item, blocks[key]["block"], f"{where}.{key}", False)
            # else: attribute syntax for a block (terraform's attributes-as-blocks); allowed
        elif key in attributes:
            if _is_block(value):
                yield f"{where}: {key!r} is an argument, not a block (write {key} = ...)"
        else:
            yield f"{where}: unknown argument or block {key!r}"
    for name, attr in sorted(attributes.items()):
        if attr.get("required") and name not in present:
            yield f"{where}: missing required argument {name!r}"
    for name, bt in sorted(blocks.items()):
        if bt.get("min_items", 0) > 0 and name not in present:
            yield f"{where}: missing required block {name!r}"


def check_file(path: Path, schema: dict[str, Any], display: str | None = None) -> list[str]:
    provider = next(iter(schema["provider_schemas"].values()))
    with path.open(encoding="utf-8") as fh:
        doc = hcl2.load(fh)
    shown = display or str(path)
    problems: list[str] = []
    for section, key in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
        for entry in doc.get(section, []):
            for raw_type, instances in entry.items():
                rtype = _unquote(raw_type)
                if not rtype.startswith("aws_"):
                    continue
                prefix = "data." if section == "data" else ""
                for raw_name, body in instances.items():
                    where = f"{shown}:{prefix}{rtype}.{_unquote(raw_name)}"
                    if rtype not in provider[key]:
                        problems.append(f"{where}: unknown {section} type {rtype!r}")
                        continue
                    problems += _check_body(body, provider[key][rtype]["block"], where, True)
    return problems


def check_tree(root: Path, schema: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    for path in sorted(root.rglob("*.tf")):
        if ".terraform" in path.parts:
            continue
        problems += check_file(path, schema, str(path.relative_to(root)))
    return problems

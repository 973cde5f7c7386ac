"""The hashicorp/aws provider schema, extracted offline from the pinned
``cdktn-provider-aws`` wheel, in the shape of ``terraform providers schema -json``.

The jsii assembly (``.jsii`` inside the wheel's tgz) has every resource's config
struct: argument names (from each property's documentation anchor, since
camelCase does not convert back reliably), required flags and nested structs.
Each resource's ``lib/<name>/index.js`` says, for every argument, whether it is
a block and its storage type (simple/list/set/map). The result is cached.
"""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import tarfile
from pathlib import Path
from typing import Any

from saasctl.files import atomic_write

CDKTN_PACKAGE = "cdktn_provider_aws"
CDKTN_VERSION = "25.8.1"  # ships hashicorp/aws 6.69.1
PROVIDER = "registry.terraform.io/hashicorp/aws"
_PREFIX = "@cdktn/provider-aws."
_REPRESENTS = re.compile(r"docs/(resources|data-sources)/(\w+) (aws_\w+|data_aws_\w+)\}")
_ANCHOR = re.compile(r"#(\w+) ")
_ENTRY = re.compile(
    r"^\s+(\w+): \{\n\s+value: [^\n]*\n\s+isBlock: (true|false),\n"
    r"\s+type: \"(\w+)\",\n\s+storageClassType: \"(\w+)\",",
    re.M,
)
_FUNC = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{", re.M)
# aws_wafv2_web_acl types rule statements as `any`; this resource has the tree.
GRAFTS = {("aws_wafv2_web_acl", "statement"): ("aws_wafv2_web_acl_rule", "statement")}
_SIMPLE = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}


class SchemaUnavailable(RuntimeError):
    pass


def assembly_path() -> Path:
    explicit = os.environ.get("SAASCTL_AWS_JSII")
    if explicit:
        return Path(explicit)
    try:
        installed = importlib.metadata.version("cdktn-provider-aws")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed is not None and installed != CDKTN_VERSION:
        raise SchemaUnavailable(f"cdktn-provider-aws {installed} installed; pinned {CDKTN_VERSION}")
    spec = importlib.util.find_spec(CDKTN_PACKAGE)  # does not import it (that needs node)
    if spec is None or not spec.submodule_search_locations:
        raise SchemaUnavailable(
            f"{CDKTN_PACKAGE}=={CDKTN_VERSION} is not installed (make setup installs it)"
        )
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("_jsii/*.jsii.tgz"))
    if not found:
        raise SchemaUnavailable(f"no .jsii.tgz inside {CDKTN_PACKAGE}")
    return found[-1]


def _attr_type(kind: str, storage: str) -> Any:
    base = storage.removesuffix("List").removesuffix("Map")
    element = _SIMPLE.get(base, "dynamic")
    if kind == "simple":
        return _SIMPLE.get(storage, "dynamic")
    if kind == "map" or storage.endswith("Map"):
        return ["map", element]
    return [kind if kind in ("list", "set") else "list", element]


def _struct_fields(types: dict[str, Any], fqn: str) -> list[dict[str, Any]]:
    """Own and inherited properties of a struct (config structs extend meta-arguments)."""
    t = types.get(fqn) or {}
    props = list(t.get("properties", []))
    for parent in t.get("interfaces", []):
        if parent.startswith(_PREFIX):
            props += _struct_fields(types, parent)
    return props


def _tf_name(prop: dict[str, Any]) -> str | None:
    docs = prop.get("docs", {})
    text = f"{docs.get('remarks', '')} {docs.get('summary', '')}"
    match = _ANCHOR.search(text)
    return match.group(1) if match else None


def _struct_of(type_ref: dict[str, Any]) -> tuple[str | None, bool]:
    """(struct fqn, is-collection) of a property's type, if it is a provider struct."""
    if "fqn" in type_ref and type_ref["fqn"].startswith(_PREFIX):
        return type_ref["fqn"], False
    for option in type_ref.get("union", {}).get("types", []):
        element = option.get("collection", {}).get("elementtype", {})
        if element.get("fqn", "").startswith(_PREFIX):
            return element["fqn"], True
    return None, False


def _block(
    types: dict[str, Any],
    fqn: str,
    hcl: dict[str, dict[str, tuple[bool, str, str]]],
    fn: str,
    path: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    entries = hcl.get(fn, {})
    attributes: dict[str, Any] = {}
    block_types: dict[str, Any] = {}
    for prop in _struct_fields(types, fqn):
        name = _tf_name(prop)
        if name is None:
            continue
        required = not prop.get("optional", False)
        is_block, kind, storage = entries.get(name, (False, "simple", "any"))
        struct, collection = _struct_of(prop["type"])
        if struct is not None and struct not in path and (is_block or name not in entries):
            short = struct[len(_PREFIX) :].split(".", 1)[1]
            nested = _block(types, struct, hcl, short[0].lower() + short[1:], path | {fqn})
            bt: dict[str, Any] = {
                "nesting_mode": "set" if kind == "set" else "list",
                "block": nested,
            }
            if required:
                bt["min_items"] = 1
            if not collection:
                bt["max_items"] = 1
            block_types[name] = bt
        else:
            attr: dict[str, Any] = {"type": _attr_type(kind, storage)}
            attr["required" if required else "optional"] = True
            attributes[name] = attr
    return {"attributes": attributes, "block_types": block_types}


def _parse_js(text: str) -> dict[str, dict[str, tuple[bool, str, str]]]:
    """Per struct converter (and '__resource__'): argument -> (is_block, kind, storage)."""
    cuts = [(m.start(), m.group(1)) for m in _FUNC.finditer(text)]
    main = text.find("synthesizeHclAttributes()")
    if main >= 0:
        cuts.append((main, "__resource__"))
    cuts.sort()
    out: dict[str, dict[str, tuple[bool, str, str]]] = {}
    for i, (start, name) in enumerate(cuts):
        end = cuts[i + 1][0] if i + 1 < len(cuts) else len(text)
        out[name] = {
            m.group(1): (m.group(2) == "true", m.group(3), m.group(4))
            for m in _ENTRY.finditer(text, start, end)
        }
    return out


def extract(assembly: Path) -> dict[str, Any]:
    with tarfile.open(assembly) as tar:
        member = tar.extractfile("package/.jsii")
        if member is None:
            raise SchemaUnavailable(f"{assembly} has no package/.jsii")
        types: dict[str, Any] = json.load(member)["types"]
        js: dict[str, str] = {}
        for info in tar.getmembers():
            if info.name.startswith("package/lib/") and info.name.endswith("/index.js"):
                fh = tar.extractfile(info)
                if fh is not None:
                    js[info.name.split("/")[2]] = fh.read().decode()
    resources: dict[str, Any] = {}
    data_sources: dict[str, Any] = {}
    for fqn, t in types.items():
        if t.get("kind") != "class" or not fqn.startswith(_PREFIX):
            continue
        match = _REPRESENTS.search(t.get("docs", {}).get("summary", ""))
        if not match:
            continue
        kind, doc_name = match.group(1), match.group(2)
        module = fqn[len(_PREFIX) :].split(".", 1)[0]
        lib = re.sub(r"([A-Z])", r"-\1", module).lower()
        params = t.get("initializer", {}).get("parameters", [])
        config = next((p["type"]["fqn"] for p in params if p["name"] == "config"), f"{fqn}Config")
        hcl = _parse_js(js.get(lib, ""))
        if "__resource__" in hcl:
            hcl[f"{module}Config"] = hcl["__resource__"]
        block = _block(types, config, hcl, f"{module}Config")
        for meta in (
            "count",
            "for_each",
            "depends_on",
            "provider",
            "lifecycle",
            "provisioners",
            "connection",
        ):
            block["attributes"].pop(meta, None)
            block["block_types"].pop(meta, None)
        target = resources if kind == "resources" else data_sources
        target[f"aws_{doc_name}"] = {"version": 0, "block": block}
    _graft(resources)
    return {
        "format_version": "1.0",
        "provider_schemas": {
            PROVIDER: {"resource_schemas": resources, "data_source_schemas": data_sources}
        },
    }


def _find_block(block: dict[str, Any], name: str) -> dict[str, Any] | None:
    if name in block["block_types"]:
        return block["block_types"][name]  # type: ignore[no-any-return]
    for bt in block["block_types"].values():
        found = _find_block(bt["block"], name)
        if found is not None:
            return found
    return None


def _graft(resources: dict[str, Any]) -> None:
    for (target, attr), (source, block_name) in GRAFTS.items():
        if target not in resources or source not in resources:
            continue
        tree = _find_block(resources[source]["block"], block_name)
        holder = resources[target]["block"]["block_types"].get("rule", {}).get("block")
        if tree is None or holder is None:
            continue
        holder["attributes"].pop(attr, None)
        holder["block_types"][attr] = {**tree, "max_items": 1}


def load(cache_dir: Path) -> dict[str, Any]:
    """The schema, extracted once per pinned version and cached (gzip JSON)."""
    cache = cache_dir / f"aws-provider-schema-cdktn-{CDKTN_VERSION}.json.gz"
    if cache.is_file():
        with gzip.open(cache, "rt") as fh:
            cached: dict[str, Any] = json.load(fh)
            return cached
    schema = extract(assembly_path())
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(json.dumps(schema, sort_keys=True).encode())
    atomic_write(cache, buf.getvalue())
    return schema

"""The hashicorp/aws provider schema, extracted offline from the pinned
``cdktn-provider-aws`` wheel, in the shape of ``terraform providers schema -json``.

Each resource's ``lib/<name>/index.js`` inside the wheel's jsii tgz declares
every argument and attribute with a ``// name - computed: .., optional: ..,
required: ..`` comment, a getter whose body gives the type of computed-only
attributes, and HCL converters that say whether an argument is a block and its
storage (simple/list/set/map/struct). Nested structs are classes of their own,
so nesting modes, item limits and nested flags come out the same way.
The provider's own value validation and defaults are not in there.
"""

from __future__ import annotations

import copy
import gzip
import importlib.metadata
import importlib.util
import io
import json
import os
import re
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saasctl.files import atomic_write

CDKTN_PACKAGE = "cdktn_provider_aws"
CDKTN_VERSION = "25.8.1"  # ships hashicorp/aws 6.69.1
PROVIDER = "registry.terraform.io/hashicorp/aws"
PROVIDER_VERSION = "6.69.1"
FORMAT = 10  # bump when the extraction changes; names the cache file


@dataclass(frozen=True)
class Package:
    """A pinned cdktn provider wheel and the provider whose schema it carries."""

    name: str  # the provider's type name: aws, random
    wheel: str  # the distribution, e.g. cdktn-provider-random
    wheel_version: str
    provider_version: str

    @property
    def module(self) -> str:
        return self.wheel.replace("-", "_")

    @property
    def address(self) -> str:
        return f"registry.terraform.io/hashicorp/{self.name}"


AWS = Package("aws", "cdktn-provider-aws", CDKTN_VERSION, PROVIDER_VERSION)
# Attributes a provider marks sensitive (terraform then never prints them).
SENSITIVE: dict[str, dict[str, tuple[str, ...]]] = {
    "random": {"random_password": ("result", "bcrypt_hash")},
    "local": {
        "local_file": ("sensitive_content",),
        "local_sensitive_file": ("content", "content_base64"),
    },
    "tls": {
        "tls_private_key": ("private_key_pem", "private_key_pem_pkcs8", "private_key_openssh"),
        "tls_self_signed_cert": ("private_key_pem",),
        "tls_cert_request": ("private_key_pem",),
        "tls_locally_signed_cert": ("ca_private_key_pem",),
    },
}
# The same for the AWS provider's secrets.
SENSITIVE["aws"] = {
    "aws_ssm_parameter": ("value",),
    "aws_secretsmanager_secret_version": ("secret_string", "secret_binary"),
    "aws_db_instance": ("password",),
    "aws_rds_cluster": ("master_password",),
    "aws_iam_access_key": ("secret", "ses_smtp_password_v4"),
}
# Data sources that read those secrets back, marked as their resources are (modules
# call `nonsensitive()` on them, an error on terraform before 1.6 when not sensitive).
SENSITIVE_DATA: dict[str, dict[str, tuple[str, ...]]] = {
    "aws": {
        t: SENSITIVE["aws"][t] for t in ("aws_ssm_parameter", "aws_secretsmanager_secret_version")
    },
}
# Utility providers served offline by the same machinery (saasctl.offline_aws.utility).
UTILITY = {
    p.name: p
    for p in (
        Package("random", "cdktn-provider-random", "15.0.1", "3.9.1"),
        Package("time", "cdktn-provider-time", "14.0.2", "0.14.2"),
        Package("local", "cdktn-provider-local", "14.0.1", "2.9.1"),
        Package("archive", "cdktn-provider-archive", "14.0.1", "2.8.1"),
        Package("tls", "cdktn-provider-tls", "14.1.1", "4.4.1"),
        # Offered only to `saasctl offline env` shells: saasctl's own stand-ins keep the
        # Go null 2.1.2 (fast, and what their lock files name).
        Package("null", "cdktn-provider-null", "15.0.2", "3.3.2"),
        Package("external", "cdktn-provider-external", "14.0.2", "2.4.2"),
    )
}
_CLASS = re.compile(r"^class (\w+) extends cdktn\.(\w+) \{$", re.M)
_TF_TYPE = re.compile(r'static tfResourceType = "(\w+)";')
# Every argument and attribute carries this comment, then its field and getter.
_FLAGS = re.compile(
    r"^    // (\w+) - computed: (true|false), optional: (true|false), required: (true|false)\n"
    r"(?:    _\w+ = new ([\w.]+)\(this, \"\w+\"(?:, (true|false))?\);\n)?"
    r"(?:    _\w+;\n)?"
    r"(?:    get \w+\(\) \{\n        return ([^\n]*);)?",
    re.M,
)
_ENTRY = re.compile(
    r"^\s+(\w+): \{\n\s+value: [^\n]*\n\s+isBlock: (true|false),\n"
    r"\s+type: \"(\w+)\",\n\s+storageClassType: \"(\w+)\",",
    re.M,
)
_FUNC = re.compile(r"^function (\w+)ToHclTerraform\(struct\) \{", re.M)
_GETTER = re.compile(r"get(String|Number|Boolean)?(List|Map)?Attribute\('")
# aws_wafv2_web_acl types rule statements as `any`; this resource has the tree.
GRAFTS = {
    ("aws_wafv2_web_acl", "statement"): ("aws_wafv2_web_acl_rule", "statement"),
    ("aws_wafv2_rule_group", "statement"): ("aws_wafv2_web_acl_rule", "statement"),
}
_SIMPLE = {"string": "string", "number": "number", "boolean": "bool", "any": "dynamic"}
_PRIMITIVE = {"String": "string", "Number": "number", "Boolean": "bool", None: "string"}
# Computed maps of the plugin-framework resources are objects of the cdktn library.
_LIBRARY_MAPS = {
    "cdktn.StringMap": "string",
    "cdktn.NumberMap": "number",
    "cdktn.BooleanMap": "bool",
}


class SchemaUnavailable(RuntimeError):
    pass


def assembly_path(package: Package = AWS) -> Path:
    explicit = os.environ.get("SAASCTL_AWS_JSII") if package is AWS else None
    if explicit:
        return Path(explicit)
    try:
        installed = importlib.metadata.version(package.wheel)
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed is not None and installed != package.wheel_version:
        raise SchemaUnavailable(
            f"{package.wheel} {installed} installed; pinned {package.wheel_version}"
        )
    spec = importlib.util.find_spec(package.module)  # does not import it (that needs node)
    if spec is None or not spec.submodule_search_locations:
        raise SchemaUnavailable(
            f"{package.wheel}=={package.wheel_version} is not installed (make setup installs it)"
        )
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("_jsii/*.jsii.tgz"))
    if not found:
        raise SchemaUnavailable(f"no .jsii.tgz inside {package.module}")
    return found[-1]


class _Member:
    """One argument or attribute as a class in index.js declares it."""

    def __init__(self, m: re.Match[str]) -> None:
        self.name = m.group(1)
        self.computed, self.optional, self.required = (m.group(i) == "true" for i in (2, 3, 4))
        self.field_class: str | None = m.group(5)
        self.wraps_set = m.group(6) == "true"
        self.getter = m.group(7) or ""


class _Module:
    """One ``lib/<name>/index.js``: its classes' members and its HCL converters."""

    def __init__(self, text: str) -> None:
        self.classes: dict[str, dict[str, _Member]] = {}
        self.kinds: dict[str, str] = {}
        cuts = [(m.start(), m.group(1), m.group(2)) for m in _CLASS.finditer(text)]
        for i, (start, name, kind) in enumerate(cuts):
            end = cuts[i + 1][0] if i + 1 < len(cuts) else len(text)
            self.kinds[name] = kind
            self.classes[name] = {m.group(1): _Member(m) for m in _FLAGS.finditer(text, start, end)}
        self.tf_type = {}
        for name, kind in self.kinds.items():
            if kind in ("TerraformResource", "TerraformDataSource", "TerraformProvider"):
                m = _TF_TYPE.search(text, text.find(f"class {name} extends"))
                if m:
                    self.tf_type[name] = m.group(1)
        self.hcl = _parse_js(text)

    # -- types ---------------------------------------------------------------

    def block(self, cls: str, fn: str, seen: frozenset[str] = frozenset()) -> dict[str, Any]:
        members = self.classes.get(cls, {})
        entries = self.hcl.get(fn, {})
        attributes: dict[str, Any] = {}
        block_types: dict[str, Any] = {}
        for name in list(members) + [n for n in entries if n not in members]:
            member = members.get(name)
            computed = member.computed if member else False
            required = member.required if member else False
            optional = member.optional if member else not required
            is_block, kind, storage = entries.get(name, (False, "simple", ""))
            struct = self._struct(storage, member)
            if struct is not None and struct in seen:
                struct, kind = None, "simple"
                storage = "any"
            if struct is not None and is_block and not computed:
                nested = self._nested_block(struct, seen | {struct})
                single = kind == "struct"
                bt: dict[str, Any] = {
                    "nesting_mode": "single" if single else ("set" if kind == "set" else "list"),
                    "block": nested,
                }
                if required and not single:
                    bt["min_items"] = 1
                if not single and member and (member.field_class or "").endswith("OutputReference"):
                    bt["max_items"] = 1
                block_types[name] = bt
                continue
            if struct is not None:
                obj = self._object_type(struct, seen | {struct})
                fc = (member.field_class or "") if member else ""
                if fc.endswith("OutputReference") or kind == "struct":
                    # an attribute with one nested object: only the plugin framework's
                    # SingleNestedAttribute makes these (s3tables' encryption_configuration),
                    # and its type is the object itself (SDKv2's nested lists are Lists)
                    typ: Any = obj
                elif fc.endswith("Map") or kind == "map":
                    typ = ["map", obj]
                else:
                    set_like = kind == "set" or (member is not None and member.wraps_set)
                    typ = ["set" if set_like else "list", obj]
            elif name in entries:
                typ = _attr_type(kind, storage)
            elif member and member.field_class in _LIBRARY_MAPS:
                typ = ["map", _LIBRARY_MAPS[member.field_class]]
            else:
                typ = _getter_type(member.getter if member else "")
            attr: dict[str, Any] = {"type": typ}
            if required:
                attr["required"] = True
            else:
                if optional:
                    attr["optional"] = True
                if computed or not optional:
                    attr["computed"] = True
            attributes[name] = attr
        return {"attributes": attributes, "block_types": block_types}

    def _struct(self, storage: str, member: _Member | None) -> str | None:
        base = storage.removesuffix("List").removesuffix("Map")
        if base and base[0].isupper():
            return base
        fc = member.field_class if member else None
        if fc and not fc.startswith("cdktn."):
            for suffix in ("OutputReference", "List", "Map"):
                if fc.endswith(suffix):
                    return fc[: -len(suffix)]
        return None

    def _nested_block(self, struct: str, seen: frozenset[str]) -> dict[str, Any]:
        return self.block(f"{struct}OutputReference", struct[0].lower() + struct[1:], seen)

    def _object_type(self, struct: str, seen: frozenset[str]) -> Any:
        block = self._nested_block(struct, seen)
        types = {k: v["type"] for k, v in block["attributes"].items()}
        for k, bt in block["block_types"].items():
            inner = ["object", {a: v["type"] for a, v in bt["block"]["attributes"].items()}]
            types[k] = inner if bt["nesting_mode"] == "single" else [bt["nesting_mode"], inner]
        return ["object", types]


def _attr_type(kind: str, storage: str) -> Any:
    base = storage.removesuffix("List").removesuffix("Map")
    element = _SIMPLE.get(base, "dynamic")
    if kind == "simple":
        return _SIMPLE.get(storage, "dynamic")
    if kind == "map" or storage.endswith("Map"):
        return ["map", element]
    return [kind if kind in ("list", "set") else "list", element]


def _getter_type(getter: str) -> Any:
    """The type of a computed-only attribute, from its getter's body."""
    m = _GETTER.search(getter)
    if m is None:
        return "dynamic"
    element = _PRIMITIVE[m.group(1)]
    if m.group(2) == "Map":
        return ["map", element]
    if m.group(2) == "List" or (m.group(1) is None and "getListAttribute" in getter):
        return ["set" if "Fn.tolist" in getter else "list", element]
    return element


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


# The provider_meta block every current terraform-aws-modules module declares; the
# assembly has no notion of it (it configures the provider's User-Agent).
PROVIDER_META = {
    "version": 0,
    "block": {
        "attributes": {"user_agent": {"type": ["list", "string"], "optional": True}},
        "block_types": {},
    },
}
# Return types the assembly only calls `object` (from the provider's documentation).
FUNCTION_OBJECTS = {
    "arn_parse": ["object", {k: "string" for k in
                             ("partition", "service", "region", "account_id", "resource")}],
}  # fmt: skip
_FN_DOC = re.compile(
    r"/\*\*\n\s*\* ([^\n]+)\n((?:\s*\* @param[^\n]*\n)*)\s*\* @returns \{(\w+)\}\n\s*\*/\n"
    r"\s*\w+\([^)]*\) \{\n[^\n]*invoke\(this\.providerLocalName, \"(\w+)\"",
)
_FN_PARAM = re.compile(r"@param \{(\w+)\} (\w+) - ([^\n]*)")
_FN_TYPES = {"string": "string", "number": "number", "boolean": "bool"}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def _functions(text: str) -> dict[str, Any]:
    """Provider-defined functions from lib/provider-functions/index.js, in the shape of
    `terraform providers schema -json`."""
    out: dict[str, Any] = {}
    for m in _FN_DOC.finditer(text):
        summary, params, returns, name = m.group(1), m.group(2), m.group(3), m.group(4)
        out[name] = {
            "description": summary.strip(),
            "summary": summary.strip(),
            "return_type": FUNCTION_OBJECTS.get(name, _FN_TYPES.get(returns, "dynamic")),
            "parameters": [
                {
                    "name": _snake(p.group(2)),
                    "type": _FN_TYPES.get(p.group(1), "dynamic"),
                    "description": p.group(3).strip(),
                }
                for p in _FN_PARAM.finditer(params)
            ],
        }
    return out


def extract(assembly: Path, address: str = PROVIDER) -> dict[str, Any]:
    resources: dict[str, Any] = {}
    data_sources: dict[str, Any] = {}
    provider: dict[str, Any] = {"version": 0, "block": {"attributes": {}, "block_types": {}}}
    texts: dict[str, list[str]] = {}
    with tarfile.open(assembly) as tar:
        for info in tar.getmembers():
            parts = info.name.split("/")
            # big resources keep their structs in lib/<name>/index-structs/*.js
            if len(parts) < 4 or parts[:2] != ["package", "lib"] or not info.name.endswith(".js"):
                continue
            fh = tar.extractfile(info)
            if fh is not None:
                texts.setdefault(parts[2], []).append(fh.read().decode())
    functions = _functions("\n".join(texts.pop("provider-functions", [])))
    for chunks in texts.values():
        module = _Module("\n".join(chunks))
        for cls, tf_type in module.tf_type.items():
            block = module.block(cls, "__resource__")
            kind = module.kinds[cls]
            if kind == "TerraformProvider":
                provider = {"version": 0, "block": block}
            elif kind == "TerraformResource":
                resources[tf_type] = {"version": 0, "block": block}
            else:
                data_sources[tf_type] = {"version": 0, "block": block}
    if not resources and not data_sources:  # hashicorp/external has only a data source
        raise SchemaUnavailable(f"{assembly}: no resources found")
    _graft(resources)
    for entry in [*resources.values(), *data_sources.values()]:
        _no_dynamic_in_sets(entry["block"])
    return {
        "format_version": "1.0",
        "provider_schemas": {
            address: {
                "provider": provider,
                "resource_schemas": resources,
                "data_source_schemas": data_sources,
                "functions": functions,
                "provider_meta": PROVIDER_META,
            }
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


_LOGICAL = ("and_statement", "or_statement", "not_statement")
# Not nestable inside a logical statement (AWS WAF: rate-based, managed and rule
# group statements sit at a rule's top level only).
_TOP_ONLY = (
    "rate_based_statement",
    "managed_rule_group_statement",
    "rule_group_reference_statement",
)


def _nested(root: dict[str, Any], level: int) -> dict[str, Any]:
    """A statement block as the provider's SDKv2 WAF resources nest it: leaf
    statements, and below ``level`` 1 the and/or/not statements, each holding
    statement blocks one level down (aws_wafv2_web_acl_rule types those loosely)."""
    types = {k: v for k, v in root["block_types"].items() if k not in _LOGICAL + _TOP_ONLY}
    block = {**root, "attributes": dict(root["attributes"]), "block_types": types}
    if level > 1:
        inner = _nested(root, level - 1)
        for name in _LOGICAL:
            one = name == "not_statement"
            statement = {"nesting_mode": "list", "block": inner, "min_items": 1 if one else 2}
            if one:
                statement["max_items"] = 1
            types[name] = {
                "nesting_mode": "list",
                "max_items": 1,
                "block": {"attributes": {}, "block_types": {"statement": statement}},
            }
    return block


def _sdk_statement(tree: dict[str, Any]) -> dict[str, Any]:
    """The rule statement of aws_wafv2_web_acl / aws_wafv2_rule_group (SDKv2) from
    aws_wafv2_web_acl_rule's: logical statements nest statement blocks three
    levels deep, a rate-based rule's scope-down two, and custom keys are
    `custom_key` blocks (at most 5), not `custom_keys`."""
    root = copy.deepcopy(tree["block"])
    statement = _nested(root, 3)
    for name in _TOP_ONLY:
        if name in root["block_types"]:
            statement["block_types"][name] = root["block_types"][name]
    rate = statement["block_types"].get("rate_based_statement")
    if rate is not None:
        types = rate["block"]["block_types"]
        if "custom_keys" in types:
            types["custom_key"] = {**types.pop("custom_keys"), "max_items": 5}
        if "scope_down_statement" in types:
            down = types["scope_down_statement"]
            types["scope_down_statement"] = {**down, "block": _nested(root, 2), "max_items": 1}
    return {**tree, "block": statement}


def _graft(resources: dict[str, Any]) -> None:
    for (target, attr), (source, block_name) in GRAFTS.items():
        if target not in resources or source not in resources:
            continue
        tree = _find_block(resources[source]["block"], block_name)
        holder = resources[target]["block"]["block_types"].get("rule", {}).get("block")
        if tree is None or holder is None:
            continue
        holder["attributes"].pop(attr, None)
        holder["block_types"][attr] = {**_sdk_statement(tree), "max_items": 1}


def _has_dynamic(block: dict[str, Any]) -> bool:
    return any("dynamic" in json.dumps(a["type"]) for a in block["attributes"].values()) or any(
        _has_dynamic(bt["block"]) for bt in block["block_types"].values()
    )


def _no_dynamic_in_sets(block: dict[str, Any]) -> None:
    """Terraform rejects `any`-typed attributes anywhere inside a set block. The
    assembly types a few arguments loosely (e.g. WAF statements nested in
    and/or/not); sets that hold one become lists."""
    for bt in block["block_types"].values():
        if bt["nesting_mode"] == "set" and _has_dynamic(bt["block"]):
            bt["nesting_mode"] = "list"
        _no_dynamic_in_sets(bt["block"])


# Ephemeral resources (terraform >= 1.10) are not in the cdktn assemblies. Each of
# these has the schema of its namesake (a data source, or random's resource less
# what only state needs); the values are made as that namesake's are.
EPHEMERAL = {
    "aws": ("aws_secretsmanager_secret_version", "aws_ssm_parameter", "aws_kms_secrets",
            "aws_eks_cluster_auth", "aws_ecr_authorization_token", "aws_lambda_invocation",
            "aws_secretsmanager_random_password"),
    "random": ("random_password",),
}  # fmt: skip
_STATE_ONLY = ("id", "keepers", "number")  # random_password's, not its ephemeral twin's


def _add_ephemeral(provider: dict[str, Any], name: str) -> None:
    found: dict[str, Any] = {}
    for type_name in EPHEMERAL.get(name, ()):
        if type_name in provider["data_source_schemas"]:
            found[type_name] = copy.deepcopy(provider["data_source_schemas"][type_name])
        elif type_name in provider["resource_schemas"]:
            entry = copy.deepcopy(provider["resource_schemas"][type_name])
            for attr in _STATE_ONLY:
                entry["block"]["attributes"].pop(attr, None)
            found[type_name] = entry
    provider["ephemeral_resource_schemas"] = found


def load(cache_dir: Path, package: Package = AWS) -> dict[str, Any]:
    """The schema, extracted once per pinned version and cached (gzip JSON)."""
    name = f"{package.name}-provider-schema-cdktn-{package.wheel_version}-v{FORMAT}.json.gz"
    cache = cache_dir / name
    if cache.is_file():
        with gzip.open(cache, "rt") as fh:
            cached: dict[str, Any] = json.load(fh)
            return cached
    schema = extract(assembly_path(package), package.address)
    resources = schema["provider_schemas"][package.address]["resource_schemas"]
    data_sources = schema["provider_schemas"][package.address]["data_source_schemas"]
    for types, marks in ((resources, SENSITIVE), (data_sources, SENSITIVE_DATA)):
        for type_name, names in marks.get(package.name, {}).items():
            for name in names:  # the jsii comments do not say it; the provider does
                types[type_name]["block"]["attributes"][name]["sensitive"] = True
    _add_ephemeral(schema["provider_schemas"][package.address], package.name)
    for entry in resources.values():  # the AWS provider names its write-only arguments so
        for name, attr in entry["block"]["attributes"].items():
            if name.endswith("_wo") and not attr.get("computed"):
                attr["write_only"] = True
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz:
        gz.write(json.dumps(schema, sort_keys=True).encode())
    atomic_write(cache, buf.getvalue())
    return schema

"""Inputs/outputs tables of module READMEs, generated from the module's .tf files.

``python -m saasctl.moddoc`` rewrites the part between the markers in every
module README; ``--check`` only reports stale ones (a test runs it).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import hcl2

REFERENCE = Path(__file__).resolve().parents[1] / "docs" / "reference" / "modules.md"
BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
_LINK = re.compile(r"\[([^\]]+)\]\(\.\.?/[^)]*\)")
_INTERP = re.compile(r"^\$\{(.*)\}$", re.S)


def _plain(value: Any) -> str:
    """HCL value as written (python-hcl2 wraps expressions in ${...} and quotes strings)."""
    if isinstance(value, str):
        match = _INTERP.match(value)
        return match.group(1) if match else value
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, dict):
        items = ", ".join(f"{k} = {_plain(v)}" for k, v in value.items() if not k.startswith("__"))
        return "{ " + items + " }" if items else "{}"
    if value is None:
        return "null"
    return str(value).lower() if isinstance(value, bool) else str(value)


def _text(value: Any) -> str:
    """A description: the string itself, without HCL quotes."""
    text = _plain(value)
    return json.loads(text) if text.startswith('"') and text.endswith('"') else text


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def tables(module: Path) -> str:
    variables: list[tuple[str, dict[str, Any]]] = []
    outputs: list[tuple[str, dict[str, Any]]] = []
    for tf in sorted(module.glob("*.tf")):
        with tf.open(encoding="utf-8") as fh:
            doc = hcl2.load(fh)
        variables += [(n.strip('"'), b) for blk in doc.get("variable", []) for n, b in blk.items()]
        outputs += [(n.strip('"'), b) for blk in doc.get("output", []) for n, b in blk.items()]
    lines = [
        "## Inputs",
        "",
        "| Name | Description | Type | Default | Required |",
        "|------|-------------|------|---------|:--------:|",
    ]
    for name, body in sorted(variables, key=lambda v: ("default" in v[1], v[0])):
        required = "default" not in body
        default = "n/a" if required else f"`{_cell(_plain(body['default']))}`"
        kind = _cell(_plain(body.get("type", "any")))
        description = _cell(_text(body.get("description", "")))
        lines.append(
            f"| `{name}` | {description} | `{kind}` | {default} | {'yes' if required else 'no'} |"
        )
    lines += ["", "## Outputs", "", "| Name | Description |", "|------|-------------|"]
    for name, body in sorted(outputs):
        lines.append(f"| `{name}` | {_cell(_text(body.get('description', '')))} |")
    return "\n".join(lines) + "\n"


def updated(readme_text: str, module: Path) -> str:
    return _between(readme_text, BEGIN, END, tables(module))


def _between(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with ``body`` between the markers (appended with them when absent)."""
    block = f"{begin}\n{body}{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + block + rest.split(end, 1)[1]
    return text.rstrip("\n") + "\n\n" + block + "\n"


# --- the quota tables of the README and docs/concepts/cells.md ---------------------

QUOTA_BEGIN, QUOTA_END = "<!-- BEGIN_QUOTAS -->", "<!-- END_QUOTAS -->"
ROOM_BEGIN, ROOM_END = "<!-- BEGIN_CAPACITY -->", "<!-- END_CAPACITY -->"
PLANS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "plans"


def quota_table() -> str:
    """Every quota saasctl counts (saasctl/quotas.py), as a Markdown table."""
    from saasctl import quotas

    lines = ["| quota | default | adjustable | counted per | source |", "|---|---:|---|---|---|"]
    for q in quotas.QUOTAS:
        default = "account-specific: record it" if q.default is None else f"{q.default:,}"
        adjustable = "no (fixed)" if not q.adjustable else "yes"
        if q.ceiling:
            adjustable += f", up to {q.ceiling:,}"
        note = f" ({q.note})" if q.note else ""
        lines.append(f"| {q.name}{note} | {default} | {adjustable} | {q.scope.value} | "
                     f"[{q.key}]({q.source}) |")  # fmt: skip
    return "\n".join(lines) + "\n"


def capacity_table() -> str:
    """Each tier's tenants per cell under AWS's default quotas, alone in its account:
    the same computation as `saasctl cell show` (cells.room), over the usage of the
    real modules' plans recorded in tests/fixtures/plans (the local environment's
    two services; a cell holding only its shared stack)."""
    import gzip

    from saasctl import cells, quotas
    from saasctl.project import Project

    env = Project(Path(__file__).resolve().parents[1]).load_env("local")
    cell = env.first_cell

    def usage(name: str) -> quotas.Usage:
        plan = json.loads(gzip.decompress((PLANS / f"{name}.plan.json.gz").read_bytes()))
        where = quotas.Where(name, cell.name, cell.spec.account_id, cell.spec.region)
        return quotas.count(quotas.from_plan(plan), where)

    empty = cells.CellUsage(cell, usage("shared"), quotas.Limits.of(), {})
    lines = ["| tier | tenants per cell | bound by |", "|---|---:|---|"]
    for tier in ("basic", "advanced", "premium"):
        footprint = {k: sum(v.values()) for k, v in usage(tier).items()}
        n, binding = cells.room(empty, footprint)
        lines.append(f"| {tier} | {n} | {binding} |")
    return "\n".join(lines) + "\n"


def modules(root: Path) -> list[Path]:
    """Real modules; the stand-ins are documented together in standins/README.md."""
    found = root.glob("**/variables.tf")
    return sorted(p.parent for p in found if not {".terraform", "standins"} & set(p.parts))


def reference_page(root: Path) -> str:
    """docs/reference/modules.md: every module's README intro and tables on one page."""
    parts = [
        "# Module reference\n",
        "Generated from each module's `.tf` files and README by `make docs`",
        "(`python -m saasctl.moddoc`); `make lint` fails when it is stale. What the",
        "modules are for: [Terraform modules](../modules.md).\n",
    ]
    for module in modules(root):
        readme = (module / "README.md").read_text(encoding="utf-8")
        intro = readme.split(BEGIN, 1)[0].strip().splitlines()[1:]  # without its title
        # Links between module folders point nowhere on the site: keep their text.
        intro = [_LINK.sub(r"\1", line) for line in intro]
        tables_md = tables(module).replace("## ", "### ")
        parts += [f"## {module.name}\n", "\n".join(intro).strip() + "\n", tables_md]
    return "\n".join(parts)


def wanted(root: Path) -> dict[Path, str]:
    """Every generated file and what it should hold: each module README, the
    reference page of the documentation site, and the quota and capacity tables of
    the README and the cells page."""
    out = {}
    for module in modules(root):
        readme = module / "README.md"
        current = readme.read_text(encoding="utf-8") if readme.exists() else f"# {module.name}\n"
        out[readme] = updated(current, module)
    out[REFERENCE] = reference_page(root)
    repo = root.parents[1]
    quota, room = quota_table(), capacity_table()
    for page in (repo / "README.md", repo / "docs" / "concepts" / "cells.md"):
        if page.is_file():
            text = _between(page.read_text(encoding="utf-8"), QUOTA_BEGIN, QUOTA_END, quota)
            out[page] = _between(text, ROOM_BEGIN, ROOM_END, room)
    return out


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1] / "terraform" / "modules"
    check = "--check" in argv
    stale = []
    for path, text in wanted(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            stale.append(str(path.relative_to(root.parent.parent)))
            if not check:
                path.write_text(text, encoding="utf-8")
    for name in stale:
        print(f"{'stale' if check else 'updated'}: {name}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

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

BEGIN = "<!-- BEGIN_TF_DOCS -->"
END = "<!-- END_TF_DOCS -->"
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
    block = f"{BEGIN}\n{tables(module)}{END}"
    if BEGIN in readme_text and END in readme_text:
        head, rest = readme_text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        return head + block + tail
    return readme_text.rstrip("\n") + "\n\n" + block + "\n"


def modules(root: Path) -> list[Path]:
    """Real modules; the stand-ins are documented together in standins/README.md."""
    found = root.glob("**/variables.tf")
    return sorted(p.parent for p in found if not {".terraform", "standins"} & set(p.parts))


def main(argv: list[str]) -> int:
    root = Path(__file__).resolve().parents[1] / "terraform" / "modules"
    check = "--check" in argv
    stale = []
    for module in modules(root):
        readme = module / "README.md"
        current = readme.read_text(encoding="utf-8") if readme.exists() else f"# {module.name}\n"
        new = updated(current, module)
        if new != current:
            stale.append(str(readme.relative_to(root.parent.parent)))
            if not check:
                readme.write_text(new, encoding="utf-8")
    for path in stale:
        print(f"{'stale' if check else 'updated'}: {path}")
    return 1 if check and stale else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

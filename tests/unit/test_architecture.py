"""The package's layers (docs/architecture.md): every import of a saasctl module,
at the top or inside a function, points to its own layer or a lower one, and
the imports within a layer form no cycle. A module not in the map fails too,
so a new module is placed on purpose."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "saasctl"

# Lowest first. A module may import its own layer (without a cycle) and those below.
LAYERS: dict[str, list[str]] = {
    "foundation": ["errors", "files", "ids", "failpoints", "console"],
    "model": ["quotas", "specs", "project", "priorities", "releases", "configs"],
    "drivers": [
        "terraform", "aws", "state", "backend", "render", "policy", "emulator",
        "emulator_server", "provider_schema", "offline_aws", "conformance", "lifecycle",
    ],
    "context": ["context"],
    "operations": [
        "cells", "tenant_data", "tenants", "changes", "fleet", "health", "rollout", "validate",
        "audit", "maintenance",
    ],
    "cli": ["cli", "__main__"],
    "tools": ["demo", "moddoc"],  # run by make, never imported by the product
}  # fmt: skip
LAYER_OF = {module: i for i, names in enumerate(LAYERS.values()) for module in names}


def top_module(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return parts[0]


def imports(path: Path) -> set[str]:
    """The saasctl modules (first component under saasctl.) that ``path`` imports."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.level:  # relative: within its own package
                continue
            parts = node.module.split(".")
            if parts[0] != "saasctl":
                continue
            if len(parts) > 1:
                found.add(parts[1])
            else:
                found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "saasctl" and len(parts) > 1:
                    found.add(parts[1])
    return found - {"__version__"}


@functools.cache
def graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "__init__.py" and path.parent == PACKAGE:
            continue
        module = top_module(path)
        edges.setdefault(module, set()).update(imports(path) - {module})
    return edges


def test_every_module_is_placed_in_a_layer() -> None:
    unplaced = sorted(set(graph()) - set(LAYER_OF))
    assert not unplaced, f"place these in LAYERS and docs/architecture.md: {unplaced}"


def test_imports_point_down_the_layers() -> None:
    upward = [
        f"{module} ({LAYER_OF[module]}) imports {target} ({LAYER_OF[target]})"
        for module, targets in graph().items()
        for target in sorted(targets)
        if module in LAYER_OF and target in LAYER_OF and LAYER_OF[target] > LAYER_OF[module]
    ]
    assert not upward, upward


def test_no_cycle_within_a_layer() -> None:
    edges = graph()
    same = {
        m: {t for t in targets if LAYER_OF.get(t) == LAYER_OF.get(m)}
        for m, targets in edges.items()
    }
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(same.get(node, ())):
            if state.get(nxt) == 1:
                pytest.fail(f"import cycle: {' -> '.join([*path, node, nxt])}")
            if nxt not in state:
                visit(nxt, [*path, node])
        state[node] = 2

    for node in sorted(same):
        if node not in state:
            visit(node, [])


def test_the_check_catches_an_upward_import(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f():\n    from saasctl import tenants\n    import saasctl.cli.common\n")
    assert imports(bad) == {"tenants", "cli"}

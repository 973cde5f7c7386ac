"""Stand-in modules keep exactly the interface of the real modules and of the renderer.

Variables and outputs are compared by name, variables also by type. Where the
real module does not exist yet, the comparison with it is skipped with that
reason; the stand-in is still checked against what saasctl renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import hcl2
import pytest

from saasctl.render import SHARED_INPUTS, SHARED_OUTPUTS, TENANT_INPUTS, TENANT_WIRED
from saasctl.specs import Tier

MODULES = Path(__file__).resolve().parents[2] / "terraform" / "modules"
NAMES = ["shared-stack"] + [f"tenant-{t.value}" for t in Tier]


def interface(module: Path) -> tuple[dict[str, Any], set[str]]:
    """A module's variables (with types) and outputs; each declared once, as
    terraform requires (shared files are symlinks: an edit reaches every module)."""
    variables: dict[str, Any] = {}
    outputs: set[str] = set()
    for tf in sorted(module.glob("*.tf")):
        with tf.open() as fh:
            doc = hcl2.load(fh)
        for block in doc.get("variable", []):
            for name, body in block.items():
                assert name.strip('"') not in variables, f"{tf}: variable {name} twice"
                variables[name.strip('"')] = str(body.get("type"))
        for block in doc.get("output", []):
            for name in block:
                assert name.strip('"') not in outputs, f"{tf}: output {name} twice"
                outputs.add(name.strip('"'))
    return variables, outputs


@pytest.mark.parametrize("name", NAMES)
def test_standin_matches_the_rendered_interface(name: str) -> None:
    variables, outputs = interface(MODULES / "standins" / name)
    assert all(t != "None" for t in variables.values()), "every variable has a type"
    if name == "shared-stack":
        assert set(variables) == set(SHARED_INPUTS)
        assert outputs == set(SHARED_OUTPUTS)
    else:
        tier = Tier(name.removeprefix("tenant-"))
        assert set(variables) == set(TENANT_INPUTS[tier]) | set(TENANT_WIRED)


def test_tenant_modules_share_outputs_and_read_only_shared_outputs() -> None:
    outs = [interface(MODULES / "standins" / f"tenant-{t.value}")[1] for t in Tier]
    assert outs[0] == outs[1] == outs[2]
    shared_type = interface(MODULES / "standins" / "tenant-basic")[0]["shared"]
    for attr in ("vpc_id", "https_listener_arn", "pool_cluster_arn", "advanced_cluster_arn"):
        assert attr in shared_type
    # every attribute the tenant stack reads is an output of the shared stack
    import re

    attrs = set(re.findall(r"'?(\w+)'?\s*[:=]", shared_type)) - {"object", "list", "map", "string"}
    assert attrs <= set(SHARED_OUTPUTS), attrs - set(SHARED_OUTPUTS)


@pytest.mark.parametrize("name", NAMES)
def test_standin_matches_real_module(name: str) -> None:
    real = MODULES / name
    if not real.is_dir():
        pytest.skip(
            f"real module terraform/modules/{name} not written yet (issue: real AWS modules)"
        )
    assert interface(MODULES / "standins" / name) == interface(real)


def test_interface_check_catches_drift(tmp_path: Path) -> None:
    drifted = tmp_path / "shared-stack"
    drifted.mkdir()
    for tf in (MODULES / "standins" / "shared-stack").glob("*.tf"):
        (drifted / tf.name).write_text(tf.read_text())
    outputs = drifted / "outputs.tf"
    outputs.write_text(outputs.read_text().replace('output "vpc_id"', 'output "vpc"'))
    variables = drifted / "variables.tf"
    variables.write_text(
        variables.read_text().replace("type        = bool", "type        = string")
    )
    original = interface(MODULES / "standins" / "shared-stack")
    changed = interface(drifted)
    assert changed[1] != original[1]
    assert changed[0]["single_nat_gateway"] != original[0]["single_nat_gateway"]


def blocks(module: Path) -> set[str]:
    """The addresses a module declares: its resources, data sources and module calls."""
    found: set[str] = set()
    for tf in sorted(module.glob("*.tf")):
        with tf.open() as fh:
            doc = hcl2.load(fh)
        for kind in ("resource", "data"):
            for block in doc.get(kind, []):
                for rtype, named in block.items():
                    prefix = "data." if kind == "data" else ""
                    found.update(
                        f"{prefix}{rtype.strip(chr(34))}.{n.strip(chr(34))}" for n in named
                    )
        for block in doc.get("module", []):
            found.update(f"module.{name.strip(chr(34))}" for name in block)
    return found


@pytest.mark.parametrize("root", [MODULES, MODULES / "standins"])
def test_premium_is_advanced_plus_a_cluster(root: Path) -> None:
    """tenant-premium shares tenant-advanced's services.tf (one place for every
    tenant-level argument) and adds only its cluster: the services keep the
    addresses they had, so existing premium tenants plan clean without `moved`."""
    advanced, premium = root / "tenant-advanced", root / "tenant-premium"
    assert (premium / "services.tf").resolve() == (advanced / "services.tf").resolve()
    assert (premium / "variables.tf").resolve().read_text() == (
        advanced / "variables.tf"
    ).resolve().read_text()
    cluster = "module.cluster" if root == MODULES else "null_resource.cluster"
    assert blocks(premium) == blocks(advanced) | {cluster}
    assert "module.service" in blocks(advanced) or "null_resource.service" in blocks(advanced)

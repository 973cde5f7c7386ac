"""The offline AWS provider under real terraform: validate catches mistakes with
terraform's own messages, `saasctl validate` passes on the repository, and the
provider refuses to start where it was not asked for."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from saasctl import backend
from saasctl.offline_aws.server import MAGIC_COOKIE
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, NEEDS_OFFLINE_AWS, NEEDS_TERRAFORM

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
    NEEDS_OFFLINE_AWS,
]

# (edit of terraform/modules/vpc/main.tf, terraform's own message)
MISTAKES = {
    "unknown-argument": (
        ("enable_dns_support   = true", "enable_dns_support   = true\n  colour = \"red\""),
        "Unsupported argument",
    ),
    "wrong-type": (
        ("enable_dns_support   = true", "enable_dns_support   = [\"yes\"]"),
        "Incorrect attribute value type",
    ),
    "missing-required": (
        ("  route_table_id = aws_route_table.public.id\n", ""),
        "Missing required argument",
    ),
    "misspelled-block": (
        ("resource \"aws_vpc\" \"this\" {", "resource \"aws_vpc\" \"this\" {\n  timeout {\n  }"),
        "Unsupported block type",
    ),
    "undeclared-reference": (
        ("vpc_id = aws_vpc.this.id", "vpc_id = aws_vpc.thiz.id"),
        "Reference to undeclared resource",
    ),
}  # fmt: skip


def _project_with(tmp_path: Path, name: str, text: str) -> Path:
    """A project whose only module is the vpc module with ``text`` as its main.tf."""
    root = tmp_path / name
    shutil.copytree(REPO / "terraform/modules/vpc", root / "terraform/modules" / name)
    (root / "terraform/modules" / name / "main.tf").write_text(text)
    (root / "terraform/envs").mkdir(parents=True)
    backend.share_cache(REPO / ".saasctl", root / ".saasctl")
    return root


def _validate_cli(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAASCTL_", "TF_"))}
    env.update(SAASCTL_ROOT=str(root), SAASCTL_TERRAFORM=BINARIES[0].path, NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "saasctl", "validate", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_each_mistake_fails_saasctl_validate_with_exit_3(tmp_path: Path, name: str) -> None:
    text = (REPO / "terraform/modules/vpc/main.tf").read_text()
    (old, new), message = MISTAKES[name]
    assert old in text, f"{name}: the module changed; update the test's edit"
    proc = _validate_cli(_project_with(tmp_path, name, text.replace(old, new, 1)))
    assert proc.returncode == 3, proc.stderr
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert report["valid"] is False
    [target] = report["targets"]
    assert not target["ok"]
    assert any(message in e for e in target["errors"]), target["errors"]
    assert all(f"{name}/main.tf:" in e for e in target["errors"]), target["errors"]
    assert f"invalid: terraform/modules/{name}" in proc.stderr


def test_the_pristine_module_passes_saasctl_validate(tmp_path: Path) -> None:
    text = (REPO / "terraform/modules/vpc/main.tf").read_text()
    proc = _validate_cli(_project_with(tmp_path, "pristine", text))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["valid"] is True


def test_saasctl_validate_passes_on_the_repository(tmp_path: Path) -> None:
    root = copy_project(
        tmp_path / "proj", {"local": REPO / "terraform/envs/local/env.yaml"}, "real"
    )
    shutil.copytree(REPO / "terraform/examples", root / "terraform/examples")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAASCTL_", "TF_"))}
    env.update(SAASCTL_ROOT=str(root), SAASCTL_TERRAFORM=BINARIES[0].path)
    run = [sys.executable, "-m", "saasctl"]
    subprocess.run([*run, "render", "--env", "local"], env=env, check=True, capture_output=True)
    proc = subprocess.run([*run, "validate", "--json"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["valid"] is True
    names = [t["target"] for t in report["targets"]]
    assert any("modules/shared-stack" in n for n in names)
    assert any("examples/waf" in n for n in names)
    assert any("envs/local/shared" in n for n in names)


def test_provider_refuses_without_the_offline_marker(tmp_path: Path) -> None:
    backend.share_cache(REPO / ".saasctl", tmp_path / ".saasctl")
    exe = backend.install_offline_aws(tmp_path / ".saasctl")
    env = {
        "TF_PLUGIN_MAGIC_COOKIE": MAGIC_COOKIE,
        "PATH": os.environ["PATH"],
        **backend.offline_aws_env(tmp_path / ".saasctl"),
    }
    env.pop("SAASCTL_OFFLINE_AWS")
    proc = subprocess.run([str(exe)], env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 1
    assert "refusing to run" in proc.stderr and "no AWS resource" in proc.stderr
    assert proc.stdout == ""  # no handshake: terraform reports the plugin failed to start
    bare = subprocess.run(
        [str(exe)], env={"PATH": os.environ["PATH"]}, capture_output=True, text=True
    )
    assert bare.returncode != 0 and "not started by saasctl" in bare.stderr

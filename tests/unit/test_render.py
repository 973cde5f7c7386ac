"""Rendering: golden files, determinism, injection safety, fmt-clean HCL."""

import json
import os
import subprocess
from pathlib import Path

import jinja2
import pytest

from saasctl import render
from saasctl.errors import SaasctlError
from saasctl.project import Environment, Project
from saasctl.specs import TenantSpec, Tier
from saasctl.terraform import find_binary

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
TENANTS = {
    Tier.BASIC: TenantSpec(id="acme", tier=Tier.BASIC, listener_priority=100),
    Tier.ADVANCED: TenantSpec(
        id="globex",
        tier=Tier.ADVANCED,
        listener_priority=110,
        tags={"CostCenter": "cc-7"},
        overrides={"desired_count": 3},
    ),
    Tier.PREMIUM: TenantSpec(id="initech", tier=Tier.PREMIUM, listener_priority=120),
}


@pytest.fixture
def env(project: Path) -> Environment:
    return Project(project).load_env("golden")


def rendered(env: Environment) -> dict[str, dict[str, str]]:
    out = {"shared": render.render_shared(env, list(TENANTS.values()))}
    for tier, spec in TENANTS.items():
        out[tier.value] = render.render_tenant(env, spec)
    return out


def test_golden_files(env: Environment) -> None:
    for name, files in rendered(env).items():
        for filename, text in files.items():
            golden = GOLDEN / name / filename
            if os.environ.get("UPDATE_GOLDEN"):
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_text(text)
            assert golden.is_file(), f"missing golden {golden}; run UPDATE_GOLDEN=1"
            assert text == golden.read_text(), f"{name}/{filename} differs from its golden file"


def test_rendering_is_deterministic(env: Environment) -> None:
    assert rendered(env) == rendered(env)
    # Tenant order does not matter for the shared workspace.
    specs = list(TENANTS.values())
    assert render.render_shared(env, specs) == render.render_shared(env, specs[::-1])


def test_values_never_reach_hcl(env: Environment) -> None:
    evil = '"}\nresource "null_resource" "pwn" {}\n${file("/etc/passwd")} %{ if true }'
    spec = TenantSpec(id="acme", tier=Tier.ADVANCED, listener_priority=100, tags={"Owner": evil})
    files = render.render_tenant(env, spec)
    assert evil not in files["main.tf"] and "pwn" not in files["main.tf"]
    assert json.loads(files["terraform.tfvars.json"])["tags"]["Owner"] == evil
    plain = render.render_tenant(env, spec.model_copy(update={"tags": {"Owner": "x"}}))
    assert files["main.tf"] == plain["main.tf"]


def test_digest_tracks_content(env: Environment) -> None:
    a = render.render_tenant(env, TENANTS[Tier.BASIC])
    b = render.render_tenant(env, TENANTS[Tier.BASIC].model_copy(update={"listener_priority": 130}))
    assert render.config_digest(a) != render.config_digest(b)
    assert len(render.config_digest(a)) == 64


def test_tier_changes_module_and_inputs(env: Environment) -> None:
    basic = render.render_tenant(env, TENANTS[Tier.BASIC])
    premium = render.render_tenant(
        env, TENANTS[Tier.BASIC].model_copy(update={"tier": Tier.PREMIUM})
    )
    assert "modules/standins/tenant-basic" in basic["main.tf"]
    assert "modules/standins/tenant-premium" in premium["main.tf"]
    assert "cpu" not in json.loads(basic["terraform.tfvars.json"])
    assert json.loads(premium["terraform.tfvars.json"])["cpu"] == 1024


def test_strict_undefined_names_the_template(env: Environment) -> None:
    template = env.project.templates / "tenant" / "_base.tf.j2"
    template.write_text(template.read_text() + "{{ not_defined }}\n")
    with pytest.raises(
        SaasctlError, match=r"templates/tenant/basic.tf.j2: 'not_defined' is undefined"
    ):
        render.render_tenant(env, TENANTS[Tier.BASIC])
    assert isinstance(jinja2.StrictUndefined, type)


def test_write_is_atomic_and_only_what_changed(env: Environment, tmp_path: Path) -> None:
    files = render.render_tenant(env, TENANTS[Tier.BASIC])
    workdir = tmp_path / "ws"
    assert render.write_workspace(workdir, files) == sorted(files)
    assert render.write_workspace(workdir, files) == []
    assert sorted(p.name for p in workdir.iterdir()) == sorted(files)  # no temp files left
    assert render.stale_files(workdir, files) == []


def test_rendered_hcl_is_terraform_fmt_clean(env: Environment, tmp_path: Path) -> None:
    binary = find_binary()
    for name, files in rendered(env).items():
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_text(files["main.tf"])
    proc = subprocess.run(
        [binary.path, "fmt", "-check", "-recursive", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_real_module_set_renders_the_aws_provider(env: Environment, tmp_path: Path) -> None:
    env_file = env.project.envs / "golden" / "env.yaml"
    env_file.write_text(env_file.read_text().replace("modules: standin", "modules: real"))
    real = Project(env.project.root).load_env("golden")
    files = render.render_tenant(real, TENANTS[Tier.PREMIUM])
    assert 'source = "../../../../modules/tenant-premium"' in files["main.tf"]
    assert 'provider "aws"' in files["main.tf"] and 'dynamic "endpoints"' in files["main.tf"]
    shared = render.render_shared(real, list(TENANTS.values()))
    assert 'provider "aws"' in shared["main.tf"]
    assert "modules/shared-stack" in shared["main.tf"] and "standins" not in shared["main.tf"]
    (tmp_path / "a.tf").write_text(files["main.tf"])
    (tmp_path / "b.tf").write_text(shared["main.tf"])
    proc = subprocess.run(
        [find_binary().path, "fmt", "-check", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CLI_CONFIG_FILE": os.devnull},
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The stand-in set renders no provider block (the null provider needs none).
    assert 'provider "aws"' not in render.render_tenant(env, TENANTS[Tier.BASIC])["main.tf"]

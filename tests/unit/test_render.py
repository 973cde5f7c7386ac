"""Rendering: golden files, determinism, injection safety, fmt-clean HCL."""

import json
import os
import subprocess
import sys
from pathlib import Path

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
    out = {"shared": render.render_shared(env, env.first_cell, list(TENANTS.values()))}
    for tier, spec in TENANTS.items():
        out[tier.value] = render.render_tenant(env, spec)
    return out


def test_golden_files(env: Environment) -> None:
    # Regenerating makes this test pass whatever rendering does: never in CI.
    assert not (os.environ.get("UPDATE_GOLDEN") and os.environ.get("CI")), (
        "UPDATE_GOLDEN is refused under CI: regenerate golden files locally and review the diff"
    )
    for name, files in rendered(env).items():
        for filename, text in files.items():
            golden = GOLDEN / name / filename
            if os.environ.get("UPDATE_GOLDEN"):
                golden.parent.mkdir(parents=True, exist_ok=True)
                golden.write_text(text)
            assert golden.is_file(), f"missing golden {golden}; run UPDATE_GOLDEN=1"
            assert text == golden.read_text(), f"{name}/{filename} differs from its golden file"


# Renders the golden environment and shards labels in a fresh interpreter.
PROBE = """
import json, sys
from pathlib import Path
from saasctl import changes, render
from saasctl.project import Project
from tests.unit.test_render import TENANTS
env = Project(Path(sys.argv[1])).load_env("golden")
specs = list(TENANTS.values())
order = specs if sys.argv[2] == "forward" else specs[::-1]
out = {"shared": render.render_shared(env, env.first_cell, order)}
out.update({s.id: render.render_tenant(env, s) for s in order})
out["shards"] = {f"t{i}": changes.shard_of(f"t{i}", 7) for i in range(200)}
sys.stdout.write(json.dumps(out, sort_keys=True))
"""


def test_rendering_and_sharding_do_not_depend_on_the_process(project: Path) -> None:
    """Same inputs, byte-identical output, in processes with different hash seeds
    (set and dict order) and tenant order."""
    outputs = set()
    for seed, order in (("0", "forward"), ("1", "reverse"), ("4242", "forward"), ("99", "reverse")):
        proc = subprocess.run(
            [sys.executable, "-c", PROBE, str(project), order],
            capture_output=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=GOLDEN.parents[1],
            check=True,
        )
        outputs.add(proc.stdout)
    assert len(outputs) == 1
    files = json.loads(outputs.pop())
    for name, spec in (("shared", None), *((t.value, s) for t, s in TENANTS.items())):
        got = files["shared"] if spec is None else files[spec.id]
        for filename, text in got.items():
            assert text == (GOLDEN / name / filename).read_text(), f"{name}/{filename}"


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


@pytest.mark.parametrize(
    "snippet",
    [
        "{% if not_defined %}x{% endif %}",  # a lenient Undefined would be falsy here
        "{{ not_defined ~ 'x' }}",
        "{{ inputs.no_such_attribute }}",
        "{% for x in not_defined %}{% endfor %}",
    ],
)
def test_rendering_is_strict_everywhere(env: Environment, snippet: str) -> None:
    template = env.project.templates / "shared" / "main.tf.j2"
    template.write_text(template.read_text() + snippet + "\n")
    with pytest.raises(SaasctlError, match=r"templates/shared/main.tf.j2: "):
        render.render_shared(env, env.first_cell, list(TENANTS.values()))


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
    shared = render.render_shared(real, real.first_cell, list(TENANTS.values()))
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

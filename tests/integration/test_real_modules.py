"""The real AWS modules end to end: init, plan, apply, clean re-plan, destroy.

hashicorp/aws is the real provider when $SAASCTL_PROVIDER_MIRROR names a mirror
that holds it, otherwise saasctl's offline provider (it serves the real schema,
keeps ECS, CloudWatch and other backed types in the emulator and the rest in
Terraform state). State lives in the moto S3 backend either way. Runs on
terraform 1.0.x and the newest terraform present.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from saasctl.backend import aws_provider_available, offline_aws_available, offline_aws_env
from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, BINARY_PARAMS, Stack, make_stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not BINARIES, reason="no terraform binary (run `make setup`)"),
    pytest.mark.skipif(
        not (aws_provider_available() or offline_aws_available(REPO / ".saasctl")),
        reason="no hashicorp/aws: neither $SAASCTL_PROVIDER_MIRROR nor the offline provider's "
        "schema (pip install cdktn-provider-aws==25.8.1, as make setup does)",
    ),
]
TENANTS = {"acme": "basic", "globex": "advanced", "initech": "premium"}
README = REPO / "README.md"


@pytest.fixture(scope="module", params=BINARY_PARAMS)
def real_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("real"),
        {"local": REPO / "terraform/envs/local/env.yaml"},
        modules="real",
    )
    with moto_server(log=root / "moto.log") as url:
        yield make_stack(root, url, request.param)


def _terraform(s: Stack, workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """terraform as saasctl runs it (its CLI config, var file, offline marker)."""
    rc = next((s.root / ".saasctl").glob("terraform*.rc"))
    env = {
        **s.env,
        **offline_aws_env(s.root / ".saasctl"),
        "TF_CLI_CONFIG_FILE": str(rc),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    }
    return subprocess.run(
        [s.binary.path, f"-chdir={workdir}", *args, "-no-color"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_real_modules_lifecycle(real_stack: Stack) -> None:
    s = real_stack
    s.saasctl("bootstrap")
    applied = s.saasctl("apply", "--shared-only", "--yes", "--json", timeout=1800)
    shared = json.loads(applied.stdout)["workspaces"][0]
    assert shared["status"] == "applied", shared
    # What was added is what the state holds, and what the README says it is.
    state = s.read_json("local/shared/terraform.tfstate")
    managed = sum(len(r["instances"]) for r in state["resources"] if r["mode"] == "managed")
    assert shared["add"] == managed
    claim = re.search(r"apply of the shared workspace \((\d+) resources\)", README.read_text())
    assert claim and int(claim.group(1)) == managed, (claim, managed)
    for tenant, tier in TENANTS.items():
        s.saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes", timeout=1800)
    states = [k for k in s.object_keys("local/") if k.endswith(".tfstate")]
    assert sorted(states) == sorted(
        ["local/shared/terraform.tfstate"]
        + [f"local/tenants/{t}/terraform.tfstate" for t in TENANTS]
    )
    assert len(s.object_keys("local/priorities/")) == len(TENANTS)  # one claim each
    # Values filled in on apply look like AWS's and use the env file's region/account.
    shown = json.loads(s.saasctl("tenant", "show", "initech", "--json").stdout)
    cluster = json.dumps(shown)
    assert "arn:aws:ecs:us-east-1:123456789012:cluster/" in cluster, cluster
    # A clean re-plan of everything after apply: no changes (exit 0).
    report = json.loads(s.saasctl("plan", "--json", check=0, timeout=1800).stdout)
    assert {w["workspace"] for w in report["workspaces"]} == {"shared", *TENANTS}
    assert all(w["status"] == "no changes" for w in report["workspaces"]), report

    # Policy gates on a real plan: premium -> advanced destroys the tenant's cluster.
    spec = s.tenant_dir("initech") / "tenant.yaml"
    original = spec.read_text()
    spec.write_text(original.replace("tier: premium", "tier: advanced"))
    try:
        blocked = json.loads(s.saasctl("plan", "--tenant", "initech", "--json", check=1).stdout)
        ws = blocked["workspaces"][0]
        assert ws["status"] == "policy", ws["error"]
        assert any("aws_ecs_cluster" in str(v) for v in ws["violations"]), ws["violations"]
        allowed = json.loads(
            s.saasctl("plan", "--tenant", "initech", "--allow-destroy", "--json", check=2).stdout
        )
        assert allowed["workspaces"][0]["destroy"] >= 1
    finally:
        spec.write_text(original)

    for tenant in TENANTS:
        out = json.loads(s.saasctl("tenant", "offboard", tenant, "--yes", "--json").stdout)
        assert out["archive"]
    assert s.object_keys("local/tenants/") == []
    assert s.object_keys("local/priorities/") == []  # claims released
    assert len(s.object_keys("archive/local/tenants/")) == len(TENANTS)

    # Destroy the shared workspace too; its state is left with no resources.
    shared_dir = s.root / "terraform/envs/local/shared"
    var_file = shared_dir / ".terraform/saasctl.tfvars.json"
    destroyed = _terraform(s, shared_dir, "destroy", "-auto-approve", f"-var-file={var_file}")
    assert destroyed.returncode == 0, destroyed.stderr
    assert "Destroy complete!" in destroyed.stdout
    state = _terraform(s, shared_dir, "state", "list")
    assert state.returncode == 0 and state.stdout.strip() == "", state.stdout

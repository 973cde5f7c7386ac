"""Fleet plan/apply with real terraform: parallel runs, reports, policy gates, shards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.conftest import NEEDS_TERRAFORM, Stack

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
TENANTS = {"alpha": "basic", "bravo": "advanced", "charlie": "premium", "delta": "basic"}


@pytest.fixture(scope="module")
def fleet_stack(stack: Stack) -> Stack:
    for tenant, tier in TENANTS.items():
        stack.saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes")
    return stack


def test_parallel_plan_reports(fleet_stack: Stack, tmp_path: Path) -> None:
    s = fleet_stack
    step = tmp_path / "step.md"
    step.write_text("earlier step\n")
    env = {**s.env, "GITHUB_STEP_SUMMARY": str(step)}
    report, summary = tmp_path / "r.json", tmp_path / "s.md"
    proc = s.saasctl_env(
        env, "plan", "-p", "3", "--report-json", str(report), "--summary-md", str(summary)
    )
    assert proc.returncode == 0, proc.stderr
    data = json.loads(report.read_text())
    assert data["exit_code"] == 0 and data["parallelism"] == 3
    assert data["workspaces"][0]["workspace"] == "shared"
    assert {w["workspace"] for w in data["workspaces"]} == {"shared", *TENANTS}
    assert all(w["status"] == "no changes" and w["seconds"] > 0 for w in data["workspaces"])
    assert "5 workspace(s), 0 with changes, 0 failed" in summary.read_text()
    assert step.read_text().startswith("earlier step\n### saasctl plan")


def test_policy_gate_blocks_a_cluster_destroy(fleet_stack: Stack) -> None:
    s = fleet_stack
    spec = s.tenant_dir("charlie") / "tenant.yaml"
    original = spec.read_text()
    spec.write_text(original.replace("tier: premium", "tier: advanced"))
    try:
        blocked = json.loads(s.saasctl("plan", "--tier", "advanced", "--json", check=1).stdout)
        charlie = next(w for w in blocked["workspaces"] if w["workspace"] == "charlie")
        assert charlie["status"] == "policy"
        assert "module.tenant.null_resource.cluster" in charlie["error"]
        assert "aws_ecs_cluster" in charlie["error"]
        bravo = next(w for w in blocked["workspaces"] if w["workspace"] == "bravo")
        assert bravo["status"] == "no changes"  # the others still ran
        allowed = s.saasctl("plan", "--tenant", "charlie", "--allow-destroy", check=2)
        assert "changes" in allowed.stderr
        refused = s.saasctl("apply", "--tenant", "charlie", "--allow-destroy", check=5)
        assert "not confirmed" in refused.stderr
    finally:
        spec.write_text(original)
    s.saasctl("plan", "--tenant", "charlie", check=0)


@pytest.mark.newest_terraform  # saasctl's sharding: no terraform path
def test_shards_cover_the_fleet_once(fleet_stack: Stack) -> None:
    s = fleet_stack
    seen: list[str] = []
    for i in (1, 2, 3):
        out = json.loads(s.saasctl("plan", "--shard", f"{i}/3", "--json").stdout)
        seen += [w["workspace"] for w in out["workspaces"]]
    assert sorted(seen) == sorted(["shared", *TENANTS])
    matrix = json.loads(s.saasctl("ci", "matrix", "--shards", "3").stdout)
    assert [m["shard"] for m in matrix["include"]] == ["1/3", "2/3", "3/3"]


def test_drift_is_clean_after_apply(fleet_stack: Stack) -> None:
    fleet_stack.saasctl("drift", "-p", "2", check=0)


def test_init_is_skipped_until_something_changes(fleet_stack: Stack) -> None:
    s = fleet_stack
    again = s.saasctl("-v", "plan", "--tenant", "alpha")
    assert " init " not in again.stderr and " plan " in again.stderr  # stamp matched
    ws = s.tenant_dir("alpha")
    stamp = ws / ".terraform" / "saasctl.init"
    stamp.unlink()
    redone = s.saasctl("-v", "plan", "--tenant", "alpha")
    assert " init " in redone.stderr and stamp.is_file()
    # A stamp that lies (modules gone behind its back): terraform asks for init, saasctl re-inits.
    import shutil

    shutil.rmtree(ws / ".terraform" / "modules")
    healed = s.saasctl("-v", "plan", "--tenant", "alpha", check=0)
    assert healed.stderr.count(" init ") == 1

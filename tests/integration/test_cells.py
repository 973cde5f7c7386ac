"""Cells on the emulator with real terraform (stand-in modules, newest terraform):
tenants fill a cell up to what its quotas allow and then go to the next; a plan
that would pass a quota is refused in one line, by onboard and by `plan`; two
onboards racing for a cell's last slot never both get it; onboards in two cells
never wait for each other; fleet commands and releases work per cell.

The environment records `alb_rules: 6` (a lower cap than AWS's 100, as an
operator may set one): a stand-in basic tenant has two listener rules, so a cell
holds three."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM, Stack, failpoint_log, make_stack

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
CELLS = ("c2", "c3", "c4", "c5")


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("cells"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    env_file = root / "terraform/envs/local/env.yaml"
    env_file.write_text(env_file.read_text() + "quotas:\n  alb_rules: 6\n")
    with moto_server(log=root / "moto.log") as url:
        s = make_stack(root, url, BINARIES[-1])
        s.saasctl("bootstrap")
        for name in CELLS:
            s.saasctl("cell", "add", name)
        s.saasctl("apply", "--shared-only", "--yes", "-p", "4")
        yield s


def cell_of(s: Stack, tenant: str) -> str:
    return str(json.loads(s.saasctl("tenant", "show", tenant, "--json").stdout)["config"]["cell"])


def cell_list(s: Stack) -> dict[str, dict[str, Any]]:
    rows = json.loads(s.saasctl("cell", "list", "--json").stdout)["cells"]
    return {r["cell"]: r for r in rows}


def one_line(proc: Any) -> str:
    lines = [ln for ln in proc.stderr.splitlines() if ln.startswith("error: ")]
    assert len(lines) == 1, proc.stderr
    return str(lines[0])


def test_tenants_fill_a_cell_then_the_next(cells: Stack) -> None:
    s = cells
    for i in range(1, 8):
        s.saasctl("tenant", "onboard", f"fill{i}", "--tier", "basic", "--yes")
    placed = {f"fill{i}": cell_of(s, f"fill{i}") for i in range(1, 8)}
    assert placed == {"fill1": "main", "fill2": "main", "fill3": "main", "fill4": "c2",
                      "fill5": "c2", "fill6": "c2", "fill7": "c3"}  # fmt: skip
    listed = cell_list(s)
    assert [listed[c]["tenants"]["basic"] for c in ("main", "c2", "c3")] == [3, 3, 1]
    assert [listed[c]["room"]["basic"]["tenants"] for c in ("main", "c2", "c3")] == [0, 0, 2]
    assert listed["main"]["room"]["basic"]["bound_by"].startswith("Rules per Application Load")
    # A tenant's spec says where it lives; the first cell's specs need not.
    assert "cell: c2" in (s.tenant_dir("fill4") / "tenant.yaml").read_text()
    assert "cell:" not in (s.tenant_dir("fill1") / "tenant.yaml").read_text()

    # A full cell asked for explicitly: the plan is refused in one line, nothing kept.
    claims = s.object_keys("local/priorities/")
    refused = s.saasctl("tenant", "onboard", "extra", "--tier", "basic", "--cell", "main",
                        "--yes", check=1)  # fmt: skip
    line = one_line(refused)
    assert re.search(
        r"quota: Rules per Application Load Balancer \(default rules apart\): 8 after this "
        r"plan in cell main \(cell main \(account 123456789012, us-east-1\)\), limit 6",
        line,
    ), line
    assert "add a cell (`saasctl cell add`)" in line and "request an increase" in line
    assert not s.tenant_dir("extra").exists() and s.object_keys("local/priorities/") == claims
    unknown = s.saasctl("tenant", "onboard", "extra", "--tier", "basic", "--cell", "nope",
                        check=3)  # fmt: skip
    assert "cell 'nope' not found in environment 'local'" in one_line(unknown)

    # The plan check refuses what a change of env.yaml would make pass the cap.
    env_file = s.root / "terraform/envs/local/env.yaml"
    original = env_file.read_text()
    extra = "  - name: admin\n    image: public.ecr.aws/nginx/nginx:1.27\n    port: 80\n"
    extra += "    path: /admin/*\n"
    env_file.write_text(original.replace("services:\n", "services:\n" + extra, 1))
    try:  # the pools get the service first (tenants' rules forward to its target group)
        s.saasctl("apply", "--shared-only", "--yes", "-p", "4")
        report = json.loads(s.saasctl("plan", "--json", check=1).stdout)
    finally:
        env_file.write_text(original)
        s.saasctl("apply", "--shared-only", "--yes", "-p", "4")
    results = {w["workspace"]: w for w in report["workspaces"]}
    refused_plans = {n for n, w in results.items() if (w["error"] or "").startswith("quota: ")}
    assert refused_plans == {f"fill{i}" for i in range(1, 7)}  # the full cells' tenants
    assert results["fill7"]["status"] == "changes"  # alone in c3: 2 + 3 rules fit
    assert "limit 6" in results["fill1"]["error"]


def test_two_onboards_race_for_a_cells_last_slot(
    cells: Stack, tmp_path: Path, cpu_hog: int
) -> None:
    """c3 holds fill7 and room for one more: both onboards read its ledger before
    either writes (a failpoint barrier), and exactly one commits there; the other
    is refused when it reads the ledger again, and goes on to c4."""
    s = cells
    s.saasctl("tenant", "onboard", "fill8", "--tier", "basic", "--cell", "c3", "--yes")
    log = tmp_path / "failpoints"
    env = {**s.env, "SAASCTL_FAILPOINTS": "usage-read=barrier:2", "SAASCTL_FAILPOINT_LOG": str(log)}
    runs = [s.popen_env(env, "tenant", "onboard", t, "--tier", "basic", "--yes")
            for t in ("race1", "race2")]  # fmt: skip
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    placed = sorted(cell_of(s, t) for t in ("race1", "race2"))
    assert placed == ["c3", "c4"]
    reads = [e for e in failpoint_log(log) if e["point"] == "usage-read" and e["cell"] == "c3"]
    # Both read c3's ledger and were about to write it before either did (the
    # barrier): only the conditional write decided, and the loser was refused.
    assert len({e["pid"] for e in reads if e["attempt"] == 0}) == 2
    assert cell_list(s)["c3"]["tenants"]["basic"] == 3


def test_onboards_in_two_cells_do_not_wait_for_each_other(cells: Stack, tmp_path: Path) -> None:
    """Dedicated tenants converge their cell's shared workspace under its lock.
    Each run waits, inside its cell's lock, for the other to be inside its own:
    with one lock for both they could not both be inside before either applied."""
    s = cells
    log = tmp_path / "failpoints"
    env = {**s.env, "SAASCTL_FAILPOINTS": "shared-locked=barrier:2",
           "SAASCTL_FAILPOINT_LOG": str(log)}  # fmt: skip
    runs = [s.popen_env(env, "tenant", "onboard", t, "--tier", "advanced", "--cell", c, "--yes")
            for t, c in (("dedi4", "c4"), ("dedi5", "c5"))]  # fmt: skip
    for run in runs:
        _, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
        assert "waiting for" not in err
    events = [(e["point"], e.get("cell")) for e in failpoint_log(log)]
    locked = [i for i, (p, _) in enumerate(events) if p == "shared-locked"]
    applied = [i for i, (p, _) in enumerate(events) if p == "applied"]
    assert {events[i][1] for i in locked} == {"c4", "c5"}
    assert max(locked) < min(applied), events


def test_fleet_commands_and_releases_per_cell(cells: Stack) -> None:
    s = cells
    report = json.loads(s.saasctl("plan", "--cell", "c2", "--json").stdout)
    assert sorted(w["workspace"] for w in report["workspaces"]) == [
        "fill4", "fill5", "fill6", "shared@c2"]  # fmt: skip
    shared = json.loads(s.saasctl("plan", "--shared-only", "--json").stdout)
    assert sorted(w["workspace"] for w in shared["workspaces"]) == [
        "shared", *(f"shared@{c}" for c in CELLS)]  # fmt: skip
    s.saasctl("release", "create", "2.0.0", "--image", "web=registry.example.com/web:2.0.0",
              "--image", "api=registry.example.com/api:2.0.0")  # fmt: skip
    listed = json.loads(s.saasctl("release", "list", "--json").stdout)["releases"]
    units = next(r["units"] for r in listed if r["version"] is None)
    assert {"pool", *(f"pool@{c}" for c in CELLS)} <= set(units)

    # A release per cell: only c2's pool and tenants move; the rest are skipped,
    # saying why, for a later rollout of the same version.
    planned = json.loads(
        s.saasctl("release", "plan", "2.0.0", "--cell", "c2", "--json", check=2).stdout
    )["units"]
    moving = {label for label, u in planned.items() if u["state"] == "pending"}
    assert "pool@c2" in moving and {planned[label]["cell"] for label in moving} == {"c2"}
    elsewhere = {label: u for label, u in planned.items() if u["cell"] != "c2"}
    assert elsewhere and all(
        (u["state"], u["detail"]) == ("skipped", f"in cell {u['cell']}, not selected (--cell)")
        for u in elsewhere.values()
    ), elsewhere
    done = json.loads(s.saasctl("release", "rollout", "2.0.0", "--cell", "c2", "--yes", "--json",
                                timeout=900).stdout)  # fmt: skip
    assert done["state"] == "completed", done
    assert {label for label, u in done["units"].items() if u["to"] == "2.0.0"} == moving
    listed = json.loads(s.saasctl("release", "list", "--json").stdout)["releases"]
    assert set(next(r["units"] for r in listed if r["version"] == "2.0.0")) == moving
    unknown = s.saasctl("release", "plan", "2.0.0", "--cell", "nowhere", check=3)
    assert "cell 'nowhere' not found" in one_line(unknown)

"""Crash and resume: saasctl killed (SIGKILL) or interrupted (SIGINT) at seeded
points of onboard, set-tier and offboard; re-running the same command must reach
the intended end state with no orphaned state object, no duplicate tenant or
priority, no leaked lock or priority claim, and no lost archive.

Points are named failpoints (SAASCTL_FAILPOINTS) plus seeded wall-clock delays
(a signal at a random moment, e.g. while terraform applies). The scenario list
comes from one seed, so a failure names a scenario that replays exactly.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, Stack, make_stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not BINARIES, reason="no terraform binary (run `make setup`)"),
]
SEED = int(os.environ.get("SAASCTL_CRASH_SEED", "20261123"))
TIERS = ("basic", "advanced", "premium")
POINTS = {
    "onboard": ["onboard-locked", "priority-allocated", "onboard-written", "planned", "applied"],
    "set-tier": ["set-tier-locked", "set-tier-written", "planned", "applied"],
    "offboard": ["offboard-locked", "offboard-archived", "offboard-destroyed",
                 "offboard-state-deleted", "offboard-unclaimed"],
}  # fmt: skip


@dataclass
class Scenario:
    command: str
    tenant: str
    tier: str | None
    point: str | None  # a failpoint, or None for a signal after `delay` seconds
    how: str  # "kill" or "interrupt"
    delay: float = 0.0

    def __str__(self) -> str:
        where = self.point or f"t+{self.delay:.2f}s"
        return f"{self.command} {self.tenant} {self.tier or ''} {self.how}@{where}"


def scenarios(seed: int) -> list[Scenario]:
    rng = random.Random(seed)
    out: list[Scenario] = []
    tenants: dict[str, str] = {}
    n = 0

    def new_tenant() -> str:
        nonlocal n
        n += 1
        return f"crash{n:02d}"

    for point in POINTS["onboard"]:
        for how in ("kill", "interrupt"):
            t, tier = new_tenant(), rng.choice(TIERS)
            tenants[t] = tier
            out.append(Scenario("onboard", t, tier, point, how))
    for how in ("kill", "kill", "interrupt"):
        t, tier = new_tenant(), rng.choice(TIERS)
        tenants[t] = tier
        out.append(Scenario("onboard", t, tier, None, how, round(rng.uniform(0.4, 2.0), 2)))
    movable = sorted(tenants)
    rng.shuffle(movable)
    for point in [*POINTS["set-tier"], None]:
        t = movable.pop()
        tier = rng.choice([x for x in TIERS if x != tenants[t]])
        tenants[t] = tier
        delay = round(rng.uniform(0.4, 2.0), 2) if point is None else 0.0
        out.append(Scenario("set-tier", t, tier, point, rng.choice(("kill", "interrupt")), delay))
    leaving = sorted(tenants)
    rng.shuffle(leaving)
    for point in [*POINTS["offboard"], None]:
        t = leaving.pop()
        delay = round(rng.uniform(0.4, 2.0), 2) if point is None else 0.0
        out.append(Scenario("offboard", t, None, point, rng.choice(("kill", "interrupt")), delay))
    return out


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("crash"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url:
        stack = make_stack(root, url, BINARIES[-1])
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes")
        yield stack


def _args(sc: Scenario) -> list[str]:
    args = ["tenant", sc.command, sc.tenant, "--yes"]
    return args + (["--tier", sc.tier] if sc.tier else [])


def _crash(s: Stack, sc: Scenario) -> int:
    env = dict(s.env)
    if sc.point:
        env["SAASCTL_FAILPOINTS"] = f"{sc.point}={sc.how}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "saasctl", *_args(sc)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    if sc.point is None:
        time.sleep(sc.delay)
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL if sc.how == "kill" else signal.SIGINT)
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, (str(sc), err)
    return proc.returncode


def _check(s: Stack, expected: dict[str, str], archives_before: int) -> int:
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: t["tier"] for t in listing} == expected
    assert all(t["status"] == "applied" for t in listing), listing
    priorities = [t["listener_priority"] for t in listing]
    assert len(priorities) == len(set(priorities)), priorities
    keys = s.object_keys("local/")
    states = {
        k.split("/")[2] for k in keys if k.endswith("/terraform.tfstate") and "/tenants/" in k
    }
    assert states == set(expected), f"orphaned or missing state objects: {states ^ set(expected)}"
    assert not [k for k in keys if k.endswith("saasctl.lock")], "a lock was left behind"
    claims = {int(k.rsplit("/", 1)[1].split(".")[0]) for k in keys if "/priorities/" in k}
    assert claims == set(priorities), f"claims {claims} vs priorities {priorities}"
    dirs = {p.name for p in (s.root / "terraform/envs/local/tenants").iterdir()}
    assert dirs == set(expected), f"tenant directories: {dirs}"
    archives = len(s.object_keys("archive/"))
    assert archives >= archives_before, "an archive was lost"
    return archives


def test_scenarios_are_many_and_reproducible() -> None:
    assert len(scenarios(SEED)) >= 20
    assert [str(x) for x in scenarios(SEED)] == [str(x) for x in scenarios(SEED)]


def test_crash_and_resume(crash_stack: Stack) -> None:
    s = crash_stack
    expected: dict[str, str] = {}
    archives = 0
    log = []
    for sc in scenarios(SEED):
        code = _crash(s, sc)
        steps = s.converge(sc.tenant, *_args(sc))
        if sc.command == "offboard":
            expected.pop(sc.tenant)
            assert any(k.startswith(f"archive/local/tenants/{sc.tenant}/")
                       for k in s.object_keys("archive/")), f"{sc}: no archive"  # fmt: skip
        else:
            assert sc.tier is not None
            expected[sc.tenant] = sc.tier
        archives = _check(s, expected, archives)
        log.append(f"{sc} -> exit {code}, {', '.join(steps)}")
    print("\n".join(log))  # the run's record (pytest -s shows it)
    assert len(log) >= 20

"""Crash and resume: saasctl killed (SIGKILL) or interrupted (SIGINT) at seeded
points of onboard, set-tier and offboard; re-running the same command must reach
the intended end state with no orphaned state object, no duplicate tenant or
priority, no leaked lock or priority claim, and no lost archive.

Points are named failpoints (SAASCTL_FAILPOINTS; an `interrupt` failpoint raises
KeyboardInterrupt inside saasctl) and real signals while a seeded terraform
command runs: that terraform is stopped (SIGSTOP) before the signal goes out and
continued after, so the signal always lands while it works. `sigint` is Ctrl-C:
SIGINT to saasctl's process group. `kill` is SIGKILL of saasctl alone (terraform
runs on, orphaned), `kill-tree` of everything the run started (a cancelled CI
job). Every scenario must really die where it was meant to: its exit code and
the failpoint log say so, and the test counts them. Whatever a run started is
ended afterwards and checked gone. The scenario list comes from one seed, so a
failure names a scenario that replays exactly.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, RUN_MARKER, copy_project, processes_with
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM, Stack, failpoint_log, make_stack

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
SEED = int(os.environ.get("SAASCTL_CRASH_SEED", "20261123"))
TIERS = ("basic", "advanced", "premium")
# Only a dedicated tenant's onboard or offboard converges its cell's shared
# workspace (its host in its tier's rate rule): the shared-locked point's tenants.
DEDICATED = ("advanced", "premium")
POINTS = {
    "onboard": ["onboard-locked", "priority-allocated", "onboard-written", "shared-locked",
                "planned", "applied"],
    "set-tier": ["set-tier-locked", "set-tier-written", "shared-locked", "planned", "applied"],
    "offboard": ["offboard-locked", "offboard-exported", "offboard-purged", "offboard-archived",
                 "offboard-destroyed", "offboard-state-deleted", "offboard-unclaimed",
                 "shared-locked"],
}  # fmt: skip
SIGNALS = ("sigint", "kill", "kill-tree")
EXPECTED_EXIT = {"kill": -9, "kill-tree": -9, "interrupt": 130, "sigint": 130}


@dataclass
class Scenario:
    command: str
    tenant: str
    tier: str | None
    point: str | None  # a failpoint, or None for a signal while terraform runs `step`
    how: str  # kill | interrupt (failpoints); sigint | kill | kill-tree (signals)
    step: str = ""  # the terraform subcommand to signal in: plan | apply

    def __str__(self) -> str:
        where = self.point or f"terraform {self.step}"
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
            t, tier = new_tenant(), rng.choice(DEDICATED if point == "shared-locked" else TIERS)
            tenants[t] = tier
            out.append(Scenario("onboard", t, tier, point, how))
    for how in SIGNALS:
        for step in ("plan", "apply"):
            t, tier = new_tenant(), rng.choice(TIERS)
            tenants[t] = tier
            out.append(Scenario("onboard", t, tier, None, how, step))
    movable = sorted(tenants)
    rng.shuffle(movable)
    for point in [*POINTS["set-tier"], None, None]:
        t = movable.pop()
        tier = rng.choice([x for x in TIERS if x != tenants[t]])
        tenants[t] = tier
        if point is None:
            how, step = rng.choice(SIGNALS), rng.choice(("plan", "apply"))
            out.append(Scenario("set-tier", t, tier, None, how, step))
        else:
            out.append(Scenario("set-tier", t, tier, point, rng.choice(("kill", "interrupt"))))
    leaving = sorted(tenants)
    rng.shuffle(leaving)
    for point in [*POINTS["offboard"], None, None]:
        t = leaving.pop()
        if point == "shared-locked" and tenants[t] == "basic":  # swap for a dedicated one
            other = next(x for x in leaving if tenants[x] != "basic")
            leaving[leaving.index(other)] = t
            t = other
        if point is None:
            how, step = rng.choice(SIGNALS), rng.choice(("plan", "apply"))
            out.append(Scenario("offboard", t, None, None, how, step))
        else:
            out.append(Scenario("offboard", t, None, point, rng.choice(("kill", "interrupt"))))
    return out


@pytest.fixture(scope="module")
def crash_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("crash"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url:
        # Killed runs leave terraform's state locks: the next run need not wait 30 s for them.
        stack = make_stack(root, url, BINARIES[-1], SAASCTL_LOCK_TIMEOUT="2s")
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes")
        yield stack


def _args(sc: Scenario) -> list[str]:
    args = ["tenant", sc.command, sc.tenant, "--yes"]
    return args + (["--tier", sc.tier] if sc.tier else [])


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            tree.setdefault(ppid, []).append(int(entry))
    return tree


def _terraform_running(root: int, step: str) -> int | None:
    """A terraform process below ``root`` running ``step`` (e.g. apply), if any."""
    tree, todo = _children(), [root]
    while todo:
        pid = todo.pop()
        for child in tree.get(pid, []):
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if argv and argv[0].endswith(b"terraform") and step.encode() in argv[1:3]:
                return child
            todo.append(child)
    return None


def _signal_during(proc: subprocess.Popen[str], sc: Scenario) -> None:
    deadline = time.monotonic() + 300
    while (tf := _terraform_running(proc.pid, sc.step)) is None:
        assert proc.poll() is None, f"{sc}: saasctl ended before terraform {sc.step} ran"
        assert time.monotonic() < deadline, f"{sc}: terraform {sc.step} never ran"
        time.sleep(0.01)
    os.kill(tf, signal.SIGSTOP)  # hold it mid-command: the signal cannot come too late
    try:
        if sc.how == "sigint":
            os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C: the terminal's process group
        elif sc.how == "kill":
            proc.kill()
        else:  # kill-tree: everything this run started
            for pid in processes_with(RUN_MARKER, sc_marker(sc)):
                os.kill(pid, signal.SIGKILL)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(tf, signal.SIGCONT)


def sc_marker(sc: Scenario) -> str:
    return f"crash-{sc.tenant}-{sc.command}"


def _crash(s: Stack, sc: Scenario, log: Path) -> tuple[int, int]:
    """Run the scenario; (exit code, processes of the run left to end)."""
    env = {**s.env, "SAASCTL_FAILPOINT_LOG": str(log), RUN_MARKER: sc_marker(sc)}
    if sc.point:
        env["SAASCTL_FAILPOINTS"] = f"{sc.point}={sc.how}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "saasctl", *_args(sc)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, as in a terminal
        # A run started in the background inherits SIGINT ignored (POSIX shells do
        # that to background jobs, and CI may start us so): give saasctl Ctrl-C back.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    if sc.point is None:
        _signal_during(proc, sc)
    _, err = proc.communicate(timeout=300)
    assert "Traceback" not in err, (str(sc), err)
    return proc.returncode, _end_what_it_started(sc)


def _end_what_it_started(sc: Scenario) -> int:
    """Let orphans of the run (terraform, its plugins) finish on their own for a
    moment, then end them; nothing of the run may be left."""
    deadline = time.monotonic() + 3
    while processes_with(RUN_MARKER, sc_marker(sc)) and time.monotonic() < deadline:
        time.sleep(0.2)
    left = processes_with(RUN_MARKER, sc_marker(sc))
    for pid in left:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while processes_with(RUN_MARKER, sc_marker(sc)):
        assert time.monotonic() < deadline, f"{sc}: processes of the run survive SIGKILL"
        time.sleep(0.1)
    return len(left)


def _died_where_meant(sc: Scenario, code: int, log: Path, pids_before: set[int]) -> None:
    assert code == EXPECTED_EXIT[sc.how], f"{sc}: exit {code}, not a crash"
    if sc.point:
        reached = [e for e in failpoint_log(log) if e["pid"] not in pids_before]
        assert reached and reached[-1]["point"] == sc.point, f"{sc}: died after {reached[-1:]}"


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


def test_crash_and_resume(crash_stack: Stack, tmp_path: Path) -> None:
    s = crash_stack
    expected: dict[str, str] = {}
    archives = 0
    log: list[str] = []
    crashed = lingered = 0
    points = tmp_path / "points.jsonl"
    plan = scenarios(SEED)
    for sc in plan:
        pids_before = {e["pid"] for e in failpoint_log(points)}
        code, left = _crash(s, sc, points)
        _died_where_meant(sc, code, points, pids_before)
        crashed += 1
        lingered += left
        steps = s.converge(sc.tenant, *_args(sc))
        if sc.command == "offboard":
            expected.pop(sc.tenant)
            assert any(k.startswith(f"archive/local/tenants/{sc.tenant}/")
                       for k in s.object_keys("archive/")), f"{sc}: no archive"  # fmt: skip
        else:
            assert sc.tier is not None
            expected[sc.tenant] = sc.tier
        archives = _check(s, expected, archives)
        log.append(f"{sc} -> exit {code}, {left} left to end, {', '.join(steps)}")
    print("\n".join(log))  # the run's record (pytest -s shows it)
    print(f"{crashed} of {len(plan)} scenarios crashed where meant; {lingered} orphans ended")
    assert crashed == len(plan) >= 30

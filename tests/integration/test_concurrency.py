"""Runs on different tenants at once, on a machine whose cores are all busy.

Each run converges the shared workspace under saasctl's operation lock on it
(a conditional put in the state bucket), waiting for a live holder, so every
run succeeds whatever the timing. Races are made certain with failpoint
barriers rather than likely with pauses. SAASCTL_CONCURRENCY_ROUNDS (default
1) repeats the rounds; docs/reliability.md gives the figures of 20.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.conftest import NEEDS_TERRAFORM, Stack, failpoint_log

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
ROUNDS = int(os.environ.get("SAASCTL_CONCURRENCY_ROUNDS", "1"))
TIERS = ("basic", "advanced", "premium")
BUCKET = "saasctl-local-tfstate"


def run_all(
    s: Stack, commands: list[tuple[str, ...]], env: dict[str, str]
) -> list[tuple[int, str]]:
    procs = [s.popen_env(env, *args) for args in commands]
    out = []
    for proc in procs:
        _, err = proc.communicate(timeout=900)
        assert "Traceback" not in err, err
        out.append((proc.returncode, err))
    return out


def assert_all_succeeded(commands: list[tuple[str, ...]], results: list[tuple[int, str]]) -> None:
    """Every run exited 0; else each failed run's command, exit code and whole stderr
    (an assertion's repr would cut the error line)."""
    failed = [
        f"$ saasctl {' '.join(args)} -> exit {code}\n{err}"
        for args, (code, err) in zip(commands, results, strict=True)
        if code != 0
    ]
    assert not failed, "\n".join(failed)


def listed_hosts(s: Stack) -> set[str]:
    """Tenants whose host the shared workspace's web ACL lists (its dedicated tiers'
    rate rules); a basic tenant is in the pool's rule, which lists no host."""
    state = json.loads(
        s.s3.get_object(Bucket=BUCKET, Key="local/shared/terraform.tfstate")["Body"].read()
    )
    acl = next(r for r in state["resources"] if r["name"] == "web_acl")
    hosts = acl["instances"][0]["attributes"]["triggers"]["hosts"]
    return {h.split(".", 1)[0] for h in hosts.split(",") if h}


def check_converged(s: Stack, expected: dict[str, str]) -> None:
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: t["tier"] for t in listing} == expected
    assert all(t["status"] == "applied" for t in listing), listing
    priorities = [t["listener_priority"] for t in listing]
    assert len(set(priorities)) == len(priorities), priorities
    keys = s.object_keys("local/")
    claims = {int(k.rsplit("/", 1)[1].split(".")[0]) for k in keys if "/priorities/" in k}
    assert claims == set(priorities)
    assert not [k for k in keys if k.endswith("saasctl.lock")], "a lock was left behind"
    dedicated = {t for t, tier in expected.items() if tier != "basic"}
    assert listed_hosts(s) == dedicated, "the shared workspace lost or kept a tenant's host"
    plans = list((s.root / "terraform/envs/local").rglob("*.tfplan"))
    assert not plans, f"plan files left behind: {plans}"
    assert s.saasctl("plan", check=None).returncode == 0  # nothing pending anywhere


def live_tenants(s: Stack) -> dict[str, str]:
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    return {t["id"]: t["tier"] for t in listing}


# The claim race and saasctl's lock on the shared workspace: no terraform path (the
# shared workspace's backend lock is never contended under saasctl's; the test
# below runs on every binary, with destroys and state moves).
@pytest.mark.newest_terraform
def test_three_onboards_collide_on_a_block_and_all_succeed(
    stack: Stack, cpu_hog: int, tmp_path: Path
) -> None:
    s = stack
    expected = live_tenants(s)
    figures = []
    for r in range(ROUNDS):
        log = tmp_path / f"round{r}.jsonl"
        # All three wait at the barrier after choosing a block, before claiming it:
        # they choose the same one, and only the bucket's conditional claim decides.
        env = {
            **s.env,
            "SAASCTL_FAILPOINTS": "priority-allocated=barrier:3",
            "SAASCTL_FAILPOINT_LOG": str(log),
        }
        names = [f"tri{r}{x}" for x in "abc"]
        started = time.monotonic()
        onboards = [
            ("tenant", "onboard", n, "--tier", t, "--yes")
            for n, t in zip(names, TIERS, strict=True)
        ]
        results = run_all(s, onboards, env)
        assert_all_succeeded(onboards, results)
        first: dict[int, int] = {}
        for e in failpoint_log(log):
            if e["point"] == "priority-allocated":
                first.setdefault(e["pid"], e["start"])
        assert len(first) == 3
        assert max(Counter(first.values()).values()) >= 2, f"no collision: {first}"
        expected.update(zip(names, TIERS, strict=True))
        check_converged(s, expected)
        waited = sum("waiting for the shared workspace" in err for _, err in results)
        offboards = [("tenant", "offboard", n, "--yes") for n in names]
        results = run_all(s, offboards, s.env)
        assert_all_succeeded(offboards, results)
        for n in names:
            expected.pop(n)
        check_converged(s, expected)
        figures.append(f"round {r}: {time.monotonic() - started:.1f}s, {waited} onboards waited")
    print("\n".join(figures))


def test_onboard_offboard_and_set_tier_at_once(stack: Stack, cpu_hog: int) -> None:
    s = stack
    present = {"mixa": "basic", "mixb": "advanced"}
    for tenant, tier in present.items():
        s.saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes")
    absent = "mixc"
    expected = live_tenants(s)
    figures = []
    for r in range(ROUNDS):
        leaving, moving = sorted(present)[r % 2], sorted(present)[(r + 1) % 2]
        new_tier = TIERS[(TIERS.index(present[moving]) + 1) % 3]
        joining_tier = TIERS[r % 3]
        started = time.monotonic()
        commands = [
            ("tenant", "onboard", absent, "--tier", joining_tier, "--yes"),
            ("tenant", "offboard", leaving, "--yes"),
            ("tenant", "set-tier", moving, "--tier", new_tier, "--yes"),
        ]
        results = run_all(s, commands, s.env)
        assert_all_succeeded(commands, results)
        del present[leaving], expected[leaving]
        present[moving] = expected[moving] = new_tier
        present[absent] = expected[absent] = joining_tier
        absent = leaving
        check_converged(s, expected)
        waited = sum("waiting for the shared workspace" in err for _, err in results)
        figures.append(f"round {r}: {time.monotonic() - started:.1f}s, {waited} runs waited")
    print("\n".join(figures))
    for tenant in present:
        s.saasctl("tenant", "offboard", tenant, "--yes")


def _wait_for_point(log: Path, point: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not any(e["point"] == point for e in failpoint_log(log)):
        assert time.monotonic() < deadline, f"no run reached {point}"
        time.sleep(0.1)


@pytest.mark.newest_terraform  # saasctl's lock and the emulator: no terraform path
def test_a_live_holder_is_waited_for_and_reported(stack: Stack, tmp_path: Path) -> None:
    s = stack
    log = tmp_path / "points.jsonl"
    base = {**s.env, "SAASCTL_FAILPOINT_LOG": str(log)}
    # The holder keeps the shared lock until both others have found it busy (each a
    # dedicated tenant, whose host goes into the shared workspace's rate rules).
    holder = s.popen_env(
        {**base, "SAASCTL_FAILPOINTS": "shared-locked=await:shared-lock-busy:2"},
        "tenant", "onboard", "holda", "--tier", "advanced", "--yes",
    )  # fmt: skip
    _wait_for_point(log, "shared-locked")
    impatient = s.popen_env(
        {**base, "SAASCTL_SHARED_LOCK_WAIT": "0s"},
        "tenant", "onboard", "quickb", "--tier", "premium", "--yes",
    )  # fmt: skip
    patient = s.popen_env(base, "tenant", "onboard", "patientc", "--tier", "advanced", "--yes")
    codes, errs = {}, {}
    for name, proc in (("holder", holder), ("impatient", impatient), ("patient", patient)):
        _, errs[name] = proc.communicate(timeout=900)
        codes[name] = proc.returncode
    assert codes == {"holder": 0, "impatient": 4, "patient": 0}, errs
    assert "the shared workspace is locked by" in errs["impatient"]
    assert "waited 0s" in errs["impatient"] and "a run that died (" not in errs["impatient"]
    assert "onboarding quickb failed before anything was created" in errs["impatient"]
    assert "`saasctl unlock shared --env local`" in errs["impatient"]
    assert "waiting for the shared workspace" in errs["patient"]
    assert "shared workspace free after" in errs["patient"]
    # the refused onboard left nothing: no files, no claim, no state
    assert not s.tenant_dir("quickb").exists()
    check_converged(s, {**live_tenants(s)})
    assert "quickb" not in live_tenants(s)
    for tenant in ("holda", "patientc"):
        s.saasctl("tenant", "offboard", tenant, "--yes")


@pytest.mark.newest_terraform  # saasctl's listing of the specs: no terraform path
def test_runs_beside_an_offboard_removing_its_directory_do_not_see_it(
    stack: Stack, tmp_path: Path
) -> None:
    # Found under load: an onboard listed the tenants while an offboard beside it
    # was removing its directory (renamed to a dot-name first), took that name
    # for a tenant id and exited 3. The offboard now waits there until told.
    s = stack
    s.saasctl("tenant", "onboard", "goner", "--tier", "basic", "--yes")
    log = tmp_path / "points.jsonl"
    point = "offboard-dir-renamed"
    paused = {"SAASCTL_FAILPOINT_LOG": str(log), "SAASCTL_FAILPOINTS": f"{point}=await:go:1"}
    leaving = s.popen_env({**s.env, **paused}, "tenant", "offboard", "goner", "--yes")
    _wait_for_point(log, point)
    try:
        trash = [e["path"] for e in failpoint_log(log) if e["point"] == point]
        assert Path(trash[0]).name.startswith(".removed-goner-"), trash
        assert (Path(trash[0]) / "tenant.yaml").is_file()  # what the listing used to trip on
        listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)
        assert "goner" not in str(listed), listed
        s.saasctl("tenant", "onboard", "newer", "--tier", "basic", "--yes")
    finally:
        with log.open("a") as fh:
            fh.write(json.dumps({"point": "go", "pid": 0}) + "\n")
        _, err = leaving.communicate(timeout=600)
    assert leaving.returncode == 0, err
    assert not Path(trash[0]).exists()
    check_converged(s, live_tenants(s))
    s.saasctl("tenant", "offboard", "newer", "--yes")


@pytest.mark.newest_terraform  # saasctl's lock and the emulator: no terraform path
def test_a_killed_holder_of_the_shared_lock_is_named_with_its_unlock_command(
    stack: Stack,
) -> None:
    s = stack
    killed = s.saasctl_env(
        {**s.env, "SAASCTL_FAILPOINTS": "shared-locked=kill"},
        "tenant", "onboard", "deadx", "--tier", "premium", "--yes",
    )  # fmt: skip
    assert killed.returncode == -9
    assert s.object_keys("local/shared/saasctl.lock")
    other = s.saasctl("tenant", "onboard", "alivey", "--tier", "advanced", "--yes", check=4)
    assert "the shared workspace is locked by" in other.stderr
    assert "a run that died (process" in other.stderr
    assert "`saasctl unlock shared --env local` removes its lock" in other.stderr
    # A basic tenant changes nothing in the shared workspace: it does not need the lock.
    s.saasctl("tenant", "onboard", "basicw", "--tier", "basic", "--yes")
    s.saasctl("unlock", "shared", check=5)  # shows the holder, asks
    s.saasctl("unlock", "shared", "--yes")
    s.saasctl("tenant", "onboard", "alivey", "--tier", "advanced", "--yes")
    steps = s.converge("deadx", "tenant", "onboard", "deadx", "--tier", "premium", "--yes")
    assert steps == ["rerun=4", "unlocked", "rerun=0"], steps  # its own tenant lock
    check_converged(s, live_tenants(s))
    for tenant in ("deadx", "alivey", "basicw"):
        s.saasctl("tenant", "offboard", tenant, "--yes")


def test_a_stale_saved_plan_is_planned_again(stack: Stack, tmp_path: Path) -> None:
    s = stack
    s.saasctl("tenant", "onboard", "stalez", "--tier", "advanced", "--yes")
    spec = s.tenant_dir("stalez") / "tenant.yaml"
    spec.write_text(spec.read_text() + "tags: {Team: z}\n")
    log = tmp_path / "points.jsonl"
    # The onboard plans, then waits until the test says go: meanwhile another run
    # applies the same workspace, so the onboard's saved plan is stale.
    converging = s.popen_env(
        {**s.env, "SAASCTL_FAILPOINT_LOG": str(log), "SAASCTL_FAILPOINTS": "planned=await:go:1"},
        "tenant", "onboard", "stalez", "--tier", "advanced", "--yes",
    )  # fmt: skip
    _wait_for_point(log, "planned")
    s.saasctl("apply", "--tenant", "stalez", "--yes")
    with log.open("a") as fh:
        fh.write(json.dumps({"point": "go", "pid": 0}) + "\n")
    _, err = converging.communicate(timeout=600)
    assert converging.returncode == 0, err
    assert "stalez: the saved plan is stale (another run applied); planning again" in err
    assert "stalez: no changes" in err
    check_converged(s, live_tenants(s))
    s.saasctl("tenant", "offboard", "stalez", "--yes")


@pytest.mark.newest_terraform  # saasctl's lock and the emulator: no terraform path
def test_the_emulator_makes_conditional_writes_atomic(stack: Stack) -> None:
    """saasctl's locks rely on S3 conditional writes being atomic, as in AWS; moto
    checks and then writes, so saasctl's emulator serves one request at a time.
    Many writers race for each of 30 keys: exactly one wins each."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from botocore.exceptions import ClientError

    clients = [stack.s3 for _ in range(12)]
    start = threading.Barrier(len(clients))

    def race(i: int, key: str) -> bool:
        start.wait()
        try:
            clients[i].put_object(Bucket="saasctl-local-tfstate", Key=key, Body=str(i).encode(),
                                  IfNoneMatch="*")  # fmt: skip
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "PreconditionFailed":
                raise
            return False
        return True

    winners = []
    with ThreadPoolExecutor(len(clients)) as pool:
        for n in range(30):
            key = f"local/test-atomic/{n}"
            winners.append(sum(pool.map(lambda i, k=key: race(i, k), range(len(clients)))))
            start.reset()
    assert winners == [1] * 30

"""Transient backend faults through a fault-injecting proxy in front of moto:
throttling and dropped connections are retried a bounded number of times; an
unreachable backend gives one clear line and leaves nothing half-done.

Whose retries: saasctl's own S3 calls go through botocore (standard retry mode,
`max_attempts` 5 retries after the first try, exponential backoff with jitter
capped at 20 s: saasctl/aws.py);
terraform's S3 backend retries with the AWS Go SDK's retryer (its own
`max_retries`). The proxy records whose request each fault hit, and each test
asserts which retried. Time bounds are worst cases of those policies plus a
margin for a busy 2-core machine, not figures from an idle one.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM, Stack, failpoint_log, make_stack
from tests.integration.faultproxy import FaultProxy

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, FaultProxy]]:
    root = copy_project(
        tmp_path_factory.mktemp("faults"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url, FaultProxy(url) as proxy:
        stack = make_stack(root, proxy.url, BINARIES[-1])
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes")
        yield stack, proxy


def test_throttling_burst_is_retried_by_botocore(faulty: tuple[Stack, FaultProxy]) -> None:
    s, proxy = faulty
    before = len(proxy.faults)
    proxy.fail_next(3)  # 503 SlowDown: the first try and 2 retries fail, the 3rd retry succeeds
    started = time.monotonic()
    s.saasctl("tenant", "list", "--json")
    took = time.monotonic() - started
    assert proxy.faults[before:] == [("botocore", "error")] * 3
    # backoff of attempts 1-3 is at most 1 + 2 + 4 s (jitter below that), plus start-up
    assert took < 7 + 20, f"took {took:.1f}s"


def test_dropped_connections_during_onboard_are_retried(faulty: tuple[Stack, FaultProxy]) -> None:
    s, proxy = faulty
    before = len(proxy.faults)
    proxy.reset_next(2)
    proxy.fail_next(2)
    s.saasctl("tenant", "onboard", "flaky", "--tier", "basic", "--yes", timeout=600)
    hit = proxy.faults[before:]
    assert len(hit) == 4
    assert {client for client, _ in hit} <= {"botocore", "terraform"}
    print(f"faults during onboard, retried by: {hit}")
    listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert [t["status"] for t in listed if t["id"] == "flaky"] == ["applied"]


def test_unreachable_backend_is_one_clear_line_and_nothing_is_written(
    faulty: tuple[Stack, FaultProxy],
) -> None:
    s, proxy = faulty
    claims_before = s.object_keys("local/priorities/")
    before = len(proxy.faults)
    proxy.down = True
    try:
        started = time.monotonic()
        proc = s.saasctl("tenant", "onboard", "nimbus", "--tier", "advanced", "--yes", check=1)
        took = time.monotonic() - started
    finally:
        proxy.down = False
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "cannot reach the state backend" in lines[0] and proxy.url in lines[0]
    # saasctl's first call (the bucket check) fails: botocore's first try and its
    # 5 retries (max_attempts counts retries), and no terraform ran
    dropped = proxy.faults[before:]
    assert dropped == [("botocore", "reset")] * 6, dropped
    # 5 backoffs of at most 1, 2, 4, 8, 16 s, plus start-up on a busy machine
    assert took < 31 + 20, f"retries are bounded, took {took:.0f}s"
    print(f"backend down: exit 1 after {took:.1f}s: {lines[0]}")
    assert not s.tenant_dir("nimbus").exists()
    assert s.object_keys("local/priorities/") == claims_before
    assert s.object_keys("local/tenants/nimbus/") == []
    # Back up: the same command works.
    s.saasctl("tenant", "onboard", "nimbus", "--tier", "advanced", "--yes")


def test_backend_lost_between_plan_and_apply(
    faulty: tuple[Stack, FaultProxy], tmp_path: Path
) -> None:
    """The backend goes away after the plan (and the usage commit): apply fails with a
    clear error, and the same command converges once it is back."""
    s, proxy = faulty
    log = tmp_path / "points.jsonl"
    env = {**s.env, "SAASCTL_FAILPOINT_LOG": str(log), "SAASCTL_FAILPOINTS": "committed=await:go:1"}
    proc = s.popen_env(env, "tenant", "onboard", "gale", "--tier", "basic", "--yes")
    deadline = time.monotonic() + 300
    while not any(e["point"] == "committed" for e in failpoint_log(log)):
        assert proc.poll() is None and time.monotonic() < deadline, "never planned"
        time.sleep(0.1)
    before = len(proxy.faults)
    proxy.down = True  # planned; the backend goes away before the apply
    with log.open("a") as fh:
        fh.write(json.dumps({"point": "go", "pid": 0}) + "\n")
    try:
        started = time.monotonic()
        _, err = proc.communicate(timeout=300)
        took = time.monotonic() - started
        code = proc.returncode
    finally:
        proxy.down = False
    assert code == 1, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: "), err
    clients = Counter(client for client, _ in proxy.faults[before:])
    assert clients["terraform"] >= 2, clients  # terraform's S3 backend retried
    # the Go SDK's retries of the apply's state reads and writes: bounded, not hanging
    assert took < 120, f"took {took:.0f}s"
    print(f"apply with the backend gone failed after {took:.1f}s ({dict(clients)}): "
          f"{err.strip().splitlines()[-1]}")  # fmt: skip
    s.converge("gale", "tenant", "onboard", "gale", "--tier", "basic", "--yes")
    listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert [t["status"] for t in listed if t["id"] == "gale"] == ["applied"]

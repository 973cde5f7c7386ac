"""Transient backend faults through a fault-injecting proxy in front of moto:
throttling and dropped connections are retried a bounded number of times; an
unreachable backend gives one clear line and leaves nothing half-done."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, Stack, make_stack
from tests.integration.faultproxy import FaultProxy

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not BINARIES, reason="no terraform binary (run `make setup`)"),
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


def test_throttling_burst_is_retried(faulty: tuple[Stack, FaultProxy]) -> None:
    s, proxy = faulty
    proxy.fail_next(3)  # 503 SlowDown
    s.saasctl("tenant", "list", "--json")
    assert proxy.injected >= 3 and proxy.errors_left == 0


def test_dropped_connections_during_onboard_are_retried(faulty: tuple[Stack, FaultProxy]) -> None:
    s, proxy = faulty
    before = proxy.injected
    proxy.reset_next(2)
    proxy.fail_next(2)
    s.saasctl("tenant", "onboard", "flaky", "--tier", "basic", "--yes", timeout=600)
    assert proxy.injected - before == 4
    listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert [t["status"] for t in listed if t["id"] == "flaky"] == ["applied"]


def test_unreachable_backend_is_one_clear_line_and_nothing_is_written(
    faulty: tuple[Stack, FaultProxy],
) -> None:
    s, proxy = faulty
    claims_before = s.object_keys("local/priorities/")
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
    assert took < 120, f"retries are bounded, took {took:.0f}s"
    print(f"backend down: exit 1 after {took:.1f}s: {lines[0]}")
    assert not s.tenant_dir("nimbus").exists()
    assert s.object_keys("local/priorities/") == claims_before
    assert s.object_keys("local/tenants/nimbus/") == []
    # Back up: the same command works.
    s.saasctl("tenant", "onboard", "nimbus", "--tier", "advanced", "--yes")


def test_backend_lost_between_plan_and_apply(faulty: tuple[Stack, FaultProxy]) -> None:
    """The backend goes away after the plan: apply fails with a clear error, and the
    same command converges once it is back."""
    s, proxy = faulty
    env = {**s.env, "SAASCTL_FAILPOINTS": "planned=pause:3"}
    proc = s.popen_env(env, "tenant", "onboard", "gale", "--tier", "basic", "--yes")
    time.sleep(1.5)
    proxy.down = True
    try:
        started = time.monotonic()
        code = proc.wait(timeout=300)
        took = time.monotonic() - started
        err = proc.stderr.read() if proc.stderr else ""
    finally:
        proxy.down = False
    assert code == 1, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("error: "), err
    print(f"apply with the backend gone failed after {took:.1f}s: {err.strip().splitlines()[-1]}")
    s.converge("gale", "tenant", "onboard", "gale", "--tier", "basic", "--yes")
    listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert [t["status"] for t in listed if t["id"] == "gale"] == ["applied"]

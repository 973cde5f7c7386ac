"""The audit trail on the emulator: each change appends a record (who, what, when,
the command, the plan's counts, the outcome), a declined one too; records are
never lost to concurrent writers; `saasctl audit` filters by tenant and time.
Stand-in modules, newest terraform."""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from saasctl import audit
from saasctl.aws import Aws
from saasctl.emulator import moto_server
from saasctl.project import Project
from saasctl.state import StateStore
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM, Stack, make_stack

pytestmark = [pytest.mark.integration, NEEDS_TERRAFORM]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(tmp_path_factory.mktemp("audit"),
                        {"local": REPO / "terraform/envs/local/env.yaml"})  # fmt: skip
    with moto_server(log=root / "moto.log") as url:
        s = make_stack(root, url, BINARIES[-1])
        s.saasctl("bootstrap")
        s.saasctl("apply", "--shared-only", "--yes")
        yield s


def _records(s: Stack, *args: str) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = json.loads(s.saasctl("audit", "--json", *args).stdout)[
        "records"
    ]
    return records


def test_every_change_is_recorded_with_who_what_and_outcome(stack: Stack) -> None:
    s = stack
    s.saasctl("tenant", "onboard", "acme", "--tier", "basic", "--yes")
    s.saasctl("tenant", "onboard", "acme", "--tier", "basic", "--plan-only")  # changes nothing
    s.saasctl("tenant", "offboard", "acme", check=5)  # declined: no terminal, no --yes
    s.saasctl("tenant", "offboard", "acme", "--yes")
    found = _records(s, "--tenant", "acme")
    assert [(r["action"], r["outcome"]) for r in found] == [
        ("tenant onboard", "succeeded"),
        ("tenant offboard", "not confirmed"),
        ("tenant offboard", "succeeded"),
    ]
    first = found[0]
    assert first["command"] == "saasctl tenant onboard acme --tier basic --yes"
    assert first["changes"] is True and first["plan"]["add"] > 0
    assert first["who"]["aws"].startswith("arn:aws:") and first["who"]["user"]
    assert found[2]["plan"]["destroy"] > 0
    # The whole trail holds the shared apply too; --since a later time holds none.
    assert _records(s)[0]["action"] == "apply"
    assert _records(s, "--since", "2999-01-01") == []
    table = s.saasctl("audit", "--tenant", "acme").stdout
    assert "tenant offboard" in table and "not confirmed" in table


def test_a_bad_since_is_one_line(stack: Stack) -> None:
    out = stack.saasctl("audit", "--since", "yesterday", check=3)
    assert "--since 'yesterday' is not a date or time" in out.stderr


def test_concurrent_writers_never_lose_a_record(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", stack.endpoint)
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    env = Project(stack.root).load_env("local")
    ctx = SimpleNamespace(env=env, store=StateStore(env, Aws(env.spec)), preflight=lambda: None)
    before = len(list(audit.read(ctx, tenant="race")))  # type: ignore[arg-type]

    def write(n: int) -> str:
        return audit.append(ctx, {"action": "race", "tenant": "race", "n": n})  # type: ignore[arg-type]

    with ThreadPoolExecutor(8) as pool:
        keys = list(pool.map(write, range(64)))
    assert len(set(keys)) == 64
    found = audit.read(ctx, tenant="race")  # type: ignore[arg-type]
    assert len(found) == before + 64
    assert sorted(r["n"] for r in found) == list(range(64))

"""Secrets canary: planted secret values never reach rendered files, logs
(-v included), JSON output and reports, error messages or the state bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import BINARIES, Stack, make_stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not BINARIES, reason="no terraform binary (run `make setup`)"),
]
SECRET = "CANARYsecretAKIA7f3e9d1c2b4a"
TOKEN = "CANARYtokenFwoGZXIvYXdzE9c8b7a6"
CANARIES = (SECRET, TOKEN)


@pytest.fixture(scope="module")
def canary_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("canary"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url:
        stack = make_stack(
            root, url, BINARIES[-1], AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=TOKEN
        )
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes")
        yield stack


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def _files_with_canary(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file() or "providers" in path.parts:
            continue
        if path.name == "moto.log":
            continue  # the emulator's own log of the requests it got
        if _leaks(path.read_bytes().decode("utf-8", "replace")):
            found.append(str(path.relative_to(root)))
    return found


def test_no_secret_in_output_files_reports_or_state(canary_stack: Stack, tmp_path: Path) -> None:
    s = canary_stack
    seen = []
    for args in (
        ("-v", "tenant", "onboard", "vault", "--tier", "advanced", "--yes", "--json"),
        ("-v", "tenant", "show", "vault", "--json"),
        ("-v", "plan", "--json", "--report-json", str(tmp_path / "r.json"),
         "--summary-md", str(tmp_path / "s.md")),
    ):  # fmt: skip
        proc = s.saasctl(*args)
        seen.append(proc.stdout + proc.stderr)
    assert "$ terraform" in seen[0]  # -v really logged terraform's commands and output
    assert not _leaks("".join(seen))
    assert not _files_with_canary(s.root) and not _files_with_canary(tmp_path)
    for key in s.object_keys():
        body = s.s3.get_object(Bucket="saasctl-local-tfstate", Key=key)["Body"].read()
        assert not _leaks(body.decode("utf-8", "replace")), key


def test_secret_echoed_by_terraform_is_redacted(canary_stack: Stack, tmp_path: Path) -> None:
    """terraform quotes the offending source line in its errors: plant the secret
    there and check saasctl shows *** wherever that error goes."""
    s = canary_stack
    extra = s.tenant_dir("vault") / "zz_canary.tf"  # not a rendered file: render keeps it
    extra.write_text(f'locals {{\n  broken = "{SECRET}" +\n}}\n')
    try:
        report = tmp_path / "r.json"
        proc = s.saasctl(
            "-v", "plan", "--tenant", "vault", "--json", "--report-json", str(report), check=1
        )
    finally:
        extra.unlink()
    text = proc.stdout + proc.stderr + report.read_text()
    assert not _leaks(text)
    assert "***" in text
    data = json.loads(proc.stdout)
    assert data["workspaces"][0]["status"] == "error"

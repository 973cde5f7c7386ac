"""Secrets canary: planted secret values never reach rendered files, logs
(-v included), JSON output and reports, plan files (zip archives, opened),
error messages or any version of any object in the state bucket; with the
stand-in modules and with the real modules through the offline AWS provider."""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import (
    BINARIES,
    BUCKET,
    NEEDS_TERRAFORM,
    OFFLINE_AWS,
    Stack,
    failpoint_log,
    make_stack,
)

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
SECRET = "CANARYsecretAKIA7f3e9d1c2b4a"
TOKEN = "CANARYtokenFwoGZXIvYXdzE9c8b7a6"
CANARIES = (SECRET, TOKEN)


@pytest.fixture(scope="module", params=["standin", "real"])
def canary_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    if request.param == "real" and not OFFLINE_AWS:
        pytest.skip("the offline AWS provider's schema is not installed (make setup)")
    root = copy_project(
        tmp_path_factory.mktemp("canary"),
        {"local": REPO / "terraform/envs/local/env.yaml"},
        modules=request.param,
    )
    with moto_server(log=root / "moto.log") as url:
        stack = make_stack(
            root, url, BINARIES[-1], AWS_SECRET_ACCESS_KEY=SECRET, AWS_SESSION_TOKEN=TOKEN
        )
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes", timeout=1200)
        yield stack


def _leaks(text: str) -> list[str]:
    return [c for c in CANARIES if c in text]


def _readable(path: Path) -> list[str]:
    """The text of a file; of each member for a zip archive (plan files are zips)."""
    data = path.read_bytes()
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            return [zf.read(n).decode("utf-8", "replace") for n in zf.namelist()]
    return [data.decode("utf-8", "replace")]


def _files_with_canary(root: Path) -> list[str]:
    found = []
    for path in root.rglob("*"):
        if path.is_symlink() or not path.is_file() or "providers" in path.parts:
            continue
        if path.name == "moto.log":
            continue  # the emulator's own log of the requests it got
        if any(_leaks(text) for text in _readable(path)):
            found.append(str(path.relative_to(root)))
    return found


def _versions_with_canary(s: Stack) -> list[str]:
    """Every version of every object, not only the current ones."""
    found = []
    versions = s.s3.list_object_versions(Bucket=BUCKET).get("Versions", [])
    assert versions
    for v in versions:
        body = s.s3.get_object(Bucket=BUCKET, Key=v["Key"], VersionId=v["VersionId"])["Body"]
        if _leaks(body.read().decode("utf-8", "replace")):
            found.append(f"{v['Key']}@{v['VersionId']}")
    return found


def test_the_scan_opens_plan_archives(tmp_path: Path) -> None:
    plan = tmp_path / "x.tfplan"
    with zipfile.ZipFile(plan, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("tfplan", f"binary plan ... {SECRET} ...")
    assert SECRET.encode() not in plan.read_bytes()  # compressed: a plain grep misses it
    assert _files_with_canary(tmp_path) == ["x.tfplan"]


def test_no_secret_in_output_files_plans_reports_or_state(
    canary_stack: Stack, tmp_path: Path
) -> None:
    s = canary_stack
    seen = []
    for args in (
        ("-v", "tenant", "onboard", "vault", "--tier", "advanced", "--yes", "--json"),
        ("-v", "tenant", "show", "vault", "--json"),
        ("-v", "plan", "--json", "--report-json", str(tmp_path / "r.json"),
         "--summary-md", str(tmp_path / "s.md")),
    ):  # fmt: skip
        proc = s.saasctl(*args, timeout=1200)
        seen.append(proc.stdout + proc.stderr)
    assert "$ terraform" in seen[0]  # -v really logged terraform's commands and output
    # Plan files exist only while a run holds them: stop one after planning and look.
    log = tmp_path / "points.jsonl"
    env = {**s.env, "SAASCTL_FAILPOINT_LOG": str(log), "SAASCTL_FAILPOINTS": "planned=await:go:1"}
    held = s.popen_env(env, "-v", "tenant", "onboard", "vault2", "--tier", "premium", "--yes")
    try:
        deadline = time.monotonic() + 600
        while not any(e["point"] == "planned" for e in failpoint_log(log)):
            assert held.poll() is None and time.monotonic() < deadline, "never planned"
            time.sleep(0.1)
        plans = list(s.root.rglob("*.tfplan"))
        assert len(plans) == 2  # the tenant's and the shared workspace's
        assert all(zipfile.is_zipfile(p) for p in plans)
        assert not _files_with_canary(s.root) and not _files_with_canary(tmp_path)
    finally:
        with log.open("a") as fh:
            fh.write(json.dumps({"point": "go", "pid": 0}) + "\n")
        out, err = held.communicate(timeout=1200)
    assert held.returncode == 0, err
    assert not _leaks("".join(seen) + out + err)
    assert not _files_with_canary(s.root)
    assert not _versions_with_canary(s)


def test_sensitive_outputs_are_never_shown(canary_stack: Stack) -> None:
    s = canary_stack
    s.saasctl("tenant", "onboard", "vault", "--tier", "advanced", "--yes", timeout=1200)
    value = "sensitive-canary-0c1d"  # not one of CANARIES: terraform keeps it in state
    extra = s.tenant_dir("vault") / "zz_sensitive.tf"
    extra.write_text(f'output "db_password" {{\n  value     = "{value}"\n  sensitive = true\n}}\n')
    try:
        onboard = s.saasctl("tenant", "onboard", "vault", "--tier", "advanced", "--yes")
        shown = s.saasctl("tenant", "show", "vault", "--json")
        table = s.saasctl("tenant", "show", "vault")
        assert json.loads(shown.stdout)["outputs"]["db_password"] == "(sensitive)"
        assert "vault outputs" in onboard.stdout and "tenant vault" in table.stdout
        for proc in (onboard, shown, table):
            assert value not in proc.stdout + proc.stderr
    finally:
        extra.unlink()
    s.saasctl("tenant", "onboard", "vault", "--tier", "advanced", "--yes", timeout=1200)


def test_secret_echoed_by_terraform_is_redacted(canary_stack: Stack, tmp_path: Path) -> None:
    """terraform quotes the offending source line in its errors: plant the secret
    there and check saasctl shows *** wherever that error goes."""
    s = canary_stack
    s.saasctl("tenant", "onboard", "vault", "--tier", "advanced", "--yes", timeout=1200)
    extra = s.tenant_dir("vault") / "zz_canary.tf"  # not a rendered file: render keeps it
    extra.write_text(f'locals {{\n  broken = "{SECRET}" +\n}}\n')
    try:
        report = tmp_path / "r.json"
        proc = s.saasctl(
            "-v",
            "plan",
            "--tenant",
            "vault",
            "--json",
            "--report-json",
            str(report),
            check=1,
            timeout=1200,
        )
    finally:
        extra.unlink()
    text = proc.stdout + proc.stderr + report.read_text()
    assert not _leaks(text)
    assert "***" in text
    data = json.loads(proc.stdout)
    assert data["workspaces"][0]["status"] == "error"

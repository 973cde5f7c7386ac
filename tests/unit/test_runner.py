"""The terraform runner against a fake terraform script (and, for init, the real binary)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from saasctl.errors import LockError, TerraformError
from saasctl.terraform import (
    Binary,
    PlanSummary,
    Redactor,
    Terraform,
    find_binary,
    first_error,
    parse_version,
)

FAKE = '''#!{python}
import json, os, subprocess, sys, time
mode = os.environ.get("FAKE_TF_MODE", "ok")
args = sys.argv[1:]
if args == ["version", "-json"]:
    open(os.environ["FAKE_TF_LOG"], "a").write("version\\n")
    print('{{"terraform_version": "1.5.7"}}')
    sys.exit(0)
with open(os.environ["FAKE_TF_LOG"], "a") as log:
    log.write(json.dumps({{"args": args, "cwd": os.getcwd(),
        "in_automation": os.environ.get("TF_IN_AUTOMATION"),
        "cli_config": os.environ.get("TF_CLI_CONFIG_FILE"),
        "tf_log": os.environ.get("TF_LOG"), "gogc": os.environ.get("GOGC"),
        "gomemlimit": os.environ.get("GOMEMLIMIT")}}) + "\\n")
if mode.startswith("exit:"):
    print("some output")
    if mode != "exit:0":
        print("Error: Something broke\\n\\nthe detail line", file=sys.stderr)
    sys.exit(int(mode.split(":")[1]))
if mode == "sleep":
    child = subprocess.Popen(["sleep", "60"])
    open(os.environ["FAKE_TF_CHILD"], "w").write(str(child.pid))
    time.sleep(60)
if mode == "flood":
    chunk = "x" * 1023 + "\\n"
    for _ in range(4096):
        sys.stderr.write(chunk)
        sys.stdout.write(chunk)
    sys.exit(0)
if mode == "secret":
    print("token=" + os.environ["FAKE_SECRET"])
    print("Error: bad token " + os.environ["FAKE_SECRET"], file=sys.stderr)
    sys.exit(1)
if mode == "lock":
    sys.stderr.write("""
Error: Error acquiring the state lock

Error message: ConditionalCheckFailedException
Lock Info:
  ID:        3d1f0c2e-aaaa-bbbb-cccc-1234567890ab
  Path:      bucket/local/tenants/acme/terraform.tfstate
  Operation: OperationTypePlan
  Who:       alice@host1
  Version:   1.0.3
  Created:   2026-11-23 10:00:00 +0000 UTC
""")
    sys.exit(1)
'''


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Terraform:
    script = tmp_path / "terraform"
    script.write_text(FAKE.format(python=sys.executable))
    script.chmod(0o755)
    monkeypatch.setenv("FAKE_TF_LOG", str(tmp_path / "calls.jsonl"))
    monkeypatch.setenv("FAKE_TF_CHILD", str(tmp_path / "child.pid"))
    monkeypatch.setenv("TF_LOG", "TRACE")  # must not leak into terraform's environment
    binary = Binary(path=str(script), version=(1, 5, 7), flavor="terraform")
    return Terraform(binary, cli_config=tmp_path / "terraform.rc")


def calls(tmp_path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(x) for x in (tmp_path / "calls.jsonl").read_text().splitlines()]


def test_detailed_exitcode(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "exit:0")
    assert fake.plan(tmp_path, tmp_path / "p") is False
    monkeypatch.setenv("FAKE_TF_MODE", "exit:2")
    assert fake.plan(tmp_path, tmp_path / "p") is True
    monkeypatch.setenv("FAKE_TF_MODE", "exit:1")
    with pytest.raises(
        TerraformError, match=r"terraform plan failed in .*: Something broke: the detail line"
    ):
        fake.plan(tmp_path, tmp_path / "p")
    seen = calls(tmp_path)[0]
    assert f"-chdir={tmp_path}" in seen["args"][0]
    assert "-input=false" in seen["args"] and "-detailed-exitcode" in seen["args"]
    assert seen["in_automation"] == "1"
    assert seen["cli_config"] == str(tmp_path / "terraform.rc")
    assert seen["tf_log"] is None
    assert "TF_LOG" in os.environ  # the caller's environment was not mutated


def test_go_collector_settings_are_ours_unless_the_operator_set_them(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "exit:0")
    monkeypatch.delenv("GOGC", raising=False)
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    fake.run(tmp_path, ["validate"])
    monkeypatch.setenv("GOGC", "100")  # an operator's own choice wins, whole
    fake.run(tmp_path, ["validate"])
    monkeypatch.delenv("GOGC")
    monkeypatch.setenv("GOMEMLIMIT", "2GiB")
    fake.run(tmp_path, ["validate"])
    ours, gogc, limit = calls(tmp_path)
    assert ours["gogc"] == "400"
    assert ours["gomemlimit"].endswith("MiB") and int(ours["gomemlimit"][:-3]) >= 512
    assert (gogc["gogc"], gogc["gomemlimit"]) == ("100", None)
    assert (limit["gogc"], limit["gomemlimit"]) == (None, "2GiB")


def test_exit_code_2_is_an_error_outside_plan(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "exit:2")
    with pytest.raises(TerraformError):
        fake.apply(tmp_path, tmp_path / "p")


def test_timeout_kills_the_process_group(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "sleep")
    start = time.monotonic()
    with pytest.raises(TerraformError, match="timed out after 1s; its process group was killed"):
        fake.run(tmp_path, ["plan"], timeout=1)
    assert time.monotonic() - start < 15
    child = int((tmp_path / "child.pid").read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # A zombie still answers kill(0); check its state.
        stat = Path(f"/proc/{child}/stat")
        if stat.exists() and stat.read_text().split()[2] == "Z":
            break
        time.sleep(0.05)
    else:
        pytest.fail("the grandchild survived the timeout")


def test_heavy_output_on_both_pipes_does_not_deadlock(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "flood")
    result = fake.run(tmp_path, ["plan"], timeout=30)
    assert len(result.stdout) == 4096 * 1024
    assert len(result.stderr) == 4096 * 1024


def test_secrets_are_redacted(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "s3cr3t-canary-value"
    monkeypatch.setenv("FAKE_TF_MODE", "secret")
    monkeypatch.setenv("FAKE_SECRET", secret)
    logged: list[str] = []
    fake.redact = Redactor([secret])
    fake.log = logged.append
    with pytest.raises(TerraformError) as exc:
        fake.run(tmp_path, ["plan"])
    assert secret not in exc.value.one_line() and "***" in exc.value.one_line()
    assert logged and all(secret not in line for line in logged)
    assert any("***" in line for line in logged)


def test_lock_errors_are_recognised(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "lock")
    with pytest.raises(LockError) as exc:
        fake.plan(tmp_path, tmp_path / "p")
    line = exc.value.one_line()
    assert "alice@host1" in line and "3d1f0c2e-aaaa-bbbb-cccc-1234567890ab" in line
    assert "force-unlock" in line


def test_lock_hint_names_the_callers_recovery_command(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_TF_MODE", "lock")
    fake.unlock_hint = lambda workdir, lock_id: f"saasctl unlock-state {workdir.name} {lock_id}"
    with pytest.raises(LockError) as exc:
        fake.plan(tmp_path, tmp_path / "p")
    assert f"`saasctl unlock-state {tmp_path.name} 3d1f0c2e-aaaa-bbbb-cccc-1234567890ab`" in (
        exc.value.one_line()
    )


def test_missing_binary_is_a_clear_error(tmp_path: Path) -> None:
    binary = Binary(path=str(tmp_path / "nope"), version=(1, 0, 0), flavor="terraform")
    with pytest.raises(TerraformError, match="cannot start"):
        Terraform(binary).run(tmp_path, ["version"])


def test_plan_summary_from_show_json() -> None:
    plan = {
        "resource_changes": [
            {"address": "a.new", "change": {"actions": ["create"]}},
            {"address": "a.upd", "change": {"actions": ["update"]}},
            {"address": "a.gone", "change": {"actions": ["delete"]}},
            {"address": "a.rep", "change": {"actions": ["delete", "create"]}},
            {"address": "a.rep2", "change": {"actions": ["create", "delete"]}},
            {"address": "a.same", "change": {"actions": ["no-op"]}},
            {"address": "data.x", "change": {"actions": ["read"]}},
        ],
        "output_changes": {"o": {"actions": ["update"]}, "p": {"actions": ["no-op"]}},
    }
    s = PlanSummary.from_show_json(plan)
    assert (s.add, s.change, s.destroy) == (["a.new"], ["a.upd"], ["a.gone"])
    assert s.replace == ["a.rep", "a.rep2"] and s.outputs_changed == ["o"]
    assert s.counts() == "3 to add, 1 to change, 3 to destroy"
    assert s.destroys_anything and s.has_changes
    assert not PlanSummary.from_show_json({}).has_changes


def test_first_error_and_versions() -> None:
    assert first_error("junk\n│ Error: Boom\n│ \n│ because\n") == "Boom: because"
    assert first_error("plain failure\n") == "plain failure"
    # the detail after the source snippet, its wrapped lines joined
    diag = (
        "│ Error: Failed to download module\n│\n│   on main.tf line 176:\n"
        '│  176: module "kms" {\n│\n│ Could not download module "kms" (main.tf:176)\n'
        "│ source code from x.\n│\n│ Second paragraph.\n"
    )
    assert first_error(diag) == (
        'Failed to download module: Could not download module "kms" (main.tf:176) '
        "source code from x."
    )
    assert parse_version("Terraform v1.11.4\non linux") == (1, 11, 4)
    assert parse_version("OpenTofu v1.8.0") == (1, 8, 0)


def test_version_probe_is_cached_per_binary_file(
    fake: Terraform, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from saasctl.terraform import find_binary

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    log = tmp_path / "calls.jsonl"
    assert find_binary(fake.binary.path).version == (1, 5, 7)
    assert find_binary(fake.binary.path).version == (1, 5, 7)
    assert log.read_text().count("version") == 1  # probed once
    os.utime(fake.binary.path, ns=(1, 1))  # a different binary file: probe again
    assert find_binary(fake.binary.path).version == (1, 5, 7)
    assert log.read_text().count("version") == 2


@pytest.mark.integration
@pytest.mark.skipif(not shutil.which("terraform"), reason="no terraform binary on PATH")
def test_init_recovers_a_backend_record_emptied_by_a_killed_run(tmp_path: Path) -> None:
    """A run killed while terraform rewrote .terraform/terraform.tfstate leaves it
    empty; terraform >= 1.10 then fails `init -reconfigure` with "Failed to load
    state". The runner's init discards the unreadable record; a readable one stays."""
    (tmp_path / "main.tf").write_text('terraform {\n  backend "local" {}\n}\n')
    tf = Terraform(find_binary(shutil.which("terraform")))
    tf.init(tmp_path, None)
    record = tmp_path / ".terraform/terraform.tfstate"
    kept = record.read_text()
    tf.init(tmp_path, None)
    assert json.loads(record.read_text()) == json.loads(kept)
    for broken in ("", '{"version": 3, "backend": {'):
        record.write_text(broken)
        tf.init(tmp_path, None)
        assert json.loads(record.read_text())["backend"]["type"] == "local"

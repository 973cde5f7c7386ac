"""Bad input: one clear line on stderr, a documented exit code, nothing written.

These run the CLI in-process up to the point where it would need AWS; the
backend-unreachable case points at a closed loopback port.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from saasctl.emulator import free_port
from tests.conftest import CliResult, tree_digest

Run = Callable[..., CliResult]


def assert_one_line_error(result: CliResult, code: int, fragment: str) -> None:
    assert result.code == code, (result.code, result.err)
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    assert len(lines) == 1, result.err
    assert lines[0].startswith("error: ")
    assert fragment in lines[0], lines[0]
    assert "Traceback" not in result.err + result.out


@pytest.mark.parametrize(
    ("tenant_id", "fragment"),
    [
        ("", "tenant id is empty"),
        ("a" * 40, "40 characters long"),
        ("ACME", "upper-case"),
        ("acme/evil", "path separator"),
        ("../../etc", "path separator or '..'"),
        ("shared", "is reserved"),
        ("archive", "is reserved"),
        ('ac"me', "is not valid"),
    ],
)
def test_bad_tenant_ids(project: Path, run_cli: Run, tenant_id: str, fragment: str) -> None:
    before = tree_digest(project)
    result = run_cli("tenant", "onboard", tenant_id, "--tier", "basic", "--env", "golden")
    assert_one_line_error(result, 3, fragment)
    assert tree_digest(project) == before


@pytest.mark.parametrize(
    "command",
    [("show", "ghost"), ("offboard", "ghost", "--yes"), ("set-tier", "ghost", "--tier", "basic"),
     ("suspend", "ghost", "--yes"), ("resume", "ghost", "--yes")],
)  # fmt: skip
def test_unknown_tenant(project: Path, run_cli: Run, command: tuple[str, ...]) -> None:
    before = tree_digest(project)
    result = run_cli("tenant", *command, "--env", "golden")
    assert_one_line_error(result, 3, "tenant 'ghost' not found in environment 'golden'")
    assert tree_digest(project) == before


@pytest.mark.parametrize("reason", ["line one\nline two", "x" * 201, "bell\a"])
def test_a_bad_suspension_reason_is_refused(project: Path, run_cli: Run, reason: str) -> None:
    spec(project, "id: acme\ntier: basic\nlistener_priority: 100\n")
    before = tree_digest(project)
    result = run_cli("tenant", "suspend", "acme", "--reason", reason, "--yes", "--env", "golden")
    assert_one_line_error(result, 3, "--reason: one line of at most 200 characters")
    assert tree_digest(project) == before


def test_a_bad_suspension_record_names_the_field(project: Path, run_cli: Run) -> None:
    spec(project, "id: acme\ntier: basic\nlistener_priority: 100\n"
                  "suspension: {since: '2026-12-07T00:00:00Z', state: paused}\n")  # fmt: skip
    result = run_cli("tenant", "resume", "acme", "--yes", "--env", "golden")
    assert_one_line_error(result, 3, "suspension.state")


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["--window", "sat 02:00"], "give DAYS HH:MM DURATION"),
        (["--window", "caturday 02:00 1h"], "'caturday' is not a day"),
        (["--window", "sat 02:00 9d"], "'9d' is not a duration"),
        (["--timezone", "Europe/Atlantis"], "'Europe/Atlantis' is not an IANA timezone"),
        (["--pin", "9.9.9"], "--pin '9.9.9': no such release in 'golden' (known: none)"),
        (["--pin-until", "2099-01-01T00:00:00Z"], "without pinned_release there is nothing"),
        (["--pin-until", "2099-01-01"], "'2099-01-01' has no timezone"),
        (["--pin", "1.0", "--unpin"], "give one of them"),
    ],
)
def test_bad_maintenance_settings_write_nothing(
    project: Path, run_cli: Run, args: list[str], fragment: str
) -> None:
    spec(project, "id: hooli\ntier: advanced\nlistener_priority: 100\n", "hooli")
    before = tree_digest(project)
    result = run_cli("tenant", "maintenance", "hooli", *args, "--env", "golden")
    assert_one_line_error(result, 3, fragment)
    assert tree_digest(project) == before


def test_a_hand_edited_pin_to_an_unknown_release_stops_a_render(
    project: Path, run_cli: Run
) -> None:
    spec(project, "id: hooli\ntier: advanced\nlistener_priority: 100\n"
                  "maintenance: {pinned_release: 7.0.0}\n", "hooli")  # fmt: skip
    result = run_cli("render", "--env", "golden")  # plans and rollouts render first
    assert_one_line_error(result, 3, "'hooli' is pinned to release '7.0.0', which does not exist")


def test_unknown_tier_is_a_usage_error(project: Path, run_cli: Run) -> None:
    result = run_cli("tenant", "onboard", "acme", "--tier", "platinum", "--env", "golden")
    assert_one_line_error(result, 3, "'platinum' is not one of 'basic', 'advanced', 'premium'")


def test_unknown_option_and_command(project: Path, run_cli: Run) -> None:
    assert_one_line_error(run_cli("tenant", "onboard", "acme", "--teir", "basic"), 3, "--teir")
    assert_one_line_error(run_cli("frobnicate"), 3, "No such command")


@pytest.mark.parametrize(
    "command", [("plan",), ("apply", "--yes"), ("release", "rollout", "1.0.0", "--yes")]
)
def test_an_unknown_policy_rule_is_refused(
    project: Path, run_cli: Run, command: tuple[str, ...]
) -> None:
    before = tree_digest(project)
    result = run_cli(*command, "--allow", "everything", "--env", "golden")
    assert_one_line_error(result, 3, "unknown policy rule: everything (rules: destroy, ")
    assert tree_digest(project) == before


def test_missing_environment(project: Path, run_cli: Run) -> None:
    result = run_cli("tenant", "list", "--env", "staging")
    assert_one_line_error(result, 3, "environment 'staging' not found")
    assert_one_line_error(run_cli("tenant", "list", "--env", "../x"), 3, "environment name")


def spec(project: Path, text: str, tenant: str = "acme") -> Path:
    path = project / "terraform/envs/golden/tenants" / tenant / "tenant.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_malformed_spec_names_file_and_line(project: Path, run_cli: Run) -> None:
    spec(project, "id: acme\ntier: basic\nlistener_priority: [100\n")
    before = tree_digest(project)
    result = run_cli("tenant", "show", "acme", "--env", "golden")
    assert_one_line_error(
        result, 3, "terraform/envs/golden/tenants/acme/tenant.yaml:4: malformed YAML"
    )
    assert tree_digest(project) == before


def test_spec_unknown_key_and_wrong_type(project: Path, run_cli: Run) -> None:
    spec(project, "id: acme\ntier: basic\nlistener_priority: 100\nreplicas: 3\n")
    assert_one_line_error(
        run_cli("tenant", "show", "acme", "--env", "golden"),
        3,
        "tenant.yaml:4: replicas: unknown key",
    )
    spec(project, "id: acme\ntier: basic\nlistener_priority: lots\n")
    assert_one_line_error(
        run_cli("tenant", "offboard", "acme", "--env", "golden", "--yes"),
        3,
        "tenant.yaml:3: listener_priority: Input should be a valid integer",
    )


def test_malformed_env_file(project: Path, run_cli: Run) -> None:
    env_file = project / "terraform/envs/golden/env.yaml"
    env_file.write_text(env_file.read_text().replace("domain: golden.example.com", "domain: {"))
    result = run_cli("tenant", "list", "--env", "golden")
    assert_one_line_error(result, 3, "terraform/envs/golden/env.yaml:")
    assert "malformed YAML" in result.err


def test_onboarding_an_existing_tenant_with_another_tier(project: Path, run_cli: Run) -> None:
    spec(project, "id: acme\ntier: basic\nlistener_priority: 100\n")
    before = tree_digest(project)
    result = run_cli("tenant", "onboard", "acme", "--tier", "premium", "--env", "golden")
    assert_one_line_error(result, 3, "already exists in 'golden' with tier basic")
    assert "saasctl tenant set-tier acme --tier premium" in result.err
    assert tree_digest(project) == before


def test_missing_terraform_binary(
    project: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SAASCTL_TERRAFORM", str(project / "no-such-terraform"))
    before = tree_digest(project)
    result = run_cli("tenant", "onboard", "acme", "--tier", "basic")
    assert_one_line_error(result, 1, "is not an executable")
    assert tree_digest(project) == before


def test_backend_unreachable(project: Path, run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{free_port()}")  # nothing listens
    before = tree_digest(project)
    result = run_cli("tenant", "onboard", "acme", "--tier", "basic")
    assert_one_line_error(result, 1, "cannot reach the state backend at http://127.0.0.1:")
    assert tree_digest(project) == before


def test_help_documents_exit_codes(run_cli: Run) -> None:
    for args in ([], ["tenant"], ["tenant", "onboard"], ["plan"]):
        result = run_cli(*args, "--help")
        assert result.code == 0
        assert "Exit codes" in result.out and "2 plan has changes" in result.out


@pytest.mark.parametrize(
    "email",
    ["admin", "admin@", "@example.com", "admin@example", "ad min@example.com",
     "admin@@example.com", "admin@exa_mple.com", "admin@example.c0m", "a" * 250 + "@x.io"],
)  # fmt: skip
def test_malformed_admin_email(project: Path, run_cli: Run, email: str) -> None:
    before = tree_digest(project)
    result = run_cli(
        "tenant", "onboard", "acme", "--tier", "basic", "--admin-email", email, "--env", "golden"
    )
    assert_one_line_error(result, 3, "--admin-email:")
    assert tree_digest(project) == before


def test_a_table_name_that_collides_or_is_malformed(project: Path, run_cli: Run) -> None:
    env_file = project / "terraform/envs/golden/env.yaml"
    good = env_file.read_text()
    for tables, fragment in (("[orders, orders]", "names must be unique"),
                             ("[Orders]", "table 'Orders': 1-21 lowercase")):  # fmt: skip
        old = "health_check_path: /healthz}"
        env_file.write_text(good.replace(old, old[:-1] + f", tables: {tables}}}"))
        result = run_cli("tenant", "list", "--env", "golden")
        assert_one_line_error(result, 3, fragment)

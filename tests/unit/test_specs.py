from pathlib import Path

import pytest

from saasctl.errors import NotFoundError, SpecError
from saasctl.project import Project
from saasctl.specs import TenantSpec, Tier


def write_spec(project: Path, env: str, tenant: str, text: str) -> Path:
    path = project / "terraform" / "envs" / env / "tenants" / tenant / "tenant.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_repo_environments_load() -> None:
    repo = Path(__file__).resolve().parents[2]
    project = Project(repo)
    assert {"local", "production"} <= set(project.env_names())
    for name in ("local", "production"):
        env = project.load_env(name)
        assert set(env.spec.tiers) == set(Tier)


def test_tenant_round_trip(project: Path) -> None:
    env = Project(project).load_env("golden")
    spec = TenantSpec(id="acme", tier=Tier.ADVANCED, listener_priority=110)
    write_spec(project, "golden", "acme", spec.to_yaml())
    assert env.load_tenant("acme") == spec


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "id: acme\ntier: basic\nlistener_priority: 100\ncolour: red\n",
            "tenant.yaml:4: colour: unknown key",
        ),
        ("id: acme\ntier: gold\nlistener_priority: 100\n", "tenant.yaml:2: tier: Input should be"),
        (
            "id: acme\ntier: basic\nlistener_priority: high\n",
            "tenant.yaml:3: listener_priority: Input should be a valid integer",
        ),
        ("id: acme\ntier: [basic\n", "tenant.yaml:3: malformed YAML"),
        ("- just\n- a list\n", "expected a mapping"),
        (
            "id: acme\ntier: basic\nlistener_priority: 100\noverrides:\n  cpu: 1\n",
            "tenant.yaml:5: overrides.cpu: Input should be greater than or equal to 256",
        ),
        ("id: other\ntier: basic\nlistener_priority: 100\n", "does not match its directory"),
        ("id: Acme\ntier: basic\nlistener_priority: 100\n", "tenant.yaml:1: id: tenant id 'Acme'"),
    ],
)
def test_bad_tenant_specs_name_file_line_and_field(project: Path, text: str, expected: str) -> None:
    write_spec(project, "golden", "acme", text)
    env = Project(project).load_env("golden")
    with pytest.raises(SpecError) as exc:
        env.load_tenant("acme")
    message = exc.value.one_line()
    assert expected in message
    assert message.startswith("terraform/envs/golden/tenants/acme/tenant.yaml")


def test_env_file_errors(project: Path) -> None:
    env_file = project / "terraform" / "envs" / "golden" / "env.yaml"
    text = env_file.read_text()
    env_file.write_text(text.replace("region: eu-central-1", "region: [eu"))
    with pytest.raises(SpecError, match=r"env.yaml:\d+: malformed YAML"):
        Project(project).load_env("golden")
    env_file.write_text(text.replace('account_id: "111122223333"', "account_id: 12"))
    with pytest.raises(SpecError, match="account_id: Input should be a valid string"):
        Project(project).load_env("golden")
    env_file.write_text(text.replace("  premium:", "  platinum:"))
    with pytest.raises(SpecError, match="tiers"):
        Project(project).load_env("golden")


def test_missing_environment(project: Path) -> None:
    with pytest.raises(
        NotFoundError, match=r"environment 'staging' not found \(known: golden, local\)"
    ):
        Project(project).load_env("staging")


def test_duplicate_priorities_are_an_error(project: Path) -> None:
    write_spec(project, "golden", "acme", "id: acme\ntier: basic\nlistener_priority: 100\n")
    write_spec(project, "golden", "beta", "id: beta\ntier: basic\nlistener_priority: 100\n")
    with pytest.raises(SpecError, match="share listener_priority 100"):
        Project(project).load_env("golden").load_tenants()

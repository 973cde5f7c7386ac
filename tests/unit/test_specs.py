import shutil
from pathlib import Path

import pytest

from saasctl.errors import NotFoundError, SpecError
from saasctl.project import Environment, Project
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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # what YAML versions (and readers) disagree on is refused, with its line
        (
            "id: acme\ntier: basic\nlistener_priority: 0110\n",
            "tenant.yaml:3: '0110' is not a plain",
        ),
        (
            "id: acme\ntier: basic\nlistener_priority: 1_10\n",
            "tenant.yaml:3: '1_10' is read as a number",
        ),
        (
            "id: acme\ntier: basic\nlistener_priority: 1:50\n",
            "tenant.yaml:3: '1:50' is read as a number",
        ),
        (
            "id: acme\ntier: basic\nlistener_priority: 0x6e\n",
            "tenant.yaml:3: '0x6e' is not a plain",
        ),
        (
            "id: acme\ntier: basic\nlistener_priority: 110\ntags:\n  Legacy: no\n",
            "tenant.yaml:5: 'no' is read as a boolean",
        ),
        (
            "id: acme\ntier: basic\nlistener_priority: 100\nlistener_priority: 110\n",
            "tenant.yaml:4: key 'listener_priority' appears twice",
        ),
    ],
)
def test_ambiguous_yaml_is_refused_with_its_line(project: Path, text: str, expected: str) -> None:
    write_spec(project, "golden", "acme", text)
    with pytest.raises(SpecError) as exc:
        Project(project).load_env("golden").load_tenant("acme")
    assert expected in exc.value.one_line()


def test_plain_yaml_still_reads_as_written(project: Path) -> None:
    text = 'id: acme\ntier: basic\nlistener_priority: 110\ntags:\n  Legacy: "no"\n  "On": "true"\n'
    write_spec(project, "golden", "acme", text)
    spec = Project(project).load_env("golden").load_tenant("acme")
    assert spec.listener_priority == 110
    assert spec.tags == {"Legacy": "no", "On": "true"}
    write_spec(project, "golden", "acme", text.replace('"On"', "On"))  # a key is a value too
    with pytest.raises(SpecError, match=r"tenant\.yaml:6: 'On' is read as a boolean"):
        Project(project).load_env("golden").load_tenant("acme")


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 10.42.0.1/16", "write 10.42.0.0/16"),
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 10.420.0.0/16", "not an IPv4 or IPv6 network"),
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 10.42.0.0/22", "from /16 to /20"),
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 10.42.0.0", "has no prefix length"),
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 127.0.0.0/16", "not an address range a VPC"),
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 169.254.0.0/16", "not an address range a VPC"),
        ("vpc_cidr: 10.42.0.0/16", "vpc_cidr: 2001:db8::/56", "needs an IPv4 network"),
        ('allowed_cidrs: ["203.0.113.0/24"]', 'allowed_cidrs: ["203.0.113.7/24"]',
         "write 203.0.113.0/24"),
        ('allowed_cidrs: ["203.0.113.0/24"]', 'allowed_cidrs: ["203.0.113.0/33"]',
         "not an IPv4 or IPv6 network"),
        ('allowed_cidrs: ["203.0.113.0/24"]', "allowed_cidrs: []", "at least one network"),
        ('allowed_cidrs: ["203.0.113.0/24"]', 'allowed_cidrs: ["2001:DB8::/32"]',
         "write 2001:db8::/32"),
        ("azs: [eu-central-1a, eu-central-1b, eu-central-1c]",
         "azs: [eu-central-1a, eu-west-1b]", "eu-west-1b not a zone of eu-central-1"),
        ("azs: [eu-central-1a, eu-central-1b, eu-central-1c]",
         "azs: [eu-central-1a, eu-central-1a]", "each availability zone once"),
    ],
)  # fmt: skip
def test_env_values_are_validated_by_meaning(
    project: Path, old: str, new: str, expected: str
) -> None:
    env_file = project / "terraform" / "envs" / "golden" / "env.yaml"
    text = env_file.read_text()
    assert old in text
    env_file.write_text(text.replace(old, new))
    with pytest.raises(SpecError) as exc:
        Project(project).load_env("golden")
    assert expected in exc.value.one_line()
    assert exc.value.one_line().startswith("terraform/envs/golden/env.yaml:")


def test_pooled_items_need_the_shared_user_pool(project: Path) -> None:
    """A pooled service's tenant comes from the shared pool's verified tokens: basic
    tenants with pools of their own and pooled items would have no such token."""
    env_file = project / "terraform" / "envs" / "golden" / "env.yaml"
    text = env_file.read_text()
    basic = "waf_rate_limit: 1000}"
    api = "health_check_path: /api/healthz}"
    env_file.write_text(text.replace(basic, "waf_rate_limit: 1000, identity: dedicated}"))
    Project(project).load_env("golden")  # without tables, nothing is pooled
    env_file.write_text(env_file.read_text().replace(api, api[:-1] + ", tables: [orders]}"))
    with pytest.raises(SpecError, match=r"tiers\.basic\.identity: basic tenants' items are pooled"):
        Project(project).load_env("golden")


def test_ipv6_allowed_cidrs_are_accepted(project: Path) -> None:
    env_file = project / "terraform" / "envs" / "golden" / "env.yaml"
    text = env_file.read_text()
    env_file.write_text(
        text.replace(
            'allowed_cidrs: ["203.0.113.0/24"]',
            'allowed_cidrs: ["203.0.113.0/24", "2001:db8::/32"]',
        )
    )
    assert Project(project).load_env("golden").spec.allowed_cidrs == [
        "203.0.113.0/24",
        "2001:db8::/32",
    ]


def test_a_tenant_directory_being_removed_is_not_a_tenant(project: Path) -> None:
    # An offboard renames the directory to a dot-name, then removes it: a run
    # listing the tenants meanwhile must neither see it nor fail on its name.
    write_spec(project, "golden", "beta", "id: beta\ntier: basic\nlistener_priority: 100\n")
    trash = "golden", ".removed-acme-1764727392000000000"
    write_spec(project, *trash, "id: acme\ntier: basic\nlistener_priority: 110\n")
    env = Project(project).load_env("golden")
    assert env.tenant_ids() == ["beta"]
    assert [t.id for t in env.load_tenants()] == ["beta"]


def test_a_spec_removed_after_the_listing_is_skipped_and_a_bad_one_is_not(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n, tid in enumerate(("acme", "beta", "gone")):
        write_spec(
            project, "golden", tid, f"id: {tid}\ntier: basic\nlistener_priority: {100 + n * 10}\n"
        )
    env = Project(project).load_env("golden")
    listing = Environment.tenant_ids

    def listed_then_offboarded(self: Environment) -> list[str]:
        ids = listing(self)
        shutil.rmtree(self.tenant_dir("gone"))  # a concurrent offboard, between list and read
        return ids

    monkeypatch.setattr(Environment, "tenant_ids", listed_then_offboarded)
    assert [t.id for t in env.load_tenants()] == ["acme", "beta"]
    monkeypatch.undo()
    write_spec(project, "golden", "beta", "id: beta\ntier: [basic\n")
    with pytest.raises(SpecError, match=r"beta/tenant\.yaml:3: malformed YAML"):
        env.load_tenants()

"""Fleet pieces that need no terraform: change detection, shards, retries, reports."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from saasctl import changes, fleet
from saasctl.console import UI
from saasctl.context import Context
from saasctl.errors import ExitCode, LockError, TerraformError, UserError
from saasctl.project import Project
from saasctl.render import render_shared, render_tenant, write_workspace
from saasctl.specs import TenantSpec, Tier

TENANTS = {"acme": Tier.BASIC, "beta": Tier.BASIC, "globex": Tier.ADVANCED, "initech": Tier.PREMIUM}


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


@pytest.fixture
def repo(project: Path) -> tuple[Context, Path]:
    """A git repository holding the project with four rendered tenants, committed."""
    env = Project(project).load_env("local")
    for i, (tid, tier) in enumerate(TENANTS.items()):
        spec = TenantSpec(id=tid, tier=tier, listener_priority=100 + 10 * i)
        d = env.tenant_dir(tid)
        d.mkdir(parents=True)
        (d / "tenant.yaml").write_text(spec.to_yaml())
        write_workspace(d, render_tenant(env, spec))
    write_workspace(env.shared_dir, render_shared(env, env.first_cell, env.load_tenants()))
    git(project, "init", "-q")
    git(project, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git(project, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "base")
    return Context(env, UI(quiet=True)), project


def selected(ctx: Context) -> list[str]:
    spaces = [ctx.shared_workspace()] + [ctx.tenant_workspace(t) for t in TENANTS]
    return [
        ws.label
        for ws in changes.affected(ctx, spaces, changes.changed_paths(ctx.env.project.root, "HEAD"))
    ]


def edit(path: Path, extra: str = "\n# touched\n") -> None:
    path.write_text(path.read_text() + extra)


def test_nothing_changed_selects_nothing(repo: tuple[Context, Path]) -> None:
    assert selected(repo[0]) == []


def test_a_tenant_spec_selects_that_tenant(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    edit(root / "terraform/envs/local/tenants/globex/tenant.yaml", "tags: {Team: x}\n")
    assert selected(ctx) == ["globex"]


def test_a_tier_template_selects_that_tier(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    edit(root / "templates/tenant/basic.tf.j2", "{# touched #}\n")
    assert selected(ctx) == ["acme", "beta"]
    edit(root / "templates/tenant/_base.tf.j2", "{# touched #}\n")
    assert selected(ctx) == ["acme", "beta", "globex", "initech"]


def test_a_module_selects_exactly_its_users(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    edit(root / "terraform/modules/standins/tenant-premium/main.tf")
    assert selected(ctx) == ["initech"]
    git(root, "checkout", "--", ".")
    # variables.tf of a stand-in is a symlink to the real module's: both ends count
    edit(root / "terraform/modules/tenant-basic/variables.tf")
    assert selected(ctx) == ["acme", "beta"]
    git(root, "checkout", "--", ".")
    edit(root / "terraform/modules/standins/shared-stack/main.tf")
    assert selected(ctx) == ["shared"]


def test_real_module_tree_is_transitive(project: Path) -> None:
    tree = changes.module_tree(project / "terraform/modules/tenant-advanced")
    assert {p.name for p in tree} == {
        "tenant-advanced",
        "ecs-service",
        "tenant-isolation",
        "identity",
        "tenant-data",
    }
    shared = {p.name for p in changes.module_tree(project / "terraform/modules/shared-stack")}
    assert shared == {
        "shared-stack",
        "vpc",
        "vpc-endpoints",
        "alb",
        "waf",
        "ecs-cluster",
        "ecs-service",
        "identity",
        "tenant-data",
    }


def test_env_file_and_new_tenant(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    new = root / "terraform/envs/local/tenants/hooli"
    new.mkdir()
    (new / "tenant.yaml").write_text("id: hooli\ntier: basic\nlistener_priority: 200\n")
    spaces = [ctx.shared_workspace(), ctx.tenant_workspace("hooli")]
    picked = changes.affected(ctx, spaces, changes.changed_paths(root, "HEAD"))
    assert [w.label for w in picked] == ["hooli"]  # untracked files count
    edit(root / "terraform/envs/local/env.yaml")
    assert selected(ctx) == ["shared", "acme", "beta", "globex", "initech"]


def test_bad_ref_is_a_user_error(repo: tuple[Context, Path]) -> None:
    with pytest.raises(UserError, match="--changed-since no-such-ref"):
        changes.changed_paths(repo[1], "no-such-ref")


def test_a_ref_is_never_read_as_a_git_option(repo: tuple[Context, Path], tmp_path: Path) -> None:
    written = tmp_path / "pwned"
    with pytest.raises(UserError, match="--changed-since --output="):
        changes.changed_paths(repo[1], f"--output={written}")
    assert not written.exists()


# Known assignments (SHA-256 of the label, mod N, plus one; shared always in shard 1),
# written down once so a change to the hashing shows here.
PINNED_SHARDS = {
    "shared": (1, 1, 1),
    "acme": (2, 4, 3),
    "globex": (2, 4, 4),
    "initech": (2, 4, 4),
    "tenant-1": (2, 4, 4),
    "tenant-42": (1, 1, 5),
    "zeta": (2, 2, 1),
    "hooli": (1, 3, 3),
    "umbrella": (2, 2, 7),
    "wayne": (1, 1, 4),
}


@pytest.mark.parametrize(("index", "total"), [(0, 2), (1, 4), (2, 7)])
def test_shards_are_pinned(index: int, total: int) -> None:
    got = {label: changes.shard_of(label, total) for label in PINNED_SHARDS}
    assert got == {label: shards[index] for label, shards in PINNED_SHARDS.items()}


def test_shards_partition_the_fleet() -> None:
    labels = [f"tenant-{i}" for i in range(500)]
    for total in (1, 3, 8):
        shards = [changes.shard_of(x, total) for x in labels]
        assert set(shards) == set(range(1, total + 1))
        assert min(shards.count(i) for i in range(1, total + 1)) > 500 / total / 2  # balanced
    assert changes.matrix(2) == {"include": [{"shard": "1/2"}, {"shard": "2/2"}]}
    with pytest.raises(UserError):
        changes.parse_shard("3/2")
    assert changes.parse_shard("2/4") == (2, 4)


def test_transient_errors_are_retried_then_reported(project: Path) -> None:
    env = Project(project).load_env("local")
    ctx = Context(env, UI(quiet=True))
    runner = fleet.Runner(ctx, fleet.Options(backoff=0.01), lambda r: None)
    ws = ctx.tenant_workspace("acme")
    attempts: list[int] = []

    def flaky() -> fleet.WorkspaceResult:
        attempts.append(1)
        if len(attempts) < 3:
            raise LockError("state locked by bob")
        return fleet.WorkspaceResult("acme", ExitCode.OK)

    assert runner._attempt(ws, flaky).attempts == 3
    attempts.clear()

    def throttled() -> fleet.WorkspaceResult:
        attempts.append(1)
        raise TerraformError("terraform plan failed in acme: Throttling: Rate exceeded")

    result = runner._attempt(ws, throttled)
    assert (result.attempts, result.exit_code) == (fleet.MAX_ATTEMPTS, ExitCode.ERROR)
    attempts.clear()

    def broken() -> fleet.WorkspaceResult:
        attempts.append(1)
        raise TerraformError("terraform plan failed in acme: Unsupported argument")

    assert runner._attempt(ws, broken).attempts == 1  # not transient: no retry


def test_aggregate_and_markdown() -> None:
    results = [
        fleet.WorkspaceResult("shared", ExitCode.OK),
        fleet.WorkspaceResult("acme", ExitCode.CHANGES, {"add": ["a", "b"], "destroy": ["c"]}),
        fleet.WorkspaceResult(
            "beta", ExitCode.ERROR, error="policy: x: no", violations=["x: no", "y: no"]
        ),
    ]
    assert fleet.aggregate(results) == ExitCode.ERROR
    assert fleet.aggregate(results[:2]) == ExitCode.CHANGES
    assert fleet.aggregate(results[:1]) == ExitCode.OK
    data = fleet.report("local", "plan", fleet.Options(), results, 1.5)
    assert data["totals"] == {"workspaces": 3, "with_changes": 1, "failed": 1}
    md = fleet.summary_markdown(data)
    assert "| `acme` | changes | 2 | 0 | 1 | 0 |" in md
    assert "1 workspace(s) without changes." in md
    assert "- `beta`: policy: x: no" in md and "  - y: no" in md


def test_render_manifest_skips_only_when_nothing_changed(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    assert fleet.render_all(ctx, check=False) == []  # writes the manifest
    assert (root / ".saasctl/render/local.json").is_file()
    assert fleet.render_all(ctx, check=True) == []
    rendered = root / "terraform/envs/local/tenants/globex/terraform.tfvars.json"
    rendered.write_text(rendered.read_text().replace('"cpu": 512', '"cpu": 4096'))
    assert fleet.render_all(ctx, check=True) == [
        "terraform/envs/local/tenants/globex/terraform.tfvars.json"
    ]
    assert fleet.render_all(ctx, check=False) != []  # rewrites it
    assert fleet.render_all(ctx, check=True) == []
    (root / "terraform/envs/local/tenants/ghost").mkdir()
    assert fleet.render_all(ctx, check=True) == [
        "terraform/envs/local/tenants/ghost (no tenant.yaml)"
    ]
    (root / "terraform/envs/local/tenants/ghost").rmdir()
    spec = root / "terraform/envs/local/tenants/acme/tenant.yaml"
    spec.write_text(spec.read_text().replace("tier: basic", "tier: premium"))
    stale = fleet.render_all(ctx, check=True)
    assert "terraform/envs/local/tenants/acme/main.tf" in stale
    assert "terraform/envs/local/shared/terraform.tfvars.json" in stale  # its WAF rate limit


def test_only_tenant_directory_changes_narrow_the_candidates(repo: tuple[Context, Path]) -> None:
    ctx, _ = repo
    base = "terraform/envs/local/tenants"
    assert changes.candidate_tenants(ctx, {f"{base}/acme/tenant.yaml", "README.md"}) == {"acme"}
    assert changes.candidate_tenants(ctx, {"terraform/envs/local/shared/main.tf"}) == set()
    assert (
        changes.candidate_tenants(ctx, {f"{base}/acme/tenant.yaml", "templates/tenant/basic.tf.j2"})
        is None
    )
    assert changes.candidate_tenants(ctx, {"terraform/modules/ecs-service/main.tf"}) is None
    assert changes.candidate_tenants(ctx, {"terraform/envs/local/env.yaml"}) is None


def test_select_with_changed_since_plans_only_the_changed_tenant(
    repo: tuple[Context, Path],
) -> None:
    ctx, root = repo
    edit(root / "terraform/envs/local/tenants/beta/tenant.yaml", "tags: {Team: y}\n")
    picked = fleet.select(ctx, fleet.Options(changed_since="HEAD"))
    assert [w.label for w in picked] == ["beta"]
    picked = fleet.select(ctx, fleet.Options(changed_since="HEAD", shard=(2, 2)))
    assert [w.label for w in picked] == ["beta"]  # beta is in shard 2 of 2 (sha256)
    picked = fleet.select(ctx, fleet.Options(changed_since="HEAD", shard=(1, 2)))
    assert [w.label for w in picked] == []


def test_a_shared_template_selects_the_shared_workspace(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    edit(root / "templates/shared/main.tf.j2", "{# touched #}\n")
    assert selected(ctx) == ["shared"]


def test_saasctl_code_and_docs_select_nothing(repo: tuple[Context, Path]) -> None:
    ctx, root = repo
    for name in ("saasctl/render.py", "saasctl/fleet.py", "README.md", "bench/fleet.py"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("# the tool itself, not a workspace's input\n")
    git(root, "-c", "user.email=t@t", "-c", "user.name=t", "add", "-A")
    git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qm", "code")
    for name in ("saasctl/render.py", "saasctl/fleet.py", "README.md", "bench/fleet.py"):
        edit(root / name)
    assert selected(ctx) == []


@pytest.mark.parametrize(
    ("module", "expected"),
    [
        # shared-stack calls vpc, vpc-endpoints, alb, waf, ecs-cluster, ecs-service;
        # tenant-advanced calls ecs-service; tenant-premium ecs-cluster and ecs-service.
        ("ecs-service", ["shared", "globex", "initech"]),
        ("ecs-cluster", ["shared", "initech"]),
        ("vpc", ["shared"]),
        ("tenant-basic", ["acme", "beta"]),
    ],
)
def test_real_modules_select_through_the_modules_that_call_them(
    repo: tuple[Context, Path], module: str, expected: list[str]
) -> None:
    _, root = repo
    env_file = root / "terraform/envs/local/env.yaml"
    env_file.write_text(env_file.read_text().replace("modules: standin", "modules: real"))
    git(root, "-c", "user.email=t@t", "-c", "user.name=t", "commit", "-qam", "real modules")
    ctx = Context(Project(root).load_env("local"), UI(quiet=True))
    edit(root / f"terraform/modules/{module}/main.tf")
    assert selected(ctx) == expected


def test_the_ci_cache_key_follows_what_init_depends_on(project: Path) -> None:
    """Stable while nothing init depends on changes; a new key for a changed module
    file, template, backend setting or terraform binary."""
    import dataclasses

    def key(binary: object = None) -> str:
        ctx = Context(Project(project).load_env("golden"), UI(quiet=True), binary)  # type: ignore[arg-type]
        return changes.cache_key(ctx)

    first = key()
    assert key() == first
    edit(project / "templates" / "shared" / "main.tf.j2", "\n")
    assert key() != first
    second = key()
    edit(project / "terraform/modules/vpc/main.tf")
    assert key() != second
    third = key()
    env_file = project / "terraform/envs/golden/env.yaml"
    text = env_file.read_text()
    env_file.write_text(text.replace("bucket: ", "bucket: x", 1))
    assert key() != third
    env_file.write_text(text)
    assert key() == third
    ctx = Context(Project(project).load_env("golden"), UI(quiet=True))
    older = dataclasses.replace(ctx.binary, version=(0, 15, 0))
    assert key(older) != third
    assert changes.cache_paths("golden") == [
        "terraform/envs/golden/**/.terraform",
        "terraform/envs/golden/**/.terraform.lock.hcl",
        ".saasctl",
    ]


def test_a_cached_render_keeps_a_suspended_tenant_blocked(repo: tuple[Context, Path]) -> None:
    """Unchanged tenants come from the render manifest: their suspension too, or the
    shared stack's next render would open the edge to a suspended tenant."""
    ctx, root = repo
    base = root / "terraform/envs/local"
    spec = base / "tenants/globex/tenant.yaml"
    spec.write_text(
        spec.read_text() + "suspension: {reason: unpaid, since: '2026-12-07T00:00:00Z'}\n"
    )
    fleet.render_all(ctx, check=False)
    shared = base / "shared/terraform.tfvars.json"
    assert json.loads(shared.read_text())["suspended_hosts"] == ["globex.saas.local"]
    other = base / "tenants/acme/tenant.yaml"  # another tenant changes: a render of the rest
    other.write_text(other.read_text() + "tags: {Team: blue}\n")
    fleet.render_all(ctx, check=False)
    assert json.loads(shared.read_text())["suspended_hosts"] == ["globex.saas.local"]

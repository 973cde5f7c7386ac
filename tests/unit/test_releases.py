"""Releases as reviewed files, which unit runs which, and rendering from them."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from saasctl import releases, render
from saasctl.errors import ConflictError, SpecError, UserError
from saasctl.files import atomic_write
from saasctl.project import Environment, Project
from saasctl.specs import PoolSpec, TenantSpec, Tier, check_image
from tests.conftest import CliResult, tree_digest

WEB = "registry.example.com/web:1.4.0"
API = "registry.example.com/api@sha256:" + "a" * 64


@pytest.fixture
def env(project: Path) -> Environment:
    return Project(project).load_env("local")


def tenant(env: Environment, tid: str, tier: Tier, release: str | None = None) -> TenantSpec:
    spec = TenantSpec(id=tid, tier=tier, listener_priority=100 + 10 * len(env.tenant_ids()),
                      release=release)  # fmt: skip
    atomic_write(env.tenant_file(tid), spec.to_yaml())
    return spec


@pytest.mark.parametrize(
    "image",
    ["repo/web:1.0", "localhost:5000/team/web:2024-01-01_1", "web:v1",
     "registry.example.com/web@sha256:" + "0" * 64],
)  # fmt: skip
def test_pinned_images_are_accepted(image: str) -> None:
    assert check_image(image) == image


@pytest.mark.parametrize(
    ("image", "why"),
    [("repo/web:latest", "latest"), ("repo/web", "not pinned"),
     ("localhost:5000/web", "not pinned"), ("repo/web@sha256:abc", "not pinned"),
     ("repo/web:", "not pinned"), ("re po/web:1", "not pinned")],
)  # fmt: skip
def test_moving_or_untagged_images_are_refused(image: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        check_image(image)


def test_create_writes_a_reviewable_file_once(env: Environment) -> None:
    release, changed = releases.create(env, "1.4.0", {"web": WEB, "api": API}, notes="faster")
    assert changed and release.version == "1.4.0"
    text = env.release_file("1.4.0").read_text()
    assert "version: 1.4.0" in text and WEB in text and "notes: faster" in text
    assert releases.create(env, "1.4.0", {"web": WEB, "api": API}, notes="faster")[1] is False
    assert env.load_release("1.4.0") == release


def test_a_release_must_name_each_service_once(env: Environment) -> None:
    with pytest.raises(SpecError, match="no image for service 'api'"):
        releases.create(env, "1.0.0", {"web": WEB})
    with pytest.raises(SpecError, match="unknown service 'worker'"):
        releases.create(env, "1.0.0", {"web": WEB, "api": API, "worker": WEB})
    with pytest.raises(UserError, match="invalid release version"):
        releases.create(env, "../x", {"web": WEB, "api": API})
    assert not env.releases_dir.exists() or not list(env.releases_dir.iterdir())


def test_a_release_in_use_is_immutable(env: Environment) -> None:
    releases.create(env, "1.0.0", {"web": WEB, "api": API})
    tenant(env, "globex", Tier.ADVANCED, "1.0.0")
    with pytest.raises(ConflictError, match="immutable: globex run"):
        releases.create(env, "1.0.0", {"web": "repo/web:9", "api": API})
    releases.create(env, "1.1.0", {"web": WEB, "api": API})
    releases.create(env, "1.1.0", {"web": "repo/web:2", "api": API})  # nobody runs it yet


def test_upgradeable_from_must_name_existing_releases(env: Environment) -> None:
    from saasctl.errors import NotFoundError

    with pytest.raises(NotFoundError, match=r"release '0\.9\.0' not found"):
        releases.create(env, "1.0.0", {"web": WEB, "api": API}, upgradeable_from=["0.9.0"])


def test_units_and_what_they_run(env: Environment) -> None:
    releases.create(env, "1.0.0", {"web": WEB, "api": API})
    tenant(env, "acme", Tier.BASIC)
    tenant(env, "globex", Tier.ADVANCED, "1.0.0")
    tenant(env, "initech", Tier.PREMIUM)
    atomic_write(env.pool_file, PoolSpec(release="1.0.0").to_yaml())
    assert [u.label for u in releases.units(env)] == ["pool", "globex", "initech"]
    assert releases.running(env) == {"1.0.0": ["pool", "globex"], None: ["initech"]}
    assert releases.release_of(env, env.load_tenant("acme")) == "1.0.0"  # the pool's
    assert env.current_release() == "1.0.0"


def test_rendering_takes_images_from_the_release(env: Environment) -> None:
    releases.create(env, "2.0.0", {"web": WEB, "api": API})
    advanced = TenantSpec(id="globex", tier=Tier.ADVANCED, listener_priority=110, release="2.0.0")
    images = {s["name"]: s["image"] for s in render.tenant_inputs(env, advanced)["services"]}
    assert images == {"web": WEB, "api": API}
    # no release yet (projects from before releases): env.yaml's images
    legacy = advanced.model_copy(update={"release": None})
    images = {s["name"]: s["image"] for s in render.tenant_inputs(env, legacy)["services"]}
    assert images == {s.name: s.image for s in env.spec.services}
    # basic tenants hold no image: their services run in the pool
    basic = TenantSpec(id="acme", tier=Tier.BASIC, listener_priority=100)
    assert all("image" not in s for s in render.tenant_inputs(env, basic)["services"])
    shared = render.shared_inputs(env, env.first_cell, [basic], PoolSpec(release="2.0.0"))
    assert {s["name"]: s["image"] for s in shared["services"]} == {"web": WEB, "api": API}
    # a release the pool runs changes only the shared workspace's files
    before = render.render_tenant(env, basic)
    assert render.render_shared(env, env.first_cell, [basic], PoolSpec()) != render.render_shared(
        env, env.first_cell, [basic], PoolSpec(release="2.0.0")
    )
    assert render.render_tenant(env, basic) == before


def test_a_spec_naming_an_unknown_release_is_one_clear_error(env: Environment) -> None:
    from saasctl.errors import NotFoundError

    spec = TenantSpec(id="globex", tier=Tier.ADVANCED, listener_priority=110, release="3.0.0")
    with pytest.raises(NotFoundError, match=r"release '3\.0\.0' not found"):
        render.render_tenant(env, spec)


def test_cli_create_and_list(project: Path, run_cli: Callable[..., CliResult]) -> None:
    made = run_cli("release", "create", "1.4.0", "--image", f"web={WEB}", "--image", f"api={API}",
                   "--notes", "faster", "--json")  # fmt: skip
    assert made.code == 0, made.err
    assert json.loads(made.out)["written"] is True
    listed = run_cli("release", "list", "--json")
    data = json.loads(listed.out)
    assert [r["version"] for r in data["releases"]] == [None, "1.4.0"]
    assert data["releases"][0]["units"] == ["pool"] and data["current"] is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--image", "web=repo/web:latest", "--image", f"api={API}"], "uses :latest"),
        (["--image", "web=repo/web", "--image", f"api={API}"], "is not pinned"),
        (["--image", f"web={WEB}"], "no image for service 'api'"),
        (["--image", f"web={WEB}", "--image", f"api={API}", "--image", f"db={WEB}"],
         "unknown service 'db'"),
        (["--image", "web"], "expected SERVICE=IMAGE"),
    ],
)  # fmt: skip
def test_cli_bad_release_is_one_line_and_nothing_written(
    project: Path, run_cli: Callable[..., CliResult], args: list[str], message: str
) -> None:
    before = tree_digest(project)
    result = run_cli("release", "create", "1.4.0", *args)
    assert result.code == 3, result.err
    lines = [ln for ln in result.err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert tree_digest(project) == before

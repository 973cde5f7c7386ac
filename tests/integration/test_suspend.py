"""Suspend and resume, one tenant of each tier, on the real modules through the
offline provider (ECS, Cognito in the emulator; the web ACL in state), newest
terraform: the edge answers 503, users are disabled, the tenant's own services
go to zero, and a resume restores exactly what was there, desired counts an
operator changed included. Killed in the middle, each converges when run again;
a release leaves a suspended tenant at zero."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import (
    BINARIES,
    NEEDS_OFFLINE_AWS,
    NEEDS_TERRAFORM,
    Stack,
    blocked_hosts,
    failpoint_log,
    make_stack,
    tasks_fare,
)

pytestmark = [pytest.mark.integration, NEEDS_TERRAFORM, NEEDS_OFFLINE_AWS]
TENANTS = {"acme": "basic", "globex": "advanced", "initech": "premium"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    env_file = REPO / "terraform/envs/local/env.yaml"
    root = copy_project(tmp_path_factory.mktemp("suspend"), {"local": env_file}, modules="real")
    with moto_server(log=root / "moto.log") as url:
        s = make_stack(root, url, BINARIES[-1], SAASCTL_LOCK_TIMEOUT="2s")
        s.saasctl("bootstrap")
        s.saasctl("apply", "--shared-only", "--yes", timeout=1800)
        for tenant, tier in TENANTS.items():
            admin = f"--admin-email=admin@{tenant}.example.com"
            s.saasctl("tenant", "onboard", tenant, "--tier", tier, admin, "--yes", timeout=900)
        yield s


def _services(s: Stack, tenant: str) -> dict[str, dict[str, Any]]:
    shown = json.loads(s.saasctl("tenant", "show", tenant, "--json").stdout)
    return dict(shown["outputs"]["tenant"]["services"])


def _desired(s: Stack, tenant: str) -> dict[str, int]:
    ecs = s.client("ecs")
    out = {}
    for name, svc in _services(s, tenant).items():
        [found] = ecs.describe_services(cluster=svc["cluster_arn"],
                                        services=[svc["service_name"]])["services"]  # fmt: skip
        out[name] = found["desiredCount"]
    return out


def _users(s: Stack, tenant: str) -> dict[str, bool]:
    config = json.loads(s.saasctl("tenant", "show", tenant, "--json").stdout)["config"]
    idp = s.client("cognito-idp")
    if config["group"]:
        found = idp.list_users_in_group(UserPoolId=config["user_pool_id"],
                                        GroupName=config["group"])["Users"]  # fmt: skip
    else:
        found = idp.list_users(UserPoolId=config["user_pool_id"])["Users"]
    return {u["Username"]: u["Enabled"] for u in found}


def _blocked_hosts(s: Stack) -> list[str]:
    found = blocked_hosts(s)
    return sorted(f"{t}.saas.local" for t in TENANTS if f"{t}.saas.local" in found)


def _suspended(s: Stack) -> dict[str, Any]:
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    return {t["id"]: t["suspended"] and t["suspended"]["reason"] for t in listing}


def test_suspend_and_resume_each_tier(fleet: Stack, tmp_path: Any) -> None:
    s = fleet
    ecs, idp = s.client("ecs"), s.client("cognito-idp")
    # Before: an operator scaled globex's web to 3, and disabled one of its users.
    web = _services(s, "globex")["web"]
    ecs.update_service(cluster=web["cluster_arn"], service=web["service_name"], desiredCount=3)
    pool = json.loads(s.saasctl("tenant", "show", "globex", "--json").stdout)["config"]
    idp.admin_create_user(UserPoolId=pool["user_pool_id"], Username="left@globex.example.com",
                          MessageAction="SUPPRESS")  # fmt: skip
    idp.admin_disable_user(UserPoolId=pool["user_pool_id"], Username="left@globex.example.com")
    before = {t: (_desired(s, t), _users(s, t)) for t in TENANTS}
    assert before["globex"][0] == {"api": 1, "web": 3}

    # Not confirmed (no --yes, no terminal): nothing changes.
    s.saasctl("tenant", "suspend", "globex", "--reason", "unpaid", check=5)
    assert _suspended(s)["globex"] is None and _blocked_hosts(s) == []

    out = json.loads(s.saasctl("tenant", "suspend", "globex", "--reason", "unpaid", "--yes",
                               "--json", timeout=900).stdout)  # fmt: skip
    assert out["data"]["users_disabled"] == 1
    s.saasctl("tenant", "suspend", "acme", "--yes", timeout=900)
    # Killed once the edge is blocked, before its services and users: a re-run finishes.
    log = tmp_path / "failpoints"
    died = s.popen_env({**s.env, "SAASCTL_FAILPOINTS": "suspend-applied=kill",
                        "SAASCTL_FAILPOINT_LOG": str(log)},
                       "tenant", "suspend", "initech", "--reason", "audit", "--yes")  # fmt: skip
    died.communicate(timeout=900)
    assert died.returncode == -9 and failpoint_log(log)[-1]["point"] == "suspend-applied"
    assert _desired(s, "initech") == before["initech"][0]  # not yet at zero
    assert s.converge("initech", "tenant", "suspend", "initech", "--reason", "audit",
                      "--yes")[-1] == "rerun=0"  # fmt: skip

    assert _suspended(s) == {"acme": "", "globex": "unpaid", "initech": "audit"}
    assert _blocked_hosts(s) == [f"{t}.saas.local" for t in sorted(TENANTS)]
    for tenant in ("globex", "initech"):
        assert set(_desired(s, tenant).values()) == {0}, tenant
    for tenant in TENANTS:
        assert not any(_users(s, tenant).values()), tenant
    planned = json.loads(s.saasctl("plan", "--json", timeout=900).stdout)  # no drift: exit 0
    noted = {w["workspace"] for w in planned["workspaces"] if w["note"]}
    assert noted == set(TENANTS)  # the report says which tenants it leaves suspended

    # A release across the fleet updates their task definitions, never their size.
    s.saasctl("release", "create", "2.0.0", "--image", "web=registry.example.com/web:2.0.0",
              "--image", "api=repo/api:2.0.0")  # fmt: skip
    s.saasctl("release", "rollout", "2.0.0", "--yes", timeout=1800)
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: t["release"] for t in listing}["globex"] == "2.0.0"
    assert set(_desired(s, "globex").values()) == {0}
    unit = json.loads(s.saasctl("release", "status", "--json").stdout)["units"]["globex"]
    assert unit["state"] == "healthy" and unit["note"].startswith("suspended: ")

    # Resumed: exactly as before, the operator's count and disabled user included.
    s.saasctl("tenant", "resume", "globex", "--yes", timeout=900)
    s.saasctl("tenant", "resume", "acme", "--yes", timeout=900)
    died = s.popen_env({**s.env, "SAASCTL_FAILPOINTS": "resume-applied=kill",
                        "SAASCTL_FAILPOINT_LOG": str(log)},
                       "tenant", "resume", "initech", "--yes")  # fmt: skip
    died.communicate(timeout=900)
    assert died.returncode == -9 and failpoint_log(log)[-1]["point"] == "resume-applied"
    assert _suspended(s)["initech"] == "audit"  # still recorded: the re-run restores from it
    assert s.converge("initech", "tenant", "resume", "initech", "--yes")[-1] == "rerun=0"
    for tenant in TENANTS:
        assert (_desired(s, tenant), _users(s, tenant)) == before[tenant], tenant
    assert _suspended(s) == dict.fromkeys(TENANTS)
    assert _blocked_hosts(s) == []
    assert "suspension" not in (s.tenant_dir("globex") / "tenant.yaml").read_text()
    assert s.saasctl("plan", timeout=900).returncode == 0
    # Resuming a tenant that is not suspended changes nothing.
    assert "not suspended" in s.saasctl("tenant", "resume", "acme", "--yes").stderr


def test_an_onboard_is_done_when_the_tenant_serves(fleet: Stack) -> None:
    """An onboard waits for the tenant's services to serve: a premium tenant whose
    api image never gets placed (no capacity) is reported unhealthy, exit 1, and
    left as it is; once its tasks run, the next onboard finds it serving."""
    s = fleet
    current = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    release = {t["id"]: t["release"] for t in current}["globex"]
    image = f"repo/api:{release}"  # what a new tenant runs: the current release's
    tasks_fare(s.endpoint, image, "pending")
    failed = s.saasctl("tenant", "onboard", "hooli", "--tier", "premium", "--yes",
                       "--wait-timeout", "3s", check=1, timeout=900)  # fmt: skip
    assert "hooli does not serve: not healthy after 3s: service " in failed.stderr
    assert "api: deployment in progress" in failed.stderr
    listed = {t["id"]: t for t in json.loads(s.saasctl("tenant", "list", "--json").stdout)[
        "tenants"]}  # fmt: skip
    assert listed["hooli"]["status"] == "applied"
    assert "deployment in progress" in listed["hooli"]["unhealthy"]
    assert "unhealthy" in s.saasctl("tenant", "list").stdout
    # --no-wait: converged, not waited for (still marked: nobody saw it serve).
    s.saasctl("tenant", "onboard", "hooli", "--tier", "premium", "--yes", "--no-wait")
    assert _unhealthy(s, "hooli")
    tasks_fare(s.endpoint, image, "ok")  # capacity came back: ECS's retries succeed
    done = s.saasctl("tenant", "onboard", "hooli", "--tier", "premium", "--yes")
    assert "hooli serves: healthy" in done.stderr
    assert not _unhealthy(s, "hooli")
    s.saasctl("tenant", "onboard", "hooli", "--tier", "premium", "--no-wait",
              "--wait-timeout", "3s", check=3)  # fmt: skip


def _unhealthy(s: Stack, tenant: str) -> str | None:
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    return {t["id"]: t["unhealthy"] for t in listing}[tenant]  # type: ignore[no-any-return]

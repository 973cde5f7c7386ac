"""A project built by saasctl before releases takes its first release: rendered
again, planned with nothing stateful destroyed or replaced, applied, and rolled
out in the default waves. Real modules through the offline provider, newest
terraform.

The project is built by saasctl as it was before releases (the commit below,
from git: its code, templates, modules and env file), then
taken over by this saasctl, as the README's upgrade note says."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.conftest import (
    NEEDS_AWS,
    NEEDS_TERRAFORM,
    Stack,
    built_by,
    needs_commit,
    old_saasctl,
    take_over,
)

BEFORE_RELEASES = "a24dcfeb901410b2399accd8f31a5ebf6a31f3b0"  # the commit before releases
TENANTS = {"acme": "basic", "globex": "advanced", "initech": "premium"}
# Never destroyed or replaced by an upgrade: they hold data, identities or traffic.
STATEFUL = ("aws_dynamodb_table", "aws_cognito_user_pool", "aws_kms_key", "aws_s3_bucket",
            "aws_lb", "aws_ecs_cluster", "aws_vpc", "aws_wafv2_web_acl")  # fmt: skip

ROLLOUT = """rollout:
  deployment_timeout: 60s
  waves:
    - {name: canary, tiers: [advanced], bake: 1s}
    - {name: advanced, tiers: [advanced], parallelism: 4, bake: 1s}
    - {name: pool, pool: true, bake: 1s}
    - {name: premium, tiers: [premium], bake: 1s}
"""

pytestmark = [pytest.mark.integration, NEEDS_TERRAFORM, NEEDS_AWS, needs_commit(BEFORE_RELEASES)]


def _no_stateful_change(s: Stack, *args: str) -> None:
    """``saasctl plan`` has changes, and none destroys or replaces anything
    stateful (the hardening since then replaces task definitions and policies)."""
    planned = s.saasctl("plan", "--json", *args, check=None, timeout=900)
    assert planned.returncode == 2, planned.stderr[-4000:]
    for w in json.loads(planned.stdout)["workspaces"]:
        assert w["error"] is None, w
        touched = [a for a in w["destroyed"] + w["replaced"]
                   if re.sub(r"\[[^]]*\]$", "", a).rsplit(".", 2)[-2] in STATEFUL]  # fmt: skip
        assert touched == [], (w["workspace"], touched)


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    yield from built_by(BEFORE_RELEASES, tmp_path_factory.mktemp("before-releases"))


def test_a_project_from_before_releases_takes_its_first_release(
    before: tuple[Stack, Path],
) -> None:
    s, old_code = before
    old = old_saasctl(s, old_code)
    old("bootstrap")
    old("apply", "--shared-only", "--yes")
    for tenant, tier in TENANTS.items():
        old("tenant", "onboard", tenant, "--tier", tier, "--yes")
    keys = set(s.object_keys("local/"))

    # This saasctl, its templates and modules, over the same files and state.
    take_over(s)
    stale = s.saasctl("render", "--check", check=None)
    assert stale.returncode != 0 and "stale" in (stale.stdout + stale.stderr).lower()
    s.saasctl("render")
    s.saasctl("render", "--check")
    # The shared stack first: the tenants read its outputs from its state, and the
    # old state has none of the outputs the new tenant modules take. A plan of
    # everything says so for each tenant.
    early = json.loads(s.saasctl("plan", "--json", check=1, timeout=900).stdout)
    hint = "apply it first: `saasctl apply --shared-only --cell main`"
    assert {w["workspace"]: hint in (w["error"] or "") for w in early["workspaces"]} == {
        "shared": False,
        **dict.fromkeys(TENANTS, True),
    }
    _no_stateful_change(s, "--shared-only")
    s.saasctl("apply", "--shared-only", "--yes", timeout=1800)
    _no_stateful_change(s)
    # The policy gates refuse a destructive plan without --allow-destroy: none here.
    s.saasctl("apply", "--yes", timeout=1800)
    assert s.saasctl("plan", timeout=900).returncode == 0
    assert keys <= set(s.object_keys("local/"))  # every state key where it was

    # Until its first rollout each unit runs env.yaml's images; then the release's.
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: (t["status"], t["release"]) for t in listing} == dict.fromkeys(
        TENANTS, ("applied", None)
    )
    s.saasctl("release", "create", "2.0.0", "--image", "web=repo/web:2.0.0",
              "--image", "api=repo/api:2.0.0")  # fmt: skip
    # The default waves (bakes of 5 and 10 minutes); the rollout here bakes for a
    # second, as the local environment does, in waves of the same shape.
    shown = json.loads(s.saasctl("release", "plan", "2.0.0", "--json", check=2).stdout)
    assert [(w["name"], w["units"]) for w in shown["waves"]] == [
        ("canary", ["globex"]),
        ("advanced", []),
        ("pool", ["pool"]),
        ("premium", ["initech"]),
    ]
    env_file = s.root / "terraform/envs/local/env.yaml"
    env_file.write_text(env_file.read_text() + ROLLOUT)
    s.saasctl("release", "rollout", "2.0.0", "--yes", timeout=1800)
    status = json.loads(s.saasctl("release", "status", "--json").stdout)
    assert status["state"] == "completed"
    assert {u["detail"] for u in status["units"].values()} == {"healthy"}
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: t["release"] for t in listing} == dict.fromkeys(TENANTS, "2.0.0")
    assert s.saasctl("plan", timeout=900).returncode == 0

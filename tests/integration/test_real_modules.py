"""The real AWS modules end to end: init, plan, apply, clean re-plan, destroy on moto.

Needs the hashicorp/aws provider, which cannot be downloaded on machines without
internet. Point SAASCTL_PROVIDER_MIRROR at a filesystem mirror that holds it
(`terraform providers mirror DIR` on a connected machine creates one); the test
then renders the local environment with `modules: real` and runs the lifecycle
against a moto server with the provider's endpoints pointed at it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from saasctl.backend import aws_provider_available
from saasctl.emulator import moto_server
from saasctl.terraform import find_binary
from tests.conftest import REPO, copy_project
from tests.integration.conftest import Stack, make_stack

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not aws_provider_available(),
        reason="hashicorp/aws provider not installable here: set SAASCTL_PROVIDER_MIRROR to a "
        "filesystem mirror holding registry.terraform.io/hashicorp/aws (see README)",
    ),
]


@pytest.fixture(scope="module")
def real_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("real"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    env_file = root / "terraform/envs/local/env.yaml"
    env_file.write_text(env_file.read_text().replace("modules: auto", "modules: real"))
    with moto_server(log=root / "moto.log") as url:
        yield make_stack(root, url, find_binary(), MOTO_IAM_LOAD_MANAGED_POLICIES="true")


def test_real_modules_lifecycle(real_stack: Stack) -> None:
    s = real_stack
    s.saasctl("bootstrap")
    s.saasctl("apply", "--shared-only", "--yes", timeout=1800)
    for tenant, tier in (("acme", "basic"), ("globex", "advanced"), ("initech", "premium")):
        s.saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes", timeout=1800)
    s.saasctl("plan", check=0, timeout=1800)  # a clean re-plan after apply
    for tenant in ("acme", "globex", "initech"):
        out = json.loads(s.saasctl("tenant", "offboard", tenant, "--yes", "--json").stdout)
        assert out["archive"]
    assert not any(Path(s.root / "terraform/envs/local/tenants").glob("*/tenant.yaml"))

"""Plans of the real modules, state only, through the offline provider: what a
module grants follows from its inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from saasctl import lifecycle
from tests.conftest import REPO
from tests.integration.conftest import BINARIES, NEEDS_OFFLINE_AWS, NEEDS_TERRAFORM
from tests.integration.test_conformance import offline_terraform

pytestmark = [pytest.mark.integration, NEEDS_TERRAFORM, NEEDS_OFFLINE_AWS]
PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]


def _execution_policies(tmp_path: Path, images: dict[str, str]) -> dict[str, dict]:  # type: ignore[type-arg]
    tf = offline_terraform(BINARIES[-1])
    workdir = lifecycle.prepare(REPO / "tests" / "fixtures" / "ecr-pull", tmp_path / "ecr")
    (workdir / "terraform.tfvars.json").write_text(json.dumps({"images": images}))
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    tf.run(workdir, ["plan", "-input=false", "-no-color", "-out=plan"], ok_codes=(0, 2))
    plan = json.loads(tf.run(workdir, ["show", "-json", "plan"]).stdout)
    return {  # module.service["private"] -> its execution role's policy
        rc["module_address"].split('"')[1]: json.loads(rc["change"]["after"]["policy"])
        for rc in plan["resource_changes"]
        if rc["type"] == "aws_iam_role_policy" and rc["name"] == "execution"
    }


def test_a_private_ecr_image_is_pulled_from_its_repository_only(tmp_path: Path) -> None:
    images = {
        "private": "111122223333.dkr.ecr.eu-west-1.amazonaws.com/team/api:1.4.0",
        "digest": "444455556666.dkr.ecr.us-east-2.amazonaws.com/web@sha256:" + "a" * 64,
        "public": "public.ecr.aws/nginx/nginx:1.27",
    }
    policies = _execution_policies(tmp_path, images)

    def granted(name: str) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for st in policies[name]["Statement"]:
            for action in st["Action"] if isinstance(st["Action"], list) else [st["Action"]]:
                if action.startswith("ecr:"):
                    res = st["Resource"]
                    found[action] = sorted(res if isinstance(res, list) else [res])
        return found

    private = granted("private")
    repo = "arn:aws:ecr:eu-west-1:111122223333:repository/team/api"
    assert all(private[a] == [repo] for a in PULL), private
    assert private["ecr:GetAuthorizationToken"] == ["*"]  # AWS gives it no resource type
    digest = granted("digest")
    assert digest["ecr:BatchGetImage"] == ["arn:aws:ecr:us-east-2:444455556666:repository/web"]
    assert granted("public") == {}  # a public image needs no pull permission

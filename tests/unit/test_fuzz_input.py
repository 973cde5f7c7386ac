"""Property-based bad input: every input works or gives one line and a documented
exit code; never a traceback, never a file outside the tenant's directory, never
a value inside HCL. (A slice of the reliability issue; AWS is not reached here.)"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from saasctl import cli
from saasctl.backend import share_cache
from saasctl.project import Project
from saasctl.render import render_tenant
from saasctl.specs import TenantSpec, Tier
from tests.conftest import tree_digest

FUZZ = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
NASTY = st.sampled_from(
    [
        '"',
        '${file("/etc/passwd")}',
        "%{ if true }x%{ endif }",
        "\n",
        "}\n",
        "../../",
        "\\",
        "\x00",
        "é",
        "<<EOF",
        "#",
        "//",
        "*",
        " ",
    ]
)
TEXT = st.lists(st.one_of(NASTY, st.text(max_size=8)), max_size=6).map("".join)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = cli.run(list(args))
    captured = capsys.readouterr()
    assert "Traceback" not in captured.out + captured.err
    return code, captured.err


def assert_ok_or_one_line(code: int, err: str) -> None:
    """Rendered (0), or refused with exit 3 and a single `error:` line."""
    assert code in (0, 3), err
    if code == 3:
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: "), err


def digest_outside(project: Path, prefix: str) -> dict[str, str]:
    return {k: v for k, v in tree_digest(project).items() if not k.startswith(prefix)}


@contextmanager
def fresh_copy(project: Path) -> Iterator[Path]:
    """A new copy of the pristine project for one example, and SAASCTL_ROOT on it:
    edits never pile up across examples, and a failing example replays alone."""
    with tempfile.TemporaryDirectory(dir=project.parent) as tmp:
        root = Path(tmp) / "proj"
        shutil.copytree(project / "terraform" / "envs", root / "terraform" / "envs")
        # Read-only inputs are linked, not copied (the pristine digest covers them).
        (root / "templates").symlink_to(project / "templates")
        (root / "terraform" / "modules").symlink_to(project / "terraform" / "modules")
        share_cache(project / ".saasctl", root / ".saasctl")
        before = os.environ["SAASCTL_ROOT"]
        os.environ["SAASCTL_ROOT"] = str(root)
        try:
            yield root
        finally:
            os.environ["SAASCTL_ROOT"] = before


@FUZZ
@given(tenant_id=TEXT)
def test_any_tenant_id(project: Path, capsys: pytest.CaptureFixture[str], tenant_id: str) -> None:
    with fresh_copy(project) as root:
        before = tree_digest(root)
        code, err = run(capsys, "tenant", "show", tenant_id, "--env", "golden")
        assert code == 3  # invalid, or valid but unknown: never anything else offline
        lines = [ln for ln in err.splitlines() if ln.strip()]
        assert len(lines) == 1 and lines[0].startswith("error: ")
        assert tree_digest(root) == before


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(10**6), 10**6), TEXT)
SPEC_VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
KEYS = st.sampled_from(["id", "tier", "listener_priority", "tags", "overrides", "extra"])


@FUZZ
@given(doc=st.one_of(st.dictionaries(KEYS, SPEC_VALUES, max_size=5), TEXT))
def test_any_spec_file(project: Path, capsys: pytest.CaptureFixture[str], doc: object) -> None:
    with fresh_copy(project) as root:
        spec = root / "terraform/envs/golden/tenants/acme/tenant.yaml"
        spec.parent.mkdir(parents=True, exist_ok=True)
        spec.write_text(yaml.safe_dump(doc) if isinstance(doc, dict) else str(doc))
        outside = digest_outside(root, "terraform/envs/golden/tenants/acme/")
        code, err = run(capsys, "render", "--env", "golden")
        assert_ok_or_one_line(code, err)
        after = digest_outside(root, "terraform/envs/golden/tenants/acme/")
        changed = {k for k in set(after) | set(outside) if after.get(k) != outside.get(k)}
        assert changed <= {
            f"terraform/envs/golden/shared/{n}"
            for n in ("main.tf", "backend.tf.json", "terraform.tfvars.json")
        }
        for path in (root / "terraform/envs/golden/tenants").rglob("*"):
            assert path.is_relative_to(root / "terraform/envs/golden/tenants/acme")


@FUZZ
@given(
    tags=st.dictionaries(
        st.text(min_size=1, max_size=10).filter(
            lambda k: k not in {"Tenant", "Tier", "Environment", "ManagedBy"}  # set by saasctl
        ),
        TEXT,
        max_size=4,
    )
)
def test_values_never_reach_hcl(project: Path, tags: dict[str, str]) -> None:
    env = Project(project).load_env("golden")
    base = render_tenant(env, TenantSpec(id="acme", tier=Tier.ADVANCED, listener_priority=100))
    files = render_tenant(
        env, TenantSpec(id="acme", tier=Tier.ADVANCED, listener_priority=100, tags=tags)
    )
    assert files["main.tf"] == base["main.tf"]
    assert {
        k: v for k, v in json.loads(files["terraform.tfvars.json"])["tags"].items() if k in tags
    } == tags


ENV_KEYS = st.sampled_from(
    ["name", "region", "account_id", "domain", "emulator", "endpoint", "modules",
     "backend", "network", "listener_priorities", "tags", "tiers", "services", "extra"]
)  # fmt: skip


@FUZZ
@given(changes=st.dictionaries(ENV_KEYS, SPEC_VALUES, max_size=3), drop=st.booleans())
def test_any_env_file(
    project: Path, capsys: pytest.CaptureFixture[str], changes: dict[str, object], drop: bool
) -> None:
    """An env file with fields replaced (or removed) by anything: it renders, or one
    line and exit 3 naming the file; nothing outside the environment is written."""
    with fresh_copy(project) as root:
        env_file = root / "terraform/envs/golden/env.yaml"
        doc = yaml.safe_load(env_file.read_text())
        for key, value in changes.items():
            if drop:
                doc.pop(key, None)
            else:
                doc[key] = value
        env_file.write_text(yaml.safe_dump(doc))
        outside = digest_outside(root, "terraform/envs/golden/")
        code, err = run(capsys, "render", "--env", "golden")
        assert_ok_or_one_line(code, err)
        assert digest_outside(root, "terraform/envs/golden/") == outside

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
FEWER = settings(FUZZ, max_examples=60)  # each example is a project copy and a CLI run
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


def _vpc_cidr() -> st.SearchStrategy[tuple[str, bool]]:
    """(value, valid): networks built right, or wrong in one way by construction."""
    prefix = st.integers(16, 20)
    valid = st.tuples(st.sampled_from([10, 172, 192]), st.integers(0, 255), prefix).flatmap(
        lambda t: st.integers(0, (1 << (t[2] - 16)) - 1).map(
            lambda k: (f"{t[0]}.{t[1]}.{k << (24 - t[2])}.0/{t[2]}", True)
        )
    )
    host_bits = st.tuples(st.integers(0, 255), prefix).map(
        lambda t: (f"10.{t[0]}.0.9/{t[1]}", False)
    )
    bad_prefix = st.integers(0, 32).filter(lambda p: not 16 <= p <= 20)
    return st.one_of(
        valid,
        host_bits,
        bad_prefix.map(lambda p: (f"10.0.0.0/{p}", False)),
        st.integers(256, 999).map(lambda o: (f"10.{o}.0.0/16", False)),
    )


@FEWER
@given(case=_vpc_cidr())
def test_vpc_networks_are_judged_by_meaning(
    project: Path, capsys: pytest.CaptureFixture[str], case: tuple[str, bool]
) -> None:
    """A VPC network of the right shape but wrong meaning (host bits, a prefix the
    VPC module cannot split, an octet past 255) is refused with its line; a right
    one renders."""
    value, valid = case
    with fresh_copy(project) as root:
        env_file = root / "terraform/envs/golden/env.yaml"
        env_file.write_text(
            env_file.read_text().replace("vpc_cidr: 10.42.0.0/16", f"vpc_cidr: {value}")
        )
        code, err = run(capsys, "render", "--env", "golden")
        if valid:
            assert code == 0, err
        else:
            assert code == 3, err
            assert_ok_or_one_line(code, err)
            assert "env.yaml:" in err and "vpc_cidr" in err, err


AMBIGUOUS = st.one_of(
    st.integers(1, 999).map(lambda n: f"0{n}"),  # octal in YAML 1.1
    st.tuples(st.integers(1, 9), st.integers(0, 99)).map(lambda t: f"{t[0]}_{t[1]:02d}"),
    st.tuples(st.integers(1, 59), st.integers(0, 59)).map(lambda t: f"{t[0]}:{t[1]:02d}"),
    st.integers(1, 4095).map(lambda n: f"0x{n:x}"),
    st.integers(0, 9).map(lambda n: f"0{n}"),  # text in YAML 1.1, a number in 1.2
    st.tuples(st.integers(1, 9), st.integers(1, 9)).map(lambda t: f"{t[0]}e{t[1]}"),
    st.sampled_from(["yes", "no", "on", "off", "Yes", "NO", "On", "OFF"]),
)


@FEWER
@given(value=AMBIGUOUS, where=st.sampled_from(["priority", "tag"]))
def test_values_yaml_reads_ambiguously_are_refused(
    project: Path, capsys: pytest.CaptureFixture[str], value: str, where: str
) -> None:
    """Written plain, these mean different things to YAML 1.1 and 1.2 readers (and to
    reviewers): refused with exit 3 and the line, never silently converted."""
    with fresh_copy(project) as root:
        spec = root / "terraform/envs/golden/tenants/acme/tenant.yaml"
        spec.parent.mkdir(parents=True, exist_ok=True)
        if where == "priority":
            spec.write_text(f"id: acme\ntier: basic\nlistener_priority: {value}\n")
        else:
            spec.write_text(
                f"id: acme\ntier: basic\nlistener_priority: 100\ntags:\n  Team: {value}\n"
            )
        code, err = run(capsys, "render", "--env", "golden")
        assert code == 3, err
        assert_ok_or_one_line(code, err)
        line = 3 if where == "priority" else 5
        assert f"tenant.yaml:{line}: '{value}'" in err, err


@FUZZ
@given(
    tags=st.dictionaries(
        st.one_of(AMBIGUOUS, st.text(min_size=1, max_size=6)),
        st.one_of(AMBIGUOUS, TEXT, st.sampled_from(["08", "1e3", "null", "~", "", ".inf"])),
        max_size=4,
    )
)
def test_what_saasctl_writes_it_reads_back(project: Path, tags: dict[str, str]) -> None:
    """Spec files saasctl writes quote whatever a YAML reader could take for something
    else, so its own strict reader takes them back exactly."""
    spec = TenantSpec(id="acme", tier=Tier.BASIC, listener_priority=100, tags=tags)
    path = project / "terraform/envs/golden/tenants/acme/tenant.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(spec.to_yaml())
    try:
        assert Project(project).load_env("golden").load_tenant("acme") == spec
    finally:
        path.unlink()

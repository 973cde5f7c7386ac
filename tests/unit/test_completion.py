"""Shell completion (bash protocol, as `saasctl --install-completion` installs it):
commands, tiers, environments, tenant ids and release versions, from the
project's files alone, and silent when the project cannot be read."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from saasctl import cli
from saasctl.specs import ReleaseSpec, TenantSpec, Tier
from tests.conftest import REPO

Complete = Callable[..., list[str]]


@pytest.fixture
def complete(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., list[str]]:
    """What bash would offer after ``words`` (a trailing space starts a new word):
    the completion protocol `--install-completion` sets up, run in-process."""

    def offer(words: str, **env: str) -> list[str]:
        with monkeypatch.context() as m:
            m.setenv("_SAASCTL_COMPLETE", "complete_bash")
            m.setenv("COMP_WORDS", words)
            m.setenv("COMP_CWORD", str(len(words.split(" ")) - 1))
            for name, value in env.items():
                m.setenv(name, value)
            with pytest.raises(SystemExit) as exit_:
                cli.run([])
        out = capsys.readouterr()
        assert exit_.value.code == 0, out.err
        assert out.err == ""
        return out.out.split()

    return offer


def add_tenant(project: Path, env: str, tenant: str, priority: int) -> None:
    spec = TenantSpec(id=tenant, tier=Tier.ADVANCED, listener_priority=priority)
    path = project / "terraform/envs" / env / "tenants" / tenant / "tenant.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(spec.to_yaml())


def test_commands_and_tiers(project: Path, complete: Complete) -> None:
    assert complete("saasctl ten") == ["tenant"]
    assert {"onboard", "offboard", "set-tier", "show"} <= set(complete("saasctl tenant "))
    assert complete("saasctl release roll") == ["rollout", "rollback"]
    assert complete("saasctl tenant onboard x --tier ") == ["basic", "advanced", "premium"]
    assert complete("saasctl tenant onboard x --tier p") == ["premium"]


def test_environments_tenants_and_releases(project: Path, complete: Complete) -> None:
    add_tenant(project, "golden", "acme", 100)
    add_tenant(project, "golden", "acorn", 110)
    add_tenant(project, "local", "zeta", 100)
    assert set(complete("saasctl plan --env ")) == {"golden", "local"}
    assert sorted(complete("saasctl tenant show --env golden a")) == ["acme", "acorn"]
    assert complete("saasctl tenant offboard --env golden acm") == ["acme"]
    assert complete("saasctl tenant show ", SAASCTL_ENV="local") == ["zeta"]
    assert complete("saasctl tenant onboard ") == []  # a new id: nothing to offer
    release = ReleaseSpec(version="2.0.0", images={"web": "r/web:2.0.0", "api": "r/api:2.0.0"})
    path = project / "terraform/envs/local/releases/2.0.0.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(release.to_yaml())
    assert complete("saasctl release rollout 2") == ["2.0.0"]


def test_a_broken_project_completes_nothing_quietly(project: Path, complete: Complete) -> None:
    add_tenant(project, "local", "zeta", 100)
    env_file = project / "terraform/envs/local/env.yaml"
    env_file.write_text(env_file.read_text() + "\nextra: [\n")
    assert complete("saasctl tenant show ") == []
    assert complete("saasctl tenant show ", SAASCTL_ROOT=str(project / "nowhere")) == []


def test_completion_loads_neither_the_aws_sdk_nor_the_template_engine(project: Path) -> None:
    """Every TAB starts saasctl: botocore's clients and jinja2 (a quarter of a second of
    imports) are loaded on first use, never for completion or --help."""
    add_tenant(project, "local", "zeta", 100)
    script = (
        "import sys\n"
        "from saasctl import cli\n"
        "try:\n"
        "    cli.run([])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('botocore.session', 'botocore.client', 'jinja2')\n"
        "print('loaded:', *sorted(m for m in heavy if m in sys.modules), file=sys.stderr)\n"
    )
    env = {
        **os.environ,
        "_SAASCTL_COMPLETE": "complete_bash",
        "COMP_WORDS": "saasctl tenant show z",
        "COMP_CWORD": "3",
    }
    proc = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.stdout.split() == ["zeta"], proc.stderr  # the completion itself worked
    assert proc.stderr.strip() == "loaded:"

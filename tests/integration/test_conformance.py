"""The offline AWS provider's conformance corpus (tests/conformance/): each case
through init, validate, plan, apply, a clean re-plan and destroy with real
terraform, and every check the case states in its `checks` output true.

Terraform runs as `eval "$(saasctl offline env)"` sets it up, through saasctl's
one runner, on a copy of the case."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from saasctl import lifecycle
from saasctl.project import Project
from saasctl.terraform import Binary, Terraform, parse_version
from tests.conftest import REPO
from tests.integration.conftest import BINARIES, BINARY_PARAMS, NEEDS_OFFLINE_AWS, NEEDS_TERRAFORM

CORPUS = REPO / "tests" / "conformance"
# Roots of their own: provider functions (terraform >= 1.8), the emulator-backed
# types (test_emulator_backed.py) and quotas (test_offline_limits.py); every other
# class is a module of the corpus root.
STANDALONE = {"functions", "backed", "limits", "random", "time", "local-archive", "tls",
              "ephemeral"}  # fmt: skip
CLASSES = sorted(p.name for p in CORPUS.iterdir() if (p / "main.tf").is_file())

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
    NEEDS_OFFLINE_AWS,
]


def offline_terraform(binary: Binary) -> Terraform:
    return lifecycle.offline_terraform(Project(REPO).load_env("local"), binary)


def checks(tf: Terraform, workdir: Path) -> dict[str, bool]:
    out = tf.run(workdir, ["output", "-json", "-no-color", "checks"])
    data = json.loads(out.stdout)
    assert isinstance(data, dict) and data, f"{workdir.name}: no checks"
    return data


def test_the_corpus_covers_every_class() -> None:
    assert set(CLASSES) == {
        "arns", "backed", "data-sources", "ephemeral", "functions", "limits", "local-archive",
        "prefixes",
        "provider-meta", "random", "tags", "time", "tls", "unique-ids", "unknown-blocks",
        "values",
    }  # fmt: skip
    root = (CORPUS / "main.tf").read_text()
    assert all(f'"./{name}"' in root for name in set(CLASSES) - STANDALONE)


# The utility providers' protocol on terraform 1.0 is covered by the random
# provider's test (both binaries); the others check behaviour, on the newest only.
NEWEST = BINARIES[-1] if BINARIES else None


def applied(tf: Terraform, source: Path, dest: Path) -> Path:
    """A copy of the case through init .. a clean re-plan, every check true."""
    workdir = lifecycle.prepare(source, dest)
    outcome = lifecycle.run(tf, workdir, until="replan")
    assert outcome.ok, outcome.first_error()
    found = checks(tf, workdir)
    assert all(found.values()), {k: v for k, v in found.items() if not v}
    return workdir


def lifecycle_with_checks(
    tf: Terraform, source: Path, dest: Path, update: Path | None = None
) -> dict[str, bool]:
    """init .. clean re-plan, every check true (again after ``update``), destroy."""
    workdir = applied(tf, source, dest)
    found = checks(tf, workdir)
    if update is not None:
        var_file = f"-var-file={update}"
        tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color", var_file])
        replan = tf.run(workdir, ["plan", "-detailed-exitcode", "-no-color", var_file],
                        ok_codes=(0, 2))  # fmt: skip
        assert replan.code == 0, replan.stdout[-2000:]
        found = checks(tf, workdir)
        assert all(found.values()), {k: v for k, v in found.items() if not v}
    destroyed = tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color"])
    assert "Destroy complete!" in destroyed.stdout
    assert tf.run(workdir, ["state", "list"]).stdout.strip() == ""
    return found


@pytest.mark.parametrize("binary", BINARY_PARAMS)
def test_the_corpus_through_the_lifecycle(binary: Binary, tmp_path: Path) -> None:
    found = lifecycle_with_checks(
        offline_terraform(binary), CORPUS, tmp_path / "corpus", CORPUS / "update.tfvars"
    )
    classes = {k.split(":", 1)[0] for k in found}
    assert classes == set(CLASSES) - STANDALONE
    print(f"{len(found)} checks over {len(classes)} classes, all true")


@pytest.mark.parametrize("binary", BINARY_PARAMS)
def test_provider_functions(binary: Binary, tmp_path: Path) -> None:
    minimum = (CORPUS / "functions" / "min_terraform").read_text().strip()
    if binary.version < parse_version(minimum):
        pytest.skip(f"provider functions need terraform >= {minimum}")
    found = lifecycle_with_checks(offline_terraform(binary), CORPUS / "functions", tmp_path / "f")
    assert len(found) == 6


@pytest.mark.parametrize("binary", BINARY_PARAMS)
def test_the_random_provider_offline(binary: Binary, tmp_path: Path) -> None:
    """hashicorp/random (and null 3.x) from the offline mirror: well-formed values,
    stable in state (a clean re-plan), a changed keeper (trigger) replaces only its
    resource, secrets stay sensitive."""
    tf = offline_terraform(binary)
    workdir = applied(tf, CORPUS / "random", tmp_path / "random")

    def values() -> dict[str, str]:
        out = tf.run(workdir, ["output", "-json", "-no-color", "values"]).stdout
        got: dict[str, str] = json.loads(out)
        return got

    before = values()
    update = f"-var-file={CORPUS / 'random' / 'update.tfvars'}"
    tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color", update])
    after = values()
    rotated = {"password", "null"}  # their keeper, their trigger changed
    assert all(after[k] != before[k] for k in rotated)
    assert {k: v for k, v in after.items() if k not in rotated} == {
        k: v for k, v in before.items() if k not in rotated}  # fmt: skip
    replan = tf.run(workdir, ["plan", "-detailed-exitcode", "-no-color", update], ok_codes=(0, 2))
    assert replan.code == 0, replan.stdout[-2000:]
    shown = tf.run(workdir, ["plan", "-no-color", "-var=rotation=3"]).stdout  # replaces it
    assert "random_password.db must be replaced" in shown
    # the resource's own diff hides it (the `values` output unwraps it on purpose)
    resource = shown.split("random_password.db must be replaced", 1)[1].split("\n\n", 1)[0]
    assert re.search(r"result\s+= \(sensitive value\)", resource), resource
    assert after["password"] not in resource
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color", update])


def test_ephemeral_resources_and_write_only_arguments(tmp_path: Path) -> None:
    """An ephemeral random_password written through a write-only argument: the apply
    works, and neither the plan nor the state holds the value."""
    minimum = (CORPUS / "ephemeral" / "min_terraform").read_text().strip()
    if NEWEST is None or NEWEST.version < parse_version(minimum):
        pytest.skip(f"ephemeral resources and write-only arguments need terraform >= {minimum}")
    tf = offline_terraform(NEWEST)
    workdir = applied(tf, CORPUS / "ephemeral", tmp_path / "ephemeral")
    state = json.loads(tf.run(workdir, ["state", "pull"]).stdout)
    [version] = [r for r in state["resources"] if r["type"] == "aws_secretsmanager_secret_version"]
    assert version["instances"][0]["attributes"]["secret_string_wo"] is None
    assert not [r for r in state["resources"] if r.get("mode") == "ephemeral"]
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color"])


def test_the_time_provider_offline(tmp_path: Path) -> None:
    """hashicorp/time from the offline mirror: times kept in state (a clean re-plan),
    an offset changed in place, a rotation that is due makes its resource anew."""
    tf = offline_terraform(NEWEST)
    found = lifecycle_with_checks(tf, CORPUS / "time", tmp_path / "time",
                                  CORPUS / "time" / "update.tfvars")  # fmt: skip
    assert len(found) == 5
    workdir = lifecycle.prepare(CORPUS / "time", tmp_path / "rotation")
    base = "-var=rotating_base=2020-01-01T00:00:00Z"
    tf.run(workdir, ["init", "-input=false", "-no-color"])
    changed = tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color"])
    assert "4 added" in changed.stdout
    ids = json.loads(tf.run(workdir, ["output", "-json", "-no-color", "ids"]).stdout)
    moved = tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color",
                             "-var=offset_hours=5"]).stdout  # fmt: skip
    assert "0 added, 1 changed, 0 destroyed" in moved  # the offset, in place
    after = json.loads(tf.run(workdir, ["output", "-json", "-no-color", "ids"]).stdout)
    assert after == {**ids, "offset": "2026-03-03T15:00:00Z"}
    tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color", base,
                     "-var=offset_hours=5"])  # fmt: skip
    due = tf.run(workdir, ["plan", "-detailed-exitcode", "-no-color", base,
                           "-var=offset_hours=5"], ok_codes=(0, 2))  # fmt: skip
    assert due.code == 2 and "time_rotating.key will be created" in due.stdout, due.stdout
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color"])


def test_the_local_and_archive_providers_offline(tmp_path: Path) -> None:
    """hashicorp/local and archive: real files and zips, digests that match them, a
    file deleted behind terraform's back written anew, everything removed on destroy."""
    tf = offline_terraform(NEWEST)
    workdir = applied(tf, CORPUS / "local-archive", tmp_path / "la")
    with zipfile.ZipFile(workdir / "build" / "lambda.zip") as zf:
        assert zf.read("index.py").startswith(b"def handler(event, context):")
    assert oct((workdir / "build" / "token").stat().st_mode & 0o777) == "0o700"
    (workdir / "build" / "index.py").unlink()
    again = tf.run(workdir, ["plan", "-detailed-exitcode", "-no-color"], ok_codes=(0, 2))
    assert again.code == 2 and "local_file.handler will be created" in again.stdout
    tf.run(workdir, ["apply", "-auto-approve", "-input=false", "-no-color"])
    assert (workdir / "build" / "index.py").is_file()
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color"])
    assert not (workdir / "build" / "index.py").exists()
    assert not (workdir / "build" / "token").exists()


def test_the_tls_provider_offline(tmp_path: Path) -> None:
    """hashicorp/tls: keys of each algorithm, a CA and a certificate it signed, read
    back by the data sources, stable in state; the private keys never printed."""
    tf = offline_terraform(NEWEST)
    workdir = applied(tf, CORPUS / "tls", tmp_path / "tls")
    shown = tf.run(workdir, ["state", "show", "-no-color", "tls_private_key.rsa"]).stdout
    assert "BEGIN RSA PRIVATE KEY" not in shown and "(sensitive value)" in shown
    tf.run(workdir, ["destroy", "-auto-approve", "-input=false", "-no-color"])


def checkout(root: Path, name: str, version: str) -> Path:
    """A community-style module repository: a root module, a submodule, a changelog."""
    repo = root / name
    (repo / "modules" / "sub").mkdir(parents=True)
    (repo / "main.tf").write_text('variable "x" {\n  default = "top"\n}\n\n'
                                  'output "x" {\n  value = var.x\n}\n')  # fmt: skip
    (repo / "modules" / "sub" / "main.tf").write_text('output "y" {\n  value = "sub"\n}\n')
    (repo / "CHANGELOG.md").write_text(f"# Changelog\n\n## [{version}](https://x) (2026-11-01)\n")
    return repo


def test_registry_modules_resolve_from_local_checkouts(tmp_path: Path) -> None:
    """`saasctl offline env --modules DIR`: plain `terraform init` resolves registry
    sources (a submodule, version constraints) from checkouts; a module nobody
    fetched, or a version no checkout has, is terraform's one error naming it."""
    checkouts = tmp_path / "checkouts"
    # named as `fetch` names a repository: its owner, a "+" (kept as is in the
    # file:// address the registry hands terraform, whose getter decodes no %2B)
    checkout(checkouts, "terraform-aws-modules+terraform-aws-kms", "3.1.0")

    def offline_env(*args: str) -> dict[str, str]:
        command = [sys.executable, "-m", "saasctl", "offline", "env", *args]
        printed = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                                 check=True).stdout  # fmt: skip
        found = {**os.environ, **dict(re.findall(r"^export (\w+)=(.*)$", printed, re.M))}
        return {k: v.strip("'") for k, v in found.items()} | {"printed": printed}

    env = offline_env("--modules", str(checkouts))
    shell = env.pop("printed")
    assert "--unset stops it" in shell
    assert "# serving terraform-aws-modules/kms/aws 3.1.0\n" in shell
    tf = Terraform(NEWEST, cli_config=Path(env["TF_CLI_CONFIG_FILE"]), env=env, timeout=300)
    try:
        work = tmp_path / "root"
        work.mkdir()
        (work / "main.tf").write_text(
            'module "kms" {\n  source  = "terraform-aws-modules/kms/aws"\n  version = "~> 3.0"\n}\n'
            'module "sub" {\n  source  = "terraform-aws-modules/kms/aws//modules/sub"\n'
            '  version = "3.1.0"\n}\n'
            'output "o" {\n  value = [module.kms.x, module.sub.y]\n}\n'
        )  # fmt: skip
        tf.run(work, ["init", "-input=false", "-no-color"])
        tf.run(work, ["apply", "-auto-approve", "-input=false", "-no-color"])
        out = json.loads(tf.run(work, ["output", "-json", "-no-color", "o"]).stdout)
        assert out == ["top", "sub"]
        for source, version, message in [
            # nobody fetched it: the error names the repository to fetch, and where
            (
                "terraform-aws-modules/eks/aws",
                "~> 20.0",
                f"fetch terraform-aws-modules/terraform-aws-eks into {checkouts.resolve()}",
            ),
            ("terraform-aws-modules/kms/aws", "~> 4.0", "The newest available"),
        ]:
            bad = tmp_path / source.replace("/", "-")
            bad.mkdir()
            (bad / "main.tf").write_text(f'module "m" {{\n  source  = "{source}"\n'
                                         f'  version = "{version}"\n}}\n')  # fmt: skip
            failed = tf.run(bad, ["init", "-input=false", "-no-color"], ok_codes=(1,))
            assert message in " ".join((failed.stdout + failed.stderr).split())
        # a provider no mirror offers: one error naming it, and no network call
        google = tmp_path / "google"
        google.mkdir()
        wanted = '    google = {\n      source = "hashicorp/google"\n    }\n'
        text = f"terraform {{\n  required_providers {{\n{wanted}  }}\n}}\n"
        (google / "main.tf").write_text(text)
        outcome = lifecycle.run(tf, google, until="init")
        assert outcome.first_error().endswith(
            "provider registry.terraform.io/hashicorp/google was not found in any of the "
            "search locations"
        ), outcome.first_error()
        # another shell's registry, of other checkouts, is its own
        checkout(tmp_path / "other", "terraform-aws-sns", "1.0.0")
        other = offline_env("--modules", str(tmp_path / "other"))
        other.pop("printed")
    finally:  # this shell's --unset stops this shell's registry only
        subprocess.run([sys.executable, "-m", "saasctl", "offline", "env", "--unset"],
                       cwd=REPO, capture_output=True, check=True, env=env)  # fmt: skip

    def port_of(shell_env: dict[str, str]) -> int:
        config = Path(shell_env["TF_CLI_CONFIG_FILE"]).read_text()
        return int(re.search(r"127\.0\.0\.1:(\d+)", config)[1])  # type: ignore[index]

    with pytest.raises(ConnectionRefusedError):  # stopped with --unset
        socket.create_connection(("127.0.0.1", port_of(env)), timeout=2).close()
    socket.create_connection(("127.0.0.1", port_of(other)), timeout=2).close()  # still serving
    subprocess.run([sys.executable, "-m", "saasctl", "offline", "env", "--unset"],
                   cwd=REPO, capture_output=True, check=True, env=other)  # fmt: skip
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port_of(other)), timeout=2).close()

"""Run any Terraform directory through the whole lifecycle with saasctl's offline AWS
provider: init, validate, plan, apply, re-plan (must be clean), destroy.

The directory is copied first (with every local module it reaches, and registry
modules mapped to local checkouts), so the original is never touched. Used by
the conformance corpus in the tests and by ``bench/conformance.py`` to measure
fidelity on code nobody here wrote. Terraform runs through the one runner.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from saasctl.errors import SaasctlError
from saasctl.terraform import Binary, Terraform

if TYPE_CHECKING:
    from saasctl.project import Environment

STAGES = ("init", "validate", "plan", "apply", "replan", "destroy")
_LOCAL_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.{1,2}/[^"]*)"', re.M)
_CHANGED = re.compile(r"^\s*# (\S+) (?:will be|must be)", re.M)
_IGNORE = shutil.ignore_patterns(".git", ".terraform", "*.tfstate", "*.tfstate.*", "*.tfplan")


@dataclass
class Stage:
    name: str
    ok: bool
    seconds: float
    error: str = ""


@dataclass
class Outcome:
    directory: str
    stages: list[Stage] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(1 for s in self.stages if s.ok)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.stages)

    def first_error(self) -> str:
        return next((f"{s.name}: {s.error}" for s in self.stages if not s.ok), "")


def _reached(directory: Path) -> set[Path]:
    """The directory and every local module directory it reaches, transitively."""
    seen: set[Path] = set()
    todo = [directory.resolve()]
    while todo:
        current = todo.pop()
        if current in seen or not current.is_dir():
            continue
        seen.add(current)
        for tf in current.glob("*.tf"):
            for src in _LOCAL_SOURCE.findall(tf.read_text(encoding="utf-8", errors="replace")):
                todo.append((current / src.split("//")[0]).resolve())
    return seen


def map_sources(root: Path, sources: dict[str, Path]) -> None:
    """Point registry module sources (``terraform-aws-modules/vpc/aws``, with or
    without ``//subdir``) at local checkouts copied under ``root``, and drop their
    ``version`` constraint (a local module has none)."""
    if not sources:
        return
    local: dict[str, Path] = {}
    for i, (address, checkout) in enumerate(sorted(sources.items())):
        dest = root / ".modules" / f"{i}-{address.replace('/', '-')}"
        if not dest.exists():
            shutil.copytree(checkout, dest, ignore=_IGNORE, symlinks=True)
        local[address] = dest
    pattern = re.compile(
        r'(source\s*=\s*)"(' + "|".join(re.escape(a) for a in local) + r')(//[^"?]*)?(\?[^"]*)?"'
        r"(\s*\n\s*version\s*=\s*\"[^\"]*\")?"
    )
    for tf in root.rglob("*.tf"):
        text = tf.read_text(encoding="utf-8", errors="replace")

        def local_path(m: re.Match[str], here: Path = tf.parent) -> str:
            target = local[m.group(2)] / (m.group(3) or "//").lstrip("/")
            return f'{m.group(1)}"{Path(os.path.relpath(target, here)).as_posix()}"'

        new = pattern.sub(local_path, text)
        if new != text:
            tf.write_text(new, encoding="utf-8")


_TARGETED = re.compile(r"^\s*\$?\s*terraform (apply|destroy)((?:\s+-target=\S+)+)", re.M)


def readme_targets(directory: Path) -> dict[str, list[list[str]]]:
    """The ``-target`` runs the directory's README.md says come first."""
    found: dict[str, list[list[str]]] = {"apply": [], "destroy": []}
    readme = directory / "README.md"
    if readme.is_file():
        for verb, targets in _TARGETED.findall(readme.read_text(errors="replace")):
            found[verb].append(targets.split())
    return found


def offline_terraform(
    env: Environment, binary: Binary, modules: list[Path] | None = None, timeout: float = 600
) -> Terraform:
    """terraform as `eval "$(saasctl offline env)"` sets it up, with no emulator
    endpoint: every type in state only (the conformance corpus, the benchmark)."""
    from saasctl import backend

    shell = backend.offline_shell(env, None, modules)
    config = Path(shell.pop("TF_CLI_CONFIG_FILE"))
    return Terraform(binary, cli_config=config, env=shell, timeout=timeout)


def prepare(directory: Path, dest: Path, sources: dict[str, Path] | None = None) -> Path:
    """Copy ``directory`` with the local modules it reaches into ``dest``; returns the copy
    of ``directory`` there."""
    directory = directory.resolve()
    reached = _reached(directory)
    top = Path(os.path.commonpath([str(p) for p in reached]))
    # Only the directories reached: their common parent may be a whole project
    # (with its virtualenvs), which is not terraform's to read.
    for reached_dir in sorted(reached):
        shutil.copytree(reached_dir, dest / reached_dir.relative_to(top), ignore=_IGNORE,
                        symlinks=True, dirs_exist_ok=True)  # fmt: skip
    map_sources(dest, sources or {})
    return dest / directory.relative_to(top)


def run(
    tf: Terraform, workdir: Path, *, stop_on_failure: bool = True, until: str = STAGES[-1]
) -> Outcome:
    """The lifecycle in ``workdir`` (a prepared copy), up to stage ``until``. A stage
    after a failure is reported failed as not reached (``stop_on_failure``).

    Targeted steps the directory's README prescribes (``terraform apply
    -target=...`` before the plan, ``terraform destroy -target=...`` first) run as
    part of the plan and destroy stages, as a user following it would run them."""
    outcome = Outcome(str(workdir))
    plan = workdir / "conformance.tfplan"
    first = readme_targets(workdir)
    steps: list[tuple[str, list[list[str]], tuple[int, ...]]] = [
        ("init", [["init", "-input=false", "-no-color"]], (0,)),
        ("validate", [["validate", "-no-color"]], (0,)),
        ("plan", [*(["apply", "-auto-approve", "-input=false", "-no-color", *t]
                    for t in first["apply"]),
                  ["plan", "-input=false", "-no-color", f"-out={plan}"]], (0,)),
        ("apply", [["apply", "-input=false", "-no-color", str(plan)]], (0,)),
        ("replan", [["plan", "-input=false", "-no-color", "-detailed-exitcode"]], (0, 2)),
        ("destroy", [*(["destroy", "-auto-approve", "-input=false", "-no-color", *t]
                       for t in first["destroy"]),
                     ["destroy", "-auto-approve", "-input=false", "-no-color"]], (0,)),
    ]  # fmt: skip
    steps = steps[: STAGES.index(until) + 1]
    failed = False
    for name, commands, ok_codes in steps:
        if failed and stop_on_failure:
            outcome.stages.append(Stage(name, False, 0.0, "not reached"))
            continue
        start = time.monotonic()
        try:
            for args in commands:
                result = tf.run(
                    workdir, args, ok_codes=(*ok_codes, 2) if name == "replan" else ok_codes
                )
            ok, error = result.code == 0, ""
            if not ok:  # a re-plan with changes: name what changed
                changed = _CHANGED.findall(result.stdout)
                error = f"changes after apply: {', '.join(changed[:4]) or 'outputs'}"
        except SaasctlError as exc:
            ok, error = False, exc.one_line()
        outcome.stages.append(Stage(name, ok, time.monotonic() - start, "" if ok else error))
        failed = failed or not ok
    return outcome

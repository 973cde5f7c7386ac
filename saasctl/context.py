"""What a command works with: project, environment, console, AWS, terraform."""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import secrets
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from saasctl import backend, failpoints, render
from saasctl.aws import Aws
from saasctl.console import UI
from saasctl.errors import AbortedError, BackendError, SaasctlError, TerraformError, UserError
from saasctl.files import atomic_write, file_lock, write_if_changed
from saasctl.project import SHARED, Cell, Environment
from saasctl.state import LockHolder, StateStore, pid_alive
from saasctl.terraform import Binary, PlanSummary, Redactor, Terraform, find_binary

# What terraform says when a workspace needs `init` again.
NEEDS_INIT = (
    "terraform init",
    "Backend initialization required",
    "Module not installed",
    "Required plugins are not installed",
    "Inconsistent dependency lock file",
    "Module source has changed",
    "Backend configuration changed",
)
RUNTIME_DIR = ".terraform"  # per-workspace, never committed
# Plan files are per run (process), so two runs in one checkout never share one.
RUN_ID = f"{os.getpid()}-{secrets.token_hex(3)}"
PLAN_GLOB = "saasctl*.tfplan"
STALE_PLAN = "Saved plan is stale"


@dataclass(frozen=True)
class Workspace:
    """A rendered workspace: a cell's shared one (tenant_id None) or a tenant's,
    with the cell it belongs to (a tenant's: the cell whose shared stack it uses)."""

    dir: Path
    state_key: str
    tenant_id: str | None = None
    cell: str | None = None  # None: the first cell
    shared_label: str = SHARED  # a cell's shared workspace: 'shared', 'shared@c2'

    @property
    def label(self) -> str:
        return self.shared_label if self.tenant_id is None else self.tenant_id

    @property
    def runtime(self) -> Path:
        return self.dir / RUNTIME_DIR

    @property
    def planfile(self) -> Path:
        return self.runtime / f"saasctl-{RUN_ID}.tfplan"


_our_plans: set[Path] = set()


@atexit.register
def _remove_our_plans() -> None:
    """Plans this run made and did not apply (plan-only, fleet plans, declined)."""
    for path in _our_plans:
        path.unlink(missing_ok=True)


def prune_plan_files(runtime: Path) -> None:
    """Remove plan files of runs that are gone (killed runs leave theirs behind)."""
    for path in runtime.glob(PLAN_GLOB):
        pid = path.name.removeprefix("saasctl-").split("-", 1)[0]
        if not pid.isdigit() or not pid_alive(int(pid)):
            path.unlink(missing_ok=True)


# How long a plan waits for terraform's state lock held by another run.
LOCK_TIMEOUT_ENV = "SAASCTL_LOCK_TIMEOUT"
# How long a run waits for another run's convergence of the shared workspace.
SHARED_WAIT_ENV = "SAASCTL_SHARED_LOCK_WAIT"
_UNITS = {"s": 1, "m": 60, "h": 3600}


def duration(name: str, default: str) -> float:
    """Seconds from an environment variable like terraform's durations: 30s, 10m, 1h."""
    text = os.environ.get(name, default).strip()
    number, unit = (text[:-1], text[-1]) if text[-1:] in _UNITS else (text, "s")
    try:
        seconds = float(number) * _UNITS[unit]
    except ValueError:
        raise UserError(f"{name}={text!r} is not a duration like 30s, 10m or 1h") from None
    if seconds < 0:
        raise UserError(f"{name}={text!r} must not be negative")
    return seconds


class Context:
    def __init__(self, env: Environment, ui: UI, binary: Binary | None = None) -> None:
        self.env = env
        self.ui = ui
        self._binary = binary

    @cached_property
    def aws(self) -> Aws:
        return Aws(self.env.spec)

    @cached_property
    def store(self) -> StateStore:
        return StateStore(self.env, self.aws)

    @cached_property
    def binary(self) -> Binary:
        binary = self._binary or find_binary()
        self.ui.debug(f"using {binary.describe()}")
        return binary

    @cached_property
    def tf(self) -> Terraform:
        offline = render.uses_offline_aws(self.env)
        cli_config, held = backend.prepare_providers(self.env.project.cache, offline_aws=offline)
        self.ui.debug(f"provider mirror holds: {', '.join(held) or 'nothing'}")
        env = self.aws.terraform_env()
        if offline:
            env.update(
                backend.offline_aws_env(
                    self.env.project.cache, self.env.spec.account_id, self.env.spec.quotas
                )
            )
            where = (
                "ECS, CloudWatch, logs, S3, DynamoDB, Cognito and SSM resources in the emulator, "
                "the rest in Terraform state"
                if self.aws.endpoint
                else "resources in Terraform state only"
            )
            self.ui.info(
                f"hashicorp/aws is saasctl's offline provider ({where}); no AWS resource is created"
            )
        return Terraform(
            self.binary,
            cli_config=cli_config,
            env=env,
            unlock_hint=self._unlock_hint,
            redactor=Redactor(self.aws.secrets()),
            log=self.ui.debug if self.ui.verbose else None,
        )

    def _unlock_hint(self, workdir: Path, lock_id: str) -> str:
        cell = next((c for c in self.env.cells() if c.dir == workdir), None)
        name = cell.label if cell is not None else workdir.name
        return f"saasctl unlock-state {name} {lock_id} --env {self.env.name}"

    def workspace(self, name: str) -> Workspace:
        """A cell's shared workspace ('shared', 'shared@c2') or a tenant id."""
        cell = self.env.cell_by_label(name)
        if cell is None and name.startswith(f"{SHARED}@"):
            cell = self.env.cell(name.partition("@")[2])  # unknown cell: one line, exit 3
        return self.cell_workspace(cell) if cell is not None else self.tenant_workspace(name)

    # --- workspaces ------------------------------------------------------

    def cell_workspace(self, cell: Cell) -> Workspace:
        return Workspace(cell.dir, cell.state_key, None, cell.name, cell.label)

    def shared_workspace(self) -> Workspace:
        """The first cell's shared workspace (the environment's original one)."""
        return self.cell_workspace(self.env.first_cell)

    def tenant_cell(self, tenant_id: str) -> Cell:
        """The cell of a tenant with a spec on disk (else the first cell)."""
        if self.env.has_tenant(tenant_id):
            return self.env.cell_of(self.env.load_tenant(tenant_id))
        return self.env.first_cell

    def tenant_workspace(self, tenant_id: str, cell: Cell | None = None) -> Workspace:
        cell = cell or self.tenant_cell(tenant_id)
        return Workspace(
            self.env.tenant_dir(tenant_id),
            self.env.tenant_state_key(tenant_id),
            tenant_id,
            cell.name,
        )

    def cell_of(self, ws: Workspace) -> Cell:
        return self.env.cell(ws.cell)

    def aws_of(self, cell: Cell) -> Aws:
        """The AWS client factory for a cell's account and Region."""
        return self.aws.in_cell(cell.spec.region, cell.spec.role_arn)

    def render_cell(self, cell: Cell) -> dict[str, str]:
        return render.render_shared(self.env, cell, self.env.tenants_of(cell))

    def preflight(self) -> None:
        """Fail before anything is written: terraform found, backend reachable."""
        _ = self.binary
        for warning in self.store.check():
            self.ui.warn(f"{warning} (`saasctl bootstrap --env {self.env.name}` repairs it)")

    def require_applied(self, cell: Cell) -> None:
        if not self.store.exists(cell.state_key):
            where = "" if cell.first and len(self.env.cells()) == 1 else f" of cell {cell.name}"
            raise BackendError(
                f"the shared workspace{where} of environment {self.env.name!r} has not been "
                "applied",
                hint=f"run `saasctl apply --env {self.env.name} --shared-only`",
            )

    def init(self, ws: Workspace, *, force: bool = False) -> None:
        """terraform init, skipped when nothing init depends on has changed.

        The stamp covers the binary, the CLI config (provider mirror), the
        backend settings, the rendered files and the dependency lock file;
        plans that still find init missing re-run it (see ``plan_json``).
        """
        endpoint, version = self.aws.endpoint, self.binary.version
        ws.runtime.mkdir(parents=True, exist_ok=True)
        settings = backend.runtime_backend(self.env, version, endpoint)
        backend_file = ws.runtime / "saasctl.tfbackend"
        write_if_changed(backend_file, backend.tfbackend_text(settings))
        values = self.runtime_vars(ws)
        if values:
            write_if_changed(self.var_file(ws), json.dumps(values, indent=2, sort_keys=True) + "\n")
        else:
            self.var_file(ws).unlink(missing_ok=True)
        marker = ws.runtime / "saasctl.init"
        if not force and marker.is_file() and marker.read_text() == self._init_stamp(ws):
            return
        # terraform init is not safe beside another init of the same directory.
        with file_lock(ws.runtime / "saasctl.init.lock"):
            if not force and marker.is_file() and marker.read_text() == self._init_stamp(ws):
                return  # another run did it while we waited
            marker.unlink(missing_ok=True)
            self.tf.init(ws.dir, backend_file)
            atomic_write(marker, self._init_stamp(ws))

    def _init_stamp(self, ws: Workspace) -> str:
        digest = hashlib.sha256(f"{self.binary.path}\0{self.binary.version}\0".encode())
        config = self.tf.cli_config
        sources = [config] if config else []
        sources += [
            ws.runtime / "saasctl.tfbackend",
            ws.dir / ".terraform.lock.hcl",
            ws.runtime / "terraform.tfstate",
            *sorted(ws.dir.glob("*.tf")),  # variable values (tfvars) need no init
            *sorted(ws.dir.glob("*.tf.json")),
        ]
        for path in sources:
            digest.update(path.name.encode() + b"\0")
            if path.is_file():
                digest.update(path.read_bytes())
        return digest.hexdigest()

    def runtime_vars(self, ws: Workspace) -> dict[str, Any]:
        """Values that depend on this machine (endpoint, terraform version): never rendered."""
        values: dict[str, Any] = {}
        endpoint, version = self.aws.endpoint, self.binary.version
        cell = self.cell_of(ws)
        if ws.tenant_id is not None:
            values["shared_state"] = backend.remote_state_config(
                self.env, cell.state_key, version, endpoint
            )
        if render.module_set(self.env) == "real":
            values["aws"] = {
                "region": cell.spec.region,
                "account_id": cell.spec.account_id,
                "role_arn": cell.spec.role_arn,
                "endpoint": endpoint,
                "emulator": self.env.spec.emulator,
            }
        return values

    def var_file(self, ws: Workspace) -> Path:
        return ws.runtime / "saasctl.tfvars.json"

    def plan(self, ws: Workspace, *, destroy: bool = False) -> PlanSummary:
        """init + plan to the workspace's plan file; the summary of what it would do."""
        return PlanSummary.from_show_json(self.plan_json(ws, destroy=destroy))

    def plan_json(
        self,
        ws: Workspace,
        *,
        destroy: bool = False,
        refresh_only: bool = False,
        extra_vars: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """init + plan; the plan as `terraform show -json` gives it. ``extra_vars``
        override rendered values for this plan only (a per-run var file, removed)."""
        self.init(ws)
        var_files = [self.var_file(ws)] if self.var_file(ws).exists() else []
        if extra_vars:
            extra = ws.runtime / f"saasctl-{RUN_ID}.override.tfvars.json"
            atomic_write(extra, json.dumps(extra_vars, indent=2, sort_keys=True))
            var_files.append(extra)
            _our_plans.add(extra)  # removed at exit with the plan
        prune_plan_files(ws.runtime)
        ws.planfile.unlink(missing_ok=True)
        _our_plans.add(ws.planfile)

        def plan() -> bool:
            return self.tf.plan(
                ws.dir,
                ws.planfile,
                var_files=var_files,
                destroy=destroy,
                refresh_only=refresh_only,
                lock_timeout=os.environ.get(LOCK_TIMEOUT_ENV, "30s"),
            )

        try:
            changed = plan()
        except TerraformError as exc:
            if not any(hint in exc.message for hint in NEEDS_INIT):
                raise
            self.init(ws, force=True)  # the stamp missed something: init and try once more
            changed = plan()
        if not changed:  # -detailed-exitcode 0: nothing to summarise, gate or apply
            ws.planfile.unlink(missing_ok=True)
            return {"resource_changes": [], "output_changes": {}, "resource_drift": []}
        return self.tf.show_json(ws.dir, ws.planfile)

    def show_summary(self, ws: Workspace, summary: PlanSummary) -> None:
        if not summary.has_changes:
            self.ui.info(f"  [dim]{ws.label}: no changes[/]")
            return
        self.ui.info(f"  [bold]{ws.label}[/]: {summary.counts()}")
        for sign, color, items in (
            ("+", "green", summary.add),
            ("~", "yellow", summary.change),
            ("-/+", "magenta", summary.replace),
            ("-", "red", summary.destroy),
        ):
            for address in items:
                self.ui.info(f"    [{color}]{sign}[/] {address}")

    def confirm_destroy(self, what: str, yes: bool) -> None:
        if yes:
            return
        if self.ui.confirm(f"{what} Proceed?"):
            return
        raise AbortedError(
            f"not confirmed: {what}",
            hint="answer y on a terminal, or pass --yes (CI) after reviewing the plan",
        )

    def confirm_plan(self, ws: Workspace, summary: PlanSummary, *, yes: bool) -> None:
        if summary.destroys_anything:
            n = len(summary.destroy) + len(summary.replace)
            self.confirm_destroy(f"{ws.label}: the plan destroys or replaces {n} resource(s).", yes)

    def apply(self, ws: Workspace, summary: PlanSummary, *, yes: bool) -> None:
        self.confirm_plan(ws, summary, yes=yes)
        with self.ui.status(f"applying {ws.label}"):
            self.apply_saved(ws, summary)

    def apply_saved(
        self,
        ws: Workspace,
        confirmed: PlanSummary,
        *,
        destroy: bool = False,
        gate: Callable[[dict[str, Any]], None] | None = None,
    ) -> PlanSummary:
        """Apply the workspace's saved plan exactly; returns what was applied.

        A plan made stale by another run's apply is planned once more and that
        plan applied, when ``gate`` (policy) passes and it destroys nothing that
        was not confirmed; otherwise the error says to run the command again.
        """
        if not confirmed.has_changes:
            return confirmed  # a plan without changes was not kept: nothing to apply
        try:
            self.tf.apply(ws.dir, ws.planfile)
            return confirmed
        except TerraformError as exc:
            if STALE_PLAN not in exc.message:
                raise
        finally:
            ws.planfile.unlink(missing_ok=True)
        self.ui.info(f"  {ws.label}: the saved plan is stale (another run applied); planning again")
        plan = self.plan_json(ws, destroy=destroy)
        fresh = PlanSummary.from_show_json(plan)
        if gate is not None:
            gate(plan)
        self.show_summary(ws, fresh)
        before = set(confirmed.destroy + confirmed.replace)
        unconfirmed = set(fresh.destroy + fresh.replace) - before
        if unconfirmed:
            ws.planfile.unlink(missing_ok=True)
            raise AbortedError(
                f"{ws.label}: after another run's apply the plan also destroys "
                f"{', '.join(sorted(unconfirmed))}, which was not confirmed",
                hint="run the command again to review the new plan",
            )
        try:
            if fresh.has_changes:
                self.tf.apply(ws.dir, ws.planfile)
        finally:
            ws.planfile.unlink(missing_ok=True)
        return fresh

    def apply_together(
        self, plans: list[tuple[Workspace, PlanSummary]], *, done: list[str]
    ) -> None:
        """Apply confirmed plans concurrently (the caller has confirmed them).

        All applies run to the end; ``done`` gets the label of each that succeeded,
        and the first failure is raised afterwards.
        """
        todo = [(ws, summary) for ws, summary in plans if summary.has_changes]
        if not todo:
            return
        _ = self.tf
        labels = " and ".join(ws.label for ws, _ in todo)
        with self.ui.status(f"applying {labels}"), ThreadPoolExecutor(len(todo)) as pool:
            futures = [(ws, pool.submit(self.apply_saved, ws, summary)) for ws, summary in todo]
            errors = [(ws, f.exception()) for ws, f in futures]
        done += [ws.label for ws, error in errors if error is None]
        for _, error in errors:
            if error is not None:
                raise error

    def converge(self, ws: Workspace, *, yes: bool) -> PlanSummary:
        """Plan; apply when there is something to do (and it was confirmed)."""
        with self.ui.status(f"planning {ws.label}"):
            summary = self.plan(ws)
        self.show_summary(ws, summary)
        if summary.has_changes:
            self.apply(ws, summary, yes=yes)
        return summary

    def write_cell(self, cell: Cell) -> Workspace:
        ws = self.cell_workspace(cell)
        written = render.write_workspace(ws.dir, self.render_cell(cell))
        if written:
            self.ui.debug(f"rendered {ws.label}: {', '.join(written)}")
        return ws

    @contextmanager
    def cell_lock(self, cell: Cell, operation: str) -> Iterator[None]:
        """Hold a cell's shared workspace's operation lock: one convergence at a
        time per cell (runs on other cells never wait for it).

        Every run that converges a cell's shared workspace (onboard, set-tier,
        offboard, fleet apply, a release's pool) takes it, then renders and plans:
        so it never applies a plan made before another run's apply. Waits
        (reported) up to $SAASCTL_SHARED_LOCK_WAIT (default 10m) for a live holder.
        """
        name = cell.label
        wait = duration(SHARED_WAIT_ENV, "10m")
        reported = [-1.0]

        def waiting(holder: LockHolder, waited: float) -> None:
            failpoints.hit("shared-lock-busy")
            if wait > 0 and (reported[0] < 0 or waited - reported[0] >= 30):
                reported[0] = waited
                self.ui.info(
                    f"  waiting for {what}: {holder.describe()} holds it "
                    f"({waited:.0f}s of up to {wait:.0f}s)"
                )

        what = "the shared workspace" if name == SHARED else f"the shared workspace {name}"
        waited = self.store.acquire_waiting(name, operation, wait=wait, on_wait=waiting)
        if reported[0] >= 0:
            self.ui.info(f"  {what} free after {waited:.1f}s")
        try:
            failpoints.hit("shared-locked", cell=cell.name)
            yield
        finally:
            try:
                self.store.release(name)
            except SaasctlError as exc:
                self.ui.warn(
                    f"could not release the lock of {what} ({exc.one_line()}); "
                    f"`saasctl unlock {name} --env {self.env.name}` removes it"
                )

    def converge_cell(self, cell: Cell, operation: str, *, yes: bool) -> PlanSummary:
        """Under the cell's lock: render, plan, show, confirm, apply."""
        with self.cell_lock(cell, operation):
            return self.converge(self.write_cell(cell), yes=yes)

    def outputs(self, ws: Workspace) -> dict[str, Any]:
        state = self.store.read_json(ws.state_key) or {}
        outputs = state.get("outputs") or {}
        return {
            k: ("(sensitive)" if v.get("sensitive") else v.get("value"))
            for k, v in sorted(outputs.items())
        }

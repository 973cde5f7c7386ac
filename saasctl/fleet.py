"""Whole-environment commands over the shared workspace and every tenant.

Shared first, tenants after, in parallel up to ``parallelism`` (one terraform
process each; providers come from the one mirror prepared before any starts).
A failing workspace does not stop the others unless ``fail_fast``; transient
errors (a lock held briefly, throttling, dropped connections) are retried with
backoff a bounded number of times. ``apply`` plans everything first, asks once
when anything would be destroyed, then applies exactly those plan files.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from saasctl import cells, changes, maintenance, policy, quotas, render
from saasctl.context import Context, Workspace
from saasctl.errors import ExitCode, LockError, PolicyError, SaasctlError, UserError
from saasctl.files import atomic_write
from saasctl.project import TENANT_FILE, check_priorities
from saasctl.quotas import QuotaError
from saasctl.specs import Suspension, TenantSpec, Tier
from saasctl.terraform import PlanSummary

TRANSIENT = (
    "Throttling",
    "RequestLimitExceeded",
    "SlowDown",
    "connection reset",
    "i/o timeout",
    "TLS handshake timeout",
    "ServiceUnavailable",
    "503",
    "connection refused",
    "unexpected EOF",
)
MAX_ATTEMPTS = 3


@dataclass
class Options:
    mode: str = "plan"  # plan | apply | drift
    parallelism: int = os.cpu_count() or 2
    tenants: list[str] | None = None
    tiers: list[Tier] | None = None
    shared_only: bool = False
    changed_since: str | None = None
    shard: tuple[int, int] | None = None
    fail_fast: bool = False
    allow: frozenset[str] = frozenset()  # policy rules plans may break (policy.RULES)
    yes: bool = False
    backoff: float = 1.0
    cells: list[str] | None = None  # only these cells' shared workspaces and tenants


@dataclass
class WorkspaceResult:
    workspace: str
    exit_code: int
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None
    violations: list[str] = field(default_factory=list)
    attempts: int = 1
    applied: bool = False
    note: str | None = None  # e.g. a suspended tenant's: what the run left as it is

    @property
    def status(self) -> str:
        if self.exit_code == ExitCode.CHANGES:
            return "changes"
        if self.exit_code == ExitCode.OK:
            return "applied" if self.applied else "no changes"
        return "policy" if self.violations else "error"

    def counts(self) -> dict[str, int]:
        return {k: len(self.summary.get(k, [])) for k in ("add", "change", "destroy", "replace")}

    def as_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "status": self.status,
            "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "violations": self.violations,
            "attempts": self.attempts,
            "note": self.note,
            **self.counts(),
            "changed": self.summary.get("change", []),
            "replaced": self.summary.get("replace", []),
            "destroyed": self.summary.get("destroy", []),
        }


def _stamp(*paths: str) -> str:
    """mtime and size of each path ('-' when missing): cheap change detection, like make."""
    parts = []
    for path in paths:
        try:
            st = os.stat(path)
            parts.append(f"{st.st_mtime_ns}:{st.st_size}")
        except FileNotFoundError:
            parts.append("-")
    return "|".join(parts)


def _render_state(ctx: Context) -> dict[str, Any]:
    """What rendering reads and writes, per workspace, plus what decides all of them."""
    env = ctx.env
    templates = sorted(str(p) for p in env.project.templates.rglob("*.j2"))
    releases = sorted(str(p) for p in env.releases_dir.glob("*.yaml"))
    pools = [str(c.pool_file) for c in env.cells()]
    common = [str(env.dir / "env.yaml"), str(env.cells_file), *pools, render.__file__,
              *templates, *releases]  # fmt: skip
    spaces: dict[str, str] = {}
    for cell in env.cells():
        spaces[cell.label] = _stamp(*(f"{cell.dir}/{n}" for n in render.RENDERED_FILES))
    base = str(env.tenants_dir)
    names = (
        sorted(e.name for e in os.scandir(base) if e.is_dir()) if env.tenants_dir.is_dir() else []
    )
    for name in names:
        d = f"{base}/{name}"
        spaces[name] = _stamp(f"{d}/{TENANT_FILE}", *(f"{d}/{n}" for n in render.RENDERED_FILES))
    return {
        "common": [render.module_set(env), _stamp(*common), *templates, *releases],
        "spaces": spaces,
    }


def render_all(ctx: Context, *, check: bool) -> list[str]:
    """Render every workspace; with ``check``, write nothing and return the stale files.

    A manifest of file stamps (machine-local cache) says which workspaces' inputs
    or rendered files changed since the last render: only those are rendered
    again (the shared one always, as it depends on every tenant), and nothing
    when nothing changed. Every spec is still loaded and validated on any change.
    """
    env = ctx.env
    manifest = env.project.cache / "render" / f"{env.name}.json"
    state = _render_state(ctx)
    try:
        previous = json.loads(manifest.read_text())
    except (FileNotFoundError, ValueError):
        previous = {}
    if {k: v for k, v in previous.items() if k != "specs"} == state:
        return []
    known = previous.get("spaces", {}) if previous.get("common") == state["common"] else {}
    summaries = previous.get("specs", {})
    tenants: list[TenantSpec] = []
    changed: list[TenantSpec] = []
    for tid in env.tenant_ids():
        cached = summaries.get(tid)
        if tid in known and known[tid] == state["spaces"].get(tid) and cached and len(cached) > 3:
            # Unchanged since the last render: what the shared stack needs is in the
            # manifest, its suspension too (the edge keeps blocking its host).
            held = Suspension.model_construct(since="", state="suspended") if cached[3] else None
            tenants.append(
                TenantSpec.model_construct(
                    id=tid, tier=Tier(cached[0]), listener_priority=cached[1], release=None,
                    cell=cached[2], suspension=held,
                )
            )  # fmt: skip
        elif (spec := env.load_present_tenant(tid)) is not None:  # validated
            tenants.append(spec)
            changed.append(spec)
    check_priorities(tenants)
    maintenance.check_pins(env, changed)
    planned = {c.dir: render.render_shared(env, c, env.tenants_of(c, tenants)) for c in env.cells()}
    for spec in changed:
        planned[env.tenant_dir(spec.id)] = render.render_tenant(env, spec)
    stale: list[str] = []
    for workdir, files in planned.items():  # all rendered before anything is written
        names = render.stale_files(workdir, files)
        stale += [env.project.display(workdir / n) for n in names]
        if not check:
            render.write_workspace(workdir, files)
    ids = {t.id for t in tenants} | {c.label for c in env.cells()}
    for name in sorted(state["spaces"]):  # a tenant directory without a spec is a leftover
        if name not in ids and not name.startswith("."):
            stale.append(env.project.display(env.tenants_dir / name) + " (no tenant.yaml)")
    if not check or not stale:
        fresh = _render_state(ctx)
        fresh["specs"] = {t.id: [t.tier.value, t.listener_priority, t.cell, t.suspended]
                          for t in tenants}  # fmt: skip
        atomic_write(manifest, json.dumps(fresh, sort_keys=True))
    return stale


def render_selected(ctx: Context, spaces: list[Workspace]) -> None:
    """Render what is about to be planned: everything through the manifest when the
    whole fleet is selected, else just the selected workspaces (a tenant needs only
    its own spec; the shared one needs every spec)."""
    env = ctx.env
    tenant_ids = [ws.tenant_id for ws in spaces if ws.tenant_id is not None]
    cells = [ctx.cell_of(ws) for ws in spaces if ws.tenant_id is None]
    if len(cells) == len(env.cells()) and len(tenant_ids) == len(env.tenant_ids()):
        render_all(ctx, check=False)
        return
    for tid in tenant_ids:
        render.write_workspace(env.tenant_dir(tid), render.render_tenant(env, env.load_tenant(tid)))
    for cell in cells:
        ctx.write_cell(cell)


def select(ctx: Context, opts: Options) -> list[Workspace]:
    env = ctx.env
    ids = env.tenant_ids() if opts.tenants is None else list(dict.fromkeys(opts.tenants))
    changed = (
        changes.changed_paths(env.project.root, opts.changed_since) if opts.changed_since else None
    )
    if changed is not None and opts.tenants is None:
        narrowed = changes.candidate_tenants(ctx, changed)  # skip loading specs it cannot touch
        if narrowed is not None:
            ids = [t for t in ids if t in narrowed]
    specs = [env.load_tenant(t) for t in ids]  # unknown ids fail before terraform runs
    if opts.tiers:
        specs = [s for s in specs if s.tier in opts.tiers]
    cells = [env.cell(c) for c in opts.cells] if opts.cells else env.cells()
    if opts.cells:
        names = {c.name for c in cells}
        specs = [s for s in specs if env.cell_of(s).name in names]
    shared = [ctx.cell_workspace(c) for c in cells]
    if opts.shared_only:
        spaces = shared
    else:
        filtered = opts.tenants is not None or bool(opts.tiers)
        spaces = [] if filtered else shared
        spaces += [ctx.tenant_workspace(s.id, env.cell_of(s)) for s in specs]
    if changed is not None:
        tiers = {s.id: s.tier for s in specs}
        spaces = changes.affected(ctx, spaces, changed, tiers)
    if opts.shard:
        index, total = opts.shard
        spaces = [ws for ws in spaces if changes.shard_of(ws.label, total) == index]
    return spaces


def _transient(exc: SaasctlError) -> bool:
    return isinstance(exc, LockError) or any(t in exc.message for t in TRANSIENT)


class Runner:
    def __init__(self, ctx: Context, opts: Options, on_done: Callable[[WorkspaceResult], None]):
        self.ctx = ctx
        self.opts = opts
        self.on_done = on_done
        self.stop = threading.Event()
        self.plans: dict[str, PlanSummary] = {}
        self.usages: dict[str, quotas.Usage] = {}

    def _attempt(self, ws: Workspace, fn: Callable[[], WorkspaceResult]) -> WorkspaceResult:
        start = time.monotonic()
        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                result = fn()
                result.attempts = attempt
                break
            except SaasctlError as exc:
                if attempt < MAX_ATTEMPTS and _transient(exc) and not self.stop.is_set():
                    time.sleep(self.opts.backoff * 2 ** (attempt - 1) * (1 + random.random() / 2))  # noqa: S311
                    continue
                result = WorkspaceResult(
                    ws.label, int(exc.exit_code), error=exc.one_line(), attempts=attempt
                )
                break
        result.seconds = time.monotonic() - start
        return result

    def plan_one(self, ws: Workspace) -> WorkspaceResult:
        def go() -> WorkspaceResult:
            drift = self.opts.mode == "drift"
            plan = self.ctx.plan_json(ws, refresh_only=drift)
            # Drift is what changed outside terraform, not pending configuration.
            source = {"resource_changes": plan.get("resource_drift") or []} if drift else plan
            summary = PlanSummary.from_show_json(source)
            violations = [str(v) for v in policy.evaluate(plan, allow=self.opts.allow)]
            if not drift and not violations:
                violations = self.quota(ws, plan)
            if violations:
                return WorkspaceResult(
                    ws.label,
                    ExitCode.ERROR,
                    summary.as_dict(),
                    error=violations[0]
                    if violations[0].startswith("quota: ")
                    else f"policy: {violations[0]}",
                    violations=violations,
                )
            self.plans[ws.label] = summary
            code = ExitCode.CHANGES if summary.has_changes else ExitCode.OK
            return WorkspaceResult(ws.label, code, summary.as_dict())

        return self._attempt(ws, go)

    def quota(self, ws: Workspace, plan: dict[str, Any]) -> list[str]:
        """The AWS quota the plan would pass in its cell (with the rest of the cell as
        recorded), as a violation; the usage is kept for the apply's commit."""
        cell = self.ctx.cell_of(ws)
        usage = cells.usage_of_plan(self.ctx, ws, plan)
        try:
            cells.commit(self.ctx, cell, ws, cells.tier_of(self.ctx, ws), usage, record=False)
        except QuotaError as exc:
            return [exc.one_line()]
        self.usages[ws.label] = usage
        return []

    def gate(self, plan: dict[str, Any]) -> None:
        violations = policy.evaluate(plan, allow=self.opts.allow)
        if violations:
            raise PolicyError(f"policy: {violations[0]}")

    def apply_one(self, ws: Workspace, planned: WorkspaceResult) -> WorkspaceResult:
        def go() -> WorkspaceResult:
            confirmed = self.plans[ws.label]
            cell = self.ctx.cell_of(ws)
            # Recorded before the apply, checked against the cell as it is now.
            tier = cells.tier_of(self.ctx, ws)
            cells.commit(self.ctx, cell, ws, tier, self.usages[ws.label])
            done = self.ctx.apply_saved(ws, confirmed, gate=self.gate)
            cells.applied(self.ctx, cell, ws)
            return WorkspaceResult(ws.label, ExitCode.OK, done.as_dict(), applied=True)

        result = self._attempt(ws, go)
        result.seconds += planned.seconds
        return result

    def apply_planned(self, planned: dict[str, WorkspaceResult], ws: Workspace) -> WorkspaceResult:
        return self.apply_one(ws, planned[ws.label])

    def parallel(
        self,
        spaces: list[Workspace],
        fn: Callable[[Workspace], WorkspaceResult],
        report: bool = True,
    ) -> list[WorkspaceResult]:
        results: dict[str, WorkspaceResult] = {}
        with ThreadPoolExecutor(max_workers=max(1, self.opts.parallelism)) as pool:
            pending: dict[Future[WorkspaceResult], Workspace] = {}
            queue = list(spaces)
            while queue or pending:
                while queue and len(pending) < self.opts.parallelism and not self.stop.is_set():
                    ws = queue.pop(0)
                    pending[pool.submit(fn, ws)] = ws
                if not pending:
                    break
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    ws = pending.pop(fut)
                    result = fut.result()
                    results[ws.label] = result
                    if report:
                        self.on_done(result)
                    if self.opts.fail_fast and result.exit_code not in (
                        ExitCode.OK,
                        ExitCode.CHANGES,
                    ):
                        self.stop.set()
            for ws in queue:  # not started because of --fail-fast
                results[ws.label] = WorkspaceResult(
                    ws.label, ExitCode.ERROR, error="skipped (--fail-fast)"
                )
        return [results[ws.label] for ws in spaces if ws.label in results]


def _destroys(results: list[WorkspaceResult]) -> int:
    return sum(r.counts()["destroy"] + r.counts()["replace"] for r in results)


def run(
    ctx: Context,
    opts: Options,
    on_done: Callable[[WorkspaceResult], None],
    confirm: Callable[[str], None],
) -> list[WorkspaceResult]:
    if opts.parallelism < 1:
        raise UserError("--parallelism must be at least 1")
    ctx.preflight()
    spaces = select(ctx, opts)
    render_selected(ctx, spaces)
    _ = ctx.tf  # providers prepared once, before any workspace starts
    on_done = _noting(suspended(ctx), on_done)
    runner = Runner(ctx, opts, on_done)
    shared = [ws for ws in spaces if ws.tenant_id is None]
    tenants = [ws for ws in spaces if ws.tenant_id is not None]
    results: list[WorkspaceResult] = []
    if shared:  # first: tenants read their cell's shared state
        if opts.mode == "apply":
            # One convergence of a cell's shared workspace at a time (onboards too):
            # render and plan them under their cells' locks, so no other run's apply
            # makes them stale. Cells not selected are not waited for.
            with contextlib.ExitStack() as locks:
                for ws in sorted(shared, key=lambda w: w.label):
                    locks.enter_context(ctx.cell_lock(ctx.cell_of(ws), "apply"))
                    ctx.write_cell(ctx.cell_of(ws))
                results += _apply_group(runner, shared, on_done, confirm)
        else:
            results += runner.parallel(shared, runner.plan_one)
        # A cell whose shared workspace failed: its tenants are not planned against it.
        failed = {
            r.workspace for r in results if r.exit_code not in (ExitCode.OK, ExitCode.CHANGES)
        }
        tenants = [ws for ws in tenants if ctx.cell_of(ws).label not in failed]
    pending = {r.workspace for r in results if r.exit_code == ExitCode.CHANGES}

    def plan_tenant(ws: Workspace) -> WorkspaceResult:
        result = runner.plan_one(ws)
        if result.error and ctx.cell_of(ws).label in pending:
            # e.g. an upgrade whose tenant modules take outputs the shared state lacks
            result.error += (
                f" (its cell's shared stack has changes not applied: tenants are planned "
                f"against its applied outputs; apply it first: `saasctl apply --shared-only "
                f"--cell {ctx.cell_of(ws).name}`)"
            )
        return result

    if tenants and not runner.stop.is_set():
        if opts.mode == "apply":
            results += _apply_group(runner, tenants, on_done, confirm)
        else:
            results += runner.parallel(tenants, plan_tenant)
    return results


SUSPENDED_NOTE = "suspended: blocked at the edge, its services kept at zero"


def suspended(ctx: Context) -> set[str]:
    """Tenants whose hosts the rendered shared stacks block (suspended ones)."""
    out: set[str] = set()
    suffix = f".{ctx.env.spec.domain}"
    for cell in ctx.env.cells():
        path = cell.dir / "terraform.tfvars.json"
        if path.is_file():
            hosts = json.loads(path.read_text()).get("suspended_hosts", [])
            out |= {h.removesuffix(suffix) for h in hosts}
    return out


def _noting(
    held: set[str], on_done: Callable[[WorkspaceResult], None]
) -> Callable[[WorkspaceResult], None]:
    def noted(result: WorkspaceResult) -> None:
        if result.workspace in held:
            result.note = SUSPENDED_NOTE
        on_done(result)

    return noted


def _apply_group(
    runner: Runner,
    group: list[Workspace],
    on_done: Callable[[WorkspaceResult], None],
    confirm: Callable[[str], None],
) -> list[WorkspaceResult]:
    """Plan the group, ask once if anything is destroyed, apply exactly those plans."""
    planned = runner.parallel(group, runner.plan_one, report=False)
    todo = [r for r in planned if r.exit_code == ExitCode.CHANGES]
    if _destroys(todo):
        for r in todo:
            on_done(r)
        where = sum(1 for r in todo if r.counts()["destroy"] + r.counts()["replace"])
        total = _destroys(todo)
        confirm(f"the plans destroy or replace {total} resource(s) in {where} workspace(s).")
    by_label = {r.workspace: r for r in todo}
    applied = runner.parallel(
        [ws for ws in group if ws.label in by_label],
        partial(runner.apply_planned, by_label),
    )
    done = {r.workspace: r for r in applied}
    for r in planned:
        if r.workspace not in done:
            on_done(r)
    return [done.get(r.workspace, r) for r in planned]


def aggregate(results: list[WorkspaceResult]) -> ExitCode:
    """1 if any failed, else 2 if any has changes, else 0."""
    codes = {r.exit_code for r in results}
    if codes - {ExitCode.OK, ExitCode.CHANGES}:
        return ExitCode.ERROR
    return ExitCode.CHANGES if ExitCode.CHANGES in codes else ExitCode.OK


def report(
    env: str, mode: str, opts: Options, results: list[WorkspaceResult], seconds: float
) -> dict[str, Any]:
    return {
        "environment": env,
        "mode": mode,
        "exit_code": int(aggregate(results)),
        "parallelism": opts.parallelism,
        "seconds": round(seconds, 3),
        "workspaces": [r.as_dict() for r in results],
        "totals": {
            "workspaces": len(results),
            "with_changes": sum(1 for r in results if r.status in ("changes", "applied")),
            "failed": sum(1 for r in results if r.status in ("error", "policy")),
        },
    }


def summary_markdown(data: dict[str, Any], limit: int = 200) -> str:
    t = data["totals"]
    lines = [
        f"### saasctl {data['mode']}: `{data['environment']}`: {t['workspaces']} workspace(s), "
        f"{t['with_changes']} with changes, {t['failed']} failed",
        "",
        "| workspace | result | add | change | destroy | replace | seconds |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    # Reviewers need the failures and changes; unchanged workspaces are counted only.
    rows = [w for w in data["workspaces"] if w["status"] != "no changes"]
    for w in rows[:limit]:
        status = f"{w['status']} ({w['note']})" if w.get("note") else w["status"]
        lines.append(
            f"| `{w['workspace']}` | {status} | {w['add']} | {w['change']} | "
            f"{w['destroy']} | {w['replace']} | {w['seconds']:.1f} |"
        )
    if len(rows) > limit:
        lines.append(f"| … {len(rows) - limit} more | | | | | | |")
    unchanged = t["workspaces"] - len(rows)
    lines += ["", f"{unchanged} workspace(s) without changes."]
    problems = [w for w in data["workspaces"] if w["error"]]
    if problems:
        lines += ["", "<details><summary>errors and policy violations</summary>", ""]
        for w in problems[:limit]:
            lines.append(f"- `{w['workspace']}`: {w['error'].replace('|', '/')}")
            lines += [f"  - {v}" for v in w["violations"][1:]]
        lines += ["", "</details>"]
    return "\n".join(lines) + "\n"


def write_reports(data: dict[str, Any], report_json: Path | None, summary_md: Path | None) -> None:
    """The JSON report and the Markdown summary where asked, and the summary on
    the CI job's page when ``$GITHUB_STEP_SUMMARY`` is set."""
    if report_json:
        atomic_write(report_json, json.dumps(data, indent=2, sort_keys=True) + "\n")
    markdown = summary_markdown(data)
    if summary_md:
        atomic_write(summary_md, markdown)
    step_summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if step_summary:
        with open(step_summary, "a", encoding="utf-8") as fh:
            fh.write(markdown)

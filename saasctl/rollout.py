"""Rolling a release out to the units in waves, with health gates and an error budget.

Each wave takes its units ``parallelism`` at a time. A unit moves by writing its
release into its spec (``pool.yaml`` for the pool), rendering, planning, checking
the plan (the policy gates, and that it changes only what a release changes:
task definitions and services), applying exactly that plan, then watching its
health until its deployments settle and for the wave's bake time. More failed
units in a wave than its error budget halts the rollout: the wave's failed and
in-flight units go back to the release they ran before, and no further wave
starts.

A tenant's maintenance settings (``saasctl.maintenance``) hold it back: a pin to
another release skips it; outside its windows the wave's policy decides (strict:
wait for the window, skip: leave it for a later rollout of the same version,
ignore: go ahead). A suspended tenant gets its new task definitions and stays at
zero (rendering sizes it so); the ledger notes it.

Progress lives in a ledger in the state bucket (conditional writes): a killed
rollout resumes where it stopped (``--resume``), and a second rollout in the
same environment is refused while one runs.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

from saasctl import cells, failpoints, health, maintenance, policy, releases, render
from saasctl.context import Context
from saasctl.errors import (
    ConflictError,
    LockError,
    PolicyError,
    SaasctlError,
    SpecError,
    UserError,
)
from saasctl.files import atomic_write
from saasctl.quotas import QuotaError
from saasctl.releases import Unit
from saasctl.specs import Rollout, TenantSpec, Tier, Wave, parse_duration
from saasctl.state import HOST_ID, LockHolder
from saasctl.terraform import PlanSummary

DONE = ("healthy", "skipped")  # a unit in one of these is finished with
DEFAULT_POLICY = "skip"  # outside its window: never moved, never blocking the fleet
# Why the default waves are what they are (README, "Releases"): one advanced
# tenant first (the smallest blast radius: one tenant), then the other advanced
# tenants, then the pool (every basic tenant at once), premium last (the
# tenants with the most at stake, once the release has run everywhere else).
DEFAULT = Rollout(
    waves=[
        Wave(name="canary", tiers=[Tier.ADVANCED], parallelism=1, bake="5m"),
        Wave(name="advanced", tiers=[Tier.ADVANCED], parallelism=4, bake="5m", error_budget=1),
        Wave(name="pool", pool=True, bake="10m"),
        Wave(name="premium", tiers=[Tier.PREMIUM], parallelism=2, bake="10m"),
    ]
)


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def window_policy_of(data: dict[str, Any], wave: Wave) -> str:
    """A ledger's maintenance policy for a wave: the run's (``--maintenance``), else
    the wave's, else skip."""
    return str(data.get("maintenance") or wave.maintenance or DEFAULT_POLICY)


def config(ctx: Context) -> Rollout:
    return ctx.env.spec.rollout or DEFAULT


def assign(cfg: Rollout, units: list[Unit], known: set[str]) -> list[tuple[Wave, list[Unit]]]:
    """Each unit in the first wave that selects it; every unit in exactly one wave.

    The default's first wave takes a single advanced tenant (the canary)."""
    for wave in cfg.waves:
        unknown = sorted(set(wave.tenants) - known)
        if unknown:
            raise SpecError(
                f"rollout wave {wave.name!r} names unknown tenant(s): {', '.join(unknown)}"
            )
    taken: set[str] = set()
    out = []
    for index, wave in enumerate(cfg.waves):
        chosen = [u for u in units if u.label not in taken and _selects(wave, u)]
        if cfg is DEFAULT and index == 0:
            chosen = chosen[:1]
        taken |= {u.label for u in chosen}
        out.append((wave, chosen))
    left = [u.label for u in units if u.label not in taken]
    if left:
        raise SpecError(
            f"the rollout's waves leave out {', '.join(left)}",
            hint="add a wave for them (e.g. `tiers: [advanced]` or `pool: true`) in env.yaml",
        )
    return out


def _selects(wave: Wave, unit: Unit) -> bool:
    if unit.is_pool:
        return wave.pool
    tags = dict(unit.tags)
    return (
        unit.label in wave.tenants
        or (unit.tier in wave.tiers)
        or bool(wave.tags and all(tags.get(k) == v for k, v in wave.tags.items()))
    )


class Ledger:
    """The rollout's record in the state bucket; every change a conditional write."""

    def __init__(self, ctx: Context, data: dict[str, Any], etag: str | None) -> None:
        self.ctx, self.data, self.etag = ctx, data, etag
        self.lock = threading.Lock()

    def save(self) -> None:
        self.data["updated"] = now()
        self.etag = self.ctx.store.write_ledger(self.data, self.etag)

    def unit(self, label: str) -> dict[str, Any]:
        found: dict[str, Any] = self.data["units"][label]
        return found

    def set(self, label: str, **changes: Any) -> None:
        with self.lock:
            self.unit(label).update(changes)
            self.save()


def holder() -> dict[str, Any]:
    return {"who": f"{getpass.getuser()}@{socket.gethostname()}", "host": HOST_ID,
            "pid": os.getpid(), "since": now()}  # fmt: skip


def describe_holder(data: dict[str, Any]) -> LockHolder:
    h = data.get("holder") or {}
    what = f"{data.get('kind')} of {data.get('version')}"
    return LockHolder(str(h.get("who")), what, str(h.get("since")), str(h.get("host") or ""),
                      int(h.get("pid") or 0))  # fmt: skip


class Execution:
    """One rollout (or rollback) running, from its ledger."""

    def __init__(
        self,
        ctx: Context,
        ledger: Ledger,
        *,
        allow_infra_change: bool,
        allow: frozenset[str],
        report: Callable[[str], None],
        inherited: tuple[str, int] | None = None,
    ) -> None:
        self.inherited = inherited  # (host, pid) of the dead run this one resumes
        self.ctx = ctx
        self.ledger = ledger
        self.allow_infra_change = allow_infra_change
        self.allow = allow  # policy rules this run's plans may break
        self.report = report
        self.halted = threading.Event()
        self.what = str(ledger.data.get("what") or "release")  # or "config": its version
        self.cfg = config(ctx)
        self.timeout = parse_duration(self.cfg.deployment_timeout)

    # -- one unit ------------------------------------------------------------

    def take_over(self, workspace: str) -> None:
        """A lock left by the very run this one resumes is ours to take: the ledger
        names that process, and it is gone."""
        if self.inherited is None:
            return
        holder = self.ctx.store.holder(workspace)
        if (
            holder is not None
            and holder.dead_here()
            and (holder.host, holder.pid) == self.inherited
        ):
            self.report(f"  taking over the lock of {workspace} left by the interrupted run")
            self.ctx.store.release(workspace)

    def move(self, unit: Unit, release: str | None) -> PlanSummary:
        """Write the unit's release, render, plan, gate, apply that plan."""
        cell = self.ctx.env.cell(unit.cell)
        self.take_over(cell.label if unit.is_pool else unit.label)
        if unit.is_pool:
            guard: AbstractContextManager[None] = self.ctx.cell_lock(cell, "release")
        else:
            guard = nullcontext()
            self.ctx.store.acquire(unit.label, "release")
        try:
            with guard:
                return self._move(unit, release)
        finally:
            if not unit.is_pool:
                self.ctx.store.release(unit.label)

    def _move(self, unit: Unit, release: str | None) -> PlanSummary:
        env = self.ctx.env
        cell = env.cell(unit.cell)
        field = "release" if self.what == "release" else "config_version"
        if unit.is_pool:
            path = cell.pool_file
            old = path.read_text() if path.is_file() else None
            atomic_write(path, env.load_pool(cell).model_copy(update={field: release}).to_yaml())
            ws = self.ctx.write_cell(cell)
        else:
            spec = env.load_tenant(unit.label)
            path, old = env.tenant_file(unit.label), env.tenant_file(unit.label).read_text()
            moved = spec.model_copy(update={field: release})
            files = render.render_tenant(env, moved)
            atomic_write(path, moved.to_yaml())
            ws = self.ctx.tenant_workspace(unit.label, cell)
            render.write_workspace(ws.dir, files)
        try:
            plan = self.ctx.plan_json(ws)
            summary = PlanSummary.from_show_json(plan)
            self.gate(unit, plan)
            # A new task definition can raise what a service asks of a quota (Fargate vCPUs).
            usage = cells.usage_of_plan(self.ctx, ws, plan)
            cells.commit(self.ctx, cell, ws, unit.tier, usage)
        except BaseException:
            # nothing applied: the unit keeps what it ran
            if old is None:
                path.unlink(missing_ok=True)
            else:
                atomic_write(path, old)
            if unit.is_pool:
                self.ctx.write_cell(cell)
            else:
                files = render.render_tenant(env, env.load_tenant(unit.label))
                render.write_workspace(ws.dir, files)
            raise
        failpoints.hit("release-planned", unit=unit.label)
        self.ctx.apply_saved(ws, summary, gate=lambda p: self.gate(unit, p))
        cells.applied(self.ctx, cell, ws)
        return summary

    def gate(self, unit: Unit, plan: dict[str, Any]) -> None:
        found = [str(v) for v in policy.evaluate(plan, allow=self.allow)]
        if not self.allow_infra_change:
            found += [str(v) for v in policy.release_violations(plan)]
        if found:
            more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
            raise PolicyError(f"{found[0]}{more}")

    def upgrade(self, label: str, wave: Wave) -> None:
        """Move one unit to its target and watch it; the ledger records each step."""
        entry = self.ledger.unit(label)
        unit = self.unit(label)
        if entry["state"] in ("pending", "waiting") and not self.admit(label, wave):
            return
        if entry["state"] in ("pending", "applying"):
            self.ledger.set(label, state="applying", started=entry.get("started") or now())
            failpoints.hit("release-applying", unit=label)
            try:
                self.move(unit, entry["to"])
            except PolicyError as exc:
                self.ledger.set(label, state="refused", detail=exc.one_line(), finished=now())
                self.halted.set()
                return
            except SaasctlError as exc:
                self.ledger.set(label, state="failed", detail=exc.one_line(), finished=now())
                self.over_budget(wave, self.wave_units(wave))
                return
            self.ledger.set(label, state="baking")
        self.report(f"  {label}: applied {entry['to'] or '(env.yaml)'}; watching its health")
        failpoints.hit("release-baking", unit=label)
        result = health.watch(self.ctx, unit, timeout=self.timeout, bake=wave.bake_seconds,
                              stop=self.halted.is_set)  # fmt: skip
        if result.ok:
            self.ledger.set(label, state="healthy", detail=result.detail, finished=now())
        elif self.halted.is_set() and "halted" in result.detail:
            self.ledger.set(label, state="interrupted", detail=result.detail)
        else:
            self.ledger.set(label, state="failed", detail=result.detail, finished=now())
            self.over_budget(wave, self.wave_units(wave))  # stops the others' bake if over

    def policy(self, wave: Wave) -> str:
        return window_policy_of(self.ledger.data, wave)

    def admit(self, label: str, wave: Wave) -> bool:
        """Whether the unit may move now, after waiting for its window under a strict
        policy; a unit its settings hold back is recorded as skipped, with why."""
        unit = self.unit(label)
        while True:
            entry = self.ledger.unit(label)
            spec = None if unit.is_pool else self.ctx.env.load_tenant(label)
            seen = maintenance.verdict(spec, entry["to"], self.policy(wave), maintenance.now(),
                                       pins=self.what == "release")  # fmt: skip
            if seen.action == "go":
                if seen.reason or entry["state"] == "waiting":
                    self.ledger.set(label, state="pending", note=seen.reason or None)
                return True
            if seen.action == "skip":
                self.report(f"  {label}: skipped: {seen.reason}")
                self.ledger.set(label, state="skipped", detail=seen.reason, held=True,
                                finished=now())  # fmt: skip
                return False
            if entry["state"] != "waiting" or entry.get("detail") != seen.reason:
                self.report(f"  {label}: {seen.reason}")
                self.ledger.set(label, state="waiting", detail=seen.reason)
            assert seen.until is not None
            # re-read every minute at most: an operator may change the windows meanwhile
            until = min(seen.until, maintenance.now() + timedelta(seconds=60))
            if not maintenance.wait_until(until, self.halted.is_set):
                return False

    def wave_units(self, wave: Wave) -> list[str]:
        return next(w["units"] for w in self.ledger.data["waves"] if w["name"] == wave.name)

    def unit(self, label: str) -> Unit:
        return releases.unit_of(self.ctx.env, label)

    def roll_back(self, label: str) -> None:
        entry = self.ledger.unit(label)
        self.ledger.set(label, state="rolling-back")
        failpoints.hit("release-rolling-back", unit=label)
        try:
            self.move(self.unit(label), entry["from"])
        except SaasctlError as exc:
            self.ledger.set(label, state="rollback-failed", detail=exc.one_line(), finished=now())
            return
        result = health.watch(self.ctx, self.unit(label), timeout=self.timeout, bake=0,
                              stop=lambda: False)  # fmt: skip
        note = "" if result.ok else f"; after rollback: {result.detail}"
        self.ledger.set(label, state="rolled-back", finished=now(),
                        detail=f"{entry.get('detail', '')}{note}")  # fmt: skip

    # -- the waves -----------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        data = self.ledger.data
        for wave_data in data["waves"]:
            if data["state"] != "running":
                break
            wave = Wave.model_validate(wave_data["config"])
            labels = wave_data["units"]
            if wave_data["state"] == "pending":
                wave_data["state"] = "running"
                wave_data["started"] = now()
                with self.ledger.lock:
                    self.ledger.save()
                self.report(f"wave {wave.name}: {', '.join(labels) or '(no units)'}")
            if wave_data["state"] == "running":
                self.run_wave(wave, wave_data, labels)
            if wave_data["state"] == "halting":
                self.halt_wave(wave, wave_data, labels)
        if data["state"] == "running":
            data["state"] = "completed"
            with self.ledger.lock:
                self.ledger.save()
        return data

    def run_wave(self, wave: Wave, wave_data: dict[str, Any], labels: list[str]) -> None:
        todo = [u for u in labels if self.ledger.unit(u)["state"] not in
                (*DONE, "failed", "refused", "rolled-back", "rollback-failed")]  # fmt: skip
        for i in range(0, len(todo), wave.parallelism):
            if self.over_budget(wave, labels) or self.halted.is_set():
                break
            batch = todo[i : i + wave.parallelism]
            with ThreadPoolExecutor(max_workers=len(batch)) as pool:
                for future in [pool.submit(self.upgrade, label, wave) for label in batch]:
                    future.result()
        if self.over_budget(wave, labels) or self.halted.is_set():
            # why, recorded before any rollback: a resumed run still knows it
            failed = [u for u in labels if self.ledger.unit(u)["state"] in ("failed", "refused")]
            wave_data["reason"] = "; ".join(f"{u}: {self.ledger.unit(u)['detail']}" for u in failed)
            wave_data["state"] = "halting"
        else:
            wave_data["state"] = "done"
            wave_data["finished"] = now()
        with self.ledger.lock:
            self.ledger.save()

    def over_budget(self, wave: Wave, labels: list[str]) -> bool:
        failed = sum(1 for u in labels if self.ledger.unit(u)["state"] in ("failed", "refused"))
        if failed > wave.error_budget:
            self.halted.set()
        return failed > wave.error_budget

    def halt_wave(self, wave: Wave, wave_data: dict[str, Any], labels: list[str]) -> None:
        reasons = wave_data.get("reason", "")
        self.report(f"wave {wave.name} halted (error budget {wave.error_budget}): {reasons}")
        back = [u for u in labels if self.ledger.unit(u)["state"] in
                ("failed", "applying", "baking", "interrupted", "rolling-back")]  # fmt: skip
        for label in labels:  # applied nothing: left for a later rollout
            if self.ledger.unit(label)["state"] == "waiting":
                why = "the rollout halted while it waited for its window"
                self.ledger.set(label, state="skipped", held=True, finished=now(), detail=why)
        for label in back:  # refused units applied nothing: they keep their release
            self.report(
                f"  {label}: rolling back to {self.ledger.unit(label)['from'] or '(env.yaml)'}"
            )
            self.roll_back(label)
        wave_data["state"] = "halted"
        wave_data["finished"] = now()
        self.ledger.data["state"] = "halted"
        self.ledger.data["reason"] = f"wave {wave.name}: {reasons}"
        with self.ledger.lock:
            self.ledger.save()


def prepare(
    ctx: Context,
    targets: dict[str, str | None] | None,
    version: str,
    kind: str,
    only_cells: list[str] | None = None,
    window_policy: str | None = None,
    what: str = "release",
) -> dict[str, Any]:
    """A new ledger: the waves and, per unit, where it is and where it goes
    (``targets`` None: every unit to ``version``), of a release or (``what`` config)
    of a config version. With ``only_cells``, the units of other cells are
    skipped: a later rollout of the same version takes them. ``window_policy``
    overrides the waves' maintenance policies for the whole run."""
    env = ctx.env
    chosen_cells = {env.cell(name).name for name in only_cells} if only_cells else None
    specs = env.load_tenants()
    maintenance.check_pins(ctx.env, specs)
    by_id = {s.id: s for s in specs}
    units = releases.units(env, specs)
    waves = assign(config(ctx), units, set(by_id))
    data: dict[str, Any] = {
        "id": f"{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%SZ')}-{kind}-{version}",
        "kind": kind, "version": version, "state": "running", "created": now(),
        "holder": holder(), "maintenance": window_policy, "what": what, "waves": [], "units": {},
    }  # fmt: skip
    for wave, chosen in waves:
        data["waves"].append({"name": wave.name, "config": wave.model_dump(mode="json"),
                              "units": [u.label for u in chosen], "state": "pending"})  # fmt: skip
        for unit in chosen:
            current = unit.runs(what)
            target = version if targets is None else targets.get(unit.label, current)
            same = target == current
            cell = unit.cell or env.first_cell.name
            elsewhere = chosen_cells is not None and cell not in chosen_cells
            detail = (
                f"already on {target or '(env.yaml)'}"
                if same
                else f"in cell {cell}, not selected (--cell)"
                if elsewhere
                else ""
            )
            data["units"][unit.label] = {
                "wave": wave.name, "from": current,
                "to": current if elsewhere else target,
                "state": "skipped" if same or elsewhere else "pending", "detail": detail,
                "tier": unit.tier.value if unit.tier else "pool", "cell": cell,
            }  # fmt: skip
            spec = by_id.get(unit.label)
            if spec is not None and spec.suspended:
                data["units"][unit.label]["note"] = "suspended: new task definitions, kept at zero"
    return data


def check_upgradeable(ctx: Context, version: str, data: dict[str, Any]) -> None:
    release = ctx.env.load_release(version)
    if release.upgradeable_from is None:
        return
    stuck = [f"{label} ({u['from'] or 'env.yaml'})" for label, u in data["units"].items()
             if u["state"] == "pending" and u["from"] not in release.upgradeable_from]  # fmt: skip
    if stuck:
        raise ConflictError(
            f"release {version} is upgradeable only from {', '.join(release.upgradeable_from)}; "
            f"not from what {', '.join(stuck)} run(s)",
            hint="roll those units to a release it accepts first",
        )


def acquire(
    ctx: Context, *, resume: bool, version: str | None
) -> tuple[dict[str, Any] | None, str | None]:
    """The ledger to continue (resume) or None to start anew; refuses while another
    rollout runs. Returns (ledger to resume or None, the ETag of the ledger read)."""
    data, etag = ctx.store.read_ledger()
    name = ctx.env.name
    if data is not None and data.get("state") == "running":
        who = describe_holder(data)
        if who.dead_here() and resume:
            data["previous_holder"] = {"holder": data["holder"]}
            if version is not None and data["version"] != version:
                raise ConflictError(
                    f"the interrupted rollout is of {data['version']}, not {version}",
                    hint=f"`saasctl release rollout {data['version']} --resume --env {name}`",
                )
            data["holder"] = holder()
            return data, etag
        if who.dead_here():
            command = "rollback" if data["kind"] == "rollback" else f"rollout {data['version']}"
            raise LockError(
                f"a {data['kind']} of {data['version']} in {name!r} was interrupted "
                f"(process {who.pid} on this host is gone)",
                hint=f"resume it: `saasctl release {command} --resume --env {name}`",
            )
        raise LockError(
            f"a {data['kind']} of {data['version']} is running in {name!r}: {who.describe()}",
            hint=f"wait for it; `saasctl release status --env {name}` shows its progress",
        )
    if resume:
        raise UserError(f"no interrupted rollout to resume in {name!r}")
    if data is not None:  # a finished rollout: kept in the history, then replaced
        ctx.store.archive_ledger(data)
    return None, etag


def start(
    ctx: Context,
    targets: dict[str, str | None] | None,
    version: str,
    kind: str,
    *,
    resume: bool,
    allow_infra_change: bool,
    allow: frozenset[str],
    report: Callable[[str], None],
    confirm: Callable[[dict[str, Any]], None],
    only_cells: list[str] | None = None,
    window_policy: str | None = None,
    what: str = "release",
) -> dict[str, Any]:
    """Run (or resume) a rollout to ``targets``; the ledger at the end.

    ``confirm`` sees the ledger the rollout starts from (or resumes) before any
    lock is taken, and raises to stop it."""
    fresh = None
    if not resume:  # the waves and the targets are checked before anything is touched
        fresh = prepare(ctx, targets, version, kind, only_cells, window_policy, what)
        if kind == "rollout" and what == "release":
            check_upgradeable(ctx, version, fresh)
    ctx.preflight()
    for cell in ctx.env.cells():
        ctx.require_applied(cell)
    if fresh is not None:
        confirm(fresh)
    resumed, etag = acquire(ctx, resume=resume, version=version if kind == "rollout" else None)
    inherited = None
    if resumed is not None:
        confirm(resumed)
        dead = describe_holder(resumed["previous_holder"])
        inherited = (dead.host, dead.pid)
        ledger = Ledger(ctx, resumed, etag)
        with ledger.lock:
            ledger.save()  # take it over: a conditional write, so only one resumes
        report(f"resuming the {resumed['kind']} of {resumed['version']} ({resumed['id']})")
    else:
        assert fresh is not None
        # replaces exactly the finished ledger acquire() read: a rollout that started
        # since makes this conditional write fail (exit 4)
        ledger = Ledger(ctx, fresh, etag)
        with ledger.lock:
            ledger.save()
    _ = ctx.tf  # providers prepared once, before the worker threads
    execution = Execution(
        ctx, ledger, allow_infra_change=allow_infra_change,
        allow=allow, report=report, inherited=inherited,
    )  # fmt: skip
    return execution.run()


def preview(
    ctx: Context,
    version: str,
    *,
    allow_infra_change: bool,
    only_cells: list[str] | None = None,
    window_policy: str | None = None,
    what: str = "release",
) -> dict[str, Any]:
    """The ledger a rollout of ``version`` would start with, each pending unit planned
    with the release's images or the config version's documents (nothing written:
    they go in as a per-run var file). Units their maintenance settings hold back
    now are shown skipped or waiting."""
    from saasctl import fleet

    fleet.render_all(ctx, check=False)  # plan what the files say now
    data = prepare(ctx, None, version, "plan", only_cells, window_policy, what)
    data["state"] = "preview"
    if what == "release":
        check_upgradeable(ctx, version, data)
    _ = ctx.tf
    at = maintenance.now()
    waves = {w["name"]: Wave.model_validate(w["config"]) for w in data["waves"]}
    for label, entry in data["units"].items():
        if entry["state"] != "pending":
            continue
        unit = releases.unit_of(ctx.env, label)
        spec = None if unit.is_pool else ctx.env.load_tenant(label)
        wave_policy = window_policy_of(data, waves[entry["wave"]])
        seen = maintenance.verdict(spec, entry["to"], wave_policy, at, pins=what == "release")
        if seen.action == "skip":
            entry.update(state="skipped", detail=seen.reason, held=True)
            continue
        cell = ctx.env.cell(unit.cell)
        ws = ctx.cell_workspace(cell) if unit.is_pool else ctx.tenant_workspace(label, cell)
        plan = ctx.plan_json(ws, extra_vars=_moved_inputs(ctx, unit, spec, version, what))
        summary = PlanSummary.from_show_json(plan)
        found = [str(v) for v in policy.evaluate(plan)]
        if not allow_infra_change:
            found += [str(v) for v in policy.release_violations(plan)]
        try:
            usage = cells.usage_of_plan(ctx, ws, plan)
            cells.commit(ctx, cell, ws, unit.tier, usage, record=False)
        except QuotaError as exc:
            found.append(exc.one_line())
        entry["detail"] = summary.counts() + (f"; {found[0]}" if found else "")
        entry["state"] = "refused" if found else ("pending" if summary.has_changes else "skipped")
        if seen.reason and entry["state"] == "pending":
            entry["state"] = "waiting" if seen.action == "wait" else "pending"
            entry["note"] = seen.reason
    return data


def _moved_inputs(
    ctx: Context, unit: Unit, spec: TenantSpec | None, version: str, what: str
) -> dict[str, Any]:
    """The workspace inputs that change when the unit moves to ``version``."""
    env = ctx.env
    cell = env.cell(unit.cell)
    if what == "release":
        workdir = cell.dir if unit.is_pool else env.tenant_dir(unit.label)
        current = json.loads((workdir / "terraform.tfvars.json").read_text())
        images = env.images(version)
        return {"services": [{**svc, "image": images[svc["name"]]} for svc in current["services"]]}
    if spec is None:
        pool = env.load_pool(cell).model_copy(update={"config_version": version})
        inputs = render.shared_inputs(env, cell, env.tenants_of(cell), pool)
        return {"tenant_configs": inputs["tenant_configs"]}
    moved = spec.model_copy(update={"config_version": version})
    return {"config": render.tenant_inputs(env, moved)["config"]}


def previous_targets(ctx: Context) -> tuple[str, dict[str, str | None], str]:
    """What `release rollback` goes back to: each unit's release (or config version)
    before the last rollout, and which of the two it was."""
    data, _ = ctx.store.read_ledger()
    if data is None:
        raise UserError(f"no rollout recorded in {ctx.env.name!r}: nothing to roll back")
    if data.get("state") == "running":
        raise LockError(f"the {data['kind']} of {data['version']} is still running",
                        hint="wait for it, or resume it if it died")  # fmt: skip
    targets = {label: u["from"] for label, u in data["units"].items()}
    froms = {u["from"] for u in data["units"].values()}
    version = str(next(iter(froms))) if len(froms) == 1 else "previous"
    return version, targets, str(data.get("what") or "release")

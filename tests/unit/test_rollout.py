"""The rollout engine's logic with AWS and terraform replaced: which units each
wave takes, how many at a time, the error budget, rolling several units back at
once, the ledger's conditional writes, and resuming without redoing a unit."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import pytest

from saasctl import failpoints, health, rollout
from saasctl.errors import LockError, SaasctlError
from saasctl.health import Health
from saasctl.releases import Unit
from saasctl.specs import Rollout, TenantSpec, Tier, Wave


class Store:
    """The ledger's object with S3's conditional writes: a write names the ETag it
    read, and fails (LockError, as StateStore does) when another run wrote since."""

    def __init__(self) -> None:
        self.etag: str | None = None
        self.writes: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def write_ledger(self, data: dict[str, Any], etag: str | None) -> str:
        with self.lock:
            if etag != self.etag:
                raise LockError("another run changed the rollout ledger of 'local' meanwhile")
            self.writes.append(copy.deepcopy(data))
            self.etag = f'"{len(self.writes)}"'
            return self.etag


def units(advanced: int = 0, premium: int = 0, pool: bool = True) -> list[Unit]:
    out = [Unit("pool", None)] if pool else []
    out += [Unit(f"adv{i}", None, Tier.ADVANCED) for i in range(advanced)]
    out += [Unit(f"prem{i}", None, Tier.PREMIUM) for i in range(premium)]
    return out


def ledger(cfg: Rollout, found: list[Unit], states: dict[str, str] | None = None) -> dict[str, Any]:
    waves = rollout.assign(cfg, found, {u.label for u in found if not u.is_pool})
    data: dict[str, Any] = {"id": "t", "kind": "rollout", "version": "2", "state": "running",
                            "waves": [], "units": {}}  # fmt: skip
    for wave, chosen in waves:
        data["waves"].append({"name": wave.name, "config": wave.model_dump(mode="json"),
                              "units": [u.label for u in chosen], "state": "pending"})  # fmt: skip
        for u in chosen:
            data["units"][u.label] = {"wave": wave.name, "from": "1", "to": "2",
                                      "state": (states or {}).get(u.label, "pending"),
                                      "detail": ""}  # fmt: skip
    return data


class Fleet:
    """The units' side of a rollout: ``move`` and ``watch`` recorded, each unit's
    health chosen by the test, and how many units moved at once."""

    def __init__(
        self, unhealthy: set[str] | None = None, slow: set[str] | None = None, together: int = 1
    ) -> None:
        self.unhealthy, self.slow = unhealthy or set(), slow or set()
        self.together = together  # tenants expected to move side by side
        self.moves: list[tuple[str, str | None]] = []
        self.watched: list[str] = []
        self.busy = self.most = self.arrived = 0
        self.cond = threading.Condition()

    def move(self, unit: Unit, release: str | None) -> None:
        with self.cond:
            self.moves.append((unit.label, release))
            self.busy += 1
            self.most = max(self.most, self.busy)
            if not unit.is_pool:
                # wait for the batch's others (not on a clock: a loaded machine only
                # makes this slower); a run moving fewer at once never gets there
                self.arrived += 1
                batch_end = -(-self.arrived // self.together) * self.together
                self.cond.notify_all()
                self.cond.wait_for(lambda: self.arrived >= batch_end, timeout=10)
            self.busy -= 1

    def watch(self, ctx: Any, unit: Unit, *, timeout: float, bake: float,
              stop: Callable[[], bool], poll: float = 1.0) -> Health:  # fmt: skip
        first = unit.label not in self.watched  # later: after its rollback
        self.watched.append(unit.label)
        if unit.label in self.unhealthy and first:
            return Health(False, True, "deployment failed (circuit breaker)")
        if unit.label in self.slow and first:  # bakes until the rollout halts
            deadline = time.monotonic() + 30
            while not stop() and time.monotonic() < deadline:
                time.sleep(0.01)
            return Health(False, False, "halted while baking")
        return Health(True, True, "healthy")


def execute(
    data: dict[str, Any],
    fleet: Fleet,
    monkeypatch: pytest.MonkeyPatch,
    cfg: Rollout | None = None,
    specs: dict[str, TenantSpec] | None = None,
    report: Callable[[str], None] = lambda _: None,
) -> tuple[dict[str, Any], Store]:
    """Run a rollout of ``data``; ``specs`` gives tenants their maintenance settings."""
    store = Store()
    env = SimpleNamespace(spec=SimpleNamespace(rollout=cfg), load_tenant=(specs or {}).get)
    ctx: Any = SimpleNamespace(env=env, store=store)
    book = rollout.Ledger(ctx, data, None)
    book.save()
    by_label = {}
    for wave in data["waves"]:
        tier = wave["config"]["tiers"]
        for label in wave["units"]:
            by_label[label] = Unit(label, "1", None if label.startswith("pool")
                                   else Tier(tier[0]) if tier else Tier.ADVANCED)  # fmt: skip
    monkeypatch.setattr(health, "watch", fleet.watch)
    monkeypatch.setattr(failpoints, "hit", lambda *a, **k: None)
    run = rollout.Execution(ctx, book, allow_infra_change=False, allow=frozenset(),
                            report=report)  # fmt: skip
    monkeypatch.setattr(run, "move", fleet.move)
    monkeypatch.setattr(run, "unit", by_label.__getitem__)
    return run.run(), store


def states(data: dict[str, Any]) -> dict[str, str]:
    return {label: u["state"] for label, u in data["units"].items()}


def test_the_default_waves_start_with_one_advanced_tenant() -> None:
    waves = rollout.assign(rollout.DEFAULT, units(advanced=3, premium=2), {"x"})
    assert [(w.name, [u.label for u in chosen]) for w, chosen in waves] == [
        ("canary", ["adv0"]), ("advanced", ["adv1", "adv2"]), ("pool", ["pool"]),
        ("premium", ["prem0", "prem1"])]  # fmt: skip
    # no advanced tenant: the canary wave is empty, nobody is left out
    waves = rollout.assign(rollout.DEFAULT, units(premium=1), set())
    assert [len(chosen) for _, chosen in waves] == [0, 0, 1, 1]


def test_a_wave_moves_parallelism_units_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Rollout(waves=[Wave(name="all", tiers=[Tier.ADVANCED], parallelism=3),
                         Wave(name="pool", pool=True)])  # fmt: skip
    fleet = Fleet(together=3)
    data, _ = execute(ledger(cfg, units(advanced=6)), fleet, monkeypatch, cfg)
    assert data["state"] == "completed" and set(states(data).values()) == {"healthy"}
    assert fleet.most == 3  # the batches ran side by side, never more at once
    assert [label for label, _ in fleet.moves][-1] == "pool"  # the pool's wave after


def test_an_error_budget_above_zero_lets_a_wave_finish(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], parallelism=2, error_budget=1),
                         Wave(name="pool", pool=True)])  # fmt: skip
    fleet = Fleet(unhealthy={"adv1"})
    data, _ = execute(ledger(cfg, units(advanced=4)), fleet, monkeypatch, cfg)
    assert data["state"] == "completed", data
    assert states(data) == {"adv0": "healthy", "adv1": "failed", "adv2": "healthy",
                            "adv3": "healthy", "pool": "healthy"}  # fmt: skip
    assert ("adv1", "1") not in fleet.moves  # within the budget: not rolled back


def test_past_the_budget_failed_and_in_flight_units_roll_back_together(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], parallelism=3, error_budget=1),
                         Wave(name="pool", pool=True)])  # fmt: skip
    fleet = Fleet(unhealthy={"adv0", "adv1"}, slow={"adv2"})
    data, _ = execute(ledger(cfg, units(advanced=5)), fleet, monkeypatch, cfg)
    assert data["state"] == "halted" and data["reason"].startswith("wave adv: ")
    assert states(data) == {"adv0": "rolled-back", "adv1": "rolled-back",
                            "adv2": "rolled-back",  # was baking: stopped, then rolled back
                            "adv3": "pending", "adv4": "pending",  # never started
                            "pool": "pending"}  # no further wave  # fmt: skip
    back = sorted(label for label, release in fleet.moves if release == "1")
    assert back == ["adv0", "adv1", "adv2"]


def test_every_ledger_change_is_a_conditional_write(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], parallelism=2),
                         Wave(name="pool", pool=True)])  # fmt: skip
    data, store = execute(ledger(cfg, units(advanced=2)), Fleet(), monkeypatch, cfg)
    # every step of every unit was written, in order, each replacing the one before
    seen = [w["units"]["adv0"]["state"] for w in store.writes]
    assert seen[0] == "pending" and seen[-1] == "healthy"
    assert "applying" in seen and "baking" in seen
    assert seen.index("applying") < seen.index("baking") < seen.index("healthy")
    # another run writing in between: the next write of this one fails
    book = rollout.Ledger(SimpleNamespace(store=store), data, store.etag)  # type: ignore[arg-type]
    store.etag = '"someone else"'
    with pytest.raises(LockError, match="changed the rollout ledger"):
        book.save()


@pytest.mark.parametrize(
    "killed",
    [
        {"adv0": "healthy", "adv1": "applying"},  # killed during the second unit's apply
        {"adv0": "healthy", "adv1": "healthy", "adv2": "baking"},  # later, while baking
    ],
)
def test_a_resume_does_not_redo_finished_units(
    monkeypatch: pytest.MonkeyPatch, killed: dict[str, str]
) -> None:
    cfg = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], parallelism=1),
                         Wave(name="pool", pool=True)])  # fmt: skip
    data = ledger(cfg, units(advanced=3), killed)
    data["waves"][0]["state"] = "running"
    fleet = Fleet()
    done, _ = execute(data, fleet, monkeypatch, cfg)
    assert done["state"] == "completed" and set(states(done).values()) == {"healthy"}
    finished = {label for label, state in killed.items() if state == "healthy"}
    moved = {label for label, _ in fleet.moves}
    assert not moved & finished  # never applied again, never watched again
    assert not set(fleet.watched) & finished
    baking = {label for label, state in killed.items() if state == "baking"}
    assert not moved & baking and baking <= set(fleet.watched)  # applied: only watched


def test_a_unit_that_cannot_move_fails_without_stopping_the_run_in_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cfg = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], error_budget=1),
                         Wave(name="pool", pool=True)])  # fmt: skip
    fleet = Fleet()
    original = fleet.move

    def move(unit: Unit, release: str | None) -> None:
        if unit.label == "adv0":
            raise SaasctlError("terraform apply failed: throttled")
        original(unit, release)

    fleet.move = move  # type: ignore[method-assign]
    data, _ = execute(ledger(cfg, units(advanced=2)), fleet, monkeypatch, cfg)
    assert states(data)["adv0"] == "failed" and "throttled" in data["units"]["adv0"]["detail"]
    assert data["state"] == "completed" and states(data)["adv1"] == "healthy"

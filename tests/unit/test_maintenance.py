"""Maintenance windows and pins: the window arithmetic across timezones, midnight
and DST (zoneinfo), pins that expire, each policy's verdict, the settings' checks,
and the rollout engine waiting, skipping or going ahead with a fake clock."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from saasctl import maintenance
from saasctl.errors import UserError
from saasctl.specs import Maintenance, Rollout, TenantSpec, Tier, Wave
from tests.unit.test_rollout import Fleet, execute, ledger, states, units

UTC = timezone.utc


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def settings(*windows: str, tz: str = "UTC", **pin: Any) -> Maintenance:
    return Maintenance(windows=[maintenance.parse_window(w) for w in windows], timezone=tz, **pin)


def spec(tenant: str, m: Maintenance | None) -> TenantSpec:
    return TenantSpec(id=tenant, tier=Tier.ADVANCED, listener_priority=10, maintenance=m)


# -- windows ---------------------------------------------------------------------


def test_a_window_in_a_timezone_is_open_at_its_local_time() -> None:
    m = settings("sat 02:00 4h", tz="Europe/Berlin")
    # winter: Berlin is UTC+1, so Saturday 02:00 there is 01:00 UTC
    assert maintenance.window_at(m, at("2026-12-12T01:00:00Z")) == (True, None)
    assert maintenance.window_at(m, at("2026-12-12T04:59:59Z"))[0]
    inside, opens = maintenance.window_at(m, at("2026-12-12T05:00:00Z"))
    assert not inside and opens == at("2026-12-19T01:00:00Z")  # a week later
    inside, opens = maintenance.window_at(m, at("2026-12-12T00:59:00Z"))
    assert not inside and opens == at("2026-12-12T01:00:00Z")
    # summer: UTC+2, the same local window an hour earlier in UTC
    assert maintenance.window_at(m, at("2027-06-12T00:00:00Z"))[0]
    assert not maintenance.window_at(m, at("2027-06-12T04:30:00Z"))[0]


def test_a_window_runs_past_midnight_and_ranges_wrap_the_week() -> None:
    m = settings("fri-mon 23:00 3h")
    assert [w.days for w in m.windows] == [["mon", "fri", "sat", "sun"]]
    assert maintenance.window_at(m, at("2026-12-12T01:30:00Z"))[0]  # Sat 01:30, Friday's
    assert maintenance.window_at(m, at("2026-12-15T01:59:00Z"))[0]  # Tue 01:59, Monday's
    assert not maintenance.window_at(m, at("2026-12-15T02:00:00Z"))[0]
    assert not maintenance.window_at(m, at("2026-12-16T01:00:00Z"))[0]  # Wed: no Tuesday


def test_dst_changes_move_a_window_by_the_clock_not_by_hand() -> None:
    # Europe/Berlin, 2027-03-28 (Sunday): 02:00 -> 03:00. A 02:30 start does not
    # exist that day; zoneinfo reads it at the offset before the change (+01:00).
    m = settings("sun 02:30 1h", tz="Europe/Berlin")
    assert maintenance.window_at(m, at("2027-03-28T01:30:00Z"))[0]
    assert not maintenance.window_at(m, at("2027-03-28T02:30:00Z"))[0]  # one real hour
    # 2027-10-31 (Sunday): 03:00 -> 02:00; 02:30 happens twice, the first counts
    assert maintenance.window_at(m, at("2027-10-31T00:30:00Z"))[0]
    assert not maintenance.window_at(m, at("2027-10-31T01:30:00Z"))[0]
    # the week after each change, the window is at 02:30 local again
    assert maintenance.window_at(m, at("2027-04-04T00:30:00Z"))[0]  # CEST, UTC+2
    assert maintenance.window_at(m, at("2027-11-07T01:30:00Z"))[0]  # CET, UTC+1


def test_no_windows_means_any_time() -> None:
    assert maintenance.window_at(Maintenance(), at("2026-12-09T12:00:00Z")) == (True, None)


# -- pins and verdicts -------------------------------------------------------------


def test_a_pin_holds_until_it_expires_and_never_for_its_own_release() -> None:
    m = settings(pinned_release="2.0.0", pinned_until=at("2027-01-31T00:00:00Z"))
    s = spec("hooli", m)
    held = maintenance.verdict(s, "3.0.0", "ignore", at("2027-01-30T23:59:59Z"))
    assert held.action == "skip" and "pinned to 2.0.0 until 2027-01-31" in held.reason
    assert maintenance.verdict(s, "2.0.0", "skip", at("2027-01-30T00:00:00Z")).action == "go"
    assert maintenance.verdict(s, "3.0.0", "skip", at("2027-01-31T00:00:00Z")).action == "go"
    forever = spec("hooli", settings(pinned_release="2.0.0"))
    assert maintenance.verdict(forever, "3.0.0", "skip", at("2099-01-01T00:00:00Z")).action == (
        "skip"
    )


@pytest.mark.parametrize(
    ("policy", "action", "reason"),
    [
        ("strict", "wait", "waits until Sat 2026-12-12 02:00 Europe/Berlin"),
        ("skip", "skip", "a later rollout of this version takes it"),
        ("ignore", "go", "policy ignore"),
    ],
)
def test_outside_its_window_each_policy_decides(policy: str, action: str, reason: str) -> None:
    s = spec("hooli", settings("sat 02:00 4h", tz="Europe/Berlin"))
    seen = maintenance.verdict(s, "3.0.0", policy, at("2026-12-11T12:00:00Z"))
    assert seen.action == action and reason in seen.reason
    if action == "wait":
        assert seen.until == at("2026-12-12T01:00:00Z")
    inside = maintenance.verdict(s, "3.0.0", policy, at("2026-12-12T01:00:00Z"))
    assert inside.action == "go" and inside.reason == ""


def test_the_injected_clock_starts_where_told_and_advances(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(maintenance.CLOCK_VAR, "2027-03-28T01:59:58+01:00")
    first = maintenance.now()
    assert abs((first - at("2027-03-28T00:59:58Z")).total_seconds()) < 3600
    assert first.tzinfo is not None and maintenance.now() >= first
    clock = tmp_path / "clock"
    clock.write_text("2027-01-01T00:00:00Z")
    monkeypatch.setenv(maintenance.CLOCK_VAR, f"file:{clock}")
    assert maintenance.now() == at("2027-01-01T00:00:00Z") == maintenance.now()  # frozen
    clock.write_text("2027-01-01T00:00:05+00:00")
    assert maintenance.now() == at("2027-01-01T00:00:05Z")
    monkeypatch.setenv(maintenance.CLOCK_VAR, "tomorrow")
    with pytest.raises(UserError, match="SAASCTL_CLOCK: 'tomorrow' is not a time"):
        maintenance.now()


# -- bad settings: one line each -----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sat 02:00", "give DAYS HH:MM DURATION"),
        ("someday 02:00 4h", "'someday' is not a day or range"),
        ("sat 24:00 4h", "'24:00' is not a time like 02:00"),
        ("sat 2:00 4h", "'2:00' is not a time like 02:00"),
        ("sat 02:00 0s", "must be between 1m and a week"),
        ("sat 02:00 200h", "must be between 1m and a week"),
        ("sat 02:00 soon", "'soon' is not a duration"),
    ],
)
def test_bad_windows_are_one_line(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message) as caught:
        maintenance.parse_window(text)
    assert "\n" not in caught.value.one_line()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "'Mars/Olympus' is not an IANA timezone"),
        ({"pinned_release": "2.0.0", "pinned_until": "2027-01-31T00:00:00"}, "give a timezone"),
        ({"pinned_until": "2027-01-31T00:00:00Z"}, "without pinned_release"),
        ({"windows": [{"days": ["sat", "sat"], "start": "02:00", "duration": "1h"}]}, "each day"),
    ],
)
def test_bad_settings_in_a_spec_are_refused(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Maintenance.model_validate(data)


def test_a_basic_tenant_has_no_maintenance_of_its_own() -> None:
    with pytest.raises(ValueError, match="basic tenant runs on the pool"):
        TenantSpec(id="acme", tier=Tier.BASIC, listener_priority=1, maintenance=Maintenance())


# -- the rollout engine, on a fake clock ---------------------------------------------------


class Clock:
    """saasctl's clock for a test: sleeping advances it, nothing waits for real."""

    def __init__(self, start: str) -> None:
        self.time = at(start)
        self.slept = 0.0

    def now(self) -> datetime:
        return self.time

    def sleep(self, seconds: float) -> None:
        self.slept += seconds
        self.time += timedelta(seconds=seconds)


CFG = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], parallelism=1),
                     Wave(name="pool", pool=True)])  # fmt: skip


def run_with(
    monkeypatch: pytest.MonkeyPatch, clock: Clock, specs: dict[str, TenantSpec], **ledger_extra: Any
) -> tuple[dict[str, Any], Fleet, list[str]]:
    monkeypatch.setattr(maintenance, "now", clock.now)
    monkeypatch.setattr(maintenance, "_sleep", clock.sleep)
    data = ledger(CFG, units(advanced=3))
    data.update(ledger_extra)
    fleet, said = Fleet(), list[str]()
    done, _ = execute(data, fleet, monkeypatch, CFG, specs=specs, report=said.append)
    return done, fleet, said


def test_a_rollout_skips_units_outside_their_window_and_pinned_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = {"adv0": spec("adv0", settings("sat 02:00 4h", tz="Europe/Berlin")),
             "adv1": spec("adv1", settings(pinned_release="1"))}  # fmt: skip
    done, fleet, _ = run_with(monkeypatch, Clock("2026-12-11T12:00:00Z"), specs)
    assert done["state"] == "completed"
    assert states(done) == {"adv0": "skipped", "adv1": "skipped", "adv2": "healthy",
                            "pool": "healthy"}  # fmt: skip
    assert {label for label, _ in fleet.moves} == {"adv2", "pool"}  # never moved
    assert "next opens Sat 2026-12-12 02:00" in done["units"]["adv0"]["detail"]
    assert done["units"]["adv1"]["detail"] == "pinned to 1"
    assert done["units"]["adv0"]["held"] and done["units"]["adv1"]["held"]


def test_a_strict_rollout_waits_for_the_window_then_moves_the_unit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    specs = {"adv0": spec("adv0", settings("sat 02:00 4h", tz="Europe/Berlin"))}
    clock = Clock("2026-12-12T00:00:00Z")  # an hour before the window opens
    done, fleet, said = run_with(monkeypatch, clock, specs, maintenance="strict")
    assert states(done) == dict.fromkeys(["adv0", "adv1", "adv2", "pool"], "healthy")
    assert fleet.moves[0][0] == "adv0" and clock.time >= at("2026-12-12T01:00:00Z")
    assert 3600 <= clock.slept < 3600 + 60  # re-read each minute, no longer than needed
    assert any("waits until Sat 2026-12-12 02:00 Europe/Berlin" in line for line in said)


def test_ignore_goes_ahead_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    specs = {"adv0": spec("adv0", settings("sat 02:00 4h"))}
    done, fleet, _ = run_with(monkeypatch, Clock("2026-12-09T12:00:00Z"), specs,
                              maintenance="ignore")  # fmt: skip
    assert states(done)["adv0"] == "healthy" and fleet.moves[0][0] == "adv0"
    assert "outside its maintenance window (policy ignore" in done["units"]["adv0"]["note"]


def test_a_wave_policy_applies_when_the_run_gives_none(monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = Rollout(waves=[Wave(name="adv", tiers=[Tier.ADVANCED], maintenance="ignore"),
                         Wave(name="pool", pool=True)])  # fmt: skip
    monkeypatch.setattr(maintenance, "now", Clock("2026-12-09T12:00:00Z").now)
    specs = {"adv0": spec("adv0", settings("sat 02:00 4h"))}
    done, _ = execute(ledger(cfg, units(advanced=1)), Fleet(), monkeypatch, cfg, specs=specs)
    assert states(done)["adv0"] == "healthy"
    done, _ = execute(ledger(cfg, units(advanced=1)) | {"maintenance": "skip"}, Fleet(),
                      monkeypatch, cfg, specs=specs)  # fmt: skip
    assert states(done)["adv0"] == "skipped"  # the run's policy wins over the wave's


def test_a_resumed_rollout_goes_on_waiting_for_the_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """A strict run killed while a unit waited: the resumed run (the ledger says
    `waiting`) waits on and moves it once the window opens, not before."""
    specs = {"adv0": spec("adv0", settings("sat 02:00 4h", tz="Europe/Berlin"))}
    clock = Clock("2026-12-12T00:30:00Z")
    monkeypatch.setattr(maintenance, "now", clock.now)
    monkeypatch.setattr(maintenance, "_sleep", clock.sleep)
    data = ledger(CFG, units(advanced=1), {"adv0": "waiting"}) | {"maintenance": "strict"}
    fleet = Fleet()
    moved_at: list[datetime] = []
    original = fleet.move
    monkeypatch.setattr(fleet, "move", lambda u, r: (moved_at.append(clock.time), original(u, r)))
    done, _ = execute(data, fleet, monkeypatch, CFG, specs=specs)
    assert states(done) == {"adv0": "healthy", "pool": "healthy"}
    assert moved_at[0] >= at("2026-12-12T01:00:00Z")  # the window's opening, Berlin 02:00

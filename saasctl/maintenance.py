"""Maintenance windows and pins: when a rollout may move a tenant's own services.

Times are computed with the standard library's zoneinfo (the IANA database, from
the ``tzdata`` package where the system has none): a window starts at a wall-clock
time of the tenant's timezone and lasts its duration of real time. A start that a
DST change skips (02:30 on the night clocks go forward) falls at the same offset
as before the change, an hour later on the clock: zoneinfo's ``fold=0`` rule.

The clock is injectable: ``SAASCTL_CLOCK`` (an ISO 8601 time) starts saasctl's
clock at that time, and it advances in real time from there, so rehearsals can
put a rollout just before a window opens; ``SAASCTL_CLOCK=file:PATH`` reads the
time from a file at every look, a clock a test moves by hand."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from saasctl.errors import SpecError, UserError
from saasctl.ids import validate_tenant_id
from saasctl.specs import DAYS, Maintenance, TenantSpec, Window, zone

if TYPE_CHECKING:
    from saasctl.context import Context
    from saasctl.project import Environment

CLOCK_VAR = "SAASCTL_CLOCK"
_STARTED = time.monotonic()
_sleep = time.sleep  # the tests' fake clock replaces it


def parse_time(text: str, what: str = "time") -> datetime:
    """An aware time from ISO 8601 text (Z or an offset required)."""
    try:
        at = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{what}: {text!r} is not a time like 2027-01-31T00:00:00Z") from None
    if at.utcoffset() is None:
        raise UserError(f"{what}: {text!r} has no timezone; add Z or an offset like +01:00")
    return at


def now() -> datetime:
    """The current time (UTC), or the injected clock's."""
    text = os.environ.get(CLOCK_VAR)
    if not text:
        return datetime.now(timezone.utc)
    if text.startswith("file:"):
        return parse_time(Path(text[5:]).read_text(), CLOCK_VAR).astimezone(timezone.utc)
    start = parse_time(text, CLOCK_VAR).astimezone(timezone.utc)
    return start + timedelta(seconds=time.monotonic() - _STARTED)


def parse_window(text: str) -> Window:
    """``DAYS HH:MM DURATION`` from the command line: ``sat 02:00 4h``,
    ``mon-fri 22:00 2h``, ``sat,sun 01:30 90m``."""
    parts = text.split()
    if len(parts) != 3:
        raise UserError(
            f"--window {text!r}: give DAYS HH:MM DURATION, "
            "e.g. 'sat 02:00 4h' or 'mon-fri 22:00 2h'"
        )
    days: list[str] = []
    for item in parts[0].lower().split(","):
        first, _, last = item.partition("-")
        if first not in DAYS or (last and last not in DAYS):
            raise UserError(f"--window {text!r}: {item!r} is not a day or range like mon-fri")
        i, j = DAYS.index(first), DAYS.index(last or first)
        days += [DAYS[k % 7] for k in range(i, j + 1 if j >= i else j + 8)]
    try:
        return Window.model_validate(
            {"days": sorted(set(days), key=DAYS.index), "start": parts[1], "duration": parts[2]}
        )
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise UserError(f"--window {text!r}: {reason}") from None


def openings(window: Window, tz: ZoneInfo, around: datetime) -> list[datetime]:
    """The window's starts (UTC) from a week before ``around`` to two weeks after."""
    local = around.astimezone(tz).date()
    hour, minute = (int(x) for x in window.start.split(":"))
    out = []
    for offset in range(-8, 16):
        day = local + timedelta(days=offset)
        if DAYS[day.weekday()] in window.days:
            start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
            out.append(start.astimezone(timezone.utc))
    return out


@dataclass(frozen=True)
class Verdict:
    """What a rollout does with a unit now: go, wait until ``until``, or skip."""

    action: Literal["go", "wait", "skip"]
    reason: str = ""  # empty when nothing held the unit back
    until: datetime | None = None


def window_at(m: Maintenance, at: datetime) -> tuple[bool, datetime | None]:
    """(inside a window now, when the next one opens). No windows: always inside."""
    if not m.windows:
        return True, None
    tz = zone(m.timezone)
    next_open = None
    for window in m.windows:
        length = timedelta(seconds=window.seconds)
        for start in openings(window, tz, at):
            if start <= at < start + length:
                return True, None
            if start > at and (next_open is None or start < next_open):
                next_open = start
    return False, next_open


def pin_at(m: Maintenance, at: datetime) -> str | None:
    """The release the tenant is pinned to now (None: not pinned, or the pin expired)."""
    if m.pinned_release is None or (m.pinned_until is not None and at >= m.pinned_until):
        return None
    return m.pinned_release


def local(at: datetime, m: Maintenance) -> str:
    zoned = at.astimezone(zone(m.timezone))
    return f"{zoned:%a %Y-%m-%d %H:%M} {m.timezone}"


def verdict(
    spec: TenantSpec | None, target: str | None, policy: str, at: datetime, *, pins: bool = True
) -> Verdict:
    """Whether a rollout to ``target`` moves this unit at ``at`` under ``policy``
    (``pins``: a release's rollout; a pin holds releases, not configuration)."""
    m = spec.maintenance if spec is not None else None
    if m is None:
        return Verdict("go")
    pinned = pin_at(m, at) if pins else None
    if pinned is not None and pinned != target:
        until = f" until {m.pinned_until.isoformat()}" if m.pinned_until else ""
        return Verdict("skip", f"pinned to {pinned}{until}")
    inside, opens = window_at(m, at)
    if inside:
        return Verdict("go")
    when = local(opens, m) if opens else "never"
    if policy == "ignore":
        return Verdict("go", f"outside its maintenance window (policy ignore; next opens {when})")
    if policy == "strict" and opens is not None:
        return Verdict("wait", f"outside its maintenance window: waits until {when}", opens)
    return Verdict("skip", f"outside its maintenance window (next opens {when}); "
                           "a later rollout of this version takes it")  # fmt: skip


def wait_until(until: datetime, stop: Callable[[], bool], *, step: float = 5.0) -> bool:
    """Sleep until ``until`` on saasctl's clock; False when ``stop`` said so first."""
    while True:
        left = (until - now()).total_seconds()
        if left <= 0:
            return True
        if stop():
            return False
        _sleep(min(step, left))


def describe(m: Maintenance | None, at: datetime) -> dict[str, object]:
    """For `tenant show` and `tenant maintenance`: the settings and what they mean now."""
    if m is None:
        return {"windows": [], "timezone": None, "pinned_release": None, "pinned_until": None,
                "inside_window": True, "next_window": None, "pinned_now": None}  # fmt: skip
    inside, opens = window_at(m, at)
    return {
        "windows": [w.describe() for w in m.windows],
        "timezone": m.timezone,
        "pinned_release": m.pinned_release,
        "pinned_until": m.pinned_until.isoformat() if m.pinned_until else None,
        "inside_window": inside,
        "next_window": local(opens, m) if opens else None,
        "pinned_now": pin_at(m, at),
    }


def change(
    ctx: Context,
    tenant_id: str,
    *,
    windows: list[str] | None = None,
    clear_windows: bool = False,
    timezone_name: str | None = None,
    pin: str | None = None,
    pin_until: str | None = None,
    unpin: bool = False,
) -> tuple[Maintenance | None, bool]:
    """A tenant's maintenance settings with these changes, all checked (the caller
    writes them: only its spec, nothing to apply); and whether they changed."""
    spec = ctx.env.load_tenant(validate_tenant_id(tenant_id))
    if pin is not None and unpin:
        raise UserError("--pin and --unpin: give one of them")
    if pin_until is not None and pin is None and unpin:
        raise UserError("--pin-until with --unpin: there would be nothing pinned")
    if windows and clear_windows:
        raise UserError("--window and --no-windows: give one of them")
    current = spec.maintenance or Maintenance()
    data = current.model_dump(mode="json")
    if windows:
        data["windows"] = [parse_window(w).model_dump(mode="json") for w in windows]
    if clear_windows:
        data["windows"] = []
    if timezone_name is not None:
        data["timezone"] = timezone_name
    if pin is not None:
        known = ctx.env.release_versions()
        if pin not in known:
            raise SpecError(
                f"--pin {pin!r}: no such release in {ctx.env.name!r} "
                f"(known: {', '.join(known) or 'none'})",
                hint="`saasctl release list` shows the releases",
            )
        data["pinned_release"], data["pinned_until"] = pin, None
    if pin_until is not None:
        until = parse_time(pin_until, "--pin-until")
        if until <= now():
            raise UserError(f"--pin-until {pin_until!r} is in the past: the pin would not hold")
        data["pinned_until"] = until.isoformat()
    if unpin:
        data["pinned_release"], data["pinned_until"] = None, None
    try:
        settings = Maintenance.model_validate(data)
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise SpecError(f"maintenance of {tenant_id}: {reason}") from None
    if settings == current:
        return spec.maintenance, False
    empty = not settings.windows and settings.pinned_release is None
    updated = spec.model_copy(update={"maintenance": None if empty else settings})
    try:  # the tier's rules too (a basic tenant follows the pool)
        TenantSpec.model_validate(updated.model_dump(mode="json"))
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        raise SpecError(f"tenant {tenant_id}: {reason}") from None
    return updated.maintenance, True


def check_pins(env: Environment, specs: list[TenantSpec]) -> None:
    """A pin names a release of the environment (exit 3 before anything is touched)."""
    known = set(env.release_versions())
    for spec in specs:
        pinned = spec.maintenance.pinned_release if spec.maintenance else None
        if pinned is not None and pinned not in known:
            raise SpecError(
                f"tenant {spec.id!r} is pinned to release {pinned!r}, which does not exist "
                f"in {env.name!r} (known: {', '.join(sorted(known)) or 'none'})",
                hint=f"`saasctl tenant maintenance {spec.id} --unpin`, or pin a known release",
            )

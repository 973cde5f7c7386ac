"""Named points where the reliability tests make saasctl crash, be interrupted
or pause (like the failpoints of storage engines).

``SAASCTL_FAILPOINTS="name=action,..."`` with action ``kill`` (SIGKILL, no
cleanup at all), ``interrupt`` (as Ctrl-C), ``pause:SECONDS``, ``barrier:N``
(wait until N processes reached this point) or ``await:POINT:N`` (wait until
N processes reached POINT). Barriers need the log below and give up after
120 s; they make a race certain whatever the machine's load, where a pause
only makes it likely.
``SAASCTL_FAILPOINT_LOG=FILE`` appends one JSON line per point reached (name,
pid and what the point reports, e.g. the priority block chosen), written
before the action: a test can prove a run died where it meant it to.
Unset, which is always the case outside tests, a point costs two dictionary
lookups.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import time
from typing import Any

ENV = "SAASCTL_FAILPOINTS"
LOG_ENV = "SAASCTL_FAILPOINT_LOG"


@functools.lru_cache(maxsize=1)
def _actions() -> dict[str, str]:
    out: dict[str, str] = {}
    for item in os.environ.get(ENV, "").split(","):
        name, _, action = item.strip().partition("=")
        if name and action:
            out[name] = action
    return out


@functools.lru_cache(maxsize=1)
def _log() -> str | None:
    return os.environ.get(LOG_ENV) or None


def _record(path: str, name: str, info: dict[str, Any]) -> None:
    line = json.dumps({"point": name, "pid": os.getpid(), "at": time.time(), **info})
    # One write of one line with O_APPEND: lines of concurrent runs never interleave.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def hit(name: str, **info: Any) -> None:
    log = _log()
    if log is not None:
        _record(log, name, info)
    action = _actions().get(name)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "interrupt":
        raise KeyboardInterrupt
    elif action.startswith("pause:"):
        time.sleep(float(action.split(":", 1)[1]))
    elif action.startswith("barrier:") and log is not None:
        _await(log, name, int(action.split(":", 1)[1]))
    elif action.startswith("await:") and log is not None:
        _, point, count = action.split(":")
        _await(log, point, int(count))


def _await(path: str, name: str, count: int, limit: float = 120.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        with open(path, encoding="utf-8") as fh:
            pids = {e["pid"] for e in map(json.loads, fh) if e["point"] == name}
        if len(pids) >= count:
            return
        time.sleep(0.05)

"""Named points where the reliability tests make saasctl crash, be interrupted
or pause (like the failpoints of storage engines).

``SAASCTL_FAILPOINTS="name=action,..."`` with action ``kill`` (SIGKILL, no
cleanup at all), ``interrupt`` (as Ctrl-C) or ``pause:SECONDS``. Unset, which
is always the case outside tests, a point costs one dictionary lookup.
"""

from __future__ import annotations

import functools
import os
import signal
import time

ENV = "SAASCTL_FAILPOINTS"


@functools.lru_cache(maxsize=1)
def _actions() -> dict[str, str]:
    out: dict[str, str] = {}
    for item in os.environ.get(ENV, "").split(","):
        name, _, action = item.strip().partition("=")
        if name and action:
            out[name] = action
    return out


def hit(name: str) -> None:
    action = _actions().get(name)
    if action is None:
        return
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    elif action == "interrupt":
        raise KeyboardInterrupt
    elif action.startswith("pause:"):
        time.sleep(float(action.split(":", 1)[1]))

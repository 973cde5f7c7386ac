"""The audit trail: one record per change saasctl makes (onboard, offboard, tier
moves, suspend, resume, restore, rollouts, fleet applies), appended to the state
bucket under ``<env>/audit/``.

Each record is its own object, written with a conditional put (``If-None-Match``)
under a key that sorts by time: concurrent runs never overwrite one another's
record, and nothing rewrites or deletes one (the bucket is versioned besides).
Who is the AWS identity saasctl ran as, and the local user and host; what is the
command line, the plan's counts and the outcome (succeeded, failed with its
one-line error, not confirmed, interrupted).
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from saasctl.context import Context
from saasctl.errors import AbortedError, SaasctlError, UserError

FORMAT = 1


def prefix(ctx: Context) -> str:
    return f"{ctx.env.name}/audit/"


@dataclass
class Entry:
    """What a command fills in while it runs (the plan's counts, its result)."""

    plan: dict[str, Any] = field(default_factory=dict)
    detail: dict[str, Any] = field(default_factory=dict)
    changes: bool = False
    outcome: str | None = None  # when it ended without an error but not as asked

    def result(self, outcome: dict[str, Any]) -> None:
        """Take the counts and the change flag of an Outcome's ``as_dict()``."""
        plan = outcome.get("plan") or {}
        self.plan = {k: len(v) if isinstance(v, list) else v for k, v in plan.items()
                     if k in ("add", "change", "destroy", "replace")}  # fmt: skip
        self.changes = bool(outcome.get("changes"))


def _who(ctx: Context) -> dict[str, str]:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (some containers)
        user = os.environ.get("USER", "?")
    who = {"user": user, "host": socket.gethostname()}
    try:
        who["aws"] = str(ctx.aws.client("sts").get_caller_identity()["Arn"])
    except Exception:  # who is best effort; the record is not
        who["aws"] = "?"
    return who


def _outcome(exc: BaseException | None) -> str:
    if exc is None:
        return "succeeded"
    if isinstance(exc, AbortedError):
        return "not confirmed"
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted"
    if isinstance(exc, SaasctlError):
        return f"failed: {exc.one_line()}"
    return f"failed: {type(exc).__name__}"


def append(ctx: Context, record: dict[str, Any]) -> str:
    """Write ``record`` as a new object; returns its key. Never overwrites one."""
    body = json.dumps({"format": FORMAT, **record}, sort_keys=True).encode()
    while True:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        key = f"{prefix(ctx)}{stamp}-{secrets.token_hex(4)}.json"
        if ctx.store._put_if_absent(key, body):
            return key


@contextmanager
def recorded(ctx: Context, action: str, tenant: str | None = None) -> Iterator[Entry]:
    """Record ``action`` once the block ends, whatever its outcome, but for a run
    refused before it could change anything: bad input (exit 3, nothing written by
    contract) or a state bucket that did not pass its check. A record that cannot
    be written is reported, and does not hide the command's own result."""
    entry = Entry()
    started = datetime.now(timezone.utc)
    error: BaseException | None = None
    try:
        yield entry
    except BaseException as exc:
        error = exc
        raise
    finally:
        if ctx.store.checked and not isinstance(error, UserError):
            _write(ctx, action, tenant, started, entry, error)


def _write(ctx: Context, action: str, tenant: str | None, started: datetime, entry: Entry,
           error: BaseException | None) -> None:  # fmt: skip
    record = {
        "time": started.isoformat(timespec="seconds"),
        "action": action, "tenant": tenant, "who": _who(ctx),
        "command": " ".join(["saasctl", *sys.argv[1:]]),
        "plan": entry.plan, "changes": entry.changes, "detail": entry.detail,
        "outcome": entry.outcome if error is None and entry.outcome else _outcome(error),
    }  # fmt: skip
    try:
        append(ctx, record)
    except SaasctlError as exc:
        # after a failure, its own one-line error is what the operator needs
        (ctx.ui.warn if error is None else ctx.ui.debug)(
            f"audit record not written: {exc.one_line()}"
        )


def read(
    ctx: Context, *, tenant: str | None = None, since: str | None = None
) -> list[dict[str, Any]]:
    """The records, oldest first; ``since``: an ISO date or time (UTC)."""
    start = ""
    if since:
        try:
            when = datetime.fromisoformat(since.replace("Z", "+00:00"))
        except ValueError:
            raise UserError(f"--since {since!r} is not a date or time like 2026-12-07 or "
                            "2026-12-07T14:00:00Z") from None  # fmt: skip
        if when.tzinfo is None:
            when = when.replace(tzinfo=timezone.utc)
        start = prefix(ctx) + when.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    ctx.preflight()
    pages = ctx.store.list_pages(prefix(ctx))
    keys = [o["Key"] for page in pages for o in page.get("Contents", []) if o["Key"] >= start]
    found = []
    for key in sorted(keys):
        data = ctx.store.read_json(key)
        if data is not None and (tenant is None or data.get("tenant") == tenant):
            found.append({**data, "key": key})
    return found

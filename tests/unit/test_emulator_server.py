"""The emulator serves one request at a time, so that a check-then-write (how moto
implements S3 conditional puts) is atomic, as AWS makes it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from saasctl.emulator_server import OneAtATime


def racy_store() -> tuple[Callable[..., Iterable[bytes]], dict[str, str]]:
    """A WSGI app that checks, waits a moment, then writes: moto's shape, exaggerated."""
    store: dict[str, str] = {}

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        key, who = environ["KEY"], environ["WHO"]
        if key in store:
            start_response("412 Precondition Failed", [])
            return [b"taken"]
        time.sleep(0.01)  # the window between moto's check and its write
        store[key] = who
        start_response("200 OK", [])
        return [b"ok"]

    return app, store


def winners(app: Callable[..., Iterable[bytes]], writers: int = 8) -> int:
    barrier = threading.Barrier(writers)
    codes: list[str] = []

    def put(i: int) -> None:
        barrier.wait()
        app({"KEY": "lock", "WHO": str(i)}, lambda status, headers: codes.append(status))

    with ThreadPoolExecutor(writers) as pool:
        list(pool.map(put, range(writers)))
    return sum(1 for c in codes if c.startswith("200"))


def test_without_serialising_several_writers_win() -> None:
    app, _ = racy_store()
    assert winners(app) > 1  # what could happen to saasctl's locks in plain moto


def test_serialised_exactly_one_writer_wins() -> None:
    app, store = racy_store()
    assert winners(OneAtATime(app)) == 1
    assert len(store) == 1

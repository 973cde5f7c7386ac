"""The local emulator's server: moto's application, one request at a time.

moto checks an S3 conditional write (If-None-Match, If-Match) and then writes,
with other work in between, while its server handles requests on many threads:
two runs could both "win" the same lock. AWS makes these writes atomic, and
saasctl's locks, claims and rollout ledger rely on it; so the emulator saasctl
starts serialises requests (connections stay concurrent). Started by
:func:`saasctl.emulator.moto_server`: ``python -m saasctl.emulator_server HOST PORT``.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class OneAtATime:
    """WSGI middleware: each request is handled (and its response read) alone."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self.lock:
            return list(self.app(environ, start_response))


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(app), threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main(sys.argv[1:])

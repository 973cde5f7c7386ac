"""The local emulator's server: moto's application, one request at a time.

moto checks an S3 conditional write (If-None-Match, If-Match) and then writes,
with other work in between, while its server handles requests on many threads:
two runs could both "win" the same lock. AWS makes these writes atomic, and
saasctl's locks, claims and rollout ledger rely on it; so the emulator saasctl
starts serialises requests (connections stay concurrent). It also models what
release health gates read and moto leaves out: an ECS service given a new task
definition gets a new primary deployment on it; and S3 checks the
ExpectedBucketOwner of a request, as AWS does. Started by
:func:`saasctl.emulator.moto_server`: ``python -m saasctl.emulator_server HOST PORT``.
"""

from __future__ import annotations

import signal
import sys
import threading
import uuid
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


class BucketOwners:
    """WSGI middleware: S3 refuses a request whose ExpectedBucketOwner is not the
    bucket's account (403 AccessDenied), as AWS does; moto ignores the header."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        expected = environ.get("HTTP_X_AMZ_EXPECTED_BUCKET_OWNER")
        if expected and "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", ""):
            from moto.s3.models import s3_backends

            bucket = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)[0]
            owner = s3_backends.bucket_accounts.get(bucket)
            if owner is not None and owner[1] != expected:
                start_response("403 Forbidden", [("Content-Type", "application/xml")])
                return [b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                        b"<Message>Access Denied</Message></Error>"]  # fmt: skip
        return self.app(environ, start_response)


def model_ecs_deployments() -> None:
    """moto keeps a service's first deployment forever; ECS replaces the primary
    deployment when the task definition changes (it completes at once here, since
    the emulator reports every desired task running)."""
    from moto.ecs.models import EC2ContainerServiceBackend as Backend

    original = Backend.update_service

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        service = original(self, properties)
        if service.deployments and service.deployments[0]["taskDefinition"] != (
            service.task_definition
        ):
            first = service.deployments[0]
            service.deployments = [
                {**first, "id": f"ecs-svc/{uuid.uuid4().int % 10**19}",
                 "taskDefinition": service.task_definition, "desiredCount": service.desired_count,
                 "runningCount": service.desired_count, "rolloutState": "COMPLETED"}
            ]  # fmt: skip
        return service

    Backend.update_service = update_service  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    model_ecs_deployments()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(BucketOwners(app)), threaded=True,
               request_handler=MotoRequestHandler)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])

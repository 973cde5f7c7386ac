"""The local emulator's server: moto's application, one request at a time.

moto checks an S3 conditional write (If-None-Match, If-Match) and then writes,
with other work in between, while its server handles requests on many threads:
two runs could both "win" the same lock. AWS makes these writes atomic, and
saasctl's locks, claims and rollout ledger rely on it; so the emulator saasctl
starts serialises requests (connections stay concurrent). It also models what
release health gates read and moto leaves out: an ECS service given a new task
definition gets a new deployment on it, which completes, stays in progress, fails
or is rolled back by the circuit breaker as its tasks would fare (see
:func:`deploy`, set per image through a control endpoint); and S3 checks the
ExpectedBucketOwner of a request, as AWS does. Started by
:func:`saasctl.emulator.moto_server`: ``python -m saasctl.emulator_server HOST PORT``.
"""

from __future__ import annotations

import json
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


# How the tasks of an image fare, set by a test or the demo through POST
# /_saasctl/ecs/images ({"image": ..., "tasks": ...}): "fail" (they never start,
# e.g. an image that is not in its registry), "pending" (no capacity: they never
# get placed), "crash" (one stops after starting), "ok" (the default).
FATES = ("ok", "fail", "pending", "crash")
IMAGES: dict[str, str] = {}
CONTROL = "/_saasctl/ecs/images"


class EcsImages:
    """WSGI middleware: the control endpoint for :data:`IMAGES`."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != CONTROL:
            return self.app(environ, start_response)
        if environ.get("REQUEST_METHOD") == "POST":
            size = int(environ.get("CONTENT_LENGTH") or 0)
            body = json.loads(environ["wsgi.input"].read(size) or b"{}")
            if body.get("tasks") not in FATES or not body.get("image"):
                start_response("400 Bad Request", [("Content-Type", "text/plain")])
                return [f"want {{'image': ..., 'tasks': one of {FATES}}}".encode()]
            IMAGES[str(body["image"])] = str(body["tasks"])
            _retry_in_progress()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(IMAGES).encode()]


def _retry_in_progress() -> None:
    """ECS keeps retrying a deployment in progress: once its image's tasks fare
    well (the image was pushed, capacity came back), it completes."""
    from moto.ecs.models import ecs_backends

    for regions in ecs_backends.values():
        for backend in regions.values():
            for service in backend.services.values():
                primary = (service.deployments or [{}])[0]
                if primary.get("rolloutState") != "IN_PROGRESS":
                    continue
                if _fate(backend, str(primary["taskDefinition"])) != "ok":
                    continue
                primary.update(
                    rolloutState="COMPLETED", runningCount=service.desired_count,
                    pendingCount=0, failedTasks=0,
                    rolloutStateReason=f"ECS deployment {primary['id']} completed.",
                )  # fmt: skip
                service.running_count, service.pending_count = service.desired_count, 0


def _fate(backend: Any, task_definition: str) -> str:
    found = backend.describe_task_definition(task_definition)
    fates = [IMAGES.get(str(c.get("image", "")), "ok") for c in found.container_definitions]
    return next((f for f in fates if f != "ok"), "ok")


def _deployment(service: Any, task_definition: str, state: str, running: int, reason: str,
                status: str = "PRIMARY", failed: int = 0) -> dict[str, Any]:  # fmt: skip
    from moto.core.utils import utcnow

    deployment_id = f"ecs-svc/{uuid.uuid4().int % 10**19}"
    desired = service.desired_count
    return {
        "id": deployment_id, "status": status, "taskDefinition": task_definition,
        "desiredCount": desired, "runningCount": running,
        "pendingCount": desired - running if state == "IN_PROGRESS" else 0,
        "failedTasks": failed, "rolloutState": state,
        "rolloutStateReason": reason.format(id=deployment_id),
        "launchType": service.launch_type, "createdAt": utcnow(), "updatedAt": utcnow(),
    }  # fmt: skip


def deploy(backend: Any, service: Any, previous: str | None) -> None:
    """Replace a service's deployments as ECS does for its (new) task definition,
    with its tasks faring as :data:`IMAGES` says. A deployment whose tasks fail to
    start is stopped by the circuit breaker when the service enables it, and rolled
    back to ``previous`` when it also enables rollback; without it, ECS keeps
    trying (in progress, nothing running)."""
    desired, task = service.desired_count, service.task_definition
    fate = _fate(backend, task)
    config = getattr(service, "deployment_configuration", None) or {}
    breaker = config.get("deploymentCircuitBreaker") or {}
    if fate == "ok":
        deployments = [_deployment(service, task, "COMPLETED", desired,
                                   "ECS deployment {id} completed.")]  # fmt: skip
    elif fate == "crash":  # completed, then one task stopped: running below desired
        deployments = [_deployment(service, task, "COMPLETED", max(desired - 1, 0),
                                   "ECS deployment {id} completed.")]  # fmt: skip
    elif fate == "pending" or not breaker.get("enable"):
        deployments = [_deployment(service, task, "IN_PROGRESS", 0,
                                   "ECS deployment {id} in progress.",
                                   failed=3 if fate == "fail" else 0)]  # fmt: skip
    elif breaker.get("rollback") and previous:
        failed = _deployment(service, task, "FAILED", 0,
                             "ECS deployment circuit breaker: tasks failed to start.",
                             status="ACTIVE", failed=3)  # fmt: skip
        back = _deployment(service, previous, "COMPLETED", desired,
                           f"ECS deployment circuit breaker: rolling back to deploymentId "
                           f"{failed['id']}.")  # fmt: skip
        service.task_definition = previous
        deployments = [back, failed]
    else:
        deployments = [_deployment(service, task, "FAILED", 0,
                                   "ECS deployment circuit breaker: tasks failed to start.",
                                   failed=3)]  # fmt: skip
    service.deployments = deployments
    service.running_count = deployments[0]["runningCount"]
    service.pending_count = deployments[0]["pendingCount"]


def model_ecs_deployments() -> None:
    """moto keeps a service's first deployment forever, completed or not by an
    environment variable, and drops its deployment configuration; ECS starts a
    deployment for each new task definition, whose outcome depends on its tasks.
    Here every deployment is modelled by :func:`deploy`."""
    from moto.ecs.models import EC2ContainerServiceBackend as Backend
    from moto.ecs.responses import EC2ContainerServiceResponse as Response

    create, update = Response.create_service, Backend.update_service

    def create_service(self: Any) -> Any:
        result = create(self)
        service = self.ecs_backend._get_service(self._get_param("cluster", "default"),
                                                self._get_param("serviceName"))  # fmt: skip
        service.deployment_configuration = self._get_param("deploymentConfiguration") or {}
        deploy(self.ecs_backend, service, None)
        return result

    def update_service(self: Any, properties: dict[str, Any]) -> Any:
        found = self._get_service(properties.get("cluster", "default"),
                                  str(properties.get("service", "")).split("/")[-1])  # fmt: skip
        previous = found.task_definition
        force = bool(properties.get("force_new_deployment"))
        service: Any = update(self, properties)
        if force or service.task_definition != previous:
            # a rollback goes to the last deployment that completed
            done = [d for d in service.deployments if d["rolloutState"] == "COMPLETED"]
            deploy(self, service, done[0]["taskDefinition"] if done else None)
        elif service.deployments:  # scaled: the primary's counts follow
            primary = service.deployments[0]
            primary["desiredCount"] = service.desired_count
            if primary["rolloutState"] == "COMPLETED":
                crash = _fate(self, primary["taskDefinition"]) == "crash"
                primary["runningCount"] = max(service.desired_count - crash, 0)
            service.running_count = primary["runningCount"]
        return service

    Response.create_service = create_service  # type: ignore[method-assign]
    Backend.update_service = update_service  # type: ignore[method-assign,assignment]


def main(argv: list[str]) -> None:
    host, port = argv[0], int(argv[1])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    model_ecs_deployments()
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(host, port, OneAtATime(EcsImages(BucketOwners(app))), threaded=True,
               request_handler=MotoRequestHandler)  # fmt: skip


if __name__ == "__main__":
    main(sys.argv[1:])

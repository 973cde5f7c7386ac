"""The release health gate's reading of ECS and CloudWatch answers (shaped as the
APIs return them): what counts as healthy, as settled, and as failed."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from saasctl.health import Target, check

CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/local-advanced"
NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/local-globex-web:7"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/local-globex-web:6"
TARGET = Target(CLUSTER, "local-globex-web", ("local-globex-web-5xx",), NEW)


def service(**deployment: Any) -> dict[str, Any]:
    primary = {"status": "PRIMARY", "taskDefinition": NEW, "rolloutState": "COMPLETED",
               "runningCount": 2, "desiredCount": 2, **deployment}  # fmt: skip
    return {"serviceName": "local-globex-web", "status": "ACTIVE", "deployments": [primary]}


class Clients:
    def __init__(self, services: list[dict[str, Any]], alarm: str = "OK") -> None:
        self.services, self.alarm = services, alarm

    def describe_services(self, cluster: str, services: list[str]) -> dict[str, Any]:
        assert cluster == CLUSTER and services == ["local-globex-web"]
        found = [s for s in self.services if s["serviceName"] in services]
        missing = [] if found else [{"arn": services[0], "reason": "MISSING"}]
        return {"services": found, "failures": missing}

    def describe_alarms(self, AlarmNames: list[str]) -> dict[str, Any]:
        return {"MetricAlarms": [{"AlarmName": n, "StateValue": self.alarm} for n in AlarmNames]}


def ctx(clients: Clients) -> Any:
    aws = SimpleNamespace(client=lambda name: clients)
    return SimpleNamespace(aws=aws, aws_of=lambda cell: aws, env=SimpleNamespace(cell=lambda n: n))


def test_completed_on_the_applied_revision_with_no_alarm_is_healthy() -> None:
    health = check(ctx(Clients([service()])), [TARGET])
    assert (health.ok, health.settled, health.detail) == (True, True, "healthy")


@pytest.mark.parametrize(
    ("clients", "settled", "detail"),
    [
        (Clients([service(rolloutState="IN_PROGRESS")]), False, "deployment in progress"),
        (Clients([service(rolloutState="FAILED", rolloutStateReason="circuit breaker")]), True,
         "deployment failed (circuit breaker)"),
        # ECS rolled back: the deployment completed, on the old revision
        (Clients([service(taskDefinition=OLD)]), True,
         "runs local-globex-web:6, not the applied local-globex-web:7 (ECS rolled"),
        (Clients([service(runningCount=1)]), True, "1 running of 2 desired"),
        (Clients([service()], alarm="ALARM"), True, "alarm local-globex-web-5xx is in ALARM"),
        (Clients([]), True, "local-globex-web: MISSING"),
        (Clients([{**service(), "status": "DRAINING"}]), True, "is DRAINING"),
    ],
)  # fmt: skip
def test_unhealthy_readings(clients: Clients, settled: bool, detail: str) -> None:
    health = check(ctx(clients), [TARGET])
    assert not health.ok
    assert health.settled is settled
    assert detail in health.detail


def test_an_old_workspace_without_the_applied_revision_is_not_compared() -> None:
    unknown = Target(CLUSTER, "local-globex-web", ())
    assert check(ctx(Clients([service(taskDefinition=OLD)])), [unknown]).ok

"""The release health gate reading the emulator's ECS and CloudWatch, not
hand-written answers: deployments that complete, fail, are rolled back by the
circuit breaker, stay in progress past the timeout, or run below desired, and an
alarm that fires during the bake. The emulator's tasks fare as a test tells it
per image (``emulator_server.IMAGES``); the services are made with boto3, as
terraform's would be."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest

from saasctl.aws import Aws
from saasctl.emulator import moto_server
from saasctl.emulator_server import CONTROL
from saasctl.health import Health, Target, check, wait
from saasctl.specs import EnvSpec, load_model
from tests.conftest import REPO
from tests.integration.conftest import tasks_fare

pytestmark = pytest.mark.integration

CLUSTER = "health"
BREAKER = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    log = tmp_path_factory.mktemp("health") / "moto.log"
    with moto_server(log=log) as url, pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ENDPOINT_URL", url)
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            mp.setenv(key, "testing")
        spec = load_model(EnvSpec, REPO / "terraform/envs/local/env.yaml")
        aws = Aws(spec)  # saasctl's own client factory, as the gate uses it
        ctx = SimpleNamespace(aws_of=lambda cell: aws, env=SimpleNamespace(cell=lambda n: n))
        outside = {name: boto3.client(name, endpoint_url=url, region_name="us-east-1",
                                      aws_access_key_id="testing",
                                      aws_secret_access_key="testing")
                   for name in ("ecs", "cloudwatch")}  # fmt: skip
        outside["ecs"].create_cluster(clusterName=CLUSTER)
        yield {"url": url, "ctx": ctx, **outside}


def _tasks(world: dict[str, Any], image: str, fate: str) -> None:
    tasks_fare(world["url"], image, fate)


def _revision(world: dict[str, Any], name: str, image: str) -> str:
    out = world["ecs"].register_task_definition(
        family=name, containerDefinitions=[{"name": "app", "image": image, "memory": 512}]
    )
    return str(out["taskDefinition"]["taskDefinitionArn"])


def _service(
    world: dict[str, Any], name: str, *, config: dict[str, Any] | None = None, desired: int = 2
) -> tuple[str, Target]:
    """A service on version 1 (healthy), with an alarm; its target as the gate
    would read it from state."""
    first = _revision(world, name, f"repo/{name}:1")
    world["ecs"].create_service(
        cluster=CLUSTER,
        serviceName=name,
        taskDefinition=first,
        desiredCount=desired,
        deploymentConfiguration=config or BREAKER,
    )
    world["cloudwatch"].put_metric_alarm(
        AlarmName=f"{name}-5xx", MetricName="HTTPCode_Target_5XX_Count", Namespace="AWS/ELB",
        Statistic="Sum", Period=60, EvaluationPeriods=1, Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )  # fmt: skip
    cluster = world["ecs"].describe_clusters(clusters=[CLUSTER])["clusters"][0]["clusterArn"]
    return first, Target(cluster, name, (f"{name}-5xx",), first)


def _release(world: dict[str, Any], name: str, image: str, target: Target) -> Target:
    """Version 2 applied, as terraform would: a new revision, the service updated."""
    revision = _revision(world, name, image)
    world["ecs"].update_service(cluster=CLUSTER, service=name, taskDefinition=revision)
    return Target(target.cluster_arn, target.service_name, target.alarm_names, revision)


def _check(world: dict[str, Any], target: Target) -> Health:
    return check(world["ctx"], [target], None)


def test_a_deployment_that_completes_is_healthy(world: dict[str, Any]) -> None:
    _, target = _service(world, "good")
    assert _check(world, target) == Health(True, True, "healthy")
    target = _release(world, "good", "repo/good:2", target)
    assert _check(world, target) == Health(True, True, "healthy")


def test_tasks_that_fail_to_start_are_rolled_back_by_the_circuit_breaker(
    world: dict[str, Any],
) -> None:
    first, target = _service(world, "rolled")
    _tasks(world, "repo/rolled:2", "fail")
    target = _release(world, "rolled", "repo/rolled:2", target)
    health = _check(world, target)
    assert (health.ok, health.settled) == (False, True)
    assert "runs rolled:1, not the applied rolled:2 (ECS rolled the deployment back)" in (
        health.detail
    )
    svc = world["ecs"].describe_services(cluster=CLUSTER, services=["rolled"])["services"][0]
    assert svc["taskDefinition"] == first  # ECS serves the old revision again


def test_a_breaker_without_rollback_fails_the_deployment(world: dict[str, Any]) -> None:
    config = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    _, target = _service(world, "failed", config=config)
    _tasks(world, "repo/failed:2", "fail")
    health = _check(world, _release(world, "failed", "repo/failed:2", target))
    assert (health.ok, health.settled) == (False, True)
    assert "service failed: deployment failed (ECS deployment circuit breaker: tasks failed" in (
        health.detail
    )


@pytest.mark.parametrize(("name", "config", "fate"), [
    ("stuck", BREAKER, "pending"),  # no capacity: tasks never placed
    ("retrying", {"deploymentCircuitBreaker": {"enable": False, "rollback": False}}, "fail"),
])  # fmt: skip
def test_a_deployment_in_progress_past_the_timeout_is_unhealthy(
    world: dict[str, Any], name: str, config: dict[str, Any], fate: str
) -> None:
    _, target = _service(world, name, config=config)
    _tasks(world, f"repo/{name}:2", fate)
    target = _release(world, name, f"repo/{name}:2", target)
    health = _check(world, target)
    assert (health.ok, health.settled) == (False, False)
    polls: list[int] = []
    health = wait(world["ctx"], [target], None, timeout=1.0, bake=0.0, poll=0.05,
                  stop=lambda: bool(polls.append(1)))  # fmt: skip
    assert not health.ok
    assert health.detail.startswith("not healthy after 1s: ")
    assert f"service {name}: deployment in progress" in health.detail
    assert len(polls) >= 1  # it waited rather than failing at once


def test_running_below_desired_is_unhealthy(world: dict[str, Any]) -> None:
    _, target = _service(world, "short", desired=3)
    _tasks(world, "repo/short:2", "crash")
    health = _check(world, _release(world, "short", "repo/short:2", target))
    assert (health.ok, health.settled) == (False, True)
    assert "service short: 2 running of 3 desired" in health.detail


def test_the_bake_holds_healthy_then_passes(world: dict[str, Any]) -> None:
    _, target = _service(world, "baked")
    target = _release(world, "baked", "repo/baked:2", target)
    polls: list[int] = []
    health = wait(world["ctx"], [target], None, timeout=60.0, bake=0.3, poll=0.05,
                  stop=lambda: bool(polls.append(1)))  # fmt: skip
    assert health == Health(True, True, "healthy")
    assert len(polls) >= 2  # read again during the bake, not passed on the first reading


def test_an_alarm_that_fires_during_the_bake_fails_the_unit(world: dict[str, Any]) -> None:
    _, target = _service(world, "alarmed")
    target = _release(world, "alarmed", "repo/alarmed:2", target)
    readings: list[int] = []

    def fire_after_first_reading() -> bool:
        # called after each healthy reading: the alarm fires once the bake began
        readings.append(1)
        if len(readings) == 1:
            world["cloudwatch"].set_alarm_state(AlarmName="alarmed-5xx", StateValue="ALARM",
                                                StateReason="test: 5xx")  # fmt: skip
        return False

    # A bake far longer than the test: only the alarm can end it.
    health = wait(world["ctx"], [target], None, timeout=600.0, bake=600.0, poll=0.05,
                  stop=fire_after_first_reading)  # fmt: skip
    assert (health.ok, health.detail) == (False, "alarm alarmed-5xx is in ALARM")
    assert len(readings) == 1


def test_the_control_endpoint_refuses_an_unknown_fate(world: dict[str, Any]) -> None:
    body = json.dumps({"image": "x", "tasks": "explode"}).encode()
    request = urllib.request.Request(world["url"] + CONTROL, data=body, method="POST")
    with pytest.raises(urllib.error.HTTPError, match="400"):
        urllib.request.urlopen(request, timeout=10)

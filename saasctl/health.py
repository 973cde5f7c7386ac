"""Is a unit healthy? Read from AWS (ECS and CloudWatch, through the one client factory):
every service's primary deployment completed (not failed, no circuit-breaker
rollback), its running count equal to its desired count, and none of its alarms
in ALARM. The services and alarms of a unit come from its workspace's outputs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from saasctl import render
from saasctl.context import Context
from saasctl.releases import Unit


@dataclass(frozen=True)
class Target:
    cluster_arn: str
    service_name: str
    alarm_names: tuple[str, ...]
    task_definition: str = ""  # the revision terraform applied: what must be running


@dataclass(frozen=True)
class Health:
    ok: bool  # nothing wrong now
    settled: bool  # every deployment finished (completed or failed)
    detail: str


def targets(ctx: Context, unit: Unit) -> list[Target]:
    """The unit's services and alarms, from its state's outputs."""
    if unit.is_pool:
        state = ctx.store.read_json(ctx.env.cell(unit.cell).state_key) or {}
        services = ((state.get("outputs") or {}).get("pool_services") or {}).get("value") or {}
    else:
        state = ctx.store.read_json(ctx.env.tenant_state_key(unit.label)) or {}
        tenant = ((state.get("outputs") or {}).get("tenant") or {}).get("value") or {}
        services = tenant.get("services") or {}
    return [
        Target(
            str(s["cluster_arn"]),
            str(s["service_name"]),
            tuple(s.get("alarm_names") or ()),
            str(s.get("task_definition_arn") or ""),
        )
        for _, s in sorted(services.items())
    ]


def check(ctx: Context, found: list[Target], cell: str | None = None) -> Health:
    """The services' deployments and alarms, read in their cell's account."""
    if not found:
        return Health(True, True, "no services to watch")
    aws = ctx.aws_of(ctx.env.cell(cell))
    ecs, cloudwatch = aws.client("ecs"), aws.client("cloudwatch")
    problems: list[str] = []
    settled = True
    by_cluster: dict[str, list[Target]] = {}
    for t in found:
        by_cluster.setdefault(t.cluster_arn, []).append(t)
    try:
        for cluster, items in sorted(by_cluster.items()):
            out = ecs.describe_services(cluster=cluster, services=[t.service_name for t in items])
            for failure in out.get("failures", []):
                problems.append(f"{failure.get('arn', '?')}: {failure.get('reason', 'missing')}")
            expected = {t.service_name: t.task_definition for t in items}
            for svc in out.get("services", []):
                settled &= _deployment(svc, expected.get(svc.get("serviceName", "")), problems)
        alarms = sorted({name for t in found for name in t.alarm_names})
        if alarms:
            states = cloudwatch.describe_alarms(AlarmNames=alarms).get("MetricAlarms", [])
            problems += [f"alarm {a['AlarmName']} is in ALARM" for a in states
                         if a.get("StateValue") == "ALARM"]  # fmt: skip
    except (BotoCoreError, ClientError) as exc:
        return Health(False, False, f"cannot read health from AWS: {type(exc).__name__}: {exc}")
    return Health(not problems, settled, "; ".join(problems) or "healthy")


def _deployment(svc: dict[str, Any], expected: str | None, problems: list[str]) -> bool:
    """Note what is wrong with a service's primary deployment; True when it finished.

    ``expected`` is the task definition terraform applied: a deployment that ECS
    rolled back (circuit breaker, deployment alarm) completes on the old one."""
    name = svc.get("serviceName", "?")
    if svc.get("status") != "ACTIVE":
        problems.append(f"service {name} is {svc.get('status')}")
        return True
    primary = next((d for d in svc.get("deployments", []) if d.get("status") == "PRIMARY"), None)
    if primary is None:
        problems.append(f"service {name} has no primary deployment")
        return True
    state = primary.get("rolloutState", "COMPLETED")
    if state == "FAILED":
        problems.append(f"service {name}: deployment failed ({primary.get('rolloutStateReason')})")
        return True
    if state == "IN_PROGRESS":
        problems.append(f"service {name}: deployment in progress")
        return False
    # family:revision, whether given as an ARN or not
    running_task = str(primary.get("taskDefinition", "")).rsplit("/", 1)[-1]
    if expected and running_task != expected.rsplit("/", 1)[-1]:
        problems.append(
            f"service {name} runs {running_task or '?'}, not the applied "
            f"{expected.rsplit('/', 1)[-1]} (ECS rolled the deployment back)"
        )
        return True
    running, desired = primary.get("runningCount", 0), primary.get("desiredCount", 0)
    if running != desired:
        problems.append(f"service {name}: {running} running of {desired} desired")
    return True


def watch(
    ctx: Context,
    unit: Unit,
    *,
    timeout: float,
    bake: float,
    stop: Callable[[], bool],
    poll: float = 1.0,
) -> Health:
    """Wait up to ``timeout`` for the unit's deployments to settle, then require it
    healthy for ``bake`` seconds. Any unhealthy reading after settling ends it."""
    if render.module_set(ctx.env) == "standin":
        return Health(True, True, "stand-in modules create no services: health not checked")
    return wait(ctx, targets(ctx, unit), unit.cell, timeout=timeout, bake=bake, stop=stop,
                poll=poll)  # fmt: skip


def wait(
    ctx: Context,
    found: list[Target],
    cell: str | None,
    *,
    timeout: float,
    bake: float,
    stop: Callable[[], bool],
    poll: float = 1.0,
) -> Health:
    """:func:`watch` over known targets in ``cell``."""
    start = time.monotonic()
    healthy_since: float | None = None
    while True:
        health = check(ctx, found, cell)
        now = time.monotonic()
        if health.settled and not health.ok:
            return health
        if health.ok:
            healthy_since = healthy_since if healthy_since is not None else now
            if now - healthy_since >= bake:
                return health
        else:
            healthy_since = None
            if now - start >= timeout:
                return Health(False, False, f"not healthy after {timeout:.0f}s: {health.detail}")
        if stop():
            return Health(False, False, "stopped: the rollout halted")
        time.sleep(poll)

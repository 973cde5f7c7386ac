"""ECS clusters, task definitions and services in the emulator."""

from __future__ import annotations

import json
from typing import Any

from saasctl.offline_aws.backed import Handler, State, keep_ids, register, tags_list


def _tags(s: State) -> list[dict[str, str]]:
    return tags_list(s.get("tags_all") or s.get("tags"))


def cluster_create(api: Any, s: State) -> State:
    settings = [{"name": x["name"], "value": x["value"]} for x in s.get("setting") or []]
    out = api.create_cluster(clusterName=s["name"], tags=_tags(s), settings=settings)["cluster"]
    return {"arn": out["clusterArn"], "id": out["clusterArn"]}


def cluster_read(api: Any, s: State) -> State | None:
    found = api.describe_clusters(clusters=[s["arn"]])["clusters"]
    if not found or found[0]["status"] != "ACTIVE":
        return None
    return {"name": found[0]["clusterName"]}


def cluster_delete(api: Any, s: State) -> None:
    api.delete_cluster(cluster=s["arn"])


def task_create(api: Any, s: State) -> State:
    args: dict[str, Any] = {
        "family": s["family"],
        "containerDefinitions": json.loads(s["container_definitions"]),
        "requiresCompatibilities": sorted(s.get("requires_compatibilities") or []),
        "tags": _tags(s),
    }
    for arg, attr in (
        ("cpu", "cpu"),
        ("memory", "memory"),
        ("networkMode", "network_mode"),
        ("executionRoleArn", "execution_role_arn"),
        ("taskRoleArn", "task_role_arn"),
    ):
        if s.get(attr):
            args[arg] = str(s[attr])
    out = api.register_task_definition(**args)["taskDefinition"]
    arn = out["taskDefinitionArn"]
    return {"arn": arn, "arn_without_revision": arn.rsplit(":", 1)[0],
            "revision": out["revision"], "id": s["family"]}  # fmt: skip


def task_read(api: Any, s: State) -> State | None:
    try:
        out = api.describe_task_definition(taskDefinition=s["arn"])["taskDefinition"]
    except Exception:  # an unknown revision: deregistered and gone
        return None
    return None if out.get("status") == "INACTIVE" else {"revision": out["revision"]}


def task_delete(api: Any, s: State) -> None:
    api.deregister_task_definition(taskDefinition=s["arn"])


def _service_args(s: State) -> dict[str, Any]:
    args: dict[str, Any] = {"taskDefinition": s["task_definition"]}
    if s.get("desired_count") is not None:
        args["desiredCount"] = int(s["desired_count"])
    # The circuit breaker and the deployment alarms: the emulator's deployments
    # fail or roll back by them, as ECS's do.
    config: dict[str, Any] = {}
    breaker = (s.get("deployment_circuit_breaker") or [None])[0]
    if breaker:
        config["deploymentCircuitBreaker"] = {
            "enable": bool(breaker.get("enable")),
            "rollback": bool(breaker.get("rollback")),
        }
    alarms = (s.get("alarms") or [None])[0]
    if alarms:
        config["alarms"] = {"alarmNames": sorted(alarms.get("alarm_names") or []),
                            "enable": bool(alarms.get("enable")),
                            "rollback": bool(alarms.get("rollback"))}  # fmt: skip
    if config:
        args["deploymentConfiguration"] = config
    return args


def service_create(api: Any, s: State) -> State:
    args = _service_args(s)
    args.update(cluster=s.get("cluster") or "default", serviceName=s["name"], tags=_tags(s))
    if s.get("launch_type"):
        args["launchType"] = s["launch_type"]
    args["loadBalancers"] = [
        {k: v for k, v in (("targetGroupArn", lb.get("target_group_arn")),
                           ("containerName", lb.get("container_name")),
                           ("containerPort", lb.get("container_port"))) if v is not None}
        for lb in s.get("load_balancer") or []
    ]  # fmt: skip
    # networkConfiguration stays in state: the emulator checks subnets against its own
    # EC2, and the subnets here are state-only (no task ever runs in the emulator).
    controller = (s.get("deployment_controller") or [None])[0]
    if controller and controller.get("type"):
        args["deploymentController"] = {"type": controller["type"]}
    out = api.create_service(**args)["service"]
    return {"id": out["serviceArn"], "arn": out["serviceArn"]}


def service_read(api: Any, s: State) -> State | None:
    out = api.describe_services(cluster=s.get("cluster") or "default", services=[s["id"]])
    found = [x for x in out["services"] if x.get("status") == "ACTIVE"]
    if not found:
        return None
    return {"desired_count": found[0]["desiredCount"]}


def service_update(api: Any, prior: State, s: State) -> State:
    api.update_service(cluster=s.get("cluster") or "default", service=prior["id"],
                       **_service_args(s))  # fmt: skip
    return {"id": prior["id"], "arn": prior.get("arn") or prior["id"]}


def service_delete(api: Any, s: State) -> None:
    api.delete_service(cluster=s.get("cluster") or "default", service=s["id"], force=True)


register("aws_ecs_cluster", Handler("ecs", "ecs", cluster_create, cluster_read, keep_ids,
                                    cluster_delete))  # fmt: skip
register("aws_ecs_task_definition", Handler("ecs", "ecs", task_create, task_read, keep_ids,
                                            task_delete))  # fmt: skip
register("aws_ecs_service", Handler("ecs", "ecs", service_create, service_read, service_update,
                                    service_delete))  # fmt: skip

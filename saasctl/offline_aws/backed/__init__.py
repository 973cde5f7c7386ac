"""Resource types kept for real in the local AWS emulator (moto), when the provider is
configured with an endpoint (the provider block's `endpoints`, or AWS_ENDPOINT_URL).

One handler per AWS service, behind one registry: ``create`` and ``update`` return
the values the emulator decided (ids, ARNs, revisions) to merge into the planned
state, ``read`` returns what the emulator holds now (None when it is gone, so
terraform plans to create it again), ``delete`` removes it. Every other type,
and every type when no endpoint is configured, stays in Terraform state only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

State = dict[str, Any]


@dataclass(frozen=True)
class Handler:
    service: str  # the key in the provider's `endpoints` block, e.g. "ecs"
    client: str  # the botocore service name, e.g. "ecs"
    create: Callable[[Any, State], State]
    read: Callable[[Any, State], State | None]
    update: Callable[[Any, State, State], State]
    delete: Callable[[Any, State], None]


REGISTRY: dict[str, Handler] = {}
_loaded = threading.Lock()  # gRPC serves requests on several threads at once


def register(type_name: str, handler: Handler) -> None:
    REGISTRY[type_name] = handler


def handler_for(type_name: str) -> Handler | None:
    with _loaded:  # every handler module registered before any lookup
        if not REGISTRY:
            from saasctl.offline_aws.backed import (  # noqa: F401
                cognito,
                dynamodb,
                ecs,
                logs,
                metrics,
                s3,
                ssm,
            )
    return REGISTRY.get(type_name)


def tags_list(tags: Any, key: str = "key", value: str = "value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted((tags or {}).items())]


def only(state: State, *names: str) -> State:
    """The arguments among ``names`` that are set (botocore refuses None)."""
    return {n: state[n] for n in names if state.get(n) is not None}


# What the emulator assigned and an in-place change keeps.
ASSIGNED = ("id", "arn", "revision", "arn_without_revision", "client_secret", "endpoint")


def keep_ids(api: Any, prior: State, planned: State) -> State:
    """An in-place change the emulator need not hear of (tags, settings)."""
    return {k: prior[k] for k in ASSIGNED if prior.get(k) is not None}

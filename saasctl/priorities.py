"""Listener rule priorities on the shared ALB.

Each tenant owns one block of ``block`` consecutive priorities (one per service
rule) starting at its ``listener_priority``, recorded in its spec so it never
moves on re-render. The AWS reference derives priorities from a hash of the
tenant id, which collides; here a new tenant takes the lowest free block.
"""

from __future__ import annotations

from collections.abc import Iterable

from saasctl.errors import ConflictError
from saasctl.specs import ListenerPriorities


def block_starts(cfg: ListenerPriorities) -> range:
    return range(cfg.first, cfg.last - cfg.block + 2, cfg.block)


def allocate(cfg: ListenerPriorities, taken: Iterable[int]) -> int:
    occupied = {(t - cfg.first) // cfg.block for t in taken if t >= cfg.first}
    for start in block_starts(cfg):
        if (start - cfg.first) // cfg.block not in occupied:
            return start
    capacity = len(block_starts(cfg))
    raise ConflictError(
        f"no free listener priority block: all {capacity} blocks of {cfg.block} in "
        f"{cfg.first}-{cfg.last} are taken",
        hint="offboard a tenant or widen listener_priorities in env.yaml",
    )


def check_fits(cfg: ListenerPriorities, priority: int, services: int) -> None:
    if services > cfg.block:
        raise ConflictError(
            f"{services} services need more than the {cfg.block} priorities of a block",
            hint="raise listener_priorities.block in env.yaml",
        )
    if not cfg.first <= priority <= cfg.last - cfg.block + 1:
        raise ConflictError(
            f"listener_priority {priority} is outside {cfg.first}-{cfg.last - cfg.block + 1}"
        )

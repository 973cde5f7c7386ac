"""IPAM pools offline: the CIDR a pool would hand out next, inside the pool.

A pool's CIDRs live in AWS, not in the resources that use them, so the
provider keeps a small ledger beside the working directory's state (in
``.terraform/``, written as the pool, its CIDRs and the VPCs taken from it are
applied): ``aws_vpc_ipam_preview_next_cidr`` (resource and data source) and a
VPC made from a pool then get the first free block of the asked size, as AWS
gives it, so ``cidrsubnets()`` over the preview plans subnets that fit.
"""

from __future__ import annotations

import ipaddress
import json
import os
import threading
from pathlib import Path
from typing import Any

from saasctl.offline_aws.values import UNKNOWN

LEDGER = Path(".terraform") / "saasctl-offline-ipam.json"  # relative: terraform's cwd
DEFAULT_NETMASK = 16  # what a pool without allocation_default_netmask_length hands out here
_LOCK = threading.Lock()


def _load() -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(LEDGER.read_text())
        return data
    except (FileNotFoundError, ValueError):
        return {}


def _save(data: dict[str, Any]) -> None:
    if not LEDGER.parent.is_dir():  # not an initialised working directory: nothing kept
        return
    tmp = LEDGER.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, sort_keys=True))
    os.replace(tmp, LEDGER)


def _pool(data: dict[str, Any], pool_id: str) -> dict[str, Any]:
    pool: dict[str, Any] = data.setdefault(pool_id, {"cidrs": [], "taken": []})
    return pool


def next_cidr(pool_id: Any, netmask: Any, disallowed: Any = None) -> str | None:
    """The first block of /netmask in the pool that no VPC took (None: pool unknown)."""
    if not isinstance(pool_id, str):
        return None
    pool = _load().get(pool_id)
    if not pool or not pool["cidrs"]:
        return None
    length = int(netmask) if isinstance(netmask, (int, float)) else pool.get("netmask")
    avoid = [ipaddress.ip_network(c) for c in [*pool["taken"], *(disallowed or [])]]
    for cidr in pool["cidrs"]:
        network = ipaddress.ip_network(cidr)
        for block in network.subnets(new_prefix=max(length or DEFAULT_NETMASK, network.prefixlen)):
            if not any(block.overlaps(a) for a in avoid):
                return str(block)
    return None


def _record(pool_id: Any, field: str, value: Any, keep: bool) -> None:
    """Add (``keep``) or drop one CIDR of a pool's ledger, under the process's lock:
    terraform applies independent resources on parallel RPCs."""
    if not isinstance(pool_id, str) or not isinstance(value, str):
        return
    with _LOCK:
        data = _load()
        items = _pool(data, pool_id)[field]
        if keep and value not in items:
            items.append(value)
        elif not keep and value in items:
            items.remove(value)
        _save(data)


def on_apply(type_name: str, planned: dict[str, Any]) -> None:
    """Record what the pool learns (after the generic fill gave ids their values)."""
    if type_name == "aws_vpc_ipam_pool" and isinstance(planned.get("id"), str):
        with _LOCK:
            data = _load()
            netmask = planned.get("allocation_default_netmask_length")
            _pool(data, planned["id"])["netmask"] = netmask if isinstance(netmask, int) else None
            _save(data)
    elif type_name == "aws_vpc_ipam_pool_cidr":
        _record(planned.get("ipam_pool_id"), "cidrs", planned.get("cidr"), keep=True)
    elif type_name == "aws_vpc":
        _record(planned.get("ipv4_ipam_pool_id"), "taken", planned.get("cidr_block"), keep=True)


def on_destroy(type_name: str, prior: dict[str, Any]) -> None:
    """A pool CIDR deprovisioned, a VPC's block returned to its pool."""
    if type_name == "aws_vpc_ipam_pool_cidr":
        _record(prior.get("ipam_pool_id"), "cidrs", prior.get("cidr"), keep=False)
    elif type_name == "aws_vpc":
        _record(prior.get("ipv4_ipam_pool_id"), "taken", prior.get("cidr_block"), keep=False)


def before_fill(type_name: str, planned: dict[str, Any]) -> None:
    """Values the pool decides, set before the generic fill gives them any shape."""
    if type_name == "aws_vpc_ipam_preview_next_cidr" and planned.get("cidr") in (None, UNKNOWN):
        found = next_cidr(planned.get("ipam_pool_id"), planned.get("netmask_length"),
                          planned.get("disallowed_cidrs"))  # fmt: skip
        if found:
            planned["cidr"] = found
    elif type_name == "aws_vpc" and planned.get("cidr_block") in (None, UNKNOWN):
        found = next_cidr(planned.get("ipv4_ipam_pool_id"), planned.get("ipv4_netmask_length"))
        if found:
            planned["cidr_block"] = found

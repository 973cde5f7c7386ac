"""A tier move from the pool carries the tenant's data: every item into its own
tables, its users into its own pool, removed from the pool only after the copy
is checked. Killed in the middle (after the copy, or between two batches of it)
and run again, nothing is lost. Real modules on the emulator, newest terraform."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import (
    BINARIES,
    NEEDS_AWS,
    NEEDS_TERRAFORM,
    Stack,
    blocked_hosts,
    failpoint_log,
    make_stack,
)

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
    NEEDS_AWS,
]


@pytest.fixture(scope="module")
def moves(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = copy_project(
        tmp_path_factory.mktemp("moves"),
        {"local": REPO / "terraform/envs/local/env.yaml"},
        modules="real",
    )
    with moto_server(log=root / "moto.log") as url:
        stack = make_stack(root, url, BINARIES[-1], SAASCTL_LOCK_TIMEOUT="2s")
        stack.saasctl("bootstrap")
        stack.saasctl("apply", "--shared-only", "--yes", timeout=1800)
        yield stack


def _config(s: Stack, tenant: str) -> dict[str, Any]:
    shown = json.loads(s.saasctl("tenant", "show", tenant, "--json").stdout)
    config: dict[str, Any] = shown["config"]
    return config


def _items(s: Stack, table: str, tenant: str) -> list[str]:
    ddb = s.client("dynamodb")
    args: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "tenantId = :t",
        "ExpressionAttributeValues": {":t": {"S": tenant}},
    }
    out: list[str] = []
    while True:
        page = ddb.query(**args)
        out += [json.dumps(i, sort_keys=True, default=str) for i in page["Items"]]
        if "LastEvaluatedKey" not in page:
            return sorted(out)
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


@pytest.mark.parametrize(
    ("tenant", "point"), [("acme", "set-tier-copied"), ("hooli", "data.batch")]
)
def test_a_move_from_the_pool_keeps_every_item_and_user(
    moves: Stack, tenant: str, point: str, tmp_path: Path
) -> None:
    s = moves
    admin = f"admin@{tenant}.example.com"
    s.saasctl("tenant", "onboard", tenant, "--tier", "basic", "--admin-email", admin, "--yes")
    before = _config(s, tenant)
    pool_table, shared_pool = before["tables"]["orders"], before["user_pool_id"]
    ddb = s.client("dynamodb")
    for who, n in ((tenant, 60), (f"{tenant}-neighbour", 5)):
        for i in range(n):
            ddb.put_item(TableName=pool_table, Item={
                "tenantId": {"S": who}, "sk": {"S": f"o#{i:03d}"}, "n": {"N": str(i)},
                "blob": {"B": bytes([i])}})  # fmt: skip
    original = _items(s, pool_table, tenant)
    assert len(original) == 60

    # Killed in the middle of carrying the data, then run again.
    log = tmp_path / "failpoints"
    died = s.popen_env(
        {**s.env, "SAASCTL_FAILPOINTS": f"{point}=kill", "SAASCTL_FAILPOINT_LOG": str(log)},
        "tenant", "set-tier", tenant, "--tier", "premium", "--yes",
    )  # fmt: skip
    died.communicate(timeout=900)
    assert died.returncode == -9
    reached = [e["point"] for e in failpoint_log(log)]
    assert reached[-1] == point and "applied" in reached  # died after the apply, in the copy
    assert _items(s, pool_table, tenant) == original  # nothing removed from the pool yet
    assert "data_move:" in (s.tenant_dir(tenant) / "tenant.yaml").read_text()
    steps = s.converge(tenant, "tenant", "set-tier", tenant, "--tier", "premium", "--yes")
    assert steps[-1] == "rerun=0", steps

    after = _config(s, tenant)
    own = after["tables"]["orders"]
    assert after["data"] == "dedicated" and own != pool_table
    assert _items(s, own, tenant) == original  # every item, byte for byte
    assert _items(s, pool_table, tenant) == []  # none left in the pool
    assert len(_items(s, pool_table, f"{tenant}-neighbour")) == 5  # others untouched
    idp = s.client("cognito-idp")
    user = idp.admin_get_user(UserPoolId=after["user_pool_id"], Username=admin)
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert (attrs["custom:tenantId"], attrs["custom:tenantTier"]) == (tenant, "premium")
    assert after["user_pool_id"] != shared_pool
    with pytest.raises(idp.exceptions.UserNotFoundException):
        idp.admin_get_user(UserPoolId=shared_pool, Username=admin)
    assert "data_move" not in (s.tenant_dir(tenant) / "tenant.yaml").read_text()
    # The pre-move export stays: the safety net of the move.
    exports = json.loads(s.saasctl("tenant", "archives", tenant, "--json").stdout)["exports"]
    assert 60 in [e["items"] for e in exports]


def test_a_move_into_the_pool_keeps_every_item_and_user(moves: Stack, tmp_path: Path) -> None:
    s, tenant = moves, "wayne"
    admin = f"admin@{tenant}.example.com"
    s.saasctl("tenant", "onboard", tenant, "--tier", "premium", "--admin-email", admin, "--yes")
    before = _config(s, tenant)
    own = before["tables"]["orders"]
    ddb = s.client("dynamodb")
    for i in range(40):
        ddb.put_item(TableName=own, Item={"tenantId": {"S": tenant}, "sk": {"S": f"o#{i:03d}"},
                                          "blob": {"B": bytes([i])}})  # fmt: skip
    original = _items(s, own, tenant)

    # Without --yes and a terminal: refused before anything is copied (exit 5).
    s.saasctl("tenant", "set-tier", tenant, "--tier", "basic", check=5)
    assert "data_move" not in (s.tenant_dir(tenant) / "tenant.yaml").read_text()

    # Killed after the copy and the lifted protection, before the move's apply.
    log = tmp_path / "failpoints"
    died = s.popen_env(
        {**s.env, "SAASCTL_FAILPOINTS": "set-tier-unprotected=kill",
         "SAASCTL_FAILPOINT_LOG": str(log)},
        "tenant", "set-tier", tenant, "--tier", "basic", "--yes",
    )  # fmt: skip
    died.communicate(timeout=900)
    assert died.returncode == -9
    assert [e["point"] for e in failpoint_log(log)][-1] == "set-tier-unprotected"
    assert _items(s, own, tenant) == original  # its own table is still whole
    move = ("tenant", "set-tier", tenant, "--tier", "basic", "--yes")
    # Killed again once the move is applied (its own table destroyed); then one of
    # its items goes missing from the pool: the run that finishes the move finds the
    # pool short of the export and says where the items are.
    s.converge(tenant, *move, expect=-9, env={**s.env, "SAASCTL_FAILPOINTS": "applied=kill"})
    pool_table = _config(s, tenant)["tables"]["orders"]
    key = {"tenantId": {"S": tenant}, "sk": {"S": "o#000"}}
    lost = ddb.get_item(TableName=pool_table, Key=key)["Item"]
    ddb.delete_item(TableName=pool_table, Key=key)
    s.converge(tenant, *move, expect=1)
    assert f"holds 39 item(s) of {tenant}, the export 40: restore it from" in s.last_stderr
    ddb.put_item(TableName=pool_table, Item=lost)  # restored from the export, as it says
    steps = s.converge(tenant, *move)
    assert steps[-1] == "rerun=0", steps

    after = _config(s, tenant)
    assert after["tables"]["orders"] == pool_table
    assert after["data"] == "pooled" and after["group"] == f"tenant-{tenant}"
    assert _items(s, pool_table, tenant) == original  # every item, byte for byte
    assert own not in ddb.list_tables()["TableNames"]  # its own table destroyed
    idp = s.client("cognito-idp")
    pools = {p["Id"] for p in idp.list_user_pools(MaxResults=60)["UserPools"]}
    assert before["user_pool_id"] not in pools
    members = idp.list_users_in_group(
        UserPoolId=after["user_pool_id"], GroupName=f"tenant-{tenant}"
    )
    assert [u["Username"] for u in members["Users"]] == [admin]
    user = idp.admin_get_user(UserPoolId=after["user_pool_id"], Username=admin)
    attrs = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert (attrs["custom:tenantId"], attrs["custom:tenantTier"]) == (tenant, "basic")
    spec = (s.tenant_dir(tenant) / "tenant.yaml").read_text()
    assert "data_move" not in spec and "deletion_protection" not in spec
    listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert {t["id"]: t["status"] for t in listed}[tenant] == "applied"

    # Another tenant's onboard naming wayne's admin is refused before anything is
    # written: the address is a user of wayne in the shared pool, never taken over.
    refused = s.saasctl("tenant", "onboard", "intruder", "--tier", "basic", "--admin-email",
                        admin, "--yes", check=3)  # fmt: skip
    assert f"user {admin} already exists" in refused.stderr
    assert "belongs to tenant 'wayne', not 'intruder'; nothing written" in refused.stderr
    assert not s.tenant_dir("intruder").exists()
    members = idp.list_users_in_group(
        UserPoolId=after["user_pool_id"], GroupName=f"tenant-{tenant}"
    )
    assert [u["Username"] for u in members["Users"]] == [admin]


class Writer(threading.Thread):
    """The tenant's application: writes an item whenever its host is served (not
    answered 503 by the web ACL), until told to stop."""

    def __init__(self, s: Stack, table: str, tenant: str) -> None:
        super().__init__(daemon=True)
        self.s, self.table, self.tenant = s, table, tenant
        self.written: list[str] = []
        self.blocked = False
        self.done = threading.Event()

    def run(self) -> None:
        ddb = self.s.client("dynamodb")
        host = f"{self.tenant}.saas.local"
        while not self.done.is_set():
            if host in blocked_hosts(self.s):
                self.blocked = True
                return
            key = f"w#{len(self.written):05d}"
            ddb.put_item(TableName=self.table,
                         Item={"tenantId": {"S": self.tenant}, "sk": {"S": key}})  # fmt: skip
            self.written.append(key)


@pytest.mark.parametrize("command", ["set-tier", "offboard"])
def test_writers_stop_before_the_data_moves(moves: Stack, command: str) -> None:
    """A writer that keeps writing until the tenant is blocked at the edge loses
    nothing: a move from the pool and an offboard stop the tenant's writers before
    they export or copy its items, and a move lets them write again after."""
    s, tenant = moves, f"umbrella{command[:3]}"
    s.saasctl("tenant", "onboard", tenant, "--tier", "basic", "--yes")
    pool_table = _config(s, tenant)["tables"]["orders"]
    writer = Writer(s, pool_table, tenant)
    writer.start()
    while len(writer.written) < 5:  # it writes before the command starts
        time.sleep(0.05)
    if command == "set-tier":
        s.saasctl("tenant", "set-tier", tenant, "--tier", "premium", "--yes", timeout=900)
    else:
        out = json.loads(s.saasctl("tenant", "offboard", tenant, "--yes", "--json",
                                   timeout=900).stdout)  # fmt: skip
    writer.done.set()
    writer.join(timeout=60)
    assert writer.blocked, "the writer was never stopped"
    assert _items(s, pool_table, tenant) == []  # nothing left behind in the pool
    if command == "set-tier":
        own = _config(s, tenant)["tables"]["orders"]
        keys = [json.loads(i)["sk"]["S"] for i in _items(s, own, tenant)]
        assert keys == writer.written  # every write, none lost
        assert f"{tenant}.saas.local" not in blocked_hosts(s)  # served again
        listed = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
        assert {t["id"]: t["suspended"] for t in listed}[tenant] is None
    else:
        assert out["data"]["items"] == len(writer.written)  # every write exported
        assert f"{tenant}.saas.local" not in blocked_hosts(s)  # the rule left with it

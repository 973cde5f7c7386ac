"""A tenant's data on the emulator: export with counts and checksums, purge of its
pooled items only, restore, copy between tiers, streaming, and a SIGKILL in the
middle of an export or a purge losing nothing."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from saasctl.aws import Aws
from saasctl.emulator import moto_server
from saasctl.errors import BackendError, ConflictError
from saasctl.project import Project
from saasctl.state import StateStore
from saasctl.tenant_data import Location, TenantData, dumps_item, loads_item
from tests.conftest import REPO, copy_project

pytestmark = pytest.mark.integration

BUCKET = "saasctl-local-tfstate"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = copy_project(
        tmp_path_factory.mktemp("data"), {"local": REPO / "terraform/envs/local/env.yaml"}
    )
    with moto_server(log=root / "moto.log") as url:
        old = os.environ.get("AWS_ENDPOINT_URL")
        os.environ["AWS_ENDPOINT_URL"] = url
        try:
            env = Project(root).load_env("local")
            store = StateStore(env, Aws(env.spec))
            store.aws.s3.create_bucket(Bucket=BUCKET)
            yield {"url": url, "root": root, "store": store}
        finally:
            if old is None:
                os.environ.pop("AWS_ENDPOINT_URL", None)
            else:
                os.environ["AWS_ENDPOINT_URL"] = old


def _client(world: dict[str, Any], service: str) -> Any:
    return boto3.client(service, endpoint_url=world["url"], region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip


def _table(world: dict[str, Any], name: str) -> str:
    ddb = _client(world, "dynamodb")
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": "tenantId", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "tenantId", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def _fill(world: dict[str, Any], table: str, tenant: str, n: int, pad: int = 0) -> None:
    ddb = _client(world, "dynamodb")
    for start in range(0, n, 25):
        ddb.batch_write_item(RequestItems={table: [
            {"PutRequest": {"Item": {
                "tenantId": {"S": tenant}, "sk": {"S": f"order#{i:06d}"},
                "total": {"N": str(i * 3)}, "blob": {"B": bytes([i % 256]) * 3},
                "lines": {"L": [{"M": {"sku": {"S": "x"}, "qty": {"N": "2"}}}]},
                "tags": {"SS": ["a", "b"]}, "pad": {"S": "p" * pad},
            }}} for i in range(start, min(n, start + 25))
        ]})  # fmt: skip


def _count(world: dict[str, Any], table: str, tenant: str) -> int:
    ddb = _client(world, "dynamodb")
    out = ddb.query(TableName=table, KeyConditionExpression="tenantId = :t",
                    ExpressionAttributeValues={":t": {"S": tenant}}, Select="COUNT")  # fmt: skip
    return int(out["Count"])


def _pool_with_group(world: dict[str, Any], name: str, group: str, users: int) -> str:
    idp = _client(world, "cognito-idp")
    pool = idp.create_user_pool(PoolName=name)["UserPool"]["Id"]
    idp.create_group(UserPoolId=pool, GroupName=group)
    for i in range(users):
        name = f"u{i}-{group}@example.com"
        attrs = [{"Name": "email", "Value": name}]
        idp.admin_create_user(
            UserPoolId=pool, Username=name, MessageAction="SUPPRESS", UserAttributes=attrs
        )
        idp.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName=group)
    return str(pool)


def test_items_round_trip_through_typed_json() -> None:
    item = {"tenantId": {"S": "a"}, "sk": {"S": "1"}, "b": {"B": b"\x00\xff"},
            "bs": {"BS": [b"x", b"y"]}, "m": {"M": {"n": {"N": "1.5"}, "b": {"B": b"z"}}},
            "l": {"L": [{"B": b"q"}, {"NULL": True}, {"BOOL": False}]}}  # fmt: skip
    assert loads_item(dumps_item(item)) == item


def test_export_purge_restore_of_a_pooled_tenant(world: dict[str, Any]) -> None:
    table = _table(world, "pool-orders")
    _fill(world, table, "acme", 130)
    _fill(world, table, "other", 40)
    pool = _pool_with_group(world, "pool", "tenant-acme", 3)
    idp = _client(world, "cognito-idp")
    idp.create_group(UserPoolId=pool, GroupName="tenant-other")
    idp.admin_create_user(UserPoolId=pool, Username="x@other.example", MessageAction="SUPPRESS")
    loc = Location({"orders": table}, pooled=True, user_pool_id=pool, group="tenant-acme")
    data = TenantData(world["store"], "acme")

    folder, manifest = data.export(loc)
    assert manifest.tables["orders"]["count"] == 130 and manifest.users["count"] == 3
    assert data.exports() == [folder]
    # The files are what the manifest says: gzip JSON lines, with these checksums.
    s3 = _client(world, "s3")
    raw = s3.get_object(Bucket=BUCKET, Key=folder + "items-orders.jsonl.gz")["Body"].read()
    lines = gzip.decompress(raw).decode().splitlines()
    assert len(lines) == 130 and all(json.loads(x)["tenantId"] == {"S": "acme"} for x in lines)
    assert world["store"].archives("acme") == []  # exports are folders, not state archives

    removed = data.purge(loc, folder)
    assert removed == {"orders": 130, "users": 3}
    assert _count(world, table, "acme") == 0
    assert _count(world, table, "other") == 40  # nobody else's items touched
    assert idp.list_users(UserPoolId=pool)["Users"][0]["Username"] == "x@other.example"

    restored = data.restore(folder, loc)
    assert restored == {"orders": 130, "users": 3}
    assert _count(world, table, "acme") == 130
    members = idp.list_users_in_group(UserPoolId=pool, GroupName="tenant-acme")["Users"]
    assert len(members) == 3
    # Items come back bit for bit (binary, nested, sets).
    back = list(data.items(table, pooled=True))
    assert sorted(map(dumps_item, back)) == sorted(lines)
    # Restoring again changes nothing (idempotent).
    assert data.restore(folder, loc) == restored and _count(world, table, "acme") == 130


def test_purge_refuses_when_items_changed_after_the_export(world: dict[str, Any]) -> None:
    table = _table(world, "pool-changed")
    _fill(world, table, "beta", 10)
    loc = Location({"orders": table}, pooled=True)
    data = TenantData(world["store"], "beta")
    folder, _ = data.export(loc)
    _fill(world, table, "beta", 11)  # one more item since the export
    with pytest.raises(ConflictError, match=r"item 'order#000010' of 'beta' is not in the export"):
        data.purge(loc, folder)
    assert _count(world, table, "beta") == 11
    # A changed item is not covered either; an export of what is there now is.
    folder, _ = data.export(loc)
    _client(world, "dynamodb").put_item(
        TableName=table, Item={"tenantId": {"S": "beta"}, "sk": {"S": "order#000003"}}
    )
    with pytest.raises(ConflictError, match=r"item 'order#000003' of 'beta' is not in the export"):
        data.purge(loc, folder)
    folder, _ = data.export(loc)
    assert data.purge(loc, folder) == {"orders": 11}


def test_a_corrupted_export_is_refused_on_restore(world: dict[str, Any]) -> None:
    table = _table(world, "pool-corrupt")
    _fill(world, table, "gamma", 5)
    loc = Location({"orders": table}, pooled=True)
    data = TenantData(world["store"], "gamma")
    folder, _ = data.export(loc)
    s3 = _client(world, "s3")
    key = folder + "items-orders.jsonl.gz"
    lines = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    s3.put_object(Bucket=BUCKET, Key=key, Body=gzip.compress(lines.replace(b"order", b"ordex")))
    with pytest.raises(BackendError, match="checksum does not match"):
        data.restore(folder, Location({"orders": _table(world, "pool-corrupt-2")}, pooled=True))


def test_a_move_from_the_pool_to_dedicated_tables_keeps_every_item(world: dict[str, Any]) -> None:
    pooled = _table(world, "pool-move")
    dedicated = _table(world, "local-delta-orders")
    _fill(world, pooled, "delta", 77)
    _fill(world, pooled, "other", 5)
    data = TenantData(world["store"], "delta")
    source = Location({"orders": pooled}, pooled=True)
    dest = Location({"orders": dedicated}, pooled=False)
    assert data.copy(source, dest) == {"orders": 77}
    assert sorted(map(dumps_item, data.items(dedicated, pooled=False))) == sorted(
        map(dumps_item, data.items(pooled, pooled=True))
    )
    # and back: a scan of the dedicated table, written under the tenant's key
    _client(world, "dynamodb").delete_item(
        TableName=pooled, Key={"tenantId": {"S": "delta"}, "sk": {"S": "order#000003"}}
    )
    assert data.copy(dest, source) == {"orders": 77}
    assert _count(world, pooled, "delta") == 77 and _count(world, pooled, "other") == 5


def test_items_of_another_tenant_are_never_written_as_this_one(world: dict[str, Any]) -> None:
    table = _table(world, "pool-foreign")
    data = TenantData(world["store"], "eps")
    with pytest.raises(ConflictError, match="refusing to write an item of"):
        data.write_items(table, [{"tenantId": {"S": "zeta"}, "sk": {"S": "1"}}])
    assert _count(world, table, "zeta") == 0


def test_an_export_larger_than_memory_streams(world: dict[str, Any]) -> None:
    """What an export holds at once does not grow with the tenant: 5x the items
    (3,000 of 2 kB, 6 MB) peak at less than twice the memory, and under 6 MB."""
    table = _table(world, "pool-big")
    peaks = {}
    for tenant, n in (("small", 600), ("big", 3000)):
        _fill(world, table, tenant, n, pad=2000)
        data = TenantData(world["store"], tenant)
        tracemalloc.start()
        try:
            _, manifest = data.export(Location({"orders": table}, pooled=True))
            peaks[tenant] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert manifest.tables["orders"]["count"] == n
    assert peaks["big"] < 2 * peaks["small"], peaks
    assert peaks["big"] < 6_000_000, peaks


_SCRIPT = """
import json, sys
from saasctl.aws import Aws
from saasctl.project import Project
from saasctl.state import StateStore
from saasctl.tenant_data import Location, TenantData
from pathlib import Path
env = Project(Path(sys.argv[1])).load_env("local")
data = TenantData(StateStore(env, Aws(env.spec)), sys.argv[2])
loc = Location({"orders": sys.argv[3]}, pooled=True)
folder, manifest = data.export(loc)
print(json.dumps(data.purge(loc, folder)))
"""


@pytest.mark.parametrize("point", ["data.export.table", "data.export.verified", "data.batch"])
def test_sigkill_during_export_or_purge_loses_nothing(
    world: dict[str, Any], tmp_path: Path, point: str
) -> None:
    tenant = "kill-" + point.split(".")[-1]
    table = _table(world, f"pool-{tenant}")
    _fill(world, table, tenant, 60)
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": world["url"],
        "SAASCTL_FAILPOINTS": f"{point}=kill",
        "SAASCTL_FAILPOINT_LOG": str(tmp_path / "fp"),
    }
    argv = [sys.executable, "-c", _SCRIPT, str(world["root"]), tenant, table]
    died = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert died.returncode == -9, died.stderr  # killed where meant
    data = TenantData(world["store"], tenant)
    exported = data.exports()
    if point == "data.batch":
        # The export was complete before the purge began; some items may be gone,
        # and every item is in the export.
        assert len(exported) == 1
        assert data.manifest(exported[0]).tables["orders"]["count"] == 60
        # Resuming the purge with the same export finishes it: what is left is covered.
        left = _count(world, table, tenant)
        assert 0 < left < 60
        loc = Location({"orders": table}, pooled=True)
        assert data.purge(loc, exported[0]) == {"orders": left}
    else:
        assert exported == [] and _count(world, table, tenant) == 60  # nothing deleted
    env.pop("SAASCTL_FAILPOINTS")
    again = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert _count(world, table, tenant) == 0
    # The first complete export holds every item: restoring it brings all 60 back.
    first = exported[0] if exported else data.exports()[-1]
    restored = data.restore(first, Location({"orders": table}, pooled=True))
    assert restored["orders"] == 60 and _count(world, table, tenant) == 60

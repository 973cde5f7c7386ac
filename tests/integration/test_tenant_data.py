"""A tenant's data on the emulator: export with counts and checksums, purge of its
pooled items only, restore, copy between tiers, streaming, and a SIGKILL in the
middle of an export or a purge losing nothing."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import subprocess
import sys
import time
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
from tests.conftest import REPO, copy_project, tree_digest

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
            store.bootstrap(lock_table=False)  # the bucket and the exports' key
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


def _user(world: dict[str, Any], pool: str, name: str, tenant: str | None, group: str) -> None:
    """A user of ``tenant`` (None: without custom:tenantId) in ``group`` of the pool."""
    idp = _client(world, "cognito-idp")
    attrs = [{"Name": "email", "Value": name}]
    if tenant is not None:
        attrs.append({"Name": "custom:tenantId", "Value": tenant})
    idp.admin_create_user(
        UserPoolId=pool, Username=name, MessageAction="SUPPRESS", UserAttributes=attrs
    )
    idp.admin_add_user_to_group(UserPoolId=pool, Username=name, GroupName=group)


def _pool_with_group(world: dict[str, Any], name: str, group: str, users: int) -> str:
    """A shared pool with the group ``tenant-<id>`` and ``users`` users of that tenant."""
    idp = _client(world, "cognito-idp")
    pool = str(idp.create_user_pool(PoolName=name)["UserPool"]["Id"])
    idp.create_group(UserPoolId=pool, GroupName=group)
    for i in range(users):
        _user(world, pool, f"u{i}-{group}@example.com", group.removeprefix("tenant-"), group)
    return pool


def _members(world: dict[str, Any], pool: str, group: str) -> list[str]:
    idp = _client(world, "cognito-idp")
    users = idp.list_users_in_group(UserPoolId=pool, GroupName=group)["Users"]
    return sorted(u["Username"] for u in users)


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
    # Every file under the exports' own key (reading the bucket is not reading
    # them), tagged for the retention rule.
    key = _client(world, "kms").describe_key(KeyId=world["store"].exports_alias)["KeyMetadata"]
    for name in ("items-orders.jsonl.gz", "users.jsonl.gz", "manifest.json"):
        head = s3.head_object(Bucket=BUCKET, Key=folder + name)
        assert (head["ServerSideEncryption"], head["SSEKMSKeyId"]) == ("aws:kms", key["Arn"])
        tags = s3.get_object_tagging(Bucket=BUCKET, Key=folder + name)["TagSet"]
        assert tags == [{"Key": "saasctl-kind", "Value": "tenant-export"}], name

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


def _rewrite(world: dict[str, Any], folder: str, name: str, edit: Any, *, sign: bool) -> None:
    """Replace one file of an export by ``edit(lines)``; ``sign``: and give the manifest
    its new checksum and count, as someone who tampers with both would."""
    s3 = _client(world, "s3")
    key = folder + name
    lines = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()).splitlines()
    body = gzip.compress(b"\n".join(edit(lines)) + b"\n", mtime=0)
    s3.put_object(Bucket=BUCKET, Key=key, Body=body)
    if sign:
        manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=folder + "manifest.json")["Body"]
                              .read())  # fmt: skip
        entries = [manifest["users"], *manifest["tables"].values(), *[manifest.get("logs") or {}]]
        entry = next(e for e in entries if e["file"] == name)
        entry["sha256"] = hashlib.sha256(body).hexdigest()
        entry["count"] = len(edit(lines))
        s3.put_object(Bucket=BUCKET, Key=folder + "manifest.json", Body=json.dumps(manifest))


def _set_count(world: dict[str, Any], folder: str, count: int) -> None:
    s3 = _client(world, "s3")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=folder + "manifest.json")["Body"].read())
    manifest["tables"]["orders"]["count"] = count
    s3.put_object(Bucket=BUCKET, Key=folder + "manifest.json", Body=json.dumps(manifest))


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("item-changed", "checksum does not match the manifest; nothing written"),
        ("users-file-changed", "checksum does not match the manifest; nothing written"),
        ("count-changed", "60 line(s), the manifest says 61; nothing written"),
        ("foreign-item-signed", "an item of {'S': 'mallory'}, not of 'gamma'; nothing written"),
        ("foreign-user-signed", "belongs to tenant 'mallory', not 'gamma'; nothing written"),
    ],
    ids=["item-changed", "users-file-changed", "count-changed", "foreign-item", "foreign-user"],
)
def test_a_damaged_export_writes_nothing(world: dict[str, Any], case: str, error: str) -> None:
    """60 items (more than two batches of 25) and 2 users: whatever is wrong with the
    export, the restore refuses before its first write, not after 50 items."""
    table = _table(world, f"pool-damaged-{case}")
    _fill(world, table, "gamma", 60)
    pool = _pool_with_group(world, f"pool-{case}", "tenant-gamma", 2)
    source = Location({"orders": table}, pooled=True, user_pool_id=pool, group="tenant-gamma")
    data = TenantData(world["store"], "gamma")
    folder, manifest = data.export(source)
    assert manifest.tables["orders"]["count"] == 60 and manifest.users["count"] == 2
    items, users = "items-orders.jsonl.gz", "users.jsonl.gz"

    def last_item(lines: list[bytes], old: bytes, new: bytes) -> list[bytes]:
        # The last item: a restore that checked the stream at its end wrote 50 first.
        return [*lines[:-1], lines[-1].replace(old, new)]

    if case == "item-changed":
        _rewrite(world, folder, items, lambda ls: last_item(ls, b'"177"', b'"1"'), sign=False)
    elif case == "users-file-changed":
        _rewrite(world, folder, users, lambda ls: ls[:1], sign=False)
    elif case == "count-changed":
        _set_count(world, folder, 61)
    elif case == "foreign-item-signed":
        _rewrite(
            world, folder, items, lambda ls: last_item(ls, b'"gamma"', b'"mallory"'), sign=True
        )
    else:
        _rewrite(
            world, folder, users, lambda ls: last_item(ls, b'"gamma"', b'"mallory"'), sign=True
        )
    target_pool = _pool_with_group(world, f"target-{case}", "tenant-gamma", 0)
    target = Location({"orders": _table(world, f"restored-{case}")}, pooled=True,
                      user_pool_id=target_pool, group="tenant-gamma")  # fmt: skip
    with pytest.raises((BackendError, ConflictError)) as refused:
        data.restore(folder, target)
    written = (_count(world, target.tables["orders"], "gamma"), _members(world, target_pool,
               "tenant-gamma"))  # fmt: skip
    assert written == (0, []), refused.value
    assert error in refused.value.one_line()
    # A purge checks the export as a restore does: nothing leaves the pool.
    with pytest.raises((BackendError, ConflictError), match=re.escape(error)):
        data.purge(source, folder)
    assert _count(world, table, "gamma") == 60
    assert len(_members(world, pool, "tenant-gamma")) == 2


def test_a_user_of_another_tenant_is_never_taken_over(world: dict[str, Any]) -> None:
    """The shared pool already has the address as another tenant's user: adding it to
    this tenant is refused, and a group that holds a foreign user anyway (put there
    by hand, or by an older saasctl) is exported, purged and moved without it."""
    pool = _pool_with_group(world, "pool-users", "tenant-other", 0)
    idp = _client(world, "cognito-idp")
    idp.create_group(UserPoolId=pool, GroupName="tenant-acme")
    _user(world, pool, "boss@shared.example", "other", "tenant-other")
    _user(world, pool, "legacy@shared.example", None, "tenant-other")
    loc = Location({}, pooled=True, user_pool_id=pool, group="tenant-acme")
    data = TenantData(world["store"], "acme")
    for name, whose in (("boss", "tenant 'other'"), ("legacy", "no tenant (no custom:tenantId)")):
        address = f"{name}@shared.example"
        user = {"username": address, "attributes": {"email": address, "custom:tenantId": "acme"}}
        with pytest.raises(
            ConflictError, match=re.escape(f"belongs to {whose}, not 'acme'; nothing written")
        ):
            data.ensure_user(loc, user)
    assert _members(world, pool, "tenant-acme") == []
    # acme's own users, and the other tenant's user in acme's group anyway
    _user(world, pool, "a1@acme.example", "acme", "tenant-acme")
    _user(world, pool, "a2@acme.example", "acme", "tenant-acme")
    idp.admin_add_user_to_group(UserPoolId=pool, Username="boss@shared.example",
                                GroupName="tenant-acme")  # fmt: skip
    folder, manifest = data.export(loc)
    assert manifest.users["count"] == 2
    assert sorted(u["username"] for u in data.exported_users(folder)) == [
        "a1@acme.example", "a2@acme.example"]  # fmt: skip
    assert data.purge(loc, folder) == {"users": 2}
    left = sorted(u["Username"] for u in idp.list_users(UserPoolId=pool)["Users"])
    assert left == ["boss@shared.example", "legacy@shared.example"]
    # Its export restored where the address now belongs to another tenant: refused
    # before any item or user is written.
    _user(world, pool, "a2@acme.example", "other", "tenant-other")
    with pytest.raises(ConflictError, match=r"a2@acme.example already exists .* tenant 'other'"):
        data.restore(folder, loc)
    assert _members(world, pool, "tenant-acme") == ["boss@shared.example"]
    # Deleting exported users spares those who are not the tenant's.
    assert data.delete_users(pool, [{"username": "a2@acme.example"}]) == 0


def test_an_export_of_another_tenant_is_never_read(world: dict[str, Any]) -> None:
    """Pointers to exports (a spec's offboarding: or data_move:, a restore marker, an
    option) must lie under the tenant's own archive prefix, and the manifest there
    must name the tenant: nobody's personal data is copied into another tenant."""
    table = _table(world, "pool-pointers")
    _fill(world, table, "victim", 30)
    pool = _pool_with_group(world, "pool-pointers", "tenant-victim", 2)
    idp = _client(world, "cognito-idp")
    idp.create_group(UserPoolId=pool, GroupName="tenant-thief")
    victim = Location({"orders": table}, pooled=True, user_pool_id=pool, group="tenant-victim")
    folder, _ = TenantData(world["store"], "victim").export(victim)
    thief = TenantData(world["store"], "thief")
    into = Location({"orders": table}, pooled=True, user_pool_id=pool, group="tenant-thief")
    name = folder.rstrip("/").rsplit("/", 1)[1]
    own = world["store"].env.archive_prefix("thief")
    for pointer in (folder, folder.rstrip("/"), f"{own}../victim/{name}", f"{own}{name}/x",
                    "../victim/" + name, ""):  # fmt: skip
        with pytest.raises(ConflictError, match="is not a data export of 'thief'"):
            thief.restore(pointer, into)
        with pytest.raises(ConflictError, match="is not a data export of 'thief'"):
            thief.copy_users(pointer, into, "basic")  # a move's users, from a spec's data_move
        with pytest.raises(ConflictError, match="is not a data export of 'thief'"):
            thief.copy_users(pointer, into, "basic")  # a move's users, from a spec's data_move
    # The victim's export copied under the thief's prefix: its manifest names the victim.
    s3 = _client(world, "s3")
    theirs = world["store"].env.archive_prefix("victim")
    for obj in s3.list_objects_v2(Bucket=BUCKET, Prefix=folder)["Contents"]:
        copy = own + obj["Key"].removeprefix(theirs)
        s3.copy_object(Bucket=BUCKET, Key=copy, CopySource={"Bucket": BUCKET, "Key": obj["Key"]})
    with pytest.raises(ConflictError, match="names tenant 'victim', not 'thief'; nothing read"):
        thief.restore(name, into)
    # ... and with the manifest's tenant changed, every item and user still names the victim.
    _rewrite_manifest(world, own + name + "/", tenant="thief")
    with pytest.raises(ConflictError, match="not of 'thief'; nothing written"):
        thief.restore(name, into)
    _rewrite_manifest(world, own + name + "/", users_file="../../victim/users.jsonl.gz")
    with pytest.raises(BackendError, match="names files that are not the export's own"):
        thief.restore(name, into)
    assert _count(world, table, "thief") == 0 and _members(world, pool, "tenant-thief") == []


def test_the_cli_refuses_pointers_to_another_tenants_export(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch, run_cli: Any
) -> None:
    """A spec's offboarding: or data_move:, a restore marker and --export that name
    another tenant's export: one line, exit 3, before anything is written."""
    table = _table(world, "pool-cli-pointers")
    _fill(world, table, "victim", 3)
    folder, _ = TenantData(world["store"], "victim").export(Location({"orders": table}, True))
    world["store"].bootstrap(lock_table=False)  # a bucket that passes the checks
    monkeypatch.setenv("SAASCTL_ROOT", str(world["root"]))
    monkeypatch.setenv("NO_COLOR", "1")
    tenants = world["root"] / "terraform/envs/local/tenants"
    refusal = f"{folder!r} is not a data export of 'thief'"
    for field in ("offboarding", "data_move"):
        (tenants / "thief").mkdir(parents=True, exist_ok=True)
        (tenants / "thief/tenant.yaml").write_text(
            f"id: thief\ntier: basic\nlistener_priority: 100\n{field}: {folder}\n"
        )
        before = tree_digest(world["root"] / "terraform")
        for argv in (("offboard", "thief", "--yes"), ("set-tier", "thief", "--tier", "premium",
                     "--yes")):  # fmt: skip
            result = run_cli("tenant", *argv)
            assert (result.code, result.err.count("\n")) == (3, 1), result.err
            assert refusal in result.err
            assert tree_digest(world["root"] / "terraform") == before
    marker = world["store"].env.restore_marker_key("thief2")
    world["store"].put_json(marker, {"export": folder})
    result = run_cli("tenant", "onboard", "thief2", "--tier", "basic", "--yes")
    assert result.code == 3 and f"{folder!r} is not a data export of 'thief2'" in result.err
    assert not (tenants / "thief2").exists()
    result = run_cli("tenant", "restore", "thief", "--export", folder)
    assert result.code == 3 and refusal in result.err


def _rewrite_manifest(world: dict[str, Any], folder: str, **changes: str) -> None:
    s3 = _client(world, "s3")
    manifest = json.loads(s3.get_object(Bucket=BUCKET, Key=folder + "manifest.json")["Body"].read())
    if "tenant" in changes:
        manifest["tenant"] = changes["tenant"]
    if "users_file" in changes:
        manifest["users"]["file"] = changes["users_file"]
    s3.put_object(Bucket=BUCKET, Key=folder + "manifest.json", Body=json.dumps(manifest))


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


def test_nothing_is_exported_without_the_exports_key(world: dict[str, Any]) -> None:
    store = world["store"]
    table = _table(world, "pool-keyless")
    _fill(world, table, "keyless", 5)
    kms = _client(world, "kms")
    kms.delete_alias(AliasName=store.exports_alias)
    loc = Location({"orders": table}, pooled=True, user_pool_id=None, group=None)
    try:
        with pytest.raises(BackendError, match="no key for tenant exports") as exc:
            TenantData(store, "keyless").export(loc)
        assert "saasctl bootstrap" in (exc.value.hint or "")
        assert (
            _client(world, "s3")
            .list_objects_v2(Bucket=BUCKET, Prefix=store.env.archive_prefix("keyless"))
            .get("KeyCount")
            == 0
        )
    finally:
        store.bootstrap(lock_table=False)  # a new key for the next tests


def test_an_export_that_does_not_read_back_as_written_is_no_export(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """S3 holding other bytes than were written (a truncated or altered upload):
    the read-back refuses it before the manifest exists, so nothing is purged."""
    table = _table(world, "pool-readback")
    _fill(world, table, "rb", 40)
    store = world["store"]
    put = store.aws.s3.put_object

    def damaged(**kwargs: Any) -> Any:
        if kwargs["Key"].endswith(".jsonl.gz"):
            body = kwargs["Body"].read()
            kwargs["Body"] = body[: len(body) // 2]
        return put(**kwargs)

    monkeypatch.setattr(store.aws.s3, "put_object", damaged)
    data = TenantData(store, "rb")
    with pytest.raises(BackendError, match="checksum does not match the manifest"):
        data.export(Location({"orders": table}, pooled=True))
    monkeypatch.undo()
    assert data.exports() == []  # no manifest: not an export anything may use
    assert _count(world, table, "rb") == 40


def test_a_copy_that_lands_fewer_items_is_refused(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pooled = _table(world, "pool-short")
    dedicated = _table(world, "local-short-orders")
    _fill(world, pooled, "short", 30)
    data = TenantData(world["store"], "short")
    write = data.write_items

    def lossy(table: str, items: Any, **kwargs: Any) -> int:
        listed = list(items)
        write(table, listed[1:], **kwargs)  # one item lost on the way
        return len(listed)

    monkeypatch.setattr(data, "write_items", lossy)
    with pytest.raises(BackendError, match="29 item\\(s\\) after copying 30"):
        data.copy(Location({"orders": pooled}, pooled=True),
                  Location({"orders": dedicated}, pooled=False))  # fmt: skip


def test_a_purge_that_leaves_items_behind_stops_before_the_users(
    world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DynamoDB acknowledging deletes that did not happen: the count after the
    purge finds the item left, and the tenant's users stay in the pool."""
    table = _table(world, "pool-leftover")
    _fill(world, table, "left", 25)
    pool = _pool_with_group(world, "pool-leftover", "tenant-left", 2)
    loc = Location({"orders": table}, pooled=True, user_pool_id=pool, group="tenant-left")
    data = TenantData(world["store"], "left")
    folder, _ = data.export(loc)
    write = data.write_items

    def one_kept(table: str, items: Any, **kwargs: Any) -> int:
        listed = list(items)
        write(table, listed[1:], **kwargs)  # the first delete is lost on the way
        return len(listed)

    monkeypatch.setattr(data, "write_items", one_kept)
    with pytest.raises(BackendError, match="1 item\\(s\\) of 'left' remain"):
        data.purge(loc, folder)
    monkeypatch.undo()
    assert _count(world, table, "left") == 1
    assert len(_members(world, pool, "tenant-left")) == 2  # nobody deleted
    assert data.purge(loc, folder) == {"orders": 1, "users": 2}  # a re-run finishes it


def test_the_tenants_log_groups_are_exported_and_checked(world: dict[str, Any]) -> None:
    """Every event of the tenant's log groups goes into the export (a group that no
    longer exists has none); an event of another group refuses the whole export."""
    logs = _client(world, "logs")
    table = _table(world, "pool-logs")
    _fill(world, table, "lumen", 4)
    groups = ("/saasctl/local/tenants/lumen", "/ecs/lumen-old/")
    logs.create_log_group(logGroupName=groups[0])
    now = int(time.time() * 1000)  # AWS refuses events older than 14 days
    for stream, n in (("web/1", 120), ("api/1", 3)):
        logs.create_log_stream(logGroupName=groups[0], logStreamName=stream)
        logs.put_log_events(logGroupName=groups[0], logStreamName=stream, logEvents=[
            {"timestamp": now + i, "message": f"{stream} {i}"} for i in range(n)
        ])  # fmt: skip
    data = TenantData(world["store"], "lumen")
    loc = Location({"orders": table}, pooled=True, log_groups=groups)  # the second is gone
    folder, manifest = data.export(loc)
    assert manifest.log_events == 123 and manifest.logs is not None
    assert manifest.logs["groups"] == list(groups)
    with data.verified(folder) as export:
        events = list(export.log_events())
    assert sorted(e["message"] for e in events) == sorted(
        [f"web/1 {i}" for i in range(120)] + [f"api/1 {i}" for i in range(3)]
    )
    streams = {(e["group"], e["stream"]) for e in events}
    assert streams == {(groups[0], "web/1"), (groups[0], "api/1")}
    head = _client(world, "s3").head_object(Bucket=BUCKET, Key=folder + "logs.jsonl.gz")
    assert head["ServerSideEncryption"] == "aws:kms"  # under the exports' key, as the rest
    archives = data.manifest(folder)
    assert archives.log_events == 123

    def foreign(lines: list[bytes]) -> list[bytes]:
        event = json.loads(lines[0])
        return [json.dumps({**event, "group": "/saasctl/local/tenants/other"}).encode(),
                *lines[1:]]  # fmt: skip

    _rewrite(world, folder, "logs.jsonl.gz", foreign, sign=True)
    with pytest.raises(ConflictError, match="an event of log group '/saasctl/local/tenants/other'"):
        data.restore(folder, Location({"orders": table}, pooled=True))

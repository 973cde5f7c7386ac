"""A tenant's data outside Terraform state: its items in DynamoDB and its users in
Cognito. Exported and verified before anything is removed, restored from an
export, and copied between tables on a tier move.

An export is a folder beside the state archives, ``<archive>/<env>/tenants/<id>/
<UTC>/``: one gzip file of JSON lines per table (items in DynamoDB's typed JSON,
so nothing is lost in translation), one for the users, and ``manifest.json``
with counts and SHA-256 checksums, written last: an export without a manifest is
incomplete and never trusted. Items stream through a temporary file, never
through memory, so a tenant larger than memory exports as any other.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from saasctl import failpoints
from saasctl.errors import BackendError, ConflictError, NotFoundError
from saasctl.state import StateStore

PARTITION_KEY = "tenantId"
SORT_KEY = "sk"
MANIFEST = "manifest.json"
FORMAT = 1
_BATCH = 25  # BatchWriteItem's limit
_CHUNK = 1 << 18

Item = dict[str, Any]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Location:
    """Where a tenant's data lives in one tier."""

    tables: dict[str, str]  # table (as env.yaml names it) -> physical table name
    pooled: bool  # the tables hold other tenants' items too
    user_pool_id: str | None = None
    group: str | None = None  # the tenant's group in a shared pool (basic)

    @property
    def owned(self) -> bool:
        """The tenant has tables or a user pool of its own (deletion-protected)."""
        return bool(self.tables and not self.pooled) or bool(self.user_pool_id and not self.group)

    def as_dict(self) -> dict[str, Any]:
        return {"tables": dict(self.tables), "pooled": self.pooled,
                "user_pool_id": self.user_pool_id, "group": self.group}  # fmt: skip


@dataclass
class Manifest:
    tenant: str
    created: str
    source: dict[str, Any]
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)

    @property
    def items(self) -> int:
        return sum(int(t["count"]) for t in self.tables.values())

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "tenant": self.tenant, "created": self.created,
                "source": self.source, "tables": self.tables, "users": self.users}  # fmt: skip

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise BackendError(f"unknown export format {data.get('format')!r}")
        return cls(data["tenant"], data["created"], data["source"], data["tables"], data["users"])


# --- typed JSON: DynamoDB's attribute values, binary as base64 ----------------


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _encode_av(k, v) for k, v in value.items()}
    return value


def _encode_av(tag: str, value: Any) -> Any:
    if tag == "B":
        return base64.b64encode(value).decode()
    if tag == "BS":
        return [base64.b64encode(v).decode() for v in value]
    if tag == "M":
        return {k: _encode(v) for k, v in value.items()}
    if tag == "L":
        return [_encode(v) for v in value]
    if isinstance(value, dict):  # an item: attribute name -> attribute value
        return _encode(value)
    return value


def _decode(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for tag, inner in value.items():
        if tag == "B":
            out[tag] = base64.b64decode(inner)
        elif tag == "BS":
            out[tag] = [base64.b64decode(v) for v in inner]
        elif tag == "M":
            out[tag] = {k: _decode(v) for k, v in inner.items()}
        elif tag == "L":
            out[tag] = [_decode(v) for v in inner]
        elif isinstance(inner, dict):  # an item
            out[tag] = _decode(inner)
        else:
            out[tag] = inner
    return out


def dumps_item(item: Item) -> str:
    return json.dumps(_encode(item), sort_keys=True, separators=(",", ":"))


def loads_item(line: str) -> Item:
    item: Item = _decode(json.loads(line))
    return item


# --- the data itself ---------------------------------------------------------


class TenantData:
    def __init__(self, store: StateStore, tenant_id: str) -> None:
        self.store = store
        self.aws = store.aws
        self.env = store.env
        self.tenant_id = tenant_id

    @property
    def _ddb(self) -> Any:
        return self.aws.dynamodb

    @property
    def _idp(self) -> Any:
        return self.aws.client("cognito-idp")

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        return self.store._call(fn, **kwargs)

    # reading

    def items(self, table: str, *, pooled: bool, keys_only: bool = False) -> Iterator[Item]:
        """The tenant's items of ``table``: a query on its key in a pooled table, a scan
        of a dedicated one (its items are all the tenant's)."""
        # Pages of 100: memory stays bounded even where an emulator ignores the 1 MB page.
        args: dict[str, Any] = {"TableName": table, "ConsistentRead": True, "Limit": 100}
        if keys_only:
            args["ProjectionExpression"] = "#p, #s"
            args["ExpressionAttributeNames"] = {"#p": PARTITION_KEY, "#s": SORT_KEY}
        if pooled:
            args["KeyConditionExpression"] = "#p = :t"
            args.setdefault("ExpressionAttributeNames", {})["#p"] = PARTITION_KEY
            args["ExpressionAttributeValues"] = {":t": {"S": self.tenant_id}}
        read = self._ddb.query if pooled else self._ddb.scan
        try:
            while True:
                page = self._call(read, **args)
                yield from page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return
                args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise NotFoundError(f"table {table!r} does not exist") from None
            raise

    def existing(self, tables: Iterable[str]) -> list[str]:
        """Those of ``tables`` that exist."""
        found = []
        for table in tables:
            try:
                self._call(self._ddb.describe_table, TableName=table)
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    continue
                raise
            found.append(table)
        return found

    def count(self, table: str, *, pooled: bool) -> int:
        return sum(1 for _ in self.items(table, pooled=pooled, keys_only=True))

    def users(self, location: Location) -> Iterator[dict[str, Any]]:
        if location.user_pool_id is None:
            return
        if location.group:
            args: dict[str, Any] = {"UserPoolId": location.user_pool_id,
                                    "GroupName": location.group, "Limit": 60}  # fmt: skip
            read, token = self._idp.list_users_in_group, "NextToken"
        else:
            args = {"UserPoolId": location.user_pool_id, "Limit": 60}
            read, token = self._idp.list_users, "PaginationToken"
        while True:
            page = self._call(read, **args)
            for user in page.get("Users", []):
                yield {
                    "username": user["Username"],
                    "attributes": {a["Name"]: a["Value"] for a in user.get("Attributes", [])},
                    "enabled": user.get("Enabled", True),
                    "status": user.get("UserStatus", ""),
                }
            if not page.get(token):
                return
            args[token] = page[token]

    # writing

    def write_items(self, table: str, items: Iterable[Item], *, delete: bool = False) -> int:
        """Put (or delete, by key) items in batches of 25, retrying what DynamoDB
        leaves unprocessed. Returns how many were written."""
        written = 0
        batch: list[dict[str, Any]] = []
        for item in items:
            if item.get(PARTITION_KEY, {}).get("S") != self.tenant_id:
                raise ConflictError(
                    f"refusing to write an item of {item.get(PARTITION_KEY)!r} "
                    f"as {self.tenant_id!r}"
                )
            if delete:
                key = {PARTITION_KEY: item[PARTITION_KEY], SORT_KEY: item[SORT_KEY]}
                batch.append({"DeleteRequest": {"Key": key}})
            else:
                batch.append({"PutRequest": {"Item": item}})
            if len(batch) == _BATCH:
                written += self._flush(table, batch)
                batch = []
        if batch:
            written += self._flush(table, batch)
        return written

    def _flush(self, table: str, batch: list[dict[str, Any]]) -> int:
        pending = {table: batch}
        for attempt in range(10):
            out = self._call(self._ddb.batch_write_item, RequestItems=pending)
            pending = out.get("UnprocessedItems") or {}
            if not pending:
                failpoints.hit("data.batch", table=table, size=len(batch))  # between batches
                return len(batch)
            time.sleep(min(2.0, 0.05 * 2**attempt))
        raise BackendError(f"{table}: DynamoDB left {len(pending[table])} writes unprocessed")

    # export

    def export(self, location: Location, progress: Progress | None = None) -> tuple[str, Manifest]:
        """Export every item and user to a new folder, verify it, and only then write
        the manifest. Returns (folder key, manifest)."""
        say = progress or (lambda _: None)
        created = datetime.now(timezone.utc)
        folder = (
            self.env.archive_prefix(self.tenant_id) + created.strftime("%Y%m%dT%H%M%S%fZ") + "/"
        )
        manifest = Manifest(self.tenant_id, created.isoformat(), location.as_dict())
        with tempfile.TemporaryDirectory(prefix="saasctl-export-") as tmp:
            for name, table in sorted(location.tables.items()):
                lines = (dumps_item(i) for i in self.items(table, pooled=location.pooled))
                entry = self._upload(Path(tmp), folder, f"items-{name}.jsonl.gz", lines)
                manifest.tables[name] = {**entry, "table": table}
                say(f"exported {entry['count']} item(s) of {table}")
                failpoints.hit("data.export.table", table=table, count=entry["count"])
            users = (json.dumps(u, sort_keys=True) for u in self.users(location))
            manifest.users = self._upload(Path(tmp), folder, "users.jsonl.gz", users)
            say(f"exported {manifest.users['count']} user(s)")
        self._verify_files(folder, manifest)
        failpoints.hit("data.export.verified", folder=folder)
        body = json.dumps(manifest.as_dict(), indent=2, sort_keys=True).encode()
        if not self.store._put_if_absent(folder + MANIFEST, body):
            raise ConflictError(f"an export already exists at {folder}")
        return folder, manifest

    def _upload(self, tmp: Path, folder: str, name: str, lines: Iterable[str]) -> dict[str, Any]:
        path = tmp / name
        count = 0
        # mtime 0: the same items give the same bytes, so the checksum is of content.
        with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
            for line in lines:
                gz.write(line.encode() + b"\n")
                count += 1
        digest = hashlib.sha256()
        with path.open("rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        with path.open("rb") as fh:
            self._call(self.aws.s3.put_object, Bucket=self.store.bucket, Key=folder + name,
                       Body=fh, ServerSideEncryption="AES256")  # fmt: skip
        return {"file": name, "count": count, "sha256": digest.hexdigest(),
                "bytes": path.stat().st_size}  # fmt: skip

    def _lines(self, key: str, sha256: str | None = None) -> Iterator[bytes]:
        """The lines of a stored gzip file, streamed; checks its checksum at the end."""
        body = self._call(self.aws.s3.get_object, Bucket=self.store.bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        inflate = zlib.decompressobj(wbits=31)
        rest = b""
        for chunk in body.iter_chunks(_CHUNK):
            digest.update(chunk)
            while chunk:  # inflate at most a chunk at a time: JSON lines compress 10-1000x
                data = rest + inflate.decompress(chunk, _CHUNK)
                chunk = inflate.unconsumed_tail
                *whole, rest = data.split(b"\n")
                yield from whole
        tail = (rest + inflate.flush()).split(b"\n")
        yield from (line for line in tail if line)
        if sha256 is not None and digest.hexdigest() != sha256:
            raise BackendError(
                f"s3://{self.store.bucket}/{key}: checksum does not match the manifest"
            )

    def _verify_files(self, folder: str, manifest: Manifest) -> None:
        for entry in [*manifest.tables.values(), manifest.users]:
            seen = sum(1 for _ in self._lines(folder + entry["file"], entry["sha256"]))
            if seen != entry["count"]:
                raise BackendError(
                    f"export {folder}{entry['file']}: {seen} line(s) read back, "
                    f"{entry['count']} written"
                )

    def exports(self) -> list[str]:
        """Complete exports (those with a manifest), oldest first."""
        pages = self.store.list_pages(self.env.archive_prefix(self.tenant_id), folders=True)
        found = sorted(p["Prefix"] for page in pages for p in page.get("CommonPrefixes", []))
        return [f for f in found if self.store.exists(f + MANIFEST)]

    def manifest(self, folder: str) -> Manifest:
        data = self.store.read_json(folder + MANIFEST)
        if data is None:
            raise NotFoundError(f"{folder} is not a complete export (no manifest)")
        return Manifest.from_dict(data)

    # removal, after an export

    def purge(self, location: Location, folder: str) -> dict[str, int]:
        """Delete the tenant's pooled items and its users in the shared pool (which
        Terraform does not own), only if the export at ``folder`` holds every one of
        them as it is now. Dedicated tables and pools are Terraform's to destroy.
        A re-run after a crash finishes the job (what is left is still covered)."""
        manifest = self.manifest(folder)
        removed: dict[str, int] = {}
        if location.pooled:
            for name, table in sorted(location.tables.items()):
                entry = manifest.tables.get(name)
                if entry is None:
                    raise ConflictError(
                        f"the export {folder} has no table {name!r}; nothing deleted"
                    )
                self._covered(table, folder + entry["file"], entry["sha256"])
                keys = self.items(table, pooled=True, keys_only=True)
                removed[name] = self.write_items(table, keys, delete=True)
                left = self.count(table, pooled=True)
                if left:
                    raise BackendError(f"{table}: {left} item(s) of {self.tenant_id!r} remain")
        if location.group and location.user_pool_id:
            exported = {
                json.loads(line)["username"]
                for line in self._lines(folder + manifest.users["file"], manifest.users["sha256"])
            }
            users = [u["username"] for u in self.users(location)]
            missing = sorted(set(users) - exported)
            if missing:
                raise ConflictError(
                    f"{len(missing)} user(s) of group {location.group} are not in the export "
                    f"(e.g. {missing[0]}); nothing deleted",
                    hint="run the offboard again after the tenant's users stop changing",
                )
            for username in users:
                failpoints.hit("data.purge.user", username=username)
                self._call(self._idp.admin_delete_user, UserPoolId=location.user_pool_id,
                           Username=username)  # fmt: skip
            removed["users"] = len(users)
        return removed

    def _covered(self, table: str, key: str, sha256: str) -> None:
        """Every item of the tenant in the pooled ``table`` is in the export, as it is
        now. Both are in the table's key order (a query's), so one pass over each
        suffices, in constant memory."""
        exported = (loads_item(line.decode()) for line in self._lines(key, sha256))
        ahead: Item | None = next(exported, None)
        for item in self.items(table, pooled=True):
            sk = item[SORT_KEY]["S"].encode()
            while ahead is not None and ahead[SORT_KEY]["S"].encode() < sk:
                ahead = next(exported, None)
            if ahead is None or ahead[SORT_KEY]["S"].encode() != sk or ahead != item:
                raise ConflictError(
                    f"{table}: item {item[SORT_KEY]['S']!r} of {self.tenant_id!r} is not in the "
                    "export as it is now; nothing deleted",
                    hint="the tenant's data changed after the export; stop its writers first",
                )
        for _ in exported:  # read to the end: the checksum is checked there
            pass

    # restore and moves

    def restore(self, folder: str, location: Location) -> dict[str, int]:
        """Write an export's items and users into ``location`` (idempotent: items are
        put by key, existing users are kept). Checks every checksum on the way."""
        manifest = self.manifest(folder)
        restored: dict[str, int] = {}
        for name, entry in sorted(manifest.tables.items()):
            table = location.tables.get(name)
            if table is None:
                raise ConflictError(f"the export has table {name!r}, which the tier has not")
            items = (
                loads_item(line.decode())
                for line in self._lines(folder + entry["file"], entry["sha256"])
            )
            restored[name] = self.write_items(table, items)
        users = 0
        if location.user_pool_id:
            lines = self._lines(folder + manifest.users["file"], manifest.users["sha256"])
            for line in lines:
                self.ensure_user(location, json.loads(line))
                users += 1
        restored["users"] = users
        return restored

    def exported_users(self, folder: str) -> Iterator[dict[str, Any]]:
        manifest = self.manifest(folder)
        for line in self._lines(folder + manifest.users["file"], manifest.users["sha256"]):
            user: dict[str, Any] = json.loads(line)
            yield user

    def copy_users(self, folder: str, location: Location, tier: str) -> int:
        """Recreate the users of an export in ``location``, at ``tier``."""
        count = 0
        for user in self.exported_users(folder):
            user["attributes"]["custom:tenantTier"] = tier
            self.ensure_user(location, user)
            count += 1
        return count

    def delete_users(self, user_pool_id: str, users: Iterable[dict[str, Any]]) -> int:
        """Delete these users of this tenant from a pool (those already gone, or of
        another tenant, are left alone). Returns how many were deleted."""
        deleted = 0
        for user in users:
            try:
                got = self._call(self._idp.admin_get_user, UserPoolId=user_pool_id,
                                 Username=user["username"])  # fmt: skip
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "UserNotFoundException":
                    continue
                raise
            attrs = {a["Name"]: a["Value"] for a in got.get("UserAttributes", [])}
            if attrs.get("custom:tenantId", self.tenant_id) != self.tenant_id:
                continue
            self._call(self._idp.admin_delete_user, UserPoolId=user_pool_id,
                       Username=user["username"])  # fmt: skip
            deleted += 1
        return deleted

    def ensure_user(self, location: Location, user: dict[str, Any]) -> bool:
        """Create a user (attributes as given, no invitation sent) unless it exists, and
        put it in the tenant's group. True when it was created."""
        assert location.user_pool_id is not None
        attrs = [
            {"Name": k, "Value": v} for k, v in sorted(user["attributes"].items()) if k != "sub"
        ]
        created = True
        try:
            self._call(self._idp.admin_create_user, UserPoolId=location.user_pool_id,
                       Username=user["username"], UserAttributes=attrs,
                       MessageAction="SUPPRESS")  # fmt: skip
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "UsernameExistsException":
                raise
            created = False
        if location.group:
            self._call(self._idp.admin_add_user_to_group, UserPoolId=location.user_pool_id,
                       Username=user["username"], GroupName=location.group)  # fmt: skip
        return created

    def copy(self, source: Location, dest: Location) -> dict[str, int]:
        """Copy every item from one tier's tables to another's and check each table
        holds at least as many of the tenant's items as the source (the source is
        left as it is: the caller removes it once the move is recorded)."""
        copied: dict[str, int] = {}
        for name, table in sorted(source.tables.items()):
            target = dest.tables.get(name)
            if target is None:
                raise ConflictError(f"table {name!r} has no counterpart in the new tier")
            copied[name] = self.write_items(target, self.items(table, pooled=source.pooled))
            have = self.count(target, pooled=dest.pooled)
            if have < copied[name]:
                raise BackendError(f"{target}: {have} item(s) after copying {copied[name]}")
        return copied

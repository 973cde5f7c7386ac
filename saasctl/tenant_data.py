"""A tenant's data outside Terraform state: its items in DynamoDB and its users in
Cognito. Exported and verified before anything is removed, restored from an
export, and copied between tables on a tier move.

An export is a folder beside the state archives, ``<archive>/<env>/tenants/<id>/
<UTC>/``: one gzip file of JSON lines per table (items in DynamoDB's typed JSON,
so nothing is lost in translation), one for the users, one for the events of the
tenant's log groups (history: kept, never restored), and ``manifest.json``
with counts and SHA-256 checksums, written last: an export without a manifest is
incomplete and never trusted. Items stream through a temporary file, never
through memory, so a tenant larger than memory exports as any other.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import tempfile
import time
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from saasctl import failpoints
from saasctl.aws import Aws
from saasctl.errors import BackendError, ConflictError, NotFoundError
from saasctl.state import StateStore

PARTITION_KEY = "tenantId"
SORT_KEY = "sk"
TENANT_ATTRIBUTE = "custom:tenantId"
MANIFEST = "manifest.json"
USERS_FILE = "users.jsonl.gz"
LOGS_FILE = "logs.jsonl.gz"
FORMAT = 1
# The folder names export() makes (UTC time to the microsecond); a pointer to
# anything else is refused.
_EXPORT_NAME = re.compile(r"[0-9]{8}T[0-9]{12}Z")
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
    log_groups: tuple[str, ...] = ()  # the tenant's own log groups (exported, not restored)

    @property
    def owned(self) -> bool:
        """The tenant has tables or a user pool of its own (deletion-protected)."""
        return bool(self.tables and not self.pooled) or bool(self.user_pool_id and not self.group)

    def as_dict(self) -> dict[str, Any]:
        return {"tables": dict(self.tables), "pooled": self.pooled,
                "user_pool_id": self.user_pool_id, "group": self.group,
                "log_groups": list(self.log_groups)}  # fmt: skip


@dataclass
class Manifest:
    tenant: str
    created: str
    source: dict[str, Any]
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    users: dict[str, Any] = field(default_factory=dict)
    logs: dict[str, Any] | None = None  # exports from before log groups have none

    @property
    def items(self) -> int:
        return sum(int(t["count"]) for t in self.tables.values())

    @property
    def log_events(self) -> int:
        return 0 if self.logs is None else int(self.logs["count"])

    def as_dict(self) -> dict[str, Any]:
        data = {"format": FORMAT, "tenant": self.tenant, "created": self.created,
                "source": self.source, "tables": self.tables, "users": self.users}  # fmt: skip
        return data if self.logs is None else {**data, "logs": self.logs}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        if data.get("format") != FORMAT:
            raise BackendError(f"unknown export format {data.get('format')!r}")
        try:
            logs = None if data.get("logs") is None else dict(data["logs"])
            return cls(data["tenant"], data["created"], data["source"], dict(data["tables"]),
                       dict(data["users"]), logs)  # fmt: skip
        except (KeyError, TypeError, ValueError) as exc:
            raise BackendError(f"malformed export manifest ({exc!r})") from None

    def entries(self) -> list[dict[str, Any]]:
        """Every file of the export: the tables' (by table name), the users', the logs'."""
        logs = [] if self.logs is None else [self.logs]
        return [*(self.tables[n] for n in sorted(self.tables)), self.users, *logs]


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


def _items_file(table: str) -> str:
    return f"items-{table}.jsonl.gz"


def _gz_lines(path: Path) -> Iterator[bytes]:
    with gzip.open(path, "rb") as fh:
        for line in fh:
            if line.strip():
                yield line.rstrip(b"\n")


def _same_count(folder: str, entry: dict[str, Any], seen: int) -> None:
    if seen != entry["count"]:
        raise BackendError(
            f"export {folder}{entry['file']}: {seen} line(s), the manifest says "
            f"{entry['count']}; nothing written"
        )


@dataclass(frozen=True)
class Export:
    """An export whose files were downloaded into ``dir`` and checked whole."""

    folder: str
    manifest: Manifest
    dir: Path

    def items(self, table: str) -> Iterator[Item]:
        entry = self.manifest.tables[table]
        return (loads_item(line.decode()) for line in _gz_lines(self.dir / entry["file"]))

    def users(self) -> Iterator[dict[str, Any]]:
        lines = _gz_lines(self.dir / self.manifest.users["file"])
        return (json.loads(line) for line in lines)

    def log_events(self) -> Iterator[dict[str, Any]]:
        if self.manifest.logs is None:
            return iter(())
        return (json.loads(line) for line in _gz_lines(self.dir / self.manifest.logs["file"]))


# --- the data itself ---------------------------------------------------------


class TenantData:
    """A tenant's items and users (through ``aws``: its cell's account and Region)
    and their exports (in the state bucket, through the store)."""

    def __init__(self, store: StateStore, tenant_id: str, aws: Aws | None = None) -> None:
        self.store = store
        self.aws = aws or store.aws
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

    def log_events(self, groups: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Every event of the tenant's log groups, group by group (a group that does
        not exist, e.g. already expired, has none)."""
        logs = self.aws.client("logs")
        for group in groups:
            args: dict[str, Any] = {"logGroupName": group}
            try:
                while True:
                    page = self._call(logs.filter_log_events, **args)
                    for e in page.get("events", []):
                        yield {
                            "group": group,
                            "stream": e.get("logStreamName"),
                            "timestamp": e.get("timestamp"),
                            "message": e.get("message"),
                        }
                    if not page.get("nextToken"):
                        break
                    args["nextToken"] = page["nextToken"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                    raise

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
                attributes = {a["Name"]: a["Value"] for a in user.get("Attributes", [])}
                # A shared pool's group may hold someone else's user (added by hand, or by
                # an older saasctl): never export, purge or move it as this tenant's.
                if location.group and attributes.get(TENANT_ATTRIBUTE) != self.tenant_id:
                    continue
                yield {
                    "username": user["Username"],
                    "attributes": attributes,
                    "enabled": user.get("Enabled", True),
                    "status": user.get("UserStatus", ""),
                }
            if not page.get(token):
                return
            args[token] = page[token]

    def set_enabled(self, location: Location, usernames: Iterable[str], enabled: bool) -> int:
        """Enable or disable these users of the tenant's (idempotent). Returns how many."""
        call = self._idp.admin_enable_user if enabled else self._idp.admin_disable_user
        done = 0
        for username in usernames:
            failpoints.hit("data.user-enabled" if enabled else "data.user-disabled")
            self._call(call, UserPoolId=location.user_pool_id, Username=username)
            done += 1
        return done

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
        args = self.store.export_args()  # its key first: nothing read or written without it
        with tempfile.TemporaryDirectory(prefix="saasctl-export-") as tmp:
            for name, table in sorted(location.tables.items()):
                lines = (dumps_item(i) for i in self.items(table, pooled=location.pooled))
                entry = self._upload(Path(tmp), folder, _items_file(name), lines, args)
                manifest.tables[name] = {**entry, "table": table}
                say(f"exported {entry['count']} item(s) of {table}")
                failpoints.hit("data.export.table", table=table, count=entry["count"])
            users = (json.dumps(u, sort_keys=True) for u in self.users(location))
            manifest.users = self._upload(Path(tmp), folder, USERS_FILE, users, args)
            say(f"exported {manifest.users['count']} user(s)")
            if location.log_groups:
                events = (json.dumps(e, sort_keys=True)
                          for e in self.log_events(location.log_groups))  # fmt: skip
                entry = self._upload(Path(tmp), folder, LOGS_FILE, events, args)
                manifest.logs = {**entry, "groups": list(location.log_groups)}
                say(f"exported {entry['count']} log event(s) of {', '.join(location.log_groups)}")
            self._fetch(folder, manifest, Path(tmp) / "read-back")  # as a restore will read it
        failpoints.hit("data.export.verified", folder=folder)
        body = json.dumps(manifest.as_dict(), indent=2, sort_keys=True).encode()
        if not self.store._put_if_absent(folder + MANIFEST, body, args):
            raise ConflictError(f"an export already exists at {folder}")
        return folder, manifest

    def _upload(
        self, tmp: Path, folder: str, name: str, lines: Iterable[str], args: dict[str, str]
    ) -> dict[str, Any]:
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
            self._call(self.store.aws.s3.put_object, Bucket=self.store.bucket, Key=folder + name,
                       Body=fh, **args)  # fmt: skip
        return {"file": name, "count": count, "sha256": digest.hexdigest(),
                "bytes": path.stat().st_size}  # fmt: skip

    def _download(self, key: str, path: Path, sha256: str) -> None:
        """A stored file to ``path``, streamed; its checksum must match the manifest."""
        body = self._call(self.store.aws.s3.get_object, Bucket=self.store.bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        with path.open("wb") as fh:
            for chunk in body.iter_chunks(_CHUNK):
                digest.update(chunk)
                fh.write(chunk)
        if digest.hexdigest() != sha256:
            raise BackendError(
                f"s3://{self.store.bucket}/{key}: checksum does not match the manifest; "
                "nothing written"
            )

    def _fetch(self, folder: str, manifest: Manifest, into: Path) -> Export:
        """Download every file of an export into ``into`` and check it whole before
        anyone reads it: checksums, line counts, every item under this tenant's key
        and no user of another tenant."""
        into.mkdir(parents=True, exist_ok=True)
        export = Export(folder, manifest, into)
        for entry in manifest.entries():
            self._download(folder + entry["file"], into / entry["file"], entry["sha256"])
        try:
            for name, entry in manifest.tables.items():
                seen = 0
                for item in export.items(name):
                    if item.get(PARTITION_KEY, {}).get("S") != self.tenant_id:
                        owner = item.get(PARTITION_KEY)
                        raise ConflictError(
                            f"export {folder}{entry['file']}: an item of {owner!r}, not of "
                            f"{self.tenant_id!r}; nothing written"
                        )
                    seen += 1
                _same_count(folder, entry, seen)
            seen = 0
            for user in export.users():
                owner = user["attributes"].get(TENANT_ATTRIBUTE, self.tenant_id)
                if owner != self.tenant_id:
                    raise ConflictError(
                        f"export {folder}{manifest.users['file']}: user {user['username']} "
                        f"belongs to tenant {owner!r}, not {self.tenant_id!r}; nothing written"
                    )
                seen += 1
            _same_count(folder, manifest.users, seen)
            if manifest.logs is not None:
                groups = set(manifest.logs["groups"])
                seen = 0
                for event in export.log_events():
                    if event["group"] not in groups:
                        raise ConflictError(
                            f"export {folder}{LOGS_FILE}: an event of log group "
                            f"{event['group']!r}, not the tenant's; nothing written"
                        )
                    seen += 1
                _same_count(folder, manifest.logs, seen)
        except (OSError, EOFError, zlib.error, ValueError, KeyError, TypeError) as exc:
            raise BackendError(f"export {folder}: unreadable ({exc!r}); nothing written") from None
        return export

    @contextmanager
    def verified(self, pointer: str) -> Iterator[Export]:
        """The export ``pointer`` names, downloaded and checked whole (see ``_fetch``)
        before the caller reads any of it; removed afterwards."""
        folder = self.folder(pointer)
        manifest = self.manifest(folder)
        with tempfile.TemporaryDirectory(prefix="saasctl-import-") as tmp:
            yield self._fetch(folder, manifest, Path(tmp))

    def exports(self) -> list[str]:
        """Complete exports (those with a manifest), oldest first."""
        pages = self.store.list_pages(self.env.archive_prefix(self.tenant_id), folders=True)
        found = sorted(p["Prefix"] for page in pages for p in page.get("CommonPrefixes", []))
        return [f for f in found if self.store.exists(f + MANIFEST)]

    def folder(self, pointer: str) -> str:
        """The export folder that ``pointer`` (a name or a key) names, refused unless it
        lies directly under this tenant's archive prefix: a spec, a restore marker or
        an option that names another tenant's export must never read its data."""
        prefix = self.env.archive_prefix(self.tenant_id)
        key = pointer if "/" in pointer.rstrip("/") else prefix + pointer
        name = key.rstrip("/").removeprefix(prefix) if key.startswith(prefix) else ""
        if not _EXPORT_NAME.fullmatch(name):
            raise ConflictError(
                f"{pointer!r} is not a data export of {self.tenant_id!r}: its exports lie "
                f"under {prefix}; nothing read",
                hint=f"`saasctl tenant archives {self.tenant_id}` lists them",
            )
        return prefix + name + "/"

    def manifest(self, pointer: str) -> Manifest:
        """The manifest of an export of this tenant (see ``folder``): it must name this
        tenant, and its files the export's own."""
        folder = self.folder(pointer)
        data = self.store.read_json(folder + MANIFEST)
        if data is None:
            raise NotFoundError(f"{folder} is not a complete export (no manifest)")
        manifest = Manifest.from_dict(data)
        if manifest.tenant != self.tenant_id:
            raise ConflictError(
                f"{folder}{MANIFEST} names tenant {manifest.tenant!r}, not "
                f"{self.tenant_id!r}; nothing read"
            )
        files = [manifest.users.get("file") == USERS_FILE]
        files += [manifest.logs.get("file") == LOGS_FILE] if manifest.logs is not None else []
        files += [e.get("file") == _items_file(n) for n, e in manifest.tables.items()]
        if not all(files):
            raise BackendError(f"{folder}{MANIFEST} names files that are not the export's own")
        return manifest

    # removal, after an export

    def purge(self, location: Location, folder: str) -> dict[str, int]:
        """Delete the tenant's pooled items and its users in the shared pool (which
        Terraform does not own), only if the export at ``folder`` holds every one of
        them as it is now. Dedicated tables and pools are Terraform's to destroy.
        A re-run after a crash finishes the job (what is left is still covered)."""
        removed: dict[str, int] = {}
        with self.verified(folder) as export:
            if location.pooled:
                for name, table in sorted(location.tables.items()):
                    if name not in export.manifest.tables:
                        raise ConflictError(
                            f"the export {folder} has no table {name!r}; nothing deleted"
                        )
                    self._covered(table, export.items(name))
                    keys = self.items(table, pooled=True, keys_only=True)
                    removed[name] = self.write_items(table, keys, delete=True)
                    left = self.count(table, pooled=True)
                    if left:
                        raise BackendError(f"{table}: {left} item(s) of {self.tenant_id!r} remain")
            if location.group and location.user_pool_id:
                exported = {u["username"] for u in export.users()}
                users = [u["username"] for u in self.users(location)]  # this tenant's only
                missing = sorted(set(users) - exported)
                if missing:
                    raise ConflictError(
                        f"{len(missing)} user(s) of group {location.group} are not in the "
                        f"export (e.g. {missing[0]}); nothing deleted",
                        hint="run the offboard again after the tenant's users stop changing",
                    )
                for username in users:
                    failpoints.hit("data.purge.user", username=username)
                    self._call(self._idp.admin_delete_user, UserPoolId=location.user_pool_id,
                               Username=username)  # fmt: skip
                removed["users"] = len(users)
        return removed

    def _covered(self, table: str, exported: Iterator[Item]) -> None:
        """Every item of the tenant in the pooled ``table`` is in the export, as it is
        now. Both are in the table's key order (a query's), so one pass over each
        suffices, in constant memory."""
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

    # restore and moves

    def restore(self, folder: str, location: Location) -> dict[str, int]:
        """Write an export's items and users into ``location`` (idempotent: items are
        put by key, existing users of this tenant are kept). The whole export is
        checked first, and so is every user it would meet in the pool: nothing is
        written from an export that is not whole and this tenant's."""
        restored: dict[str, int] = {}
        with self.verified(folder) as export:
            missing = sorted(set(export.manifest.tables) - set(location.tables))
            if missing:
                raise ConflictError(
                    f"the export has table {missing[0]!r}, which the tier has not; nothing written"
                )
            if location.user_pool_id:
                self.check_users(location, export.users())
            for name in sorted(export.manifest.tables):
                restored[name] = self.write_items(location.tables[name], export.items(name))
            users = 0
            if location.user_pool_id:
                for user in export.users():
                    self.ensure_user(location, user)
                    users += 1
            restored["users"] = users
        return restored

    def exported_users(self, folder: str) -> Iterator[dict[str, Any]]:
        with self.verified(folder) as export:
            yield from export.users()

    def copy_users(self, folder: str, location: Location, tier: str) -> int:
        """Recreate the users of an export in ``location``, at ``tier`` (every one
        checked against the pool first: none may be another tenant's)."""
        with self.verified(folder) as export:
            self.check_users(location, export.users())
            count = 0
            for user in export.users():
                user["attributes"]["custom:tenantTier"] = tier
                self.ensure_user(location, user)
                count += 1
        return count

    def _user_attributes(self, user_pool_id: str, username: str) -> dict[str, str] | None:
        """A user's attributes, or None when the pool has no such user."""
        try:
            got = self._call(self._idp.admin_get_user, UserPoolId=user_pool_id,
                             Username=username)  # fmt: skip
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "UserNotFoundException":
                return None
            raise
        return {a["Name"]: a["Value"] for a in got.get("UserAttributes", [])}

    def _refuse_foreign(self, user_pool_id: str, username: str, attrs: dict[str, str]) -> None:
        """A user of the pool that is not this tenant's is never taken over."""
        owner = attrs.get(TENANT_ATTRIBUTE)
        if owner == self.tenant_id:
            return
        whose = f"tenant {owner!r}" if owner else "no tenant (no custom:tenantId)"
        raise ConflictError(
            f"user {username} already exists in user pool {user_pool_id} and belongs to "
            f"{whose}, not {self.tenant_id!r}; nothing written",
            hint="choose another address for this tenant's user",
        )

    def check_users(self, location: Location, users: Iterable[dict[str, Any]]) -> None:
        """Every one of ``users`` that the pool has already is this tenant's."""
        assert location.user_pool_id is not None
        for user in users:
            attrs = self._user_attributes(location.user_pool_id, user["username"])
            if attrs is not None:
                self._refuse_foreign(location.user_pool_id, user["username"], attrs)

    def delete_users(self, user_pool_id: str, users: Iterable[dict[str, Any]]) -> int:
        """Delete these users of this tenant from a pool (those already gone, or not
        this tenant's, are left alone). Returns how many were deleted."""
        deleted = 0
        for user in users:
            attrs = self._user_attributes(user_pool_id, user["username"])
            if attrs is None or attrs.get(TENANT_ATTRIBUTE) != self.tenant_id:
                continue
            self._call(self._idp.admin_delete_user, UserPoolId=user_pool_id,
                       Username=user["username"])  # fmt: skip
            deleted += 1
        return deleted

    def ensure_user(self, location: Location, user: dict[str, Any]) -> bool:
        """Create a user (attributes as given, no invitation sent) unless this tenant
        has it already, and put it in the tenant's group. A user of that name who is
        not this tenant's is refused, never added to the group. True when created."""
        assert location.user_pool_id is not None
        attributes = {**user["attributes"], TENANT_ATTRIBUTE: self.tenant_id}
        attrs = [{"Name": k, "Value": v} for k, v in sorted(attributes.items()) if k != "sub"]
        created = True
        try:
            self._call(self._idp.admin_create_user, UserPoolId=location.user_pool_id,
                       Username=user["username"], UserAttributes=attrs,
                       MessageAction="SUPPRESS")  # fmt: skip
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "UsernameExistsException":
                raise
            existing = self._user_attributes(location.user_pool_id, user["username"]) or {}
            self._refuse_foreign(location.user_pool_id, user["username"], existing)
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

"""The state bucket: bootstrap, checks, archives, and saasctl's operation locks."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import random
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from saasctl import failpoints
from saasctl.aws import Aws
from saasctl.errors import BackendError, ConflictError, LockError, NotFoundError
from saasctl.policy import as_list, statements
from saasctl.project import Cell, Environment


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _unreachable(env: Environment, aws: Aws, exc: Exception) -> BackendError:
    where = aws.endpoint or f"S3 in {env.spec.region}"
    hint = (
        "start the emulator (`saasctl emulator`) or set AWS_ENDPOINT_URL"
        if env.spec.emulator
        else "check network access and AWS credentials"
    )
    return BackendError(
        f"cannot reach the state backend at {where}: {type(exc).__name__}", hint=hint
    )


def _host_id() -> str:
    """This machine, across reboots: a pid is only meaningful with the boot it belongs to."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        boot = ""
    return f"{socket.gethostname()}/{boot}" if boot else socket.gethostname()


HOST_ID = _host_id()


def pid_alive(pid: int) -> bool:
    """Running (not a zombie: a dead process its parent has not reaped yet)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True  # no /proc here: the signal test is all there is
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def lock_body(operation: str) -> bytes:
    return json.dumps(
        {
            "who": f"{getpass.getuser()}@{socket.gethostname()}",
            "host": HOST_ID,
            "pid": os.getpid(),
            "operation": operation,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    ).encode()


@dataclass(frozen=True)
class LockHolder:
    who: str
    operation: str
    created: str
    host: str = ""
    pid: int = 0

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LockHolder:
        pid = data.get("pid")
        return cls(
            str(data.get("who")),
            str(data.get("operation")),
            str(data.get("created")),
            str(data.get("host") or ""),
            pid if isinstance(pid, int) else 0,
        )

    def describe(self) -> str:
        return f"{self.who} ({self.operation} since {self.created})"

    def dead_here(self) -> bool:
        """The holder ran on this host (this boot) and its process is gone."""
        return self.host == HOST_ID and self.pid > 0 and not pid_alive(self.pid)


ALLOW_UNVERSIONED = "SAASCTL_ALLOW_UNVERSIONED_STATE"
ALLOW_WEAK = "SAASCTL_ALLOW_WEAK_STATE_BUCKET"
TLS_SID = "DenyInsecureTransport"


def tls_statement(bucket: str) -> dict[str, Any]:
    return {
        "Sid": TLS_SID,
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def merge_policy(current: str | None, statement: dict[str, Any] | None) -> str | None:
    """The bucket policy with saasctl's statement (by Sid) put in, or taken out when
    ``statement`` is None; every other statement kept as it was. None: no policy."""
    doc = json.loads(current) if current else {"Version": "2012-10-17", "Statement": []}
    kept = [st for st in statements(doc)
            if not (isinstance(st, dict) and st.get("Sid") == TLS_SID)]  # fmt: skip
    doc["Statement"] = kept + ([statement] if statement else [])
    if not doc["Statement"]:
        return None
    merged = json.dumps(doc)
    return current if current and json.loads(current) == doc else merged


def tls_only(policy: str | None, bucket: str) -> bool:
    """Whether the policy denies every request to the bucket and its objects made
    without TLS (aws:SecureTransport false)."""
    try:
        doc = json.loads(policy) if policy else {}
    except ValueError:
        return False
    for st in statements(doc):
        if not isinstance(st, dict) or st.get("Effect") != "Deny":
            continue
        actions = set(as_list(st.get("Action")))
        resources = set(as_list(st.get("Resource")))
        condition = (st.get("Condition") or {}).get("Bool") or {}
        if (
            st.get("Principal") in ("*", {"AWS": "*"})
            and ({"s3:*", "*"} & actions)
            and {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"} <= resources
            and str(condition.get("aws:SecureTransport")).lower() == "false"
        ):
            return True
    return False


CELL_METADATA = "saasctl-cell"  # S3 user metadata of a state archive
# Tenant exports (items and users: personal data) are encrypted with a key of
# their own, so reading the bucket (a CI plan role does) does not read them, and
# tagged for the bucket's retention rule.
EXPORT_TAG = ("saasctl-kind", "tenant-export")
RETENTION_RULE = "saasctl-tenant-exports"


class StateStore:
    def __init__(self, env: Environment, aws: Aws) -> None:
        self.env = env
        self.aws = aws
        self.bucket = env.spec.backend.bucket
        self.checked = False  # check() passed in this run: the bucket answers and is safe

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except BotoCoreError as exc:  # connection failures; API errors are ClientError
            raise _unreachable(self.env, self.aws, exc) from None

    def list_pages(self, prefix: str, *, folders: bool = False) -> Iterator[dict[str, Any]]:
        """Every page of a LIST of ``prefix`` (``folders``: one level, by "/")."""
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix}
        if folders:
            args["Delimiter"] = "/"
        while True:
            page = self._call(self.aws.s3.list_objects_v2, **args)
            yield page
            if not page.get("IsTruncated"):
                return
            args["ContinuationToken"] = page["NextContinuationToken"]

    # --- checks and bootstrap -------------------------------------------

    def check(self) -> list[str]:
        """The bucket exists, is the environment account's, answers and is safe for
        state; warnings for what an operator accepted as weak.

        Versioning off is refused (an overwritten or deleted state could not be
        recovered) unless $SAASCTL_ALLOW_UNVERSIONED_STATE=1; no default encryption,
        an incomplete public-access block or no TLS-only policy (outside the
        emulator, which serves plain HTTP) are refused unless
        $SAASCTL_ALLOW_WEAK_STATE_BUCKET=1.
        """
        try:
            self._call(self.aws.s3.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise BackendError(
                    f"state bucket {self.bucket!r} does not exist",
                    hint=f"run `saasctl bootstrap --env {self.env.name}`",
                ) from None
            if _code(exc) in ("403", "AccessDenied"):
                raise self._not_owned() from None
            raise BackendError(f"state bucket {self.bucket!r}: {_code(exc)}") from None
        s3 = self.aws.s3
        status = self._call(s3.get_bucket_versioning, Bucket=self.bucket).get("Status")
        if status != "Enabled" and os.environ.get(ALLOW_UNVERSIONED) != "1":
            raise BackendError(
                f"state bucket {self.bucket!r} has versioning {status or 'never enabled'}: "
                "refusing to write state that could not be recovered",
                hint=f"run `saasctl bootstrap --env {self.env.name}` to enable it, or set "
                f"{ALLOW_UNVERSIONED}=1 to accept the risk",
            )
        warnings = []
        if status != "Enabled":
            warnings.append(f"state bucket {self.bucket} is not versioned ({ALLOW_UNVERSIONED}=1)")
        weak = self._weaknesses()
        if weak and os.environ.get(ALLOW_WEAK) != "1":
            raise BackendError(
                f"state bucket {self.bucket!r} {'; '.join(weak)}",
                hint=f"run `saasctl bootstrap --env {self.env.name}` to repair it, or set "
                f"{ALLOW_WEAK}=1 to accept the risk",
            )
        self.checked = True
        return warnings + [f"state bucket {self.bucket} {w} ({ALLOW_WEAK}=1)" for w in weak]

    def _not_owned(self) -> BackendError:
        return BackendError(
            f"state bucket {self.bucket!r} exists but is not owned by account "
            f"{self.env.spec.account_id} (env.yaml account_id), or this identity may "
            "not read it: AccessDenied"
        )

    def _weaknesses(self) -> list[str]:
        s3 = self.aws.s3
        weak = []
        try:
            self._call(s3.get_bucket_encryption, Bucket=self.bucket)
        except ClientError:
            weak.append("has no default encryption")
        try:
            pab = self._call(s3.get_public_access_block, Bucket=self.bucket)
            blocked = all(pab.get("PublicAccessBlockConfiguration", {}).values())
        except ClientError:
            blocked = False
        if not blocked:
            weak.append("does not block all public access")
        if not self.env.spec.emulator:
            try:
                policy = self._call(s3.get_bucket_policy, Bucket=self.bucket).get("Policy")
            except ClientError:
                policy = None
            if not tls_only(policy, self.bucket):
                weak.append("has no policy denying requests without TLS")
        return weak

    def bootstrap(self, *, lock_table: bool) -> list[str]:
        """Create or repair the bucket (and lock table); returns what was done."""
        s3 = self.aws.s3
        done: list[str] = []
        try:
            self._call(s3.head_bucket, Bucket=self.bucket)
            done.append(f"bucket {self.bucket} exists")
        except ClientError as exc:
            if _code(exc) in ("403", "AccessDenied"):
                raise self._not_owned() from None
            args: dict[str, Any] = {"Bucket": self.bucket}
            if self.env.spec.region != "us-east-1":
                args["CreateBucketConfiguration"] = {"LocationConstraint": self.env.spec.region}
            self._call(s3.create_bucket, **args)
            done.append(f"created bucket {self.bucket}")
        # Each setting is (re)applied: idempotent, and repairs drift.
        s3.put_bucket_versioning(Bucket=self.bucket, VersioningConfiguration={"Status": "Enabled"})
        done.append("versioning enabled")
        s3.put_bucket_encryption(
            Bucket=self.bucket,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
        )
        done.append("default encryption AES256")
        s3.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        done.append("public access blocked")
        try:
            current = s3.get_bucket_policy(Bucket=self.bucket).get("Policy")
        except ClientError:
            current = None
        # The emulator serves plain HTTP and enforces policies: TLS-only would lock us out.
        merged = merge_policy(
            current, None if self.env.spec.emulator else tls_statement(self.bucket)
        )
        if merged is None:
            if current is not None:
                s3.delete_bucket_policy(Bucket=self.bucket)
        elif merged != current:
            s3.put_bucket_policy(Bucket=self.bucket, Policy=merged)
        if self.env.spec.emulator:
            done.append("TLS-only bucket policy skipped (the emulator serves plain HTTP)")
        else:
            done.append("TLS-only bucket policy (the bucket's other statements kept)")
        done.append(self._ensure_exports_key())
        done.append(self._ensure_retention())
        if lock_table:
            done.append(self._ensure_lock_table())
        return done

    # --- tenant exports: their key and retention ---------------------------

    @property
    def exports_alias(self) -> str:
        safe = "".join(c if c.isalnum() or c in "/_-" else "-" for c in self.bucket)
        return f"alias/saasctl-exports/{safe}"

    def _exports_key_arn(self) -> str | None:
        """The exports key's ARN, found by its alias; None when there is none."""
        try:
            meta = self._call(self.aws.client("kms").describe_key, KeyId=self.exports_alias)
        except ClientError as exc:
            if _code(exc) != "NotFoundException":
                raise
            return None
        return str(meta["KeyMetadata"]["Arn"])

    def _ensure_exports_key(self) -> str:
        kms = self.aws.client("kms")
        arn = self._exports_key_arn()
        made = arn is None
        if arn is None:
            key = self._call(
                kms.create_key,
                Description=f"saasctl: tenant exports in s3://{self.bucket}",
                KeyUsage="ENCRYPT_DECRYPT",
                Tags=[{"TagKey": "saasctl-bucket", "TagValue": self.bucket}],
            )["KeyMetadata"]
            arn = key["Arn"]
            self._call(kms.create_alias, AliasName=self.exports_alias, TargetKeyId=key["KeyId"])
        self._call(kms.enable_key_rotation, KeyId=arn)
        return f"{'created' if made else 'found'} exports key {self.exports_alias} (rotation on)"

    def exports_key(self) -> str:
        """ARN of the key tenant exports are encrypted with (`saasctl bootstrap`
        creates it): nothing is exported without it."""
        arn = self._exports_key_arn()
        if arn is None:
            raise BackendError(
                f"no key for tenant exports ({self.exports_alias}); nothing was exported",
                hint=f"run `saasctl bootstrap --env {self.env.name}` (it creates the key)",
            )
        return arn

    def export_args(self) -> dict[str, str]:
        """What every object of a tenant export is written with."""
        return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self.exports_key(),
                "Tagging": "=".join(EXPORT_TAG)}  # fmt: skip

    def _ensure_retention(self) -> str:
        """The bucket's rule expiring tenant exports (by tag) after the environment's
        retention; the bucket's other lifecycle rules are kept."""
        days = self.env.spec.backend.exports_retention_days
        s3 = self.aws.s3
        try:
            rules = self._call(s3.get_bucket_lifecycle_configuration, Bucket=self.bucket)["Rules"]
        except ClientError as exc:
            if _code(exc) != "NoSuchLifecycleConfiguration":
                raise
            rules = []
        ours = {
            "ID": RETENTION_RULE,
            "Filter": {"Tag": {"Key": EXPORT_TAG[0], "Value": EXPORT_TAG[1]}},
            "Status": "Enabled",
            "Expiration": {"Days": days},
            "NoncurrentVersionExpiration": {"NoncurrentDays": 1},
        }
        kept = [r for r in rules if r.get("ID") != RETENTION_RULE]
        self._call(s3.put_bucket_lifecycle_configuration, Bucket=self.bucket,
                   LifecycleConfiguration={"Rules": [*kept, ours]})  # fmt: skip
        return f"tenant exports expire after {days} days (lifecycle rule {RETENTION_RULE})"

    def _ensure_lock_table(self) -> str:
        ddb = self.aws.dynamodb
        table = self.env.spec.backend.lock_table
        try:
            self._call(ddb.describe_table, TableName=table)
            return f"lock table {table} exists"
        except ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
        ddb.create_table(
            TableName=table,
            AttributeDefinitions=[{"AttributeName": "LockID", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "LockID", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            SSESpecification={"Enabled": True},
        )
        return f"created lock table {table}"

    # --- state objects --------------------------------------------------

    def exists(self, key: str) -> bool:
        try:
            self._call(self.aws.s3.head_object, Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise BackendError(f"s3://{self.bucket}/{key}: {_code(exc)}") from None

    def ever_existed(self, key: str) -> bool:
        """True when the versioned bucket holds any version or delete marker of ``key``."""
        resp = self._call(self.aws.s3.list_object_versions, Bucket=self.bucket, Prefix=key)
        return any(
            v["Key"] == key for v in resp.get("Versions", []) + resp.get("DeleteMarkers", [])
        )

    def read_json(self, key: str) -> dict[str, Any] | None:
        try:
            body = self._call(self.aws.s3.get_object, Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey"):
                return None
            raise
        data = json.loads(body)
        return data if isinstance(data, dict) else None

    def _copy(
        self, source: str, dest: str, what: str, metadata: dict[str, str] | None = None
    ) -> None:
        """Server-side copy, encrypted, then checked: the caller relies on it existing."""
        extra: dict[str, Any] = {}
        if metadata is not None:
            extra = {"Metadata": metadata, "MetadataDirective": "REPLACE"}
        self._call(
            self.aws.s3.copy_object,
            Bucket=self.bucket,
            Key=dest,
            CopySource={"Bucket": self.bucket, "Key": source},
            ServerSideEncryption="AES256",
            **extra,
        )
        if not self.exists(dest):
            raise BackendError(f"{what} s3://{self.bucket}/{dest} was not written")

    def _put_if_absent(self, key: str, body: bytes, extra: dict[str, str] | None = None) -> bool:
        """Create ``key`` unless it exists (S3 conditional write); False when it did.
        ``extra``: other arguments of the write (encryption, tags)."""
        try:
            self._call(
                self.aws.s3.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=body,
                IfNoneMatch="*",
                **(extra or {"ServerSideEncryption": "AES256"}),
            )
        except ClientError as exc:
            if _code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            return False
        return True

    def archive(self, key: str, tenant_id: str, cell: str | None = None) -> str:
        """Copy a tenant's state to its archive, noting the cell it lived in (a
        restored tenant goes back there: its state names that cell's resources)."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        dest = f"{self.env.archive_prefix(tenant_id)}{stamp}.tfstate"
        self._copy(key, dest, "archive", {CELL_METADATA: cell} if cell else None)
        return dest

    def archive_cell(self, archive_key: str) -> str | None:
        """The cell an archived tenant lived in (None: the first; archives from before
        cells name none)."""
        head = self._call(self.aws.s3.head_object, Bucket=self.bucket, Key=archive_key)
        return (head.get("Metadata") or {}).get(CELL_METADATA) or None

    def archives(self, tenant_id: str) -> list[dict[str, Any]]:
        """State archives, oldest first (data exports are folders beside them)."""
        prefix = self.env.archive_prefix(tenant_id)
        return [
            {"key": o["Key"], "name": o["Key"].removeprefix(prefix), "size": o["Size"],
             "modified": o["LastModified"].isoformat()}
            for page in self.list_pages(prefix, folders=True)
            for o in page.get("Contents", [])
        ]  # fmt: skip

    def restore(self, tenant_id: str, archive_key: str | None = None) -> tuple[str, str]:
        """Copy an archive (default: the newest) back to the tenant's state key.

        Never overwrites: a tenant with live state is refused. Returns (archive, state key).
        """
        items = [a["key"] for a in self.archives(tenant_id)]
        if not items:
            raise NotFoundError(f"tenant {tenant_id!r} has no state archive")
        source = archive_key or items[-1]
        if "/" not in source:  # a name as `tenant archives` shows it
            source = self.env.archive_prefix(tenant_id) + source
        if source not in items:
            raise NotFoundError(
                f"{source!r} is not an archive of {tenant_id!r}",
                hint=f"`saasctl tenant archives {tenant_id}` lists them",
            )
        key = self.env.tenant_state_key(tenant_id)
        if self.exists(key):
            raise ConflictError(
                f"tenant {tenant_id!r} has live state at s3://{self.bucket}/{key}; "
                "refusing to overwrite it with an archive",
                hint=f"offboard {tenant_id} first (that archives the live state)",
            )
        self._copy(source, key, "restored state")
        return source, key

    def put_json(self, key: str, data: dict[str, Any]) -> None:
        body = json.dumps(data, indent=2, sort_keys=True).encode()
        self._call(self.aws.s3.put_object, Bucket=self.bucket, Key=key, Body=body,
                   ServerSideEncryption="AES256")  # fmt: skip

    def delete_object(self, key: str) -> None:
        self._call(self.aws.s3.delete_object, Bucket=self.bucket, Key=key)

    def delete_state(self, key: str) -> None:
        """Delete the current state object (its versions stay) and its lock-table digest."""
        self._call(self.aws.s3.delete_object, Bucket=self.bucket, Key=key)
        with contextlib.suppress(ClientError):  # no lock table: terraform >= 1.10 locks in S3
            self.aws.dynamodb.delete_item(
                TableName=self.env.spec.backend.lock_table,
                Key={"LockID": {"S": f"{self.bucket}/{key}-md5"}},
            )

    # --- saasctl operation locks ------------------------------------------
    # Terraform's own lock covers one command; these cover a whole operation
    # across machines (an S3 conditional put): a tenant's onboard/set-tier/
    # offboard, and every convergence of the shared workspace.

    def _try_lock(self, workspace: str, operation: str) -> bool:
        return self._put_if_absent(self.env.lock_key(workspace), lock_body(operation))

    def _locked_error(self, workspace: str, holder: LockHolder | None, why: str) -> LockError:
        cell = self.env.cell_by_label(workspace)
        if cell is None:
            what, command = f"tenant {workspace!r}", f"saasctl tenant unlock {workspace}"
        else:
            what = "the shared workspace" + ("" if cell.first else f" of cell {cell.name}")
            command = f"saasctl unlock {workspace}"
        command += f" --env {self.env.name}"
        shown = holder.describe() if holder else "another run"
        if holder is not None and holder.dead_here():
            return LockError(
                f"{what} is locked by {shown}, a run that died (process {holder.pid} "
                "on this host is gone)",
                hint=f"`{command}` removes its lock",
            )
        return LockError(
            f"{what} is locked by {shown}{why}", hint=f"wait for it; if that run died: `{command}`"
        )

    def acquire(self, tenant_id: str, operation: str) -> None:
        """A tenant's lock, or exit 4 at once: one operation per tenant at a time."""
        if not self._try_lock(tenant_id, operation):
            raise self._locked_error(tenant_id, self.holder(tenant_id), "")

    def acquire_waiting(
        self,
        workspace: str,
        operation: str,
        *,
        wait: float,
        on_wait: Callable[[LockHolder, float], None],
    ) -> float:
        """Take the lock, waiting up to ``wait`` seconds while a live run holds it.

        Returns the seconds waited. ``on_wait(holder, waited)`` is called each
        time a live holder is found, so the caller can report. A holder that
        died on this host, or one still there after ``wait``, is a LockError
        naming the unlock command.
        """
        start = time.monotonic()
        delay = 0.1
        while True:
            if self._try_lock(workspace, operation):
                return time.monotonic() - start
            holder = self.holder(workspace)
            if holder is None:  # released between our put and our read: try again now
                continue
            waited = time.monotonic() - start
            if holder.dead_here():
                raise self._locked_error(workspace, holder, "")
            on_wait(holder, waited)
            if waited >= wait:
                raise self._locked_error(workspace, holder, f"; waited {waited:.0f}s")
            # Short polls: the shared convergence takes seconds; jitter spreads the waiters.
            time.sleep(min(delay * (1 + random.random() / 2), wait - waited))  # noqa: S311
            delay = min(delay * 1.5, 1.0)

    def holder(self, workspace: str) -> LockHolder | None:
        data = self.read_json(self.env.lock_key(workspace))
        return None if data is None else LockHolder.from_json(data)

    def release(self, workspace: str) -> None:
        key = self.env.lock_key(workspace)
        for attempt in range(3):
            try:
                self._call(self.aws.s3.delete_object, Bucket=self.bucket, Key=key)
                return
            except (ClientError, BackendError):
                if attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))

    # --- rollout ledgers ----------------------------------------------------
    # One JSON object per environment (<env>/rollouts/current.json), written with
    # conditional puts: created only if absent, replaced only if unchanged since
    # read (ETag), so two rollouts can never both think they own it.

    def ledger_key(self) -> str:
        return f"{self.env.name}/rollouts/current.json"

    def read_ledger(self) -> tuple[dict[str, Any] | None, str | None]:
        """(the ledger, its ETag), or (None, None)."""
        try:
            resp = self._call(self.aws.s3.get_object, Bucket=self.bucket, Key=self.ledger_key())
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey"):
                return None, None
            raise
        data = json.loads(resp["Body"].read())
        return (data if isinstance(data, dict) else None), str(resp["ETag"])

    def write_ledger(self, data: dict[str, Any], etag: str | None) -> str:
        """Create (etag None) or replace the ledger read with ``etag``; the new ETag.
        A LockError when someone else wrote it in between."""
        body = json.dumps(data, indent=1, sort_keys=True).encode()
        condition = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
        try:
            resp = self._call(
                self.aws.s3.put_object, Bucket=self.bucket, Key=self.ledger_key(), Body=body,
                ServerSideEncryption="AES256", **condition,
            )  # fmt: skip
        except ClientError as exc:
            if _code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            raise LockError(
                f"another run changed the rollout ledger of {self.env.name!r} meanwhile",
                hint=f"`saasctl release status --env {self.env.name}`",
            ) from None
        return str(resp["ETag"])

    def archive_ledger(self, data: dict[str, Any]) -> str:
        key = f"{self.env.name}/rollouts/history/{data['id']}.json"
        body = json.dumps(data, indent=1, sort_keys=True).encode()
        self._call(self.aws.s3.put_object, Bucket=self.bucket, Key=key, Body=body,
                   ServerSideEncryption="AES256")  # fmt: skip
        return key

    # --- listener priority claims ------------------------------------------
    # A block is claimed with a conditional put before any spec names it, so two
    # onboards (same checkout or not) can never be given the same block. Blocks
    # are per cell: each cell has a load balancer, and so priorities, of its own.

    def claims(self, cell: Cell) -> set[int]:
        """Claimed block starts in a cell (one LIST; owners are read only where needed)."""
        prefix = cell.priority_claims_prefix
        out: set[int] = set()
        for page in self.list_pages(prefix):
            for obj in page.get("Contents", []):
                start = obj["Key"][len(prefix) :].removesuffix(".claim")
                if start.isdigit():
                    out.add(int(start))
        return out

    def claim_owner(self, cell: Cell, start: int) -> str | None:
        data = self.read_json(f"{cell.priority_claims_prefix}{start}.claim")
        return None if data is None else str(data.get("tenant"))

    def claim(self, cell: Cell, start: int, tenant_id: str) -> bool:
        """True when the block is now (or already was) this tenant's."""
        key = f"{cell.priority_claims_prefix}{start}.claim"
        if self._put_if_absent(key, json.dumps({"tenant": tenant_id}).encode()):
            return True
        return self.claim_owner(cell, start) == tenant_id

    def unclaim(self, cell: Cell, start: int, tenant_id: str) -> None:
        if self.claim_owner(cell, start) == tenant_id:
            key = f"{cell.priority_claims_prefix}{start}.claim"
            self._call(self.aws.s3.delete_object, Bucket=self.bucket, Key=key)

    # --- usage ledgers -------------------------------------------------------
    # One JSON object per cell: what each of its workspaces consumes of each AWS
    # quota (counted from the plan it last applied), and the reservations of
    # onboards placed into the cell that have not applied yet. Replaced only with
    # a conditional put on the ETag read, so two onboards racing for the cell's
    # last slot can never both reserve it.

    def read_usage(self, cell: Cell) -> tuple[dict[str, Any], str | None]:
        """(the ledger, its ETag); an empty ledger and None when there is none."""
        try:
            resp = self._call(self.aws.s3.get_object, Bucket=self.bucket, Key=cell.usage_key)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchKey"):
                return {"workspaces": {}}, None
            raise
        data = json.loads(resp["Body"].read())
        if not isinstance(data, dict) or not isinstance(data.get("workspaces"), dict):
            raise BackendError(f"s3://{self.bucket}/{cell.usage_key} is not a usage ledger")
        return data, str(resp["ETag"])

    def update_usage(
        self, cell: Cell, change: Callable[[dict[str, Any]], bool], attempts: int = 20
    ) -> dict[str, Any]:
        """Read the cell's ledger, let ``change`` edit it in place (False: leave it
        as it is) and write it back if nobody wrote it meanwhile; else read again.
        Returns the ledger as written (or as read, unchanged)."""
        for attempt in range(attempts):
            data, etag = self.read_usage(cell)
            if not change(data):
                return data
            failpoints.hit("usage-read", cell=cell.name, attempt=attempt)  # read, about to write
            body = json.dumps(data, indent=1, sort_keys=True).encode()
            condition = {"IfNoneMatch": "*"} if etag is None else {"IfMatch": etag}
            try:
                self._call(self.aws.s3.put_object, Bucket=self.bucket, Key=cell.usage_key,
                           Body=body, ServerSideEncryption="AES256", **condition)  # fmt: skip
                return data
            except ClientError as exc:
                if _code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                    raise
            time.sleep(min(1.0, 0.02 * 2**attempt) * (0.5 + random.random()))  # noqa: S311
        raise LockError(f"the usage ledger of {cell.describe()} kept changing; try again")

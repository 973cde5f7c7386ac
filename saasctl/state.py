"""The state bucket: bootstrap, checks, archives, and saasctl's operation locks."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from saasctl.aws import Aws
from saasctl.errors import BackendError, ConflictError, LockError, NotFoundError
from saasctl.project import Environment


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


@dataclass(frozen=True)
class LockHolder:
    who: str
    operation: str
    created: str

    def describe(self) -> str:
        return f"{self.who} ({self.operation} since {self.created})"


ALLOW_UNVERSIONED = "SAASCTL_ALLOW_UNVERSIONED_STATE"


class StateStore:
    def __init__(self, env: Environment, aws: Aws) -> None:
        self.env = env
        self.aws = aws
        self.bucket = env.spec.backend.bucket

    def _call(self, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except BotoCoreError as exc:  # connection failures; API errors are ClientError
            raise _unreachable(self.env, self.aws, exc) from None

    # --- checks and bootstrap -------------------------------------------

    def check(self) -> list[str]:
        """The bucket exists, answers and is safe for state; warnings for what is weak.

        Versioning off is refused (an overwritten or deleted state could not be
        recovered) unless $SAASCTL_ALLOW_UNVERSIONED_STATE=1; missing default
        encryption or public-access block only warn.
        """
        try:
            self._call(self.aws.s3.head_bucket, Bucket=self.bucket)
        except ClientError as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise BackendError(
                    f"state bucket {self.bucket!r} does not exist",
                    hint=f"run `saasctl bootstrap --env {self.env.name}`",
                ) from None
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
        try:
            self._call(s3.get_bucket_encryption, Bucket=self.bucket)
        except ClientError:
            warnings.append(f"state bucket {self.bucket} has no default encryption")
        try:
            pab = self._call(s3.get_public_access_block, Bucket=self.bucket)
            blocked = all(pab.get("PublicAccessBlockConfiguration", {}).values())
        except ClientError:
            blocked = False
        if not blocked:
            warnings.append(f"state bucket {self.bucket} does not block all public access")
        return warnings

    def bootstrap(self, *, lock_table: bool) -> list[str]:
        """Create or repair the bucket (and lock table); returns what was done."""
        s3 = self.aws.s3
        done: list[str] = []
        try:
            self._call(s3.head_bucket, Bucket=self.bucket)
            done.append(f"bucket {self.bucket} exists")
        except ClientError:
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
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [f"arn:aws:s3:::{self.bucket}", f"arn:aws:s3:::{self.bucket}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
        if self.env.spec.emulator:
            # The emulator serves plain HTTP and enforces policies: TLS-only would lock us out.
            s3.delete_bucket_policy(Bucket=self.bucket)
            done.append("TLS-only bucket policy skipped (the emulator serves plain HTTP)")
        else:
            s3.put_bucket_policy(Bucket=self.bucket, Policy=json.dumps(policy))
            done.append("TLS-only bucket policy")
        if lock_table:
            done.append(self._ensure_lock_table())
        return done

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

    def _copy(self, source: str, dest: str, what: str) -> None:
        """Server-side copy, encrypted, then checked: the caller relies on it existing."""
        self._call(
            self.aws.s3.copy_object,
            Bucket=self.bucket,
            Key=dest,
            CopySource={"Bucket": self.bucket, "Key": source},
            ServerSideEncryption="AES256",
        )
        if not self.exists(dest):
            raise BackendError(f"{what} s3://{self.bucket}/{dest} was not written")

    def _put_if_absent(self, key: str, body: bytes) -> bool:
        """Create ``key`` unless it exists (S3 conditional write); False when it did."""
        try:
            self._call(
                self.aws.s3.put_object,
                Bucket=self.bucket,
                Key=key,
                Body=body,
                IfNoneMatch="*",
                ServerSideEncryption="AES256",
            )
        except ClientError as exc:
            if _code(exc) not in ("PreconditionFailed", "ConditionalRequestConflict"):
                raise
            return False
        return True

    def archive(self, key: str, tenant_id: str) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
        dest = f"{self.env.archive_prefix(tenant_id)}{stamp}.tfstate"
        self._copy(key, dest, "archive")
        return dest

    def archives(self, tenant_id: str) -> list[dict[str, Any]]:
        resp = self._call(
            self.aws.s3.list_objects_v2,
            Bucket=self.bucket,
            Prefix=self.env.archive_prefix(tenant_id),
        )
        return [
            {"key": o["Key"], "size": o["Size"], "modified": o["LastModified"].isoformat()}
            for o in resp.get("Contents", [])
        ]

    def restore(self, tenant_id: str, archive_key: str | None = None) -> tuple[str, str]:
        """Copy an archive (default: the newest) back to the tenant's state key.

        Never overwrites: a tenant with live state is refused. Returns (archive, state key).
        """
        items = [a["key"] for a in self.archives(tenant_id)]
        if not items:
            raise NotFoundError(f"tenant {tenant_id!r} has no state archive")
        source = archive_key or items[-1]
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

    def delete_state(self, key: str) -> None:
        """Delete the current state object (its versions stay) and its lock-table digest."""
        self._call(self.aws.s3.delete_object, Bucket=self.bucket, Key=key)
        with contextlib.suppress(ClientError):  # no lock table: terraform >= 1.10 locks in S3
            self.aws.dynamodb.delete_item(
                TableName=self.env.spec.backend.lock_table,
                Key={"LockID": {"S": f"{self.bucket}/{key}-md5"}},
            )

    # --- saasctl operation locks ------------------------------------------
    # Terraform's own lock covers one command; this one covers a whole
    # onboard/set-tier/offboard across machines (an S3 conditional put).

    def acquire(self, tenant_id: str, operation: str) -> None:
        key = self.env.lock_key(tenant_id)
        body = json.dumps(
            {
                "who": f"{getpass.getuser()}@{socket.gethostname()}",
                "pid": os.getpid(),
                "operation": operation,
                "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            }
        )
        if not self._put_if_absent(key, body.encode()):
            holder = self.holder(tenant_id)
            shown = holder.describe() if holder else "another run"
            raise LockError(
                f"tenant {tenant_id!r} is locked by {shown}",
                hint="wait for it; if that run died: "
                f"`saasctl tenant unlock {tenant_id} --env {self.env.name}`",
            )

    # --- listener priority claims ------------------------------------------
    # A block is claimed with a conditional put before any spec names it, so two
    # onboards (same checkout or not) can never be given the same block.

    def claims(self) -> set[int]:
        """Claimed block starts (one LIST; owners are read only where needed)."""
        prefix = self.env.priority_claims_prefix()
        out: set[int] = set()
        for page in self.aws.s3.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix
        ):
            for obj in page.get("Contents", []):
                start = obj["Key"][len(prefix) :].removesuffix(".claim")
                if start.isdigit():
                    out.add(int(start))
        return out

    def claim_owner(self, start: int) -> str | None:
        data = self.read_json(f"{self.env.priority_claims_prefix()}{start}.claim")
        return None if data is None else str(data.get("tenant"))

    def claim(self, start: int, tenant_id: str) -> bool:
        """True when the block is now (or already was) this tenant's."""
        key = f"{self.env.priority_claims_prefix()}{start}.claim"
        if self._put_if_absent(key, json.dumps({"tenant": tenant_id}).encode()):
            return True
        return self.claim_owner(start) == tenant_id

    def unclaim(self, start: int, tenant_id: str) -> None:
        if self.claim_owner(start) == tenant_id:
            key = f"{self.env.priority_claims_prefix()}{start}.claim"
            self._call(self.aws.s3.delete_object, Bucket=self.bucket, Key=key)

    def holder(self, tenant_id: str) -> LockHolder | None:
        data = self.read_json(self.env.lock_key(tenant_id))
        if data is None:
            return None
        return LockHolder(
            str(data.get("who")), str(data.get("operation")), str(data.get("created"))
        )

    def release(self, tenant_id: str) -> None:
        for attempt in range(3):
            try:
                self._call(
                    self.aws.s3.delete_object, Bucket=self.bucket, Key=self.env.lock_key(tenant_id)
                )
                return
            except (ClientError, BackendError):
                if attempt == 2:
                    raise
                time.sleep(0.5 * (attempt + 1))

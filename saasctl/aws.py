"""The one AWS client factory: region, retries, and the endpoint override.

The endpoint comes from the environment file and can be overridden by the
standard ``AWS_ENDPOINT_URL`` (moto, LocalStack or a test's emulator on any port).
"""

from __future__ import annotations

import os
import threading
from functools import cached_property
from typing import TYPE_CHECKING, Any

from saasctl.specs import EnvSpec

if TYPE_CHECKING:
    import botocore.session
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_s3 import S3Client

# Emulators accept any credentials; never hand them an operator's real ones.
EMULATOR_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def endpoint_for(spec: EnvSpec) -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL") or spec.endpoint


class Aws:
    def __init__(
        self, spec: EnvSpec, *, region: str | None = None, role_arn: str | None = None,
        base: Aws | None = None,
    ) -> None:  # fmt: skip
        self.spec = spec
        self.region = region or spec.region
        self.role_arn = role_arn
        self._base = base
        self.endpoint = endpoint_for(spec)
        from botocore.config import Config  # botocore on first use: help and completion skip it

        self._config = Config(
            region_name=self.region,
            retries={"max_attempts": 5, "mode": "standard"},  # 5 retries after the first try
            connect_timeout=5,
            read_timeout=30,
            s3={"addressing_style": "path"} if self.endpoint else {},
        )
        self._clients: dict[str, Any] = {}
        self._lock = threading.RLock()
        self._cells: dict[tuple[str, str | None], Aws] = {}

    @cached_property
    def session(self) -> botocore.session.Session:
        # botocore directly (boto3's core): boto3 adds only s3transfer, ~70 ms of imports.
        import botocore.session

        session = botocore.session.get_session()
        if self.role_arn is not None and self._base is not None:
            creds = self._base.client("sts").assume_role(
                RoleArn=self.role_arn, RoleSessionName="saasctl", DurationSeconds=3600
            )["Credentials"]
            session.set_credentials(
                creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"]
            )
        elif self.spec.emulator:
            session.set_credentials(
                EMULATOR_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                EMULATOR_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            )
        return session

    def in_cell(self, region: str, role_arn: str | None) -> Aws:
        """The factory for a cell's Region and account: through the cell's role (STS
        AssumeRole, once per command) when it has one, else these credentials."""
        if (region, role_arn) == (self.region, self.role_arn):
            return self
        with self._lock:
            key = (region, role_arn)
            if key not in self._cells:
                self._cells[key] = Aws(self.spec, region=region, role_arn=role_arn, base=self)
            return self._cells[key]

    def client(self, service: str) -> Any:
        """One client per service (clients are thread-safe; making one is not)."""
        with self._lock:
            if service not in self._clients:
                make: Any = self.session.create_client  # typed per service name by the stubs
                client = make(
                    service,
                    region_name=self.region,
                    endpoint_url=self.endpoint,
                    config=self._config,
                )
                if service == "s3":
                    client.meta.events.register("before-parameter-build.s3", self._bucket_owner)
                self._clients[service] = client
            return self._clients[service]

    def _bucket_owner(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        """Every call on the state bucket names its owner, the environment's account
        (ExpectedBucketOwner): a bucket of that name in another account is refused
        (403), never read or written."""
        if params.get("Bucket") == self.spec.backend.bucket and (
            "ExpectedBucketOwner" in model.input_shape.members
        ):
            params.setdefault("ExpectedBucketOwner", self.spec.account_id)

    @cached_property
    def s3(self) -> S3Client:
        client: S3Client = self.client("s3")
        return client

    @cached_property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self.client("dynamodb")
        return client

    def terraform_env(self) -> dict[str, str]:
        """What terraform's own AWS SDK needs, per call."""
        env = {"AWS_REGION": self.spec.region, "AWS_DEFAULT_REGION": self.spec.region}
        if self.spec.emulator:
            env.update(EMULATOR_CREDENTIALS)
            env["AWS_EC2_METADATA_DISABLED"] = "true"
        return env

    def secrets(self) -> list[str]:
        """Values to redact from anything logged."""
        creds = None if self.spec.emulator else self.session.get_credentials()
        values = [
            os.environ.get("AWS_SECRET_ACCESS_KEY", ""),
            os.environ.get("AWS_SESSION_TOKEN", ""),
        ]
        if creds is not None:
            values += [creds.secret_key or "", creds.token or ""]
        return [v for v in values if v]

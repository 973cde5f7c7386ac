"""The provider's own clients for the emulator (it is a separate program that saasctl
only launches, as the real provider has its own SDK). botocore is imported on the
first backed resource, never at start: a start must stay fast."""

from __future__ import annotations

import os
import socket
import threading
import urllib.parse
from typing import Any


class Emulator:
    """Endpoints per service (the provider block's `endpoints`, else AWS_ENDPOINT_URL),
    and the role the provider assumes (`assume_role`): the emulator keeps each
    account apart, and a role of another account gives that account's credentials."""

    def __init__(self, endpoints: dict[str, str], region: str, role_arn: str | None = None) -> None:
        fallback = os.environ.get("AWS_ENDPOINT_URL")
        self.endpoints = {k: v for k, v in endpoints.items() if v}
        self.fallback = fallback or None
        self.region = region
        self.role_arn = role_arn
        self._credentials: tuple[str, str, str | None] | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def configured(self) -> bool:
        return bool(self.endpoints or self.fallback)

    @staticmethod
    def answers(url: str) -> bool:
        """Whether anything listens at the emulator's address (a TCP connect, 2 s)."""
        parts = urllib.parse.urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname or "127.0.0.1", port), timeout=2):
                return True
        except OSError:
            return False

    def endpoint(self, service: str) -> str | None:
        return self.endpoints.get(service) or self.fallback

    def client(self, service: str, name: str) -> Any:
        with self._lock:  # one client per service, made on the first thread that asks
            return self._client(service, name)

    def _client(self, service: str, name: str) -> Any:
        if name not in self._clients:
            import botocore.session
            from botocore.config import Config

            session = botocore.session.get_session()
            session.set_credentials(*self._creds(session))
            config = Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5,
                            read_timeout=30, s3={"addressing_style": "path"})  # fmt: skip
            self._clients[name] = session.create_client(
                name, region_name=self.region, endpoint_url=self.endpoint(service), config=config
            )
        return self._clients[name]

    def _creds(self, session: Any) -> tuple[str, str, str | None]:
        """The caller's credentials, or the assumed role's (asked once)."""
        base = (
            os.environ.get("AWS_ACCESS_KEY_ID") or "testing",
            os.environ.get("AWS_SECRET_ACCESS_KEY") or "testing",
            os.environ.get("AWS_SESSION_TOKEN") or None,
        )
        if self.role_arn is None:
            return base
        if self._credentials is None:
            sts = session.create_client(
                "sts", region_name=self.region, endpoint_url=self.endpoint("sts"),
                aws_access_key_id=base[0], aws_secret_access_key=base[1],
                aws_session_token=base[2],
            )  # fmt: skip
            got = sts.assume_role(RoleArn=self.role_arn, RoleSessionName="terraform")
            c = got["Credentials"]
            self._credentials = (c["AccessKeyId"], c["SecretAccessKey"], c["SessionToken"])
        return self._credentials


def error_code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))

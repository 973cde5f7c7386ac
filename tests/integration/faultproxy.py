"""A fault-injecting HTTP proxy on loopback, in front of the moto server.

Tests point AWS_ENDPOINT_URL (saasctl's botocore clients and terraform's S3
backend alike) at it and turn faults on and off while saasctl runs:
``fail_next`` answers the next N requests with an error status (503 SlowDown by
default: throttling), ``reset_next`` drops the next N connections without an
answer, ``down`` drops every connection (backend unreachable). ``faults``
records whose request each fault hit (its User-Agent: botocore or terraform),
so a test knows whose retries it exercised.
"""

from __future__ import annotations

import http.client
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "proxy-connection"}
SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


def client_of(user_agent: str) -> str:
    """Whose request it was: saasctl (botocore) or terraform's S3 backend (Go SDK)."""
    if "Terraform" in user_agent or "aws-sdk-go" in user_agent:
        return "terraform"
    if "Botocore" in user_agent:
        return "botocore"
    return user_agent or "unknown"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients hang up on injected faults; that is the point


class FaultProxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.lock = threading.Lock()
        self.errors_left = 0
        self.error_status = 503
        self.resets_left = 0
        self.down = False
        self.requests = 0
        self.injected = 0
        self.faults: list[tuple[str, str]] = []  # (client, fault) of every fault injected
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    data = b""
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            self.rfile.readline()
                            return data
                        data += self.rfile.read(size)
                        self.rfile.readline()
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _handle(self) -> None:
                body = self._body()
                fault = proxy._next_fault(self.headers.get("User-Agent", ""))
                if fault == "reset":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "error":
                    self.send_response(proxy.error_status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(SLOW_DOWN)))
                    self.end_headers()
                    self.wfile.write(SLOW_DOWN)
                    return
                conn = http.client.HTTPConnection(*proxy.upstream, timeout=60)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Content-Length"] = str(len(body))
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)
                conn.close()

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def _next_fault(self, user_agent: str) -> str | None:
        with self.lock:
            self.requests += 1
            fault = None
            if self.down or self.resets_left:
                self.resets_left = max(0, self.resets_left - 1)
                fault = "reset"
            elif self.errors_left:
                self.errors_left -= 1
                fault = "error"
            if fault:
                self.injected += 1
                self.faults.append((client_of(user_agent), fault))
            return fault

    def fail_next(self, n: int, status: int = 503) -> None:
        with self.lock:
            self.errors_left, self.error_status = n, status

    def reset_next(self, n: int) -> None:
        with self.lock:
            self.resets_left = n

    def __enter__(self) -> FaultProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

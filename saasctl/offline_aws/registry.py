"""A local module registry: `terraform init` resolves registry module sources
(``namespace/name/provider``, ``//submodule``, version constraints) from
checkouts on this machine, through terraform's service-discovery override
(``host "registry.terraform.io" { services = { "modules.v1" = ... } }`` in the
CLI configuration), so no source is edited.

A checkout is a directory named as the registry names repositories,
``terraform-<provider>-<name>`` (or ``<namespace>+terraform-<provider>-<name>``,
as ``fetch`` names them); each holds one version: its git tag, else the newest
release in its CHANGELOG.md, else 0.0.0. Terraform downloads it from a
``file://`` address (a symlink into the checkout).

Run as ``python -m saasctl.offline_aws.registry PORT DIR...`` (``saasctl
offline env --modules DIR`` starts it); a DIR is a checkout or a directory of
checkouts."""

from __future__ import annotations

import http.server
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit

PREFIX = "/v1/modules/"
_REPO = re.compile(r"^(?:(?P<ns>[^+]+)\+)?terraform-(?P<provider>[a-z0-9]+)-(?P<name>[a-z0-9-]+)$")
_CHANGELOG = re.compile(r"^#+\s*\[?v?(\d+\.\d+\.\d+)\]?", re.M)


@dataclass(frozen=True)
class Checkout:
    namespace: str | None  # None: any namespace
    name: str
    provider: str
    path: Path
    version: str


def version_of(path: Path) -> str:
    """The checkout's version: its git tag, its CHANGELOG's newest release, or 0.0.0."""
    if (path / ".git").exists():
        done = subprocess.run(["git", "-C", str(path), "describe", "--tags", "--abbrev=0"],
                              capture_output=True, text=True, check=False)  # fmt: skip
        tag = done.stdout.strip().lstrip("v")
        if done.returncode == 0 and re.fullmatch(r"\d+\.\d+\.\d+", tag):
            return tag
    changelog = path / "CHANGELOG.md"
    if changelog.is_file():
        found = _CHANGELOG.search(changelog.read_text(errors="replace"))
        if found:
            return found.group(1)
    return "0.0.0"


def discover(dirs: list[Path]) -> list[Checkout]:
    """The checkouts among ``dirs`` and their children."""
    out = []
    for root in dirs:
        for path in (
            [root, *sorted(p for p in root.iterdir() if p.is_dir())] if root.is_dir() else []
        ):
            m = _REPO.match(path.name)
            if m and any(path.glob("*.tf")):
                out.append(Checkout(m.group("ns"), m.group("name"), m.group("provider"),
                                    path.resolve(), version_of(path)))  # fmt: skip
    return out


def find(checkouts: list[Checkout], namespace: str, name: str, provider: str) -> Checkout | None:
    exact = [c for c in checkouts if (c.name, c.provider) == (name, provider)]
    return next((c for c in exact if c.namespace == namespace), None) or next(
        (c for c in exact if c.namespace is None), None
    )


def file_url(path: Path) -> str:
    """A file:// address terraform's getter reads: it does not decode %-escapes, so
    the ``+`` of a fetched checkout's name (``owner+repo``) must stay as it is."""
    return "file://" + quote(str(path.resolve()), safe="/+@=,:!$&'()*;~")


def handler(checkouts: list[Checkout]) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path).path.removeprefix(PREFIX).strip("/").split("/")
            found = find(checkouts, *parts[:3]) if len(parts) >= 4 else None
            if found is None:  # terraform then says the registry has no such module
                self._reply(404, {"errors": [f"no checkout of {'/'.join(parts[:3])}"]})
            elif parts[3] == "versions":
                self._reply(200, {"modules": [{"versions": [{"version": found.version}]}]})
            elif parts[3:] == [found.version, "download"]:
                self.send_response(204)
                self.send_header("X-Terraform-Get", file_url(found.path))
                self.end_headers()
            else:
                self._reply(404, {"errors": [f"no version {parts[3]} of {'/'.join(parts[:3])}"]})

        def _reply(self, code: int, body: object) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def cli_host_block(port: int) -> str:
    """The CLI configuration that sends registry module lookups here."""
    return (
        'host "registry.terraform.io" {\n'
        f'  services = {{\n    "modules.v1" = "http://127.0.0.1:{port}{PREFIX}"\n  }}\n}}\n'
    )


STATE = "offline-registry.json"  # in saasctl's cache: the server a shell uses


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def ensure_running(cache: Path, dirs: list[Path]) -> int:
    """The port of a registry serving ``dirs``: the one already running for them,
    else a new one, detached (it outlives the shell command; `stop` ends it)."""
    from saasctl.emulator import free_port

    wanted = sorted(str(d.resolve()) for d in dirs)
    missing = [d for d in dirs if not d.is_dir()]
    if missing:
        raise FileNotFoundError(f"--modules {missing[0]}: no such directory")
    state_file = cache / STATE
    try:
        state = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        state = {}
    if state.get("dirs") == wanted and _alive(int(state.get("pid") or 0)):
        return int(state["port"])
    stop(cache)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "saasctl.offline_aws.registry", str(port), *wanted],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not _answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the offline module registry did not start on port {port}")
        time.sleep(0.05)
    cache.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"pid": proc.pid, "port": port, "dirs": wanted}))
    return port


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop(cache: Path) -> bool:
    """Stop the registry a shell started (True if one was running)."""
    state_file = cache / STATE
    try:
        pid = int(json.loads(state_file.read_text()).get("pid") or 0)
    except (FileNotFoundError, ValueError):
        return False
    state_file.unlink(missing_ok=True)
    if pid and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        return True
    return False


def main(argv: list[str]) -> None:
    port, dirs = int(argv[0]), [Path(d) for d in argv[1:]]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler(discover(dirs)))
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])

"""A local module registry: `terraform init` resolves registry module sources
(``namespace/name/provider``, ``//submodule``, version constraints) from
checkouts on this machine, through terraform's service-discovery override
(``host "registry.terraform.io" { services = { "modules.v1" = ... } }`` in the
CLI configuration), so no source is edited.

A checkout is a directory named as the registry names repositories,
``terraform-<provider>-<name>`` (or ``<namespace>+terraform-<provider>-<name>``,
as ``fetch`` names them). Its versions: the checked-out one (its git tag, else
the newest release in its CHANGELOG.md, else 0.0.0) and, in a git checkout,
every other release tag, since examples pin older majors of their siblings
(``acm ~> 5.0`` beside acm 6). Terraform downloads a version from a ``file://``
address (it links it in): the checkout itself, or the tag exported once with
``git archive`` under saasctl's cache.

Run as ``python -m saasctl.offline_aws.registry PORT CACHE DIR...`` (``saasctl
offline env --modules DIR`` starts it); a DIR is a checkout or a directory of
checkouts."""

from __future__ import annotations

import hashlib
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
from typing import Any
from urllib.parse import quote, urlsplit

PREFIX = "/v1/modules/"
_REPO = re.compile(r"^(?:(?P<ns>[^+]+)\+)?terraform-(?P<provider>[a-z0-9]+)-(?P<name>[a-z0-9-]+)$")
_CHANGELOG = re.compile(r"^#+\s*\[?v?(\d+\.\d+\.\d+)\]?", re.M)
_RELEASE = re.compile(r"^v?(\d+\.\d+\.\d+)$")


@dataclass(frozen=True)
class Checkout:
    namespace: str | None  # None: any namespace
    name: str
    provider: str
    path: Path
    version: str  # the one checked out
    tags: tuple[tuple[str, str], ...] = ()  # (version, tag) of the other releases

    @property
    def versions(self) -> list[str]:
        return [self.version, *(v for v, _ in self.tags)]

    def source(self, version: str, cache: Path) -> Path | None:
        """A directory holding ``version``: the checkout, or its tag exported once."""
        if version == self.version:
            return self.path
        tag = dict(self.tags).get(version)
        if tag is None:
            return None
        where = hashlib.sha1(str(self.path).encode()).hexdigest()[:8]  # noqa: S324
        dest = cache / "offline-registry" / f"{self.path.name}-{where}" / version
        if not dest.is_dir():
            part = dest.with_name(f".{version}.{os.getpid()}")
            part.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(["git", "-C", str(self.path), "archive", "--format=tar", tag],
                                     capture_output=True, check=True).stdout  # fmt: skip
            subprocess.run(["tar", "-x", "-C", str(part)], input=archive, check=True)
            os.replace(part, dest)
        return dest


def release_tags(path: Path, current: str) -> tuple[tuple[str, str], ...]:
    if not (path / ".git").exists():
        return ()
    done = subprocess.run(["git", "-C", str(path), "tag", "--list"],
                          capture_output=True, text=True, check=False)  # fmt: skip
    found = {}
    for tag in done.stdout.split():
        m = _RELEASE.match(tag)
        if m and m.group(1) != current:
            found[m.group(1)] = tag
    return tuple(sorted(found.items(), key=lambda vt: [int(n) for n in vt[0].split(".")]))


def version_of(path: Path) -> str:
    """The checkout's version: its git tag, its CHANGELOG's newest release, or 0.0.0."""
    if (path / ".git").exists():
        done = subprocess.run(["git", "-C", str(path), "describe", "--tags", "--abbrev=0",
                               "--match", "v[0-9]*", "--match", "[0-9]*"],
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
            # a module at the root, or only submodules (terraform-aws-iam 6)
            if m and (any(path.glob("*.tf")) or any(path.glob("modules/*/*.tf"))):
                current = version_of(path)
                tags = release_tags(path, current)
                out.append(Checkout(m.group("ns"), m.group("name"), m.group("provider"),
                                    path.resolve(), current, tags))  # fmt: skip
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


def missing(address: list[str], dirs: list[Path]) -> str:
    """What terraform prints for a module nobody fetched: the repository to fetch."""
    namespace, name, provider = [*address, "", "", ""][:3]
    where = dirs[0] if dirs else "the directory given to --modules"
    return (f"no local checkout of {namespace}/{name}/{provider}: fetch "
            f"{namespace}/terraform-{provider}-{name} into {where}")  # fmt: skip


def handler(
    checkouts: list[Checkout], cache: Path, dirs: list[Path] | None = None
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path).path.removeprefix(PREFIX).strip("/").split("/")
            found = find(checkouts, *parts[:3]) if len(parts) >= 4 else None
            if found is None:
                # Not 404: terraform prints its own "cannot be found" for that; for
                # another 4xx it prints the status line, so the reason names the fix.
                self.send_response(410, missing(parts, dirs or []))
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif parts[3] == "versions":
                versions = [{"version": v} for v in found.versions]
                self._reply(200, {"modules": [{"versions": versions}]})
            elif parts[4:] == ["download"] and (where := found.source(parts[3], cache)):
                self.send_response(204)
                self.send_header("X-Terraform-Get", file_url(where))
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


STATES = "offline-registries"  # in saasctl's cache: one file per set of module directories


def _wanted(dirs: list[Path]) -> list[str]:
    return sorted(str(d.resolve()) for d in dirs)


def key_of(dirs: list[Path]) -> str:
    """Which registry serves ``dirs``: one per set, so shells that name other
    checkouts (a test's, a benchmark's) never stop each other's."""
    return hashlib.sha1("\0".join(_wanted(dirs)).encode()).hexdigest()[:12]  # noqa: S324


def config_name(key: str) -> str:
    """The CLI configuration of a shell using registry ``key`` (its name says which)."""
    return f"terraform-offline-modules-{key}.rc"


def key_in(config: str) -> str | None:
    """The registry a shell's CLI configuration (TF_CLI_CONFIG_FILE) points at, if any."""
    found = re.search(r"terraform-offline-modules-(\w+)\.rc$", config)
    return found.group(1) if found else None


def _state_file(cache: Path, key: str) -> Path:
    return cache / STATES / f"{key}.json"


def _state(cache: Path, key: str) -> dict[str, Any]:
    try:
        state: dict[str, Any] = json.loads(_state_file(cache, key).read_text())
        return state
    except (FileNotFoundError, ValueError):
        return {}


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

    wanted = _wanted(dirs)
    absent = [d for d in dirs if not d.is_dir()]
    if absent:
        raise FileNotFoundError(f"--modules {absent[0]}: no such directory")
    key = key_of(dirs)
    state_file = _state_file(cache, key)
    state = _state(cache, key)
    if state.get("dirs") == wanted and _alive(int(state.get("pid") or 0)):
        return int(state["port"])
    stop(cache, key)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "saasctl.offline_aws.registry", str(port), str(cache.resolve()),
         *wanted],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not _answers(port):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the offline module registry did not start on port {port}")
        time.sleep(0.05)
    state_file.parent.mkdir(parents=True, exist_ok=True)
    state_file.write_text(json.dumps({"pid": proc.pid, "port": port, "dirs": wanted}))
    return port


def running(cache: Path, key: str) -> bool:
    return _alive(int(_state(cache, key).get("pid") or 0))


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def stop(cache: Path, key: str) -> bool:
    """Stop the registry for one set of module directories (True if one was running)."""
    state = _state(cache, key)
    if not state:
        return False
    pid = int(state.get("pid") or 0)
    _state_file(cache, key).unlink(missing_ok=True)
    if pid and _alive(pid):
        os.kill(pid, signal.SIGTERM)
        return True
    return False


def main(argv: list[str]) -> None:
    port, cache, dirs = int(argv[0]), Path(argv[1]), [Path(d) for d in argv[2:]]
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), handler(discover(dirs), cache, dirs)
    )
    server.serve_forever()


if __name__ == "__main__":
    main(sys.argv[1:])

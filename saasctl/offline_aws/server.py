"""The provider process: go-plugin handshake, then tfplugin6 over gRPC.

Terraform starts this program from the filesystem mirror that saasctl writes
(see :func:`saasctl.backend.prepare_providers`), 2-5 times per command, so the
start-up path imports little and reads the pre-encoded schema reply.
Every RPC's request is read with :mod:`wire` (field numbers of tfplugin6) and
its reply built the same way; RPCs not listed here answer UNIMPLEMENTED, which
Terraform accepts for the optional ones it probes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from concurrent import futures
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import grpc

from saasctl.offline_aws import ACCOUNT_ENV, OFFLINE_ENV, identity, values, wire

if TYPE_CHECKING:
    from saasctl.offline_aws.backed import Handler
    from saasctl.offline_aws.backed.client import Emulator

MAGIC_COOKIE_KEY = "TF_PLUGIN_MAGIC_COOKIE"
MAGIC_COOKIE = "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2"
PROTOCOL = 6
# bench/fleet.py (g): where a plan's time goes. Each provider process appends one
# JSON line (seconds spent serving each RPC) to this file when it exits.
TIMINGS_ENV = "SAASCTL_OFFLINE_AWS_TIMINGS"
_timings: dict[str, list[float]] = {}
_timings_lock = threading.Lock()
NOTICE = (
    "offline AWS provider (saasctl): resources live only in Terraform state; "
    "no AWS resource is created"
)
BACKED_NOTICE = (
    "ECS, CloudWatch alarms and log groups, DynamoDB, Cognito, S3 and SSM resources are "
    "kept in the local emulator at"
)
NO_EMULATOR = (
    "no emulator answers at {url}: every resource stays in Terraform state only "
    "(start one with `saasctl emulator --port {port}`, or unset AWS_ENDPOINT_URL)"
)

# tfplugin6 Diagnostic.Severity
ERROR, WARNING = 1, 2


def diagnostic(severity: int, summary: str, detail: str = "") -> bytes:
    return wire.varint(1, severity) + wire.text(2, summary) + wire.text(3, detail)


def dynamic(value: Any) -> bytes:
    """A tfplugin6 DynamicValue (msgpack)."""
    return wire.message(1, values.pack(value))


def read_dynamic(raw: bytes) -> Any:
    fields = wire.decode(raw)
    if 1 in fields:
        return values.unpack(wire.first_bytes(fields, 1))
    return values.from_json(wire.first_bytes(fields, 2))


class Provider:
    def __init__(self, schema_dir: Path) -> None:
        self.schema_dir = schema_dir
        self.reply = (schema_dir / "reply.bin").read_bytes()
        self.blocks: dict[tuple[str, str], dict[str, Any]] = {}
        self.region = (
            os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        )
        self.account = os.environ.get(ACCOUNT_ENV) or "123456789012"
        self.default_tags: dict[str, str] = {}
        self.emulator: Emulator | None = None  # set by ConfigureProvider
        self.stop = threading.Event()
        # "aws", or a utility provider this program serves too (offline_aws.utility)
        flavour = schema_dir / "flavour"
        self.flavour = flavour.read_text().strip() if flavour.is_file() else "aws"

    def backed(self, type_name: str) -> tuple[Handler, Any] | None:
        """The handler and client when this type lives in the configured emulator."""
        if self.emulator is None or not self.emulator.configured():
            return None
        from saasctl.offline_aws.backed import handler_for

        handler = handler_for(type_name)
        if handler is None or self.emulator.endpoint(handler.service) is None:
            return None
        return handler, self.emulator.client(handler.service, handler.client)

    def block(self, kind: str, type_name: str) -> dict[str, Any]:
        key = (kind, type_name)
        if key not in self.blocks:
            path = self.schema_dir / kind / f"{type_name}.json"
            if not path.is_file():
                raise KeyError(f"unsupported {kind} type {type_name!r}")
            self.blocks[key] = json.loads(path.read_text())
        return self.blocks[key]

    # --- RPCs: each takes the request bytes and returns the reply bytes ---------

    def GetProviderSchema(self, req: bytes) -> bytes:
        return self.reply

    def ValidateProviderConfig(self, req: bytes) -> bytes:
        return b""

    def ValidateResourceConfig(self, req: bytes) -> bytes:
        return b""

    def ValidateDataResourceConfig(self, req: bytes) -> bytes:
        return b""

    def StopProvider(self, req: bytes) -> bytes:
        return b""

    def ConfigureProvider(self, req: bytes) -> bytes:
        if self.flavour != "aws":  # nothing to configure, nothing to say on every run
            return b""
        config = read_dynamic(wire.first_bytes(wire.decode(req), 2)) or {}
        if isinstance(config.get("region"), str) and config["region"]:
            self.region = config["region"]
        allowed = config.get("allowed_account_ids")
        if isinstance(allowed, list) and allowed and isinstance(allowed[0], str):
            self.account = sorted(allowed)[0]
        for block in config.get("default_tags") or []:
            if isinstance(block, dict) and isinstance(block.get("tags"), dict):
                self.default_tags.update(block["tags"])
        endpoints = next(iter(config.get("endpoints") or []), None)
        if isinstance(endpoints, dict):
            urls = {k: v for k, v in endpoints.items() if isinstance(v, str) and v}
        else:
            urls = {}
        from saasctl.offline_aws.backed.client import Emulator

        assumed = next(iter(config.get("assume_role") or []), None)
        role = assumed.get("role_arn") if isinstance(assumed, dict) else None
        self.emulator = Emulator(urls, self.region, role if isinstance(role, str) else None)
        notice = NOTICE
        if self.emulator.configured():  # imports below: only what an RPC needs, when it does
            url = self.emulator.fallback or next(iter(urls.values()))
            if self.emulator.answers(url):
                notice += f"; {BACKED_NOTICE} {url}"
            else:  # the first apply must not end in a bare connection error
                self.emulator.endpoints, self.emulator.fallback = {}, None
                port = urllib.parse.urlsplit(url).port or 5000
                notice += "; " + NO_EMULATOR.format(url=url, port=port)
        return wire.message(1, diagnostic(WARNING, notice))

    def GetFunctions(self, req: bytes) -> bytes:
        return (self.schema_dir / "functions.bin").read_bytes()

    def CallFunction(self, req: bytes) -> bytes:
        f = wire.decode(req)
        args = [read_dynamic(a) for a in f.get(2, []) if isinstance(a, bytes)]
        from saasctl.offline_aws import functions

        try:
            result = functions.call(wire.string(f, 1), args)
        except functions.FunctionError as exc:
            error = wire.text(1, str(exc))
            if exc.argument is not None:
                error += wire.varint_present(2, exc.argument)
            return wire.message(2, error)
        return wire.message(1, dynamic(result))

    def UpgradeResourceState(self, req: bytes) -> bytes:
        f = wire.decode(req)
        block = self.block("resource", wire.string(f, 1))  # an unknown type is an error here
        raw = wire.decode(wire.first_bytes(f, 3))
        stored = wire.first_bytes(raw, 1)
        # One schema version: the stored JSON is current, but for nested blocks an
        # earlier extraction typed loosely (a WAF web ACL's rules), stored then as one
        # dynamic value and now as the blocks they are.
        if b'"type"' in stored:
            fixed, changed = values.from_dynamic_json(block, json.loads(stored))
            if changed:  # and only what the schema has now (custom_keys is custom_key)
                stored = json.dumps(values.conform(block, fixed)).encode()
        return wire.message(1, wire.message(2, stored))

    def ReadResource(self, req: bytes) -> bytes:
        f = wire.decode(req)
        type_name = wire.string(f, 1)
        backed = self.backed(type_name)
        private = _bytes_field(3, wire.first_bytes(f, 3))
        if self.flavour != "aws":
            from saasctl.offline_aws import utility

            state = read_dynamic(wire.first_bytes(f, 2))
            if state is not None and utility.gone(type_name, state):
                return wire.message(1, dynamic(None))  # planned anew
        if backed is None:  # state only: what was stored is what there is
            return wire.message(1, wire.first_bytes(f, 2)) + private
        state = read_dynamic(wire.first_bytes(f, 2))
        if state is None:
            return wire.message(1, dynamic(None))
        handler, api = backed
        try:
            found = handler.read(api, state)
        except Exception as exc:
            return self._emulator_error("ReadResource", type_name, "read", exc)
        if found is None:  # deleted in the emulator: terraform plans to create it again
            return wire.message(1, dynamic(None))
        # an unset argument reads back as the emulator's empty default: not drift
        found = {k: v for k, v in found.items() if not (state.get(k) is None and not v)}
        return wire.message(1, dynamic({**state, **found})) + private

    def PlanResourceChange(self, req: bytes) -> bytes:
        from saasctl.offline_aws import fidelity

        f = wire.decode(req)
        type_name = wire.string(f, 1)
        block = self.block("resource", type_name)
        prior = read_dynamic(wire.first_bytes(f, 2))
        proposed = read_dynamic(wire.first_bytes(f, 3))
        if proposed is None:
            return wire.message(1, dynamic(None))
        planned = values.conform(block, proposed)
        assert planned is not None
        replace: list[str] = []
        if self.flavour != "aws":
            from saasctl.offline_aws import utility

            replace = utility.plan_any(type_name, block, prior, planned)
            return self._planned(planned, replace)
        if block["attributes"].get("tags_all", {}).get("type") == ["map", "string"]:
            config = read_dynamic(wire.first_bytes(f, 4))
            if prior is not None and isinstance(config, dict) and config.get("tags_all") == {}:
                # terraform 1.0 sends tags_all as an empty map (not null) for a resource
                # with ignore_changes and then accepts only that or the prior value
                planned["tags_all"] = prior.get("tags_all")
            else:  # the merge of the provider's default_tags and the resource's tags
                planned["tags_all"] = fidelity.merged_tags(self.default_tags, planned.get("tags"))
        if prior is None:
            values.mark_unknown(block, planned)
            fidelity.on_plan(type_name, planned)
        else:
            replace = fidelity.requires_replace(type_name, prior, planned)
        _forget_write_only(block, planned)
        return self._planned(planned, replace)

    def _planned(self, planned: dict[str, Any], replace: list[str]) -> bytes:
        out = wire.message(1, dynamic(planned))
        for name in replace:
            out += wire.message(2, wire.message(1, wire.text(1, name)))
        return out

    def ApplyResourceChange(self, req: bytes) -> bytes:
        from saasctl.offline_aws import fidelity, ipam

        f = wire.decode(req)
        type_name = wire.string(f, 1)
        prior = read_dynamic(wire.first_bytes(f, 2))
        planned = read_dynamic(wire.first_bytes(f, 3))
        if self.flavour != "aws":
            from saasctl.offline_aws import utility

            if planned is None and prior is not None:
                utility.destroy(type_name, prior)  # a sleep, a file removed
            if planned is None or prior is not None:  # destroyed, or changed in place (planned)
                return wire.message(1, dynamic(planned)) + _bytes_field(2, wire.first_bytes(f, 5))
            try:
                made = utility.apply(type_name, planned)
            except (ValueError, OSError) as exc:
                summary = f"creating {type_name}: {exc}"
                return wire.message(DIAGNOSTICS_FIELD["ApplyResourceChange"],
                                    diagnostic(ERROR, summary))  # fmt: skip
            return wire.message(1, dynamic(made)) + _bytes_field(2, wire.first_bytes(f, 5))
        backed = self.backed(type_name)
        if planned is None:  # destroy: in the emulator too when it lives there
            if backed is not None and prior is not None:
                try:
                    backed[0].delete(backed[1], prior)
                except Exception as exc:
                    return self._emulator_error("ApplyResourceChange", type_name, "delete", exc)
            ledger = self._limits_ledger(type_name)
            if ledger is not None and prior is not None:
                ledger.remove_rule(prior)
            if prior is not None:
                ipam.on_destroy(type_name, prior)
            return wire.message(1, dynamic(None))
        block = self.block("resource", type_name)
        if type_name == "aws_wafv2_web_acl":
            from saasctl.offline_aws import limits

            try:
                limits.check_web_acl(planned)
            except limits.LimitExceeded as exc:
                return self._refused(type_name, prior is None, exc)
        filler = fidelity.Values(type_name, planned, self.region, self.account, self.default_tags)
        if backed is not None:
            handler, api = backed
            fidelity.fill_names(filler, planned)  # names known before the emulator is asked
            known = values.known_only(planned)
            try:
                got = (
                    handler.create(api, known)
                    if prior is None
                    else handler.update(api, prior, known)
                )
            except Exception as exc:
                verb = "create" if prior is None else "update"
                return self._emulator_error("ApplyResourceChange", type_name, verb, exc)
            planned.update({k: v for k, v in got.items() if k in block["attributes"]})
        fidelity.on_apply(type_name, planned, filler)
        ipam.before_fill(type_name, planned)
        values.fill_unknown(block, planned, filler)
        ipam.on_apply(type_name, planned)
        _forget_write_only(block, planned)
        ledger = self._limits_ledger(type_name)
        if ledger is not None and prior is None:
            from saasctl.offline_aws import limits

            try:
                ledger.add_rule(planned)
            except limits.LimitExceeded as exc:
                return self._refused(type_name, True, exc)
        return wire.message(1, dynamic(planned)) + _bytes_field(2, wire.first_bytes(f, 5))

    def _limits_ledger(self, type_name: str) -> Any:
        """Where load balancer rules are counted across workspaces: the emulator (None
        in state-only mode, or for other types)."""
        if type_name != "aws_lb_listener_rule" or self.emulator is None:
            return None
        if self.emulator.endpoint("s3") is None:
            return None
        from saasctl.offline_aws import limits

        return limits.Ledger(self.emulator.client("s3", "s3"))

    def _refused(self, type_name: str, creating: bool, exc: Exception) -> bytes:
        """AWS's refusal of a call past a quota, as the real provider reports it."""
        verb = "creating" if creating else "updating"
        summary = f"{verb} {type_name}: {exc}"
        return wire.message(DIAGNOSTICS_FIELD["ApplyResourceChange"], diagnostic(ERROR, summary))

    def _emulator_error(self, rpc: str, type_name: str, verb: str, exc: Exception) -> bytes:
        summary = f"offline AWS provider: the emulator could not {verb} this {type_name}"
        detail = f"{type(exc).__name__}: {exc}"
        return wire.message(DIAGNOSTICS_FIELD[rpc], diagnostic(ERROR, summary, detail))

    def ImportResourceState(self, req: bytes) -> bytes:
        f = wire.decode(req)
        type_name, ident = wire.string(f, 1), wire.string(f, 2)
        block = self.block("resource", type_name)
        state = values.conform(block, {"id": ident})
        imported = wire.text(1, type_name) + wire.message(2, dynamic(state))
        return wire.message(1, imported)

    def ValidateEphemeralResourceConfig(self, req: bytes) -> bytes:
        return b""

    def OpenEphemeralResource(self, req: bytes) -> bytes:
        """An ephemeral resource's values, made as its namesake's are (a data source's,
        random_password's): never in plan or state."""
        return self._read("ephemeral", req, result_field=3)

    def RenewEphemeralResource(self, req: bytes) -> bytes:
        return b""

    def CloseEphemeralResource(self, req: bytes) -> bytes:
        return b""

    def ReadDataSource(self, req: bytes) -> bytes:
        return self._read("data", req, result_field=1)

    def _read(self, kind: str, req: bytes, result_field: int) -> bytes:
        """A data source read, or an ephemeral resource opened: values made now."""
        from saasctl.offline_aws import fidelity, ipam

        f = wire.decode(req)
        type_name = wire.string(f, 1)
        block = self.block(kind, type_name)
        config = values.conform(block, read_dynamic(wire.first_bytes(f, 2))) or {}
        if self.flavour != "aws":
            from saasctl.offline_aws import utility

            try:
                if kind == "ephemeral":
                    made = utility.open_ephemeral(type_name, block, config)
                else:
                    made = utility.read_data(type_name, config)
            except (ValueError, OSError, KeyError) as exc:
                rpc = "OpenEphemeralResource" if kind == "ephemeral" else "ReadDataSource"
                return wire.message(DIAGNOSTICS_FIELD[rpc],
                                    diagnostic(ERROR, f"reading {type_name}: {exc}"))  # fmt: skip
            return wire.message(result_field, dynamic(values.conform(block, made)))
        state = fidelity.read_data(type_name, config, self.region, self.account)
        ipam.before_fill(type_name, state)  # a preview of the next CIDR, read at plan
        # Same configuration, same values: a data source is read on every plan.
        seed = json.dumps([type_name, config], sort_keys=True, default=repr)
        found = fidelity.Values(type_name, state, self.region, self.account, seed=seed)
        values.fill_unknown(block, state, partial(fidelity.data_value, found), only_computed=True)
        return wire.message(result_field, dynamic(state))


def _forget_write_only(block: dict[str, Any], planned: dict[str, Any]) -> None:
    """A write-only attribute (``secret_string_wo``) is never planned or kept: terraform
    requires null there (the value reaches the provider in the configuration only)."""
    for name, attr in block["attributes"].items():
        if attr.get("write_only"):
            planned[name] = None


# Where each reply carries its diagnostics (tfplugin6 field numbers).
DIAGNOSTICS_FIELD = {
    "GetProviderSchema": 4, "ValidateProviderConfig": 2, "ValidateResourceConfig": 1,
    "ValidateDataResourceConfig": 1, "UpgradeResourceState": 2, "ConfigureProvider": 1,
    "ReadResource": 2, "PlanResourceChange": 4, "ApplyResourceChange": 3,
    "ImportResourceState": 2, "ReadDataSource": 2, "StopProvider": 1, "GetFunctions": 2,
    "ValidateEphemeralResourceConfig": 1, "OpenEphemeralResource": 1,
    "RenewEphemeralResource": 1, "CloseEphemeralResource": 1,
}  # fmt: skip


def _bytes_field(number: int, payload: bytes) -> bytes:
    return wire.message(number, payload) if payload else b""


def _identity(b: bytes) -> bytes:
    return b


def _unary(name: str, fn: Callable[[bytes], bytes]) -> grpc.RpcMethodHandler[bytes, bytes]:
    def timed(req: bytes, context: grpc.ServicerContext) -> bytes:
        start = time.perf_counter()
        try:
            return handle(req, context)
        finally:
            took = time.perf_counter() - start
            with _timings_lock:
                entry = _timings.setdefault(name, [0, 0.0])
                entry[0] += 1
                entry[1] += took

    def handle(req: bytes, context: grpc.ServicerContext) -> bytes:
        try:
            return fn(req)
        except Exception as exc:  # reported to terraform as an error diagnostic
            if name == "StopProvider":
                return wire.text(1, str(exc))
            if name == "CallFunction":  # no diagnostics there: a function error
                return wire.message(2, wire.text(1, f"offline AWS provider: {exc!r}"))
            summary = f"offline AWS provider: {name} failed"
            return wire.message(DIAGNOSTICS_FIELD[name], diagnostic(ERROR, summary, repr(exc)))

    return grpc.unary_unary_rpc_method_handler(
        timed if os.environ.get(TIMINGS_ENV) else handle,
        request_deserializer=_identity,
        response_serializer=_identity,
    )


def _handlers(provider: Provider) -> list[grpc.GenericRpcHandler]:
    names = [*DIAGNOSTICS_FIELD, "CallFunction"]
    rpcs = {name: _unary(name, getattr(provider, name)) for name in names}

    def health(req: bytes, context: grpc.ServicerContext) -> bytes:
        return wire.varint(1, 1)  # SERVING

    def shutdown(req: bytes, context: grpc.ServicerContext) -> bytes:
        provider.stop.set()
        return b""

    def stdio(req: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        provider.stop.wait()
        return iter(())

    def broker(reqs: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
        for _ in reqs:  # no sub-plugins: read until the host hangs up
            pass
        return iter(())

    def unary(
        fn: Callable[[bytes, grpc.ServicerContext], bytes],
    ) -> grpc.RpcMethodHandler[bytes, bytes]:
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=_identity, response_serializer=_identity
        )

    return [
        grpc.method_handlers_generic_handler("tfplugin6.Provider", rpcs),
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": unary(health)}),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCController", {"Shutdown": unary(shutdown)}
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCStdio",
            {"StreamStdio": grpc.unary_stream_rpc_method_handler(
                stdio, request_deserializer=_identity, response_serializer=_identity)},
        ),
        grpc.method_handlers_generic_handler(
            "plugin.GRPCBroker",
            {"StartStream": grpc.stream_stream_rpc_method_handler(
                broker, request_deserializer=_identity, response_serializer=_identity)},
        ),
    ]  # fmt: skip


def refuse(message: str) -> int:
    sys.stderr.write(f"saasctl offline AWS provider: {message}\n")
    return 1


def serve(schema_dir: Path) -> int:
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE:
        return refuse("this is a Terraform provider plugin; Terraform starts it, not you")
    if os.environ.get(OFFLINE_ENV) != "1":
        return refuse(
            f"refusing to run: {OFFLINE_ENV}=1 is not set. saasctl sets it only for "
            "environments marked `emulator: true`; this provider creates no AWS resource "
            "and must not stand in for the real one anywhere else"
        )
    versions = os.environ.get("PLUGIN_PROTOCOL_VERSIONS", str(PROTOCOL)).split(",")
    if str(PROTOCOL) not in versions:
        return refuse(f"terraform asks for plugin protocol {versions}; this speaks {PROTOCOL}")
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # terraform stops us with Shutdown
    provider = Provider(schema_dir)
    options = [
        ("grpc.max_send_message_length", 1 << 28),
        ("grpc.max_receive_message_length", 1 << 28),
    ]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=options)
    for handler in _handlers(provider):
        server.add_generic_rpc_handlers((handler,))
    sock_dir = tempfile.mkdtemp(prefix="saasctl-aws-", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR"))
    sock = os.path.join(sock_dir, "plugin.sock")
    cert_field = ""
    if os.environ.get("PLUGIN_CLIENT_CERT"):
        # Terraform's automatic mTLS: it trusts the certificate named below.
        key_pem, cert_pem = identity.split((schema_dir.parent / "tls.pem").read_bytes())
        creds = grpc.ssl_server_credentials([(key_pem, cert_pem)])
        server.add_secure_port(f"unix:{sock}", creds)
        cert_field = identity.handshake_field(cert_pem)
    else:
        server.add_insecure_port(f"unix:{sock}")
    server.start()
    sys.stdout.write(f"1|{PROTOCOL}|unix|{sock}|grpc|{cert_field}\n")
    sys.stdout.flush()
    try:
        provider.stop.wait()
    finally:
        server.stop(0.5).wait()
        try:
            os.unlink(sock)
            os.rmdir(sock_dir)
        except OSError:
            pass
    return 0


def main(schema_dir: str) -> None:
    code = serve(Path(schema_dir))
    if os.environ.get(TIMINGS_ENV):
        with open(os.environ[TIMINGS_ENV], "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"pid": os.getpid(), "rpcs": _timings}) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    # terraform waits for this process to exit after every command's Shutdown (2-3
    # times a plan): skip the interpreter's teardown of grpc's threads and modules
    os._exit(code)

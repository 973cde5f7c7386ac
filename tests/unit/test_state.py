"""The state bucket's locks and claims, against a stubbed S3 client (no network):
every lock and claim is a conditional put, and the shared lock waits for a live
holder but names a dead one at once."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest
from botocore.exceptions import EndpointConnectionError
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from saasctl.aws import Aws
from saasctl.errors import BackendError, LockError
from saasctl.project import Project
from saasctl.state import HOST_ID, LockHolder, StateStore

BUCKET = "saasctl-local-tfstate"


@pytest.fixture
def store(project: Path) -> StateStore:
    env = Project(project).load_env("local")
    return StateStore(env, Aws(env.spec))


def conditional_put(key: str) -> dict[str, object]:
    return {
        "Bucket": BUCKET,
        "Key": key,
        "Body": ANY,
        "IfNoneMatch": "*",
        "ServerSideEncryption": "AES256",
    }


def body(data: dict[str, object]) -> dict[str, object]:
    raw = json.dumps(data).encode()
    return {"Body": StreamingBody(io.BytesIO(raw), len(raw))}


def refused(stub: Stubber, key: str) -> None:
    stub.add_client_error(
        "put_object",
        service_error_code="PreconditionFailed",
        http_status_code=412,
        expected_params=conditional_put(key),
    )


def test_a_priority_claim_is_a_conditional_put(store: StateStore) -> None:
    key = "local/priorities/100.claim"
    with Stubber(store.aws.s3) as stub:
        stub.add_response("put_object", {}, conditional_put(key))
        assert store.claim(store.env.first_cell, 100, "acme") is True
        refused(stub, key)  # another run claimed it first: S3 says 412
        stub.add_response("get_object", body({"tenant": "acme"}), {"Bucket": BUCKET, "Key": key})
        assert store.claim(store.env.first_cell, 100, "globex") is False
        stub.assert_no_pending_responses()


def test_tenant_and_shared_locks_are_conditional_puts(store: StateStore) -> None:
    with Stubber(store.aws.s3) as stub:
        stub.add_response("put_object", {}, conditional_put("local/tenants/acme/saasctl.lock"))
        store.acquire("acme", "onboard")
        stub.add_response("put_object", {}, conditional_put("local/shared/saasctl.lock"))
        waited = store.acquire_waiting("shared", "onboard", wait=5, on_wait=lambda h, w: None)
        assert waited < 5
        stub.assert_no_pending_responses()


def _holder(pid: int, host: str = HOST_ID) -> dict[str, object]:
    return {"who": "bob@ci", "host": host, "pid": pid, "operation": "offboard",
            "created": "2026-12-01T00:00:00+00:00"}  # fmt: skip


def test_the_shared_lock_waits_for_a_live_holder(store: StateStore) -> None:
    key = "local/shared/saasctl.lock"
    seen: list[tuple[LockHolder, float]] = []
    with Stubber(store.aws.s3) as stub:
        for _ in range(2):  # held twice by a live process (this one), then free
            refused(stub, key)
            stub.add_response(
                "get_object", body(_holder(os.getpid())), {"Bucket": BUCKET, "Key": key}
            )
        stub.add_response("put_object", {}, conditional_put(key))
        store.acquire_waiting(
            "shared", "onboard", wait=30, on_wait=lambda h, w: seen.append((h, w))
        )
        stub.assert_no_pending_responses()
    assert [h.who for h, _ in seen] == ["bob@ci", "bob@ci"]
    assert seen[0][1] <= seen[1][1]


def test_a_dead_holder_of_the_shared_lock_is_named_at_once(store: StateStore) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    key = "local/shared/saasctl.lock"
    with Stubber(store.aws.s3) as stub:
        refused(stub, key)
        stub.add_response(
            "get_object", body(_holder(int(dead.stdout))), {"Bucket": BUCKET, "Key": key}
        )
        with pytest.raises(LockError) as caught:
            store.acquire_waiting("shared", "onboard", wait=600, on_wait=lambda h, w: None)
    line = caught.value.one_line()
    assert "the shared workspace is locked by bob@ci (offboard since 2026-12-01" in line
    assert "a run that died (process" in line
    assert "`saasctl unlock shared --env local` removes its lock" in line


def test_a_holder_on_another_host_is_waited_for_until_the_bound(store: StateStore) -> None:
    key = "local/shared/saasctl.lock"
    with Stubber(store.aws.s3) as stub:
        refused(stub, key)
        stub.add_response(
            "get_object", body(_holder(1, host="elsewhere/boot")), {"Bucket": BUCKET, "Key": key}
        )
        with pytest.raises(LockError, match="waited 0s") as caught:
            store.acquire_waiting("shared", "apply", wait=0, on_wait=lambda h, w: None)
    assert "if that run died: `saasctl unlock shared --env local`" in caught.value.one_line()


def test_plan_files_are_per_run_and_dead_runs_files_are_pruned(tmp_path: Path) -> None:
    from saasctl.context import RUN_ID, Workspace, prune_plan_files

    probe = [sys.executable, "-c", "from saasctl.context import RUN_ID; print(RUN_ID)"]
    others = {subprocess.run(probe, capture_output=True, text=True, check=True).stdout.strip()
              for _ in range(2)}  # fmt: skip
    assert len(others | {RUN_ID}) == 3  # two processes in one checkout never share one
    ws = Workspace(tmp_path / "ws", "k")
    assert ws.planfile.name == f"saasctl-{RUN_ID}.tfplan"
    runtime = ws.runtime
    runtime.mkdir(parents=True)
    dead = next(iter(others)).split("-")[0]  # those processes have exited
    for name in (ws.planfile.name, f"saasctl-{dead}-abc123.tfplan", "saasctl.tfplan"):
        (runtime / name).write_text("plan")
    prune_plan_files(runtime)
    assert sorted(p.name for p in runtime.iterdir()) == [ws.planfile.name]


def test_a_zombie_is_not_alive() -> None:
    """A holder that died but was not reaped yet (its parent is busy) is dead."""
    import time

    from saasctl.state import pid_alive

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not pid_alive(child.pid)  # exited, not reaped
    assert pid_alive(os.getpid())
    child.wait()
    assert not pid_alive(child.pid)


def test_listings_read_every_page_and_a_lost_connection_is_one_error(
    store: StateStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims = "local/priorities/"
    archives = store.env.archive_prefix("acme")
    when = datetime(2026, 12, 3, tzinfo=timezone.utc)
    with Stubber(store.aws.s3) as stub:
        listings = [
            (claims, {}, ("100.claim", "110.claim", "junk")),
            (archives, {"Delimiter": "/"}, ("a.tfstate", "b.tfstate")),
        ]
        for prefix, folders, names in listings:
            first = {"Bucket": BUCKET, "Prefix": prefix, **folders}
            objs = [{"Key": prefix + n, "Size": 1, "LastModified": when} for n in names]
            page1 = {"IsTruncated": True, "NextContinuationToken": "t1", "Contents": objs[:1]}
            stub.add_response("list_objects_v2", page1, first)
            page2 = {"IsTruncated": False, "Contents": objs[1:]}
            stub.add_response("list_objects_v2", page2, {**first, "ContinuationToken": "t1"})
        assert store.claims(store.env.first_cell) == {100, 110}
        assert [a["name"] for a in store.archives("acme")] == ["a.tfstate", "b.tfstate"]
        stub.assert_no_pending_responses()

    def down(**_: object) -> None:
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:9")

    monkeypatch.setattr(store.aws.s3, "list_objects_v2", down)
    for listing in (lambda: store.claims(store.env.first_cell), lambda: store.archives("acme")):
        with pytest.raises(BackendError, match="cannot reach the state backend"):
            listing()


AUDIT = {
    "Sid": "AuditRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{BUCKET}/*",
}


def test_bootstrap_merges_its_statement_into_the_bucket_policy() -> None:
    from saasctl.state import merge_policy, tls_statement

    ours = tls_statement(BUCKET)
    theirs = json.dumps({"Version": "2012-10-17", "Statement": [AUDIT]})
    merged = json.loads(merge_policy(theirs, ours) or "")
    assert merged["Statement"] == [AUDIT, ours]  # the operator's statement kept
    again = merge_policy(json.dumps(merged), ours)
    assert again == json.dumps(merged)  # unchanged: nothing to put
    stale = {**ours, "Resource": "arn:aws:s3:::old"}  # ours, by Sid, replaced
    replaced = json.loads(merge_policy(json.dumps({"Statement": [stale, AUDIT]}), ours) or "")
    assert replaced["Statement"] == [AUDIT, ours]
    assert json.loads(merge_policy(json.dumps(merged), None) or "")["Statement"] == [AUDIT]
    assert merge_policy(json.dumps({"Statement": [ours]}), None) is None  # nothing left
    assert json.loads(merge_policy(None, ours) or "")["Statement"] == [ours]


def test_the_tls_only_check_reads_the_policy() -> None:
    from saasctl.state import tls_only, tls_statement

    ours = tls_statement(BUCKET)
    assert tls_only(json.dumps({"Statement": [AUDIT, ours]}), BUCKET)
    assert not tls_only(json.dumps({"Statement": [AUDIT]}), BUCKET)
    assert not tls_only(None, BUCKET) and not tls_only("not json", BUCKET)
    objects_only = {**ours, "Resource": f"arn:aws:s3:::{BUCKET}/*"}
    assert not tls_only(json.dumps({"Statement": [objects_only]}), BUCKET)
    allowed = {**ours, "Effect": "Allow"}
    assert not tls_only(json.dumps({"Statement": [allowed]}), BUCKET)


def test_every_call_on_the_state_bucket_names_its_owner(store: StateStore) -> None:
    """ExpectedBucketOwner is the environment's account on each call on the state
    bucket (S3 refuses the call when the bucket is another account's), and absent on
    other buckets."""
    sent: list[dict[str, object]] = []
    # after saasctl's own handler, which the client got when it was made
    store.aws.s3.meta.events.register(
        "before-parameter-build.s3", lambda params, **_: sent.append(dict(params))
    )
    with Stubber(store.aws.s3) as stub:
        stub.add_response("head_bucket", {})
        stub.add_response("get_object", body({}))
        stub.add_response("head_bucket", {})
        store.aws.s3.head_bucket(Bucket=BUCKET)
        store.aws.s3.get_object(Bucket=BUCKET, Key="local/x")
        store.aws.s3.head_bucket(Bucket="some-other-bucket")
    owners = [params.get("ExpectedBucketOwner") for params in sent]
    assert owners == [store.env.spec.account_id] * 2 + [None]

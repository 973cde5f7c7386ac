"""Releases rolled out in waves with real terraform, the emulator's ECS and CloudWatch
behind the health gates (real modules through the offline provider), and the
rollout's ledger in the state bucket.

The stand-in tests check the orchestration fast (waves, resume after SIGKILL,
two rollouts at once, infrastructure changes refused); the real-module test
checks the health gates: a canary whose alarm is in ALARM halts the rollout."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from saasctl.emulator import moto_server
from tests.conftest import REPO, copy_project
from tests.integration.conftest import (
    BINARIES,
    NEEDS_OFFLINE_AWS,
    NEEDS_TERRAFORM,
    Stack,
    failpoint_log,
    make_stack,
    tasks_fare,
)

pytestmark = [
    pytest.mark.integration,
    NEEDS_TERRAFORM,
]
V2 = ("--image", "web=registry.example.com/web:2.0.0", "--image", "api=repo/api:2.0.0")
V3 = ("--image", "web=registry.example.com/web:3.0.0", "--image", "api=repo/api:3.0.0")
UNITS = {"acme": "basic", "globex": "advanced", "hooli": "advanced", "initech": "premium"}


def fleet_stack(tmp: Path, modules: str) -> Iterator[Stack]:
    root = copy_project(tmp, {"local": REPO / "terraform/envs/local/env.yaml"}, modules=modules)
    with moto_server(log=root / "moto.log") as url:
        s = make_stack(root, url, BINARIES[-1], SAASCTL_LOCK_TIMEOUT="5s")
        s.saasctl("bootstrap")
        s.saasctl("apply", "--shared-only", "--yes", timeout=900)
        for tenant, tier in UNITS.items():
            canary = ("--tag", "Ring=canary") if tenant == "globex" else ()
            s.saasctl("tenant", "onboard", tenant, "--tier", tier, *canary, "--yes", timeout=900)
        s.saasctl("release", "create", "2.0.0", *V2)
        s.saasctl("release", "create", "3.0.0", *V3)
        yield s


@pytest.fixture(scope="module")
def standin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from fleet_stack(tmp_path_factory.mktemp("rel"), "standin")


def releases_of(s: Stack) -> dict[str, str | None]:
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    return {t["id"]: t["release"] for t in listing}


def ledger(s: Stack) -> dict:  # type: ignore[type-arg]
    return json.loads(s.saasctl("release", "status", "--json").stdout)  # type: ignore[no-any-return]


def assert_converged(s: Stack, version: str | None) -> None:
    assert set(releases_of(s).values()) == {version}
    listing = json.loads(s.saasctl("tenant", "list", "--json").stdout)["tenants"]
    assert all(t["status"] == "applied" for t in listing), listing
    assert not [k for k in s.object_keys("local/") if k.endswith("saasctl.lock")]
    assert s.saasctl("plan", check=None, timeout=900).returncode == 0  # nothing left to do


def test_plan_shows_the_waves_and_each_units_plan(standin: Stack) -> None:
    s = standin
    out = s.saasctl("release", "plan", "2.0.0", "--json", check=2, timeout=900)
    data = json.loads(out.stdout)
    assert [w["name"] for w in data["waves"]] == ["canary", "pool", "advanced", "premium"]
    assert [w["units"] for w in data["waves"]] == [["globex"], ["pool"], ["hooli"], ["initech"]]
    assert all(u["state"] == "pending" and "to add" in u["detail"] for u in data["units"].values())
    assert releases_of(s) == dict.fromkeys(UNITS)  # nothing written by a plan
    assert not (s.root / "terraform/envs/local/pool.yaml").exists()


def test_a_rollout_moves_every_unit_wave_by_wave(standin: Stack) -> None:
    s = standin
    s.saasctl("release", "rollout", "2.0.0", "--yes", timeout=900)
    data = ledger(s)
    assert data["state"] == "completed" and data["version"] == "2.0.0"
    assert [w["state"] for w in data["waves"]] == ["done"] * 4
    assert {u["state"] for u in data["units"].values()} == {"healthy"}
    assert_converged(s, "2.0.0")
    assert json.loads(s.saasctl("release", "list", "--json").stdout)["current"] == "2.0.0"
    # a unit's release is immutable once it runs
    changed = s.saasctl("release", "create", "2.0.0", "--image", "web=repo/web:9",
                        "--image", "api=repo/api:9", check=3)  # fmt: skip
    assert "immutable: pool, globex, hooli, initech run(s) it" in changed.stderr
    # rollback: every unit back to what it ran before, in the same waves
    s.saasctl("release", "rollback", "--yes", timeout=900)
    assert ledger(s)["kind"] == "rollback"
    assert_converged(s, None)
    s.saasctl("release", "rollout", "2.0.0", "--yes", timeout=900)
    assert_converged(s, "2.0.0")


def test_two_rollouts_at_once_one_proceeds(standin: Stack, tmp_path: Path) -> None:
    s = standin
    log = tmp_path / "points.jsonl"
    env = {**s.env, "SAASCTL_FAILPOINT_LOG": str(log),
           "SAASCTL_FAILPOINTS": "release-baking=await:go:1"}  # fmt: skip
    first = s.popen_env(env, "release", "rollout", "3.0.0", "--yes")
    deadline = time.monotonic() + 600
    while not any(e["point"] == "release-baking" for e in failpoint_log(log)):
        assert first.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    second = s.saasctl("release", "rollout", "3.0.0", "--yes", check=4)
    assert "a rollout of 3.0.0 is running in 'local'" in second.stderr
    assert "release status" in second.stderr
    with log.open("a") as fh:
        fh.write(json.dumps({"point": "go", "pid": 0}) + "\n")
    _, err = first.communicate(timeout=900)
    assert first.returncode == 0, err
    assert_converged(s, "3.0.0")


@pytest.mark.parametrize("point", ["release-applying", "release-planned", "release-baking"])
def test_a_killed_rollout_resumes_where_it_stopped(standin: Stack, point: str) -> None:
    s = standin
    target = "2.0.0" if set(releases_of(s).values()) == {"3.0.0"} else "3.0.0"
    killed = s.saasctl_env({**s.env, "SAASCTL_FAILPOINTS": f"{point}=kill"},
                           "release", "rollout", target, "--yes")  # fmt: skip
    assert killed.returncode == -9, killed.stderr  # died at the point, not later
    again = s.saasctl("release", "rollout", target, "--yes", check=4)
    assert "was interrupted" in again.stderr and "--resume" in again.stderr
    resumed = s.saasctl("release", "rollout", target, "--resume", "--yes", check=None, timeout=900)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming the rollout" in resumed.stderr
    assert ledger(s)["state"] == "completed"
    assert_converged(s, target)


def test_a_release_that_changes_infrastructure_is_refused(standin: Stack) -> None:
    s = standin
    env_file = s.root / "terraform/envs/local/env.yaml"
    original = env_file.read_text()
    env_file.write_text(original.replace("domain: saas.local", "domain: saas2.local"))
    try:
        target = "2.0.0" if set(releases_of(s).values()) == {"3.0.0"} else "3.0.0"
        before = releases_of(s)
        refused = s.saasctl("release", "rollout", target, "--yes", check=1, timeout=900)
        assert "a release changes only task definitions, services and config" in refused.stderr
        assert "aws_lb_listener_rule" in refused.stderr and "--allow-infra-change" in refused.stderr
        data = ledger(s)
        assert data["state"] == "halted"
        assert data["units"]["globex"]["state"] == "refused"
        assert releases_of(s) == before  # nothing applied, specs as they were
    finally:
        env_file.write_text(original)
    s.saasctl("apply", "--yes", timeout=900)


@pytest.mark.parametrize(
    ("args", "edit", "message"),
    [
        (["9.9.9"], None, "release '9.9.9' not found"),
        (["2.0.0"], ("tags: {Ring: canary}", "tenants: [nope]"), "names unknown tenant(s): nope"),
        (["2.0.0"], ("tiers: [premium]", "tiers: [advanced]"), "leave out initech"),
    ],
)
def test_bad_rollouts_are_one_line_and_write_nothing(
    standin: Stack, args: list[str], edit: tuple[str, str] | None, message: str
) -> None:
    s = standin
    env_file = s.root / "terraform/envs/local/env.yaml"
    original = env_file.read_text()
    if edit:
        assert edit[0] in original
        env_file.write_text(original.replace(edit[0], edit[1]))
    before = s.read_json("local/rollouts/current.json")
    try:
        out = s.saasctl("release", "rollout", *args, "--yes", check=3)
    finally:
        env_file.write_text(original)
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], lines
    assert s.read_json("local/rollouts/current.json") == before


def test_a_rollout_without_yes_and_without_a_terminal_is_refused(standin: Stack) -> None:
    s = standin
    target = "2.0.0" if set(releases_of(s).values()) == {"3.0.0"} else "3.0.0"
    before, ledger_before = releases_of(s), s.read_json("local/rollouts/current.json")
    out = s.saasctl("release", "rollout", target, check=5)
    assert f"not confirmed: rollout of {target}: 4 unit(s) in 4 wave(s)" in out.stderr
    assert "--yes" in out.stderr
    assert releases_of(s) == before
    assert s.read_json("local/rollouts/current.json") == ledger_before


def test_upgradeable_from_is_enforced(standin: Stack) -> None:
    s = standin
    current = next(iter(set(releases_of(s).values())))
    s.saasctl(
        "release", "create", "1.0.0", "--image", "web=repo/web:1", "--image", "api=repo/api:1"
    )
    s.saasctl("release", "create", "4.0.0", "--image", "web=repo/web:4",
              "--image", "api=repo/api:4", "--upgradeable-from", "1.0.0")  # fmt: skip
    out = s.saasctl("release", "rollout", "4.0.0", "--yes", check=3)
    assert "upgradeable only from 1.0.0" in out.stderr and f"({current})" in out.stderr


def test_maintenance_windows_and_pins_hold_units_back(standin: Stack, tmp_path: Path) -> None:
    """hooli takes releases on Saturdays 02:00-04:00 Berlin time, initech is pinned
    until Monday; the clock is injected (a file the test moves)."""
    s = standin
    start = next(iter(set(releases_of(s).values())))
    if start is None:  # a pin names a release
        s.saasctl("release", "rollout", "2.0.0", "--yes", timeout=900)
        start = "2.0.0"
    target = "2.0.0" if start == "3.0.0" else "3.0.0"
    clock = tmp_path / "clock"
    timed = {**s.env, "SAASCTL_CLOCK": f"file:{clock}"}

    def at(when: str, *args: str, check: int | None = 0) -> CompletedProcess[str]:
        clock.write_text(when)
        out = s.saasctl_env(timed, *args)
        assert check is None or out.returncode == check, out.stderr
        return out

    friday = "2026-12-11T12:00:00Z"
    # bad settings: one line, exit 3, nothing written
    spec_file = s.root / "terraform/envs/local/tenants/hooli/tenant.yaml"
    before = spec_file.read_text()
    for args, message in [
        (["--window", "sat 25:00 1h"], "'25:00' is not a time like 02:00"),
        (["--window", "sat 02:00 2h", "--timezone", "Mars/Olympus"], "not an IANA timezone"),
        (["--pin", "9.9.9"], "--pin '9.9.9': no such release"),
        (["--pin", start, "--pin-until", "2026-12-01T00:00:00Z"], "is in the past"),
    ]:
        out = at(friday, "tenant", "maintenance", "hooli", *args, check=3)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
    refused = at(friday, "tenant", "maintenance", "acme", "--window", "sat 02:00 1h", check=3)
    assert "basic tenant runs on the pool" in refused.stderr
    assert spec_file.read_text() == before

    at(friday, "tenant", "maintenance", "hooli", "--window", "sat 02:00 2h",
       "--timezone", "Europe/Berlin")  # fmt: skip
    at(friday, "tenant", "maintenance", "initech", "--pin", start,
       "--pin-until", "2026-12-14T00:00:00Z")  # fmt: skip
    shown = json.loads(at(friday, "tenant", "show", "hooli", "--json").stdout)["maintenance"]
    assert shown["next_window"] == "Sat 2026-12-12 02:00 Europe/Berlin"
    try:
        plan = json.loads(at(friday, "release", "plan", target, "--json", check=2).stdout)
        assert plan["units"]["hooli"]["state"] == "skipped"
        assert "outside its maintenance window" in plan["units"]["hooli"]["detail"]
        assert plan["units"]["initech"]["detail"] == (
            f"pinned to {start} until 2026-12-14T00:00:00+00:00"
        )
        # skip (the default): both held back, the others move
        out = at(friday, "release", "rollout", target, "--yes")
        assert "2 unit(s) held back by their maintenance settings: hooli, initech" in out.stderr
        assert releases_of(s) == {"acme": target, "globex": target, "hooli": start,
                                  "initech": start}  # fmt: skip
        status = at(friday, "release", "status").stdout
        assert "pinned to" in status and "outside its maintenance" in status

        # strict, before the window opens: hooli waits; the clock moves into the window
        clock.write_text("2026-12-12T00:59:00Z")
        run = s.popen_env({**timed, "COLUMNS": "200"}, "release", "rollout", target,
                          "--maintenance", "strict", "--yes")  # fmt: skip
        deadline = time.monotonic() + 600
        while ledger_unit(s, "hooli").get("state") != "waiting":
            assert run.poll() is None and time.monotonic() < deadline, run.communicate()
            time.sleep(0.2)
        assert releases_of(s)["hooli"] == start  # still waiting, nothing moved
        clock.write_text("2026-12-12T01:00:00Z")  # 02:00 in Berlin
        _, err = run.communicate(timeout=900)
        assert run.returncode == 0, err
        assert "waits until Sat 2026-12-12 02:00 Europe/Berlin" in err
        assert releases_of(s)["hooli"] == target and releases_of(s)["initech"] == start

        # Monday: the pin has expired
        at("2026-12-14T00:00:01Z", "release", "rollout", target, "--yes")
        assert set(releases_of(s).values()) == {target}

        # ignore: back to the first release on a Friday, outside hooli's window
        initech = at(friday, "tenant", "maintenance", "initech", "--pin", start)
        assert "pinned" in initech.stdout
        at(friday, "release", "rollout", start, "--maintenance", "ignore", "--yes")
        assert "policy ignore" in ledger_unit(s, "hooli")["note"]
        assert ledger_unit(s, "initech")["state"] == "healthy"  # pinned to this very release
    finally:
        at(friday, "tenant", "maintenance", "hooli", "--no-windows", check=None)
        at(friday, "tenant", "maintenance", "initech", "--unpin", check=None)
    assert "maintenance" not in spec_file.read_text()
    assert_converged(s, start)


def ledger_unit(s: Stack, label: str) -> dict:  # type: ignore[type-arg]
    return s.read_json("local/rollouts/current.json")["units"].get(label, {})  # type: ignore[no-any-return]


def test_config_versions_roll_out_in_waves_and_back(standin: Stack) -> None:
    """Per-tenant settings and flags: set, frozen into a version, rolled out in the
    release waves, shown with their sources, rolled back."""
    s = standin
    base = s.root / "terraform/envs/local"
    spec_file = base / "tenants/hooli/tenant.yaml"
    before = spec_file.read_text()
    for args, message in [
        (["max_upload_mb=0"], "max_upload_mb: 0 is below the minimum 1"),
        (["support=gold"], "'gold' is not one of standard, priority"),
        (["new_checkout=maybe"], "new_checkout: 'maybe' is not true or false"),
        (["colour=blue"], "'colour' is not a setting of env.yaml's config"),
    ]:
        out = s.saasctl("tenant", "config", "set", "hooli", *args, check=3)
        lines = out.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0], lines
    assert spec_file.read_text() == before
    assert "config version 'c9' not found" in s.saasctl("config", "rollout", "c9", "--yes",
                                                        check=3).stderr  # fmt: skip

    s.saasctl("tenant", "config", "set", "hooli", "max_upload_mb=50", "new_checkout=true")
    shown = json.loads(s.saasctl("tenant", "config", "show", "hooli", "--json").stdout)
    assert shown["config_version"] is None  # nothing reaches a service before a rollout
    assert {r["key"]: r["pending"] for r in shown["settings"]}["max_upload_mb"] == {
        "value": 50, "source": "tenant"}  # fmt: skip
    s.saasctl("config", "create", "c1", "--notes", "hooli tries the new checkout")
    again = s.saasctl("config", "create", "c1", check=3)
    assert "versions are immutable" in again.stderr
    planned = json.loads(s.saasctl("config", "plan", "c1", "--json", check=2, timeout=900).stdout)
    assert {u["state"] for u in planned["units"].values()} == {"pending"}

    s.saasctl("config", "rollout", "c1", "--yes", timeout=900)
    data = ledger(s)
    assert data["what"] == "config" and data["state"] == "completed"
    assert {u["state"] for u in data["units"].values()} == {"healthy"}
    assert "config rollout of c1: completed" in s.saasctl("release", "status").stdout

    def values(tenant: str) -> dict[str, tuple[object, str]]:
        info = json.loads(s.saasctl("tenant", "config", "show", tenant, "--json").stdout)
        assert info["config_version"] == "c1", info
        return {r["key"]: (r["value"], r["source"]) for r in info["settings"]}

    assert values("hooli") == {"max_upload_mb": (50, "tenant"), "new_checkout": (True, "tenant"),
                               "support": ("standard", "default")}  # fmt: skip
    assert values("initech")["max_upload_mb"] == (100, "tier premium")
    assert values("acme")["new_checkout"] == (False, "default")  # the pool's version
    tfvars = json.loads((base / "tenants/hooli/terraform.tfvars.json").read_text())
    assert tfvars["config"]["parameter"] == "/saasctl/local/tenants/hooli/config"
    assert json.loads(tfvars["config"]["document"])["values"]["max_upload_mb"] == 50
    shared = json.loads((base / "shared/terraform.tfvars.json").read_text())
    assert set(shared["tenant_configs"]["documents"]) == {"acme"}
    assert s.saasctl("plan", check=None, timeout=900).returncode == 0  # converged

    # a release keeps the config version; a rollback of the config keeps the release
    releases_before = releases_of(s)
    s.saasctl("release", "rollback", "--yes", timeout=900)
    assert ledger(s)["what"] == "config" and ledger(s)["kind"] == "rollback"
    assert releases_of(s) == releases_before
    info = json.loads(s.saasctl("tenant", "config", "show", "hooli", "--json").stdout)
    assert info["config_version"] is None
    assert json.loads((base / "tenants/hooli/terraform.tfvars.json").read_text())["config"] is None
    listed = json.loads(s.saasctl("config", "list", "--json").stdout)["configs"]
    assert [(c["version"], c["units"]) for c in listed] == [("c1", [])]  # nobody runs it now
    assert_converged(s, next(iter(set(releases_before.values()))))


@NEEDS_OFFLINE_AWS
def test_health_gates_halt_a_bad_canary_and_roll_it_back(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """Real modules: ECS services and CloudWatch alarms live in the emulator."""
    for s in fleet_stack(tmp_path_factory.mktemp("real"), "real"):
        s.saasctl("release", "rollout", "2.0.0", "--yes", timeout=1200)
        data = ledger(s)
        assert data["state"] == "completed"
        assert {u["detail"] for u in data["units"].values()} == {"healthy"}
        cloudwatch, ecs = s.client("cloudwatch"), s.client("ecs")
        # the canary's new version serves 5xx: its alarm goes into ALARM, as CloudWatch would
        shown = json.loads(s.saasctl("tenant", "show", "globex", "--json").stdout)
        services = shown["outputs"]["tenant"]["services"]
        alarm = services["web"]["alarm_names"][0]
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM", StateReason="test: 5xx")
        # ... and the rollout is killed while it rolls the canary back, then resumed
        killed = s.saasctl_env({**s.env, "SAASCTL_FAILPOINTS": "release-rolling-back=kill"},
                               "release", "rollout", "3.0.0", "--yes")  # fmt: skip
        assert killed.returncode == -9
        halted = s.saasctl("release", "rollout", "3.0.0", "--resume", "--yes", check=None,
                           timeout=1200)  # fmt: skip
        assert halted.returncode == 1, halted.stderr
        data = ledger(s)
        assert data["state"] == "halted" and f"alarm {alarm} is in ALARM" in data["reason"]
        assert [w["state"] for w in data["waves"]] == ["halted", "pending", "pending", "pending"]
        assert data["units"]["globex"]["state"] == "rolled-back"
        assert releases_of(s) == dict.fromkeys(
            UNITS, "2.0.0"
        )  # the canary is back, the rest untouched
        status = s.saasctl("release", "status")
        assert "halted: wave canary: globex" in status.stderr
        service = services["web"]
        [svc] = ecs.describe_services(cluster=service["cluster_arn"],
                                      services=[service["service_name"]])["services"]  # fmt: skip
        task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
        assert task["containerDefinitions"][0]["image"].endswith("web:2.0.0")

        # A release whose image cannot start: the canary's deployment (a canary
        # deployment, which has no circuit breaker: ECS keeps trying) is still in
        # progress at the deployment timeout, and the gate halts on that rather than on
        # an alarm. (The breaker's rollback, on rolling services: test_health_emulator.)
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test: fixed")
        tasks_fare(s.endpoint, "registry.example.com/web:4.0.0", "fail")
        env_file = s.root / "terraform/envs/local/env.yaml"
        env_file.write_text(env_file.read_text().replace("deployment_timeout: 60s",
                                                         "deployment_timeout: 3s"))  # fmt: skip
        s.saasctl("release", "create", "4.0.0", "--image", "web=registry.example.com/web:4.0.0",
                  "--image", "api=repo/api:4.0.0")  # fmt: skip
        halted = s.saasctl("release", "rollout", "4.0.0", "--yes", check=1, timeout=1200)
        data = ledger(s)
        assert data["state"] == "halted" and data["units"]["globex"]["state"] == "rolled-back"
        assert (
            "globex: not healthy after 3s: service local-globex-web: deployment in progress"
            in (data["reason"])
        )
        assert releases_of(s) == dict.fromkeys(UNITS, "2.0.0"), halted.stderr

        # A flag turned on for the canary wave only (globex's own value), whose alarm
        # fires once the canary runs it: halted, globex's configuration rolled back.
        env_file.write_text(env_file.read_text().replace("deployment_timeout: 3s",
                                                         "deployment_timeout: 60s"))  # fmt: skip
        s.saasctl("tenant", "config", "set", "globex", "new_checkout=true")
        s.saasctl("config", "create", "c1", "--notes", "the new checkout, on the canary")
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="ALARM",
                                   StateReason="test: checkout 5xx")  # fmt: skip
        halted = s.saasctl("config", "rollout", "c1", "--yes", check=1, timeout=1200)
        data = ledger(s)
        assert data["what"] == "config" and data["state"] == "halted", halted.stderr
        assert [w["state"] for w in data["waves"]] == ["halted", "pending", "pending", "pending"]
        assert data["units"]["globex"]["state"] == "rolled-back"
        assert f"alarm {alarm} is in ALARM" in data["reason"]
        ssm = s.client("ssm")
        with pytest.raises(ssm.exceptions.ParameterNotFound):
            ssm.get_parameter(Name="/saasctl/local/tenants/globex/config")
        assert "SAASCTL_CONFIG_VERSION" not in task_env(s, "globex")
        # fixed: the same version goes out to every wave
        cloudwatch.set_alarm_state(AlarmName=alarm, StateValue="OK", StateReason="test: fixed")
        s.saasctl("config", "rollout", "c1", "--yes", timeout=1200)
        assert ledger(s)["state"] == "completed"
        assert task_env(s, "globex")["SAASCTL_CONFIG_VERSION"] == "c1"
        flags = [config_of(s, t)["new_checkout"] for t in ("globex", "hooli", "acme")]
        assert flags == [True, False, False]


def task_env(s: Stack, tenant: str) -> dict[str, str]:
    """The environment of a tenant's web container, as ECS runs it."""
    ecs = s.client("ecs")
    shown = json.loads(s.saasctl("tenant", "show", tenant, "--json").stdout)
    web = shown["outputs"]["tenant"]["services"]["web"]
    [svc] = ecs.describe_services(cluster=web["cluster_arn"],
                                  services=[web["service_name"]])["services"]  # fmt: skip
    task = ecs.describe_task_definition(taskDefinition=svc["taskDefinition"])["taskDefinition"]
    return {e["name"]: e["value"] for e in task["containerDefinitions"][0].get("environment", [])}


def config_of(s: Stack, tenant: str) -> dict[str, object]:
    """The values a tenant's services read from its SSM parameter."""
    name = json.loads(s.saasctl("tenant", "config", "show", tenant, "--json").stdout)["parameter"]
    value = s.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    return json.loads(value)["values"]  # type: ignore[no-any-return]

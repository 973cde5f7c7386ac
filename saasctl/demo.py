"""`make demo`: the tenant lifecycle end to end on the embedded AWS emulator.

Runs the real CLI (one process per command, as an operator would) against a
moto server on a free loopback port, in a temporary copy of the project so the
working tree is untouched. Every step checks its exit code; the demo fails
loudly when one is not what it should be. SAASCTL_DEMO_KEEP=1 keeps the copy.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from saasctl import render
from saasctl.aws import Aws
from saasctl.backend import share_cache
from saasctl.emulator import moto_server
from saasctl.project import Environment, Project, find_root
from saasctl.terraform import find_binary

ENV = "local"
_TTY = sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _style(code: str, text: str) -> str:
    return f"\033[{code}m{text}\033[0m" if _TTY else text


def copy_project(root: Path, dest: Path) -> None:
    for part in ("templates", "terraform/modules"):
        shutil.copytree(root / part, dest / part, symlinks=True)
    (dest / "terraform/envs" / ENV).mkdir(parents=True)
    shutil.copy2(root / "terraform/envs" / ENV / "env.yaml", dest / "terraform/envs" / ENV)
    share_cache(root / ".saasctl", dest / ".saasctl")


class Demo:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.steps = 0

    def run(self, *args: str, expect: int = 0, show: bool = True) -> str:
        self.steps += 1
        print("\n" + _style("1", f"$ saasctl {shlex.join(args)}"), flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "saasctl", *args],
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            text=True,
        )
        if show and proc.stdout:
            print(proc.stdout, end="", flush=True)
        if proc.returncode != expect:
            raise SystemExit(
                f"demo failed: `saasctl {shlex.join(args)}` exited {proc.returncode}, "
                f"expected {expect}"
            )
        print(_style("2", f"(exit {proc.returncode}, as expected)"), flush=True)
        return proc.stdout


def show_services(environment: Environment, url: str) -> None:
    """The ECS services terraform created, read back from the emulator with boto3:
    with an endpoint, the offline provider keeps ECS (and other) resources there."""
    print("\n# the tenants' ECS services, listed from the emulator through AWS's API")
    os.environ["AWS_ENDPOINT_URL"] = url  # the one client factory honours it
    ecs = Aws(environment.spec).client("ecs")
    rows = []
    for cluster in sorted(ecs.list_clusters()["clusterArns"]):
        arns = ecs.list_services(cluster=cluster)["serviceArns"]
        if arns:
            for svc in ecs.describe_services(cluster=cluster, services=arns)["services"]:
                task = svc["taskDefinition"].rsplit("/", 1)[-1]
                name, status, desired = svc["serviceName"], svc["status"], svc["desiredCount"]
                rows.append((cluster.rsplit("/", 1)[-1], name, status, desired, task))
    if not rows:
        raise SystemExit("demo failed: no ECS service exists in the emulator")
    print(f"{'cluster':<28}{'service':<24}{'status':<9}{'desired':<9}task definition")
    for row in rows:
        print(f"{row[0]:<28}{row[1]:<24}{row[2]:<9}{row[3]:<9}{row[4]}")


def ship_releases(d: Demo, environment: Environment, url: str, checked: bool) -> None:
    """A release shipped in waves (canary tenant, pool, advanced, premium), then a
    bad one: its canary's alarm fires, the rollout halts and rolls the canary back."""
    print("\n# a release: reviewed images, rolled out wave by wave behind health gates")
    d.run("release", "create", "2.0.0", *_images("2.0.0"))
    d.run("release", "plan", "2.0.0", expect=2)
    d.run("release", "rollout", "2.0.0", "--yes")
    d.run("release", "status")
    if not checked:
        print("\n# (stand-in modules: no ECS service or alarm exists, health is not checked)")
        return
    os.environ["AWS_ENDPOINT_URL"] = url
    aws = Aws(environment.spec)
    shown = json.loads(d.run("tenant", "show", "globex", "--json", show=False))
    alarm = shown["outputs"]["tenant"]["services"]["web"]["alarm_names"][0]
    print(f"\n# 2.1.0 serves errors on the canary: its alarm {alarm} goes into ALARM,")
    print("# the rollout halts at the canary wave, rolls globex back and exits 1")
    aws.client("cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="ALARM", StateReason="demo: 5xx from 2.1.0"
    )
    d.run("release", "create", "2.1.0", *_images("2.1.0"))
    d.run("release", "rollout", "2.1.0", "--yes", expect=1)
    d.run("release", "status")
    releases = {t["id"]: t["release"] for t in json.loads(
        d.run("tenant", "list", "--json", show=False))["tenants"]}  # fmt: skip
    if set(releases.values()) != {"2.0.0"}:
        raise SystemExit(f"demo failed: after the halted rollout tenants run {releases}")
    print(f"# every tenant still runs 2.0.0: {releases}")
    aws.client("cloudwatch").set_alarm_state(
        AlarmName=alarm, StateValue="OK", StateReason="demo: fixed"
    )


def write_items(environment: Environment, url: str, tenant: str, table: str, n: int) -> None:
    """What the tenant's application would write (here straight through AWS's API)."""
    os.environ["AWS_ENDPOINT_URL"] = url
    ddb = Aws(environment.spec).dynamodb
    for i in range(n):
        item = {"tenantId": {"S": tenant}, "sk": {"S": f"order#{i:04d}"}, "total": {"N": str(i)}}
        ddb.put_item(TableName=table, Item=item)
    print(f"\n# the application wrote {n} orders of {tenant} to {table}")


def count_items(environment: Environment, url: str, tenant: str, table: str) -> int:
    os.environ["AWS_ENDPOINT_URL"] = url
    out = Aws(environment.spec).dynamodb.query(
        TableName=table, KeyConditionExpression="tenantId = :t",
        ExpressionAttributeValues={":t": {"S": tenant}}, Select="COUNT",
    )  # fmt: skip
    return int(out["Count"])


def desired_counts(environment: Environment, url: str, tenant: str, d: Demo) -> dict[str, int]:
    shown = json.loads(d.run("tenant", "show", tenant, "--json", show=False))
    os.environ["AWS_ENDPOINT_URL"] = url
    ecs = Aws(environment.spec).client("ecs")
    counts = {}
    for name, svc in sorted(shown["outputs"]["tenant"]["services"].items()):
        found = ecs.describe_services(cluster=svc["cluster_arn"], services=[svc["service_name"]])
        counts[name] = int(found["services"][0]["desiredCount"])
    return counts


def suspend_and_resume(d: Demo, environment: Environment, url: str, checked: bool) -> None:
    """A tenant cut off without losing anything, then back exactly as it was."""
    print("\n# suspending a tenant: 503 at the edge, users disabled, its services at zero")
    before = desired_counts(environment, url, "initech", d) if checked else {}
    d.run("tenant", "suspend", "initech", "--reason", "invoice overdue", expect=5)
    d.run("tenant", "suspend", "initech", "--reason", "invoice overdue", "--yes")
    d.run("tenant", "list")
    during = desired_counts(environment, url, "initech", d) if checked else {}
    d.run("tenant", "resume", "initech", "--yes")
    after = desired_counts(environment, url, "initech", d) if checked else {}
    if checked:
        print(f"\n# initech's desired counts: before {before}, suspended {during}, resumed {after}")
        if set(during.values()) != {0} or after != before:
            raise SystemExit(f"demo failed: desired counts {before} -> {during} -> {after}")


def ship_config(d: Demo, environment: Environment, url: str, checked: bool) -> None:
    """A feature flag turned on for one tenant: frozen into a config version and
    rolled out in the release waves, behind the same health gates."""
    print("\n# a feature flag: on for the canary tenant first, shipped as a config version")
    d.run("tenant", "config", "set", "globex", "new_checkout=true")
    d.run("config", "create", "c1", "--notes", "the new checkout, on the canary tenant")
    d.run("config", "plan", "c1", expect=2)
    d.run("config", "rollout", "c1", "--yes")
    d.run("tenant", "config", "show", "globex")
    if not checked:
        return
    os.environ["AWS_ENDPOINT_URL"] = url
    ssm = Aws(environment.spec).client("ssm")
    flags = {}
    for tenant in ("globex", "initech"):
        name = f"/saasctl/{environment.name}/tenants/{tenant}/config"
        flags[tenant] = json.loads(ssm.get_parameter(Name=name)["Parameter"]["Value"])["values"][
            "new_checkout"
        ]
    print(f"\n# new_checkout as their services read it from SSM: {flags}")
    if flags != {"globex": True, "initech": False}:
        raise SystemExit(f"demo failed: new_checkout is {flags}")


def keep_data(d: Demo, environment: Environment, url: str) -> None:
    """A tier move carries a tenant's items and users; offboarding exports them
    before anything is removed, and a restore brings them back."""
    config = json.loads(d.run("tenant", "show", "acme", "--json", show=False))["config"]
    pool_table = config["tables"]["orders"]
    write_items(environment, url, "acme", pool_table, 12)
    premium = json.loads(d.run("tenant", "show", "initech", "--json", show=False))["config"]
    write_items(environment, url, "initech", premium["tables"]["orders"], 8)
    print("\n# moving acme to premium carries its orders and its admin to its own table and pool")
    d.run("tenant", "set-tier", "acme", "--tier", "premium", "--yes")
    own = json.loads(d.run("tenant", "show", "acme", "--json", show=False))["config"]["tables"]
    moved = (count_items(environment, url, "acme", own["orders"]),
             count_items(environment, url, "acme", pool_table))  # fmt: skip
    print(f"\n# items of acme: {moved[0]} in {own['orders']}, {moved[1]} left in {pool_table}")
    d.run("tenant", "offboard", "acme", "--yes")
    d.run("tenant", "archives", "acme")
    d.run("tenant", "restore", "acme")
    d.run("tenant", "onboard", "acme", "--tier", "premium", "--yes")
    back = count_items(environment, url, "acme", own["orders"])
    print(f"\n# items of acme in {own['orders']} after the restore: {back}")
    if (*moved, back) != (12, 0, 12):
        raise SystemExit(f"demo failed: acme's items {moved} after the move, {back} restored")


# The demo's cap on rules per load balancer (a recorded quota value may be lower
# than AWS's: an operator's cap): with acme, globex and initech the first cell is
# full (two rules each, and the real pool's two probe rules).
CAPS = {"real": 8, "standin": 6}
SECOND_ACCOUNT = "210987654321"


def grow_cells(d: Demo) -> None:
    """The first cell is full for the demo's cap: a second cell in a second account of
    the emulator takes the next tenant; the quota gate refuses a plan in one line."""
    print("\n# AWS quotas: the first cell holds what its quotas allow (this demo caps rules")
    print("# per load balancer: `quotas:` in env.yaml); `cell list` shows its room per tier")
    d.run("cell", "list")
    print(f"\n# a second cell, in a second account ({SECOND_ACCOUNT}) through a role there")
    d.run("cell", "add", "c2", "--account", SECOND_ACCOUNT,
          "--role-arn", f"arn:aws:iam::{SECOND_ACCOUNT}:role/saasctl-cell")  # fmt: skip
    d.run("apply", "--shared-only", "--cell", "c2", "--yes")
    print("\n# the next tenant does not fit in main: it is placed into c2")
    d.run("tenant", "onboard", "hooli", "--tier", "basic", "--yes",
          "--admin-email", "admin@hooli.example.com")  # fmt: skip
    placed = json.loads(d.run("tenant", "show", "hooli", "--json", show=False))["config"]["cell"]
    if placed != "c2":
        raise SystemExit(f"demo failed: hooli was placed into {placed}, not c2")
    d.run("cell", "list")
    d.run("cell", "show", "c2")
    print("\n# a plan that would pass a quota is refused in one line, before AWS would (exit 1)")
    d.run("tenant", "onboard", "umbrella", "--tier", "basic", "--cell", "main", "--plan-only",
          expect=1)  # fmt: skip


def _images(version: str) -> list[str]:
    return ["--image", f"web=registry.example.com/web:{version}",
            "--image", f"api=registry.example.com/api:{version}"]  # fmt: skip


def main() -> int:
    root = find_root()
    binary = find_binary()
    environment = Project(root).load_env(ENV)
    which, provider = render.module_set(environment), render.aws_provider(environment)
    line = "=" * 78
    print(line)
    print(f"saasctl demo: {binary.describe()}")
    if which == "real" and provider == "mirror":
        print("modules: REAL AWS modules (hashicorp/aws from $SAASCTL_PROVIDER_MIRROR)")
    elif which == "real":
        print("modules: REAL AWS modules, planned and applied by terraform with saasctl's")
        print("         OFFLINE AWS provider (the real provider's schema; no AWS access here):")
        print("         NO AWS RESOURCE IS CREATED. ECS, CloudWatch, DynamoDB, Cognito, S3,")
        print("         SSM and log group resources live in the emulator, the rest in state.")
        print("         State, locks and archives are real S3 objects in the emulator.")
    else:
        print("modules: STAND-IN modules (null provider) - the hashicorp/aws provider cannot")
        print("         be installed here, so no AWS resource is modelled, only orchestration:")
        print("         real terraform, real S3 state, locks and archives in the emulator")
    print(line, flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="saasctl-demo-") as tmp:
        work = Path(tmp)
        copy_project(root, work)
        env_file = work / "terraform/envs" / ENV / "env.yaml"
        cap = CAPS["real" if which == "real" else "standin"]
        env_file.write_text(env_file.read_text() + f"quotas:\n  alb_rules: {cap}\n")
        with moto_server(log=work / "moto.log") as url:
            print(f"emulator: moto on {url} (stopped at the end)", flush=True)
            env = {
                **os.environ,
                "SAASCTL_ROOT": str(work),
                "AWS_ENDPOINT_URL": url,
                "SAASCTL_ENV": ENV,
                "SAASCTL_TERRAFORM": binary.path,
            }
            d = Demo(env)
            d.run("bootstrap")
            d.run("apply", "--shared-only", "--yes")
            d.run("tenant", "onboard", "acme", "--tier", "basic", "--yes",
                  "--admin-email", "admin@acme.example.com")  # fmt: skip
            d.run("tenant", "onboard", "globex", "--tier", "advanced", "--tag", "Ring=canary",
                  "--yes")  # fmt: skip
            d.run("tenant", "onboard", "initech", "--tier", "premium", "--yes",
                  "--admin-email", "ops@initech.example.com")  # fmt: skip
            d.run("tenant", "list")
            d.run("tenant", "show", "globex")
            if which == "real" and provider == "offline":
                show_services(environment, url)
            grow_cells(d)
            ship_releases(d, environment, url, checked=which == "real" and provider == "offline")
            suspend_and_resume(d, environment, url,
                               checked=which == "real" and provider == "offline")  # fmt: skip
            ship_config(d, environment, url, checked=which == "real" and provider == "offline")
            print("\n# re-running an onboard is a no-op plan: exit 0")
            d.run("tenant", "onboard", "acme", "--tier", "basic", "--plan-only")
            print("\n# moving a tier without --yes and without a terminal is refused: exit 5")
            d.run("tenant", "set-tier", "globex", "--tier", "premium", expect=5)
            d.run("tenant", "set-tier", "globex", "--tier", "premium", "--yes")
            if which == "real" and provider == "offline":
                keep_data(d, environment, url)
            d.run("tenant", "offboard", "acme", "--yes")
            d.run("tenant", "archives", "acme")
            d.run("plan")
            listing = json.loads(d.run("tenant", "list", "--json", show=False))
            print("\n# bad input gets one line and exit 3, nothing written")
            d.run("tenant", "onboard", "../etc", "--tier", "basic", expect=3)
            d.run("tenant", "onboard", "hooli", "--tier", "platinum", expect=3)
            if os.environ.get("SAASCTL_DEMO_KEEP"):
                kept = Path(tempfile.mkdtemp(prefix="saasctl-demo-kept-"))
                shutil.copytree(work, kept, dirs_exist_ok=True, symlinks=True)
                print(f"\nkept the demo's project copy at {kept}")
    statuses = {t["id"]: (t["tier"], t["status"]) for t in listing["tenants"]}
    print(f"\n{line}\nend state: {statuses}")
    print(
        f"demo passed: {d.steps} commands in {time.monotonic() - started:.1f}s; "
        "emulator stopped, temporary project removed"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Soak: N onboard/offboard cycles of random tiers on the local backend (moto),
then every state object, archive, claim and lock accounted for.

Tenant ids come from a small pool, so ids are reused after offboarding and
archives of one id accumulate. Seeded: the same seed replays the same run.

Usage: .venv/bin/python bench/soak.py [--cycles 100] [--seed 7]   (about 8 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from fleet import copy_project  # noqa: E402  (bench/fleet.py)

from saasctl.emulator import moto_server  # noqa: E402
from saasctl.terraform import find_binary  # noqa: E402

TIERS = ("basic", "advanced", "premium")
BUCKET = "saasctl-local-tfstate"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cycles", type=int, default=100)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--pool", type=int, default=8, help="distinct tenant ids")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    with tempfile.TemporaryDirectory(prefix="saasctl-soak-") as tmp, moto_server() as url:
        root = copy_project(Path(tmp))  # stand-in modules, as the fleet benchmark
        env = {**os.environ, "SAASCTL_ROOT": str(root), "AWS_ENDPOINT_URL": url,
               "SAASCTL_TERRAFORM": find_binary().path, "NO_COLOR": "1"}  # fmt: skip

        def saasctl(*a: str) -> subprocess.CompletedProcess[str]:
            proc = subprocess.run([sys.executable, "-m", "saasctl", *a], env=env,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
            if proc.returncode != 0:
                raise SystemExit(f"soak failed: saasctl {' '.join(a)} -> {proc.returncode}\n"
                                 f"{proc.stderr}")  # fmt: skip
            return proc

        s3 = boto3.client("s3", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip

        def keys(prefix: str) -> list[str]:
            pages = s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix)
            return [o["Key"] for p in pages for o in p.get("Contents", [])]

        saasctl("bootstrap")
        saasctl("apply", "--shared-only", "--yes")
        live: dict[str, str] = {}
        offboards: Counter[str] = Counter()
        onboards = 0
        started = time.monotonic()
        pool = [f"soak{i:02d}" for i in range(args.pool)]
        for cycle in range(1, args.cycles + 1):
            free = [t for t in pool if t not in live]
            tenant, tier = rng.choice(free), rng.choice(TIERS)
            saasctl("tenant", "onboard", tenant, "--tier", tier, "--yes")
            live[tenant] = tier
            onboards += 1
            # keep a few tenants live, so offboards hit older tenants too
            while len(live) > 3:
                leaving = rng.choice(sorted(live))
                out = json.loads(saasctl("tenant", "offboard", leaving, "--yes", "--json").stdout)
                assert out["archive"], out
                live.pop(leaving)
                offboards[leaving] += 1
            if cycle % 10 == 0:
                print(f"  cycle {cycle}: {len(live)} live, {time.monotonic() - started:.0f}s",
                      flush=True)  # fmt: skip
        listed = json.loads(saasctl("tenant", "list", "--json").stdout)["tenants"]
        states = sorted(k.split("/")[2] for k in keys("local/tenants/")
                        if k.endswith("terraform.tfstate"))  # fmt: skip
        locks = [k for k in keys("local/") if k.endswith("saasctl.lock")]
        claims = keys("local/priorities/")
        archives = Counter(k.split("/")[3] for k in keys("archive/local/tenants/"))
        priorities = [t["listener_priority"] for t in listed]
        checks = {
            "tenants listed == live": sorted(t["id"] for t in listed) == sorted(live),
            "all applied": all(t["status"] == "applied" for t in listed),
            "state objects == live tenants": states == sorted(live),
            "archives per id == offboards per id": archives == offboards,
            "claims == live tenants": len(claims) == len(live)
            and {int(c.rsplit("/", 1)[1].split(".")[0]) for c in claims} == set(priorities),
            "no lock left": not locks,
            "distinct priorities": len(set(priorities)) == len(priorities),
        }
        took = time.monotonic() - started
        print(f"soak: {args.cycles} cycles (seed {args.seed}, {args.pool} ids) in {took:.0f}s: "
              f"{onboards} onboards, {sum(offboards.values())} offboards")  # fmt: skip
        print(f"  live tenants {len(live)}, state objects {len(states)}, archives "
              f"{sum(archives.values())} over {len(archives)} ids, claims {len(claims)}, "
              f"locks {len(locks)}")  # fmt: skip
        for name, ok in checks.items():
            print(f"  {'ok  ' if ok else 'FAIL'} {name}")
        return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())

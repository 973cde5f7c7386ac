#!/usr/bin/env python3
"""Cells benchmark: ratios measured side by side in one run.

  (i) onboard of the last tenant a cell holds against its first: real modules
      through the offline provider, on a moto server this script starts, basic
      tenants (the pool's), AWS's default quotas: the cell holds 49 of them
      (rules per load balancer). Medians of the first three and the last three
      onboards; target <= 1.2. Before rate limits scaled, every onboard
      re-planned and re-applied the shared stack, whose web ACL grew with the
      fleet: about 3x at 30 tenants.
  (j) placement, rendering and quota accounting of 10,000 tenants (70% basic,
      20% advanced, 10% premium) over as many cells as they need, in memory,
      with the footprints of the real modules' plans (tests/fixtures/plans):
      against 5 s.

Usage: .venv/bin/python bench/cells.py [--quick] [--only-placement]
  --quick: (i) with a cap of 22 rules per load balancer (10 tenants a cell)
(full run: about 5 minutes on 2 cores)
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from saasctl import cells, quotas, render  # noqa: E402
from saasctl.backend import offline_aws_available, share_cache  # noqa: E402
from saasctl.emulator import moto_server  # noqa: E402
from saasctl.project import Cell, Project  # noqa: E402
from saasctl.specs import CellSpec, Network, TenantSpec, Tier  # noqa: E402

PLANS = REPO / "tests" / "fixtures" / "plans"
MIX = ((Tier.BASIC, 0.7), (Tier.ADVANCED, 0.2), (Tier.PREMIUM, 0.1))


def onboard_first_and_last(quick: bool) -> tuple[float, float, int]:
    """(median of the first three onboards, of the last three, tenants the cell holds)."""
    if not offline_aws_available(REPO / ".saasctl"):
        raise SystemExit("(i) needs the offline provider's schema: run `make setup`")
    with tempfile.TemporaryDirectory(prefix="saasctl-bench-cells-") as tmp, moto_server() as url:
        root = Path(tmp)
        for part in ("templates", "terraform/modules"):
            shutil.copytree(REPO / part, root / part, symlinks=True)
        (root / "terraform/envs/local").mkdir(parents=True)
        text = (REPO / "terraform/envs/local/env.yaml").read_text()
        if quick:
            text += "quotas:\n  alb_rules: 22\n"
        (root / "terraform/envs/local/env.yaml").write_text(
            text.replace("modules: auto", "modules: real")
        )
        share_cache(REPO / ".saasctl", root / ".saasctl")
        env = {**os.environ, "SAASCTL_ROOT": str(root), "AWS_ENDPOINT_URL": url, "NO_COLOR": "1"}

        def saasctl(*args: str) -> float:
            start = time.perf_counter()
            proc = subprocess.run([sys.executable, "-m", "saasctl", "-q", *args], env=env,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL)  # fmt: skip
            if proc.returncode != 0:
                raise SystemExit(f"saasctl {' '.join(args)}: {proc.stderr[-1500:]}")
            return time.perf_counter() - start

        saasctl("bootstrap")
        saasctl("apply", "--shared-only", "--yes")
        times: list[float] = []
        n = 0
        while True:  # onboard until the next one would not fit in the first cell
            rows = json.loads(subprocess.run(
                [sys.executable, "-m", "saasctl", "cell", "show", "main", "--json"], env=env,
                capture_output=True, text=True, check=True).stdout)["room"]  # fmt: skip
            if n and rows["basic"]["tenants"] == 0:
                break
            n += 1
            times.append(saasctl("tenant", "onboard", f"t{n:03d}", "--tier", "basic", "--yes"))
            print(f"  onboard {n}: {times[-1]:.2f}s", flush=True)
        return statistics.median(times[:3]), statistics.median(times[-3:]), n


def fleet_of(n: int) -> list[tuple[str, Tier]]:
    out = []
    for i in range(n):
        share = (i * 7919) % 100 / 100  # spread the tiers through the list
        tier = Tier.BASIC if share < MIX[0][1] else (
            Tier.ADVANCED if share < MIX[0][1] + MIX[1][1] else Tier.PREMIUM)  # fmt: skip
        out.append((f"t{i:05d}", tier))
    return out


def placement(n: int) -> dict[str, float]:
    """Seconds of each step for n tenants, in memory."""
    env = Project(REPO).load_env("local")
    first = env.first_cell

    def usage(name: str) -> quotas.Usage:
        plan = json.loads(gzip.decompress((PLANS / f"{name}.plan.json.gz").read_bytes()))
        where = quotas.Where(name, first.name, first.spec.account_id, first.spec.region)
        return quotas.count(quotas.from_plan(plan), where)

    shared, tiers = usage("shared"), {t: usage(t.value) for t in Tier}
    fleet = fleet_of(n)
    out: dict[str, float] = {}

    start = time.perf_counter()
    # Enough cells, each in an account of its own (49 dedicated tenants per account:
    # Cloud Map namespaces), as an operator would add them.
    pool = [Cell(env, CellSpec(name=f"c{i}", account_id=f"{100000000000 + i}",
                               region=first.spec.region,
                               network=Network(vpc_cidr="10.0.0.0/16", azs=list(
                                   env.spec.network.azs))), i == 0)
            for i in range(n // 20 + 1)]  # fmt: skip
    limits = quotas.Limits.of()
    empty = []
    for cell in pool:
        own = {k: {cells._scope_in(cell, quotas.BY_KEY[k].scope): sum(v.values())}
               for k, v in shared.items() if quotas.BY_KEY[k].scope in cells.PLACED_BY}  # fmt: skip
        empty.append(cells.CellUsage(cell, own, limits, {}))
    placed, after = cells.plan_placement(empty, [(t, tier.value, tiers[tier]) for t, tier in fleet])
    out["placement"] = time.perf_counter() - start
    assert all(placed.values()), "a tenant found no cell"
    used = [c for c in after if any(c.tiers.values())]
    print(f"  {n} tenants over {len(used)} cells; the first holds "
          f"{after[0].tiers} ")  # fmt: skip

    start = time.perf_counter()
    by_cell: dict[str, list[TenantSpec]] = {}
    specs = []
    for i, (tenant_id, tier) in enumerate(fleet):
        spec = TenantSpec(id=tenant_id, tier=tier, listener_priority=100 + 10 * (i % 4000),
                          cell=placed[tenant_id])  # fmt: skip
        specs.append(spec)
        by_cell.setdefault(str(placed[tenant_id]), []).append(spec)
    for spec in specs:
        render.render_tenant(env, spec)
    for cell in used:
        render.render_shared(env, cell.cell, by_cell.get(cell.cell.name, []))
    out["rendering"] = time.perf_counter() - start

    start = time.perf_counter()
    # Accounting: every workspace's recorded usage summed per cell, checked.
    for cell in used:
        members = [tiers[s.tier] for s in by_cell.get(cell.cell.name, [])]
        total = quotas.add(shared, *members)
        list(quotas.excesses(total, limits))
    out["accounting"] = time.perf_counter() - start
    return out


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="(i) with 10 tenants a cell")
    parser.add_argument("--only-placement", action="store_true", help="measure (j) alone")
    args = parser.parse_args()
    misses = []
    print(f"saasctl cells benchmark: {os.cpu_count()} cores")
    print("(j) placement, rendering and quota accounting of 10,000 tenants, in memory")
    steps = placement(10_000)
    total = sum(steps.values())
    print("  " + ", ".join(f"{k} {v:.3f}s" for k, v in steps.items()) + f"; total {total:.3f}s")
    print(f"j  10,000 tenants: {total:.3f}s against 5 s: ratio {total / 5:.2f} (target < 1)")
    if total >= 5:
        misses.append("j")
    if not args.only_placement:
        print("(i) onboard of the last tenant a cell holds vs its first (real modules, offline)")
        first, last, n = onboard_first_and_last(args.quick)
        print(f"i  onboard of tenant {n} (the cell's last) vs the first: {last:.2f}s / "
              f"{first:.2f}s = {last / first:.2f} (target <= 1.2)")  # fmt: skip
        if last / first > 1.2:
            misses.append("i")
    print("misses: " + (", ".join(misses) if misses else "none"))
    return 1 if misses else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Fidelity of saasctl's offline AWS provider on Terraform code nobody here wrote.

Runs each directory (a module example, a root module) through init, validate,
plan, apply, a re-plan that must show no changes, and destroy, with terraform
using the offline providers exactly as `eval "$(saasctl offline env)"` sets them
up, on a copy (the directories are not touched). Prints a table of the stages
each passed, and the first error of each that failed.

    .venv/bin/python bench/conformance.py DIR... [--modules CHECKOUTS] [--jobs N]
    .venv/bin/python bench/conformance.py --sets CHECKOUT... --modules CHECKOUTS

``--sets`` takes module repositories (fetched checkouts) and runs every
directory under their ``examples/``, then prints a Markdown table per set (the
one in docs/offline.md). ``--modules DIR`` serves registry module sources
(``terraform-aws-modules/vpc/aws``) from the checkouts in DIR through the same
local registry as `saasctl offline env --modules`, so the examples' sources are
not edited; ``--map-source ADDRESS=CHECKOUT`` rewrites one source instead.
Nothing is downloaded. Exit 0 when every directory passed every stage, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from saasctl import lifecycle
from saasctl.offline_aws import registry
from saasctl.project import Project
from saasctl.terraform import find_binary

REPO = Path(__file__).resolve().parents[1]


def examples_of(checkout: Path) -> list[Path]:
    return sorted(p for p in (checkout / "examples").iterdir() if any(p.glob("*.tf")))


def set_name(directory: Path) -> str:
    """terraform-aws-modules+terraform-aws-vpc/examples/simple -> vpc"""
    repo = directory.parent.parent.name.rsplit("+", 1)[-1]
    return repo.removeprefix("terraform-aws-")


def markdown(outcomes: list[lifecycle.Outcome]) -> str:
    sets: dict[str, list[lifecycle.Outcome]] = {}
    for o in outcomes:
        sets.setdefault(set_name(Path(o.directory)), []).append(o)
    lines = [
        "| module set | examples through all six stages | where the others stop |",
        "|---|---|---|",
    ]
    for name, group in sorted(sets.items()):
        failed = [o for o in group if not o.ok]
        why = "; ".join(
            f"`{Path(o.directory).name}`: {o.first_error()[:160].replace('|', '/')}" for o in failed
        )
        lines.append(f"| {name} | {len(group) - len(failed)} of {len(group)} | {why} |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directories", nargs="*", type=Path)
    parser.add_argument("--sets", nargs="+", type=Path, default=[], metavar="CHECKOUT",
                        help="module repositories: run every example of each")  # fmt: skip
    parser.add_argument("--modules", action="append", type=Path, default=[], metavar="DIR",
                        help="serve registry module sources from these checkouts")  # fmt: skip
    parser.add_argument("--map-source", action="append", default=[], metavar="ADDRESS=DIR")
    parser.add_argument("--jobs", type=int, default=1, help="directories run at once")
    parser.add_argument("--terraform", help="terraform binary (default: as saasctl finds it)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    directories = [*args.directories, *(d for s in args.sets for d in examples_of(s))]
    if not directories:
        parser.error("name directories, or module sets with --sets")
    sources = {}
    for item in args.map_source:
        address, _, checkout = item.partition("=")
        sources[address] = Path(checkout).resolve()
    env = Project(REPO).load_env("local")
    modules = [m.resolve() for m in args.modules] or None
    key = registry.key_of(modules) if modules else ""
    ours = bool(modules) and not registry.running(env.project.cache, key)
    binary = find_binary(args.terraform)
    tf = lifecycle.offline_terraform(env, binary, modules, timeout=900)
    print(f"offline AWS provider conformance: {binary.describe()}", file=sys.stderr)
    try:
        with tempfile.TemporaryDirectory(prefix="saasctl-conformance-") as tmp:

            def one(item: tuple[int, Path]) -> lifecycle.Outcome:
                i, directory = item
                workdir = lifecycle.prepare(directory, Path(tmp) / str(i), sources)
                outcome = lifecycle.run(tf, workdir)
                outcome.directory = str(directory)
                marks = " ".join(f"{s.name}:{'ok' if s.ok else 'FAIL'}" for s in outcome.stages)
                seconds = sum(s.seconds for s in outcome.stages)
                print(f"  {directory}: {marks} ({seconds:.0f} s)", file=sys.stderr, flush=True)
                return outcome

            with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
                outcomes = list(pool.map(one, enumerate(directories)))
    finally:
        if ours:  # the registry this run started, not a shell's
            registry.stop(env.project.cache, key)
    if args.json:
        print(json.dumps([{"directory": o.directory, "passed": o.passed,
                           "stages": [vars(s) for s in o.stages]} for o in outcomes],
                         indent=2))  # fmt: skip
    else:
        print_table(outcomes, markdown_too=bool(args.sets))
    return 0 if all(o.ok for o in outcomes) else 1


def print_table(outcomes: list[lifecycle.Outcome], markdown_too: bool) -> None:
    width = max(len(o.directory) for o in outcomes)
    print(f"{'directory':<{width}}  " + "  ".join(f"{s:<8}" for s in lifecycle.STAGES))
    for o in outcomes:
        cells = "  ".join(f"{'ok' if s.ok else 'FAIL':<8}" for s in o.stages)
        print(f"{o.directory:<{width}}  {cells}")
    total = len(outcomes) * len(lifecycle.STAGES)
    print(
        f"\nstages passed: {sum(o.passed for o in outcomes)}/{total}; "
        f"directories complete: {sum(o.ok for o in outcomes)}/{len(outcomes)}"
    )
    for o in outcomes:
        if not o.ok:
            print(f"  {o.directory}: {o.first_error()[:300]}")
    if markdown_too:
        print("\n" + markdown(outcomes))


if __name__ == "__main__":
    raise SystemExit(main())

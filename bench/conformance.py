"""Fidelity of saasctl's offline AWS provider on Terraform code nobody here wrote.

Runs each directory (a module example, a root module) through init, validate,
plan, apply, a re-plan that must show no changes, and destroy, with terraform
using the offline provider exactly as `eval "$(saasctl offline env)"` sets it up,
on a copy (the directories are not touched). Prints a table of the stages each
passed, and the first error of each that failed.

    .venv/bin/python bench/conformance.py DIR... [--map-source ADDRESS=CHECKOUT ...]

``--map-source terraform-aws-modules/vpc/aws=/path/to/terraform-aws-vpc`` points
registry module sources at local checkouts (nothing is downloaded). Exit 0 when
every directory passed every stage, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from saasctl import backend, lifecycle
from saasctl.aws import endpoint_for
from saasctl.project import Project
from saasctl.terraform import Terraform, find_binary

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("directories", nargs="+", type=Path)
    parser.add_argument("--map-source", action="append", default=[], metavar="ADDRESS=DIR")
    parser.add_argument("--terraform", help="terraform binary (default: as saasctl finds it)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    sources = {}
    for item in args.map_source:
        address, _, checkout = item.partition("=")
        sources[address] = Path(checkout).resolve()
    env = Project(REPO).load_env("local")
    shell = backend.offline_shell(env, endpoint_for(env.spec))
    shell.pop("AWS_ENDPOINT_URL", None)  # state-only: no emulator needed
    config = Path(shell.pop("TF_CLI_CONFIG_FILE"))
    binary = find_binary(args.terraform)
    tf = Terraform(binary, cli_config=config, env=shell, timeout=900)
    print(f"offline AWS provider conformance: {binary.describe()}", file=sys.stderr)
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="saasctl-conformance-") as tmp:
        for i, directory in enumerate(args.directories):
            workdir = lifecycle.prepare(directory, Path(tmp) / str(i), sources)
            outcome = lifecycle.run(tf, workdir)
            outcome.directory = str(directory)
            outcomes.append(outcome)
            marks = " ".join(f"{s.name}:{'ok' if s.ok else 'FAIL'}" for s in outcome.stages)
            print(f"  {directory}: {marks}", file=sys.stderr)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "directory": o.directory,
                        "passed": o.passed,
                        "stages": [vars(s) for s in o.stages],
                    }
                    for o in outcomes
                ],
                indent=2,
            )
        )
    else:
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
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    raise SystemExit(main())

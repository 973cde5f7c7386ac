"""Cells without AWS: cells.yaml read and refused by meaning, placement over cells
(full cells, a tier mix, room per tier), and the CLI's one line for an unknown
cell. The ledger, the race for a last slot and the gate against a real plan run
in tests/integration/test_cells.py."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from saasctl import cells, quotas
from saasctl.errors import NotFoundError, SpecError
from saasctl.project import Environment, Project
from tests.unit.test_cli_bad_input import assert_one_line_error

CELLS_YAML = """cells:
  - name: main
    account_id: "111122223333"
    region: eu-central-1
  - name: c2
    account_id: "444455556666"
    region: eu-central-1
    role_arn: arn:aws:iam::444455556666:role/saasctl-cell
    network: {vpc_cidr: 10.43.0.0/16, azs: [eu-central-1a, eu-central-1b]}
"""


def env_with(project: Path, cells_yaml: str | None) -> Environment:
    path = project / "terraform/envs/golden/cells.yaml"
    if cells_yaml is not None:
        path.write_text(cells_yaml)
    return Project(project).load_env("golden")


def test_without_cells_yaml_the_environment_is_one_cell(project: Path) -> None:
    env = env_with(project, None)
    [main] = env.cells()
    assert (main.name, main.first, main.label, main.pool_unit) == ("main", True, "shared", "pool")
    assert main.dir == env.dir / "shared"  # where the environment's shared workspace was
    assert main.state_key == "golden/shared/terraform.tfstate"
    assert main.network == env.spec.network


def test_cells_keep_their_own_places(project: Path) -> None:
    env = env_with(project, CELLS_YAML)
    main, c2 = env.cells()
    assert main.state_key == "golden/shared/terraform.tfstate"
    assert (c2.label, c2.pool_unit) == ("shared@c2", "pool@c2")
    assert c2.dir == env.dir / "cells" / "c2"
    assert c2.state_key == "golden/cells/c2/terraform.tfstate"
    assert c2.lock_key == "golden/cells/c2/saasctl.lock"
    assert c2.priority_claims_prefix == "golden/cells/c2/priorities/"
    assert main.priority_claims_prefix == "golden/priorities/"
    assert env.lock_key("shared@c2") == c2.lock_key
    with pytest.raises(NotFoundError, match=r"cell 'nope' not found .* \(known: main, c2\)"):
        env.cell("nope")


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda t: t.replace("name: c2", "name: main"), "names must be unique"),
        (lambda t: t.replace("role/saasctl-cell", "role/x").replace(
            "444455556666:role", "999999999999:role"), "is a role of account 999999999999"),
        (lambda t: t.replace("    network: {vpc_cidr: 10.43.0.0/16, azs: [eu-central-1a, "
                             "eu-central-1b]}\n", ""), "c2: network is required"),
        (lambda t: t + "    quotas: {waf_rate_rules: 20}\n", "fixed quota of 10"),
        (lambda t: t.replace("  - name: c2", "    quotas: {iam_roles: 2000}\n  - name: c2")
         .replace('account_id: "444455556666"', 'account_id: "111122223333"')
         .replace("444455556666:role", "111122223333:role") + "    quotas: {iam_roles: 3000}\n",
         "recorded as both 2000 and 3000"),
        (lambda t: t.replace("name: c2", "name: C2"), "should match pattern"),
    ],
)  # fmt: skip
def test_bad_cells_yaml_is_one_line_naming_the_file(project: Path, edit: Any, message: str) -> None:
    with pytest.raises(SpecError) as exc:
        env_with(project, edit(CELLS_YAML)).cells()
    assert "terraform/envs/golden/cells.yaml" in exc.value.one_line()
    assert message in exc.value.one_line()


def _cell_usage(env: Environment, name: str, limits: quotas.Limits) -> cells.CellUsage:
    return cells.CellUsage(env.cell(name), {}, limits, {})


def test_placement_fills_cells_in_order_per_tier(project: Path) -> None:
    env = env_with(project, CELLS_YAML)
    limits = quotas.Limits.of({"alb_rules": 6, "alb_target_groups": 4})
    where = quotas.Where("x", "main", "111122223333", "eu-central-1")
    basic = {"alb_rules": {where.scope_id(quotas.Scope.ALB): 2}}
    advanced = {"alb_rules": {where.scope_id(quotas.Scope.ALB): 2},
                "alb_target_groups": {where.scope_id(quotas.Scope.ALB): 4}}  # fmt: skip
    tenants = [("b1", "basic", basic), ("a1", "advanced", advanced), ("b2", "basic", basic),
               ("a2", "advanced", advanced), ("b3", "basic", basic), ("b4", "basic", basic),
               ("b5", "basic", basic)]  # fmt: skip
    start = [_cell_usage(env, "main", limits), _cell_usage(env, "c2", limits)]
    placed, after = cells.plan_placement(start, tenants)
    # main: b1 and a1 (its 4 target groups), b2 (rules 6); c2: a2, b3, b4; b5: nowhere
    assert placed == {"b1": "main", "a1": "main", "b2": "main", "a2": "c2", "b3": "c2",
                      "b4": "c2", "b5": None}  # fmt: skip
    assert after[0].tiers == {"basic": 2, "advanced": 1}
    assert after[1].usage["alb_rules"] == {"cell c2": 6}  # counted at c2's own balancer
    assert cells.room(after[1], {"alb_rules": 2})[0] == 0
    n, binding = cells.room(start[1], {"alb_rules": 2, "alb_target_groups": 4})
    assert (n, binding) == (1, "Target groups per Application Load Balancer")


def test_an_unknown_cell_is_one_line_before_aws(project: Path, run_cli: Any) -> None:
    result = run_cli("tenant", "onboard", "acme", "--tier", "basic", "--cell", "nope",
                     "--env", "golden")  # fmt: skip
    assert_one_line_error(result, 3, "cell 'nope' not found in environment 'golden'")
    result = run_cli("cell", "show", "nope", "--env", "golden")
    assert_one_line_error(result, 3, "cell 'nope' not found")

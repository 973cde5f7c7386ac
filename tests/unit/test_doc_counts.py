"""The counts the docs give of the tests are the tests' own: the crash scenarios,
and the concurrency tests and those of them run beside busy loops."""

from __future__ import annotations

import inspect
import re

from tests.conftest import REPO
from tests.integration import test_concurrency
from tests.integration.test_crash_resume import SEED, scenarios

RELIABILITY = (REPO / "docs/reliability.md").read_text()


def test_the_crash_scenarios_are_counted_as_the_test_runs_them() -> None:
    said = {int(n) for n in re.findall(r"(\d+) scenarios", RELIABILITY)}
    said |= {int(a) for a, b in re.findall(r"(\d+) of (\d+)\)", RELIABILITY) if a == b}
    assert said == {len(scenarios(SEED))}


def test_the_concurrency_tests_and_their_busy_loops_are_counted() -> None:
    tests = {name: fn for name, fn in vars(test_concurrency).items()
             if name.startswith("test_") and callable(fn)}  # fmt: skip
    loaded = [n for n, fn in tests.items() if "cpu_hog" in inspect.signature(fn).parameters]
    claim = re.search(r"test_concurrency\.py`: (\d+) tests; the (\d+)\s+races", RELIABILITY)
    assert claim, "docs/reliability.md no longer counts the concurrency tests"
    assert (int(claim.group(1)), int(claim.group(2))) == (len(tests), len(loaded))

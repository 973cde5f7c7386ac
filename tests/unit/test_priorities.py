import hashlib
import random

import pytest

from saasctl.errors import ConflictError
from saasctl.priorities import allocate, block_starts, check_fits
from saasctl.specs import ListenerPriorities

CFG = ListenerPriorities(first=100, last=199, block=10)


def test_lowest_free_block_and_gap_reuse() -> None:
    assert allocate(CFG, []) == 100
    assert allocate(CFG, [100, 110]) == 120
    assert allocate(CFG, [100, 120]) == 110  # a freed block is reused


def test_taken_priority_inside_a_block_blocks_it() -> None:
    assert allocate(CFG, [105]) == 110


def test_exhaustion_is_a_clear_error() -> None:
    taken = list(block_starts(CFG))
    assert len(taken) == 10
    with pytest.raises(ConflictError, match="no free listener priority block: all 10 blocks"):
        allocate(CFG, taken)


def test_many_allocations_never_collide() -> None:
    cfg = ListenerPriorities(first=1, last=50000, block=10)
    rng = random.Random(7)
    taken: list[int] = []
    for _ in range(2000):
        taken.append(allocate(cfg, taken))
        if rng.random() < 0.3:  # offboard someone
            taken.pop(rng.randrange(len(taken)))
    assert len(set(taken)) == len(taken)
    assert all(b - a >= 10 for a, b in zip(sorted(taken), sorted(taken)[1:], strict=False))


def test_a_thousand_tenants_get_distinct_blocks_where_hashing_collides() -> None:
    """The README's reason for allocating: 1,000 ids hashed into 5,000 blocks collide
    (the AWS reference's scheme); allocation gives 1,000 distinct blocks."""
    cfg = ListenerPriorities(first=1, last=50000, block=10)
    assert len(block_starts(cfg)) == 5000
    taken: list[int] = []
    for _ in range(1000):
        taken.append(allocate(cfg, taken))
    assert len(set(taken)) == 1000
    hashed = [int(hashlib.md5(f"tenant{i}".encode()).hexdigest(), 16) % 5000 for i in range(1000)]
    assert len(set(hashed)) < 1000


def test_check_fits() -> None:
    check_fits(CFG, 190, 2)
    with pytest.raises(ConflictError, match="outside"):
        check_fits(CFG, 195, 2)
    with pytest.raises(ConflictError, match="more than the 10"):
        check_fits(CFG, 100, 11)

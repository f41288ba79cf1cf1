import pytest

from ocrcore.sharding import pending_shards, plan_shards


def test_plan_covers_everything_once():
    plan = plan_shards(2001, 500)
    assert [s.name for s in plan] == [f"part-0000{i}.parquet" for i in range(5)]
    assert [(s.start, s.stop) for s in plan][-1] == (2000, 2001)
    assert sum(s.size for s in plan) == 2001
    assert plan == plan_shards(2001, 500)  # deterministic


@pytest.mark.parametrize("count,size", [(0, 10), (-5, 10), (10, 0), (10, -1), (1.5, 2), (True, 3)])
def test_plan_rejects_bad_numbers(count, size):
    with pytest.raises(ValueError, match="positive integer"):
        plan_shards(count, size)


def test_pending_skips_committed():
    plan = plan_shards(10, 3)
    assert [s.index for s in pending_shards(plan, ["part-00001.parquet", "other"])] == [0, 2, 3]

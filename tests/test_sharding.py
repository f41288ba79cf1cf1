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


def test_page_shards_group_sources_and_split_archives():
    from ocrcore.sharding import PageShard, plan_page_shards

    pages = [("a.tif", f"a.tif#{i}") for i in range(1, 6)] + [("b.png", "b.png#1"), ("c.png", "c.png#1")]
    plan = plan_page_shards(pages, 3)
    assert [s.size for s in plan] == [3, 3, 1]
    assert plan[1].items == (("a.tif", ("a.tif#4", "a.tif#5")), ("b.png", ("b.png#1",)))
    assert [p for s in plan for p in s.page_ids] == [p for _, p in pages]
    assert PageShard.from_dict(plan[1].to_dict()) == plan[1]
    assert plan_page_shards([], 3) == []

"""Pure shard planning and resume decisions, free of storage, Prefect and Dask.

A plan is a deterministic function of its inputs, so a rerun computes the same shards with the
same names, and a shard that already exists under its name can be skipped.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable


@dataclass(frozen=True)
class Shard:
    """Items ``[start, stop)`` of a run, written as ``name``."""

    index: int
    start: int
    stop: int
    name: str

    @property
    def size(self) -> int:
        return self.stop - self.start

    def to_dict(self) -> dict:
        return asdict(self)


def shard_name(index: int, suffix: str = ".parquet") -> str:
    return f"part-{index:05d}{suffix}"


def plan_shards(count: int, shard_size: int) -> list[Shard]:
    """Split ``count`` items into consecutive shards of at most ``shard_size`` items."""
    if not isinstance(count, int) or isinstance(count, bool) or count <= 0:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if not isinstance(shard_size, int) or isinstance(shard_size, bool) or shard_size <= 0:
        raise ValueError(f"shard size must be a positive integer, got {shard_size!r}")
    shards = []
    for i, start in enumerate(range(0, count, shard_size)):
        shards.append(Shard(i, start, min(start + shard_size, count), shard_name(i)))
    return shards


def pending_shards(plan: Iterable[Shard], committed: Iterable[str]) -> list[Shard]:
    """Shards of ``plan`` whose part file is not among the ``committed`` names."""
    done = set(committed)
    return [s for s in plan if s.name not in done]

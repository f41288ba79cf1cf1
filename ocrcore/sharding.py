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


@dataclass(frozen=True)
class PageShard:
    """A shard of pages: for each source URL (in order), the page ids it contributes."""

    index: int
    name: str
    items: tuple[tuple[str, tuple[str, ...]], ...]

    @property
    def size(self) -> int:
        return sum(len(ids) for _, ids in self.items)

    @property
    def page_ids(self) -> list[str]:
        return [pid for _, ids in self.items for pid in ids]

    def to_dict(self) -> dict:
        return {"index": self.index, "name": self.name, "items": [[s, list(ids)] for s, ids in self.items]}

    @classmethod
    def from_dict(cls, d: dict) -> "PageShard":
        return cls(int(d["index"]), d["name"], tuple((s, tuple(ids)) for s, ids in d["items"]))


def plan_page_shards(pages: Iterable[tuple[str, str]], shard_size: int) -> list[PageShard]:
    """Group ordered ``(source_url, page_id)`` pairs into shards of at most ``shard_size`` pages.

    A large archive may be split over several shards (each reads the stream and keeps its pages);
    several small files share one shard.
    """
    if not isinstance(shard_size, int) or isinstance(shard_size, bool) or shard_size <= 0:
        raise ValueError(f"shard size must be a positive integer, got {shard_size!r}")
    shards: list[PageShard] = []
    cur: list[tuple[str, list[str]]] = []
    n = 0

    def close() -> None:
        nonlocal cur, n
        if cur:
            i = len(shards)
            shards.append(PageShard(i, shard_name(i), tuple((s, tuple(ids)) for s, ids in cur)))
        cur, n = [], 0

    for src, pid in pages:
        if cur and cur[-1][0] == src:
            cur[-1][1].append(pid)
        else:
            cur.append((src, [pid]))
        n += 1
        if n >= shard_size:
            close()
    close()
    return shards

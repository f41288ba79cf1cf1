"""Planning shared by the flows that read page archives (preprocess, recognize).

Plain functions: list the sources and their page ids, plan page shards, and find the shards an
output prefix has already committed.
"""
from __future__ import annotations

from typing import Optional

from ocrcore import storage
from ocrcore.inputs import list_page_ids, list_sources
from ocrcore.sharding import PageShard, plan_page_shards


def plan_input(input_url: str, shard_size: int, storage_options: Optional[dict] = None) -> list[PageShard]:
    """Deterministic page shards for everything under ``input_url``."""
    pairs = []
    for src in list_sources(input_url, storage_options):
        for pid in list_page_ids(src, storage_options):
            pairs.append((src.url, pid))
    if not pairs:
        raise ValueError(f"no input files found at {storage.redact(input_url)}")
    return plan_page_shards(pairs, shard_size)


def committed(out: str, subdir: str, storage_options: Optional[dict] = None) -> set[str]:
    """Names of part files present under ``out/subdir``."""
    fs, path = storage.get_fs(storage.join(out, subdir), storage_options)
    try:
        if not fs.exists(path):
            return set()
        return {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path, detail=False)}
    except FileNotFoundError:
        return set()

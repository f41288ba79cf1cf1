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


def check_resumable(out: str, plan: list[PageShard], present: set[str], ident: dict,
                    storage_options: Optional[dict] = None, *, hint: str = "") -> None:
    """Refuse to resume into ``out`` unless its committed shards belong to this very run.

    A rerun skips the shards ``out`` already holds, by name. That is only right when the run that
    wrote them had the same identity (``ident``: input, model, parameters, as its
    ``_manifest.json`` records them) and planned the same pages under those names; otherwise
    pages would go missing or come twice, or be read by another model, without a word.
    ``hint``: what else the caller's user may do (e.g. add only new pages).
    """
    clash = [s for s in plan if s.name in present]
    if not clash:
        return
    where = storage.redact(out)
    then = f"; write to a new --out or delete the old output{', ' + hint if hint else ''}"
    try:
        old = storage.read_json(storage.join(out, "_manifest.json"), storage_options)
    except FileNotFoundError:
        raise ValueError(f"{where} holds part files ({clash[0].name}, ...) but no _manifest.json, so nothing "
                         f"says which pages they hold{then}") from None
    changed = [f"{k} was {old.get(k)!r}, now {v!r}" for k, v in ident.items() if old.get(k) != v]
    if changed:
        raise ValueError(f"{where} holds the output of another run ({'; '.join(changed)}){then}")
    planned = {d.get("name"): d for d in old.get("shards", []) if isinstance(d, dict)}
    moved = [s.name for s in clash if planned.get(s.name) != s.to_dict()]
    if moved:
        raise ValueError(f"the pages under the input changed since {where} was written: its {moved[0]} holds "
                         f"other pages than this run would put there (pages added, removed or renamed){then}")

"""Turn generated samples into dataset rows and whole Parquet shards (bytes in memory).

The flow calls :func:`build_shard` once per shard on a worker and writes the bytes with one PUT;
everything here is deterministic for ``(kind, seed, params, start, stop)``.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional

from ocrcore.datasets import rows_to_parquet_bytes
from ocrcore.imageio import encode_png
from ocrcore.synth.base import Sample

FORMAT_VERSION = 1


def sample_to_row(sample: Sample, kind: str) -> dict:
    """One dataset row (the schema of :mod:`ocrcore.datasets`) for a sample."""
    img = sample.image if sample.image.mode in ("L", "1") else sample.image.convert("L")
    row = {
        "id": sample.id,
        "image": {"bytes": encode_png(img), "path": f"{sample.id}.png"},
        "text": sample.text,
        "width": img.width,
        "height": img.height,
        "source": f"synth:{kind}",
    }
    if sample.chars or kind != "pages":
        row["chars"] = [{"text": t, "bbox": list(map(int, b))} for t, b in sample.chars]
    if sample.page is not None:
        row["lines"] = [
            {
                "text": line.text,
                "bbox": list(map(int, line.bbox)),
                "column": int(line.column),
                "words": [
                    {
                        "text": w.text,
                        "bbox": list(map(int, w.bbox)),
                        "chars": [{"text": c.text, "bbox": list(map(int, c.bbox))} for c in w.chars],
                    }
                    for w in line.words
                ],
            }
            for line in sample.page.lines
        ]
    return row


@dataclass
class ShardResult:
    data: bytes
    rows: int
    seconds: float
    samples: list[tuple[str, bytes]]


# Parameters added after datasets were already being written, with the value that draws exactly
# what was drawn before they existed: a shard written without the key matches one asking for
# that value, so a rerun after an upgrade resumes instead of refusing the old shards.
NEUTRAL_ADDITIONS = {
    "lines": {"symbols": 0.0, "cells": 0.0, "ligatures": 0.0, "typographic": 0.0, "typewriter": 0.0, "carbon": 0.0,
              "dotmatrix": 0.0},
    "pages": {"symbols": 0.0, "figures": 0.0, "underlines": 0.0, "tables": 0.0, "min_leading": 1.12,
              "max_leading": 1.45, "furniture": 0.0, "curl": 0.0,
              "show_through": 0.0, "ligatures": 0.0, "typographic": 0.0, "highlights": 0.0,
              "annotations": 0.0, "stamps": 0.0, "typewriter": 0.0, "carbon": 0.0, "dotmatrix": 0.0,
              "dotmatrix_lpi": 0},
}


def same_dataset(found: dict, ident: dict) -> bool:
    """Whether a shard's stored identity (``found``) is the dataset ``ident`` describes, allowing
    for :data:`NEUTRAL_ADDITIONS` missing from older shards."""
    if found == ident:
        return True
    fp, ip = found.get("params"), ident.get("params")
    if not isinstance(fp, dict) or not isinstance(ip, dict) or found.get("kind") != ident.get("kind"):
        return False
    filled = {**NEUTRAL_ADDITIONS.get(str(ident.get("kind")), {}), **fp}
    return {**found, "params": filled} == {**ident, "params": ip}


def shard_params(kind: str, seed: int, params: dict, count: int, shard_size: int) -> dict:
    """What identifies a synthetic dataset; stored in every shard so a resume can check it."""
    return {
        "kind": kind,
        "seed": int(seed),
        "params": params,
        "count": int(count),
        "shard_size": int(shard_size),
        "format_version": FORMAT_VERSION,
    }


def build_shard(
    kind: str,
    seed: int,
    params: dict,
    start: int,
    stop: int,
    *,
    count: Optional[int] = None,
    shard_size: Optional[int] = None,
    keep_samples: int = 0,
) -> ShardResult:
    """Generate items ``[start, stop)`` and serialise them as one Parquet shard."""
    from ocrcore.synth import make_generator

    t0 = time.perf_counter()
    gen = make_generator(kind, params)
    rows = [sample_to_row(gen(seed, i), kind) for i in range(start, stop)]
    meta = shard_params(kind, seed, params, count if count is not None else stop, shard_size or (stop - start))
    data = rows_to_parquet_bytes(rows, params=meta)
    samples = [(r["id"], r["image"]["bytes"]) for r in rows[:keep_samples]]
    return ShardResult(data, len(rows), time.perf_counter() - t0, samples)

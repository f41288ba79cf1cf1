"""What every synthetic generator returns, and how it is seeded.

A generator is a pure function of ``(seed, index, params)``: the same triple gives the same image
bytes and ground truth on any machine and in any shard, so shards can be planned, retried and
resumed independently.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from PIL import Image

from ocrcore.containers import BBox, Page


@dataclass
class Sample:
    """One synthetic image with exact ground truth.

    ``chars`` holds one ``(text, bbox)`` per non-space character, in reading order, with boxes in
    this image's pixel coordinates. ``page`` is set for whole pages only (lines, words, chars,
    reading order). ``meta`` records the generator parameters actually drawn (font, degradations,
    skew angle, ...), JSON-serialisable.
    """

    id: str
    image: Image.Image
    text: str
    chars: list[tuple[str, BBox]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    page: Optional[Page] = None


def sample_rng(seed: int, kind: str, index: int) -> np.random.Generator:
    """Independent, reproducible random stream for one sample of one kind."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(kind.encode()), int(index)])


def sample_id(kind: str, seed: int, index: int) -> str:
    """Stable id of a sample, e.g. ``lines-s0-000000042``."""
    return f"{kind}-s{seed}-{index:09d}"

"""Line images -> model input: scale to the model's height keeping aspect, pad batches.

Shared by training and inference so both see exactly the same pixels. Images are float32
arrays, 1.0 = white (as :func:`ocrcore.imageio.to_gray` returns); padding is white.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image
from scipy import ndimage as ndi

MIN_SIDE = 4  # pixels; smaller crops carry no readable text
RIGHT_MARGIN = 16  # white columns after each line in a batch (> the CRNN's receptive field overhang)


class LineImageError(ValueError):
    """A line image that cannot be fed to the model; ``reason`` is a short stable name."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def check_line_shape(shape: tuple, height: int, *, max_width: int | None = None) -> int:
    """Validate a line image's shape; returns its width once scaled to ``height``."""
    if len(shape) != 2:
        raise LineImageError(f"expected a 2-D grayscale line image, got shape {tuple(shape)}", "bad_shape")
    h, w = shape
    if h < MIN_SIDE or w < MIN_SIDE:
        raise LineImageError(f"line image {w}x{h} is too small (minimum {MIN_SIDE}x{MIN_SIDE})", "too_small")
    new_w = max(1, int(round(w * height / h)))
    if max_width is not None and new_w > max_width:
        raise LineImageError(
            f"line image {w}x{h} scales to width {new_w} at height {height}, above max_width {max_width} "
            "(is this a whole page or a vertical strip?)", "too_wide")
    return new_w


def scale_to_height(gray: np.ndarray, height: int, *, max_width: int | None = None) -> np.ndarray:
    """Resize a 2-D float image to ``height`` rows keeping its aspect ratio (antialiased).

    Raises :class:`LineImageError` (``too_small``, ``too_wide``, ``bad_shape``) instead of
    producing something meaningless.
    """
    a = np.asarray(gray)
    new_w = check_line_shape(a.shape, height, max_width=max_width)
    h, w = a.shape
    a = np.ascontiguousarray(a, dtype=np.float32)
    if (h, w) == (height, new_w):
        return a
    out = Image.fromarray(a).resize((new_w, height), Image.BILINEAR)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def pad_batch(images: Sequence[np.ndarray], min_width: int = 1, margin: int = RIGHT_MARGIN,
              multiple: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack same-height images into ``N x 1 x H x W`` (right-padded white) + true widths.

    Every line gets at least ``margin`` white columns after it, more than the conv stack's
    receptive field reaches, so a line's output does not depend on how wide its batch is.
    Widths below ``min_width`` (the model's width factor) count as ``min_width``, so every line
    yields at least one frame. ``multiple``: round the batch width up to a multiple of this, so
    batches share a few shapes (oneDNN caches its kernels per shape).
    """
    if not images:
        raise ValueError("pad_batch needs at least one image")
    h = images[0].shape[0]
    widths = [max(int(im.shape[1]), min_width) for im in images]
    width = max(widths) + margin
    width = -(-width // max(1, int(multiple))) * max(1, int(multiple))
    out = np.ones((len(images), 1, h, width), dtype=np.float32)
    for i, im in enumerate(images):
        if im.shape[0] != h:
            raise ValueError(f"all images of a batch need height {h}, got {im.shape[0]}")
        out[i, 0, :, : im.shape[1]] = im
    return torch.from_numpy(out), torch.tensor(widths, dtype=torch.long)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Compact cache form of a [0, 1] float image."""
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)


def from_uint8(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.0


# --------------------------------------------------------------------------------------------
# line geometry: where the text sits in the image

# The shipped geometry: baseline 1.8 x-heights below the image's top and 0.8 above its bottom,
# 0.6 x-heights of paper before and after the ink. Lines rendered alone (synthetic
# lines: medians 2.0 and 0.93) and lines cut from pages by our segmenter (1.73 and 0.71) both
# sit near it, so a model trained on either reads lines normalized to it.
LINE_NORM_DEFAULT = {"method": "text-band", "above": 1.8, "below": 0.8, "side": 0.6}
MIN_X_HEIGHT = 4  # pixels; below it a line is left as given


def ink_mask(gray: np.ndarray) -> tuple[np.ndarray, float] | None:
    """``(ink, paper)``: pixels darker than halfway between the paper and ink levels (99.5th and
    1st percentiles), and the paper level; None when the image has no contrast (blank)."""
    g = np.asarray(gray, dtype=np.float32)
    if g.ndim != 2 or g.size == 0:
        return None
    # the two percentiles from a 256-bin histogram: a tenth of the time of np.percentile's sort
    counts = np.bincount(np.clip(g * 255 + 0.5, 0, 255).astype(np.uint8).ravel(), minlength=256)
    cum = np.cumsum(counts)
    lo, hi = np.searchsorted(cum, [0.01 * g.size, 0.995 * g.size]) / 255.0
    return (g < (lo + hi) / 2, float(hi)) if hi - lo >= 0.15 else None


def text_band(ink: np.ndarray) -> tuple[float, float, int, int] | None:
    """``(baseline, x_height, top, bottom)`` in rows of a line's ink mask; None without ink.

    The baseline is the median bottom of the line's glyph-sized components (at least 30% of the
    tallest, so dots, commas and specks do not vote), the x-line their median top: most letters
    of running text are x-height letters, so the medians land there. ``top`` and ``bottom``
    bound the components that reach into the band between them (ascenders, descenders,
    brackets), not specks or strokes of a neighbouring line above or below it. None also where
    the x-height comes out under :data:`MIN_X_HEIGHT` pixels or the text reaches over three
    x-heights: faint type broken into fragments, whose medians measure nothing (re-framed to
    a 3-pixel "x-height", a faint held-out line read as garbage instead of two letters wrong).
    """
    labels, n = ndi.label(ink, structure=np.ones((3, 3), bool))
    if n == 0:
        return None
    objs = ndi.find_objects(labels)
    tops = np.fromiter((o[0].start for o in objs), np.int64, n)
    bottoms = np.fromiter((o[0].stop for o in objs), np.int64, n)
    heights = bottoms - tops
    big = heights >= max(3, 0.3 * heights.max())
    if not big.any():
        return None
    base = float(np.median(bottoms[big]))
    x_line = float(np.median(tops[big]))
    x_height = base - x_line
    if x_height < MIN_X_HEIGHT:
        return None  # too small to measure
    touching = (tops < base) & (bottoms > x_line)
    top, bottom = int(tops[touching].min()), int(bottoms[touching].max())
    if bottom - top > 3.0 * x_height:
        return None  # broken into fragments (faint type): no band found
    return base, x_height, top, bottom


def normalize_line(gray: np.ndarray, norm: dict | None = None) -> tuple[np.ndarray, int]:
    """The line re-framed to a fixed geometry around its text; returns ``(image, x_offset)``.

    Why: a CRNN reads text at the scale it learned, and scaling an image to the model's height
    makes the text's size depend on the margins it came with. Before this, the shipped model
    read 300 held-out lines at 1.14% CER as rendered, 7.84% cut to the ink and 51.8% with half
    a line height of white above and below; re-framed, 1.08%, 1.39% and 1.17%
    (``bench/bench_line_geometry.py``). Rows are cut, or padded with the image's paper level,
    so the baseline sits ``above`` x-heights below the top and ``below`` above the bottom,
    widened to keep all the text's ink (0.15 x-heights clear); the ink gets exactly ``side``
    x-heights of paper before and after it (a wide white margin made the model read a dash into
    it). ``x_offset`` is the number of columns added on the left (negative: cut): column ``x``
    of the result is column ``x - x_offset`` of the input. An image without a measurable text
    band comes back unchanged.
    """
    g = np.asarray(gray, dtype=np.float32)
    found = ink_mask(g)
    band = text_band(found[0]) if found is not None else None
    if band is None:
        return g, 0
    ink, paper = found
    p = {**LINE_NORM_DEFAULT, **(norm or {})}
    base, xh, ink_top, ink_bottom = band
    top = int(round(min(base - p["above"] * xh, ink_top - 0.15 * xh)))
    bottom = int(round(max(base + p["below"] * xh, ink_bottom + 0.15 * xh)))
    h, w = g.shape
    ink_cols = np.flatnonzero(ink[max(0, top): max(0, bottom)].any(axis=0))
    side = int(round(p["side"] * xh))
    x0, x1 = int(ink_cols[0]) - side, int(ink_cols[-1]) + 1 + side  # input columns kept (may overhang)
    out = np.full((bottom - top, x1 - x0), paper, np.float32)
    ya, yb, xa, xb = max(0, top), min(h, bottom), max(0, x0), min(w, x1)
    out[ya - top: yb - top, xa - x0: xb - x0] = g[ya:yb, xa:xb]
    left = -x0
    return out, left

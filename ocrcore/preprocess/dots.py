"""Dot-matrix print: find line crops whose letters are rows of separate pin dots, and join the dots.

A 9-pin printer's draft letters are a few round dots a stroke, with paper between them at 300
dpi. The recognizer, trained mostly on solid strokes, reads such letters as their neighbours in
shape (a page at 14-28% CER). Blurring the crop by a small part of its height merges each
letter's dots into grey strokes it reads well, but the same blur hurts solid print, so it is done
only on crops that look dotted: most of their ink in small, round, evenly spaced components.

The blurred crop only feeds the recognizer; character boxes are still cut and snapped on the
crop as found (:func:`ocrcore.recognize.build_line`): character-box IoU 0.896 -> 0.890 on 8
dot-matrix pages at 300 dpi (the text read, and so its spans, changed), where blurring the whole
page gave 0.814.

Thresholds, measured on crops cut by our page segmenter from synthetic pages (seed 77): of 958
lines of plain print at 150-300 dpi and 127 of typed carbon copies, none passes all of the
tests below; of 686 dot-matrix lines at 200 and 300 dpi, 418 do (the rest: 24-pin and bold
print, whose dots touch, and short lines with few dots). Typed carbon copies' grainy strokes
break into many small pieces too, but ragged ones (median fill of their boxes 0.65, dots 0.80).
The page reader uses this on the crops it cuts; line images are read as given (the models
learnt them so, and 8 of 300 generated carbon-copy line images pass for dots).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from scipy import ndimage as ndi

DOT_SIZE = 0.2  # a dot's box is at most this share of the crop's height (and at most 2:1)
MIN_DOT_SHARE = 0.15  # share of the line's ink in dots
MIN_DOT_DENSITY = 4.0  # dots per crop height of inked columns
MAX_DOT_PITCH = 0.18  # median distance between neighbouring dots, as a share of the crop height
# (0.22 let heavily eroded plain print at 200 dpi pass, its specks 0.19-0.22 apart)
MIN_DOT_FILL = 0.72  # median share of a dot's box that is ink (a disc fills 0.785 of its square)
MIN_DOTS = 8
# Gaussian blur, as a share of the crop's height. Measured with the page reader on 8 dot-matrix
# pages at 300 and at 200 dpi (bench_layouts' seed; a first version of the tests): page CER
# 13.84% / 17.29% unblurred, 6.44% / 14.62% at 0.03, 6.43% / 14.90% at 0.04, 7.96% / 16.70% at
# 0.05. A blur by the measured dot pitch instead (0.35 of it) gave 6.47% at 300 dpi but 18.20% at
# 200, where neighbouring dots merge and the pitch measured is too long.
DOT_BLUR = 0.035


def ink_mask(gray: np.ndarray) -> np.ndarray:
    """Pixels darker than halfway between the crop's darkest (1st percentile) and its paper
    (median: ink covers less than half of a line crop); none on a crop without contrast."""
    lo, paper = np.percentile(gray[::2, ::2], [1, 50])  # every 4th pixel: as good, 3 times faster
    if paper - lo <= 0.1:
        return np.zeros(gray.shape, bool)
    return gray < (lo + paper) / 2


@dataclass
class DotMeasures:
    """The dot-like components of an ink mask: how many, their share of the ink, the median
    share of their boxes that is ink, the median distance between neighbouring dots, and the
    number of inked columns."""

    count: int
    share: float
    fill: float
    spacing: float
    columns: int


def dot_measures(ink: np.ndarray, unit: float, min_density: float = 0.0) -> Optional[DotMeasures]:
    """Components of ``ink`` at most :data:`DOT_SIZE` of ``unit`` across and at most 2:1. None
    where there cannot be :data:`MIN_DOTS` of them, ``min_density`` of them per ``unit`` of
    inked columns, or :data:`MIN_DOT_SHARE` of the ink in them (judged first from component
    counts and areas alone, which is where most lines of solid print stop, cheaply)."""
    labels, n = ndi.label(ink)
    columns = int(ink.any(axis=0).sum())
    if n < MIN_DOTS or n * unit < min_density * columns:
        return None
    area = np.bincount(labels.ravel())[1:]
    small = area <= (DOT_SIZE * unit) ** 2  # a dot's box is at most that: a first, cheap cut
    if small.sum() < max(MIN_DOTS, min_density * columns / unit) or area[small].sum() < MIN_DOT_SHARE * area.sum():
        return None
    boxes = ndi.find_objects(labels)
    hs = np.array([b[0].stop - b[0].start for b in boxes])
    ws = np.array([b[1].stop - b[1].start for b in boxes])
    big = np.maximum(hs, ws)
    dot = (big <= DOT_SIZE * unit) & (big <= 2 * np.minimum(hs, ws)) & (area >= 3)
    count = int(dot.sum())
    if count < MIN_DOTS:
        return None
    from scipy.spatial import cKDTree  # imported here: only pages and crops with dots get this far

    centres = np.array([((b[0].start + b[0].stop) / 2, (b[1].start + b[1].stop) / 2)
                        for b, d in zip(boxes, dot) if d])
    nearest = cKDTree(centres).query(centres, k=2)[0][:, 1]
    return DotMeasures(count, float(area[dot].sum() / area.sum()), float(np.median(area[dot] / (hs[dot] * ws[dot]))),
                       float(np.median(nearest)), columns)


def _dot_print(m: Optional[DotMeasures], unit: float) -> bool:
    return (m is not None and m.share >= MIN_DOT_SHARE and m.fill >= MIN_DOT_FILL
            and m.spacing <= MAX_DOT_PITCH * unit)


def is_dotted(gray: np.ndarray) -> bool:
    """Whether a line crop (1.0 = white) is printed in separate pin dots (see the module's tests)."""
    g = np.asarray(gray, dtype=np.float32)
    if g.ndim != 2 or min(g.shape) < 8:
        return False
    height = g.shape[0]
    m = dot_measures(ink_mask(g), height, MIN_DOT_DENSITY)
    return _dot_print(m, height) and m.count * height >= MIN_DOT_DENSITY * m.columns


def page_is_dotted(binary: np.ndarray, pitch: float) -> bool:
    """Whether a binarized page's (True = ink) text is printed in separate pin dots; ``pitch``:
    its line pitch in pixels, which stands for a line crop's height."""
    return _dot_print(dot_measures(binary, pitch), pitch)


def join_dots(gray: np.ndarray) -> np.ndarray:
    """The crop blurred so that its dots merge into strokes if it is dotted, else itself."""
    if not is_dotted(gray):
        return gray
    g = np.asarray(gray, dtype=np.float32)
    return ndi.gaussian_filter(g, DOT_BLUR * g.shape[0], mode="nearest")

"""Parts of a page image that need reading apart from the rest: two facing pages in one image,
and light lettering on dark bars.

A book scanned open gives two pages side by side, each with its own skew; a reversed-out heading
is a dark blob to the page's binarization. :func:`spread_split` finds where to cut the first,
:func:`reversed_bars` finds the second, and :func:`reversed_image` / :func:`bar_layout` turn a
bar into dark text on paper and find its lines. :func:`.scan.analyse_scan` puts the parts'
lines back on the page.
"""
from __future__ import annotations

from typing import Optional

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ocrcore.containers import BBox
from ocrcore.preprocess.binarize import binarize, to_gray_u8
from ocrcore.preprocess.pages import PageLayout
from ocrcore.preprocess.segment import estimate_scale, segment

__all__ = ["spread_split", "reversed_bars", "reversed_image", "bar_layout", "to_gray_image"]


SPREAD_MIN_ASPECT = 1.15  # width / height from which an image may hold two facing pages
SPREAD_MIN_GUTTER = 0.03  # least width of the blank gutter between them, as a share of the width
SPREAD_MAX_GUTTER = 0.2  # widest a fold's shadow may be, as a share of the width


def spread_split(image: Image.Image) -> Optional[int]:
    """The x at which to cut an image of two facing pages (a book scanned open), or None.

    A landscape image whose middle fifth holds a blank vertical band, at least
    :data:`SPREAD_MIN_GUTTER` of the width and free of ink from top to bottom but for specks,
    is two pages. Read as one, the two pages' lines were read across the gutter by height
    (left and right interleaved) and the right page, skewed otherwise than the left, merged
    into blocks of lines: 38-46% page CER on two synthetic spreads (Tesseract 10-17%). A
    landscape page of text has no such band; a two-column landscape page does, and splitting
    it reads its columns in the same order.
    """
    W, H = image.size
    if W < SPREAD_MIN_ASPECT * H or H < 64:
        return None
    f = max(1, W // 1000)
    grey = to_gray_image(image)  # any mode (Pillow reduces no bilevel image)
    small = grey.reduce(f) if f > 1 else grey  # the gutter is wide: a coarse look suffices
    ink = binarize(small, max_skew=0, deskew=False).binary
    h, w = ink.shape
    # Text, not ink, must be absent from the gutter: the fold's shadow (paper darkening into
    # the spine, darkest at the fold) binarizes as a dark stripe down the middle, and with it
    # two of three synthetic curled spreads read as one page (70% CER). Blobs as tall as a
    # third of the page and no wider than a gutter are such shadows; everything else counts.
    lab, n = ndi.label(ink)
    if n:
        objs = ndi.find_objects(lab)
        bh = np.array([o[0].stop - o[0].start for o in objs])
        bw = np.array([o[1].stop - o[1].start for o in objs])
        shadow = (bh >= h / 3) & (bw <= SPREAD_MAX_GUTTER * w) & (bh >= 4 * bw)
        if shadow.any():
            ink = ink & ~np.concatenate([[False], shadow])[lab]
    rows = ink[int(0.03 * h): int(0.97 * h)]  # a page number or a rule near the edge is no text
    clear = rows.sum(axis=0) <= max(2, 0.005 * rows.shape[0])
    lo, hi = int(0.4 * w), int(0.6 * w)
    best, best_len, run = None, 0, 0
    for k in range(lo, hi + 1):
        run = run + 1 if k < w and clear[k] else 0
        if run > best_len:
            best, best_len = k - run + 1, run
    # extend the best run past the middle fifth: the gutter may be wider than it
    if best is None:
        return None
    a, b = best, best + best_len
    while a > 0 and clear[a - 1]:
        a -= 1
    while b < w and clear[b]:
        b += 1
    if b - a < SPREAD_MIN_GUTTER * w or not ink[:, :a].any() or not ink[:, b:].any():
        return None
    return int(round((a + b) / 2 * W / w))


REVERSED_MIN_FILL = 0.75  # share of each column's span of a bar that is dark (:func:`_column_fill`)
REVERSED_MAX_SPREAD = 0.12  # most spread (0..1 grey) of a bar's dark tone: a photograph's is wider
REVERSED_STRAIGHT = 0.85  # least share of a bar's columns on its straight top and bottom edges
REVERSED_MIN_CLEAR_ROWS = 0.2  # least share of a bar's rows without lettering (above, below, between lines)


def reversed_bars(image: Image.Image) -> list[tuple[BBox, np.ndarray]]:
    """Dark, evenly toned bars holding light lettering (reversed-out headings and table heads):
    each bar's box on the page and its mask in that box. Binarized with the page, a bar is one
    dark blob, kept out of the lines like a picture, and its text was lost without a word
    (Tesseract reads it).

    Found on a reduced copy: dark regions (under 40% of the paper's level), a tenth of the page
    wide, clear of its edges, solid (:data:`REVERSED_MIN_FILL`, lettering filled in), evenly toned
    (a photograph's dark tones spread wider than :data:`REVERSED_MAX_SPREAD`), with straight top
    and bottom edges (:func:`_straight_edges`; bold words have ascenders), and light
    lettering inside (2-40% of the bar) that leaves whole rows dark
    (:data:`REVERSED_MIN_CLEAR_ROWS`, as lines of text do and a halftone's light dots do not).
    About 0.017 s a page (mostly the reduced copy); nothing more where no such region is.
    """
    W, H = image.size
    f = max(1, max(H, W) // 400)
    gi = to_gray_image(image)
    small = np.asarray(gi.reduce(f) if f > 1 else gi, dtype=np.uint8)
    paper = float(np.percentile(small[::4, ::4], 90))
    dark = small < 0.4 * paper
    if np.count_nonzero(dark) < 0.002 * dark.size:  # most pages: nothing that dark and that large
        return []
    dark = ndi.binary_closing(dark, structure=np.ones((3, 3), bool))  # lettering breaks the bar up
    labels, n = ndi.label(dark)
    boxes = []
    h, w = small.shape
    for k, sl in enumerate(ndi.find_objects(labels), start=1):
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        if y1 - y0 < max(4, 0.01 * h) or x1 - x0 < 0.1 * w:
            continue
        if y0 <= 1 or x0 <= 1 or y1 >= h - 1 or x1 >= w - 1:  # along the edge: a scanner's border
            continue
        if _column_fill(ndi.binary_fill_holes(labels[y0:y1, x0:x1] == k)) < REVERSED_MIN_FILL:
            continue
        # the rest at full resolution, where lettering does not mix into the bar's tone
        box = (x0 * f, y0 * f, min(W, x1 * f), min(H, y1 * f))
        full = np.asarray(gi.crop(box), dtype=np.uint8)
        dark_full = full < 0.4 * paper
        # the bar itself, lettering included (its holes); a bar printed on a skewed page leaves
        # paper in the corners of its box
        bar = ndi.binary_fill_holes(ndi.binary_closing(dark_full, structure=np.ones((5, 5), bool)))
        lit = (full > 0.6 * paper) & bar
        tones = full[dark_full & bar]
        if tones.size == 0 or not 0.02 <= lit.sum() / max(1, bar.sum()) <= 0.4:
            continue
        lo, hi = np.percentile(tones, [10, 90])
        if (hi - lo) / 255.0 > REVERSED_MAX_SPREAD:
            continue
        # A bar is a rectangle, turned with the page or not: straight top and bottom edges. Bold
        # words merged on the reduced copy have ascenders and descenders (headings, table heads
        # and bold print on 32 synthetic pages passed every other test).
        if not _straight_edges(bar):
            continue
        # Lettering runs in rows with dark rows between and around them; the light holes of a
        # dark halftone are everywhere (one gave 33 false lines).
        rows = bar.sum(axis=1) > 0
        if np.mean(lit.sum(axis=1)[rows] <= 0.002 * lit.shape[1]) < REVERSED_MIN_CLEAR_ROWS:
            continue
        boxes.append((box, bar))
    return boxes


def _column_fill(mask: np.ndarray) -> float:
    """How solid a region is, column by column: the mean share of each column's span (first to
    last row) that it covers, over every column of its box. 1.0 for a bar, turned with a skewed
    page or not (its box's share falls with the skew: 0.7 for a thin bar turned 1.5 degrees);
    low for bold words that merged on the reduced copy (the gaps between them)."""
    cols = mask.any(axis=0)
    if not cols.any():
        return 0.0
    first = np.argmax(mask, axis=0)
    last = mask.shape[0] - 1 - np.argmax(mask[::-1], axis=0)
    # a column it leaves empty (the gap between two bold words merged on the reduced copy) counts 0
    return float(np.mean(np.where(cols, mask.sum(axis=0) / (last - first + 1), 0.0)))


def _straight_edges(mask: np.ndarray) -> bool:
    """Whether a region's top and bottom edges are straight lines, as a bar's are at any small
    angle: in :data:`REVERSED_STRAIGHT` of its columns within 6% of its height (or 2 pixels) of
    a line fitted to them (a descender of the lettering may break through a tight bar's edge;
    bold words' tops alternate between ascenders and x-height)."""
    cols = np.flatnonzero(mask.any(axis=0))
    if cols.size < 8:
        return False
    m = mask[:, cols]
    top = np.argmax(m, axis=0).astype(np.float64)
    bottom = (m.shape[0] - 1 - np.argmax(m[::-1], axis=0)).astype(np.float64)
    tol = max(2.0, 0.06 * float(np.median(bottom - top)))
    x = cols.astype(np.float64)
    for edge in (top, bottom):
        keep = np.ones(x.size, bool)
        for _ in range(2):  # fit, then again without the columns far off it
            fit = np.polyval(np.polyfit(x[keep], edge[keep], 1), x)
            keep = np.abs(edge - fit) <= tol
            if keep.sum() < 2:
                return False
        if keep.mean() < REVERSED_STRAIGHT:
            return False
    return True


def bar_layout(inverted: Image.Image, binarize_params: Optional[dict], segment_params: Optional[dict]):
    """Lines of a bar's inverted image. The text scale comes from its lettering: estimated as on
    a page (with line pitch) from a bar's one or two lines, it came out at 4 pixels for 60-pixel
    bold capitals and the line fell apart into 15 fragments."""
    res = binarize(inverted, **(binarize_params or {}))
    params = dict(segment_params or {})
    objs = ndi.find_objects(ndi.label(res.binary)[0])
    if "scale" not in params and objs:
        hw = np.array([(o[0].stop - o[0].start, o[1].stop - o[1].start) for o in objs])
        params["scale"] = estimate_scale(hw[:, 0], hw[:, 1]) or None
    return PageLayout(res, segment(res, **params))


def reversed_image(image: Image.Image, box: BBox, bar: np.ndarray) -> Image.Image:
    """A bar's box inverted to dark lettering on light paper, the page around the bar (the corners
    of a skewed bar's box) painted as the bar, so nothing of it turns dark."""
    full = np.asarray(to_gray_image(image).crop(box), dtype=np.uint8).copy()
    tone = np.median(full[bar & (full < np.percentile(full[bar], 50) + 1)]) if bar.any() else 0
    full[~bar] = np.uint8(tone)
    return Image.fromarray(np.uint8(255) - full)


def to_gray_image(image: Image.Image) -> Image.Image:
    """The image as 8-bit grey (alpha composited on white, as everywhere)."""
    return image if image.mode == "L" else Image.fromarray(to_gray_u8(image))

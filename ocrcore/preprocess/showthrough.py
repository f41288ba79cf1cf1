"""The back of the sheet showing through the paper: found in a page's line crops, taken out.

On thin paper, or with heavy ink, the text printed on the back of a sheet shows through,
mirrored and blurred. The line crops the recognizer reads are grey, normalized between each
tile's ink and paper, so the back page's strokes sit in them as mid-grey letters between and
under the front's; the recognizer, which never saw such crops in training, read them as extra
letters and broken words (8 synthetic pages at 300 dpi with the back page at 25%,
``bench_scan_defects.py``: 4.66% CER, 36.8% WER). Stronger, where the front has no text, the
binarization's local ink level is the back page's, and its lines were read as text.

A crop's own ink is known: the components segmentation gave its line (:attr:`LineRegion.ink`).
The front's strokes, soft edges included, lie within a pixel or two of them, so paper farther
away that is clearly darker than the crop's paper (by more than ``1 - SHADED_LEVEL`` after a
3x3 mean, so pixel noise does not count) is the back page. A page part whose sampled crops
hold more than :data:`SHADED_SHARE` of such paper shows through; on 80 synthetic clean pages
of ten kinds (pictures, tables, curled, degraded, 100-300 dpi) only one unreadably faint page
reached it, though noisy, faint pages come close (bench/RESULTS.md). Where the back page is
dark enough to join the front's lines, the paper stays clean and that test misses it; its
strokes are then part of the lines' ink, blurred where the front's are sharp, and a part whose
lines' ink is more than :data:`SOFT_SHARE` soft (:func:`soft_share`) shows through too.
Such a part is binarized again with ``show_through`` by :mod:`ocrcore.preprocess.scan`
(:func:`ocrcore.preprocess.binarize._without_back_page`, which declines on pages too faint to
tell the back page by), and in its crops the paper away from each line's own ink becomes paper.
Pages that do not show through are left exactly as they were: whitening every page cost clean
150-dpi pages 1.57% -> 2.23% CER (faint strokes that segmentation left out of a line are still
read from the grey).
"""
from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np
from scipy import ndimage as ndi

from ocrcore.preprocess.binarize import dilate3x3, sharp_cores
from ocrcore.preprocess.segment import LineCrop, LineRegion

__all__ = ["SHADED_SHARE", "SOFT_SHARE", "near_own_ink", "shaded_share", "soft_share", "shows", "clean_crops"]

SHADED_SHARE = 0.03  # share of the paper away from a page's lines' ink that is shaded when its back shows through
# share of the lines' ink that is soft (see soft_share) when the back page joined the lines:
# clean synthetic pages of 13 kinds at most 0.012 (bar one too faint to read, already shaded),
# pages showing through at 0.4-0.5 whose paper stayed clean 0.064 and 0.078 (bench/RESULTS.md)
SOFT_SHARE = 0.03
SHADED_LEVEL = 0.85  # paper counts as shaded under the crop's paper level minus (1 - this)
NEAR_PX = 2  # how far from its own ink a pixel still belongs to a line's strokes (pixels, at least)
SOFT_INK = 0.6  # crop pixels darker than this share of the crop's paper are ink (the binarization's threshold)
SAMPLE_LINES = 12  # lines of a part that decide whether it shows through


def near_own_ink(region: LineRegion, crop: LineCrop) -> np.ndarray | None:
    """Pixels of ``crop`` (cut from ``region``) within :data:`NEAR_PX` pixels or so of the
    line's own ink, or None when segmentation kept no ink for the line. Grown on the region's
    reduced grid (a 3x3 step there is ``mask_scale`` pixels), then sampled onto the crop."""
    if region.ink is None or region.mask_box is None:
        return None
    s = region.mask_scale
    near = region.ink
    for _ in range(max(1, -(-NEAR_PX // s))):
        near = dilate3x3(near)
    h, w = crop.image.shape
    px0, py0 = crop.origin
    mx0, my0, _, _ = region.mask_box
    ys = (np.arange(py0, py0 + h) - my0) // s
    xs = (np.arange(px0, px0 + w) - mx0) // s
    mh, mw = near.shape
    iy, ix = (ys >= 0) & (ys < mh), (xs >= 0) & (xs < mw)
    out = np.zeros((h, w), bool)
    if iy.any() and ix.any():
        out[np.ix_(iy, ix)] = near[np.ix_(ys[iy], xs[ix])]
    return out


def shaded_share(crops: Sequence[LineCrop], nears: Sequence[np.ndarray | None]) -> float:
    """Of the crops' pixels away from their lines' ink, the share darker than the crop's paper
    by more than ``1 - SHADED_LEVEL``, after a 3x3 mean. The paper is the median of those
    pixels, not 1: on a noisy, faint page the normalized paper itself sits near 0.8 (its tiles'
    ink levels come close to the paper), and against 1 such pages read as showing through
    (0.37-0.77 of their paper "shaded", 4 of 48 degraded pages)."""
    shaded = away = 0
    for crop, near in zip(crops, nears):
        if near is None:
            continue
        far = ~near
        sm = ndi.uniform_filter(crop.image, 3)[far]
        if sm.size == 0:
            continue
        paper = float(np.median(sm[::4]))
        shaded += int(np.count_nonzero(sm < paper - (1.0 - SHADED_LEVEL)))
        away += int(sm.size)
    return shaded / away if away else 0.0


def soft_share(crops: Sequence[LineCrop], nears: Sequence[np.ndarray | None]) -> float:
    """Of the crops' ink near their lines' own ink, the share that is neither as dark as half
    the crop's paper nor within a pixel of a sharp stroke's core (:func:`.binarize.sharp_cores`):
    the back page's blurred strokes where they joined the front's lines. There the paper away
    from the lines is clean and :func:`shaded_share` misses them (a 300-dpi page with the back
    page at half the front's darkness: 1.1% shaded, read at 61% CER)."""
    soft = ink_px = 0
    for crop, near in zip(crops, nears):
        if near is None:
            continue
        g8 = np.round(crop.image * 255.0).astype(np.uint8)
        paper = float(np.median(g8[~near])) if not near.all() else 255.0
        ink = near & (g8 < SOFT_INK * paper)
        ink_px += int(np.count_nonzero(ink))
        dark = g8 < 0.5 * paper
        # nothing light beyond a pixel of dark ink: nothing soft, sharp or not (most clean crops)
        if (ink & ~dilate3x3(dark)).any():
            core = dark | sharp_cores(ink, g8, lambda ys, xs: np.full(len(ys), paper))
            soft += int(np.count_nonzero(ink & ~dilate3x3(core)))
    return soft / ink_px if ink_px else 0.0


def shows(shaded: float, soft: float) -> bool:
    """Whether a page part whose crops measure ``shaded`` (:func:`shaded_share`) and ``soft``
    (:func:`soft_share`) shows its back page."""
    return shaded > SHADED_SHARE or soft > SOFT_SHARE


def clean_crops(regions: Sequence[LineRegion], crops: Sequence[LineCrop], *,
                force: bool = False) -> tuple[list[LineCrop], float, float]:
    """The crops of one page part, with the paper away from each line's own ink turned to paper
    when the part's paper is shaded (over :data:`SHADED_SHARE`) or ``force`` says the back page
    shows (else the very crops given), and the part's shaded and soft shares, measured on at
    most :data:`SAMPLE_LINES` lines spread over the part. Soft ink alone cleans nothing: it is
    the lines' own ink, and where binarizing without the back page declines (a faint page)
    whitening around it cost a 150-dpi page 44.3% -> 51.1% CER."""
    n = len(crops)
    sample = np.unique(np.linspace(0, n - 1, min(n, SAMPLE_LINES)).round().astype(int)) if n else []
    nears = {int(k): near_own_ink(regions[k], crops[k]) for k in sample}
    sampled = [crops[k] for k in nears]
    share = shaded_share(sampled, list(nears.values()))
    # not where the verdict is already given: shaded, or binarized without the back page
    soft = soft_share(sampled, list(nears.values())) if share <= SHADED_SHARE and not force else 0.0
    if share <= SHADED_SHARE and not force:
        return list(crops), share, soft
    out = []
    for k, (region, crop) in enumerate(zip(regions, crops)):
        near = nears[k] if k in nears else near_own_ink(region, crop)
        if near is not None:
            img = crop.image.copy()
            img[~near] = 1.0
            crop = replace(crop, image=img)
        out.append(crop)
    return out, share, soft

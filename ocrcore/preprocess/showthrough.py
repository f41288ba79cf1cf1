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
A lighter back page (20-30% of the front's darkness) shades the paper by less than that and
never joins the lines, yet its letters stand grey in the crops' word gaps and were read as
letters; patches of fainter shade the size of a letter's part find it (:func:`faint_share`),
and such a part has its crops cleaned without being binarized again.
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

__all__ = ["SHADED_SHARE", "SOFT_SHARE", "FAINT_SHARE", "near_own_ink", "shaded_share", "faint_share", "soft_share",
           "shows", "clean_crops"]

SHADED_SHARE = 0.03  # share of the paper away from a page's lines' ink that is shaded when its back shows through
# share of the lines' ink that is soft (see soft_share) when the back page joined the lines:
# clean synthetic pages of 13 kinds at most 0.012 (bar one too faint to read, already shaded),
# pages showing through at 0.4-0.5 whose paper stayed clean 0.064 and 0.078 (bench/RESULTS.md)
SOFT_SHARE = 0.03
SHADED_LEVEL = 0.85  # paper counts as shaded under the crop's paper level minus (1 - this)
# A lighter back page, shading the paper by 0.10-0.15, shows in the word gaps as grey letters
# (read as extra letters and lost spaces, most in monospace type) yet stays under the bars above.
FAINT_LEVEL = 0.90  # paper counts as faintly shaded under the crop's paper level minus (1 - this) ...
FAINT_BLOB = 0.02  # ... in patches of at least this share of the crop's height squared (a letter's part) ...
FAINT_DARK = 0.5  # ... at most this share of which is as dark as shaded paper (a picture's grey is darker)
FAINT_WIDE = 4.0  # ... and no wider than this times their height (a highlighter band's edge is a long strip)
FAINT_SHARE = 0.02  # share of the paper away from the lines in such patches that has a part's crops cleaned
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


def _paper_means(crops: Sequence[LineCrop], nears: Sequence[np.ndarray | None]) -> list[tuple]:
    """For each crop with paper away from its line's ink: the crop's 3x3 mean, that paper
    (``~near``), and its level (the median of the mean there). Shared by :func:`shaded_share`
    and :func:`faint_share`."""
    out = []
    for crop, near in zip(crops, nears):
        if near is None:
            continue
        far = ~near
        sm = ndi.uniform_filter(crop.image, 3)
        if not far.any():
            continue
        out.append((crop, sm, far, float(np.median(sm[far][::4]))))
    return out


def shaded_share(crops: Sequence[LineCrop], nears: Sequence[np.ndarray | None]) -> float:
    """Of the crops' pixels away from their lines' ink, the share darker than the crop's paper
    by more than ``1 - SHADED_LEVEL``, after a 3x3 mean. The paper is the median of those
    pixels, not 1: on a noisy, faint page the normalized paper itself sits near 0.8 (its tiles'
    ink levels come close to the paper), and against 1 such pages read as showing through
    (0.37-0.77 of their paper "shaded", 4 of 48 degraded pages)."""
    return _shaded(_paper_means(crops, nears))


def _shaded(means: list[tuple]) -> float:
    shaded = away = 0
    for _, sm, far, paper in means:
        v = sm[far]
        shaded += int(np.count_nonzero(v < paper - (1.0 - SHADED_LEVEL)))
        away += int(v.size)
    return shaded / away if away else 0.0


def faint_share(crops: Sequence[LineCrop], nears: Sequence[np.ndarray | None]) -> float:
    """Of the crops' pixels away from their lines' ink, the share that is faintly shaded (darker
    than the crop's paper by more than ``1 - FAINT_LEVEL`` after a 3x3 mean) in patches of at
    least ``FAINT_BLOB`` times the crop's height squared, mostly lighter than shaded paper
    (``FAINT_DARK``) and not long strips (``FAINT_WIDE``): a light back page's letters. Noise
    and a faint page's stray specks stay in small patches; the grey of a picture that
    segmentation took for lines is darker (seed 151 page 8: 0.022 without that test, its junk
    lines read with more confidence once cleaned); what a highlighter leaves of its band's edges
    on a grey page is a strip (seed 77 page 3: 0.046 without that test, the marked words' light
    strokes cleaned away, 0.35% -> 0.83% CER). Clean pages of 26 kinds measured 0.011 at most,
    but for unreadable degraded pages at 100 dpi (bench/RESULTS.md)."""
    return _faint(_paper_means(crops, nears))


def _faint(means: list[tuple]) -> float:
    faint = away = 0
    for crop, sm, far, paper in means:
        shaded = (sm < paper - (1.0 - FAINT_LEVEL)) & far
        away += int(np.count_nonzero(far))
        lab, n = ndi.label(shaded)
        if n:
            sizes = np.bincount(lab.ravel(), minlength=n + 1)
            sizes[0] = 0
            dark = np.bincount(lab.ravel(), weights=sm.ravel() < paper - (1.0 - SHADED_LEVEL), minlength=n + 1)
            keep = (sizes >= FAINT_BLOB * crop.image.shape[0] ** 2) & (dark <= FAINT_DARK * sizes)
            if keep.any():
                boxes = ndi.find_objects(lab)
                for k in np.flatnonzero(keep):
                    ys, xs = boxes[k - 1]
                    keep[k] = xs.stop - xs.start <= FAINT_WIDE * (ys.stop - ys.start)
            faint += int(sizes[keep].sum())
    return faint / away if away else 0.0


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
                force: bool = False) -> tuple[list[LineCrop], float, float, float]:
    """The crops of one page part, with the paper away from each line's own ink turned to paper
    when the part's paper is shaded (over :data:`SHADED_SHARE`), holds a light back page's
    letters (:func:`faint_share` over :data:`FAINT_SHARE`), or ``force`` says the back page
    shows (else the very crops given), and the part's shaded, soft and faint shares, measured on
    at most :data:`SAMPLE_LINES` lines spread over the part. A light back page only has the
    crops cleaned: the page is not binarized again for it (:func:`shows`), which on a shaded,
    eroded page of 22 lines found 76 (1.1% -> 19.7% CER). Soft ink alone cleans nothing: it is
    the lines' own ink, and where binarizing without the back page declines (a faint page)
    whitening around it cost a 150-dpi page 44.3% -> 51.1% CER."""
    n = len(crops)
    sample = np.unique(np.linspace(0, n - 1, min(n, SAMPLE_LINES)).round().astype(int)) if n else []
    nears = {int(k): near_own_ink(regions[k], crops[k]) for k in sample}
    sampled = [crops[k] for k in nears]
    means = _paper_means(sampled, list(nears.values()))
    share = _shaded(means)
    # not where the verdict is already given: shaded, or binarized without the back page
    given = share > SHADED_SHARE or force
    soft = soft_share(sampled, list(nears.values())) if not given else 0.0
    faint = _faint(means) if not given else 0.0
    if not given and faint <= FAINT_SHARE:
        return list(crops), share, soft, faint
    out = []
    for k, (region, crop) in enumerate(zip(regions, crops)):
        near = nears[k] if k in nears else near_own_ink(region, crop)
        if near is not None:
            img = crop.image.copy()
            img[~near] = 1.0
            crop = replace(crop, image=img)
        out.append(crop)
    return out, share, soft, faint

"""Curled pages: text lines that bend (a book's page curving into its spine), made straight.

Deskewing turns a page as a whole; near the spine of a book scanned open the lines also bend,
by a line pitch or more, so the segmenter merged neighbouring lines and their crops held curved
text. :func:`estimate_warp` measures how the lines bend, from the text that segmentation found:
words and lines smeared sideways into strokes, each stroke cut into pieces where it is not one
line, the centre of each piece followed along it (local quadratic fits) as a displacement from
the piece's own middle height, and the displacements averaged on a coarse grid into ``d(x, y)``.
A page whose lines bend less than :data:`MIN_BEND` line heights is left alone (``None``).
:class:`VerticalWarp` makes the flat page, ``flat(x, y) = page(x, y + d(x, y))``, and maps boxes
found on it back onto the page.

Where a page curls hard, lines rise several line heights over a few words near the spine and
cannot be followed there; :func:`estimate_curl` models the bend instead, from the slopes the
text's texture shows (each column's slope changing linearly down the page), and the lines
followed on the page it flattens take out what is left.

Leptonica's dewarping (textline centres fitted one by one, a disparity model built from them)
does the same job; this keeps to the vertical disparity, which is what bends lines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ocrcore.preprocess.segment import _odd

# A page is flattened when MIN_BENT_CELLS grid cells hold lines displaced from their own middle
# height by MIN_BEND line heights or more. On 48 flat synthetic pages of every layout at 100-300
# dpi no cell was displaced by more than 0.32 line heights; the same pages curled by 3% of their
# height had up to 42 such cells, curled by 1.5% up to 8.
MIN_BEND = 0.4
MIN_BENT_CELLS = 3
SMEAR = 3.0  # text scales a stroke is smeared sideways, across letter and word spaces
WORK_SCALE = 4.0  # text scale, in pixels, of the reduced image the bends are measured on
CURL_SCALE = 3.0  # text scale, in pixels, of the image :func:`estimate_curl` reads slopes on


@dataclass
class VerticalWarp:
    """``flat(x, y) = page(x, y + d(x, y))``; ``d`` (pixels) sampled at the centres of grid cells
    of ``cell`` pixels (``grid[i, j]`` at ``((j + 0.5) * cell[0], (i + 0.5) * cell[1])``)."""

    grid: np.ndarray
    cell: tuple[float, float]
    size: tuple[int, int]  # (width, height) of the page and of the flat page

    def d(self, xs, ys) -> np.ndarray:
        """The displacement at points (bilinear in the grid, held at its edges)."""
        xs, ys = np.asarray(xs, np.float64), np.asarray(ys, np.float64)
        return ndi.map_coordinates(self.grid, [ys / self.cell[1] - 0.5, xs / self.cell[0] - 0.5], order=1,
                                   mode="nearest", prefilter=False)

    @property
    def bend(self) -> float:
        return float(self.grid.max() - self.grid.min())

    def flatten(self, page: np.ndarray, fill: float, band: int = 256) -> np.ndarray:
        """The flat page: every column moved up or down by the displacement, interpolated
        linearly between the two rows it falls between (``fill`` where it falls above the first
        row or below the last, as ``map_coordinates``' constant mode gives). Made ``band`` rows
        at a time: the displacement is vertical only, so each output pixel reads two pixels of
        its own column. Whole-page coordinate arrays for ``map_coordinates`` took 6 s and 1.1 GB
        on a 600-dpi page; bands keep temporaries small. An integer page comes back rounded, in
        its own type: a float copy of a 600-dpi page is 139 MB."""
        h, w = page.shape
        whole = np.issubdtype(page.dtype, np.integer)
        grid = Image.fromarray(self.grid.astype(np.float32), mode="F")
        gx0, gy0, gx1, gy1 = self._resize_box()
        out = np.empty((h, w), page.dtype)
        flat = page.ravel()
        cols = np.arange(w, dtype=np.int64)[None, :]
        for y0 in range(0, h, band):
            y1 = min(h, y0 + band)
            # the displacement of these rows: the same bilinear resize as the whole page's, cut to them
            box = (gx0, gy0 + (gy1 - gy0) * y0 / h, gx1, gy0 + (gy1 - gy0) * y1 / h)
            d = np.asarray(grid.resize((w, y1 - y0), Image.BILINEAR, box=box), dtype=np.float32)
            ys = d + np.arange(y0, y1, dtype=np.float32)[:, None]
            i0 = np.floor(ys)
            frac = ys - i0
            i0 = np.clip(i0.astype(np.int64), 0, h - 1)
            v = flat[i0 * w + cols] * (1.0 - frac) + flat[np.minimum(i0 + 1, h - 1) * w + cols] * frac
            v = np.where((ys >= 0) & (ys <= h - 1), v, fill)  # beyond the page: fill
            out[y0:y1] = np.round(v) if whole else v
        return out

    def _resize_box(self) -> tuple[float, float, float, float]:
        """The grid's extent in its own cells that covers the page, for ``Image.resize(box=)``."""
        gw, gh = self.size[0] / self.cell[0], self.size[1] / self.cell[1]
        return (0.0, 0.0, min(gw, self.grid.shape[1]), min(gh, self.grid.shape[0]))

    def then(self, more: "VerticalWarp") -> "VerticalWarp":
        """The warp that flattens as this one and then ``more`` (measured on this one's flat
        page) do, in one step: ``d(x, y) = more.d(x, y) + self.d(x, y + more.d(x, y))``, on
        ``more``'s grid."""
        gh, gw = more.grid.shape
        ys, xs = np.mgrid[0:gh, 0:gw].astype(np.float64)
        xs, ys = (xs + 0.5) * more.cell[0], (ys + 0.5) * more.cell[1]
        return VerticalWarp(more.grid + self.d(xs, ys + more.grid), more.cell, more.size)

    def to_page_boxes(self, boxes, samples: int = 5) -> np.ndarray:
        """Boxes on the flat page -> boxes on the page: each box's top and bottom edges, sampled
        at ``samples`` points across, moved by the displacement there (``N x 4`` float)."""
        b = np.asarray(boxes, np.float64).reshape(-1, 4)
        t = np.linspace(0.0, 1.0, samples)[None, :]
        xs = b[:, 0:1] + (b[:, 2:3] - b[:, 0:1]) * t
        top = b[:, 1:2] + self.d(xs, np.broadcast_to(b[:, 1:2], xs.shape))
        bottom = b[:, 3:4] + self.d(xs, np.broadcast_to(b[:, 3:4], xs.shape))
        return np.stack([b[:, 0], top.min(axis=1), b[:, 2], bottom.max(axis=1)], axis=1)


def estimate_warp(text: np.ndarray, scale: float, factor: int, size: tuple[int, int], *,
                  columns: Optional[np.ndarray] = None, min_bend: float = MIN_BEND) -> Optional[VerticalWarp]:
    """How the text lines of a deskewed page bend, or None when they are straight: fewer than
    :data:`MIN_BENT_CELLS` grid cells read displaced by ``min_bend`` line heights or more.

    ``text``: the page's text components (bool), reduced ``factor`` times from the page's
    ``size`` (width, height); ``scale``: the text scale in its pixels (what
    :func:`~ocrcore.preprocess.segment.segment` measures on the way). ``columns``: the column
    separators found there (same resolution), which strokes do not cross: a stroke over two
    columns whose lines stand at other heights bent where it crossed the gutter.
    """
    W, H = size
    # Reduced further across only, to a text scale of about WORK_SCALE pixels: reduced down as
    # well, lines set close merged where a descender came within a few pixels of the next
    # line's ascenders, and a curled page's strokes were two lines thick (not measured).
    g = max(1, int(scale / WORK_SCALE + 0.5))
    b = _reduce_across(text, g)
    s = scale / g  # the text scale across; down, it stays ``scale``
    if s < 1.5 or b.sum() < 100:
        return None
    # letters and words smeared into strokes along their line, one stroke a line where the word
    # spaces allow
    k = int(round(SMEAR * s)) | 1
    strokes = ndi.maximum_filter1d(b.view(np.uint8), k, axis=1).view(np.bool_)
    if columns is not None:
        strokes &= ~_reduce_across(columns, g)
    slab, _ = ndi.label(strokes)
    found = []  # per stroke: columns, top and bottom rows, where it lies
    for i, sl in enumerate(ndi.find_objects(slab)):
        h, w = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if w < 8 * s:
            continue
        m = slab[sl] == i + 1
        x = np.flatnonzero(m.any(axis=0))
        top = np.argmax(m, axis=0)[x]
        bottom = h - np.argmax(m[::-1], axis=0)[x]
        found.append((x + sl[1].start, top + sl[0].start, bottom + sl[0].start))
    if len(found) < 4:
        return None
    # the line height: the strokes' usual thickness (ascender to descender)
    thick = np.concatenate([bt - tp for _, tp, bt in found])
    lh = float(np.median(thick))
    xs_, ys_, ds_ = [], [], []
    smooth = _Smoother(_odd(4.0 * s))
    for x, top, bottom in found:
        t = bottom - top
        good = (t >= 0.5 * lh) & (t <= 1.6 * lh)  # where lines touch or a mark sticks out, no say
        if good.sum() < 6 * s or not 0.7 * lh <= np.median(t[good]) <= 1.3 * lh:
            continue
        xg = x[good]
        c = (top[good] + bottom[good]) / 2.0
        # Pieces: a stroke is cut where columns had no say or its centre jumps. Two lines joined
        # where a descender touches the next line's ascender make one stroke, the left part of
        # one line and the right part of the other: read as a bend of a line pitch (the only
        # bends found on 44 flat pages).
        cut = np.flatnonzero((np.diff(xg) > max(2.0, s)) | (np.abs(np.diff(c)) > 0.4 * lh)) + 1
        for xp, cp in zip(np.split(xg, cut), np.split(c, cut)):
            if xp.size < 6 * s:
                continue
            # the centre smoothed over about a word (capitals, ascenders and descenders even
            # out), sampled every scale, as a displacement from the piece's own mean height
            cs = smooth(np.interp(np.arange(xp[0], xp[-1] + 1), xp, cp))
            at = np.arange(0, len(cs), max(1, int(s)))
            mid = float(cs.mean())
            xs_.append(at + xp[0])
            ys_.append(np.full(at.size, mid))  # where the line lies on the flat page
            ds_.append(cs[at] - mid)
    if not ds_:
        return None
    xs, ys, ds = np.concatenate(xs_), np.concatenate(ys_), np.concatenate(ds_)
    hb, wb = b.shape
    cx, cy = 2.0 * s, 6.0 * scale  # grid cells: narrow across (bends grow fast there), tall down
    gw, gh = int(math.ceil(wb / cx)), int(math.ceil(hb / cy))
    ix = np.clip((xs / cx).astype(np.int64), 0, gw - 1)
    iy = np.clip((ys / cy).astype(np.int64), 0, gh - 1)
    total = np.zeros((gh, gw))
    count = np.zeros((gh, gw))
    np.add.at(total, (iy, ix), ds)
    np.add.at(count, (iy, ix), 1.0)
    read = count >= 3  # cells read from a few samples at least
    mean = np.where(read, total / np.maximum(count, 1), 0.0)
    if int((np.abs(mean[read]) >= min_bend * lh).sum()) < MIN_BENT_CELLS:
        return None
    # normalized convolution: each cell the mean displacement near it; cells far from text take
    # that of the nearest text (held), so the map stays smooth where nothing is read
    sm_t = ndi.gaussian_filter(np.where(read, total, 0.0), 1.0, mode="nearest")
    sm_c = ndi.gaussian_filter(np.where(read, count, 0.0), 1.0, mode="nearest")
    has = sm_c > 0.05
    disp = np.where(has, sm_t / np.maximum(sm_c, 1e-9), 0.0)
    if not has.all():
        idx = ndi.distance_transform_edt(~has, return_distances=False, return_indices=True)
        disp = disp[tuple(idx)]
    return VerticalWarp(grid=(disp * factor).astype(np.float64), cell=(cx * g * factor, cy * factor), size=(W, H))


def estimate_curl(text: np.ndarray, scale: float, factor: int, size: tuple[int, int]) -> Optional[VerticalWarp]:
    """How a page curls, modelled: each column's lines sheared by a slope that changes linearly
    down the page (``slope(x, y) = p(x) + q(x) y``), as a page bending into a spine bends its
    lines away from (or towards) one height. ``None`` when the page holds too little text.

    :func:`estimate_warp` follows each line; where a page curls hard (lines at 20-45 degrees
    near the spine, rising 3-4 line pitches over a few words), its strokes smeared sideways run
    into the next line's, it measures nothing there, and the bend it holds from the last text
    measured leaves lines 2-3 pitches askew (6 pages curled by 10% of their height, 300 dpi: up to
    3.5 line heights left after three analyses). Here the slope is read from the texture: letters
    smeared a little along their line and blurred into bands, the bands' shear is ``-Jxy / Jyy``
    of the structure tensor (exact for a vertical shear, whatever the glyphs), fitted column by
    column over the whole height, so each column's estimate rests on every line in it. The
    displacement is the slope integrated along each line from the column where lines are
    flattest. Steep bends read a little shallow (0.86-1.19 line heights left on the same pages);
    :func:`estimate_warp` measures what is left on the flattened page (0.27-0.51 left)."""
    W, H = size
    g = max(1, int(scale / CURL_SCALE + 0.5))
    s = scale / g
    if s < 1.0 or text.sum() < 100:
        return None
    b = _block_mean(text, g)
    b = ndi.uniform_filter1d(b, max(1, int(2.0 * s)) | 1, axis=1)  # letters into words, along the line
    t = ndi.gaussian_filter(b, 0.5 * s)
    gy, gx = ndi.sobel(t, 0), ndi.sobel(t, 1)
    # the tensor's window: about 1.5 x 4 scales (two passes of a box: Gaussians of that size read
    # the same, at twice the time)
    win = (max(1, int(3.6 * s)) | 1, max(1, int(9.8 * s)) | 1)
    jyy = ndi.uniform_filter(ndi.uniform_filter(gy * gy, win), win)
    jxy = ndi.uniform_filter(ndi.uniform_filter(gx * gy, win), win)
    if not (jyy > 0).any():
        return None
    wgt = np.where(jyy > 0.05 * float(np.percentile(jyy[jyy > 0], 90)), jyy, 0.0)  # where lines are
    slope = -jxy / np.maximum(jyy, 1e-12)
    hb, wb = b.shape
    yv = (np.arange(hb) + 0.5)[:, None] / hb
    # weighted least squares of slope ~ p + q y per column, sums pooled over 2 scales across
    k = max(1, int(2.0 * s)) | 1
    s0, s1, s2, t0, t1 = (ndi.uniform_filter1d((wgt * v).sum(axis=0), k)
                          for v in (1.0, yv, yv * yv, slope, slope * yv))
    ok = s0 > 0.02 * s0.max()
    if ok.sum() < 4:
        return None
    s2 = s2 + 1e-3 * s0.max()  # a column of text at one height: its q held near 0
    det = np.maximum(s0 * s2 - s1 * s1, 1e-30)
    p = np.where(ok, (t0 * s2 - t1 * s1) / det, 0.0)
    q = np.where(ok, (s0 * t1 - s1 * t0) / det, 0.0)
    if not ok.all():  # columns without text: those of the nearest column with text
        near = ndi.distance_transform_edt(~ok, return_distances=False, return_indices=True)[0]
        p, q = p[near], q[near]
    # the reference column, where lines are flattest (mean |slope| over the text, over 4 scales)
    flat = np.where(ok, (np.abs(p[None, :] + q[None, :] * yv) * wgt).sum(axis=0) / np.maximum(s0, 1e-12), np.inf)
    flat = ndi.uniform_filter1d(np.where(ok, flat, 1e3), max(3, int(4.0 * s)))
    xr = int(np.argmin(flat))
    # lines followed from there, both ways (Heun's steps of a column; the slope is linear in y)
    cy = 2.0 * s
    y0 = (np.arange(int(math.ceil(hb / cy))) + 0.5) * cy
    ys = np.empty((y0.size, wb))
    ys[:, xr] = y0
    for step in (1, -1):
        y = y0.copy()
        for j in range(xr, wb - 1 if step > 0 else 0, step):
            k1 = p[j] + q[j] * y / hb
            k2 = p[j + step] + q[j + step] * (y + step * k1) / hb
            y = y + step * 0.5 * (k1 + k2)
            ys[:, j + step] = y
    d = (ys - y0[:, None]) * (g * factor)
    return VerticalWarp(grid=d.astype(np.float64), cell=(float(g * factor), cy * g * factor), size=(W, H))


def _block_mean(b: np.ndarray, g: int) -> np.ndarray:
    """Mean of a bool image over ``g`` x ``g`` blocks (float32; Pillow's ``reduce``, partial
    last blocks averaged over what they hold)."""
    img = Image.fromarray(b.view(np.uint8) * np.uint8(255))
    return np.asarray(img.reduce(g) if g > 1 else img, np.float32) / np.float32(255.0)


class _Smoother:
    """Local quadratic fits over ``window`` points (Savitzky-Golay): the middle of each window
    by one convolution, the first and last half-windows from the fits to the end windows.
    Unlike a plain average it follows a bend to a stroke's end, where a page curls most (into
    the spine); scipy's ``savgol_filter(mode="interp")`` does the same, 4x slower on short runs."""

    def __init__(self, window: int):
        self.window = window
        t = np.arange(window, dtype=np.float64)
        v = np.stack([np.ones(window), t, t * t], axis=1)
        self.fit = v @ np.linalg.pinv(v)  # window values -> the quadratic fitted to them, at each point
        self.mid = self.fit[window // 2][::-1]  # the fit at the middle, as a convolution kernel

    def __call__(self, c: np.ndarray) -> np.ndarray:
        w, n = self.window, c.size
        if n < w:
            t = np.arange(n, dtype=np.float64)
            return np.polyval(np.polyfit(t, c, min(2, n - 1)), t)
        out = np.convolve(c, self.mid, mode="same")
        h = w // 2
        out[:h] = (self.fit @ c[:w])[:h]
        out[n - h:] = (self.fit @ c[n - w:])[w - h:]
        return out


def _reduce_across(b: np.ndarray, g: int) -> np.ndarray:
    """Block-OR of a bool image over ``g`` columns at a time (partial last block kept)."""
    if g <= 1:
        return b
    out = b[:, ::g].copy()
    for k in range(1, g):
        part = b[:, k::g]
        out[:, :part.shape[1]] |= part
    return out

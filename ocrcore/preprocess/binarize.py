"""Page binarization in the spirit of OCRopus ``nlbin``: flatten, deskew, normalize, threshold.

Steps: any Pillow mode (or a 2-D array) to 8-bit grey; detection of inverted pages (light text on
dark); pass-through of input that is already two-level (read through the fields of noise dots
where its paper was thresholded into them); background estimate with a max filter at
reduced resolution; ink level from local low percentiles (local contrast); a threshold map halfway
between ink and background; skew from the sharpness of strip-wise horizontal projection profiles
(coarse-to-fine, sub-step by parabolic fit); rotation of the ink image into an upright frame.

Speed: the full-resolution work is a handful of vectorized passes over an 8-bit image (threshold
against a nearest-upsampled map, per-strip row sums, one nearest-neighbour rotation); everything
else runs on small arrays. The normalized grey page (:attr:`BinarizeResult.gray`) is computed
lazily because segmentation does not need it; line crops sample it region by region.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from PIL import Image, ImageFilter
from scipy import ndimage as ndi

from ocrcore.containers import BBox
from ocrcore.imageio import to_gray
from ocrcore.preprocess.geometry import PageTransform

__all__ = ["BinarizeResult", "binarize", "dilate3x3", "estimate_skew", "to_gray_u8"]

_HIGH_DEPTH_MODES = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def to_gray_u8(image) -> np.ndarray:
    """PIL image of any mode, or a 2-D/3-D array, -> uint8 grey (255 = white), C-contiguous.

    8-bit modes go through :func:`ocrcore.imageio.to_gray` semantics (alpha onto white) without a
    float round trip. 16-bit, 32-bit and float images, and arrays that are not uint8, are stretched
    over their own value range, because scanners often use only part of a deep range. Boolean
    arrays follow Pillow's mode "1": True = white.
    """
    if isinstance(image, Image.Image):
        mode = image.mode
        if mode in _HIGH_DEPTH_MODES:
            return _stretch_u8(np.asarray(image, dtype=np.float32))
        if mode == "L":
            return np.ascontiguousarray(np.asarray(image, dtype=np.uint8))
        if mode == "1":
            return np.ascontiguousarray(np.asarray(image, dtype=np.uint8) * np.uint8(255))
        if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
            return np.round(to_gray(image) * 255.0).astype(np.uint8)
        if mode == "LAB":  # lightness is the first band
            return np.ascontiguousarray(np.asarray(image.getchannel(0), dtype=np.uint8))
        if mode == "La":  # premultiplied alpha: over white is L + (255 - alpha)
            la = np.asarray(image, dtype=np.int16)
            return np.clip(la[:, :, 0] + 255 - la[:, :, 1], 0, 255).astype(np.uint8)
        if mode == "RGBa":
            return to_gray_u8(image.convert("RGBA"))
        return np.ascontiguousarray(np.asarray(image.convert("L"), dtype=np.uint8))
    a = np.asarray(image)
    if a.ndim == 3 and a.shape[2] in (1, 2, 3, 4):
        if a.shape[2] == 1:
            a = a[:, :, 0]
        else:
            if a.dtype != np.uint8:
                a = _stretch_u8(a.astype(np.float32))
            return to_gray_u8(Image.fromarray(np.ascontiguousarray(a)))  # LA, RGB or RGBA
    if a.ndim != 2:
        raise ValueError(f"expected a 2-D image array, got shape {a.shape}")
    if a.dtype == np.bool_:
        return a.astype(np.uint8) * np.uint8(255)
    if a.dtype == np.uint8:
        return np.ascontiguousarray(a)
    f = a.astype(np.float32)
    if np.issubdtype(a.dtype, np.floating) and f.size and 0.0 <= float(f.min()) and float(f.max()) <= 1.0:
        return np.round(f * 255.0).astype(np.uint8)
    return _stretch_u8(f)


def _stretch_u8(a: np.ndarray) -> np.ndarray:
    """Map a deep-valued array to 0..255 over its finite min..max range."""
    a = np.nan_to_num(a, nan=0.0, posinf=0.0, neginf=0.0)
    lo, hi = (float(a.min()), float(a.max())) if a.size else (0.0, 1.0)
    if hi - lo < 1e-12:
        return np.full(a.shape, 255 if hi > 0 else 0, np.uint8)
    return np.round((a - lo) * (255.0 / (hi - lo))).astype(np.uint8)


@dataclass
class BinarizeResult:
    """Output of :func:`binarize`; everything is in the deskewed frame unless named otherwise.

    ``binary``: bool array, True = ink, deskewed frame (``transform.size`` = (width, height)).
    ``angle``: estimated skew in degrees, positive = content rotated counter-clockwise (what
    ``PIL.Image.rotate(angle)`` does to an upright page); deskewing rotated by ``-angle``, unless
    the angle was below ``min_deskew`` (then ``deskewed`` is False and the frames coincide).
    ``inverted``: the input was light-on-dark and has been inverted.
    ``was_binary``: the input had two grey levels and was passed through unthresholded.
    ``show_through``: the back of the sheet shows through the paper, and its strokes were taken
    out of ``binary`` (:func:`_without_back_page`).
    ``transform``: maps deskewed-frame points and boxes to ORIGINAL image coordinates and back.
    ``gray``: (lazy) float32 normalized grey page, 1.0 = background, 0.0 = ink, deskewed frame.
    ``descreened``: the input was dithered and is read as the grey it stands for; its crops and
    ``gray`` have the dots' texture cleared from the paper (:meth:`_clear_paper`).
    """

    binary: np.ndarray
    angle: float
    inverted: bool
    transform: PageTransform
    was_binary: bool = False
    deskewed: bool = False
    show_through: bool = False
    descreened: bool = False
    # Internals used to normalize grey values on demand (original frame).
    src: np.ndarray = field(default=None, repr=False)  # uint8 grey of the input, after inversion
    bg_map: np.ndarray = field(default=None, repr=False)  # float32 background level, reduced res
    ink_map: np.ndarray = field(default=None, repr=False)  # float32 ink level, reduced res
    _gray: np.ndarray = field(default=None, repr=False)
    _src_image: Image.Image = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, int]:
        """(height, width) of the deskewed frame."""
        return self.binary.shape

    def to_original_bbox(self, bbox: BBox) -> BBox:
        """Deskewed-frame box -> box in the original image (clipped to it)."""
        return self.transform.to_original_bbox(bbox)

    def normalized_at(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Normalized grey (1 = background, 0 = ink) sampled at ORIGINAL-image points.

        Bilinear in the source, outside the image reads as background.
        """
        xs = np.asarray(xs, np.float32)
        ys = np.asarray(ys, np.float32)
        g = self._source_at(xs, ys)
        if self.was_binary:
            return g
        bg, ink = self._levels_at(xs, ys)
        return self._normalize(g, bg, ink, xs, ys)

    def _source_at(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        g = ndi.map_coordinates(self.src, [ys - 0.5, xs - 0.5], order=1, mode="constant", cval=255.0,
                                output=np.float32, prefilter=False) / np.float32(255.0)
        return np.clip(g, 0.0, 1.0) if self.was_binary else g

    def _levels_at(self, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Background and ink levels (bilinear in the reduced maps) at ORIGINAL-image points."""
        H, W = self.src.shape
        mh, mw = self.bg_map.shape
        my, mx = ys * (mh / H) - 0.5, xs * (mw / W) - 0.5
        bg = ndi.map_coordinates(self.bg_map, [my, mx], order=1, mode="nearest", output=np.float32, prefilter=False)
        ink = ndi.map_coordinates(self.ink_map, [my, mx], order=1, mode="nearest", output=np.float32, prefilter=False)
        return bg, ink

    def _normalize(self, g, bg, ink, xs=None, ys=None) -> np.ndarray:
        """Stretch grey ``g`` between its ink and background levels; points (xs, ys) outside the
        original image become background (without them, nothing is outside)."""
        n = (g - ink) / np.maximum(bg - ink, 1e-3)
        if xs is not None:
            n[self._outside(xs, ys)] = 1.0
        return np.clip(n, 0.0, 1.0, out=n)

    def _outside(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """Which ORIGINAL-image points lie outside the image."""
        H, W = self.src.shape
        return (xs < 0) | (ys < 0) | (xs > W) | (ys > H)

    def _source_box(self, box: BBox) -> np.ndarray:
        """Source grey (uint8) of a deskewed-frame box, resampled bilinearly by Pillow's affine
        transform (2.7x faster than ``map_coordinates`` over a pixel grid; rounds to 1/255). A page
        left unturned (a PDF's render, a straight scan) is sliced: the same pixels, 100x faster."""
        x0, y0, x1, y1 = box
        if self.transform.is_identity:
            return _slice_padded(self.src, (x0, y0, x1, y1), np.uint8(255))
        if self._src_image is None:
            self._src_image = Image.fromarray(self.src)
        im = self._src_image.transform((x1 - x0, y1 - y0), Image.AFFINE, self.transform.pil_affine((x0, y0)),
                                       Image.BILINEAR, fillcolor=255)
        return np.asarray(im)

    def _box_inside(self, box: BBox) -> bool:
        """Whether a deskewed-frame box lies wholly inside the original image."""
        x0, y0, x1, y1 = box
        xo, yo = self.transform.to_original([x0, x1, x0, x1], [y0, y0, y1, y1])
        H, W = self.src.shape
        return bool(xo.min() >= 0 and yo.min() >= 0 and xo.max() <= W and yo.max() <= H)

    def gray_region(self, box: BBox) -> np.ndarray:
        """Normalized grey of a deskewed-frame box (may reach outside the frame: background there).

        The source is sampled at every pixel. The background and ink levels vary slowly (they
        come from maps at reduced resolution), so they are sampled on a grid of about
        :data:`LEVEL_STEP` pixels, turned into a gain and an offset (``n = g * gain + offset``),
        and interpolated linearly between grid rows and columns (a line crop needs a few grid
        rows). Line crops of a 300-dpi page: 0.103 -> 0.085 s (``bench/bench_page_stages.py``,
        bench/RESULTS.md) against interpolating both levels per pixel; within 0.011 of per-pixel levels
        (tested at 0.02).
        """
        x0, y0, x1, y1 = (int(v) for v in box)
        if x1 <= x0 or y1 <= y0:
            return np.ones((max(0, y1 - y0), max(0, x1 - x0)), np.float32)
        if self._gray is not None:
            return _slice_padded(self._gray, box, 1.0)
        g8 = self._source_box((x0, y0, x1, y1))
        if self.was_binary:
            return g8 * np.float32(1 / 255)
        h, w = g8.shape
        ry, rx = _grid(h), _grid(w)
        xo, yo = (a.astype(np.float32) for a in self.transform.to_original(
            (x0 + rx + 0.5)[None, :], (y0 + ry + 0.5)[:, None]))
        xo, yo = np.broadcast_arrays(xo, yo)
        bg, ink = self._levels_at(np.ascontiguousarray(xo), np.ascontiguousarray(yo))
        gain = np.float32(1 / 255) / np.maximum(bg - ink, np.float32(1e-3))
        offset = -ink * gain * np.float32(255)
        # full-width rows of gain and offset at the grid rows, then linear between grid rows
        kx, tx = _lerp_weights(rx, w)
        if len(rx) > 1:
            gain = gain[:, kx] + (gain[:, kx + 1] - gain[:, kx]) * tx
            offset = offset[:, kx] + (offset[:, kx + 1] - offset[:, kx]) * tx
        n = np.empty((h, w), np.float32)
        if len(ry) == 1:
            np.multiply(g8, gain, out=n)
            n += offset
        for k in range(len(ry) - 1):
            a, b = int(ry[k]), int(ry[k + 1]) + (k == len(ry) - 2)
            t = ((np.arange(a, b) - ry[k]) / float(ry[k + 1] - ry[k])).astype(np.float32)[:, None]
            np.multiply(g8[a:b], gain[k] + (gain[k + 1] - gain[k]) * t, out=n[a:b])
            n[a:b] += offset[k] + (offset[k + 1] - offset[k]) * t
        np.clip(n, 0.0, 1.0, out=n)
        if not self._box_inside((x0, y0, x1, y1)):
            yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + np.float32(0.5)
            n[self._outside(*self.transform.to_original(xx, yy))] = 1.0
        return self._clear_paper(n, _slice_padded(self.binary, (x0, y0, x1, y1), False)) if self.descreened else n

    def _clear_paper(self, n: np.ndarray, ink: np.ndarray) -> np.ndarray:
        """A descreened page's normalized grey ``n`` with its paper cleared: farther than
        :data:`DESCREEN_NEAR` pixels from the ink binarization found (``ink``, the same region),
        grey is stretched so that :data:`DESCREEN_PAPER` and lighter read as paper.

        Light paper dithers into sparse dots, and blurred they stay a texture (a lone dot peaks
        at 0.84), in the spaces between words too: the model ran the words together. Faint
        strokes the threshold missed (an eroded hairline, a slash) keep most of their tone.
        """
        r = DESCREEN_NEAR
        near = ndi.maximum_filter(ink.view(np.uint8), size=2 * r + 1, mode="constant").view(bool)
        far = ~near
        n[far] = np.minimum(n[far] * np.float32(1 / DESCREEN_PAPER), np.float32(1.0))
        return n

    @property
    def gray(self) -> np.ndarray:
        """float32 normalized grey page in the deskewed frame (computed on first use, then cached)."""
        if self._gray is None:
            H, W = self.src.shape
            g = self.src.astype(np.float32) / np.float32(255.0)
            if not self.was_binary:
                bg = np.asarray(Image.fromarray(self.bg_map).resize((W, H), Image.BILINEAR))
                ink = np.asarray(Image.fromarray(self.ink_map).resize((W, H), Image.BILINEAR))
                g = np.clip((g - ink) / np.maximum(bg - ink, 1e-3), 0.0, 1.0)
            if self.deskewed:
                im = Image.fromarray(g.astype(np.float32)).transform(
                    self.transform.size, Image.AFFINE, self.transform.pil_affine(), Image.BILINEAR, fillcolor=1.0)
                g = np.asarray(im, dtype=np.float32)
            if self.descreened:  # a copy it may write to
                self._gray = self._clear_paper(np.array(g, dtype=np.float32), self.binary)
            else:
                self._gray = np.ascontiguousarray(g, dtype=np.float32)
        return self._gray


LEVEL_STEP = 16  # pixels between samples of the background/ink levels in a line crop


def _grid(n: int) -> np.ndarray:
    """Grid positions ``0 .. n - 1`` about :data:`LEVEL_STEP` apart, both ends included."""
    return np.linspace(0, n - 1, max(1, -(-(n - 1) // LEVEL_STEP) + 1)).round().astype(np.int64)


def _lerp_weights(r: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of ``0..n-1``: the grid interval ``[r[k], r[k+1]]`` holding it, and its weight."""
    if len(r) < 2:
        return np.zeros(n, np.intp), np.zeros(n, np.float32)
    k = np.minimum(np.searchsorted(r, np.arange(n), side="right") - 1, len(r) - 2)
    t = ((np.arange(n) - r[k]) / (r[k + 1] - r[k])).astype(np.float32)
    return k, t


def _slice_padded(a: np.ndarray, box: BBox, fill) -> np.ndarray:
    """``a[y0:y1, x0:x1]`` where the box may reach outside ``a``; outside reads as ``fill``."""
    x0, y0, x1, y1 = box
    H, W = a.shape[:2]
    out = np.full((y1 - y0, x1 - x0) + a.shape[2:], fill, dtype=a.dtype)
    sx0, sy0, sx1, sy1 = max(x0, 0), max(y0, 0), min(x1, W), min(y1, H)
    if sx1 > sx0 and sy1 > sy0:
        out[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = a[sy0:sy1, sx0:sx1]
    return out


def binarize(
    image,
    *,
    invert: bool | None = None,
    binary_input: bool | None = None,
    deskew: bool = True,
    max_skew: float = 10.0,
    min_deskew: float = 0.05,
    threshold: float = 0.6,
    ink_percentile: float = 1.0,
    min_contrast: float = 0.2,
    bg_window: int = 25,
    map_size: int = 800,
    denoise_above: float = 0.03,
    clear_borders: bool = True,
    descreen: bool | None = None,
    despeckle: bool | None = None,
    show_through: bool = False,
) -> BinarizeResult:
    """Binarize and deskew a page or line image (PIL image of any mode, or a 2-D array).

    ``invert``/``binary_input``: None = detect. ``max_skew``: skew search range in degrees (0
    disables skew estimation). ``min_deskew``: smaller angles are reported but not rotated away.
    ``threshold``: between ink (0) and background (1) in normalized grey. ``ink_percentile``: the
    low percentile of a tile taken as its ink level; tiles whose contrast to the background is
    below ``min_contrast`` (lowered to six times the pixel noise, at least 0.06, on clean
    pages) count as empty. ``bg_window``: background filter size in map pixels;
    ``map_size``: the longer side of the reduced-resolution maps. ``denoise_above``: pixel noise
    (standard deviation, 0..1) above which the grey is smoothed a little before thresholding.
    ``clear_borders``: drop dark regions that run along the page's edges (:func:`clear_borders`).
    ``descreen``: read a dithered bilevel image (:func:`looks_dithered`; None = detect) as the
    grey it stands for, smoothed, instead of taking its dots as ink. ``despeckle``: take the lone
    dots out of a bilevel image that is not dithered (None = when there are many of them,
    :data:`DESPECKLE_LONE`), and salt and pepper out of a grey one (:data:`IMPULSE_LONE`).
    ``show_through``: the back of the sheet shows through the paper; its strokes, lighter than
    any of the front's, are left out (:func:`_without_back_page`; grey input whose ink is dark
    enough to tell them by; ``show_through`` of the result says whether they were).
    """
    g8 = to_gray_u8(image)
    if g8.ndim != 2 or g8.size == 0:
        raise ValueError(f"image has no pixels (shape {g8.shape})")
    H, W = g8.shape
    f = max(1, int(round(max(H, W) / float(map_size))))

    def reduced(a: np.ndarray) -> np.ndarray:  # the map resolution, 0..1
        return np.asarray(Image.fromarray(a).reduce(f) if f > 1 else Image.fromarray(a), dtype=np.float32) / 255.0

    def full_threshold(bg_map: np.ndarray, ink_map: np.ndarray) -> np.ndarray:  # uint8, full resolution
        t8 = np.clip(np.round((ink_map + np.float32(threshold) * (bg_map - ink_map)) * 255.0), 0, 255)
        return np.asarray(Image.fromarray(t8.astype(np.uint8)).resize((W, H), Image.NEAREST))

    small = reduced(g8)

    if binary_input is None:
        binary_input = _is_two_level(g8)
    contrast_floor, descreen_done = 0.06, False
    if binary_input and (descreen is not False or despeckle is not False):
        given, share = g8, 0.0
        if descreen is not True:  # the lone dots decide, or are what despeckling takes out
            ink, lone, paper = _lone_ink(g8)
            share = lone.sum() / max(1, int(ink.sum()))
        if descreen if descreen is not None else share > DITHER_ISOLATED:
            g8 = descreened(g8)
            contrast_floor, descreen_done = DESCREEN_MIN_CONTRAST, True
            binary_input = False
        elif despeckle if despeckle is not None else share > DESPECKLE_LONE:
            g8 = np.where(lone, np.uint8(paper), g8)  # lone dots take the paper's level
        if g8 is not given:
            small = reduced(g8)
    if invert is None:
        invert = _looks_inverted(g8, small, binary_input)
    if invert:
        g8 = np.subtract(np.uint8(255), g8)
        small = 1.0 - small

    if binary_input:
        show_through = False  # a bilevel scan has no grey to tell the back page by
        lo, hi = int(g8.min()), int(g8.max())
        ink0 = g8 < (lo + hi + 1) // 2 if hi > lo else np.zeros_like(g8, dtype=bool)
        bg_map = ink_map = None
        field = _dot_field(ink0)
        if field is not None:
            ink0, g8 = _read_through_field(g8, ink0, field, f, lo, hi)
    else:
        def thresholded(g8, small):
            bg_map, ink_map, noise = _level_maps(g8, small, f, bg_window, ink_percentile, min_contrast,
                                                 contrast_floor)
            gt = g8
            if noise > denoise_above and min(H, W) >= 16:
                # Grainy scan: threshold a lightly smoothed copy (noise drops about 3x, 2-3 pixel
                # strokes keep most of their contrast); crops still read the unsmoothed grey.
                gt = np.asarray(Image.fromarray(g8).filter(ImageFilter.GaussianBlur(1.0)))
                bg_map, ink_map, _ = _level_maps(gt, small, f, bg_window, ink_percentile, min_contrast,
                                                 contrast_floor)
            t_full = full_threshold(bg_map, ink_map)
            ink0 = gt < t_full
            if gt is not g8:
                # Smoothing spreads strokes: drop pixels that are plainly light in the original.
                margin = np.uint8(min(255, round(2.0 * noise * 255)))
                ink0 &= g8 < np.minimum(t_full.astype(np.uint16) + margin, 255).astype(np.uint8)
            return bg_map, ink_map, gt, t_full, ink0

        bg_map, ink_map, gt, t_full, ink0 = thresholded(g8, small)
        if despeckle is not False and min(H, W) >= 16 and (
                despeckle or _impulse_share(g8, t_full) > IMPULSE_LONE):
            g8 = _without_impulses(g8, g8 < t_full)
            small = reduced(g8)
            bg_map, ink_map, gt, t_full, ink0 = thresholded(g8, small)
        if descreen_done and np.count_nonzero(ink0) < FAINT_INK * ink0.size:
            # Faint type dithered: its strokes are as light as the paper's dots, under the least
            # contrast that keeps the dots out. A wider blur fades lone dots (a peak of 0.04)
            # far more than strokes, so the text stands out at a lower contrast there.
            gt = np.asarray(Image.fromarray(g8).filter(ImageFilter.GaussianBlur(FAINT_SIGMA)))
            maps = _level_maps(gt, reduced(gt), f, bg_window, ink_percentile, min_contrast, FAINT_CONTRAST)
            faint = gt < full_threshold(maps[0], maps[1])
            if np.count_nonzero(faint) > np.count_nonzero(ink0):
                bg_map, ink_map, ink0 = maps[0], maps[1], faint
        if show_through:
            ink0, show_through = _without_back_page(ink0, gt, g8, bg_map, f)

    if clear_borders:
        ink0 = _clear_borders(ink0)
    angle = estimate_skew(ink0, max_skew) if max_skew > 0 else 0.0
    if deskew and abs(angle) >= min_deskew:
        tr = PageTransform.deskew(W, H, angle)
        im = Image.fromarray(ink0.view(np.uint8)).transform(tr.size, Image.AFFINE, tr.pil_affine(), Image.NEAREST,
                                                            fillcolor=0)
        binary = np.asarray(im).view(np.bool_)
        deskewed = True
    else:
        tr = PageTransform.identity(W, H)
        binary = ink0
        deskewed = False
    return BinarizeResult(binary=np.ascontiguousarray(binary), angle=float(angle), inverted=bool(invert),
                          transform=tr, was_binary=bool(binary_input), deskewed=deskewed, src=g8,
                          bg_map=bg_map, ink_map=ink_map, show_through=bool(show_through),
                          descreened=descreen_done)


DITHER_ISOLATED = 0.15  # share of ink pixels with no ink neighbour above which a bilevel image is dithered
# Share of lone ink pixels (no ink among their 8 neighbours) above which a bilevel image's lone
# dots are taken out as specks: clean thresholded scans have under 3% at 100 dpi, under 0.5% at
# 300; a 300-dpi page with 0.5% of its pixels turned to dots about 5% (CER 6.9% -> 3.4% on 4 pages).
DESPECKLE_LONE = 0.03
DESCREEN_SIGMA = 1.0  # Gaussian blur (pixels) that turns a dithered image back into grey
# Least contrast to the background that makes a tile of a descreened page hold text: a lone dot
# of paper tone blurred peaks at 0.16, and at 0.06 (the floor for grey scans) empty paper
# became fields of specks that segmented into false lines.
DESCREEN_MIN_CONTRAST = 0.25
# A descreened page's crops: farther than DESCREEN_NEAR pixels from the ink found, normalized grey
# of DESCREEN_PAPER and lighter is paper (BinarizeResult._clear_paper). Dithered 300-dpi pages,
# seed 77: pages 0-7 CER 1.80% -> 0.56% (228 of 541 errors had been lost word spaces, 187 on a
# page of monospace type), pages 8-23 5.18% -> 5.14% (this rule alone); at 200 dpi 12.48% ->
# 10.81% and 14.91% -> 13.93%; character box IoU 0.62 -> 0.79 at 300 dpi. Stretching everywhere (no DESCREEN_NEAR)
# read 0.60% and 5.56%: it thinned strokes; clearing all far pixels to white broke eroded
# hairlines at 400 dpi (a page at 0.19% -> 0.89%).
DESCREEN_NEAR = 2
DESCREEN_PAPER = 0.8
# A descreened page on which less than FAINT_INK of the pixels came out ink is thresholded again
# on a copy blurred by FAINT_SIGMA more, with a least contrast of FAINT_CONTRAST: light, eroded,
# blurred type dithered (one page of seed 77 at 300 dpi: 0.1% ink, 2 of 95 lines found, 99.7%
# CER; now 8.2%). Every other dithered page of seed 77's first 24 came out at 1.3% ink or more.
# Done on every descreened page, the wider blur lost thin strokes at 200 dpi (8 pages: 10.8% ->
# 19.8% CER).
FAINT_INK = 0.005
FAINT_SIGMA = 1.5
FAINT_CONTRAST = 0.1


# Impulse noise on a grey page (salt and pepper: single pixels turned black or white, as a dirty
# sensor or a noisy line gives): when more than this share of the dark pixels stand alone in
# their 5x5 neighbourhood, dark pixels with at most one dark neighbour, and light ones with at
# most one light neighbour, take the grey around them (:func:`_without_impulses`). Clean pages
# have at most 1.7% such pixels (seed 77, 150 and 300 dpi), pages with photographs 0.2%, eroded
# type at 100-200 dpi up to 4.6%: there the removal cost 2-16 points of CER (counted in a 3x3
# neighbourhood, such pages passed 5%). 0.5% of the pixels turned to salt and pepper give
# 5.5-8.6%, 1% give 9.8-16%.
IMPULSE_LONE = 0.06


def _impulse_share(g8: np.ndarray, t_full: np.ndarray, band: int = 32, every: int = 8) -> float:
    """Share of the dark pixels (``g8`` below the threshold ``t_full``) that stand alone (no other
    dark pixel in their 5x5 neighbourhood), counted on every ``every``-th band of ``band`` rows:
    an eighth of the page, compared and counted there only (5 ms at 300 dpi)."""
    lone = total = 0
    for y in range(0, g8.shape[0], band * every):
        d = g8[y: y + band] < t_full[y: y + band]
        lone += int(np.count_nonzero(d & (_ink_count(d, 5) == 1)))
        total += int(np.count_nonzero(d))
    return lone / max(1, total)


def _without_impulses(g8: np.ndarray, dark: np.ndarray) -> np.ndarray:
    """Grey ``g8`` with its impulse noise taken out: a dark pixel with at most one dark
    neighbour (``dark``: below the page's threshold) takes the lightest grey around it, a light
    one with at most one light neighbour the darkest: single pixels and pairs. A stroke a pixel
    wide loses only its end pixels, where a 3x3 median erased it whole (eroded type at 150 dpi
    read worse after a median than with the noise)."""
    nb = _ink_3x3(dark)
    pepper = dark & (nb <= 2)
    salt = ~dark & (nb >= 7)
    out = g8.copy()
    out[pepper] = ndi.maximum_filter(g8, size=3)[pepper]
    out[salt] = ndi.minimum_filter(g8, size=3)[salt]
    return out


def looks_dithered(g8: np.ndarray) -> bool:
    """Whether a two-level image is dithered (error diffusion, halftone): grey rendered as dots.

    Scanners in "halftone" mode and fax software dither: text strokes and paper alike become
    fields of single dots. Taken as ink, the dots chained into false lines and the crops were
    read as noise (a 300-dpi page: 375 lines read for 57, 90% CER). More than :data:`DITHER_ISOLATED` of
    the ink pixels stand alone there (24% to 99% on dithered synthetic pages at 100-300 dpi),
    against under 3% on thresholded scans of the same pages, specks included.
    """
    ink, lone, _ = _lone_ink(g8)
    return lone.sum() > DITHER_ISOLATED * max(1, int(ink.sum()))


def _lone_ink(g8: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """A two-level image's ink (the rarer level), the ink pixels with no ink among their 8
    neighbours, and the paper's level."""
    lo, hi = int(g8.min()), int(g8.max())
    if hi == lo:
        none = np.zeros(g8.shape, bool)
        return none, none, hi
    ink = g8 == lo
    paper = hi
    if np.count_nonzero(ink) * 2 > g8.size:
        ink, paper = g8 == hi, lo
    return ink, ink & (_ink_3x3(ink) == 1), paper


def _ink_count(ink: np.ndarray, k: int) -> np.ndarray:
    """Ink pixels in each pixel's k x k neighbourhood, itself included (uint8; k <= 15)."""
    nb = ndi.correlate1d(ink.view(np.uint8), np.ones(k, np.uint8), axis=0, mode="constant")
    return ndi.correlate1d(nb, np.ones(k, np.uint8), axis=1, mode="constant")


def _ink_3x3(ink: np.ndarray) -> np.ndarray:
    """Ink pixels in each pixel's 3x3 neighbourhood, itself included (uint8)."""
    return _ink_count(ink, 3)


def descreened(g8: np.ndarray) -> np.ndarray:
    """A dithered two-level image as 8-bit grey: dots averaged by a small Gaussian blur."""
    return np.asarray(Image.fromarray(g8).filter(ImageFilter.GaussianBlur(DESCREEN_SIGMA)))


# Dot fields: a bilevel scan whose paper went grey (a shadow, a stain, a dark gutter) and was
# thresholded with noise: there the paper is a field of random dots, text inside it.
FIELD_BLOCKS = 48  # blocks along the page's longer side in which ink is tested for randomness
# A block's ink is a dot field when its clustering (the chance that an ink pixel's right or lower
# neighbour is ink) exceeds its density by less than this: random dots do not cluster (excess
# near 0), type does (0.25 or more on synthetic pages at 100 dpi, 0.4 at 150, 0.5 at 300).
FIELD_EXCESS = 0.2
FIELD_DENSITY = (0.15, 0.85)  # ink density of a field block: sparser dots are specks; denser, solid dark
FIELD_SIGMA = 1.5  # Gaussian blur (pixels) that turns a field's dots into the grey level they stand for
FIELD_LEVEL = 0.45  # threshold inside a field, a share of its local paper level
FIELD_SPREADS = 3.5  # ... and at least this many standard deviations of the blurred dots below it
FIELD_LIGHT = 0.8  # paper lighter than this: the field's ink is as given, less its lone dots


def _dot_field(ink: np.ndarray) -> np.ndarray | None:
    """Where a bilevel page's paper is a field of random dots, as a full-resolution mask (None
    when nowhere).

    A page thresholded where its paper had gone grey keeps its text as solid strokes in a field
    of noise dots. Taken as ink, the dots bridged lines into tall merged crops and border
    clearing took the field, text and all, as a dark edge (one page: 28% CER). Type clusters
    (its ink pixels have ink neighbours far more often than its density would give by chance);
    noise does not: blocks whose clustering exceeds their density by under
    :data:`FIELD_EXCESS`, with a density within :data:`FIELD_DENSITY`, are the field, grown by
    a block to take in its edge, where it thins out among the text. Solid dark regions (a few
    light specks in black are random too) are not: border clearing takes those.
    """
    H, W = ink.shape
    b = max(16, max(H, W) // FIELD_BLOCKS)
    hb, wb = H // b, W // b
    if hb < 2 or wb < 2:
        return None
    i = ink[:hb * b, :wb * b]

    def per_block(a: np.ndarray) -> np.ndarray:
        return a.reshape(hb, b, a.shape[1] // b, b).sum(axis=(1, 3), dtype=np.int64)

    n = per_block(i)
    # ink pixels whose right, and whose lower, neighbour is ink
    pairs = per_block(np.pad(i[:, 1:] & i[:, :-1], ((0, 0), (0, 1)))) + per_block(np.pad(i[1:] & i[:-1], ((0, 1), (0, 0))))
    density = n / float(b * b)
    clustering = pairs / np.maximum(2.0 * n, 1.0)
    blocks = (density >= FIELD_DENSITY[0]) & (density <= FIELD_DENSITY[1]) & (clustering - density < FIELD_EXCESS)
    if not blocks.any():
        return None
    blocks = ndi.binary_dilation(blocks, structure=np.ones((3, 3), bool))
    mask = np.zeros((H, W), bool)
    mask[:hb * b, :wb * b] = np.repeat(np.repeat(blocks, b, axis=0), b, axis=1)
    if hb * b < H:
        mask[hb * b:, :wb * b] = mask[hb * b - 1, :wb * b]
    if wb * b < W:
        mask[:, wb * b:] = mask[:, wb * b - 1: wb * b]
    return mask


def _read_through_field(g8: np.ndarray, ink: np.ndarray, field: np.ndarray, f: int, lo: int,
                        hi: int) -> tuple[np.ndarray, np.ndarray]:
    """Ink and a cleaned two-level image, read through the dot field in ``field``.

    The dots average, under a Gaussian blur of :data:`FIELD_SIGMA`, to the grey the paper had
    there; solid strokes stay darker. The paper's level is the lightest local average (a max
    filter over averages of about 12 x 12 pixels, as :func:`_level_maps` finds the background),
    and the field's ink is what lies below :data:`FIELD_LEVEL` of it. Outside the field the
    ink is as given; inside it the image that crops read is the ink found, in the image's
    own two levels, so lines are read without the dots.
    """
    ys, xs = np.nonzero(field.any(axis=1))[0], np.nonzero(field.any(axis=0))[0]
    y0, y1, x0, x1 = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
    m = max(1, int(round(4 * FIELD_SIGMA)))
    ya, yb, xa, xb = max(0, y0 - m), min(g8.shape[0], y1 + m), max(0, x0 - m), min(g8.shape[1], x1 + m)
    sub = Image.fromarray(g8[ya:yb, xa:xb])
    blurred = np.asarray(sub.filter(ImageFilter.GaussianBlur(FIELD_SIGMA)))
    small = np.asarray(sub.reduce(f) if f > 1 else sub, dtype=np.float32) / 255.0
    mean = ndi.uniform_filter(small, size=max(2, int(round(12 / f))), mode="nearest")
    win = (min(25, mean.shape[0]), min(25, mean.shape[1]))
    paper = ndi.uniform_filter(ndi.maximum_filter(mean, size=win, mode="nearest"), size=win, mode="nearest")
    # below the paper by a share of it, and by enough of the dots' own spread that they stay out
    dots = np.clip(1.0 - paper, 0.0, 1.0)
    spread = np.sqrt(dots * (1.0 - dots) / (4.0 * math.pi * FIELD_SIGMA ** 2))
    level = np.minimum(FIELD_LEVEL * paper, paper - FIELD_SPREADS * spread)
    t8 = np.clip(np.round(lo + (hi - lo) * level), 0, 255).astype(np.uint8)
    # light fields: the dots stand apart and strokes are best as given, without lone dots
    t8[paper > FIELD_LIGHT] = 255
    size = (xb - xa, yb - ya)
    cut = np.asarray(Image.fromarray(t8).resize(size, Image.NEAREST))
    light = cut == 255
    read = (blurred < cut) & ~light
    given = ink[ya:yb, xa:xb]
    read |= light & given & (_ink_3x3(given) > 1)
    inside = field[ya:yb, xa:xb]
    # what the blur left of the dots: blobs smaller than a small letter's dot
    labels, n = ndi.label(read & inside)
    if n:
        min_area = 3.0 * (max(g8.shape) / 600.0) ** 2
        area = np.bincount(labels.ravel(), minlength=n + 1)
        small_blob = area < min_area
        small_blob[0] = False
        read &= ~small_blob[labels]
    ink = ink.copy()
    ink[ya:yb, xa:xb] = np.where(inside, read, ink[ya:yb, xa:xb])
    g8 = g8.copy()
    g8[ya:yb, xa:xb] = np.where(inside, np.where(read, np.uint8(lo), np.uint8(hi)), g8[ya:yb, xa:xb])
    return ink, g8


def _is_two_level(g8: np.ndarray) -> bool:
    """True when the image holds at most two grey levels (a bilevel scan or a mode "1" image)."""
    sub = g8[::7, ::7]
    lo, hi = int(sub.min()), int(sub.max())
    if np.count_nonzero((sub != lo) & (sub != hi)):
        return False
    lo, hi = int(g8.min()), int(g8.max())
    if hi == lo:
        return True
    return hi - lo >= 64 and not np.count_nonzero((g8 != lo) & (g8 != hi))


BORDER_CONTACT = 0.1  # share of a page edge along which a dark region runs to count as border
BORDER_RING = 0.005  # how close to the edge (share of the page's shorter side) counts as touching
BORDER_FILL = 0.5  # share of ink that makes a reduced cell dark, for finding borders


def _clear_borders(ink: np.ndarray) -> np.ndarray:
    """Ink with the page's dark borders removed: regions running along an edge of the image.

    Scanners with the lid open, photocopied book edges and film frames leave dark bands along
    the page's edges. They are neither text nor pictures, and they fool what comes next: their
    straight edges pulled the skew estimate to 0, and a band along the bottom swamped the line
    pitch so that no line was found at all on a page that reads fine without it. A region
    counts as border when it lies within :data:`BORDER_RING` of an edge along at least
    :data:`BORDER_CONTACT` of that edge; text touches an edge along a glyph or two at most.
    Found at about 600 pixels on the long side; the region (one cell more) is cleared at full
    resolution, with anything touching it. Cheap when there is none: one labelling of a small
    image.

    A reduced cell counts as dark when at least :data:`BORDER_FILL` of it is ink: borders are
    solid. Counting any ink made specks chain into one region: on a page with 2% salt-and-pepper
    noise, or a dithered bilevel scan at 300 dpi, every cell held a speck, the whole page was
    one region along all four edges, and all of it, text included, was cleared (no line found).
    """
    H, W = ink.shape
    f = max(1, int(round(max(H, W) / 600.0)))
    if f > 1:
        r = np.asarray(Image.fromarray(ink.view(np.uint8) * np.uint8(255)).reduce(f)) >= round(255 * BORDER_FILL)
    else:
        r = ink
    h, w = r.shape
    labels, n = ndi.label(r, structure=np.ones((3, 3), bool))
    if n == 0:
        return ink
    ring = max(1, int(round(BORDER_RING * min(h, w))))
    border = np.zeros(n + 1, bool)
    for strip, along in ((labels[:ring], 1), (labels[-ring:], 1), (labels[:, :ring], 0), (labels[:, -ring:], 0)):
        ys, xs = np.nonzero(strip)
        if ys.size == 0:
            continue
        size = strip.shape[along]
        pos = xs if along == 1 else ys
        # positions along the edge each region occupies (counted once, however deep)
        key = np.unique(strip[ys, xs].astype(np.int64) * (size + 1) + pos)
        border |= np.bincount(key // (size + 1), minlength=n + 1) >= BORDER_CONTACT * size
    border[0] = False
    if not border.any():
        return ink
    mask = ndi.binary_dilation(border[labels], structure=np.ones((3, 3), bool))
    if f > 1:
        mask = np.repeat(np.repeat(mask, f, axis=0), f, axis=1)[:H, :W]
    return ink & ~mask


SHOW_THROUGH_LEVEL = 0.5  # ink darker than this, between the page's darkest ink (0) and paper (1), is the front's
# The front's darkest ink must reach at least this close to black (relative to the paper) to
# tell the back page by: on faint pages (0.57-0.85 on 5 synthetic ones, 0.02-0.50 on pages
# showing through) the split ran through the front's own strokes and lost lines.
SHOW_THROUGH_DARKEST = 0.55
# Least sharpness (steepest step to a lighter neighbour over contrast, see sharp_cores) that
# makes a component the front's whatever its level; also the least step, over its own contrast,
# that makes one of its pixels part of a stroke's edge.
SHOW_THROUGH_SHARP = 0.6
# A sharp component's pixels within this share of its contrast above its darkest are its core:
# at 0.3-0.5 a light, thin face (seed 77 page 3, 300 dpi) kept the back page's strokes joined
# to it (15.4% -> 18.1-27.6% CER); at 0.15 13.6%.
SHARP_CORE = 0.15
BACK_COMPONENTS = 10  # soft components lighter than the level that tell the back page's darkness


def _without_back_page(ink0: np.ndarray, g8: np.ndarray, raw: np.ndarray, bg_map: np.ndarray,
                       f: int) -> tuple[np.ndarray, bool]:
    """Ink without the back of the sheet showing through (for ``show_through``).

    On thin paper the back page's text shows through, mirrored and blurred. Where the front has
    no text, the local ink level is the back page's, so its strokes were stretched to full ink
    and taken as text (a page with a short text read its back page as 44 lines of garbage).
    Printed ink on the front is as dark as ink gets on the page; strokes seen through the paper
    never are. So ink counts only within a pixel or two (``f // 2``) of pixels darker than
    :data:`SHOW_THROUGH_LEVEL` of the way from the page's darkest ink (the 5th percentile of
    the darkest pixel of each ink-bearing block of ``f`` x ``f`` pixels, relative to the paper)
    to the paper: the front's strokes keep their soft edges, the back page's strokes go but
    where they touch the front's. The front's sharp-edged strokes count too, whatever their level
    (:func:`sharp_cores`): the darkest ink may be a black heading's, and grey body text no
    darker than the back page. Not for every page: at 100 dpi the thin strokes of a light
    face never get that dark, and on clean pages drawn so this lost body text (41% -> 45% CER
    on 6 pages); :mod:`ocrcore.preprocess.scan` asks for it where the line crops show the back
    page (:mod:`ocrcore.preprocess.showthrough`). Returns the ink and whether the back page was
    taken out: not on a page too faint to tell it by (:data:`SHOW_THROUGH_DARKEST`). ``g8``:
    the grey thresholded (smoothed on a grainy scan), ``raw``: the grey as given, whose edges
    the smoothing would soften.
    """
    H, W = ink0.shape
    h, w = H // f, W // f
    if h < 8 or w < 8:
        return ink0, False
    blk = ink0[:h * f, :w * f].reshape(h, f, w, f).any(axis=(1, 3)) if f > 1 else ink0[:h, :w]
    if not blk.any():
        return ink0, False
    gmin = g8[:h * f, :w * f].reshape(h, f, w, f).min(axis=(1, 3)) if f > 1 else g8[:h, :w]
    rel = (gmin.astype(np.float32) / 255.0) / np.maximum(bg_map[:h, :w], 1e-3)
    darkest = float(np.percentile(rel[blk], 5.0))
    if darkest > SHOW_THROUGH_DARKEST:
        return ink0, False
    level = darkest + SHOW_THROUGH_LEVEL * (1.0 - darkest)
    # full resolution: pixels darker than the level against the paper, grown by a pixel or two
    cut = np.clip(np.round(bg_map * (255.0 * level)), 0, 255).astype(np.uint8)
    core = g8 < np.asarray(Image.fromarray(cut).resize((W, H), Image.NEAREST))
    core |= _sharp_cores(ink0, raw, bg_map, f, level)
    for _ in range(max(1, f // 2)):
        core = dilate3x3(core)
    return ink0 & core, True


def _sharp_cores(ink: np.ndarray, g8: np.ndarray, bg_map: np.ndarray, f: int, level: float) -> np.ndarray:
    """:func:`sharp_cores` of a page's ink, each component's paper read from ``bg_map`` (at
    ``1 / f`` of the page's size) at its top-left corner."""
    hm, wm = bg_map.shape

    def paper_at(ys, xs):
        return 255.0 * bg_map[np.minimum(ys // f, hm - 1), np.minimum(xs // f, wm - 1)]

    return sharp_cores(ink, g8, paper_at, level=level)


def sharp_cores(ink: np.ndarray, g8: np.ndarray, paper_at, *, level: Optional[float] = None) -> np.ndarray:
    """The core of each sharp-edged component of ``ink`` (:data:`SHOW_THROUGH_SHARP`) on
    grey ``g8``: the front's strokes whatever their level, since the paper blurs the back page's.
    ``paper_at(ys, xs)``: the paper's grey level (0-255) at the components' top-left corners.
    ``level``: when given, the level (relative to the paper) under which ink is surely the
    front's; then a sharp component must also be darker than the back page's strokes, the 10th
    percentile of the darkest pixel of the soft components lighter than that level (at least
    :data:`BACK_COMPONENTS` of them): at 100-150 dpi the paper's blur is a pixel or less, and
    the back page's strokes passed for sharp (150 dpi, the back at half the front's darkness:
    0.24% -> 1.22% CER).

    The level alone took the front's grey body text for the back page where a black heading
    set the page's darkest ink (a 200-dpi page: half its ink gone, 68.6% CER). A component's
    sharpness is its steepest step from a pixel to a lighter 4-neighbour over its contrast
    (paper minus its darkest pixel), on the grey median-filtered so a lone speck is no edge.
    Printed strokes reach 0.5-1 (the 5th percentile 0.52-0.67 on 7 synthetic pages at 100-300
    dpi), strokes seen through the paper stay under 0.55 at 150-300 dpi; at 100 dpi the paper's
    blur is under a pixel and they overlap (bench/RESULTS.md). Only the darkest pixels of a sharp
    component and those that are a sharp step themselves count as core, so back-page strokes
    joined to a front stroke still go.
    """
    labels, n = ndi.label(ink, structure=np.ones((3, 3), bool))
    if n == 0:
        return np.zeros_like(ink)
    # median-filtered: a lone speck has no edges
    g = np.asarray(Image.fromarray(g8).filter(ImageFilter.MedianFilter(3))).astype(np.int16)
    step = lighter_step(g)
    at = labels[ink]
    steep = np.zeros(n + 1, np.int16)
    np.maximum.at(steep, at, step[ink])
    darkest = np.full(n + 1, 255, np.int16)
    np.minimum.at(darkest, at, g[ink])
    starts = np.array([(sl[0].start, sl[1].start) for sl in ndi.find_objects(labels)])
    paper = np.zeros(n + 1)
    paper[1:] = paper_at(starts[:, 0], starts[:, 1])
    contrast = paper - darkest
    sharp = (steep >= SHOW_THROUGH_SHARP * contrast) & (contrast > 0)
    sharp[0] = False
    if level is not None:
        rel = darkest / np.maximum(paper, 1.0)
        back = ~sharp & (rel >= level) & (contrast > 0)
        back[0] = False
        if np.count_nonzero(back) >= BACK_COMPONENTS:
            sharp &= rel < np.percentile(rel[back], 10.0)
    # the core: a sharp component's darkest pixels (a thick stroke's inside), and its pixels at
    # least half as dark as its darkest that are themselves a sharp step above the paper (a thin
    # stroke's; the back page's pixels joined to it are not: their lighter neighbours are the
    # back page's, and grain on a noisy page does not make a light pixel an edge)
    gi = g[ink]
    own = paper[at] - gi
    core = np.zeros_like(ink)
    core[ink] = sharp[at] & ((gi < np.ceil(darkest + SHARP_CORE * contrast)[at])
                             | ((step[ink] >= SHOW_THROUGH_SHARP * own) & (own >= 0.5 * contrast[at])))
    return core


def lighter_step(g: np.ndarray) -> np.ndarray:
    """For each pixel of ``g`` (int16 grey), how much lighter its lightest 4-neighbour is (0 when
    none is lighter). A step to a darker neighbour does not count: a blurred stroke beside a
    sharp one would take the sharp one's edge as its own."""
    step = np.zeros(g.shape, np.int16)
    d = g[1:] - g[:-1]
    np.maximum(step[:-1], d, out=step[:-1])
    np.maximum(step[1:], -d, out=step[1:])
    d = g[:, 1:] - g[:, :-1]
    np.maximum(step[:, :-1], d, out=step[:, :-1])
    np.maximum(step[:, 1:], -d, out=step[:, 1:])
    return step


def dilate3x3(m: np.ndarray) -> np.ndarray:
    """3x3 binary dilation by slicing (cheaper than scipy's, for whole pages and small masks)."""
    out = m.copy()
    out[1:] |= m[:-1]
    out[:-1] |= m[1:]
    tmp = out.copy()
    out[:, 1:] |= tmp[:, :-1]
    out[:, :-1] |= tmp[:, 1:]
    return out


def _looks_inverted(g8: np.ndarray, small: np.ndarray, binary_input: bool) -> bool:
    """Light text on a dark page: most of the page (the background) is dark."""
    if binary_input:
        lo, hi = int(g8.min()), int(g8.max())
        if hi == lo:
            return False
        sub = g8[::3, ::3]
        return np.count_nonzero(sub == lo) > sub.size // 2
    # The background dominates any page; its median level tells the polarity.
    return float(np.median(small)) < 0.45


def _level_maps(g8, small, f, bg_window, ink_percentile, min_contrast, contrast_floor=0.06):
    """Background and ink level maps (float32, 0..1) at the reduced resolution of ``small``, and
    the pixel noise level.

    Background: max filter over ``bg_window`` (wider than strokes and line gaps), smoothed.
    Ink: a low percentile of the full-resolution grey in tiles of ``2 * bg_window`` map pixels
    (local contrast); tiles whose ink is not at least ``min_contrast`` darker than the background
    hold no text and borrow a level that keeps their threshold well below the background.
    """
    mh, mw = small.shape
    win = int(max(3, min(bg_window, max(mh, mw))))
    if f < 4:
        # Average about 4x4 source pixels first, or the max filter would pick the noise peaks.
        small = ndi.uniform_filter(small, size=max(2, 4 // f), mode="nearest")
    bg = ndi.maximum_filter(small, size=(min(win, mh), min(win, mw)), mode="nearest")
    bg = ndi.uniform_filter(bg, size=(min(win, mh), min(win, mw)), mode="nearest")
    bg = np.maximum(bg, small)  # never darker than the pixel itself: background stays above threshold

    # Ink levels per tile from a half-resolution subsample (enough pixels, a quarter of the work).
    H, W = g8.shape
    step = 2 if min(H, W) >= 64 else 1
    sub = g8[::step, ::step]
    tile = max(8, int(round(win * f / step)))
    ty, tx = max(1, sub.shape[0] // tile), max(1, sub.shape[1] // tile)
    th, tw = sub.shape[0] // ty, sub.shape[1] // tx
    blocks = sub[: ty * th, : tx * tw].reshape(ty, th, tx, tw).transpose(0, 2, 1, 3).reshape(ty, tx, th * tw)
    bg_t = np.asarray(Image.fromarray(bg).resize((tx, ty), Image.BOX), dtype=np.float32)
    n = th * tw
    k = int(round(ink_percentile / 100.0 * (n - 1)))
    k25, k50 = n // 4, n // 2
    part = np.partition(blocks, sorted({k, k25, k50}), axis=2)
    ink_t = part[:, :, k].astype(np.float32) / 255.0
    # Pixel noise from the spread of the mostly-background middle of each tile: on a clean page
    # faint text is still text, on a noisy one the contrast needed rises with the noise.
    noise = float(np.median(part[:, :, k50].astype(np.float32) - part[:, :, k25])) / 0.674 / 255.0
    min_c = float(np.clip(6.0 * noise, contrast_floor, max(min_contrast, contrast_floor)))
    contrast = bg_t - ink_t
    valid = contrast >= min_c
    if valid.sum() >= 4:
        # Nor do tiles on the paper whose darkest pixels are a flat, pale shade: under 0.12 and a
        # fifth of the page's usual contrast, and a tile of two levels (its lightest three
        # quarters at the paper's, or its darkest quarter at the shade's). That is shading with
        # sharp edges, not ink: the pale bars across fan-fold "green bar" paper, 10-25 grey
        # levels, once became black blocks in the margins, where no text sets the ink level. A
        # photograph's smooth tiles lie under its own lighter parts or shade gradually (their
        # darkest quarter half way), and keep their level.
        p25 = part[:, :, k25].astype(np.float32) / 255.0
        share = (bg_t - p25) / np.maximum(contrast, 1e-3)
        pale = (contrast < 0.2 * float(np.percentile(contrast[valid], 75))) & (contrast < 0.12)
        flat = (share < 0.15) | (share > 0.85)
        valid &= ~(pale & flat & (bg_t >= float(np.percentile(bg_t, 90)) - 0.05))
    # Text-free tiles: a level far below the background (noise never reaches the threshold there).
    fallback = np.maximum(bg_t - 2.5 * min_c, 0.0) if not valid.any() else np.minimum(
        np.float32(np.median(ink_t[valid])), np.maximum(bg_t - 2.5 * min_c, 0.0))
    ink_t = np.where(valid, ink_t, fallback).astype(np.float32)
    if ink_t.size > 1:
        ink_t = ndi.uniform_filter(ink_t, size=3, mode="nearest")
    ink = np.asarray(Image.fromarray(ink_t).resize((mw, mh), Image.BILINEAR), dtype=np.float32)
    ink = np.minimum(ink, bg - min_c / 2)
    return bg.astype(np.float32), ink.astype(np.float32), noise


def estimate_skew(ink: np.ndarray, max_angle: float = 3.0, *, coarse_step: float = 0.2,
                  fine_step: float = 0.02) -> float:
    """Skew angle (degrees, positive = counter-clockwise) of the text lines in a bool ink image.

    The page is cut into vertical strips; each strip's row sums (horizontal projection) are
    shifted as a rotation by the candidate angle would shift them, and the summed profile is
    sharpest when text lines are horizontal. A coarse search over ``+-max_angle`` on row-binned
    profiles is refined around the best angle on full-resolution profiles, then a parabola
    through the best three scores gives sub-step precision.
    """
    H, W = ink.shape
    if H < 16 or W < 16:
        return 0.0
    # Narrow strips: within a strip a line drifts by width * tan(angle), which blurs the profile.
    K = int(np.clip(W // 20, 4, 64))
    bounds = np.linspace(0, W, K + 1).round().astype(np.intp)
    P = np.add.reduceat(ink.view(np.uint8), bounds[:-1], axis=1, dtype=np.int32)
    if int(P.sum()) < 50:
        return 0.0
    xk = (bounds[:-1] + bounds[1:]) / 2.0 - W / 2.0

    def binned(rb):
        n = H // rb
        q = P[: n * rb].reshape(n, rb, K).sum(axis=1) if rb > 1 else P
        return q.astype(np.float32)

    rb = max(1, H // 1500)
    # Over a wide range the first search takes about 30 steps (a step of 0.67 degrees for +-10;
    # 0.2 for +-3), then ``coarse_step`` within one of those steps of the best: the time of a
    # +-3 search instead of twice it (0.041 s more per 300-dpi page at 0.2 over +-10).
    step = max(coarse_step, max_angle / 15.0)
    angles = np.arange(-max_angle, max_angle + 1e-9, step)
    if len(angles) < 3:
        angles = np.array([-max_angle, 0.0, max_angle])
    binned_c = binned(rb)
    sc = _profile_scores(binned_c, xk / rb, np.tan(np.radians(angles)))
    best = float(angles[int(np.argmax(sc))])
    if step > coarse_step * 1.001:
        mid = best + np.arange(-step, step + 1e-9, coarse_step)
        mid = mid[np.abs(mid) <= max_angle + 1e-9]
        sm = _profile_scores(binned_c, xk / rb, np.tan(np.radians(mid)))
        best = float(mid[int(np.argmax(sm))])
    rf = max(1, H // 1800)
    fine = best + np.arange(-2 * coarse_step, 2 * coarse_step + 1e-9, fine_step)
    sf = _profile_scores(binned(rf), xk / rf, np.tan(np.radians(fine)))
    i = int(np.argmax(sf))
    a = float(fine[i])
    if 0 < i < len(fine) - 1:
        y0, y1, y2 = sf[i - 1], sf[i], sf[i + 1]
        den = y0 - 2 * y1 + y2
        if den < 0:
            a += fine_step * 0.5 * (y0 - y2) / den
    return float(np.clip(a, -max_angle, max_angle))


def _profile_scores(P: np.ndarray, xk: np.ndarray, slopes: np.ndarray) -> np.ndarray:
    """Sharpness (sum of squared row-to-row differences) of the strip-shifted projection profile.

    One score per slope (tangent of a candidate angle; strip k moves by ``xk * slope`` rows).
    Differences, not the profile itself, so the flat part (noise, pictures) adds nothing and the
    edges of text lines (x-height line, baseline) dominate.
    """
    U, K = P.shape
    t = np.asarray(slopes, dtype=np.float64)
    # A line rotated counter-clockwise by a sits at y = c - x tan(a): strip k's profile is read
    # at u - xk tan(a) (linear interpolation), so that every strip lines up with the centre.
    # The profiles are smoothed first: linear interpolation blurs a little at every angle except
    # 0 (no shift at all), which would otherwise score higher than its neighbours for no reason.
    P = ndi.gaussian_filter1d(P.astype(np.float32), 1.0, axis=0)
    shifts = xk[None, :] * t[:, None]  # (A, K), in rows
    M = int(math.ceil(np.abs(shifts).max())) + 2
    n = U + 2 * M  # output rows cover all shifted mass
    Pp = np.zeros((K, U + 4 * M + 1), np.float32)
    Pp[:, 2 * M: 2 * M + U] = P.T
    Dp = np.zeros_like(Pp)
    Dp[:, :-1] = Pp[:, 1:] - Pp[:, :-1]
    fl = np.floor(-shifts)
    w = (-shifts - fl).astype(np.float32)
    start = (M + fl).astype(np.intp)
    # The two halves of the page are scored apart: text columns whose lines are not at the same
    # heights must not reward the angle that lines up one column's lines with the other's.
    group = max(1, (K + 1) // 2)
    scores = np.zeros(len(t))
    prof = np.empty(n, np.float32)
    for a in range(len(t)):
        for g0 in range(0, K, group):
            prof[:] = 0
            for k in range(g0, min(K, g0 + group)):
                i0 = start[a, k]
                prof += Pp[k, i0:i0 + n]
                prof += w[a, k] * Dp[k, i0:i0 + n]
            d = np.diff(prof.astype(np.float64))
            scores[a] += float(np.dot(d, d))
    return scores

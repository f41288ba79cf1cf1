"""Line normalization: a line image to the recognizer's input height, with its mapping kept.

Two modes:

- ``"scale"``: the line crop is scaled uniformly to the target height (aspect kept), with white
  padding around it.
- ``"center"``: OCRopus-style centre-line normalization: the text's centre line is traced (argmax
  of a heavily smoothed ink image per column, then smoothed), each column is shifted so the centre
  line sits in the middle, and a band a fixed multiple of the text's vertical spread is scaled to
  the target height. Undoes mild baseline curl and wobble; x is still scaled linearly.

Both keep x linear, so positions along the normalized line (CTC frame boundaries, character
edges) map back exactly: normalized x -> crop x -> deskewed page -> ORIGINAL image, through
:meth:`NormalizedLine.x_to_original` and :meth:`NormalizedLine.to_original_bbox`. The mapping
uses the line's true width (its content columns), never the padding.

Polarity everywhere: float32, 1.0 = background (white), 0.0 = ink, as :func:`ocrcore.imageio.to_gray`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ocrcore.containers import BBox
from ocrcore.preprocess.segment import LineCrop

__all__ = ["NormalizedLine", "normalize_line"]


@dataclass
class NormalizedLine:
    """A line at the recognizer's input height.

    ``image``: float32 ``height x width``, 1.0 = background, 0.0 = ink. The line occupies columns
    ``x_offset .. x_offset + width`` (``width`` = its true width after scaling; the crop's own
    padding and the output padding lie outside). ``scale``: output pixels per crop pixel (x).
    ``crop``: the :class:`LineCrop` the line came from (mapping to the original page), or None
    for a bare array (then "original" means the input array's coordinates). ``content``: the crop
    columns that hold the line (x0, x1). Rows: in ``"scale"`` mode crop y = (y - y_offset) *
    y_scale; in ``"center"`` mode crop y = center[x] + (y - height / 2) * y_scale per column x.
    """

    image: np.ndarray
    scale: float
    x_offset: float
    width: int
    content: tuple[float, float]
    crop: Optional[LineCrop] = None
    y_offset: float = 0.0
    y_scale: float = 1.0  # crop pixels per output pixel (y)
    center: Optional[np.ndarray] = None  # per output column, crop row of the centre line
    mode: str = "scale"

    @property
    def height(self) -> int:
        return int(self.image.shape[0])

    def x_to_crop(self, xs) -> np.ndarray:
        """Normalized x -> crop x (clipped to the line's content)."""
        xs = np.asarray(xs, dtype=np.float64)
        cx = (xs - self.x_offset) / self.scale + self.content[0]
        return np.clip(cx, self.content[0], self.content[1])

    def _y_to_crop(self, ys, xs) -> np.ndarray:
        ys = np.asarray(ys, dtype=np.float64)
        if self.mode == "center" and self.center is not None:
            col = np.clip(np.floor(np.asarray(xs, dtype=np.float64)).astype(int), 0, len(self.center) - 1)
            return self.center[col] + (ys - self.height / 2.0) * self.y_scale
        return (ys - self.y_offset) * self.y_scale

    def x_to_original(self, xs) -> np.ndarray:
        """Normalized x positions -> x in ORIGINAL image coordinates (at the line's mid-height).

        With a crop from a deskewed page, a point's original x also depends on its height; the
        line's vertical middle is used, so the answer is exact for upright pages and within a
        fraction of a pixel per degree of skew otherwise. Use :meth:`to_original_bbox` for boxes.
        """
        cx = self.x_to_crop(xs)
        if self.crop is None:
            return cx
        h = self.crop.image.shape[0]
        ox, _ = self.crop.to_original(cx, np.full_like(cx, h / 2.0))
        return ox

    def to_original_bbox(self, bbox: BBox) -> BBox:
        """Normalized-line box -> integer box in ORIGINAL image coordinates."""
        x0, y0, x1, y1 = bbox
        cx0, cx1 = self.x_to_crop([x0, x1])
        ys = self._y_to_crop([y0, y1, y0, y1], [x0, x0, x1, x1])
        cy0, cy1 = float(np.min(ys)), float(np.max(ys))
        if self.crop is None:
            return (int(np.floor(cx0)), int(np.floor(cy0)), int(np.ceil(cx1)), int(np.ceil(cy1)))
        return self.crop.to_original_bbox((float(cx0), cy0, float(cx1), cy1))


def _as_gray(line) -> tuple[np.ndarray, Optional[LineCrop], tuple[float, float]]:
    if isinstance(line, LineCrop):
        img = np.asarray(line.image, dtype=np.float32)
        return img, line, (float(line.content[0]), float(line.content[1]))
    if isinstance(line, Image.Image):
        from ocrcore.imageio import to_gray

        img = to_gray(line)
    else:
        a = np.asarray(line)
        if a.ndim != 2:
            raise ValueError(f"line image must be 2-D, got shape {a.shape}")
        img = a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)
    return img, None, (0.0, float(img.shape[1]))


def _resize(img: np.ndarray, w: int, h: int) -> np.ndarray:
    """Float image resize (area-like when shrinking, bilinear when growing)."""
    im = Image.fromarray(np.ascontiguousarray(img, dtype=np.float32))
    shrink = w < img.shape[1] or h < img.shape[0]
    return np.asarray(im.resize((max(1, w), max(1, h)), Image.BOX if shrink else Image.BILINEAR), dtype=np.float32)


def normalize_line(
    line,
    height: int = 48,
    *,
    mode: str = "scale",
    vpad: int = 2,
    hpad: int = 4,
    width_multiple: int = 1,
    max_width: Optional[int] = None,
    range_factor: float = 8.0,
) -> NormalizedLine:
    """Scale a line image (a :class:`LineCrop`, 2-D float/uint8 array or PIL image) to ``height``.

    ``vpad``/``hpad``: white margin (output pixels) above/below and left/right. ``width_multiple``:
    pad the output width up to a multiple (e.g. the recognizer's total stride). ``max_width``:
    lines that would be wider are squeezed in x to fit (the mapping stays exact). ``mode``:
    ``"scale"`` or ``"center"`` (see module doc); ``range_factor``: in centre mode, the band
    height in units of the ink's mean distance from the centre line.
    """
    if height < 2 * vpad + 2:
        raise ValueError(f"height {height} too small for vpad {vpad}")
    img, crop, content = _as_gray(line)
    h, w = img.shape
    inner = height - 2 * vpad
    if h == 0 or w == 0:
        out = np.ones((height, max(width_multiple, 2 * hpad + 1)), np.float32)
        return NormalizedLine(out, 1.0, float(hpad), 0, content, crop, float(vpad), 1.0, None, mode)
    if mode == "scale":
        sy = inner / float(h)
        sx = sy
        nw = max(1, int(round(w * sx)))
        if max_width is not None and nw + 2 * hpad > max_width:
            nw = max(1, max_width - 2 * hpad)
        sx = nw / float(w)  # exact for the rounded width
        body = _resize(img, nw, inner)
        center = None
        y_scale = 1.0 / sy
        y_offset = float(vpad)
    elif mode == "center":
        ink = 1.0 - np.clip(img, 0, 1)
        sm = ndi.gaussian_filter(ink, (h * 0.25, h * 0.5), mode="constant")
        cen = np.argmax(sm, axis=0).astype(np.float64)
        weight = sm.max(axis=0)
        if weight.max() <= 0:
            cen[:] = h / 2.0
        else:
            # Columns without ink borrow the centre of their neighbours.
            good = weight > 0.1 * weight.max()
            cen = np.interp(np.arange(w), np.flatnonzero(good), cen[good]) if good.any() else np.full(w, h / 2.0)
        cen = ndi.gaussian_filter1d(cen, max(1.0, h * 0.5), mode="nearest")
        rows = np.arange(h, dtype=np.float64)[:, None]
        tot = ink.sum()
        spread = float((np.abs(rows - cen[None, :]) * ink).sum() / tot) if tot > 0 else h / 4.0
        band = max(2.0, min(range_factor * spread, 2.0 * h))  # crop rows shown in the output
        y_scale = band / inner  # crop pixels per output pixel
        sx = 1.0 / y_scale
        nw = max(1, int(round(w * sx)))
        if max_width is not None and nw + 2 * hpad > max_width:
            nw = max(1, max_width - 2 * hpad)
        sx = nw / float(w)
        xs_crop = (np.arange(nw) + 0.5) / sx - 0.5
        cen_out = np.interp(xs_crop, np.arange(w), cen)
        oy = (np.arange(inner) + 0.5 - inner / 2.0)[:, None] * y_scale + cen_out[None, :]
        ox = np.broadcast_to(xs_crop[None, :], oy.shape)
        body = ndi.map_coordinates(img, [oy, ox], order=1, mode="constant", cval=1.0, output=np.float32)
        full_center = np.concatenate([np.full(hpad, cen_out[0]), cen_out]) + 0.5
        center = full_center
        y_offset = float(vpad)
    else:
        raise ValueError(f"mode must be 'scale' or 'center', not {mode!r}")
    total = nw + 2 * hpad
    if width_multiple > 1:
        total = -(-total // width_multiple) * width_multiple
    out = np.ones((height, total), np.float32)
    out[vpad:vpad + inner, hpad:hpad + nw] = np.clip(body, 0.0, 1.0)
    scale = sx
    # Crop x = (output x - hpad) / sx: the content columns c0..c1 land at hpad + c * sx.
    c0, c1 = content
    width = int(round((c1 - c0) * scale))
    return NormalizedLine(out, float(scale), float(hpad + c0 * scale), width, content, crop,
                          y_offset, float(y_scale), center, mode)

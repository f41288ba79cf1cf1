"""Coordinate mapping between the deskewed working frame and the ORIGINAL input image.

Preprocessing rotates a page to make its text lines horizontal; every box it reports must still
land on the original image (the data contract of DESIGN.md). :class:`PageTransform` is that
mapping. Coordinates are continuous pixel coordinates: pixel ``(i, j)`` covers ``[i, i+1) x
[j, j+1)``, so an integer box ``(x0, y0, x1, y1)`` with exclusive right/bottom is a rectangle in
the same units.

Angle convention: ``angle`` is the rotation of the page content in the original image, positive =
counter-clockwise on screen, exactly what ``PIL.Image.rotate(angle)`` does to an upright page.
Deskewing rotates by ``-angle``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ocrcore.containers import BBox


def rotated_size(width: int, height: int, angle: float) -> tuple[int, int]:
    """Size of the canvas that holds a ``width x height`` image rotated by ``angle`` degrees."""
    if angle == 0:
        return int(width), int(height)
    a = math.radians(angle)
    c, s = abs(math.cos(a)), abs(math.sin(a))
    return (int(math.ceil(width * c + height * s - 1e-6)), int(math.ceil(width * s + height * c - 1e-6)))


@dataclass(frozen=True)
class PageTransform:
    """Rigid map between the original image and the deskewed frame (rotation about the centres).

    ``orig_size`` and ``size`` are ``(width, height)`` of the original image and of the deskewed
    frame. The deskewed frame is the original rotated by ``-angle`` on a canvas large enough to
    hold all of it, so no content is cut off.
    """

    angle: float
    orig_size: tuple[int, int]
    size: tuple[int, int]

    @classmethod
    def identity(cls, width: int, height: int) -> "PageTransform":
        return cls(0.0, (int(width), int(height)), (int(width), int(height)))

    @classmethod
    def deskew(cls, width: int, height: int, angle: float) -> "PageTransform":
        """Transform that undoes a content rotation of ``angle`` degrees, with an expanded canvas."""
        return cls(float(angle), (int(width), int(height)), rotated_size(width, height, angle))

    @property
    def is_identity(self) -> bool:
        return self.angle == 0.0 and self.orig_size == self.size

    def _cs(self) -> tuple[float, float]:
        a = math.radians(self.angle)
        return math.cos(a), math.sin(a)

    def to_original(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """Deskewed-frame points -> original-image points (continuous coordinates)."""
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        c, s = self._cs()
        dx, dy = xs - self.size[0] / 2.0, ys - self.size[1] / 2.0
        # The original content is the upright content rotated counter-clockwise by ``angle``.
        return (c * dx + s * dy + self.orig_size[0] / 2.0, -s * dx + c * dy + self.orig_size[1] / 2.0)

    def to_deskewed(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """Original-image points -> deskewed-frame points (continuous coordinates)."""
        xs = np.asarray(xs, dtype=np.float64)
        ys = np.asarray(ys, dtype=np.float64)
        c, s = self._cs()
        dx, dy = xs - self.orig_size[0] / 2.0, ys - self.orig_size[1] / 2.0
        return (c * dx - s * dy + self.size[0] / 2.0, s * dx + c * dy + self.size[1] / 2.0)

    def pil_affine(self, origin: tuple[float, float] = (0.0, 0.0)) -> tuple[float, ...]:
        """Coefficients for ``Image.transform(size, Image.AFFINE, data)`` producing the deskewed
        frame, or with ``origin=(x0, y0)`` the part of it whose top-left corner is that point."""
        c, s = self._cs()
        cx, cy = self.size[0] / 2.0 - origin[0], self.size[1] / 2.0 - origin[1]
        ox, oy = self.orig_size[0] / 2.0, self.orig_size[1] / 2.0
        return (c, s, ox - c * cx - s * cy, -s, c, oy + s * cx - c * cy)

    def to_original_bbox(self, bbox: BBox, *, clip: bool = True) -> BBox:
        """Deskewed-frame box -> smallest integer box in the original image holding its corners."""
        return _map_bbox(bbox, self.to_original, self.orig_size if clip else None)

    def to_original_bboxes(self, boxes, *, clip: bool = True) -> list[BBox]:
        """:meth:`to_original_bbox` for many boxes at once (an ``N x 4`` array-like)."""
        return _map_bboxes(boxes, self.to_original, self.orig_size if clip else None)

    def to_deskewed_bbox(self, bbox: BBox, *, clip: bool = True) -> BBox:
        """Original-image box -> smallest integer box in the deskewed frame holding its corners."""
        return _map_bbox(bbox, self.to_deskewed, self.size if clip else None)


def _map_bbox(bbox, fn, clip_size) -> BBox:
    x0, y0, x1, y1 = bbox
    xs, ys = fn([x0, x1, x0, x1], [y0, y0, y1, y1])
    # Round before floor/ceil so that float noise does not grow an exact box by a pixel.
    bx0 = int(math.floor(round(float(xs.min()), 6)))
    by0 = int(math.floor(round(float(ys.min()), 6)))
    bx1 = int(math.ceil(round(float(xs.max()), 6)))
    by1 = int(math.ceil(round(float(ys.max()), 6)))
    if clip_size is not None:
        w, h = clip_size
        bx0, bx1 = min(max(bx0, 0), w), min(max(bx1, 0), w)
        by0, by1 = min(max(by0, 0), h), min(max(by1, 0), h)
    return (bx0, by0, bx1, by1)


def _map_bboxes(boxes, fn, clip_size) -> list[BBox]:
    """:func:`_map_bbox` vectorised over an ``N x 4`` array of boxes (same rounding)."""
    b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    xs, ys = fn(b[:, [0, 2, 0, 2]], b[:, [1, 1, 3, 3]])
    out = np.stack([np.floor(np.round(xs.min(axis=1), 6)), np.floor(np.round(ys.min(axis=1), 6)),
                    np.ceil(np.round(xs.max(axis=1), 6)), np.ceil(np.round(ys.max(axis=1), 6))], axis=1)
    if clip_size is not None:
        w, h = clip_size
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, w)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, h)
    return [tuple(int(v) for v in row) for row in out.astype(np.int64).tolist()]

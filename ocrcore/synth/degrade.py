"""Scan-like degradations for grayscale ("L") images, each parameterised and seeded.

Photometric degradations (blur, noise, specks, shading, threshold, ink bleed/erosion, contrast,
JPEG) return a new image of the same size. Geometric ones (:func:`rotate`, :func:`elastic_warp`,
:func:`curl`)
return ``(image, point_map)`` where ``point_map`` maps an ``(N, 2)`` array of ``x, y`` points in
the input image (continuous pixel-edge coordinates: pixel ``i`` spans ``[i, i+1)``) to the output
image, so callers can carry character boxes through with :func:`map_boxes`.

A box after a geometric transform is the axis-aligned bounds of the transformed glyph box (its
corners and edge midpoints), rounded outwards and clipped to the image; it is not re-fitted to the
ink, so it can be a little looser than the ink after rotation or warping.

Everything here works on whole arrays in C (PIL, numpy, scipy) so that an A4 page at 300 dpi
stays well under a second; randomness only comes from the caller's ``numpy.random.Generator``.
"""
from __future__ import annotations

import io
import math
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image, ImageChops, ImageFilter
from scipy import ndimage as ndi

from ocrcore.containers import BBox

PointMap = Callable[[np.ndarray], np.ndarray]


def identity_map(points: np.ndarray) -> np.ndarray:
    """The point map of a transform that moves nothing."""
    return np.asarray(points, dtype=np.float64)


def compose(*maps: Optional[PointMap]) -> PointMap:
    """One point map applying ``maps`` in order (None entries are skipped)."""
    maps = tuple(m for m in maps if m is not None)
    if not maps:
        return identity_map

    def composed(points: np.ndarray) -> np.ndarray:
        pts = np.asarray(points, dtype=np.float64)
        for m in maps:
            pts = m(pts)
        return pts

    return composed


def box_points(box: BBox) -> np.ndarray:
    """Corners and edge midpoints of a box, as an (8, 2) array of x, y."""
    x0, y0, x1, y1 = box
    xm, ym = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    return np.array(
        [[x0, y0], [xm, y0], [x1, y0], [x1, ym], [x1, y1], [xm, y1], [x0, y1], [x0, ym]],
        dtype=np.float64,
    )


def map_boxes(boxes: Sequence[BBox], point_map: Optional[PointMap], size: tuple[int, int]) -> list[BBox]:
    """Carry boxes through a geometric transform: bounds of mapped corners/midpoints, clipped.

    ``size`` is the OUTPUT image's ``(width, height)``. Coordinates are rounded outwards
    (floor/ceil) so a box that contained a smaller one still contains it afterwards.
    """
    if not boxes:
        return []
    w, h = size
    if point_map is None:
        pts = np.asarray(boxes, dtype=np.float64)
        x0, y0, x1, y1 = pts[:, 0], pts[:, 1], pts[:, 2], pts[:, 3]
    else:
        pts = np.concatenate([box_points(b) for b in boxes])
        mapped = point_map(pts).reshape(len(boxes), 8, 2)
        x0, y0 = mapped[:, :, 0].min(axis=1), mapped[:, :, 1].min(axis=1)
        x1, y1 = mapped[:, :, 0].max(axis=1), mapped[:, :, 1].max(axis=1)
    # 1e-6 guards against float noise pushing an exact integer edge outward.
    x0 = np.clip(np.floor(x0 + 1e-6), 0, w).astype(int)
    y0 = np.clip(np.floor(y0 + 1e-6), 0, h).astype(int)
    x1 = np.clip(np.ceil(x1 - 1e-6), 0, w).astype(int)
    y1 = np.clip(np.ceil(y1 - 1e-6), 0, h).astype(int)
    return [(int(a), int(b), int(max(a, c)), int(max(b, d))) for a, b, c, d in zip(x0, y0, x1, y1)]


# --- photometric ------------------------------------------------------------------------------


def gaussian_blur(img: Image.Image, sigma: float) -> Image.Image:
    """Gaussian blur with standard deviation ``sigma`` px (defocus, scanner optics)."""
    return img.filter(ImageFilter.GaussianBlur(float(sigma))) if sigma > 0 else img


def gaussian_noise(img: Image.Image, rng: np.random.Generator, sigma: float) -> Image.Image:
    """Additive zero-mean sensor noise of standard deviation about ``sigma`` grey levels.

    Uses the sum of two uniform uint8 draws (a triangular distribution, close to Gaussian) and
    PIL's saturating subtract: several times faster than float Gaussian noise on a full page.
    """
    if sigma <= 0:
        return img
    # The sum of two uniform draws from 0..k has standard deviation about k / sqrt(6).
    k = int(min(127, max(1, round(sigma * math.sqrt(6)))))
    shape = (img.height, img.width)
    noise = rng.integers(0, k + 1, shape, dtype=np.uint8)
    noise += rng.integers(0, k + 1, shape, dtype=np.uint8)
    return ImageChops.subtract(img, Image.fromarray(noise, "L"), 1.0, k)


def speckle(
    img: Image.Image,
    rng: np.random.Generator,
    density: float,
    max_size: int = 2,
    dark_fraction: float = 0.6,
) -> Image.Image:
    """Salt-and-pepper specks: ``density`` specks per 10,000 px, each up to ``max_size`` px wide."""
    w, h = img.size
    n = int(rng.poisson(max(0.0, density) * w * h / 10000.0))
    if n == 0:
        return img
    arr = np.array(img)
    xs = rng.integers(0, w, n)
    ys = rng.integers(0, h, n)
    sizes = rng.integers(1, max(1, int(max_size)) + 1, n)
    dark = rng.random(n) < dark_fraction
    vals = np.where(dark, rng.integers(0, 80, n), rng.integers(200, 256, n)).astype(np.uint8)
    for s in range(1, int(sizes.max()) + 1):
        sel = sizes == s
        if not sel.any():
            continue
        for dy in range(s):
            for dx in range(s):
                arr[np.clip(ys[sel] + dy, 0, h - 1), np.clip(xs[sel] + dx, 0, w - 1)] = vals[sel]
    return Image.fromarray(arr, "L")


def background_shading(
    img: Image.Image, rng: np.random.Generator, strength: float, cells: int = 4
) -> Image.Image:
    """Low-frequency uneven illumination: multiplies by a smooth field in ``[1-strength, 1]``.

    The field is a ``cells``-by-``cells`` random grid upsampled bicubically, like a page that is
    not flat on the glass or lit unevenly.
    """
    if strength <= 0:
        return img
    w, h = img.size
    gx = max(2, int(cells))
    gy = max(2, int(round(cells * h / max(w, 1)))) if h > w else max(2, int(cells))
    grid = rng.random((gy, gx)).astype(np.float32)
    field = Image.fromarray(grid, "F").resize((w, h), Image.BICUBIC)
    f = np.asarray(field)
    f = (f - f.min()) / max(float(f.max() - f.min()), 1e-6)
    shade = (255.0 * (1.0 - strength * f)).clip(0, 255).astype(np.uint8)
    return ImageChops.multiply(img, Image.fromarray(shade, "L"))


def threshold(img: Image.Image, level: Optional[float] = None) -> Image.Image:
    """Binarise to 0/255 at ``level`` (default: midway between the 2nd and 98th percentiles)."""
    if level is None:
        hist = np.asarray(img.histogram(), dtype=np.float64)
        cdf = np.cumsum(hist) / max(hist.sum(), 1.0)
        lo = int(np.searchsorted(cdf, 0.02))
        hi = int(np.searchsorted(cdf, 0.98))
        level = (lo + hi) / 2.0
    lut = [0 if v < level else 255 for v in range(256)]
    return img.point(lut)


def ink_bleed(img: Image.Image, size: int = 3) -> Image.Image:
    """Thicken dark strokes (ink spreading in the paper): grey-level erosion of the paper."""
    return img.filter(ImageFilter.MinFilter(_odd(size))) if size > 1 else img


def ink_erode(img: Image.Image, size: int = 3) -> Image.Image:
    """Thin dark strokes (worn type, light print): grey-level dilation of the paper."""
    return img.filter(ImageFilter.MaxFilter(_odd(size))) if size > 1 else img


def _odd(n: int) -> int:
    n = int(n)
    return n if n % 2 == 1 else n + 1


def contrast(img: Image.Image, black: float, white: float, gamma: float = 1.0) -> Image.Image:
    """Map grey levels 0..255 onto ``black..white`` with an optional gamma (faded print, grey paper)."""
    v = np.arange(256, dtype=np.float64) / 255.0
    lut = black + (white - black) * np.power(v, gamma)
    return img.point([int(round(x)) for x in np.clip(lut, 0, 255)])


def jpeg(img: Image.Image, quality: int) -> Image.Image:
    """Round-trip through JPEG at ``quality`` (compression artefacts of scanned archives)."""
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=int(quality))
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out.convert("L")


# --- geometric --------------------------------------------------------------------------------


def rotate(
    img: Image.Image,
    angle: float,
    fill: int = 255,
    expand: bool = False,
    resample: int = Image.BILINEAR,
) -> tuple[Image.Image, PointMap]:
    """Rotate by ``angle`` degrees counter-clockwise (as ``PIL.Image.rotate``) about the centre.

    With ``expand`` the output grows to hold the whole rotated image. Returns the image and the
    point map from input to output coordinates.
    """
    w, h = img.size
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    if expand:
        ow = int(math.ceil(abs(w * c) + abs(h * s) - 1e-9))
        oh = int(math.ceil(abs(w * s) + abs(h * c) - 1e-9))
    else:
        ow, oh = w, h
    cx, cy = w / 2.0, h / 2.0
    ocx, ocy = ow / 2.0, oh / 2.0
    # Forward (y down, counter-clockwise on screen): x' = c*dx + s*dy, y' = -s*dx + c*dy.
    # Inverse for PIL's output->input affine: dx = c*x' - s*y', dy = s*x' + c*y'.
    data = (c, -s, cx - c * ocx + s * ocy, s, c, cy - s * ocx - c * ocy)
    out = img.transform((ow, oh), Image.AFFINE, data, resample=resample, fillcolor=fill)

    def point_map(points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        dx, dy = p[:, 0] - cx, p[:, 1] - cy
        return np.stack([ocx + c * dx + s * dy, ocy - s * dx + c * dy], axis=1)

    return out, point_map


def curl(img: Image.Image, depth: float, *, spine: str = "left", reach: float = 0.3, shadow: float = 0.35,
         fill: int = 255) -> tuple[Image.Image, PointMap]:
    """A book's page curving into its spine (``"left"`` or ``"right"``), seen from above.

    Within ``reach`` of the width from the spine, lines bend away from the page's middle
    height, by up to ``depth`` of the page height at the spine's ends (quadratically in the
    distance to the spine), and the paper darkens by up to ``shadow`` into the fold (within a
    tenth of the width). Returns the image and the point map from input to output.
    """
    w, h = img.size
    x = np.arange(w, dtype=np.float64) + 0.5
    u = x / w if spine == "left" else 1.0 - x / w
    k = (2.0 * depth * np.clip(1.0 - u / reach, 0.0, 1.0) ** 2).astype(np.float32)  # bend at each column
    a = np.asarray(img.convert("L"), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # output row y shows input row y - k (y - h/2): content moved away from the middle
    out = ndi.map_coordinates(a, [(yy + 0.5) - k[None, :] * (yy + 0.5 - h / 2) - 0.5, xx], order=1,
                              cval=float(fill), prefilter=False)
    out *= (1.0 - shadow * np.clip(1.0 - u / 0.1, 0.0, 1.0) ** 2).astype(np.float32)[None, :]
    res = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))

    def point_map(points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        uu = p[:, 0] / w if spine == "left" else 1.0 - p[:, 0] / w
        kk = 2.0 * depth * np.clip(1.0 - uu / reach, 0.0, 1.0) ** 2
        return np.stack([p[:, 0], h / 2 + (p[:, 1] - h / 2) / (1.0 - kk)], axis=1)

    return res, point_map


def highlight(img: Image.Image, dye: list[Image.Image], pens: list, *, blur: float = 0.6) -> Image.Image:
    """The grey page with highlighter marks over it, as a colour scan sees them: each pen's
    ``dye`` image (100 = one coat) filters the light per channel by its transmission at one coat
    to the power of the coats (Beer-Lambert, so two overlapping strokes are darker), the marks'
    edges blurred by ``blur`` pixels as the scanner's optics blur the ink. ``img`` grey or RGB
    (a page already in colour keeps it); returns RGB."""
    out = np.array(img.convert("RGB"), np.float32)
    for d, pen in zip(dye, pens):
        coats = np.asarray(d, np.float32) / 100.0
        if blur > 0:
            coats = ndi.gaussian_filter(coats, blur)
        for c in range(3):
            out[:, :, c] *= np.power(np.float32(pen[c]), coats)
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "RGB")


def show_through(img: Image.Image, back: Image.Image, strength: float, *, paper: int = 255,
                 blur: float = 2.0) -> Image.Image:
    """The back of the sheet showing through the paper: ``back`` (the back page as printed, its
    paper at level ``paper``) mirrored left to right, blurred by ``blur`` pixels (the paper
    scatters light) and darkening the front by up to ``strength`` (0..1) where its ink lies.

    Thin paper and strong ink show the back page as faint mirrored text between and under the
    front's lines; it is not text of this page, so the truth is unchanged.
    """
    b = back.convert("L").transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    if b.size != img.size:
        b = b.resize(img.size, Image.BILINEAR)
    if blur > 0:
        b = b.filter(ImageFilter.GaussianBlur(blur))
    dark = np.clip(1.0 - np.asarray(b, np.float32) / max(1, paper), 0.0, 1.0)
    out = np.asarray(img.convert("L"), np.float32) * (1.0 - float(strength) * dark)
    return Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8))


def _smooth_field(rng: np.random.Generator, w: int, h: int, scale: float) -> np.ndarray:
    """A smooth random field in about [-1, 1] with features ``scale`` px apart."""
    gx = max(2, int(math.ceil(w / scale)) + 1)
    gy = max(2, int(math.ceil(h / scale)) + 1)
    grid = rng.uniform(-1.0, 1.0, (gy, gx)).astype(np.float32)
    return np.asarray(Image.fromarray(grid, "F").resize((w, h), Image.BICUBIC), dtype=np.float32)


def elastic_warp(
    img: Image.Image,
    rng: np.random.Generator,
    amplitude: float,
    scale: float,
    fill: int = 255,
) -> tuple[Image.Image, PointMap]:
    """Smooth elastic distortion: pixels move by up to about ``amplitude`` px, varying over ``scale`` px.

    Output pixel ``q`` samples input ``q + d(q)``; the point map inverts this with a few
    fixed-point steps ``p' = p - d(p')``, accurate because the field is small and smooth.
    """
    from scipy import ndimage

    w, h = img.size
    if amplitude <= 0:
        return img, identity_map
    dx = _smooth_field(rng, w, h, scale) * amplitude
    dy = _smooth_field(rng, w, h, scale) * amplitude
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    src = np.asarray(img, dtype=np.float32)
    out = ndimage.map_coordinates(src, [yy + dy, xx + dx], order=1, mode="constant", cval=float(fill))
    out_img = Image.fromarray(np.clip(out + 0.5, 0, 255).astype(np.uint8), "L")

    def sample(field: np.ndarray, pts: np.ndarray) -> np.ndarray:
        # field value at pixel centres; continuous point (x, y) sits at index (y-0.5, x-0.5)
        return ndimage.map_coordinates(field, [pts[:, 1] - 0.5, pts[:, 0] - 0.5], order=1, mode="nearest")

    def point_map(points: np.ndarray) -> np.ndarray:
        p = np.asarray(points, dtype=np.float64)
        q = p.copy()
        for _ in range(4):
            q = p - np.stack([sample(dx, q), sample(dy, q)], axis=1)
        return q

    return out_img, point_map


# --- random pipelines -------------------------------------------------------------------------


def _r(x: float) -> float:
    return float(round(float(x), 4))


def random_degrade(
    img: Image.Image,
    rng: np.random.Generator,
    strength: float,
    geometric: bool = True,
    font_px: float = 32.0,
    fill: int = 255,
) -> tuple[Image.Image, PointMap, list[dict]]:
    """Apply a random, scan-like mix of degradations scaled by ``strength`` in [0, 1].

    ``strength`` 0 returns the image untouched. ``font_px`` scales size-dependent effects (blur,
    bleed, warp, specks) to the text size. ``geometric`` enables rotation and elastic warp (lines
    and captchas; pages do their own skew). Returns ``(image, point_map, applied)`` where
    ``applied`` lists ``{"name": ..., **params}`` for the record in ``Sample.meta``.
    """
    applied: list[dict] = []
    maps: list[PointMap] = []
    if strength <= 0:
        return img, identity_map, applied
    s = float(min(1.0, strength))
    unit = max(font_px / 32.0, 0.25)

    def on(p: float) -> bool:
        return bool(rng.random() < p * s)

    if geometric:
        if on(0.6):
            angle = rng.uniform(-1.5, 1.5) * s
            img, m = rotate(img, angle, fill=fill, expand=True)
            maps.append(m)
            applied.append({"name": "rotate", "angle": _r(angle)})
        if on(0.5):
            amp = rng.uniform(0.3, 1.5) * s * unit
            scale = rng.uniform(8, 20) * unit
            img, m = elastic_warp(img, rng, amp, scale, fill=fill)
            maps.append(m)
            applied.append({"name": "elastic_warp", "amplitude": _r(amp), "scale": _r(scale)})
    if on(0.35):
        size = 3 if unit < 2.5 else 5
        if rng.random() < 0.5:
            img = ink_bleed(img, size)
            applied.append({"name": "ink_bleed", "size": size})
        else:
            img = ink_erode(img, size)
            applied.append({"name": "ink_erode", "size": size})
    if on(0.6):
        sigma = rng.uniform(0.3, 1.2) * s * unit
        img = gaussian_blur(img, sigma)
        applied.append({"name": "blur", "sigma": _r(sigma)})
    if on(0.5):
        st = rng.uniform(0.05, 0.3) * s
        img = background_shading(img, rng, st, cells=int(rng.integers(2, 6)))
        applied.append({"name": "shading", "strength": _r(st)})
    binarize = on(0.3)
    if on(0.7):
        sigma = rng.uniform(2, 18) * s
        img = gaussian_noise(img, rng, sigma)
        applied.append({"name": "noise", "sigma": _r(sigma)})
    if on(0.5):
        dens = rng.uniform(0.5, 6) * s / unit
        size = max(1, int(round(rng.uniform(1, 2.5) * unit)))
        img = speckle(img, rng, dens, max_size=size)
        applied.append({"name": "speckle", "density": _r(dens), "max_size": size})
    if binarize:
        img = threshold(img, None)
        applied.append({"name": "threshold"})
    else:
        if on(0.5):
            black = rng.uniform(0, 70) * s
            white = 255 - rng.uniform(0, 45) * s
            gamma = float(np.exp(rng.uniform(-0.4, 0.4) * s))
            img = contrast(img, black, white, gamma)
            applied.append({"name": "contrast", "black": _r(black), "white": _r(white), "gamma": _r(gamma)})
        if on(0.4):
            q = int(rng.integers(int(90 - 60 * s), 96))
            img = jpeg(img, q)
            applied.append({"name": "jpeg", "quality": q})
    return img, compose(*maps), applied

"""On-the-fly augmentation of scaled line images with numpy/scipy/PIL (no torchvision here).

Every transform draws from the ``numpy.random.Generator`` it is given, so training derives one
generator per batch from ``(seed, epoch, batch)`` and augmentation is reproducible and resumable
without storing any RNG state. Images are float32, 1.0 = white, fixed height; the width may
change (horizontal stretch).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
from PIL import Image
from scipy import ndimage


@dataclass
class AugmentConfig:
    """Probabilities and ranges of each transform (applied in this order)."""

    p_stretch: float = 0.3      # horizontal scale, e.g. condensed/expanded fonts
    stretch: tuple = (0.85, 1.15)
    p_affine: float = 0.4       # small rotation + shear + vertical shift, one resampling
    max_angle: float = 1.5      # degrees
    max_shear: float = 0.15     # x shift per row (italics-like)
    max_shift: float = 0.06     # fraction of the height
    p_elastic: float = 0.3      # smooth random displacement field (handwriting/captcha-like warps)
    elastic_alpha: tuple = (1.0, 2.5)  # displacement in pixels
    elastic_sigma: float = 4.0  # smoothness of the field in pixels
    p_morph: float = 0.2        # erosion (bolder ink) or dilation (thinner ink)
    p_blur: float = 0.3
    blur_sigma: tuple = (0.3, 1.0)
    p_contrast: float = 0.4     # paper and ink levels
    paper: tuple = (0.7, 1.0)
    ink: tuple = (0.0, 0.35)
    p_noise: float = 0.3
    noise_std: tuple = (0.01, 0.08)
    p_binarize: float = 0.0     # black-and-white scans: thresholded at another resolution, then scaled back
    threshold: tuple = (0.35, 0.65)  # between the line's ink and paper levels
    binarize_scale: tuple = (2.0, 2.0)  # that resolution, in multiples of the model's height

    @classmethod
    def from_dict(cls, d: dict) -> "AugmentConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown augmentation parameter(s) {sorted(unknown)}; allowed: {sorted(names)}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in d.items()})


def augment_line(img: np.ndarray, rng: np.random.Generator, cfg: AugmentConfig = AugmentConfig()) -> np.ndarray:
    """One random degradation of a line image (float32, 1.0 = white); height is preserved."""
    a = np.asarray(img, dtype=np.float32)
    h, w = a.shape
    if rng.random() < cfg.p_stretch:
        new_w = max(4, int(round(w * rng.uniform(*cfg.stretch))))
        a = np.asarray(Image.fromarray(a).resize((new_w, h), Image.BILINEAR), dtype=np.float32)
        h, w = a.shape
    if rng.random() < cfg.p_affine:
        ang = np.deg2rad(rng.uniform(-cfg.max_angle, cfg.max_angle))
        shear = rng.uniform(-cfg.max_shear, cfg.max_shear)
        shift = rng.uniform(-cfg.max_shift, cfg.max_shift) * h
        c, s = np.cos(ang), np.sin(ang)
        # output (row, col) -> input coordinates, about the image centre
        m = np.array([[c, -s], [s + shear * c, c - shear * s]])
        centre = np.array([h / 2.0, w / 2.0])
        offset = centre - m @ centre + np.array([shift, 0.0])
        a = ndimage.affine_transform(a, m, offset=offset, order=1, mode="nearest")
    if rng.random() < cfg.p_elastic:
        alpha = rng.uniform(*cfg.elastic_alpha)
        dy = ndimage.gaussian_filter(rng.standard_normal((h, w)), cfg.elastic_sigma)
        dx = ndimage.gaussian_filter(rng.standard_normal((h, w)), cfg.elastic_sigma)
        norm = max(float(np.abs(dy).max()), float(np.abs(dx).max()), 1e-6)
        yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
        coords = [yy + alpha * dy / norm, xx + alpha * dx / norm]
        a = ndimage.map_coordinates(a, coords, order=1, mode="nearest").astype(np.float32)
    if rng.random() < cfg.p_morph:
        size = (2, 2)
        a = ndimage.grey_erosion(a, size=size) if rng.random() < 0.5 else ndimage.grey_dilation(a, size=size)
    if rng.random() < cfg.p_blur:
        a = ndimage.gaussian_filter(a, rng.uniform(*cfg.blur_sigma))
    if rng.random() < cfg.p_contrast:
        paper, ink = rng.uniform(*cfg.paper), rng.uniform(*cfg.ink)
        a = ink + (paper - ink) * a
    if rng.random() < cfg.p_noise:
        a = a + rng.normal(0.0, rng.uniform(*cfg.noise_std), a.shape).astype(np.float32)
    if cfg.p_binarize > 0 and rng.random() < cfg.p_binarize:  # no draw when off: old runs replay exactly
        level = rng.uniform(*cfg.threshold)
        lo, hi = cfg.binarize_scale
        a = binarize_line(a, level, rng.uniform(lo, hi) if hi > lo else lo)  # no draw for a fixed scale
    return np.clip(a, 0.0, 1.0).astype(np.float32, copy=False)


def binarize_line(img: np.ndarray, level: float, scale: float = 2.0) -> np.ndarray:
    """A line as a black-and-white scan of it would be after scaling to the model's height.

    Real line datasets are often binarized at scan resolution (OCRopus ``.bin.png``), then
    scaled, which leaves hard-edged strokes with one pixel of grey. Thresholding at ``scale``
    times the model's height and scaling back imitates that: 2 is a 300-dpi line scaled down,
    below 1 a low-resolution line scaled up, its steps enlarged. ``level``: where between the
    image's ink and paper levels (0..1) the threshold lies; lower thins the strokes.
    """
    a = np.asarray(img, dtype=np.float32)
    h, w = a.shape
    lo, hi = float(a.min()), float(a.max())
    if hi - lo < 0.1:
        return a
    size = (max(1, int(round(scale * w))), max(1, int(round(scale * h))))
    big = np.asarray(Image.fromarray(a).resize(size, Image.BILINEAR), dtype=np.float32)
    bw = (big > lo + level * (hi - lo)).astype(np.float32)
    return np.asarray(Image.fromarray(bw).resize((w, h), Image.BILINEAR), dtype=np.float32)

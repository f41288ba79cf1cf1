"""Line images -> model input: scale to the model's height keeping aspect, pad batches.

Shared by training and inference so both see exactly the same pixels. Images are float32
arrays, 1.0 = white (as :func:`ocrcore.imageio.to_gray` returns); padding is white.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from PIL import Image

MIN_SIDE = 4  # pixels; smaller crops carry no readable text
RIGHT_MARGIN = 16  # white columns after each line in a batch (> the CRNN's receptive field overhang)


class LineImageError(ValueError):
    """A line image that cannot be fed to the model; ``reason`` is a short stable name."""

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


def check_line_shape(shape: tuple, height: int, *, max_width: int | None = None) -> int:
    """Validate a line image's shape; returns its width once scaled to ``height``."""
    if len(shape) != 2:
        raise LineImageError(f"expected a 2-D grayscale line image, got shape {tuple(shape)}", "bad_shape")
    h, w = shape
    if h < MIN_SIDE or w < MIN_SIDE:
        raise LineImageError(f"line image {w}x{h} is too small (minimum {MIN_SIDE}x{MIN_SIDE})", "too_small")
    new_w = max(1, int(round(w * height / h)))
    if max_width is not None and new_w > max_width:
        raise LineImageError(
            f"line image {w}x{h} scales to width {new_w} at height {height}, above max_width {max_width} "
            "(is this a whole page or a vertical strip?)", "too_wide")
    return new_w


def scale_to_height(gray: np.ndarray, height: int, *, max_width: int | None = None) -> np.ndarray:
    """Resize a 2-D float image to ``height`` rows keeping its aspect ratio (antialiased).

    Raises :class:`LineImageError` (``too_small``, ``too_wide``, ``bad_shape``) instead of
    producing something meaningless.
    """
    a = np.asarray(gray)
    new_w = check_line_shape(a.shape, height, max_width=max_width)
    h, w = a.shape
    a = np.ascontiguousarray(a, dtype=np.float32)
    if (h, w) == (height, new_w):
        return a
    out = Image.fromarray(a).resize((new_w, height), Image.BILINEAR)
    return np.clip(np.asarray(out, dtype=np.float32), 0.0, 1.0)


def pad_batch(images: Sequence[np.ndarray], min_width: int = 1, margin: int = RIGHT_MARGIN,
              multiple: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Stack same-height images into ``N x 1 x H x W`` (right-padded white) + true widths.

    Every line gets at least ``margin`` white columns after it, more than the conv stack's
    receptive field reaches, so a line's output does not depend on how wide its batch is.
    Widths below ``min_width`` (the model's width factor) count as ``min_width``, so every line
    yields at least one frame. ``multiple``: round the batch width up to a multiple of this, so
    batches share a few shapes (oneDNN caches its kernels per shape).
    """
    if not images:
        raise ValueError("pad_batch needs at least one image")
    h = images[0].shape[0]
    widths = [max(int(im.shape[1]), min_width) for im in images]
    width = max(widths) + margin
    width = -(-width // max(1, int(multiple))) * max(1, int(multiple))
    out = np.ones((len(images), 1, h, width), dtype=np.float32)
    for i, im in enumerate(images):
        if im.shape[0] != h:
            raise ValueError(f"all images of a batch need height {h}, got {im.shape[0]}")
        out[i, 0, :, : im.shape[1]] = im
    return torch.from_numpy(out), torch.tensor(widths, dtype=torch.long)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Compact cache form of a [0, 1] float image."""
    return np.round(np.clip(img, 0, 1) * 255).astype(np.uint8)


def from_uint8(img: np.ndarray) -> np.ndarray:
    return img.astype(np.float32) / 255.0

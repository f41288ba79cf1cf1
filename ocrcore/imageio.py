"""Safe image decoding and encoding.

Every image the system reads goes through :func:`decode_image`, which enforces a pixel limit
(decompression bombs), fully loads the image so truncation is found here and not later, and turns
every Pillow failure into an :class:`ImageError` whose ``error_type`` names what went wrong. Those
names end up in the errors tables, so they are stable strings.
"""
from __future__ import annotations

import io
import math
import warnings
from contextlib import contextmanager
from typing import Iterator

import numpy as np
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

# Large enough for an A3 page at 600 dpi (7016 x 9921 = 70 Mpx) with room; small enough that a
# bomb is refused before it allocates gigabytes.
DEFAULT_MAX_PIXELS = 120_000_000


class ImageError(ValueError):
    """An input image that cannot be used; ``error_type`` is a stable short name."""

    error_type = "image_error"

    def __init__(self, message: str, error_type: str | None = None):
        super().__init__(message)
        if error_type:
            self.error_type = error_type


def check_pixels(w: int, h: int, *, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS) -> None:
    """Raise ``decompression_bomb`` / ``corrupt_image`` for a size we refuse to allocate."""
    if w * h > max_pixels:
        raise ImageError(
            f"{name}: {w}x{h} = {w * h} pixels exceeds the limit of {max_pixels} "
            "(possible decompression bomb; raise max_pixels if the image is genuine)",
            "decompression_bomb",
        )
    if w <= 0 or h <= 0:
        raise ImageError(f"{name}: image has no pixels ({w}x{h})", "corrupt_image")


@contextmanager
def image_errors(name: str = "<bytes>") -> Iterator[None]:
    """Turn any Pillow failure inside the block into an :class:`ImageError` with a stable type.

    Shared by :func:`decode_image` and the multi-frame readers in :mod:`ocrcore.inputs`, so a
    broken TIFF frame is named exactly like a broken PNG.
    """
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ImageError:
        raise
    except UnidentifiedImageError:
        raise ImageError(f"{name}: not a readable image (unknown or unsupported format)", "not_an_image") from None
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise ImageError(f"{name}: refused as a decompression bomb: {e}", "decompression_bomb") from None
    except (OSError, SyntaxError, EOFError) as e:
        msg = str(e)
        kind = "truncated_image" if "truncated" in msg.lower() or isinstance(e, EOFError) else "corrupt_image"
        raise ImageError(f"{name}: {kind.replace('_', ' ')}: {msg}", kind) from None
    except (ValueError, MemoryError) as e:
        raise ImageError(f"{name}: corrupt image: {e}", "corrupt_image") from None


def decode_image(data: bytes, *, name: str = "<bytes>", max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Decode image bytes into a fully loaded PIL image, or raise :class:`ImageError`.

    Error types: ``empty_file``, ``not_an_image``, ``decompression_bomb``, ``truncated_image``,
    ``corrupt_image``. The image comes back upright (:func:`upright`), as viewers show it.
    """
    if not data:
        raise ImageError(f"{name}: file is empty (0 bytes)", "empty_file")
    with image_errors(name):
        img = Image.open(io.BytesIO(data))
        w, h = img.size
        check_pixels(w, h, name=name, max_pixels=max_pixels)
        img.load()
    return upright(img)


# EXIF orientations (tag 274) other than 1 = "stored upright"
_TURNED = {2, 3, 4, 5, 6, 7, 8}


def upright(img: Image.Image) -> Image.Image:
    """The image turned as its EXIF orientation tag says, so pixels are in the frame people see.

    Phones and many scanners store a page as captured and only tag how to turn it; every viewer
    (and hOCR tools overlaying boxes) shows it turned, so text and boxes must be found in that
    frame: read as stored, such a page is sideways and yields noise. Pillow already turns TIFF
    frames on load; this covers JPEG, PNG and WebP. An unreadable EXIF block leaves the image as
    stored (the page is still read, just not turned). Turned a quarter, its resolution tags are
    swapped with its axes (:func:`pixel_aspect` reads them).
    """
    try:
        orientation = img.getexif().get(0x0112, 1)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not lose the page
        return img
    if orientation not in _TURNED:
        return img
    out = ImageOps.exif_transpose(img)
    if orientation in (5, 6, 7, 8):  # turned a quarter: the resolutions along the axes swap too
        for key in ("dpi", "resolution", "aspect", "jfif_density"):
            pair = out.info.get(key)
            if isinstance(pair, tuple) and len(pair) == 2:
                out.info[key] = (pair[1], pair[0])
    return out


# Pixels taller or wider than this ratio are resampled square before a page is read.
MAX_PIXEL_ASPECT = 4.0


def pixel_aspect(img: Image.Image) -> float:
    """How many times the image's horizontal resolution is its vertical one (1.0 when square
    or unknown), from its resolution tags: TIFF and JPEG ``dpi``/``resolution``, PNG ``aspect``,
    JPEG's unitless JFIF density. A fax in standard mode is 204 x 98 dpi: 2.08. Ratios within
    2% of 1 and implausible ones (beyond :data:`MAX_PIXEL_ASPECT`, zero) read as square."""
    info = img.info
    pair = info.get("dpi") or info.get("resolution") or info.get("aspect")
    if pair is None and info.get("jfif_unit") == 0:
        pair = info.get("jfif_density")
    try:
        x, y = (float(v) for v in pair)
    except (TypeError, ValueError):
        return 1.0
    if not (x > 0 and y > 0):
        return 1.0
    r = x / y
    if abs(r - 1.0) <= 0.02 or not 1 / MAX_PIXEL_ASPECT <= r <= MAX_PIXEL_ASPECT:
        return 1.0
    return r


def square_pixels(img: Image.Image, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[Image.Image, float, float]:
    """The image resampled to square pixels (:func:`pixel_aspect`) and the scale factors
    ``(sx, sy)`` from the image as given to it; ``(img, 1.0, 1.0)`` when its pixels are square.

    The axis with the lower resolution is stretched to the other's (a standard-mode fax's rows
    doubled), or, where that would pass ``max_pixels``, the other is shrunk. Read as given, a
    fax's type is half as tall as it is wide, and the page read at 32-93% CER (two 200 x 100
    dpi pages)."""
    r = pixel_aspect(img)
    if r == 1.0:
        return img, 1.0, 1.0
    w, h = img.size
    sx, sy = (1.0, r) if r > 1 else (1.0 / r, 1.0)
    if w * sx * h * sy > max_pixels:
        sx, sy = (1.0 / r, 1.0) if r > 1 else (1.0, r)
    size = (max(1, round(w * sx)), max(1, round(h * sy)))
    src = img if img.mode in ("L", "RGB") else Image.fromarray(np.round(to_gray(img) * 255).astype(np.uint8))
    out = src.resize(size, Image.BILINEAR)
    for key in ("dpi", "resolution", "aspect", "jfif_density"):  # its pixels are square now
        out.info.pop(key, None)
    return out, size[0] / w, size[1] / h


def unsquare(sx: float, sy: float, width: int, height: int):
    """The map of boxes found on :func:`square_pixels`' image (scaled by ``sx``, ``sy``) back onto
    the image as given (``width`` x ``height``): a function of a list of boxes."""
    def to_given(boxes):
        out = []
        for x0, y0, x1, y1 in boxes:
            a, b = min(width - 1, int(x0 / sx)), min(height - 1, int(y0 / sy))
            out.append((a, b, min(width, max(a + 1, math.ceil(x1 / sx))), min(height, max(b + 1, math.ceil(y1 / sy)))))
        return out

    return to_given


def to_gray(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> float32 grayscale in [0, 1], 1.0 = white.

    Alpha is composited onto white; 16-bit and float images are scaled by their own range.
    """
    mode = img.mode
    if mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        a = np.asarray(img, dtype=np.float32)
        lo, hi = float(a.min()), float(a.max())
        if mode.startswith("I;16"):
            lo, hi = 0.0, 65535.0 if hi > 255 else 255.0
        return np.clip((a - lo) / max(hi - lo, 1e-6), 0, 1).astype(np.float32)
    if mode == "1":
        return np.asarray(img, dtype=np.float32)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        bg = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(bg, rgba)
    if img.mode != "L":
        img = img.convert("L")
    return np.asarray(img, dtype=np.float32) / 255.0


def encode_png(img: Image.Image, *, compress_level: int = 1) -> bytes:
    """PNG bytes at a low compression level (noisy images compress slowly and gain little)."""
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=compress_level)
    return buf.getvalue()

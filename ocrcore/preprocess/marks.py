"""A colour page to grey with its highlighter marks (and tinted boxes) taken out of the paper.

A highlighter's dye is a filter over the paper: it passes one or two channels nearly whole and
cuts the others (yellow cuts blue, pink cuts green). Read as luminance, a marked word sits on a
grey band of 0.73-0.89 that the binarizer may take for the back page showing through, or, where
two strokes overlap, for ink that joins lines. The page under the dye is still white in the
channels the dye passes, and the printed ink is dark in all of them, so dividing each channel by
the dye's transmission gives back the page as printed: black ink on white paper, and red type on
a yellow mark still red (its luminance as it was without the mark).

Where the dye lies and what colour it is are measured on the page reduced 4 times: the paper's
colour (white balance) from its brightest pixels; dyed paper as pixels bright in luminance and
tinted (saturation) that form areas (an opening removes coloured type's strokes and the fringes
of its letters); the dye's colour there its own, elsewhere filled in from nearby dyed and plain
paper (a normalized convolution). A page with no dyed area reads exactly as Pillow's luminance.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ocrcore.preprocess.pageparts import to_gray_image

__all__ = ["page_grey"]

REDUCE = 4  # the dye is measured on blocks of REDUCE x REDUCE pixels
PAPER_LUMA = 0.6  # dyed paper: at least this bright (white-balanced luminance, 0..1)
DYE_SATURATION = 0.12  # ... and at least this tinted ((max - min) / max of its channels)
DYE_OPENING = 2  # dyed areas survive an opening of this many blocks (8 px): type's strokes do not
MIN_DYED_BLOCKS = 24  # fewer dyed blocks than this: no marks, the page is read as luminance
STRIP = 16  # blocks: the marks are taken out strip by strip, each cut to the columns the dye reaches
FILL_SIGMA = 2.0  # blocks: how far the dye's colour is carried over the ink it lies under
NEAR = 3  # blocks: dyed paper is looked for this close to a dyed area
INK_LUMA = 0.5  # a block whose darkest pixel is this dark holds ink
MARK_INK = 0.1  # a dyed area is a mark when it has dark blocks near it, this share of its size
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as Pillow's convert("L")


def page_grey(image: Image.Image) -> Image.Image:
    """The page as 8-bit grey for analysis: a colour page with highlighter marks (or other dyed
    areas: tinted boxes, coloured paper under a sticker) divided by the dye's colour first, so
    the marks turn to paper and the type under them keeps its luminance; any other image as
    :func:`ocrcore.preprocess.pageparts.to_gray_image` gives it."""
    if image.mode not in ("RGB", "RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        return to_gray_image(image)
    if image.mode in ("RGBA", "RGBa", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    rgb = np.asarray(image.convert("RGB"))
    dye = dye_colour(rgb)
    if dye is None:
        return to_gray_image(image if image.mode in ("RGB", "L") else Image.fromarray(rgb))
    return Image.fromarray(undyed_luma(rgb, *dye))


def dye_colour(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Where a page (``H x W x 3`` uint8) is dyed: ``(white, dye, near)`` with the paper's colour
    ``white`` (3 values, 0..255), the dye's transmission ``dye`` per block of REDUCE x REDUCE
    pixels (``h x w x 3``, 1 = passes the channel whole; 1 everywhere off the marks) and the
    blocks ``near`` a dyed area; None where nothing is dyed."""
    H, W = rgb.shape[:2]
    h, w = H // REDUCE, W // REDUCE
    if h < 4 * DYE_OPENING or w < 4 * DYE_OPENING:
        return None
    # each block's paper: its brightest value per channel (coloured type's blocks hold white
    # paper too, a mark's blocks only dyed paper)
    small = _blocks(rgb[:h * REDUCE, :w * REDUCE], np.maximum).astype(np.float32)
    chans = [small[:, :, c] for c in range(3)]
    luma = _luma(chans)
    top = luma >= np.percentile(luma, 75)
    white = np.array([max(1.0, float(np.median(ch[top]))) for ch in chans], np.float32)
    bal = _balanced(chans, white)
    tinted, paper, mx = _tinted(bal)
    if int(tinted.sum()) < MIN_DYED_BLOCKS:  # most colour pages carry no tinted paper at all
        return None
    darkest = _blocks(rgb[:h * REDUCE, :w * REDUCE], np.minimum).astype(np.float32)
    ink = _luma(_balanced([darkest[:, :, c] for c in range(3)], white)) < INK_LUMA
    dyed = _marked(_opened(tinted, DYE_OPENING), ink)
    if int(dyed.sum()) < MIN_DYED_BLOCKS:
        return None
    plain = _opened(paper & ~tinted, DYE_OPENING)
    wt = (dyed | plain).astype(np.float32)
    den = np.maximum(ndi.gaussian_filter(wt, FILL_SIGMA), 1e-3)
    dye = np.empty(bal[0].shape + (3,), np.float32)
    for c in range(3):
        own = bal[c]  # the paper under the dye: the block's brightest value
        filled = ndi.gaussian_filter(np.where(dyed, own, 1.0) * wt, FILL_SIGMA) / den
        dye[:, :, c] = np.where(dyed, own, np.where(den > 2e-3, filled, 1.0))
    near = ndi.maximum_filter(dyed, 2 * NEAR + 1)
    return white, np.clip(dye, 0.05, 1.0), near


def _marked(dyed: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The dyed areas that lie over ink (a mark is made over words; a letter of light coloured
    type, a bold orange heading's stroke, has only paper around it): those with at least
    :data:`MARK_INK` of their size in blocks of ink within :data:`NEAR` blocks."""
    labels, n = ndi.label(dyed)
    if n == 0:
        return dyed
    size = np.bincount(labels.ravel(), minlength=n + 1)
    # which component each dark block is near: the labels grown over the dark blocks
    grown = ndi.grey_dilation(labels, size=(2 * NEAR + 1, 2 * NEAR + 1))
    dark = np.bincount(grown[ink & (grown > 0)], minlength=n + 1)
    keep = dark >= MARK_INK * size
    keep[0] = False
    return keep[labels]


def undyed_luma(rgb: np.ndarray, white: np.ndarray, dye: np.ndarray, near: np.ndarray) -> np.ndarray:
    """Luminance (uint8) of ``rgb`` with each channel divided by the paper's colour and, near
    the marks, by the dye's: a bright tinted pixel there is dyed paper and turns to paper (its
    clearest channel over the dye's), any other is divided by the dye measured around it."""
    out = np.asarray(Image.fromarray(rgb).convert("L"), np.float32) * np.float32(255.0 / float(white @ _LUMA))
    for b0 in range(0, near.shape[0], STRIP):
        cols = np.flatnonzero(near[b0:b0 + STRIP].any(axis=0))
        if not cols.size:
            continue
        c0, c1 = int(cols[0]), int(cols[-1]) + 1
        b1 = min(near.shape[0], b0 + STRIP)
        y0, y1, x0, x1 = b0 * REDUCE, b1 * REDUCE, c0 * REDUCE, c1 * REDUCE
        part = rgb[y0:y1, x0:x1]
        bal = _balanced([part[:, :, c].astype(np.float32) for c in range(3)], white)
        dyed_paper, _, mx = _tinted(bal)
        dyed_paper &= _up(near[b0:b1, c0:c1], x1 - x0, y1 - y0)
        d = [_up(dye[b0:b1, c0:c1, c], x1 - x0, y1 - y0) for c in range(3)]
        undyed = _luma([bal[c] / d[c] for c in range(3)])
        best = np.maximum(np.maximum(d[0], d[1]), d[2])  # what the dye passes of its clearest channel
        out[y0:y1, x0:x1] = np.minimum(np.where(dyed_paper, mx / best, undyed), 1.0) * np.float32(255.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _opened(mask: np.ndarray, size: int) -> np.ndarray:
    """Binary opening by a ``size`` square (separable minimum and maximum filters)."""
    return ndi.maximum_filter(ndi.minimum_filter(mask, size, origin=-1 if size % 2 == 0 else 0), size)


def _blocks(a: np.ndarray, op) -> np.ndarray:
    """``op`` (np.maximum, np.minimum) over each REDUCE x REDUCE block, per channel (strided
    pairs: a reshaped reduction over the block's axes is several times slower)."""
    rows = a[0::REDUCE]
    for k in range(1, REDUCE):
        rows = op(rows, a[k::REDUCE])
    out = rows[:, 0::REDUCE]
    for k in range(1, REDUCE):
        out = op(out, rows[:, k::REDUCE])
    return out


def _balanced(chans: list[np.ndarray], white: np.ndarray) -> list[np.ndarray]:
    """Channels divided by the paper's colour (1 = paper), at most 1."""
    return [np.minimum(ch * np.float32(1.0 / white[c]), 1.0) for c, ch in enumerate(chans)]


def _luma(chans: list[np.ndarray]) -> np.ndarray:
    return chans[0] * _LUMA[0] + chans[1] * _LUMA[1] + chans[2] * _LUMA[2]


def _tinted(bal: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Balanced channels -> (dyed paper: bright and tinted, bright, brightest channel)."""
    mx = np.maximum(np.maximum(bal[0], bal[1]), bal[2])
    mn = np.minimum(np.minimum(bal[0], bal[1]), bal[2])
    paper = _luma(bal) >= PAPER_LUMA
    return paper & (mx - mn >= DYE_SATURATION * mx), paper, mx


def _up(a: np.ndarray, w: int, h: int) -> np.ndarray:
    """Blocks to pixels: bilinear, a mask nearest."""
    if a.dtype == bool:
        return np.asarray(Image.fromarray(a).resize((w, h), Image.NEAREST))
    return np.asarray(Image.fromarray(np.ascontiguousarray(a, np.float32)).resize((w, h), Image.BILINEAR))

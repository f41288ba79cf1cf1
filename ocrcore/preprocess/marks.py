"""A page to grey with its highlighter marks (and tinted boxes) taken out of the paper.

A highlighter's dye is a filter over the paper: it passes one or two channels nearly whole and
cuts the others (yellow cuts blue, pink cuts green). Read as luminance, a marked word sits on a
grey band of 0.73-0.89 that the binarizer may take for the back page showing through, or, where
two strokes overlap, for ink that joins lines.

On a colour page the page under the dye is still white in the channels the dye passes, and the
printed ink is dark in all of them, so dividing each channel by the dye's transmission gives
back the page as printed: black ink on white paper, and red type on a yellow mark still red.
Where the dye lies and what it passes are measured on blocks of the page (the brightest value of
each channel in the block: its paper, as the ink between is darker): dyed paper is bright and
tinted, in areas (an opening removes the fringes of coloured type) that lie over ink (a light
coloured heading's strokes have only paper around them).

On a grey scan (a colour scan is searched in colour only: its marks show as colour) the mark
is a flat band of grey with sharp edges around words; there its paper is divided by the band's
level. A band is told from what else greys paper by its shape: wide and flat (shading and a
photograph are neither), with white paper around it (not smooth shading), and over ink. A page
with no mark reads exactly as it did.

Rubber stamps are taken out here too, after the marks (:mod:`.stamps`): on a colour page their
coloured ink, on a grey one the strokes of a framed or a frameless stamp's grey.
"""
from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage as ndi

from ocrcore.preprocess.pageparts import to_gray_image
from ocrcore.preprocess.stamps import lift_grey_stamps, lift_stamps

__all__ = ["page_grey", "dye_colour", "grey_marks"]

BLOCK = 4  # marks are measured on blocks of BLOCK x BLOCK pixels, wider than type's strokes at
# 150-300 dpi (2 x 2 at 150 dpi took the inside of blue type's strokes for tinted paper)
PAPER_LUMA = 0.6  # dyed paper: at least this bright (white-balanced luminance, 0..1)
DYE_SATURATION = 0.12  # ... and at least this tinted ((max - min) / max of its channels)
DYE_OPENING = 2  # dyed areas survive an opening of this many blocks: coloured type's fringes do not
MIN_DYED_BLOCKS = 24  # fewer dyed blocks than this: no marks, the page is read as luminance
STRIP = 16  # blocks: the marks are taken out strip by strip, each cut to the columns they reach
FILL_SIGMA = 2.0  # blocks: how far the dye's colour is carried over the ink it lies under
NEAR = 3  # blocks: dyed paper is looked for this close to a dyed area
INK_SHARE, INK_SPREAD = 0.75, 0.2  # a block holds ink: its darkest pixel under this share of its
# brightest (luminance), and on a colour page its channels' shares within this of each other (grey)
MARK_INK = 0.03  # a dyed area is a mark when it has blocks of ink near it, this share of its size
# grey pages
BAND = (0.55, 0.93)  # a mark's paper, as a share of the page's paper (the darkest: two pink coats)
MIN_MARK = 48  # blocks: a band smaller than this is no mark (a bold letter's grey, most blurred back words)
MARK_RATIO = 1.5  # ... nor one less than this many times as wide as tall (a photograph's grey)
MARK_FLAT = 0.05  # ... nor one whose level varies more than this (standard deviation)
MARK_EDGE = 0.4  # the paper 2-3 blocks around a band is this much as dark as the band at most
MARK_PAPER = 0.85  # in a mark, a pixel this share of its level or lighter is paper (the dye's streaks)
QUICK_PIXELS = 6  # a colour page with fewer tinted pixels than this in a glance has no marks
TYPE_BLOCK, TYPE_CHROMA = 16, 0.2  # type in coloured ink (see coloured_type; carbon copies 0.27-0.35, black
# type 0-0.07 also under highlighters)
QUICK_BAND_SHARE = 0.002  # a grey page with less of a glance in grey bands has none to look for
# (clean pages: at most 0.15%, their type's edges and shading; 2% of words marked: 0.37% and up)
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)  # ITU-R 601, as Pillow's convert("L")


def page_grey(image: Image.Image) -> Image.Image:
    """The page as 8-bit grey for analysis, its highlighter marks taken out of the paper: a
    colour page's dye (and other dyed areas: tinted boxes) divided out of each channel, a grey
    page's marked bands divided by their level; and its rubber stamps' ink turned to paper. Any
    other image, and a page without marks or stamps, as
    :func:`ocrcore.preprocess.pageparts.to_gray_image` gives it."""
    if image.mode == "1":  # black and white: no grey bands
        return to_gray_image(image)
    if image.mode in ("RGB", "RGBA", "RGBa", "P", "PA", "CMYK", "YCbCr", "LAB", "HSV"):
        colour = image
        if image.mode in ("RGBA", "RGBa", "PA") or (image.mode == "P" and "transparency" in image.info):
            rgba = image.convert("RGBA")
            colour = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
        colour = colour if colour.mode == "RGB" else colour.convert("RGB")
        if _glance(colour, _tinted_pixels)[0] < QUICK_PIXELS:
            return to_gray_image(image)  # a colour scan shows its marks in colour: none here
        rgb = np.asarray(colour)
        dye = None if coloured_type(rgb) else dye_colour(rgb)
        grey = undyed_luma(rgb, *dye) if dye is not None else np.asarray(to_gray_image(image))
        # and a stamp's coloured ink taken out (not the marks' dye: :mod:`.stamps`)
        return Image.fromarray(lift_stamps(rgb, grey, None if dye is None else (dye[2], dye[3])))
    grey = to_gray_image(image)
    bands, looked = _glance(grey, _band_pixels)
    g = np.asarray(grey)
    marks = None if bands < QUICK_BAND_SHARE * looked else grey_marks(g)
    out = g if marks is None else lifted(g, *marks)
    out = lift_grey_stamps(out)  # and a stamp's frame and the grey strokes in it (:mod:`.stamps`)
    return grey if out is g else Image.fromarray(out)


def coloured_type(rgb: np.ndarray) -> bool:
    """Whether the page's type is coloured ink (a blue or violet carbon copy, a ditto): in the
    blocks of TYPE_BLOCK x TYPE_BLOCK pixels holding ink (their darkest pixel under INK_SHARE of
    their brightest, which is paper: a block is wider than a stroke), the ink's share of the paper
    differs by TYPE_CHROMA or more between channels, in most of them. Black type's does not, also
    under a highlighter's dye (dyed paper and the type under it are dyed alike). Highlighter marks
    are not looked for on such a page: the dye's test, on smaller blocks, took a blurred coloured
    letter's light fringe for dyed paper and the letter for the type under it."""
    k = TYPE_BLOCK
    h, w = rgb.shape[0] // k, rgb.shape[1] // k
    if h < 2 or w < 2:
        return False
    under, spread = _under_paper(rgb, _blocks(rgb[:h * k, :w * k], np.maximum, k).astype(np.float32), k)
    ink = _luma(under) < INK_SHARE
    if int(ink.sum()) < MIN_DYED_BLOCKS:
        return False
    return bool(float(np.median(spread[ink])) >= TYPE_CHROMA)


def _glance(image: Image.Image, count) -> tuple[int, int]:
    """``count`` over every 8th pixel of the image (both ways), and how many pixels that is:
    most pages are done with here, before a whole page's array is made."""
    step = 2 * BLOCK
    small = np.asarray(image.resize((max(1, image.width // step), max(1, image.height // step)), Image.NEAREST))
    return count(small), small.shape[0] * small.shape[1]


def _tinted_pixels(rgb: np.ndarray) -> int:
    """Pixels bright in a channel and tinted (a colour page of black type holds next to none)."""
    r, g, b = (rgb[:, :, c].astype(np.float32) for c in range(3))
    hi, lo = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    return int(((hi - lo >= DYE_SATURATION * hi) & (hi >= 128)).sum())


def _band_pixels(g: np.ndarray) -> int:
    """Pixels of mid grey in areas two pixels across (a plain page's are its type's edges)."""
    white = max(1.0, float(np.percentile(g, 90)))
    shaded = (g >= BAND[0] * white) & (g <= BAND[1] * white)
    return int(_opened(shaded, 2).sum())


def dye_colour(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, int] | None:
    """Where a page (``H x W x 3`` uint8) is dyed: ``(white, dye, near, k)`` with the paper's
    colour ``white`` (3 values, 0..255), the dye's transmission ``dye`` per block of k x k
    pixels (``h x w x 3``, 1 = passes the channel whole; 1 everywhere off the marks) and the
    blocks ``near`` a dyed area; None where nothing is dyed."""
    k = BLOCK
    h, w = rgb.shape[0] // k, rgb.shape[1] // k
    if h < 4 * DYE_OPENING or w < 4 * DYE_OPENING:
        return None
    # each block's paper: its brightest value per channel (coloured type's blocks hold white
    # paper too, a mark's blocks only dyed paper)
    small = _blocks(rgb[:h * k, :w * k], np.maximum, k).astype(np.float32)
    chans = [small[:, :, c] for c in range(3)]
    top = _luma(chans)
    top = top >= np.percentile(top, 75)
    white = np.array([max(1.0, float(np.median(ch[top]))) for ch in chans], np.float32)
    bal = _balanced(chans, white)
    tinted, paper, mx = _tinted(bal)
    if int(tinted.sum()) < MIN_DYED_BLOCKS:  # most colour pages carry no tinted paper at all
        return None
    # ink: a block's darkest pixel well below its own paper, and grey against it (black type
    # under a dye is dyed too; a coloured letter's edge against white paper is not grey)
    under, spread = _under_paper(rgb, small, k)
    ink = (_luma(under) < INK_SHARE) & (spread < INK_SPREAD)
    dyed = _over_ink(_opened(tinted, DYE_OPENING), ink)
    if int(dyed.sum()) < MIN_DYED_BLOCKS:
        return None
    known = dyed | _opened(paper & ~tinted, DYE_OPENING)  # dyed paper, and plain paper (1)
    dye = np.empty(bal[0].shape + (3,), np.float32)
    for c in range(3):  # the paper under the dye: its blocks' brightest values, carried over the ink
        filled, reach = _carried(np.where(dyed, bal[c], 1.0), known)
        dye[:, :, c] = np.where(dyed, bal[c], np.where(reach > 2e-3, filled, 1.0))
    near = ndi.maximum_filter(dyed, 2 * NEAR + 1)
    return white, np.clip(dye, 0.05, 1.0), near, k


def undyed_luma(rgb: np.ndarray, white: np.ndarray, dye: np.ndarray, near: np.ndarray, k: int) -> np.ndarray:
    """Luminance (uint8) of ``rgb`` with each channel divided by the paper's colour and, near
    the marks, by the dye's: a bright tinted pixel there is dyed paper and turns to paper (its
    clearest channel over the dye's), any other is divided by the dye measured around it."""
    out = np.asarray(Image.fromarray(rgb).convert("L"), np.float32) * np.float32(255.0 / float(white @ _LUMA))
    for y0, y1, x0, x1, b in _strips(near, k):
        part = rgb[y0:y1, x0:x1]
        bal = _balanced([part[:, :, c].astype(np.float32) for c in range(3)], white)
        dyed_paper, _, mx = _tinted(bal)
        dyed_paper &= _up(near[b], x1 - x0, y1 - y0)
        d = [_up(dye[b][:, :, c], x1 - x0, y1 - y0) for c in range(3)]
        undyed = _luma([bal[c] / d[c] for c in range(3)])
        best = np.maximum(np.maximum(d[0], d[1]), d[2])  # what the dye passes of its clearest channel
        out[y0:y1, x0:x1] = np.minimum(np.where(dyed_paper, mx / best, undyed), 1.0) * np.float32(255.0)
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def grey_marks(g: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int] | None:
    """Highlighter marks on a grey page (``H x W`` uint8): ``(level, near, inside, white, k)``
    with each block's paper level under the marks (a share of the page's paper ``white``,
    carried over the ink; 1 off the marks), the blocks ``near`` a mark and those ``inside``
    one, for blocks of k x k pixels; None where no band passes for a mark."""
    k = BLOCK
    h, w = g.shape[0] // k, g.shape[1] // k
    if h < 4 * DYE_OPENING or w < 4 * DYE_OPENING:
        return None
    a = g[:h * k, :w * k, None]
    top = _blocks(a, np.maximum, k)[:, :, 0].astype(np.float32)
    white = max(1.0, float(np.percentile(top, 75)))
    level = np.minimum(top / white, 1.0)
    shaded = (level >= BAND[0]) & (level <= BAND[1])
    if int(shaded.sum()) < MIN_MARK:
        return None
    labels, n = ndi.label(_opened(shaded, DYE_OPENING))
    if n == 0:
        return None
    idx = np.arange(1, n + 1)
    rows, cols = np.array([(s[0].stop - s[0].start, s[1].stop - s[1].start) for s in ndi.find_objects(labels)]).T
    size = np.bincount(labels.ravel(), minlength=n + 1)[1:]
    maybe = (size >= MIN_MARK) & (cols >= MARK_RATIO * rows)
    if not maybe.any():
        return None
    with np.errstate(invalid="ignore", divide="ignore"):  # a band with no paper around it: no ring
        mean = ndi.mean(level, labels, idx)
        std = ndi.standard_deviation(level, labels, idx)
        # the paper 2-3 blocks out: white around a mark, as grey as the band around shading
        darkest = _blocks(a, np.minimum, k)[:, :, 0].astype(np.float32) / white
        one, three = (ndi.grey_dilation(labels, size=(s, s)) for s in (3, 7))
        ring = ndi.mean(level, np.where((three > 0) & (one == 0) & (darkest >= 0.3), three, 0), idx)
    ink = _ink_near(labels, n, darkest < INK_SHARE * level)[1:]  # well below the block's own paper
    keep = (maybe & (std <= MARK_FLAT) & (1 - np.nan_to_num(ring, nan=0.0) <= MARK_EDGE * (1 - mean))
            & (ink >= MARK_INK * size))
    if not keep.any():
        return None
    marked = np.concatenate([[False], keep])[labels]
    filled, reach = _carried(level, marked)
    near = ndi.maximum_filter(marked, 2 * NEAR + 1)
    level = np.clip(np.where(marked, level, np.where(near & (reach > 1e-4), filled, 1.0)), 0.3, 1.0).astype(np.float32)
    inside = ndi.binary_closing(marked, np.ones((3, 3), bool)) | ndi.binary_dilation(marked)
    return level, near, inside, white, k


def lifted(g: np.ndarray, level: np.ndarray, near: np.ndarray, inside: np.ndarray, white: float,
           k: int) -> np.ndarray:
    """The grey page with its marks taken out: inside a mark (its blocks and one around, for the
    blurred edge), a pixel at least :data:`MARK_PAPER` of the mark's level is paper (the dye's
    streaks too), a darker one is divided by the level; the rest as it was."""
    out = g.astype(np.float32)
    for y0, y1, x0, x1, b in _strips(near, k):
        ratio = out[y0:y1, x0:x1] / _up(level[b], x1 - x0, y1 - y0)
        undyed = np.where(ratio >= MARK_PAPER * white, np.float32(255.0), ratio)
        out[y0:y1, x0:x1] = np.where(_up(inside[b], x1 - x0, y1 - y0), undyed, out[y0:y1, x0:x1])
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def _strips(near: np.ndarray, k: int):
    """The page in strips of STRIP blocks, each cut to the columns ``near`` reaches: ``(y0, y1,
    x0, x1, block slice)``, strips with nothing near skipped."""
    for b0 in range(0, near.shape[0], STRIP):
        cols = np.flatnonzero(near[b0:b0 + STRIP].any(axis=0))
        if cols.size:
            b1, c0, c1 = min(near.shape[0], b0 + STRIP), int(cols[0]), int(cols[-1]) + 1
            yield b0 * k, b1 * k, c0 * k, c1 * k, np.s_[b0:b1, c0:c1]


def _over_ink(dyed: np.ndarray, ink: np.ndarray) -> np.ndarray:
    """The dyed areas that lie over ink (a mark is made over words; a letter of light coloured
    type, a bold orange heading's stroke, has only paper around it): those with at least
    :data:`MARK_INK` of their size in blocks of ink within :data:`NEAR` blocks."""
    labels, n = ndi.label(dyed)
    if n == 0:
        return dyed
    keep = _ink_near(labels, n, ink) >= MARK_INK * np.bincount(labels.ravel(), minlength=n + 1)
    keep[0] = False
    return keep[labels]


def _ink_near(labels: np.ndarray, n: int, ink: np.ndarray) -> np.ndarray:
    """Blocks of ``ink`` within :data:`NEAR` blocks of each of the ``n`` labelled areas (index 0:
    of none); a block near two areas counts for the higher label."""
    grown = ndi.grey_dilation(labels, size=(2 * NEAR + 1, 2 * NEAR + 1))
    return np.bincount(grown[ink & (grown > 0)], minlength=n + 1)


def _carried(values: np.ndarray, known: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``values`` where ``known``, carried to the blocks around (a normalized convolution over
    :data:`FILL_SIGMA` blocks), and how much known weight reached each block."""
    wt = known.astype(np.float32)
    reach = ndi.gaussian_filter(wt, FILL_SIGMA)
    return ndi.gaussian_filter(values * wt, FILL_SIGMA) / np.maximum(reach, 1e-6), reach


def _opened(mask: np.ndarray, size: int) -> np.ndarray:
    """Binary opening by a ``size`` square (separable minimum and maximum filters)."""
    return ndi.maximum_filter(ndi.minimum_filter(mask, size, origin=-1 if size % 2 == 0 else 0), size)


def _blocks(a: np.ndarray, op, k: int) -> np.ndarray:
    """``op`` (np.maximum, np.minimum) over each k x k block of ``a`` (``H x W x C``), per
    channel (strided pairs: a reshaped reduction over the block's axes is several times
    slower)."""
    rows = a[0::k]
    for j in range(1, k):
        rows = op(rows, a[j::k])
    out = rows[:, 0::k]
    for j in range(1, k):
        out = op(out, rows[:, j::k])
    return out


def _under_paper(rgb: np.ndarray, top: np.ndarray, k: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Each k x k block's darkest pixel as a share of its brightest (``top``, the blocks' maxima
    per channel), per channel, and how far apart the channels' shares are (0: grey ink)."""
    h, w = top.shape[:2]
    darkest = _blocks(rgb[:h * k, :w * k], np.minimum, k).astype(np.float32)
    under = [darkest[:, :, c] / np.maximum(top[:, :, c], 1.0) for c in range(3)]
    return under, np.maximum(np.maximum(under[0], under[1]), under[2]) - np.minimum(np.minimum(under[0], under[1]), under[2])


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

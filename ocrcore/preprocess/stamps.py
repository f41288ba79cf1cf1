"""Rubber stamps on a page, taken out of the grey the page is analysed in.

An office's or a library's stamp (RECEIVED and a date in a frame, a library's oval, PAID) is
pressed in coloured pad ink, often over the text. Read as luminance its ink is nearly as dark as
type (red pad ink at 0.35-0.45 of the paper): its capitals become lines of their own and, where
it lies over the text, its strokes join the letters under it into blobs.

On a colour page its ink is coloured: one channel passes nearly whole (red ink's red, blue
ink's blue) while printed black ink is dark in every channel, also where it lies under the
stamp's ink, so what is the stamp's and what is type is told pixel by pixel. Not every coloured
letter is a stamp's (a red heading, blue type): coloured ink is taken out where it crosses black
type (printed colour lies beside black type, never over it) or closes a frame round words (a
ring, a rectangle or an oval 6 mm across or more on A4, round a hole holding ink, or with the
stamp's own bold words pressed against it, round pockets of paper among them), or, without a
frame, lies in a long row turned 8 degrees or more from the page's type (pressed askew).

On a grey page pad ink is a grey between the paper and type's black, in strokes wider than
type's grey edges: such strokes are taken out inside a frame of that grey, and without one
where they cross type, when they are most of the page's thick grey (the back page showing
through is grey crossing type too, but all over the page), as dark as pad ink and no larger
than a stamp. Type under a stamp, darker than both, is kept. A black stamp on a colour page,
and a frameless one on a grey page whose back shows through, stay as they are.
"""
from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from ocrcore.preprocess.binarize import estimate_skew

__all__ = ["stamp_regions", "lift_stamps", "grey_stamp_regions", "lift_grey_stamps"]

STEP = 2  # stamps are looked for on every STEP-th pixel both ways (a frame is 2 px wide or more)
INK_CHROMA = 0.2  # coloured ink: (max - min) / max of its channels at least this ...
INK_BRIGHT = 0.45  # ... its brightest channel at least this share of the paper's (black ink: ~0.1) ...
INK_DARK = 0.85  # ... and its luminance at most this share of the paper's (it is ink, not a tint)
FRAME_MIN = (0.025, 0.05)  # a frame's sides at least these shares of the page's shorter side (5 and
# 10 mm on A4; a large letter O is a ring too)
FRAME_HOLE = 1.0  # ... holding one hole at least this many times the ring's own area
RING_FILL = 0.35  # ... covering at most this share of its box
HOLE_INK = 0.08  # ... with at least this share of ink in it (a stamp's words: 0.16-0.31; specks of
# noise in a large letter's counter less)
WALL_POCKET = 0.15  # a frame its words touch: its largest pocket of paper, this share of its area
TURN_LONG, TURN_MIN = 6.0, 8.0  # a frameless stamp: a row this many times longer than wide, turned
# this many degrees from the type at least
TURN_TYPE = 0.002  # ... on a page with this share of black type at least (to measure the type's skew by)
SKIP_SHARE = 0.5  # a group with this share of its ink in blocks to skip is no stamp
TYPE_GREY, TYPE_LIGHT = 0.1, 0.7  # light type: grey, and darker than this share of the paper
GROUP = 4  # coloured ink within about GROUP x STEP pixels is one group (a stamp's letters and frame)
CROSS_MIN, CROSS_SHARE = 20, 0.01  # a group crosses black type: this many dark pixels beside its
# ink at least, and this share of its ink
# grey pages
MID = (0.12, 0.15)  # a stamp's grey: this share of the way from black to paper or more, and at
# least this share of it short of the paper
DARK_SHARE = 0.6  # type's black is measured on pixels darker than this share of the paper
MIN_CONTRAST = 40  # a page with less between its black and its paper is not looked at
QUICK_THICK = 0.0002  # a page with fewer thick mid-grey pixels than this share has no stamp to look for
STROKES_MIN = 0.0003  # a frameless stamp: thick grey strokes at least this share of the page ...
CROSS_MAX = 0.12  # ... crossing type, this many dark pixels beside them at most (a stamp 0.01-0.03,
# bold type's blurred rim round its black 0.24-0.30) ...
STAMP_SIZE = 0.4  # ... no wider or taller than this share of the page's shorter side (84 mm on A4) ...
STAMP_LEVEL = 0.48  # ... their grey's median at most this far from black to paper (pad ink: 0.24-0.43;
# a noisy page's grey type chained in groups 0.51-0.55) ...
STROKES_FILL = 0.09  # ... filling this share of their box at least (stamps 0.11-0.22; chained grey type 0.07)
LOCAL_SHARE = 0.6  # ... the stamps found this share of all the page's thick grey at least ...
MAX_STAMPS = 4  # ... and no more of them than this (a page of large blurred type: every word)
LIFT_LEVEL = 0.9  # near a stamp's strokes, a pixel this share of its darkest tenth or lighter is its ink
LIFT_CHROMA = 0.18  # in a stamp's group or frame, pixels this coloured (and bright in a channel) are its ink


def _balanced(rgb: np.ndarray, white: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The channels in thousandths of the paper's (``white``: its level per channel), so that a
    yellowed page's paper and type are grey again (integers: a page's worth of floats took 0.2 s)."""
    return tuple((rgb[:, :, k].astype(np.int32) * int(round(1024000 / max(1.0, float(white[k]))))) >> 10
                 for k in range(3))


def _coloured(rgb: np.ndarray, white: np.ndarray, chroma: float) -> np.ndarray:
    """Pixels of coloured ink: one channel bright, the others cut, darker than the paper."""
    r, g, b = _balanced(rgb, white)
    hi, lo = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    return (((hi - lo) * 100 >= int(round(chroma * 100)) * hi) & (hi >= int(INK_BRIGHT * 1000))
            & (299 * r + 587 * g + 114 * b <= int(INK_DARK * 1000000)))


def _type(rgb: np.ndarray, white: np.ndarray) -> np.ndarray:
    """Pixels of printed type: dark in every channel (also under a stamp's ink), or grey (its
    channels within TYPE_GREY of each other) and darker than TYPE_LIGHT of the paper (light type)."""
    r, g, b = _balanced(rgb, white)
    hi, lo = np.maximum(np.maximum(r, g), b), np.minimum(np.minimum(r, g), b)
    grey = ((hi - lo) * 100 <= int(TYPE_GREY * 100) * hi) & (hi <= int(TYPE_LIGHT * 1000))
    return (hi < int(INK_BRIGHT * 1000)) | grey


def _paper(rgb: np.ndarray) -> np.ndarray:
    """The paper's level per channel (on every 8th pixel both ways): white, or a yellowed page's tint."""
    return np.percentile(rgb[::8, ::8].reshape(-1, 3), 90, axis=0).astype(np.float32)


def stamp_regions(rgb: np.ndarray, paper: np.ndarray | None = None,
                  skip: tuple[np.ndarray, int] | None = None) -> list[tuple[slice, slice, np.ndarray]]:
    """Where the page's stamps lie: for each group of coloured ink that is a stamp, its rows and
    columns (slices of the page) and the mask within them whose coloured ink is the stamp's.
    ``paper``: the paper's level per channel, measured when not given. ``skip``:
    blocks (a mask and its block size) a group lies in for the most part at its peril: a
    highlighter's marks, whose dye over black type would pass for a stamp's ink crossing it. Such
    a group's ink outside those blocks is grouped again, on its own: a stamp pressed beside marked
    words was one group with their dye, and was kept.

    Coloured ink is grouped by blocks (pieces a block or two apart, as a stamp's letters are);
    a group is a stamp when it crosses black type (printed colour lies beside black type, never
    over it) or closes a frame round a hole holding ink (a rectangle or an oval round the
    stamp's words), or, no larger than a stamp, round its own words pressed against the frame,
    or, no larger than a stamp and without a frame, is a long row turned from the page's type."""
    small = rgb[::STEP, ::STEP]
    paper = _paper(rgb) if paper is None else paper
    raw = _coloured(small, paper, INK_CHROMA)
    if int(raw.sum()) < 50:
        return []
    ink = ndi.binary_closing(raw, np.ones((3, 3), bool), iterations=2) | raw  # patchy ink joined
    h, w = ink.shape
    marked = np.zeros_like(ink)
    if skip is not None:
        near, k = skip
        up = np.repeat(np.repeat(near, max(1, k // STEP), axis=0), max(1, k // STEP), axis=1)[:h, :w]
        marked[:up.shape[0], :up.shape[1]] = up
    out = []
    type_angle = None  # measured when a group asks
    todo = [(sl, member, True) for sl, member in _groups(ink)]
    while todo:
        sl, member, whole = todo.pop()
        mine = ink[sl] & member
        n = int(mine.sum())
        if n < 20:
            continue
        if int((mine & marked[sl]).sum()) >= SKIP_SHARE * n:
            if whole:  # the marks' dye, or a stamp joined to it: what lies outside the marks, alone
                todo.extend(((slice(sl[0].start + a.start, sl[0].start + a.stop),
                              slice(sl[1].start + b.start, sl[1].start + b.stop)), m, False)
                            for (a, b), m in _groups(mine & ~marked[sl]))
            continue
        dark = _type(small[sl], paper)  # type (and type under the stamp's ink)
        crossed = int((dark & ndi.binary_dilation(mine)).sum())
        region = member
        if crossed < max(CROSS_MIN, CROSS_SHARE * n):
            if not _frame_sized(sl, rgb.shape):
                continue
            filled = _framed(mine, dark, ink[sl] & ~mine)
            if filled is None and _stamp_sized(sl, rgb.shape):
                filled = _walled(mine, raw[sl] & mine, dark, ink[sl] & ~mine)
                if filled is None:  # a row of words pressed askew: turned from the page's type
                    if type_angle is None:
                        type_angle = _type_angle(small, paper)
                    if _turned(raw[sl] & mine, type_angle):
                        filled = member
            if filled is None:
                continue  # no frame round words (a coloured heading's letters, a highlighter's band)
            region = filled | member
        out.append(_full(sl, region, rgb.shape))
    return out


def _groups(mask: np.ndarray):
    """``mask``'s pixels grouped by blocks of GROUP x GROUP (pieces a block or two apart are one
    group, as a stamp's letters and frame are): for each group, its rows and columns (slices of
    ``mask``) and which pixels there are the group's."""
    h, w = mask.shape
    hb, wb = -(-h // GROUP), -(-w // GROUP)
    blocks = np.zeros((hb * GROUP, wb * GROUP), bool)
    blocks[:h, :w] = mask
    blocks = blocks.reshape(hb, GROUP, wb, GROUP).any(axis=(1, 3))
    groups, _ = ndi.label(ndi.binary_dilation(blocks, np.ones((3, 3), bool)), np.ones((3, 3), bool))
    for k, bsl in enumerate(ndi.find_objects(groups), start=1):
        if bsl is None:
            continue
        sl = (slice(bsl[0].start * GROUP, min(h, bsl[0].stop * GROUP)),
              slice(bsl[1].start * GROUP, min(w, bsl[1].stop * GROUP)))
        member = np.repeat(np.repeat(groups[bsl] == k, GROUP, axis=0), GROUP, axis=1)
        yield sl, member[:sl[0].stop - sl[0].start, :sl[1].stop - sl[1].start]


def _frame_sized(sl: tuple[slice, slice], shape: tuple) -> bool:
    """Whether a box on every STEP-th pixel is large enough for a stamp's frame on a page of ``shape``."""
    sides = sorted((sl[0].stop - sl[0].start, sl[1].stop - sl[1].start))
    short = min(shape[:2]) / STEP
    return sides[0] >= FRAME_MIN[0] * short and sides[1] >= FRAME_MIN[1] * short


def _stamp_sized(sl: tuple[slice, slice], shape: tuple) -> bool:
    """Whether a box on every STEP-th pixel is no larger than a stamp on a page of ``shape``."""
    return max(sl[0].stop - sl[0].start, sl[1].stop - sl[1].start) <= STAMP_SIZE * min(shape[:2]) / STEP


def _type_angle(small: np.ndarray, paper: np.ndarray) -> float:
    """The skew of the page's type (degrees, counter-clockwise), or NaN on a page with too little
    black type to tell (every line printed in colour)."""
    dark = _type(small, paper)
    return estimate_skew(dark, 10.0) if dark.mean() >= TURN_TYPE else float("nan")


def _turned(ink: np.ndarray, type_angle: float) -> bool:
    """Whether ``ink`` is a long row (its principal axis TURN_LONG times its cross axis at least)
    turned TURN_MIN degrees or more from the page's type: a rubber stamp pressed askew, not
    print. Measured on printed coloured words and lines (948 groups on 90 tinted pages): those
    that long (367) lay within 3.1 degrees of the type; shorter ones, words of a few letters,
    went up to 52 degrees off, as letters' shapes tilt the axis, and are left alone."""
    if not np.isfinite(type_angle):
        return False
    ys, xs = np.nonzero(ink)
    if len(xs) < 50:
        return False
    xs = xs - xs.mean()
    ys = ys - ys.mean()
    cxx, cyy, cxy = float((xs * xs).mean()), float((ys * ys).mean()), float((xs * ys).mean())
    lo, hi = np.linalg.eigvalsh(np.array([[cxx, cxy], [cxy, cyy]]))
    if hi < TURN_LONG ** 2 * max(lo, 1e-9):
        return False
    angle = -0.5 * float(np.degrees(np.arctan2(2 * cxy, cxx - cyy)))  # rows grow downwards
    off = (angle - type_angle + 90.0) % 180.0 - 90.0
    return abs(off) >= TURN_MIN


def _walled(ring: np.ndarray, raw: np.ndarray, dark: np.ndarray, other: np.ndarray) -> np.ndarray | None:
    """The ring and all it encloses when it is a stamp's frame whose words touch it (bold capitals
    pressed close to the frame; at 200 dpi the closing joins them to it and to each other, and
    :func:`_framed` finds no hole): what lies deeper in the filled ring than its strokes are wide
    is its inside, at least FRAME_HOLE times the ring's raw ink (``raw``) and holding HOLE_INK of
    coloured ink (the ring's own: its words; a reader's pen circling printed words makes a ring
    holding type, and lifting it left its edges by the letters), and the largest pocket of paper
    it closes in is WALL_POCKET of its area at least (stamps measured 0.37-0.56; the largest
    counter of a coloured paragraph joined into one group 0.003-0.007); else None. A large
    letter O's counter holds nothing; a coloured heading's letters, filled, are no deeper than
    their strokes."""
    n = int(raw.sum())
    if n == 0 or n > RING_FILL * raw.size:
        return None
    filled = ndi.binary_fill_holes(ring | dark)
    stroke = 2.0 * float(np.percentile(ndi.distance_transform_edt(raw)[raw], 90))
    inside = ndi.distance_transform_edt(np.pad(filled, 1))[1:-1, 1:-1] > stroke + 2
    if int(inside.sum()) < FRAME_HOLE * n:
        return None
    # the paper it closes in: one pocket at least between the words and the frame (a coloured
    # paragraph joined by the closing closes in only its letters' counters, each a speck)
    joined = ndi.binary_closing(raw, np.ones((3, 3), bool)) | raw
    pockets, m = ndi.label(ndi.binary_fill_holes(joined | dark) & ~joined & ~dark)
    if m == 0 or int(np.bincount(pockets.ravel())[1:].max()) < WALL_POCKET * int(filled.sum()):
        return None
    held = inside & (raw | other)  # its own words (a pen's loop round printed words is no stamp)
    return filled if int(held.sum()) >= HOLE_INK * int(inside.sum()) else None


def _full(sl: tuple[slice, slice], region: np.ndarray, shape: tuple) -> tuple[slice, slice, np.ndarray]:
    """A region found on every STEP-th pixel, as rows and columns of the page and its mask there."""
    rows = slice(sl[0].start * STEP, min(shape[0], sl[0].stop * STEP))
    cols = slice(sl[1].start * STEP, min(shape[1], sl[1].stop * STEP))
    mask = np.repeat(np.repeat(region, STEP, axis=0), STEP, axis=1)[:rows.stop - rows.start, :cols.stop - cols.start]
    return rows, cols, mask


def _framed(ring: np.ndarray, dark: np.ndarray, other: np.ndarray) -> np.ndarray | None:
    """The ring and all it encloses when it is a stamp's frame: closed round one hole at least
    FRAME_HOLE times its own area that holds ink (``other``: what is not the ring, and the ring's
    own pieces lying loose in the hole); else None.
    Black type crossing the frame breaks it, not the ring: the type's pixels (``dark``) close it."""
    n = int(ring.sum())
    if n > RING_FILL * ring.size:
        return None  # not a ring: a photograph's grey, a block of colour
    filled = ndi.binary_fill_holes(ring | dark)
    inside, m = ndi.label(filled & ~ring & ~dark)
    if m == 0:
        return None
    sizes = np.bincount(inside.ravel())[1:]
    if sizes.max() < FRAME_HOLE * n:
        return None
    hole = ndi.binary_fill_holes(inside == 1 + int(np.argmax(sizes)))
    within = ndi.binary_dilation(hole, iterations=2) & filled
    # what the hole holds: type, other ink, and the ring's own ink lying in it apart from the frame
    # (a stamp's bold words, grouped with a frame they nearly touch)
    held = (within & (dark | other) & ~ring) | (hole & ring)
    return filled if int(held.sum()) >= HOLE_INK * int(within.sum()) else None


def lift_stamps(rgb: np.ndarray, grey: np.ndarray, skip: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """``grey`` (the page's grey, uint8) with the coloured ink of its stamps turned to paper;
    the type under a stamp, dark in every channel, kept. The same array when there is none.
    ``skip`` as for :func:`stamp_regions`."""
    paper = _paper(rgb)
    regions = stamp_regions(rgb, paper, skip)
    if not regions:
        return grey
    out = grey.copy()
    paper_grey = float(np.percentile(grey[::8, ::8], 90))
    for rows, cols, mask in regions:
        ink = _coloured(rgb[rows, cols], paper, LIFT_CHROMA) & mask
        ink |= ndi.binary_dilation(ink) & _coloured(rgb[rows, cols], paper, LIFT_CHROMA / 2) & mask  # its fringe
        sub = out[rows, cols]
        sub[ink] = np.maximum(sub[ink], np.uint8(min(255.0, paper_grey)))
    return out


def grey_stamp_regions(g: np.ndarray) -> list[tuple[slice, slice, np.ndarray, float]]:
    """A grey page's stamps (``g``: uint8): for each, its rows and columns, the mask there of its
    strokes (those wider than type's, within its frame if it has one) and a pixel around them,
    and the grey of its darkest tenth.

    Pad ink scanned in grey lies between the paper and printed black (red ink at 0.35-0.45 of
    the paper, 0.7 where it took little ink), in strokes 0.4-1 mm wide. A frame of that grey
    (its ring and the type it crosses closed round a hole holding ink) marks a stamp; without
    one, thick grey strokes crossing type are a stamp's only when they are most of the page's
    thick grey (the back page showing through is grey crossing type too, but all over the
    page), in a few groups (a page of large blurred type has every word so), as dark as pad
    ink and no larger than a stamp."""
    small = g[::STEP, ::STEP]
    look = small[::4, ::4]
    paper = float(np.percentile(look, 90))
    darker = look[look < DARK_SHARE * paper]
    if darker.size < 20:
        return []
    black = float(np.percentile(darker, 2))  # type's core (thin type's grey edges are most of its ink)
    if paper - black < MIN_CONTRAST:
        return []
    lo, hi = black + MID[0] * (paper - black), paper - MID[1] * (paper - black)
    small = np.ascontiguousarray(small)
    mid = (small - np.uint8(lo)) <= np.uint8(hi - lo)  # lo <= small <= hi, in one pass
    core = _eroded3(mid)  # strokes wider than type's grey edges (sliced: 10x scipy's erosion)
    if int(core.sum()) < QUICK_THICK * small.size:
        return []
    thick = _dilated3(core)
    dark = small < lo
    # type crossing the frame breaks its grey: a stamp's frame is its grey and the type it touches
    labels, _ = ndi.label(mid | dark, np.ones((3, 3), bool))
    out = []
    framed = np.zeros_like(mid)
    for i, sl in enumerate(ndi.find_objects(labels), start=1):
        if sl is None or not _frame_sized(sl, g.shape):
            continue
        ring = labels[sl] == i
        filled = _framed(ring, dark[sl] & ~ring, (mid[sl] | dark[sl]) & ~ring)
        if filled is None:
            continue
        strokes = thick[sl] & filled  # the frame's and the words' strokes (type's are thinner)
        if not strokes.any():
            continue
        level = float(np.percentile(small[sl][strokes], 10))  # the stamp's ink where it took most
        rows, cols, region = _full(sl, filled, g.shape)
        out.append((rows, cols, region & _full(sl, ndi.binary_dilation(strokes), g.shape)[2], level))
        framed[sl] |= filled
    # a stamp without a frame: thick grey strokes crossing type, when they are most of the
    # page's (the back page showing through spreads thick grey over the whole page)
    thick &= ~framed
    found, held = [], 0
    for sl, member in _groups(thick):
        mine = thick[sl] & member
        n = int(mine.sum())
        hh, ww = sl[0].stop - sl[0].start, sl[1].stop - sl[1].start
        if (n < STROKES_MIN * small.size or not STROKES_FILL * hh * ww <= n <= RING_FILL * hh * ww
                or max(hh, ww) > STAMP_SIZE * min(small.shape)):
            continue  # too little for a stamp's words; too sparse (grey type chained by noise), too
            # solid (a photograph) or too large for a stamp
        if np.median(small[sl][core[sl] & member]) > black + STAMP_LEVEL * (paper - black):
            continue  # lighter than pad ink (the back page showing through in columns)
        crossed = int((dark[sl] & ndi.binary_dilation(mine)).sum())
        if crossed < max(CROSS_MIN, CROSS_SHARE * n) or crossed > CROSS_MAX * n:
            continue  # crossing no type; or the grey rim round bold type's black (at 150 dpi)
        found.append((sl, mine))
        held += n
    if len(found) <= MAX_STAMPS and held >= LOCAL_SHARE * int(thick.sum()):
        for sl, mine in found:
            rows, cols, near = _full(sl, ndi.binary_dilation(mine), g.shape)
            out.append((rows, cols, near, float(np.percentile(small[sl][mine], 10))))
    return out


def _eroded3(m: np.ndarray) -> np.ndarray:
    """``m`` eroded by a 3 x 3 square (the border false)."""
    out = np.zeros_like(m)
    c = out[1:-1, 1:-1]
    c[...] = m[1:-1, 1:-1]
    for dy in (0, 1, 2):
        for dx in (0, 1, 2):
            c &= m[dy:dy + m.shape[0] - 2, dx:dx + m.shape[1] - 2]
    return out


def _dilated3(m: np.ndarray) -> np.ndarray:
    """``m`` dilated by a 3 x 3 square."""
    out = m.copy()
    for dy in (-1, 0, 1):
        for dx in (-1, 0, 1):
            out[max(0, dy):m.shape[0] + min(0, dy), max(0, dx):m.shape[1] + min(0, dx)] |= \
                m[max(0, -dy):m.shape[0] + min(0, -dy), max(0, -dx):m.shape[1] + min(0, -dx)]
    return out


def lift_grey_stamps(g: np.ndarray) -> np.ndarray:
    """``g`` (a grey page, uint8) with the ink of its stamps turned to paper: their strokes
    wider than type's (a frame's and those inside it, or a frameless stamp's) and the pixels
    round them as light as their ink; type under them, darker, kept. The same array when there
    is none."""
    regions = grey_stamp_regions(g)
    if not regions:
        return g
    out = g.copy()
    paper = float(np.percentile(g[::8, ::8], 90))
    for rows, cols, near, level in regions:
        sub = out[rows, cols]
        lift = near & (sub >= LIFT_LEVEL * level)  # type under the stamp is darker than both
        sub[lift] = np.maximum(sub[lift], np.uint8(min(255.0, paper)))
    return out

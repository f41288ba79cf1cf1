"""Typewritten text: what a typewriter's strikes do to Courier-like type.

Archives hold letters, reports and forms typed on office machines. A typewriter prints each
letter by striking a type bar through an inked ribbon, so its letters are not the clean, evenly
dark, perfectly aligned glyphs of print: each bar lands a little off the line (a bent bar the
same way every time, and a little differently at each strike, tilted too), each strike has its
own pressure (one edge fainter when the slug hits at an angle), the ribbon's weave and wear
leave grain and gaps, the ink spreads (more from a fresh, wet ribbon), and old ink clogging a
slug fills the small counters of its ``e``, ``a`` or ``o`` at every strike. Letters and reports
were typed with carbon copies under the top sheet, and files often keep only the copy: its letters
are the same strikes pressed through paper and carbon, so blurred (more for a second or third
copy), lighter and unevenly inked, on thin onionskin that the carbon smudged, often in blue or
violet.

:func:`machine` draws one machine and ribbon (per page or line); :func:`strike` re-draws the
glyphs of placed characters as that machine prints them, in place: shifted, turned, spread,
filled, lightened and grained. Each character's box is its new ink's box, so ground truth stays
exact. :func:`carbon_copy` makes a machine strike a carbon copy instead (blurred strikes);
:func:`carbon_paper` smudges and mottles the copy's paper, :func:`carbon_grey` gives a blue or violet
carbon's luminance and :func:`carbon_tint` its colour.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageFont
from scipy import ndimage as ndi

from ocrcore.synth.fonts import FontInfo, FontSet
from ocrcore.synth.render import Glyph, Placed, glyph

# typewriter faces first (Courier's clones); any monospaced regular font after them
_TYPE_FACE = re.compile(r"nimbusmono|freemono|liberationmono|courier|typewriter", re.I)
# letters whose small closed counters a wet ribbon fills
CLOG_CHARS = frozenset("aeobdpqgADOPQRB@&%#0689")
_CROSS = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
_INK_LUT = [0] * 24 + [255] * 232  # what counts as a strike's ink for its box (about a tenth of full ink)
_SOFT_INK_LUT = [0] * 64 + [255] * 192  # a blurred strike's: a quarter, where a reader sees its edge
WEAVE = 256  # px, the side of the ribbon's grain tile


@dataclass
class Machine:
    """One typewriter and ribbon; sizes in px at the page's resolution.

    ``bar`` and ``turn``: spread of the lasting offset (px) and tilt (degrees) of each type bar;
    ``jitter``: spread of each strike's own offset (px); ``pressure``: range of a strike's
    strength (1 = full ink); ``tilt``: how much fainter one edge of a struck letter may be;
    ``spread``: px the ink spreads round the strokes (a fraction: part of one more px);
    ``grain``: 0-1, the ribbon's weave and wear taking ink out; ``clog``: the share of letters
    with small counters whose slug is clogged with old ink (those print their counters filled,
    more or less, at every strike).
    """

    bar: float
    turn: float
    jitter: float
    pressure: tuple[float, float]
    tilt: float
    spread: float
    grain: float
    clog: float
    rng: np.random.Generator = field(repr=False)
    blur: float = 0.0  # px, a carbon copy's strikes blurred through the sheets above it
    bars: dict = field(default_factory=dict, repr=False)
    # per glyph, its ink spread and its counters (the same at every strike: computed once)
    inked: dict = field(default_factory=dict, repr=False)
    weave: Optional[np.ndarray] = field(default=None, repr=False)  # the ribbon's grain, a tile

    def describe(self) -> dict:
        """The settings, rounded, for a sample's meta."""
        return {"bar_px": round(self.bar, 2), "turn_deg": round(self.turn, 2), "jitter_px": round(self.jitter, 2),
                "pressure": [round(v, 2) for v in self.pressure], "tilt": round(self.tilt, 2),
                "spread_px": round(self.spread, 2), "grain": round(self.grain, 2), "clog": round(self.clog, 2)}

    def bar_of(self, ch: str) -> tuple[float, float, float, bool]:
        """``(dx, dy, degrees, dirty)`` of ``ch``'s type bar, drawn on its first strike and kept
        (``dirty``: its slug's counters are clogged with old ink)."""
        if ch not in self.bars:
            r = self.rng
            self.bars[ch] = (float(r.normal(0.0, 0.4 * self.bar)), float(r.normal(0.0, self.bar)),
                             float(r.normal(0.0, self.turn)), ch in CLOG_CHARS and float(r.random()) < self.clog)
        return self.bars[ch]

    def spread_ink(self, g: Glyph) -> tuple[np.ndarray, np.ndarray]:
        """``g``'s ink (0-1, padded) spread by :attr:`spread`, and its closed counters."""
        key = id(g.mask)
        if key not in self.inked:
            pad = int(math.ceil(self.spread)) + 2
            a = np.pad(np.asarray(g.mask, dtype=np.float32) / 255.0, pad)
            whole, part = divmod(self.spread, 1.0)
            for _ in range(int(whole)):  # ink spread a px at a time round the strokes (a 3 x 3 cross)
                a = ndi.grey_dilation(a, footprint=_CROSS)
            if part > 0.05:  # and the fraction of one more
                a = a + part * (ndi.grey_dilation(a, footprint=_CROSS) - a)
            solid = a > 0.5
            self.inked[key] = (g.mask, a, ndi.binary_fill_holes(solid) & ~solid)  # the mask kept alive
        return self.inked[key][1], self.inked[key][2]

    def grain_at(self, h: int, w: int) -> np.ndarray:
        """Pixel-sized grain (about unit spread) for an ``h`` x ``w`` strike: a window of the ribbon."""
        r = self.rng
        if self.weave is None:
            t = ndi.gaussian_filter(r.standard_normal((WEAVE, WEAVE)).astype(np.float32), 0.7, mode="wrap")
            self.weave = t / (float(t.std()) + 1e-6)
        if h > WEAVE or w > WEAVE:  # a glyph larger than the tile: tile it
            reps = (h // WEAVE + 1, w // WEAVE + 1)
            return np.tile(self.weave, reps)[:h, :w]
        y0, x0 = int(r.integers(0, WEAVE - h + 1)), int(r.integers(0, WEAVE - w + 1))
        return self.weave[y0:y0 + h, x0:x0 + w]


def stem_width(font: ImageFont.FreeTypeFont) -> float:
    """The width in px of ``font``'s ``l`` stem at mid-height (its ink summed across one row)."""
    g = glyph(font, "l")
    if g.mask is None:
        return 0.0
    a = np.asarray(g.mask, dtype=np.float32) / 255.0
    return float(a[a.shape[0] // 2].sum())


def machine(rng: np.random.Generator, font: ImageFont.FreeTypeFont) -> Machine:
    """A machine and ribbon for text in ``font`` (its size is the em in px): some well kept, some worn.

    Typed strokes are heavier than the digital Courier clones' (Nimbus Mono's stem is 0.05 em,
    FreeMono's 0.04): the ink spreads round every stroke to a stem of 0.07-0.10 em, and further
    on a wet ribbon."""
    size = int(font.size)
    worn = float(rng.random())  # 0 = a new machine and ribbon, 1 = an old one
    wet = float(rng.random()) < 0.4  # a fresh ribbon spreads ink
    heavier = max(0.0, float(rng.uniform(0.07, 0.10)) * size - stem_width(font)) / 2.0
    return Machine(
        bar=size * float(rng.uniform(0.005, 0.03 + 0.03 * worn)),
        turn=float(rng.uniform(0.0, 0.6 + 1.2 * worn)),
        jitter=size * float(rng.uniform(0.003, 0.015)),
        pressure=(float(rng.uniform(0.45, 0.85)), float(rng.uniform(0.9, 1.0))),
        tilt=float(rng.uniform(0.0, 0.6)),
        spread=heavier + (size * float(rng.uniform(0.01, 0.025)) if wet else 0.0),
        grain=float(rng.uniform(0.0, 0.25) + 0.35 * worn * float(rng.random())),
        clog=float(rng.uniform(0.0, 0.25)) if wet else float(rng.uniform(0.0, 0.1)),
        rng=rng,
    )


def type_font(fonts: FontSet, rng: np.random.Generator) -> FontInfo:
    """A typewriter face from ``fonts`` (Courier's clones first), or FontError if none is monospaced."""
    return fonts.mono_regular(rng, _TYPE_FACE, "typewritten text", " (or add a Courier-like font)")


def strike(m: Machine, placed: Sequence[Placed]) -> None:
    """Re-draw each placed glyph as ``m`` strikes it (position, tilt, ink), in place."""
    r = m.rng
    for p in placed:
        g = p.glyph
        if g.mask is None or not p.drawn:
            continue
        bx, by, turn, dirty = m.bar_of(p.ch)
        dx = bx + float(r.normal(0.0, m.jitter))
        dy = by + float(r.normal(0.0, m.jitter))
        p.glyph = _struck(m, r, g, dirty, turn + float(r.normal(0.0, 0.25 * m.turn)))
        p.x += int(round(dx))
        p.y += int(round(dy))


def _struck(m: Machine, r: np.random.Generator, g: Glyph, dirty: bool, turn: float) -> Glyph:
    """One strike's ink of glyph ``g``: a new glyph, cropped to its ink, at the same pen origin."""
    a, holes = m.spread_ink(g)
    if dirty:  # old ink in the slug's counters: filled more or less at each strike
        a = np.where(holes, np.maximum(a, float(r.uniform(0.35, 1.0))), a)
    if m.blur > 0:  # a carbon copy: the strike pressed through paper and carbon spreads and softens,
        # dense where pressed (the blurred strokes' cores saturate)
        a = np.minimum(1.4 * ndi.gaussian_filter(np.pad(a, int(math.ceil(2.5 * m.blur))), m.blur), 1.0)
    h, w = a.shape
    s = float(r.uniform(*m.pressure))
    if m.tilt > 0:  # one edge fainter: the slug met the paper at an angle
        ang = float(r.uniform(0.0, 2 * math.pi))
        ramp = (np.cos(ang) * (np.arange(w, dtype=np.float32)[None, :] - w / 2)
                + np.sin(ang) * (np.arange(h, dtype=np.float32)[:, None] - h / 2)) / max(h, w)  # about [-0.5, 0.5]
        s = s * np.clip(1.0 - float(r.uniform(0.0, m.tilt)) * (ramp + 0.5), 0.0, 1.0)
    a = a * s
    if m.grain > 0:  # the ribbon's weave: pixel-sized grains of less ink
        a = a * np.clip(1.0 - m.grain * (0.6 + m.grain_at(h, w)), 0.0, 1.0)
    img = Image.fromarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    pad = (h - g.mask.height) // 2
    ox, oy = g.dx - pad, g.dy - pad  # the padded canvas's top-left, from the pen position
    if abs(turn) > 0.05:
        cx, cy = ox + w / 2.0, oy + h / 2.0
        img = img.rotate(turn, resample=Image.BICUBIC, expand=True)
        ox, oy = int(round(cx - img.width / 2.0)), int(round(cy - img.height / 2.0))
    ink = img.point(_SOFT_INK_LUT if m.blur > 0 else _INK_LUT).getbbox()
    if ink is None:  # struck too lightly to leave a mark a reader sees: keep the plain glyph
        return g
    return Glyph(img.crop(ink), ox + ink[0], oy + ink[1])


def typed(rng: Optional[np.random.Generator], share: float) -> bool:
    """Whether a page or line is typed (draws once from its own stream when ``share`` > 0)."""
    return bool(share > 0 and rng is not None and float(rng.random()) < share)


# a carbon's colour: the share of light it lets through per channel (R, G, B) where it lies fully
# (a black carbon's copy stays a grey page)
CARBON_INKS = {"black": (0.16, 0.16, 0.18), "blue": (0.15, 0.22, 0.62), "violet": (0.38, 0.20, 0.62)}


def carbon_copy(m: Machine, rng: np.random.Generator, size: int) -> dict:
    """Make ``m`` strike a carbon copy: the ``copy``-th sheet under the top one (1-3), its strikes
    blurred by the sheets above it (sigma 1.5-3% of the em for the first copy, more under it) and
    grainier (the carbon's coat worn unevenly). Returns what was drawn, for the page's meta; the
    page's ink level, paper and colour are the caller's (:func:`carbon_paper`, :func:`carbon_grey`,
    :func:`carbon_tint`)."""
    copy = int(rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))
    m.blur = size * float(rng.uniform(0.015, 0.03)) * (0.7 + 0.3 * copy)
    m.grain = min(0.9, m.grain + float(rng.uniform(0.05, 0.2)))
    colour = str(rng.choice(list(CARBON_INKS), p=[0.4, 0.4, 0.2]))
    # lighter under more sheets; a tint lightens a coloured carbon's grey further
    ink = int(rng.integers(0, 51) if colour == "black" else rng.integers(0, 31)) + 15 * (copy - 1)
    return {"copy": copy, "blur_px": round(m.blur, 2), "grain": round(m.grain, 2), "colour": colour, "ink": ink}


def carbon_paper(img: Image.Image, rng: np.random.Generator, dpi: int) -> list[dict]:
    """Onionskin and carbon on a typed copy, in place of ``img`` ("L"): the thin paper's mottle (a
    fine cloudy texture, a few grey levels) and one to four smudges where the carbon rubbed off
    (soft grey streaks up to a few inches long, mostly along the lines). Not text, so the truth is
    unchanged. Returns the smudges drawn."""
    W, H = img.size
    a = np.asarray(img, np.float32)
    small = (max(2, H // 8), max(2, W // 8))  # the mottle drawn at an eighth of the size, then enlarged
    mottle = ndi.gaussian_filter(rng.standard_normal(small).astype(np.float32), 0.004 * dpi)
    mottle = np.asarray(Image.fromarray(mottle / (float(mottle.std()) + 1e-6)).resize((W, H), Image.BILINEAR))
    a = a - float(rng.uniform(2.0, 6.0)) * mottle
    yy, xx = np.mgrid[0:H:8, 0:W:8].astype(np.float32)
    smudges = []
    dark = np.zeros(yy.shape, np.float32)
    for _ in range(int(rng.integers(1, 5))):
        cx, cy = float(rng.uniform(0, W)), float(rng.uniform(0, H))
        length, width = float(rng.uniform(0.5, 3.0)) * dpi, float(rng.uniform(0.05, 0.3)) * dpi
        ang = math.radians(float(rng.normal(0.0, 15.0)))
        depth = float(rng.uniform(15.0, 50.0))
        u = (xx - cx) * math.cos(ang) + (yy - cy) * math.sin(ang)
        v = -(xx - cx) * math.sin(ang) + (yy - cy) * math.cos(ang)
        dark += depth * np.exp(-0.5 * ((u / (0.5 * length)) ** 2 + (v / (0.5 * width)) ** 2))
        smudges.append({"center": [round(cx), round(cy)], "length_px": round(length), "width_px": round(width),
                        "angle_deg": round(math.degrees(ang), 1), "depth": round(depth, 1)})
    dark = np.asarray(Image.fromarray(dark).resize((W, H), Image.BILINEAR))
    out = np.clip(a - dark + 0.5, 0, 255).astype(np.uint8)
    img.paste(Image.fromarray(out, "L"))
    return smudges


def _paper_level(g: Image.Image) -> float:
    return max(1.0, float(np.percentile(np.asarray(g)[::4, ::4], 90)))


def _luma(t: Sequence[float]) -> float:
    return 0.299 * t[0] + 0.587 * t[1] + 0.114 * t[2]  # ITU-R 601, as Pillow's convert("L")


def carbon_grey(img: Image.Image, colour: str) -> Image.Image:
    """The grey page ``img`` ("L", ink drawn black) as its luminance is when the carbon is
    ``colour``: a blue or violet carbon is lighter in grey than a black one of the same density.
    Drawn before the scan's degradations (a scan sees the carbon's luminance); see
    :func:`carbon_tint` for its colour."""
    if colour == "black":
        return img
    paper = _paper_level(img)
    level = np.arange(256, dtype=np.float32)
    lut = level + np.clip(paper - level, 0.0, None) * _luma(CARBON_INKS[colour])
    return img.point(np.clip(lut + 0.5, 0, 255).astype(np.uint8).tolist())


def carbon_tint(img: Image.Image, colour: str) -> Image.Image:
    """The grey scan ``img`` of a ``colour`` carbon (:func:`carbon_grey`, then degraded) as a
    colour scan sees it: each pixel's darkness against the paper (its 90th percentile) is that
    much of the carbon, which lets through its share of each channel; the luminance is kept.
    Black carbon returns the page unchanged (grey)."""
    if colour == "black":
        return img
    g = img.convert("L")
    paper = _paper_level(g)
    t = CARBON_INKS[colour]
    level = np.arange(256, dtype=np.float32)
    cover = np.clip(paper - level, 0.0, None) / (paper * (1.0 - _luma(t)))  # 1 = the carbon's full density
    bands = []
    for tc in t:  # per channel, a table from grey level; paper and lighter stay as they are
        lut = np.where(level < paper, paper * (1.0 - cover * (1.0 - tc)), level)
        bands.append(g.point(np.clip(lut + 0.5, 0, 255).astype(np.uint8).tolist()))
    return Image.merge("RGB", bands)

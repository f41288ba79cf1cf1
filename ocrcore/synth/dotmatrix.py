"""Dot-matrix printouts: each letter a pattern of round pin dots.

Archives from the 1970s to the 1990s hold reports, invoices, statements and program listings
printed on impact dot-matrix printers. Their print head is a column of 9 pins (draft) or 24
(near letter quality) that strike an inked ribbon as the head moves, so a letter is a small
bitmap font's pixels printed as round dots: in draft the dots stand apart on curves and
diagonals and strokes are beaded; a worn ribbon leaves the dots grey and uneven, fainter along
its worn edge (the letters' tops or bottoms); a broken pin leaves the same row of dots out of
every letter; bold is each dot struck twice, half a step apart. A reader that takes small blobs
for specks, or learnt only solid strokes, misreads such pages.

:func:`printer` draws one printer and ribbon (per page or line) for text laid out in a
monospaced font; :func:`dot_print` re-draws placed glyphs as that printer prints them, in place.
Each character's box is its dots' ink box, so ground truth stays exact. :func:`continuous_form`
draws the fan-fold paper such printers fed: pale bars across the sheet ("green bar") and the
sprocket holes of its tractor strips.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Optional, Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ocrcore.synth.fonts import FontInfo, FontSet, load_font
from ocrcore.synth.render import Glyph, Placed

# sans monospaced faces first: their hinted bitmaps at 9-10 px are what printer ROM fonts look like
_DOT_FACE = re.compile(r"dejavusansmono|liberationmono|sansmono", re.I)
_SUPER = 4  # dots are drawn at 4x the page's resolution, then averaged down (quarter-px placement)
_INK_LEVEL = 0.1  # what counts as a dot's ink for a character's box (about a tenth of full ink)


@dataclass
class Printer:
    """One dot-matrix printer and ribbon; sizes in px at the page's resolution.

    ``pins``: 9 (draft) or 24 (near letter quality); ``pitch``: px between pin centres (a
    column of the bitmap font's rows); ``step``: px between dot columns (the font's pixel
    columns); ``radius``: a dot's radius in px; ``face``: the small font whose hinted 1-bit
    pixels are the printer's character bitmaps; ``lift``: px from the layout font's pen
    position to the top of those bitmaps (baselines shared); ``bold``: each dot struck twice,
    half a step apart; ``ink``: range of a character's strike (1 = full ink); ``grain``: how
    uneven single dots are; ``fade``: how much fainter the ribbon's worn edge prints, on the
    bitmap's top rows (``fade_top``) or bottom rows; ``dead``: the bitmap row of a broken
    pin, printed at ``dead_ink`` of the rest (0 = not at all), or None; ``jitter``: px a dot
    lands off its place.
    """

    pins: int
    pitch: float
    step: float
    radius: float
    face: ImageFont.FreeTypeFont
    lift: float
    bold: bool
    ink: tuple[float, float]
    grain: float
    fade: float
    fade_top: bool
    dead: Optional[int]
    dead_ink: float
    jitter: float
    rng: np.random.Generator = field(repr=False)
    cells: dict = field(default_factory=dict, repr=False)  # per character, its bitmap's (row, column) pixels
    dot: Optional[np.ndarray] = field(default=None, repr=False)  # a dot's ink at the 4x scale

    def describe(self) -> dict:
        """The settings, rounded, for a sample's meta."""
        return {"pins": self.pins, "pitch_px": round(self.pitch, 2), "step_px": round(self.step, 2),
                "radius_px": round(self.radius, 2), "face": getattr(self.face, "path", ""),
                "face_px": int(self.face.size), "bold": self.bold, "ink": [round(v, 2) for v in self.ink],
                "grain": round(self.grain, 2), "fade": round(self.fade, 2),
                "fade_edge": "top" if self.fade_top else "bottom", "dead_pin_row": self.dead,
                "dead_ink": round(self.dead_ink, 2) if self.dead is not None else None,
                "jitter_px": round(self.jitter, 2)}

    def cells_of(self, ch: str) -> np.ndarray:
        """``ch``'s printed pixels as an (n, 2) array of (row, column) in the printer's font
        (row 0 the top of its ascender, column 0 its pen position), computed once."""
        if ch not in self.cells:
            f = self.face
            pad = f.size
            w = int(math.ceil(f.getlength(ch))) + 2 * pad
            a, d = f.getmetrics()
            im = Image.new("L", (w, a + d + pad), 0)
            draw = ImageDraw.Draw(im)
            draw.fontmode = "1"  # hinted, not antialiased: the pixels a printer's ROM font holds
            draw.text((pad, 0), ch, font=f, fill=255)
            rows, cols = np.nonzero(np.asarray(im) > 127)
            self.cells[ch] = np.stack([rows, cols - pad], axis=1).astype(np.float32)
        return self.cells[ch]

    def stamp(self) -> np.ndarray:
        """A dot's ink (0-1) at the 4x scale, centred on the array's middle corner, drawn once."""
        if self.dot is None:
            r = self.radius * _SUPER
            n = 2 * int(math.ceil(r + 2))
            yy, xx = np.mgrid[0:n, 0:n].astype(np.float32) + 0.5
            self.dot = np.clip(r + 0.5 - np.hypot(xx - n / 2, yy - n / 2), 0.0, 1.0)  # its edge one 4x px soft
        return self.dot


def dot_face(fonts: FontSet, rng: np.random.Generator) -> FontInfo:
    """A monospaced face for a printer's bitmaps (sans faces first), or FontError if none is there."""
    return fonts.mono_regular(rng, _DOT_FACE, "dot-matrix text")


def printer(rng: np.random.Generator, face: FontInfo, font: ImageFont.FreeTypeFont, dpi: float) -> Printer:
    """A printer and ribbon for text laid out in the monospaced ``font`` at ``dpi``: 9 pins
    (a 9-10 px font, pins 1/72 inch apart: a 10 px sans face's capitals are 7 px tall and its
    descenders 2 px, the pins' reach) in 70% of draws, else 24 (a 20-24 px font, 1/180 inch);
    its dots' columns fill the layout font's character step; some ribbons fresh, some worn;
    one printer in six with a broken pin."""
    nine = float(rng.random()) < 0.7
    pins = 9 if nine else 24
    em = int(rng.integers(9, 11)) if nine else int(rng.integers(20, 25))
    small = load_font(face.path, em)
    pitch = dpi / (72.0 if nine else 180.0)
    step = float(font.getlength("M")) / max(1.0, float(small.getlength("M")))
    worn = float(rng.random())
    # draft dots nearly touch down a column (a pin's dot is about 1/75 inch); NLQ dots overlap
    radius = pitch * float(rng.uniform(0.42, 0.6) if nine else rng.uniform(0.7, 1.0))
    rows = sum(small.getmetrics())
    dead = int(rng.integers(1, max(2, rows - 3))) if float(rng.random()) < 1.0 / 6.0 else None
    lift = float(font.getmetrics()[0]) - small.getmetrics()[0] * pitch
    return Printer(
        pins=pins, pitch=pitch, step=step, radius=radius, face=small, lift=lift,
        bold=bool(float(rng.random()) < 0.25),
        ink=(float(rng.uniform(0.55, 0.9)) - 0.25 * worn, 1.0 - 0.2 * worn),
        grain=float(rng.uniform(0.0, 0.2) + 0.4 * worn * float(rng.random())),
        fade=float(rng.uniform(0.0, 0.7)) * worn, fade_top=bool(float(rng.random()) < 0.5),
        dead=dead, dead_ink=float(rng.uniform(0.0, 0.35)),
        jitter=pitch * float(rng.uniform(0.02, 0.08)),
        rng=rng,
    )


def dot_print(pr: Printer, placed: Sequence[Placed]) -> None:
    """Re-draw each placed glyph as ``pr`` prints it (dots of the printer's bitmap), in place; a
    character the printer's font has no pixels for keeps its outline glyph."""
    for p in placed:
        if p.glyph.mask is None or not p.drawn:
            continue
        g = _printed(pr, p.ch)
        if g is not None:
            p.glyph = g


def _printed(pr: Printer, ch: str) -> Optional[Glyph]:
    """One strike of ``ch``: its dots drawn with this strike's ink, as a glyph from the pen position."""
    cells = pr.cells_of(ch)
    if not len(cells):
        return None
    r = pr.rng
    if pr.bold:  # emphasized: every dot again, half a step to the right
        cells = np.concatenate([cells, cells + np.array([0.0, 0.5], np.float32)])
    rows = float(sum(pr.face.getmetrics()))
    t = cells[:, 0] / max(1.0, rows - 1.0)  # 0 at the bitmap's top, 1 at its bottom
    level = float(r.uniform(*pr.ink)) * (1.0 - pr.fade * (1.0 - t if pr.fade_top else t) ** 1.5)
    level = level * np.clip(1.0 - pr.grain * r.random(len(cells)), 0.05, 1.0)
    if pr.dead is not None:
        level = np.where(cells[:, 0] == pr.dead, level * pr.dead_ink, level)
    ys = pr.lift + (cells[:, 0] + 0.5) * pr.pitch + r.normal(0.0, pr.jitter, len(cells))
    xs = (cells[:, 1] + 0.5) * pr.step + r.normal(0.0, pr.jitter, len(cells))
    reach = pr.radius + 2.0
    x0, y0 = int(math.floor(xs.min() - reach)), int(math.floor(ys.min() - reach))
    x1, y1 = int(math.ceil(xs.max() + reach)), int(math.ceil(ys.max() + reach))
    canvas = np.zeros(((y1 - y0) * _SUPER, (x1 - x0) * _SUPER), np.float32)
    s = pr.stamp()
    half = s.shape[0] // 2
    for x, y, v in zip((xs - x0) * _SUPER, (ys - y0) * _SUPER, level):
        top, left = int(round(y)) - half, int(round(x)) - half  # placed to a quarter px
        sl = canvas[max(0, top):top + s.shape[0], max(0, left):left + s.shape[1]]
        part = s[max(0, -top):max(0, -top) + sl.shape[0], max(0, -left):max(0, -left) + sl.shape[1]]
        np.maximum(sl, v * part, out=sl)
    h, w = y1 - y0, x1 - x0
    a = canvas.reshape(h, _SUPER, w, _SUPER).mean(axis=(1, 3))
    ys_, xs_ = np.nonzero(a >= _INK_LEVEL)
    if not len(ys_):  # struck too lightly to leave a mark a reader sees
        return None
    a = a[ys_.min():ys_.max() + 1, xs_.min():xs_.max() + 1]
    mask = Image.fromarray(np.clip(a * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    return Glyph(mask, x0 + int(xs_.min()), y0 + int(ys_.min()))


def continuous_form(img: Image.Image, rng: np.random.Generator, dpi: float, lines_per_inch: float = 6.0,
                    holes: bool = True) -> dict:
    """Fan-fold paper under a printout, in place of ``img`` ("L"): in half the draws pale bars
    across the sheet every other half inch ("green bar", drawn as the grey a scan of the tint
    gives), and in a third the tractor strips' sprocket holes (5/32 inch every half inch, a
    quarter inch from each edge) showing the scanner's dark lid. Not text: the truth is unchanged.
    Drawn on the blank sheet, before the print. ``holes`` False: none (a line's crop). Returns
    what was drawn."""
    W, H = img.size
    out: dict = {"bars": None, "holes": None}
    draw = ImageDraw.Draw(img)
    paper = int(np.percentile(np.asarray(img)[::8, ::8], 90))
    if float(rng.random()) < 0.5:
        depth = int(rng.integers(8, 28))
        band = 3.0 * dpi / lines_per_inch  # three lines a bar
        start = float(rng.uniform(0, 2 * band))
        y = start - 2 * band
        while y < H:
            draw.rectangle((0, int(round(y)), W, int(round(y + band)) - 1), fill=max(0, paper - depth))
            y += 2 * band
        out["bars"] = {"depth": depth, "band_px": round(band, 1)}
    if float(rng.random()) < 1.0 / 3.0 and holes:
        r = 5.0 / 64.0 * dpi
        dark = int(rng.integers(10, 90))
        off = float(rng.uniform(0, 0.5 * dpi))
        cx = (0.25 * dpi, W - 0.25 * dpi)
        y = off
        while y < H:
            for x in cx:
                draw.ellipse((x - r, y - r, x + r, y + r), fill=dark)
            y += 0.5 * dpi
        out["holes"] = {"radius_px": round(r, 1), "level": dark}
    return out

"""Glyph-by-glyph text rendering with exact ink boxes.

Text is drawn one glyph at a time at integer positions from a per-process glyph cache: each entry
holds the glyph's ink bitmap cropped to its tight bounding box and its offset from the pen
position. Pasting the bitmap reproduces exactly what ``ImageDraw.text`` draws at that integer
position, and the ink box of every character comes for free, so ground-truth boxes are exact.
Drawing glyph by glyph also lets callers vary letter and word spacing freely.

Book and journal typesetting joins ``fi``, ``fl``, ``ff``, ``ffi`` and ``ffl`` into ligatures
(the dot of the ``i`` merged into the hook of the ``f``): :func:`place` can set them as the font
does (``ligatures=True``), one glyph whose ink box is split among its letters at their pen
positions, so a model trained on such lines reads them in real scans.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

from PIL import Image, ImageDraw, ImageFont, features

from ocrcore.containers import BBox

_LIGA_OFF = ["-liga"] if features.check("raqm") else None


@dataclass(frozen=True)
class Glyph:
    """A glyph's ink: ``mask`` ("L", cropped to the ink) at ``(dx, dy)`` from the pen position.

    ``mask`` is None for glyphs without ink (space); the pen position is the top-left of the
    line's ascender box (PIL's default ``"la"`` anchor).
    """

    mask: Optional[Image.Image]
    dx: int
    dy: int

    @property
    def box(self) -> Optional[BBox]:
        if self.mask is None:
            return None
        return (self.dx, self.dy, self.dx + self.mask.width, self.dy + self.mask.height)


@lru_cache(maxsize=20000)
def glyph(font: ImageFont.FreeTypeFont, ch: str) -> Glyph:
    """Rendered ink of one character, cached per (font, char)."""
    x0, y0, x1, y1 = font.getbbox(ch)
    pad = 2
    w, h = int(x1 - x0) + 2 * pad, int(y1 - y0) + 2 * pad
    if w <= 2 * pad or h <= 2 * pad:
        return Glyph(None, 0, 0)
    canvas = Image.new("L", (w, h), 0)
    ox, oy = pad - int(x0), pad - int(y0)
    ImageDraw.Draw(canvas).text((ox, oy), ch, font=font, fill=255)
    ink = canvas.getbbox()
    if ink is None:
        return Glyph(None, 0, 0)
    return Glyph(canvas.crop(ink), ink[0] - ox, ink[1] - oy)


@lru_cache(maxsize=262144)
def advance(font: ImageFont.FreeTypeFont, prev: str, ch: str) -> float:
    """Pen advance for ``ch`` after ``prev`` (kerning included, ligatures off); '' = no previous."""
    if not prev:
        return float(font.getlength(ch))
    if _LIGA_OFF:
        return float(font.getlength(prev + ch, features=_LIGA_OFF) - font.getlength(prev, features=_LIGA_OFF))
    return float(font.getlength(prev + ch) - font.getlength(prev))


# the ligatures of Latin text fonts, longest first (``ffi`` before ``ff``)
LIGATURES = ("ffi", "ffl", "ff", "fi", "fl")


@lru_cache(maxsize=4096)
def has_ligature(font: ImageFont.FreeTypeFont, seq: str) -> bool:
    """Whether ``font`` sets ``seq`` as a ligature (its drawing differs with ``liga`` off).

    Needs Pillow's raqm layout (always False without it: ligatures cannot be turned off, nor
    told apart, by the basic layout)."""
    return bool(_LIGA_OFF) and drawing(font, seq) != drawing(font, seq, _LIGA_OFF)


def drawing(font: ImageFont.FreeTypeFont, text: str, features: Optional[list[str]] = None) -> bytes:
    """The pixels of ``text`` drawn alone on a canvas sized to it, for telling two drawings apart."""
    w, h = int(font.getlength(text, features=features)) + 2 * font.size, 2 * font.size
    im = Image.new("L", (w, h), 0)
    ImageDraw.Draw(im).text((font.size // 2, font.size // 4), text, font=font, fill=255, features=features)
    return im.tobytes()


@lru_cache(maxsize=4096)
def ligature_shift(font: ImageFont.FreeTypeFont, seq: str) -> float:
    """How much farther the pen moves after ``seq`` set as a ligature than set letter by letter."""
    return float(font.getlength(seq) - font.getlength(seq, features=_LIGA_OFF)) if _LIGA_OFF else 0.0


@dataclass
class Placed:
    """One character placed on a canvas: pen position (integers) and its glyph.

    A letter of a ligature holds the ligature's glyph at the ligature's pen position, ``clip``
    the columns of its ink that are this letter's (relative to that pen position), and
    ``drawn`` True only on its first letter, so the glyph is pasted once.
    """

    ch: str
    x: int
    y: int
    glyph: Glyph
    clip: Optional[tuple[int, int]] = None
    drawn: bool = True

    @property
    def box(self) -> Optional[BBox]:
        b = self.glyph.box
        if b is None:
            return None
        x0, x1 = (b[0], b[2]) if self.clip is None else self.clip
        return (x0 + self.x, b[1] + self.y, x1 + self.x, b[3] + self.y)


def advances(
    font: ImageFont.FreeTypeFont,
    text: str,
    extra: Optional[Sequence[float]] = None,
    space_extra: float = 0.0,
) -> list[float]:
    """Pen advance of each character: kerned advance + ``extra[i]`` (+ ``space_extra`` on spaces)."""
    out = []
    prev = ""
    for i, ch in enumerate(text):
        a = advance(font, "" if prev == " " else prev, ch)
        if extra is not None:
            a += extra[i]
        if ch == " ":
            a += space_extra
        out.append(a)
        prev = ch
    return out


def place(font: ImageFont.FreeTypeFont, text: str, x: float, y: int, steps: Sequence[float],
          ligatures: bool = False) -> list[Placed]:
    """Place ``text`` with its pen starting at ``(x, y)`` and moving by ``steps`` per char.

    ``ligatures``: set the font's ligatures (:data:`LIGATURES`, where :func:`has_ligature`)
    as one glyph at the first letter's pen position; the pen then moves by the letters' ``steps``
    plus the difference between the ligature's advance and theirs (:func:`ligature_shift`), as
    a typesetter's would. Each letter's box is the part of the ligature's ink between its pen
    position and the next letter's (scaled to the ligature's width).
    """
    out = []
    pen = float(x)
    i, n = 0, min(len(text), len(steps))
    while i < n:
        seq = next((s for s in LIGATURES if text.startswith(s, i) and i + len(s) <= n and has_ligature(font, s)),
                   None) if ligatures else None
        if seq is None:
            out.append(Placed(text[i], int(round(pen)), int(y), glyph(font, text[i])))
            pen += steps[i]
            i += 1
            continue
        g = glyph(font, seq)
        x0 = int(round(pen))
        run = float(sum(steps[i: i + len(seq)]))
        # the ligature is narrower (or wider) than its letters set apart: the pen follows it
        width = run + ligature_shift(font, seq)
        cuts = []  # pen positions of the letters after the first, relative to x0, scaled to the ligature
        acc = 0.0
        for k in range(len(seq) - 1):
            acc += steps[i + k]
            cuts.append(int(round(pen + acc * width / run)) - x0 if run > 0 else 0)
        pen += width
        if g.mask is None:  # no ink (cannot happen for f, i, l; kept safe)
            out.extend(Placed(c, x0, int(y), g) for c in seq)
        else:
            lo, hi = g.dx, g.dx + g.mask.width
            edges = [lo] + [min(max(c, lo + k + 1), hi - (len(cuts) - k)) for k, c in enumerate(cuts)] + [hi]
            for k, c in enumerate(seq):
                out.append(Placed(c, x0, int(y), g, (edges[k], max(edges[k + 1], edges[k] + 1)), k == 0))
        i += len(seq)
    return out


def paste(img: Image.Image, placed: Sequence[Placed], ink: int) -> None:
    """Draw placed glyphs onto ``img`` in colour ``ink`` (antialiased, blended like ImageDraw)."""
    for p in placed:
        g = p.glyph
        if g.mask is not None and p.drawn:
            img.paste(ink, (p.x + g.dx, p.y + g.dy), g.mask)

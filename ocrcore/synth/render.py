"""Glyph-by-glyph text rendering with exact ink boxes.

Text is drawn one glyph at a time at integer positions from a per-process glyph cache: each entry
holds the glyph's ink bitmap cropped to its tight bounding box and its offset from the pen
position. Pasting the bitmap reproduces exactly what ``ImageDraw.text`` draws at that integer
position, and the ink box of every character comes for free, so ground-truth boxes are exact.
Drawing glyph by glyph also lets callers vary letter and word spacing freely.
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


@dataclass
class Placed:
    """One character placed on a canvas: pen position (integers) and its glyph."""

    ch: str
    x: int
    y: int
    glyph: Glyph

    @property
    def box(self) -> Optional[BBox]:
        b = self.glyph.box
        if b is None:
            return None
        return (b[0] + self.x, b[1] + self.y, b[2] + self.x, b[3] + self.y)


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


def place(font: ImageFont.FreeTypeFont, text: str, x: float, y: int, steps: Sequence[float]) -> list[Placed]:
    """Place ``text`` with its pen starting at ``(x, y)`` and moving by ``steps`` per char."""
    out = []
    pen = float(x)
    for ch, step in zip(text, steps):
        out.append(Placed(ch, int(round(pen)), int(y), glyph(font, ch)))
        pen += step
    return out


def paste(img: Image.Image, placed: Sequence[Placed], ink: int) -> None:
    """Draw placed glyphs onto ``img`` in colour ``ink`` (antialiased, blended like ImageDraw)."""
    for p in placed:
        g = p.glyph
        if g.mask is not None:
            img.paste(ink, (p.x + g.dx, p.y + g.dy), g.mask)

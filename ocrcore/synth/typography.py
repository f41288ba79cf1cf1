"""Typographic punctuation: the curly quotes and dashes printed text uses where plain text types ASCII.

Books, journals and most office documents print ``’`` for an apostrophe, ``“ ”`` and ``‘ ’``
for quotes, an en dash ``–`` in number ranges and spaced breaks, and an em dash ``—`` for a
double hyphen. Labels fold them back to ASCII (:mod:`ocrcore.model.charset`, normalization
``ocr``), but their glyphs differ: a model that only saw straight marks reads ``“`` as ``<`` and
an em dash as ``--``. :func:`typeset` gives, for a plain text, its label and the text to draw,
character for character, so every drawn glyph keeps its label character's box.
"""
from __future__ import annotations

from functools import lru_cache

from PIL import ImageFont

from ocrcore.synth.render import drawing

EN_DASH, EM_DASH = "\u2013", "\u2014"
QUOTES = {"'": ("\u2018", "\u2019"), '"': ("\u201c", "\u201d")}  # (opening, closing)
MISSING = "\U0010fffd"  # a private-use code point no text font draws: its .notdef glyph


def typeset(text: str) -> tuple[str, str]:
    """``(label, drawn)`` of equal length: ``drawn[i]`` is the glyph printed for ``label[i]``.

    An apostrophe or quote is opening at the start of a word (after any opening brackets) and
    closing elsewhere (apostrophes inside words included); a hyphen standing alone between
    spaces, or between two digits (a range), is an en dash; a double hyphen standing alone
    is one em dash, labelled ``-`` as the labels' normalization folds it (so the label can be
    shorter than ``text``). Deterministic: the same text is always set the same way.
    """
    labels, drawn = [], []
    for tok in text.split(" "):
        if tok in ("-", "--"):
            labels.append("-")
            drawn.append(EN_DASH if tok == "-" else EM_DASH)
            continue
        out = list(tok)
        lead = len(tok) - len(tok.lstrip("([{"))
        for j, ch in enumerate(tok):
            if ch in QUOTES:
                out[j] = QUOTES[ch][0] if j <= lead and j + 1 < len(tok) else QUOTES[ch][1]
                if j == lead:
                    lead += 1  # a quote inside a quote at a word's start opens too
            elif ch == "-" and 0 < j < len(tok) - 1 and tok[j - 1].isdigit() and tok[j + 1].isdigit():
                out[j] = EN_DASH
        labels.append(tok)
        drawn.append("".join(out))
    return " ".join(labels), " ".join(drawn)


@lru_cache(maxsize=4096)
def has_glyph(font: ImageFont.FreeTypeFont, ch: str) -> bool:
    """Whether ``font`` draws ``ch`` (its drawing differs from the .notdef box)."""
    return drawing(font, ch) != drawing(font, MISSING)


def drawable(font: ImageFont.FreeTypeFont, label: str, drawn: str) -> str:
    """``drawn`` with every glyph ``font`` lacks put back to its label's character."""
    return "".join(d if d == c or has_glyph(font, d) else c for c, d in zip(label, drawn))

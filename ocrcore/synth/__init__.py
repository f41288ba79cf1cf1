"""Synthetic training data: captchas, printed text lines and whole pages with exact ground truth.

Every generator is a pure function of ``(kind, seed, index, params)`` (see ``base.py``). Params
are plain JSON-able dicts: :func:`default_params` gives the defaults, :func:`validate_params`
merges a user dict over them and rejects anything wrong (unknown keys included) with a message
saying what is allowed, and :func:`make_generator` returns a callable ``(seed, index) -> Sample``
that resolves fonts once, for hot loops. :func:`generate` is the one-shot convenience.
"""
from __future__ import annotations

import copy
import math
import numbers
import os
from typing import Any, Callable, Optional

from ocrcore.synth.base import Sample, sample_id, sample_rng
from ocrcore.synth.captcha import CAPTCHA_CHARSET, STYLES as CAPTCHA_STYLES
from ocrcore.synth.corpus import DEFAULT_LINE_CHARSET
from ocrcore.synth.fonts import FONT_CLASSES, FONT_STYLES, FontError

__all__ = [
    "KINDS",
    "Sample",
    "FontError",
    "CAPTCHA_CHARSET",
    "DEFAULT_LINE_CHARSET",
    "default_params",
    "validate_params",
    "make_generator",
    "generate",
    "sample_id",
    "sample_rng",
]

KINDS = ("captcha", "lines", "pages")

_FONT_DEFAULTS = {"fonts": None, "extra_fonts": []}

_DEFAULTS: dict[str, dict[str, Any]] = {
    "captcha": {
        "style": "classic",
        "charset": CAPTCHA_CHARSET,
        "length": None,
        "min_length": 5,
        "max_length": 5,
        "width": 200,
        "height": 50,
        "noise": 0.5,
        "distortion": 0.5,
        **_FONT_DEFAULTS,
    },
    "lines": {
        "charset": DEFAULT_LINE_CHARSET,
        "min_chars": 5,
        "max_chars": 70,
        "sentence_start": 0.3,  # share of lines opening a sentence; the rest start mid-sentence
        "symbols": 0.03,  # share of technical tokens: citations, formulas, addresses (corpus.py)
        "cells": 0.0,  # share of lines that are table cells (a figure or a short label); 0 draws nothing
        "ligatures": 0.0,  # share of lines set with fi/fl/ff/ffi/ffl ligatures as books are; 0 keeps lines as they were
        "typographic": 0.0,  # share of lines whose quotes and dashes are drawn curly / long as print has them; 0 as above
        "typewriter": 0.0,  # share of lines typed on a typewriter (Courier-like, each letter struck unevenly)
        "carbon": 0.0,  # share of typed lines that are carbon copies (blurred, light, smudged; needs typewriter)
        "dotmatrix": 0.0,  # share of lines (not typed) printed on a dot-matrix printer (letters of pin dots)
        "min_height": 24,  # text size (font em) in px: 24-56 px is about 6-13 pt at 300 dpi
        "max_height": 56,
        "max_letter_spacing": 0.08,
        "degrade": 0.5,
        **_FONT_DEFAULTS,
        "font_classes": list(FONT_CLASSES),
        "font_styles": list(FONT_STYLES),
    },
    "pages": {
        "dpi": 300,
        "columns": "random",
        "max_skew": 2.0,
        "min_pt": 9.0,
        "max_pt": 12.0,
        "degrade": 0.5,
        "charset": DEFAULT_LINE_CHARSET,
        "symbols": 0.0,  # technical tokens; 0 keeps the pages our benchmarks and tests name by seed
        "figures": 0.0,  # share of pages holding a picture (photo or halftone); 0 as for symbols
        "underlines": 0.0,  # share of body words that start an underlined run of 1-3 words; 0 as for symbols
        "tables": 0.0,  # share of pages holding a table (cells as lines, row by row); 0 as for symbols
        "furniture": 0.0,  # share of pages with a running head, a page number and footnotes; 0 as for symbols
        "curl": 0.0,  # a book's page curving into its spine: lines bend by up to this share of the page height
        "show_through": 0.0,  # the back page showing through the paper, darkening it by up to this share
        "highlights": 0.0,  # share of body words that start a run marked with a highlighter (a colour page)
        "annotations": 0.0,  # share of pages a reader wrote on with a pen: notes, ticks, circles, a signature
        "stamps": 0.0,  # share of pages with one or two rubber stamps (RECEIVED and a date, PAID, ...)
        "typewriter": 0.0,  # share of pages typed on a typewriter (Courier-like, each letter struck unevenly)
        "carbon": 0.0,  # share of typed pages that are carbon copies (blurred, light, smudged; needs typewriter)
        "dotmatrix": 0.0,  # share of pages (not typed) printed on a dot-matrix printer, on fan-fold paper
        "dotmatrix_lpi": 0,  # lines an inch of those printouts: 0 drawn (6, 8 or 3), else 3, 6 or 8 (8: 9-pin only)
        "ligatures": 0.0,  # share of pages whose text is set with fi/fl/ff/ffi/ffl ligatures; 0 as for symbols
        "typographic": 0.0,  # share of pages whose quotes and dashes are drawn curly / long as print has them; 0 as above
        "min_leading": 1.12,  # line pitch of the body text in units of its type size (2+ = double-spaced)
        "max_leading": 1.45,
        **_FONT_DEFAULTS,
        "font_classes": list(FONT_CLASSES),
    },
}

MAX_SKEW = 10.0


def default_params(kind: str) -> dict:
    """A fresh copy of the default params of ``kind``."""
    _check_kind(kind)
    return copy.deepcopy(_DEFAULTS[kind])


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown synthetic kind {kind!r}; allowed kinds: {', '.join(KINDS)}")


# --- checks -----------------------------------------------------------------------------------


def _int(kind: str, name: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral):
        raise ValueError(f"{kind}: {name} must be an integer in [{lo}, {hi}], got {v!r}")
    v = int(v)
    if not lo <= v <= hi:
        what = "too small" if v < lo else "too large"
        raise ValueError(f"{kind}: {name}={v} is {what}; allowed range is [{lo}, {hi}]")
    return v


def _lpi(kind: str, v: Any) -> int:
    """``dotmatrix_lpi``: 0 (drawn) or the lines an inch a printer spaces at, 3, 6 or 8."""
    if isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v) in (0.0, 3.0, 6.0, 8.0):
        return int(v)
    raise ValueError(f"{kind}: dotmatrix_lpi must be 0 (drawn), 3, 6 or 8 lines an inch, got {v!r}")


def _carbon(kind: str, p: dict) -> float:
    """``carbon``, a share of the typed lines or pages: refused when none are typed."""
    v = _float(kind, "carbon", p["carbon"], 0.0, 1.0)
    if v > 0 and p["typewriter"] == 0:
        one = kind[:-1]
        raise ValueError(f"{kind}: carbon={v} is a share of typed {kind}, and none are typed; set typewriter > 0 "
                         f"too (typewriter=1, carbon=1 makes every {one} a carbon copy)")
    return v


def _float(kind: str, name: str, v: Any, lo: float, hi: float) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
        raise ValueError(f"{kind}: {name} must be a number in [{lo}, {hi}], got {v!r}")
    v = float(v)
    if not lo <= v <= hi:
        raise ValueError(f"{kind}: {name}={v} is out of range; allowed range is [{lo}, {hi}]")
    return v


def _charset(kind: str, v: Any, allow_space: bool, need_space: bool = False) -> str:
    if not isinstance(v, str) or not v:
        raise ValueError(f"{kind}: charset must be a non-empty string of characters, got {v!r}")
    seen, dups = set(), []
    for c in v:
        if c in seen and c not in dups:
            dups.append(c)
        seen.add(c)
    if dups:
        raise ValueError(f"{kind}: charset has duplicate characters {''.join(dups)!r}; list each character once")
    bad = [c for c in v if (c.isspace() and not (allow_space and c == " ")) or not (c.isprintable() or c == " ")]
    if bad:
        allowed = "printable characters plus the plain space ' '" if allow_space else "printable, non-whitespace characters"
        raise ValueError(f"{kind}: charset contains {bad!r}; only {allowed} are allowed")
    if not v.strip():
        raise ValueError(f"{kind}: charset must contain at least one non-space character")
    if need_space and " " not in v:
        raise ValueError(f"{kind}: charset must contain a space ' ' (pages are made of words)")
    return v


def _paths(kind: str, name: str, v: Any, allow_none: bool) -> Optional[list[str]]:
    if v is None and allow_none:
        return None
    if isinstance(v, str) or not isinstance(v, (list, tuple)):
        what = "None (system fonts) or a non-empty list" if allow_none else "a list"
        raise ValueError(f"{kind}: {name} must be {what} of font files or directories, got {v!r}")
    if allow_none and not v:
        raise ValueError(f"{kind}: {name} must be None (system fonts) or a non-empty list of font files/directories")
    out = []
    for p in v:
        if not isinstance(p, (str, os.PathLike)) or not str(p):
            raise ValueError(f"{kind}: {name} entries must be path strings, got {p!r}")
        p = os.fspath(p)
        if not os.path.exists(p):
            raise FontError(f"{kind}: {name}: font path {p!r} does not exist")
        if os.path.isfile(p) and not p.lower().endswith((".ttf", ".otf", ".ttc")):
            raise FontError(f"{kind}: {name}: {p!r} is not a .ttf/.otf font file")
        out.append(p)
    return out


def _choices(kind: str, name: str, v: Any, allowed: tuple[str, ...]) -> list[str]:
    if isinstance(v, str) or not isinstance(v, (list, tuple)) or not v:
        raise ValueError(f"{kind}: {name} must be a non-empty list drawn from {list(allowed)}, got {v!r}")
    bad = [x for x in v if x not in allowed]
    if bad:
        raise ValueError(f"{kind}: {name} has unknown values {bad!r}; allowed: {list(allowed)}")
    return [x for x in allowed if x in v]


def _range(kind: str, lo_name: str, hi_name: str, p: dict) -> None:
    if p[lo_name] > p[hi_name]:
        raise ValueError(f"{kind}: {lo_name}={p[lo_name]} is greater than {hi_name}={p[hi_name]}")


def validate_params(kind: str, params: Optional[dict] = None) -> dict:
    """Full params of ``kind`` (defaults merged with ``params``), checked.

    Raises ``ValueError`` (``FontError`` for font paths) saying what is wrong and what is
    allowed: unknown kind, unknown keys, bad charset, bad lengths/sizes/ranges, bad font lists.
    Cheap: no font is loaded here (see :func:`make_generator`).
    """
    _check_kind(kind)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ValueError(f"{kind}: params must be a dict, got {type(params).__name__}")
    defaults = _DEFAULTS[kind]
    unknown = sorted(set(params) - set(defaults), key=str)
    if unknown:
        raise ValueError(
            f"{kind}: unknown parameter(s) {', '.join(map(repr, unknown))}; allowed: {', '.join(defaults)}"
        )
    p = copy.deepcopy(defaults)
    p.update(copy.deepcopy(params))

    p["fonts"] = _paths(kind, "fonts", p["fonts"], allow_none=True)
    p["extra_fonts"] = _paths(kind, "extra_fonts", p["extra_fonts"], allow_none=False)

    if kind == "captcha":
        if p["style"] not in CAPTCHA_STYLES:
            raise ValueError(f"captcha: unknown style {p['style']!r}; allowed: {', '.join(CAPTCHA_STYLES)}")
        p["charset"] = _charset(kind, p["charset"], allow_space=False)
        if p["length"] is not None:
            p["length"] = _int(kind, "length", p["length"], 1, 64)
            for k in ("min_length", "max_length"):
                # a validated dict (length copied into both) validates again unchanged
                if k in params and params[k] != p["length"]:
                    raise ValueError("captcha: give either length or min_length/max_length, not both")
            p["min_length"] = p["max_length"] = max_len = p["length"]
        else:
            p["min_length"] = _int(kind, "min_length", p["min_length"], 1, 64)
            p["max_length"] = _int(kind, "max_length", p["max_length"], 1, 64)
            _range(kind, "min_length", "max_length", p)
            max_len = p["max_length"]
        p["height"] = _int(kind, "height", p["height"], 16, 1024)
        p["width"] = _int(kind, "width", p["width"], 32, 4096)
        if p["width"] < 10 * max_len:
            raise ValueError(
                f"captcha: width={p['width']} is too small for {max_len} characters; need at least {10 * max_len}"
            )
        p["noise"] = _float(kind, "noise", p["noise"], 0.0, 1.0)
        p["distortion"] = _float(kind, "distortion", p["distortion"], 0.0, 1.0)
    elif kind == "lines":
        p["charset"] = _charset(kind, p["charset"], allow_space=True)
        p["min_chars"] = _int(kind, "min_chars", p["min_chars"], 1, 2000)
        p["max_chars"] = _int(kind, "max_chars", p["max_chars"], 1, 2000)
        _range(kind, "min_chars", "max_chars", p)
        p["sentence_start"] = _float(kind, "sentence_start", p["sentence_start"], 0.0, 1.0)
        p["symbols"] = _float(kind, "symbols", p["symbols"], 0.0, 0.5)
        p["cells"] = _float(kind, "cells", p["cells"], 0.0, 1.0)
        p["ligatures"] = _float(kind, "ligatures", p["ligatures"], 0.0, 1.0)
        p["typographic"] = _float(kind, "typographic", p["typographic"], 0.0, 1.0)
        p["typewriter"] = _float(kind, "typewriter", p["typewriter"], 0.0, 1.0)
        p["carbon"] = _carbon(kind, p)
        p["dotmatrix"] = _float(kind, "dotmatrix", p["dotmatrix"], 0.0, 1.0)
        p["min_height"] = _int(kind, "min_height", p["min_height"], 8, 512)
        p["max_height"] = _int(kind, "max_height", p["max_height"], 8, 512)
        _range(kind, "min_height", "max_height", p)
        p["max_letter_spacing"] = _float(kind, "max_letter_spacing", p["max_letter_spacing"], 0.0, 1.0)
        p["degrade"] = _float(kind, "degrade", p["degrade"], 0.0, 1.0)
        p["font_classes"] = _choices(kind, "font_classes", p["font_classes"], FONT_CLASSES)
        p["font_styles"] = _choices(kind, "font_styles", p["font_styles"], FONT_STYLES)
    else:  # pages
        p["charset"] = _charset(kind, p["charset"], allow_space=True, need_space=True)
        p["dpi"] = _int(kind, "dpi", p["dpi"], 50, 600)
        cols = p["columns"]
        if cols != "random" and (isinstance(cols, bool) or not isinstance(cols, numbers.Integral) or cols not in (1, 2)):
            raise ValueError(f"pages: columns must be 1, 2 or 'random', got {cols!r}")
        p["columns"] = cols if cols == "random" else int(cols)
        p["max_skew"] = _float(kind, "max_skew", p["max_skew"], 0.0, MAX_SKEW)
        p["min_pt"] = _float(kind, "min_pt", p["min_pt"], 4.0, 48.0)
        p["max_pt"] = _float(kind, "max_pt", p["max_pt"], 4.0, 48.0)
        _range(kind, "min_pt", "max_pt", p)
        if p["min_pt"] * p["dpi"] / 72.0 < 6.0:
            raise ValueError(
                f"pages: min_pt={p['min_pt']} at dpi={p['dpi']} gives text {p['min_pt'] * p['dpi'] / 72:.1f} px "
                f"high, too small; need at least 6 px (raise min_pt or dpi)"
            )
        p["degrade"] = _float(kind, "degrade", p["degrade"], 0.0, 1.0)
        p["symbols"] = _float(kind, "symbols", p["symbols"], 0.0, 0.5)
        p["figures"] = _float(kind, "figures", p["figures"], 0.0, 1.0)
        p["underlines"] = _float(kind, "underlines", p["underlines"], 0.0, 1.0)
        p["tables"] = _float(kind, "tables", p["tables"], 0.0, 1.0)
        p["furniture"] = _float(kind, "furniture", p["furniture"], 0.0, 1.0)
        p["curl"] = _float(kind, "curl", p["curl"], 0.0, 0.1)
        p["show_through"] = _float(kind, "show_through", p["show_through"], 0.0, 0.8)
        p["highlights"] = _float(kind, "highlights", p["highlights"], 0.0, 1.0)
        p["annotations"] = _float(kind, "annotations", p["annotations"], 0.0, 1.0)
        p["stamps"] = _float(kind, "stamps", p["stamps"], 0.0, 1.0)
        p["typewriter"] = _float(kind, "typewriter", p["typewriter"], 0.0, 1.0)
        p["carbon"] = _carbon(kind, p)
        p["dotmatrix"] = _float(kind, "dotmatrix", p["dotmatrix"], 0.0, 1.0)
        p["dotmatrix_lpi"] = _lpi(kind, p["dotmatrix_lpi"])
        p["ligatures"] = _float(kind, "ligatures", p["ligatures"], 0.0, 1.0)
        p["typographic"] = _float(kind, "typographic", p["typographic"], 0.0, 1.0)
        p["min_leading"] = _float(kind, "min_leading", p["min_leading"], 1.0, 4.0)
        p["max_leading"] = _float(kind, "max_leading", p["max_leading"], 1.0, 4.0)
        _range(kind, "min_leading", "max_leading", p)
        p["font_classes"] = _choices(kind, "font_classes", p["font_classes"], FONT_CLASSES)
    return p


def make_generator(kind: str, params: Optional[dict] = None) -> Callable[[int, int], Sample]:
    """Validate ``params`` once and return a callable ``(seed, index) -> Sample``.

    Fonts are resolved and checked here (a bad font raises ``FontError`` now, not mid-shard).
    The callable pickles as its params only, so it can be shipped to worker processes.
    """
    p = validate_params(kind, params)
    if kind == "captcha":
        from ocrcore.synth.captcha import CaptchaGenerator

        gen = CaptchaGenerator(p)
        if p["style"] == "classic":
            gen.fonts  # noqa: B018  resolve fonts now
    elif kind == "lines":
        from ocrcore.synth.lines import LinesGenerator

        gen = LinesGenerator(p)
        gen.fonts  # noqa: B018
    else:
        from ocrcore.synth.pages import PagesGenerator

        gen = PagesGenerator(p)
        gen.fonts  # noqa: B018
    if kind != "captcha" and p["typewriter"] > 0:
        import numpy as np

        from ocrcore.synth.typewriter import type_font

        type_font(gen.fonts, np.random.default_rng(0))  # no monospaced font: FontError now, not mid-shard
    if kind != "captcha" and p["dotmatrix"] > 0:
        import numpy as np

        from ocrcore.synth.dotmatrix import dot_face

        dot_face(gen.fonts, np.random.default_rng(0))
    return gen


def generate(kind: str, seed: int, index: int, params: Optional[dict] = None) -> Sample:
    """One sample of ``kind`` (validates ``params``; use :func:`make_generator` in loops)."""
    return make_generator(kind, params)(seed, index)

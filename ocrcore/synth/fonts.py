"""Font discovery, classification and loading for the synthetic generators.

Fonts are found under ``/usr/share/fonts`` (plus any paths the caller passes), in sorted path
order so that a seed picks the same font on every machine with the same fonts installed. Each
font is classified into a class (``serif``/``sans``/``mono``) and a style
(``regular``/``bold``/``italic``/``bolditalic``) from its family, style and file names, and
fonts that cannot render ordinary Latin text (symbol, dingbat and math fonts) are skipped.
Loaded fonts are cached per process, since generators load the same few fonts over and over.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterable, Optional, Sequence

from PIL import ImageFont

FONT_DIRS: tuple[str, ...] = ("/usr/share/fonts",)
FONT_EXTENSIONS = (".ttf", ".otf")
FONT_CLASSES = ("serif", "sans", "mono")
FONT_STYLES = ("regular", "bold", "italic", "bolditalic")
SETUP_HINT = (
    "run `make setup`, which installs the Debian packages fonts-dejavu-core fonts-dejavu-extra "
    "fonts-liberation fonts-freefont-ttf fonts-urw-base35"
)

# Fonts whose names say they are not for running Latin text (D050000L is URW's Zapf Dingbats).
_UNSUITABLE_NAME = re.compile(r"symbol|dingbat|math|emoji|wingding|webding|ornament|d050000l", re.I)
_MONO_NAME = re.compile(r"mono|courier|typewriter|consol|\bcode\b", re.I)
_SANS_NAME = re.compile(r"sans|gothic|helvet|arial|verdana|grotesk|grotesque", re.I)
_BOLD_NAME = re.compile(r"bold|black|heavy|demi|semibold|extrabold|ultra", re.I)
_ITALIC_NAME = re.compile(r"italic|oblique|slanted|inclined|kursiv", re.I)


class FontError(ValueError):
    """A font cannot be loaded or used; the message names the path and the reason."""


@dataclass(frozen=True)
class FontInfo:
    """One usable font file and how it was classified."""

    path: str
    family: str
    style_name: str
    font_class: str  # serif | sans | mono
    style: str  # regular | bold | italic | bolditalic

    @property
    def bold(self) -> bool:
        return self.style in ("bold", "bolditalic")

    @property
    def italic(self) -> bool:
        return self.style in ("italic", "bolditalic")


@lru_cache(maxsize=512)
def load_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    """Load a TrueType/OpenType font at ``size`` px, cached per process.

    Raises :class:`FontError` naming the path and the reason when the file is missing or is not
    a font FreeType can read.
    """
    if not isinstance(size, int) or size <= 0:
        raise FontError(f"cannot load font {path!r}: size must be a positive int, got {size!r}")
    if not os.path.isfile(path):
        raise FontError(f"cannot load font {path!r}: no such file")
    try:
        return ImageFont.truetype(path, size)
    except Exception as exc:  # PIL raises OSError/ValueError for unreadable or unknown formats
        raise FontError(f"cannot load font {path!r}: {exc}") from exc


def classify(family: str, style_name: str, path: str = "") -> tuple[str, str]:
    """Return ``(font_class, style)`` guessed from family, style and file names."""
    base = os.path.basename(path)
    names = f"{family} {base}"
    if _MONO_NAME.search(names):
        font_class = "mono"
    elif _SANS_NAME.search(names):
        font_class = "sans"
    else:
        font_class = "serif"
    # The style name is authoritative when present; the file name is the fallback.
    style_src = style_name or base
    bold = bool(_BOLD_NAME.search(style_src))
    italic = bool(_ITALIC_NAME.search(style_src))
    style = "bolditalic" if bold and italic else "bold" if bold else "italic" if italic else "regular"
    return font_class, style


def _ink_box(font: ImageFont.FreeTypeFont, ch: str):
    mask = font.getmask(ch, "L")
    return mask.getbbox(), bytes(mask)


def latin_problem(font: ImageFont.FreeTypeFont) -> Optional[str]:
    """Why ``font`` is unfit for Latin text, or None when it renders 'A', 'g', '0' properly.

    Checks that the glyphs have ink, differ from the font's missing-glyph box, and that 'g'
    descends below 'A' (symbol fonts that map ASCII to pictures fail this).
    """
    family, _style = font.getname()
    if _UNSUITABLE_NAME.search(f"{family} {os.path.basename(getattr(font, 'path', '') or '')}"):
        return f"family {family!r} is a symbol/dingbat/math font"
    notdef = _ink_box(font, "\U0010fffd")
    boxes = {}
    for ch in "Ag0":
        box, data = _ink_box(font, ch)
        if box is None:
            return f"glyph {ch!r} renders without ink"
        if (box, data) == notdef:
            return f"glyph {ch!r} is missing (renders as the missing-glyph box)"
        boxes[ch] = font.getbbox(ch)
    if boxes["g"][3] <= boxes["A"][3]:
        return "glyph 'g' has no descender below 'A' (not a Latin text font)"
    return None


@lru_cache(maxsize=1024)
def inspect_font(path: str) -> FontInfo:
    """Load, check and classify one font file; raises :class:`FontError` when unusable."""
    font = load_font(path, 32)
    problem = latin_problem(font)
    if problem:
        raise FontError(f"font {path!r} is not usable for Latin text: {problem}")
    family, style_name = font.getname()
    family = family or os.path.splitext(os.path.basename(path))[0]
    style_name = style_name or ""
    font_class, style = classify(family, style_name, path)
    return FontInfo(path, family, style_name, font_class, style)


def font_files(paths: Iterable[str]) -> list[str]:
    """TTF/OTF files under the given files/directories, sorted and de-duplicated."""
    found = set()
    for p in paths:
        if os.path.isfile(p):
            found.add(os.path.abspath(p))
        elif os.path.isdir(p):
            for root, _dirs, files in os.walk(p):
                for name in files:
                    if name.lower().endswith(FONT_EXTENSIONS):
                        found.add(os.path.abspath(os.path.join(root, name)))
    return sorted(found)


@lru_cache(maxsize=32)
def discover_fonts(paths: tuple[str, ...] = FONT_DIRS) -> tuple[FontInfo, ...]:
    """Usable fonts under ``paths`` in sorted path order; broken or symbol fonts are skipped."""
    out = []
    for path in font_files(paths):
        try:
            out.append(inspect_font(path))
        except FontError:
            continue
    return tuple(out)


def resolve_fonts(
    fonts: Optional[Sequence[str]] = None,
    extra_fonts: Sequence[str] = (),
    classes: Sequence[str] = FONT_CLASSES,
    styles: Sequence[str] = FONT_STYLES,
) -> list[FontInfo]:
    """The fonts a generator may use.

    ``fonts`` (files or directories) replaces the system fonts when given; ``extra_fonts`` adds
    to whichever set is used. Files named explicitly must load and render Latin text, or a
    :class:`FontError` naming the file is raised; unusable fonts found inside directories are
    skipped. The result is filtered by class and style and is never empty: when nothing is
    usable a :class:`FontError` says why (and how to install fonts when the system has none).
    """
    system = fonts is None
    sources = list(FONT_DIRS if system else fonts) + list(extra_fonts)
    infos: dict[str, FontInfo] = {}
    for src in sources:
        if os.path.isfile(src):
            info = inspect_font(os.path.abspath(src))  # raises FontError naming the file
            infos[info.path] = info
        elif os.path.isdir(src):
            for info in discover_fonts((os.path.abspath(src),)):
                infos[info.path] = info
        elif not (system and src in FONT_DIRS):
            raise FontError(f"font path {src!r} does not exist")
    if not infos:
        if system:
            raise FontError(f"no usable fonts found under {', '.join(FONT_DIRS)}; {SETUP_HINT}")
        raise FontError(f"no usable TTF/OTF fonts found in {list(sources)!r}")
    chosen = [
        infos[p] for p in sorted(infos) if infos[p].font_class in classes and infos[p].style in styles
    ]
    if not chosen:
        raise FontError(
            f"none of the {len(infos)} usable fonts has class in {list(classes)} and style in "
            f"{list(styles)}; widen font_classes/font_styles or add fonts"
        )
    return chosen


STYLE_WEIGHTS = {"regular": 0.55, "bold": 0.15, "italic": 0.15, "bolditalic": 0.15}


class FontSet:
    """Fonts grouped by class and style, for seeded picks that look like real documents.

    A pick draws a class uniformly, then a style (regular most often), then a font, so that a
    class with many files (DejaVu has 20) does not crowd out the rest.
    """

    def __init__(self, fonts: Sequence[FontInfo]):
        if not fonts:
            raise FontError(f"no usable fonts; {SETUP_HINT}")
        self.fonts = list(fonts)
        self.classes = sorted({f.font_class for f in self.fonts}, key=FONT_CLASSES.index)
        self.by_key: dict[tuple[str, str], list[FontInfo]] = {}
        for f in self.fonts:
            self.by_key.setdefault((f.font_class, f.style), []).append(f)

    def pick(self, rng, font_class: Optional[str] = None, style: Optional[str] = None) -> FontInfo:
        """A font of ``font_class``/``style`` when given and available, else a weighted pick."""
        cls = font_class if font_class in self.classes else self.classes[int(rng.integers(len(self.classes)))]
        styles = [s for s in FONT_STYLES if (cls, s) in self.by_key]
        if style not in styles:
            w = [STYLE_WEIGHTS[s] for s in styles]
            total = sum(w)
            style = styles[int(rng.choice(len(styles), p=[x / total for x in w]))]
        group = self.by_key[(cls, style)]
        return group[int(rng.integers(len(group)))]

    def mono_regular(self, rng, prefer: "re.Pattern[str]", need: str, hint: str = "") -> FontInfo:
        """A regular monospaced font, those whose file or family name matches ``prefer`` first
        (a typewriter's or a printer's faces); FontError, saying what ``need`` s it (and
        ``hint``), if there is none."""
        regular = self.by_key.get(("mono", "regular"), [])
        faces = [f for f in regular if prefer.search(f.path) or prefer.search(f.family.replace(" ", ""))]
        pool = faces or regular
        if not pool:
            raise FontError(f"{need} needs a monospaced regular font: keep 'mono' in font_classes{hint}")
        return pool[int(rng.integers(len(pool)))]

    def variant(self, base: FontInfo, style: str) -> Optional[FontInfo]:
        """The font of ``base``'s family in ``style`` (e.g. its bold), or None."""
        same = [f for f in self.by_key.get((base.font_class, style), []) if f.family == base.family]
        if not same:
            return None
        # DejaVu Sans and DejaVu Sans Condensed share a family: prefer the closest file name.
        name = os.path.basename(base.path)
        return max(same, key=lambda f: len(os.path.commonprefix([name, os.path.basename(f.path)])))


class FontedGenerator:
    """Base of the generators that draw from a :class:`FontSet` chosen by their params.

    The fonts are resolved lazily, once per process, and never pickled: a generator shipped to
    a Dask worker resolves them there (font files are per machine; a FontSet holds open fonts).
    """

    def __init__(self, params: dict):
        self.params = params
        self._fonts: Optional[FontSet] = None

    def __getstate__(self):
        return {**self.__dict__, "_fonts": None}

    def resolve(self) -> list[FontInfo]:
        """The fonts for these params (subclasses may narrow the choice)."""
        p = self.params
        return resolve_fonts(p["fonts"], p["extra_fonts"], p.get("font_classes", FONT_CLASSES),
                             p.get("font_styles", FONT_STYLES))

    @property
    def fonts(self) -> FontSet:
        if self._fonts is None:
            self._fonts = FontSet(self.resolve())
        return self._fonts

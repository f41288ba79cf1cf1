"""Character set codec for CTC: text <-> class indices, with the blank at index 0.

A :class:`Charset` is part of every checkpoint (it defines what the output layer means), so it
round-trips through JSON exactly. Text is normalised before encoding; the normalisation is an
explicit, recorded choice because it changes what a model can ever output:

``"none"``
    text is used as given.
``"nfc"``
    Unicode NFC composition only (``e`` + combining acute -> ``é``).
``"ocr"`` (the default)
    NFC, then typographic variants that scans render ambiguously are folded to one plain form:
    curly single/double quotes and primes -> ``'`` / ``"``, en/em dashes, minus sign, hyphen
    variants -> ``-``, the ligatures ``ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ`` -> their letters, ellipsis -> ``...``,
    no-break and other spaces, tabs, newlines -> ``" "``, runs of spaces collapsed and the ends
    stripped.
    Models then never need to guess whether a printer used a curly quote, and labels from
    different sources agree. Evaluation applies the same normalisation to references.
"""
from __future__ import annotations

import json
import unicodedata
from collections import Counter
from typing import Iterable, Sequence

NORMALIZATIONS = ("none", "nfc", "ocr")
DEFAULT_NORMALIZATION = "ocr"
BLANK_INDEX = 0

# One table, applied after NFC. Keys are single code points.
_OCR_FOLD = {
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'", "\u00b4": "'", "\u0060": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"', "\u00ab": '"', "\u00bb": '"',
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-", "\u2212": "-",
    "\u00ad": "",  # soft hyphen: invisible in print
    "\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st",
    "\u2026": "...",
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200a": " ", "\u2002": " ", "\u2003": " ",
    "\t": " ",
    "\u200b": "", "\ufeff": "",  # zero-width space, BOM
}
_OCR_TABLE = str.maketrans(_OCR_FOLD)


def normalize_text(text: str, normalize: str = DEFAULT_NORMALIZATION) -> str:
    """Apply one of :data:`NORMALIZATIONS` to ``text`` (see the module docstring)."""
    if normalize == "none":
        return text
    if normalize == "nfc":
        return unicodedata.normalize("NFC", text)
    if normalize == "ocr":
        t = unicodedata.normalize("NFC", text).translate(_OCR_TABLE)
        return " ".join(t.split())
    raise ValueError(f"unknown normalization {normalize!r}; expected one of {NORMALIZATIONS}")


class UnknownCharactersError(ValueError):
    """A label holds characters the charset cannot encode; ``chars`` maps each to its count."""

    def __init__(self, chars: dict[str, int], where: str = ""):
        self.chars = dict(chars)
        listed = ", ".join(f"{c!r} (U+{ord(c):04X}) x{n}" for c, n in sorted(self.chars.items()))
        prefix = f"{where}: " if where else ""
        super().__init__(f"{prefix}{len(self.chars)} character(s) not in the charset: {listed}")


class Charset:
    """Ordered characters; class ``i + 1`` is ``chars[i]`` and class 0 is the CTC blank."""

    def __init__(self, chars: Sequence[str], normalize: str = DEFAULT_NORMALIZATION):
        if normalize not in NORMALIZATIONS:
            raise ValueError(f"unknown normalization {normalize!r}; expected one of {NORMALIZATIONS}")
        chars = list(chars)
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(f"charset entries must be single characters, got {c!r}")
        dup = [c for c, n in Counter(chars).items() if n > 1]
        if dup:
            raise ValueError(f"duplicate characters in charset: {dup!r}")
        if not chars:
            raise ValueError("a charset needs at least one character")
        self.chars: list[str] = chars
        self.normalize = normalize
        self._index = {c: i + 1 for i, c in enumerate(chars)}

    # -- construction -------------------------------------------------------------------------
    @classmethod
    def from_texts(cls, texts: Iterable[str], normalize: str = DEFAULT_NORMALIZATION) -> "Charset":
        """All characters of the (normalised) texts, sorted by code point for a stable order."""
        seen: set[str] = set()
        for t in texts:
            seen.update(normalize_text(t, normalize))
        if not seen:
            raise ValueError("cannot build a charset: the texts hold no characters")
        return cls(sorted(seen), normalize=normalize)

    # -- codec --------------------------------------------------------------------------------
    @property
    def num_classes(self) -> int:
        """Output size of a model over this charset: characters + blank."""
        return len(self.chars) + 1

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, c: str) -> bool:
        return c in self._index

    def class_of(self, c: str) -> int:
        """Class index (1-based; 0 is the blank) of one character of the charset."""
        return self._index[c]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Charset) and self.chars == other.chars and self.normalize == other.normalize

    def __repr__(self) -> str:
        return f"Charset({''.join(self.chars)!r}, normalize={self.normalize!r})"

    def normalize_text(self, text: str) -> str:
        """``text`` under this charset's normalisation."""
        return normalize_text(text, self.normalize)

    def unknown_chars(self, text: str) -> dict[str, int]:
        """Characters of the normalised ``text`` outside the charset, with counts."""
        return dict(Counter(c for c in self.normalize_text(text) if c not in self._index))

    def encode(self, text: str, errors: str = "raise") -> list[int]:
        """Normalise and map to class indices (1-based; 0 is the blank).

        ``errors="raise"`` raises :class:`UnknownCharactersError` listing every offending
        character; ``errors="skip"`` drops them (use :meth:`unknown_chars` to report them).
        """
        t = self.normalize_text(text)
        out = []
        bad: Counter = Counter()
        for c in t:
            i = self._index.get(c)
            if i is None:
                bad[c] += 1
            else:
                out.append(i)
        if bad and errors == "raise":
            raise UnknownCharactersError(bad, where=f"label {text[:60]!r}")
        if errors not in ("raise", "skip"):
            raise ValueError(f"errors must be 'raise' or 'skip', got {errors!r}")
        return out

    def decode(self, indices: Iterable[int]) -> str:
        """Class indices -> text; blanks are dropped, nothing is collapsed (see ``ctc``)."""
        n = len(self.chars)
        out = []
        for i in indices:
            i = int(i)
            if i == BLANK_INDEX:
                continue
            if not 1 <= i <= n:
                raise ValueError(f"class index {i} outside 0..{n}")
            out.append(self.chars[i - 1])
        return "".join(out)

    def label(self, index: int) -> str:
        """Text of one class ('' for the blank)."""
        return "" if index == BLANK_INDEX else self.chars[index - 1]

    # -- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"chars": list(self.chars), "normalize": self.normalize, "blank_index": BLANK_INDEX}

    @classmethod
    def from_dict(cls, d: dict) -> "Charset":
        if not isinstance(d, dict):
            raise ValueError(f"charset must be a JSON object, got {type(d).__name__}")
        unknown = set(d) - {"chars", "normalize", "blank_index"}
        if unknown:
            raise ValueError(f"unknown charset keys: {sorted(unknown)}")
        if d.get("blank_index", BLANK_INDEX) != BLANK_INDEX:
            raise ValueError(f"only blank_index={BLANK_INDEX} is supported, got {d['blank_index']}")
        if "chars" not in d:
            raise ValueError("charset JSON lacks 'chars'")
        return cls(d["chars"], normalize=d.get("normalize", DEFAULT_NORMALIZATION))

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_json(cls, s: str) -> "Charset":
        return cls.from_dict(json.loads(s))

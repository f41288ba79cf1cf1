"""Realistic English text for synthetic lines and pages.

Words come from the ``wordfreq`` English list (top 30k), drawn with weight ``frequency ** 0.5`` so
the text reads like English without being dominated by "the". Sentences get capitalised starts,
but a text may begin mid-sentence (``sentence_start`` < 1): a line cut from running text usually
does, and a recognizer trained only on capitalised line starts learns to read a lowercase first
letter as a capital (measured: 129 of 144 such page lines misread before this option existed),
occasional Title Case and ALL CAPS words, numbers (integers, decimals, years, prices, percentages,
dates), punctuation with realistic attachment, quotes, parentheses and hyphenated words.

``symbols`` (a share of tokens, 0 by default) mixes in what technical and reference text prints
and plain prose never does: citations ``[12]``, formulas ``x = 2a + 1`` and ``p < 0.05``,
e-mail addresses, web and file paths, ``#`` numbers, footnote stars, identifiers with ``_``,
sets in braces, ``|x|``, ``~``, ``^``. A model trained without them can never output ``[`` or
``=``, and every one in a real scan is then a certain error. All randomness comes from the
caller's ``numpy.random.Generator``, so text is reproducible; ``symbols=0`` draws exactly what
texts made before the option drew.
"""
from __future__ import annotations

import string
from functools import lru_cache
from typing import Optional

import numpy as np

DEFAULT_LINE_CHARSET: str = " " + string.digits + string.ascii_letters + string.punctuation
"""Printable ASCII: space, digits, letters and punctuation (95 characters)."""

VOCAB_SIZE = 30000
WEIGHT_EXPONENT = 0.5
_BATCH = 64
_SYMBOL_BASE = 0.10  # symbol tokens take the token-kind draw's band [0.10, 0.10 + symbols)
_TLDS = ("com", "org", "net", "edu", "gov", "io", "co.uk", "de")
_VARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@lru_cache(maxsize=1)
def _base_vocab() -> tuple[tuple[str, ...], np.ndarray]:
    """English words (ASCII letters, optional inner apostrophe) and their sampling weights."""
    import wordfreq

    words, weights = [], []
    for w in wordfreq.top_n_list("en", VOCAB_SIZE):
        core = w.replace("'", "")
        if not core or not core.isascii() or not core.isalpha():
            continue
        if w.startswith("'") or w.endswith("'") or w.count("'") > 1:
            continue
        if len(w) == 1 and w not in ("a", "i"):
            continue
        words.append(w)
        weights.append(wordfreq.word_frequency(w, "en") ** WEIGHT_EXPONENT)
    return tuple(words), np.asarray(weights, dtype=np.float64)


class Corpus:
    """Word sampler and sentence builder restricted to one charset."""

    def __init__(self, charset: str = DEFAULT_LINE_CHARSET):
        self.charset = charset
        self.allowed = frozenset(charset)
        self.sep = " " if " " in self.allowed else ""
        self.filler = "".join(sorted(c for c in self.allowed if not c.isspace())) or "x"
        self.has_digits = any(c in self.allowed for c in string.digits)
        words, weights = _base_vocab()
        keep_words, keep_w = [], []
        for w, wt in zip(words, weights):
            form = self._fit(w) or self._fit(w.upper())
            if form:
                keep_words.append(form)
                keep_w.append(wt)
        self.words = keep_words
        if keep_words:
            cum = np.cumsum(np.asarray(keep_w))
            self.cum = cum / cum[-1]
        else:
            self.cum = None

    def _fit(self, token: str) -> str:
        """``token`` if every char is allowed, else ''."""
        return token if all(c in self.allowed for c in token) else ""

    def _clean(self, token: str) -> str:
        """Drop characters outside the charset (used for punctuation and numbers)."""
        return "".join(c for c in token if c in self.allowed)

    # --- tokens -------------------------------------------------------------------------------
    def words_batch(self, rng: np.random.Generator, n: int) -> list[str]:
        """``n`` words drawn by frequency weight (random strings when no word fits the charset)."""
        if self.cum is None:
            return [
                "".join(self.filler[i] for i in rng.integers(0, len(self.filler), int(k)))
                for k in rng.integers(1, 9, n)
            ]
        idx = np.searchsorted(self.cum, rng.random(n), side="right")
        idx = np.minimum(idx, len(self.words) - 1)
        return [self.words[i] for i in idx]

    def number(self, rng: np.random.Generator) -> str:
        """A number as printed in running text: integer, decimal, year, price, percent, date."""
        kind = rng.choice(8, p=[0.25, 0.12, 0.1, 0.18, 0.12, 0.1, 0.08, 0.05])
        if kind == 0:
            tok = str(int(rng.integers(1, 100)))
        elif kind == 1:
            v = int(rng.integers(100, 100000))
            tok = f"{v:,}" if v >= 1000 and rng.random() < 0.6 else str(v)
        elif kind == 2:
            tok = f"{rng.uniform(0, 100):.{int(rng.integers(1, 3))}f}"
        elif kind == 3:
            tok = str(int(rng.integers(1850, 2031)))
        elif kind == 4:
            if rng.random() < 0.6:
                tok = f"${rng.uniform(0.5, 500):.2f}"
            else:
                tok = f"${int(rng.integers(1, 50000)):,}"
        elif kind == 5:
            tok = f"{rng.uniform(0, 100):.1f}%" if rng.random() < 0.4 else f"{int(rng.integers(1, 101))}%"
        elif kind == 6:
            d, m, y = int(rng.integers(1, 29)), int(rng.integers(1, 13)), int(rng.integers(1900, 2031))
            tok = f"{d:02d}/{m:02d}/{y}" if rng.random() < 0.7 else f"{m}/{d}/{y % 100:02d}"
        else:
            tok = f"{int(rng.integers(1, 20))}.{int(rng.integers(1, 20))}"  # section numbers
        return self._clean(tok)

    def table_number(self, rng: np.random.Generator, kind: Optional[int] = None) -> str:
        """A figure as tables print it: signed changes (``+4.2%``, ``-0.35``), accounting
        negatives (``(1,204)``), amounts with a currency sign, thousands separators, ratios
        (``3.4x``), ranges, footnoted figures, or a dash or ``n/a`` for an empty cell."""
        if kind is None:
            kind = self.table_number_kind(rng)
        digits = int(rng.integers(0, 3))
        mag = 10.0 ** float(rng.uniform(0, 5))
        if kind == 0:  # signed change
            v = f"{rng.uniform(0, 30 if rng.random() < 0.7 else 300):.{int(rng.integers(1, 3))}f}"
            tok = ("+" if rng.random() < 0.55 else "-") + v + ("%" if rng.random() < 0.6 else "")
        elif kind == 1:  # percentage
            tok = f"{rng.uniform(0, 100):.{digits}f}%"
        elif kind == 2:  # thousands
            tok = f"{int(mag * 10):,}" if rng.random() < 0.8 else str(int(mag * 10))
        elif kind == 3:  # amount
            cur = str(rng.choice(["$", "$", "$", "", "USD "]))
            tok = cur + (f"{mag:,.2f}" if rng.random() < 0.5 else f"{int(mag):,}")
        elif kind == 4:  # accounting negative
            tok = f"({int(mag):,})" if rng.random() < 0.7 else f"({mag:.{max(1, digits)}f})"
        elif kind == 5:  # ratio or multiple
            tok = f"{rng.uniform(0, 20):.{max(1, digits)}f}" + str(rng.choice(["x", "x", ":1", ""]))
        elif kind == 6:  # plain decimal, possibly negative
            tok = ("-" if rng.random() < 0.3 else "") + f"{rng.uniform(0, 1000) / 10 ** digits:.{digits + 1}f}"
        elif kind == 7:  # range or footnoted figure
            a = int(rng.integers(0, 500))
            tok = f"{a}-{a + int(rng.integers(1, 100))}" if rng.random() < 0.5 else f"{a}{rng.choice(['*', '**', '(a)', '+'])}"
        else:  # an empty cell
            tok = str(rng.choice(["-", "--", "n/a", "N/A", "nil", "0", "0.0"]))
        return self._clean(tok)

    @staticmethod
    def table_number_kind(rng: np.random.Generator) -> int:
        """A format for :meth:`table_number` (a table's column keeps one)."""
        return int(rng.choice(9, p=[0.2, 0.14, 0.16, 0.14, 0.08, 0.06, 0.08, 0.08, 0.06]))

    def cell_text(self, rng: np.random.Generator, max_chars: int = 40) -> str:
        """Text of one table cell: a figure (55%), a label of 1-3 words (Title Case, capitalised
        or lower case, sometimes with a unit or a year), a year, a quarter or a code. Short, often
        one token: what a page's table gives the recognizer line by line."""
        r = rng.random()
        if r < 0.55 and self.has_digits:
            tok = self.table_number(rng)
        elif r < 0.9 or not self.has_digits:
            words = self.words_batch(rng, int(rng.integers(1, 4)))
            style = rng.random()
            if style < 0.45:
                words = [w[:1].upper() + w[1:] for w in words]
            elif style < 0.8:
                words[0] = words[0][:1].upper() + words[0][1:]
            elif style < 0.85:
                words = [w.upper() for w in words]
            tok = " ".join(words)
            if rng.random() < 0.15:
                tok += " " + str(rng.choice(["(%)", "($)", "(USD)", "(m)", "(kg)", "(n)", "total", "*"]))
        else:
            y = int(rng.integers(1950, 2031))
            tok = str(rng.choice([str(y), f"Q{int(rng.integers(1, 5))} {y}", f"FY{y}", f"{y}/{(y + 1) % 100:02d}",
                                  f"{_VARS[int(rng.integers(26, 52))]}-{int(rng.integers(1, 100))}"]))
        tok = self._clean(tok).strip()
        if len(tok) > max_chars:
            tok = tok[:max_chars].rstrip()
        return tok or (self.filler[0] if self.filler else "x")

    def technical(self, rng: np.random.Generator, pool: list[str]) -> list[str]:
        """One piece of technical or reference text as tokens: a citation, a formula, an address,
        a path, a ``#`` number, a footnote star, an identifier, a set. Characters outside the
        charset are dropped, so a restricted charset still gets valid text."""
        def word() -> str:
            return pool.pop() if pool else "data"

        def num() -> str:
            return str(int(rng.integers(0, 10 ** int(rng.integers(1, 4)))))

        def var() -> str:
            v = _VARS[int(rng.integers(0, len(_VARS)))]
            r = rng.random()
            if r < 0.15:
                v += "_" + ("i", "j", "k", "n", "0", "1", "max", "{ij}")[int(rng.integers(0, 8))]
            elif r < 0.25:
                v += "^" + ("2", "3", "n", "{-1}")[int(rng.integers(0, 4))]
            elif r < 0.3:
                v = "|" + v + "|"
            return v

        def operand() -> str:
            r = rng.random()
            if r < 0.45:
                return var()
            if r < 0.75:
                return num() if rng.random() < 0.6 else f"{rng.uniform(0, 10):.{int(rng.integers(1, 4))}f}"
            return num() + var() if rng.random() < 0.5 else f"{var()}({var()})"

        kind = int(rng.choice(10, p=[0.2, 0.24, 0.07, 0.06, 0.08, 0.07, 0.08, 0.08, 0.07, 0.05]))
        if kind == 0:  # citation
            r = rng.random()
            refs = [str(int(rng.integers(1, 80))) for _ in range(int(rng.integers(1, 4)))]
            if r < 0.5:
                toks = ["[" + refs[0] + "]"]
            elif r < 0.8:
                sep = "," if rng.random() < 0.5 else ", "
                toks = ("[" + sep.join(refs) + "]").split(" ")
            else:
                toks = [f"[{refs[0]}-{int(refs[0]) + int(rng.integers(1, 6))}]"]
        elif kind == 1:  # formula or comparison
            ops = ("=", "=", "+", "-", "*", "/", "<", ">", "<=", ">=", "+/-", "~", "==", "!=")
            toks = [operand()]
            for _ in range(int(rng.integers(1, 4))):
                op = ops[int(rng.integers(0, len(ops)))]
                if rng.random() < 0.2 and op in "+-*/=<>":
                    toks[-1] += op + operand()  # tight: a+b, 2*x
                else:
                    toks += [op, operand()]
            if rng.random() < 0.2:
                toks[0], toks[-1] = "(" + toks[0], toks[-1] + ")"
        elif kind == 2:  # e-mail address
            user = word() + (("." + word()) if rng.random() < 0.3 else "") + (("_" + num()) if rng.random() < 0.15 else "")
            toks = [f"{user}@{word()}.{_TLDS[int(rng.integers(0, len(_TLDS)))]}"]
        elif kind == 3:  # web address or path
            parts = [word() for _ in range(int(rng.integers(1, 4)))]
            r = rng.random()
            if r < 0.5:
                toks = [("https://" if rng.random() < 0.6 else "http://") + "www." + word() + "."
                        + _TLDS[int(rng.integers(0, len(_TLDS)))] + "/" + "/".join(parts)
                        + ("/~" + word() if rng.random() < 0.15 else "")]
            elif r < 0.8:
                toks = ["/" + "/".join(parts) + "/" + word() + "_" + word() + ".txt"]
            else:
                toks = ["C:\\" + "\\".join(parts)]
        elif kind == 4:  # numbered item
            toks = ["#" + num()] if rng.random() < 0.8 else [("No." if rng.random() < 0.5 else "#"), num()]
        elif kind == 5:  # footnote marker on a word
            toks = [word() + ("*" if rng.random() < 0.8 else "**")]
        elif kind == 6:  # identifier
            toks = ["_".join(word() for _ in range(int(rng.integers(2, 4))))]
            if rng.random() < 0.3:
                toks[0] += "()"
        elif kind == 7:  # a set, a range or an editorial insertion in brackets
            r = rng.random()
            if r < 0.4:
                items = [var() for _ in range(int(rng.integers(2, 4)))]
                toks = ("{" + ", ".join(items) + "}").split(" ")
            elif r < 0.7:
                pair = f"[{num()}, {num()}]" if rng.random() < 0.5 else f"[{num()}..{num()}]"
                toks = pair.split(" ")
            else:
                toks = ["[" + ("sic" if rng.random() < 0.4 else word()) + "]"]
        elif kind == 8:  # approximations, ranges, versions
            r = rng.random()
            if r < 0.4:
                toks = ["~" + num()]
            elif r < 0.7:
                toks = [f"{num()}+"] if rng.random() < 0.5 else ["+" + num()]
            else:
                toks = [f"v{int(rng.integers(0, 10))}.{int(rng.integers(0, 20))}"]
        else:  # markup-ish: <tag>, a|b, @name
            r = rng.random()
            if r < 0.4:
                toks = ["<" + word() + ">"]
            elif r < 0.7:
                toks = [word() + "|" + word()]
            else:
                toks = ["@" + word()]
        out = [self._clean(t) for t in toks]
        return [t for t in out if t]

    def _case(self, word: str, rng: np.random.Generator, start: bool) -> str:
        r = rng.random()
        if word == "i" or word.startswith("i'"):
            out = "I" + word[1:]
        elif start or r < 0.05:
            out = word[:1].upper() + word[1:]
        elif r < 0.065:
            out = word.upper()
        else:
            out = word
        return out if self._fit(out) else word

    def sentence_tokens(self, rng: np.random.Generator, n_chars: int, start: bool = True,
                        symbols: float = 0.0) -> list[str]:
        """Tokens (no spaces inside) whose joined length reaches at least ``n_chars``.

        ``start``: the first token opens a sentence (capitalised); False begins mid-sentence.
        ``symbols``: share of tokens that are technical pieces (:meth:`technical`).
        """
        tokens: list[str] = []
        total = 0
        open_close = ""  # closing mark of an open quote/parenthesis
        open_left = 0
        pool: list[str] = []
        while total < n_chars:
            if not pool:
                pool = self.words_batch(rng, _BATCH)
            r = rng.random()
            if symbols > 0 and not start and _SYMBOL_BASE <= r < _SYMBOL_BASE + symbols:
                extra = self.technical(rng, pool)
                if not extra:
                    continue
                tokens += extra[:-1]
                total += sum(len(t) + len(self.sep) for t in extra[:-1])
                tok = extra[-1]
            elif r < 0.06 and self.has_digits:
                tok = self.number(rng)
            elif r < 0.085 and len(pool) >= 2:
                tok = self._case(pool.pop(), rng, start) + self._clean("-") + pool.pop()
            elif r < 0.09 and len(pool) >= 2:
                tok = self._case(pool.pop(), rng, start) + self._clean("/") + pool.pop()
            elif r < 0.1 and not start:
                tok = self._clean(str(rng.choice(["-", "&", "-", "--"])))
            else:
                tok = self._case(pool.pop(), rng, start)
            if not tok:
                continue
            # opening quote or parenthesis attached to the token
            if not open_close and not start and rng.random() < 0.025:
                opener, closer = [("(", ")"), ('"', '"'), ("'", "'")][int(rng.choice(3, p=[0.5, 0.35, 0.15]))]
                if opener in self.allowed and closer in self.allowed:
                    tok = opener + tok
                    open_close, open_left = closer, int(rng.integers(0, 5))
            elif open_close:
                if open_left <= 0:
                    tok += open_close
                    open_close = ""
                else:
                    open_left -= 1
            start = False
            # trailing punctuation
            r = rng.random()
            if r < 0.075:
                tok += self._clean(str(rng.choice([".", ".", ".", ".", ".", "!", "?"])))
                start = tok[-1:] in ".!?"
                if open_close and start:
                    tok = tok[:-1] + open_close + tok[-1] if open_close == ")" else tok + open_close
                    open_close = ""
            elif r < 0.14:
                tok += self._clean(",")
            elif r < 0.15:
                tok += self._clean(str(rng.choice([";", ":"])))
            tokens.append(tok)
            total += len(tok) + (len(self.sep) if len(tokens) > 1 else 0)
        return tokens

    def text(self, rng: np.random.Generator, min_chars: int, max_chars: int, sentence_start: float = 1.0,
             symbols: float = 0.0) -> str:
        """Text of ``min_chars``..``max_chars`` characters, no leading/trailing/double spaces.

        ``sentence_start``: probability that the text opens a sentence (1.0 draws nothing extra
        from ``rng``, so texts made before this option existed are unchanged). ``symbols``: share
        of technical tokens (0 draws nothing extra either).
        """
        target = int(rng.integers(min_chars, max_chars + 1))
        start = True if sentence_start >= 1.0 else bool(rng.random() < sentence_start)
        s = self.sep.join(self.sentence_tokens(rng, target, start, symbols))
        if len(s) > max_chars:
            cut = s[:max_chars]
            sp = cut.rfind(" ")
            if sp >= min_chars:  # prefer a word boundary when it keeps the text long enough
                cut = cut[:sp]
            s = cut.rstrip()
        while len(s) < min_chars:
            s += self.filler[int(rng.integers(0, len(self.filler)))]
        return s


@lru_cache(maxsize=16)
def get_corpus(charset: str = DEFAULT_LINE_CHARSET) -> Corpus:
    """Per-process cached :class:`Corpus` for one charset (the word list is loaded once)."""
    return Corpus(charset)


def random_text(
    rng: np.random.Generator, min_chars: int, max_chars: int, charset: str = DEFAULT_LINE_CHARSET,
    sentence_start: float = 1.0, symbols: float = 0.0,
) -> str:
    """Random English-like text of ``min_chars``..``max_chars`` characters drawn from ``charset``.

    Never starts or ends with a space and never holds two spaces in a row. ``sentence_start``:
    probability of opening a sentence rather than starting mid-sentence; ``symbols``: share of
    technical tokens (citations, formulas, addresses; see :meth:`Corpus.technical`).
    """
    if min_chars <= 0 or max_chars < min_chars:
        raise ValueError(f"need 0 < min_chars <= max_chars, got {min_chars}, {max_chars}")
    if not 0.0 <= sentence_start <= 1.0:
        raise ValueError(f"sentence_start must be a probability in [0, 1], got {sentence_start}")
    if not 0.0 <= symbols <= 0.5:
        raise ValueError(f"symbols must be a share of tokens in [0, 0.5], got {symbols}")
    return get_corpus(charset).text(rng, min_chars, max_chars, sentence_start, symbols)

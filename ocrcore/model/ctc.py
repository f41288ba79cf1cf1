"""CTC decoding with character positions, in numpy (no torch), so post-processing runs anywhere.

Input is one line's per-frame class scores ``T x C`` (probabilities, or log-probabilities with
``log_probs=True``), class 0 = blank. Greedy decoding takes the best class per frame, merges runs
of the same class and drops blanks (the CTC collapse). Each character keeps:

* ``start, end``: the frame interval ``[start, end)`` of its run (map to pixels with the model's
  width factor: columns ``[start * f, end * f)`` of the scaled line);
* ``confidence``: the maximum probability of its class within the run (Calamari, Tesseract).

Line confidence is the **mean** of the character confidences (bounded in [0, 1], comparable
across line lengths, unlike the product). A line decoded as empty gets the mean probability of
its per-frame best class (i.e. how sure the model is that there is nothing to read).

:func:`beam_decode` is a CTC prefix beam search with an optional lexicon; its characters are
placed by :func:`align` (Viterbi forced alignment), which also gives runs and confidences.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Iterable, Optional, Sequence

import numpy as np

BLANK = 0


@dataclass
class CharHyp:
    """One decoded character: text, frame interval [start, end), confidence in [0, 1]."""

    text: str
    start: int
    end: int
    confidence: float


@dataclass
class LineHyp:
    """One decoded line."""

    text: str
    confidence: float
    chars: list[CharHyp] = field(default_factory=list)


def _as_probs(scores: np.ndarray, log_probs: bool) -> np.ndarray:
    a = np.asarray(scores, dtype=np.float64)
    if a.ndim != 2:
        raise ValueError(f"expected T x C scores, got shape {a.shape}")
    return np.exp(a) if log_probs else a


def _label_text(charset, k: int) -> str:
    if charset is None:
        return str(k)
    return charset.label(k) if hasattr(charset, "label") else charset[k - 1]


def line_confidence(chars: Sequence[CharHyp], probs: Optional[np.ndarray] = None) -> float:
    """Mean of character confidences; for an empty line, mean per-frame max probability."""
    if chars:
        return float(np.mean([c.confidence for c in chars]))
    if probs is None or len(probs) == 0:
        return 0.0
    return float(probs.max(axis=1).mean())


def greedy_decode(scores: np.ndarray, charset=None, *, log_probs: bool = False, length: Optional[int] = None) -> LineHyp:
    """Best-path decoding of one line (``T x C``), using only its first ``length`` frames.

    ``charset`` maps classes to text (a :class:`~ocrcore.model.charset.Charset` or a sequence
    of characters for classes 1..); without it a character's text is its class index.
    """
    a = np.asarray(scores)
    if a.ndim != 2:
        raise ValueError(f"expected T x C scores, got shape {a.shape}")
    if length is not None:
        a = a[: int(length)]
    t = a.shape[0]
    if t == 0:
        return LineHyp("", 0.0, [])
    best = a.argmax(axis=1)  # the same class in log space: only the winners are exponentiated
    best_p = a[np.arange(t), best].astype(np.float64)
    if log_probs:
        best_p = np.exp(best_p)
    starts = np.concatenate(([0], np.flatnonzero(np.diff(best)) + 1))
    ends = np.concatenate((starts[1:], [t]))
    run_max = np.maximum.reduceat(best_p, starts)
    chars = [
        CharHyp(_label_text(charset, int(best[s])), int(s), int(e), float(m))
        for s, e, m in zip(starts, ends, run_max)
        if best[s] != BLANK
    ]
    confidence = line_confidence(chars) if chars else float(best_p.mean())
    return LineHyp("".join(c.text for c in chars), confidence, chars)


def batch_greedy_decode(scores: np.ndarray, lengths: Iterable[int], charset=None, *, log_probs: bool = True) -> list[LineHyp]:
    """Decode a ``T x N x C`` batch (the model's layout) using each line's true frame count."""
    a = np.asarray(scores)
    if a.ndim != 3:
        raise ValueError(f"expected T x N x C scores, got shape {a.shape}")
    lengths = [int(x) for x in lengths]
    if len(lengths) != a.shape[1]:
        raise ValueError(f"{len(lengths)} lengths for a batch of {a.shape[1]}")
    return [greedy_decode(a[:, i, :], charset, log_probs=log_probs, length=lengths[i]) for i in range(a.shape[1])]


def align(scores: np.ndarray, labels: Sequence[int], charset=None, *, log_probs: bool = False) -> LineHyp:
    """Viterbi forced alignment of a known label sequence; gives each label its frame run.

    Raises ``ValueError`` when the line has too few frames for the labels (CTC needs one frame
    per label plus one blank between repeated labels).
    """
    p = _as_probs(scores, log_probs)
    lp = np.log(np.maximum(p, 1e-30))
    t_len = p.shape[0]
    labels = [int(x) for x in labels]
    if not labels:
        return LineHyp("", line_confidence([], p), [])
    ext = [BLANK]
    for k in labels:
        ext += [k, BLANK]
    s_len = len(ext)
    need = len(labels) + sum(1 for a, b in zip(labels, labels[1:]) if a == b)
    if t_len < need:
        raise ValueError(f"{t_len} frames cannot hold {len(labels)} labels (need {need})")
    neg = -np.inf
    score = np.full(s_len, neg)
    back = np.zeros((t_len, s_len), dtype=np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    score[0] = lp[0, ext[0]]
    score[1] = lp[0, ext[1]]
    ext_arr = np.array(ext)
    skip_ok = np.zeros(s_len, dtype=bool)
    skip_ok[2:] = (ext_arr[2:] != BLANK) & (ext_arr[2:] != ext_arr[:-2])
    for t in range(1, t_len):
        prev1 = np.concatenate(([neg], score[:-1]))
        prev2 = np.concatenate(([neg, neg], score[:-2]))
        prev2 = np.where(skip_ok, prev2, neg)
        stacked = np.stack([score, prev1, prev2])
        choice = stacked.argmax(axis=0)
        back[t] = choice
        score = stacked[choice, np.arange(s_len)] + lp[t, ext_arr]
    s = s_len - 1 if score[s_len - 1] >= score[s_len - 2] else s_len - 2
    path = np.empty(t_len, dtype=np.int64)
    for t in range(t_len - 1, -1, -1):
        path[t] = s
        s -= int(back[t, s])
    chars = []
    for i, k in enumerate(labels):
        frames = np.flatnonzero(path == 2 * i + 1)
        start, end = int(frames[0]), int(frames[-1]) + 1
        chars.append(CharHyp(_label_text(charset, k), start, end, float(p[start:end, k].max())))
    return LineHyp("".join(c.text for c in chars), line_confidence(chars, p), chars)


class _Trie:
    """Word prefixes of a lexicon, for constraining beam search."""

    def __init__(self, words: Iterable[str]):
        self.prefixes: set[str] = {""}
        self.words: set[str] = set()
        for w in words:
            self.words.add(w)
            for i in range(1, len(w) + 1):
                self.prefixes.add(w[:i])


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def beam_decode(
    scores: np.ndarray,
    charset,
    *,
    log_probs: bool = False,
    beam_width: int = 10,
    lexicon: Optional[Iterable[str]] = None,
    separators: str = " ",
    prune: float = 1e-4,
    length: Optional[int] = None,
) -> LineHyp:
    """CTC prefix beam search; with ``lexicon`` every word (text between ``separators``) must be
    a lexicon word. Falls back to greedy decoding when no hypothesis satisfies the lexicon.
    """
    p = _as_probs(scores, log_probs)
    if length is not None:
        p = p[: int(length)]
    trie = _Trie(lexicon) if lexicon is not None else None
    lp = np.log(np.maximum(p, 1e-30))
    # beams: prefix (tuple of labels) -> (log P ending in blank, log P ending in non-blank)
    beams: dict[tuple, tuple[float, float]] = {(): (0.0, -math.inf)}

    def word_ok(prefix: tuple, final: bool) -> bool:
        if trie is None:
            return True
        text = "".join(_label_text(charset, k) for k in prefix)
        parts = text
        for s in separators:
            parts = parts.replace(s, "\0")
        words = parts.split("\0")
        for w in words[:-1]:
            if w and w not in trie.words:
                return False
        last = words[-1]
        return (last in trie.words or not last) if final else last in trie.prefixes

    for t in range(p.shape[0]):
        cand = np.flatnonzero(p[t] >= prune)
        nxt: dict[tuple, list[float]] = {}

        def add(prefix, pb, pnb):
            cur = nxt.get(prefix)
            if cur is None:
                nxt[prefix] = [pb, pnb]
            else:
                cur[0] = _logsumexp(cur[0], pb)
                cur[1] = _logsumexp(cur[1], pnb)

        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp(pb, pnb)
            for k in cand:
                k = int(k)
                lpk = float(lp[t, k])
                if k == BLANK:
                    add(prefix, total + lpk, -math.inf)
                    continue
                last = prefix[-1] if prefix else None
                new = prefix + (k,)
                if trie is not None and not word_ok(new, final=False):
                    if k == last:
                        add(prefix, -math.inf, pnb + lpk)
                    continue
                if k == last:
                    add(new, -math.inf, pb + lpk)  # repeat needs a blank between
                    add(prefix, -math.inf, pnb + lpk)  # collapse into the same char
                else:
                    add(new, -math.inf, total + lpk)
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
        beams = {k: (v[0], v[1]) for k, v in ranked[:beam_width]}
    ranked = sorted(beams.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
    for prefix, _ in ranked:
        if word_ok(prefix, final=True):
            return align(p, list(prefix), charset)
    return greedy_decode(p, charset)

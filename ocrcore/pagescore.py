"""Score recognised pages against synthetic ground truth: page CER/WER and box IoU.

Truth and results share the container shape (Page -> Line -> Word -> Char), so the comparison is
direct: each true line is matched to the found line with the largest box overlap; the two word
sequences are aligned by edit operations (rapidfuzz), and words read correctly pair their
characters one to one. Mean IoU is taken over those pairs, i.e. box accuracy is measured where
the text is right, and text accuracy separately by CER.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

import numpy as np
from rapidfuzz.distance import Levenshtein

from ocrcore.containers import Page, bbox_iou


@dataclass
class PageScore:
    char_errors: int = 0
    char_total: int = 0
    word_errors: int = 0
    word_total: int = 0
    char_ious: list[float] = field(default_factory=list)
    word_ious: list[float] = field(default_factory=list)
    pages: int = 0

    @property
    def cer(self) -> float:
        return self.char_errors / max(1, self.char_total)

    @property
    def wer(self) -> float:
        return self.word_errors / max(1, self.word_total)

    def summary(self) -> dict:
        return {"pages": self.pages, "cer": self.cer, "wer": self.wer,
                "char_iou": float(np.mean(self.char_ious)) if self.char_ious else None,
                "word_iou": float(np.mean(self.word_ious)) if self.word_ious else None,
                "chars_matched": len(self.char_ious), "words_matched": len(self.word_ious)}


def truth_page(row: dict) -> Page:
    """A synthetic page dataset row (with ``lines``) as a :class:`Page`."""
    return Page.from_dict({"page_id": row["id"], "width": row["width"], "height": row["height"],
                           "lines": row.get("lines") or []})


def _page_text(page: Page) -> str:
    return "\n".join(" ".join(w.text for w in ln.words) if ln.words else ln.text for ln in page.lines)


def score_page(truth: Page, found: Page, acc: PageScore) -> None:
    """Add one page's errors and box IoUs to ``acc``."""
    ref, hyp = _page_text(truth), found.text
    acc.pages += 1
    acc.char_errors += Levenshtein.distance(ref, hyp)
    acc.char_total += len(ref)
    rw, hw = ref.split(), hyp.split()
    acc.word_errors += Levenshtein.distance(rw, hw)
    acc.word_total += len(rw)
    used: set[int] = set()
    for tl in truth.lines:
        best, best_iou = None, 0.0
        for j, fl in enumerate(found.lines):
            if j in used:
                continue
            iou = bbox_iou(tl.bbox, fl.bbox)
            if iou > best_iou:
                best, best_iou = j, iou
        if best is None or best_iou < 0.3:
            continue
        used.add(best)
        fl = found.lines[best]
        tw, fw = tl.words, fl.words
        for op in Levenshtein.opcodes([w.text for w in tw], [w.text for w in fw]):
            if op.tag != "equal":
                continue
            for a, b in zip(tw[op.src_start:op.src_end], fw[op.dest_start:op.dest_end]):
                acc.word_ious.append(bbox_iou(a.bbox, b.bbox))
                if len(a.chars) == len(b.chars):
                    acc.char_ious.extend(bbox_iou(x.bbox, y.bbox) for x, y in zip(a.chars, b.chars))


def score_pages(pairs: Iterable[tuple[Page, Page]]) -> PageScore:
    acc = PageScore()
    for truth, found in pairs:
        score_page(truth, found, acc)
    return acc

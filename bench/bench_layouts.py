"""Page layouts real archives hold (tables, double spacing, book furniture, typed): page CER, ours and Tesseract.

Synthetic A4 pages (seed 77 like bench_recognize.py), the same pages drawn five ways: plain;
with a table (``tables``: 2-5 columns of a label and figures, 3-10 rows and a header, ruled as
a grid, with top/header/bottom rules only, or not ruled; the text around it is the plain
page's); double-spaced (``min_leading``/``max_leading`` 2.0-2.4, line pitch in units of
the type size); and with book furniture (``furniture``: a running head with the page number, a
page number at the foot, footnotes in smaller type under a short rule); and typed on a
typewriter (``typewriter``: a Courier-like face at 10 or 12 pt, one column, ragged, single to
double spaced, each letter struck unevenly: off the line, tilted, lighter or heavier, grained,
spread, some letters' counters filled; the page's text differs from the plain page's, as its
face and size do); and the same typed pages as carbon copies (``carbon``: the strikes blurred
through the sheets above, grainier and lighter, on mottled onionskin smudged by the carbon,
black, blue or violet); and printed on a dot-matrix printer (``dotmatrix``: each letter the
dots of a 9- or 24-pin printer's bitmap font, at 10, 12 or 17 characters an inch, 6, 8 or 3
lines an inch, a worn ribbon's fading edge, a broken pin's missing row; on fan-fold paper with
pale bars or sprocket holes; the text differs from the plain page's), and the same printouts
at 8 lines an inch where the printer is a 9-pin one (``dotmatrix_lpi`` 8: its 9 rows of dots fill
the whole line pitch, so descenders touch the capitals below). Each is read by the
page recognizer (shipped model), by the same with segmentation as it was before these layouts
were measured (``--before``: crops cut tight to the ink, no room for descenders; a leading
minus sign left out; a table row read in the order of its glyphs' tops; a grid's rules left in
the crops and its cells run together; the text scale taken from the line pitch; dots up to 0.8
scales from a line joined to it; no dash joined from beside a line; a centred page number
under the gutter taken to close it, as a line of a column closes a river of word gaps; a
running head's page number read after the left column),
and by Tesseract 5 (``--psm 3``, if installed).

Prints page CER/WER (the truth reads a table row by row, cell by cell, one cell per line, so a
reader that joins a row into one line pays one error per joined cell), lines found against true
lines, and for tables the cell CER: for each true cell, the words found whose centres lie in it,
read in order, against the cell's text (recognition of the cells, whatever the line grouping).

    python bench/bench_layouts.py [--pages 8] [--dpi 300] [--no-tesseract] [--before]
                                  [--model URL] [--compare-model URL] [--only KIND ...]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from ocrcore.pagescore import PageScore, score_page, truth_page  # noqa: E402
from ocrcore.synth import generate  # noqa: E402
from ocrcore.synth.dataset import sample_to_row  # noqa: E402

import tesseract_cli  # noqa: E402


def table_cells(sample, truth) -> list:
    """The truth's lines that are table cells (inside a table's box)."""
    out = []
    for t in sample.meta.get("tables", []):
        x0, y0, x1, y1 = t["bbox"]
        out += [ln for ln in truth.lines
                if x0 <= (ln.bbox[0] + ln.bbox[2]) / 2 <= x1 and y0 <= (ln.bbox[1] + ln.bbox[3]) / 2 <= y1]
    return out


def cell_errors(cells, page) -> tuple[int, int]:
    """Character errors and characters over the true cells: each cell against the words found
    whose centres lie in its box (grown by a fifth of its height), in reading order."""
    words = [w for ln in page.lines for w in ln.words]
    errors = total = 0
    for c in cells:
        x0, y0, x1, y1 = c.bbox
        m = 0.2 * (y1 - y0)
        inside = [w.text for w in words
                  if x0 - m <= (w.bbox[0] + w.bbox[2]) / 2 <= x1 + m and y0 - m <= (w.bbox[1] + w.bbox[3]) / 2 <= y1 + m]
        errors += Levenshtein.distance(c.text, " ".join(inside))
        total += len(c.text)
    return errors, total


VARIANTS = {"plain": {}, "tables": {"tables": 1.0}, "double-spaced": {"min_leading": 2.0, "max_leading": 2.4},
            "furniture": {"furniture": 1.0}, "typewritten": {"typewriter": 1.0},
            "carbon copies": {"typewriter": 1.0, "carbon": 1.0}, "dot-matrix": {"dotmatrix": 1.0},
            "dot-matrix 8 lpi": {"dotmatrix": 1.0, "dotmatrix_lpi": 8}}


def segmentation_as_before(seg):
    """Patch ``ocrcore.preprocess.segment`` (module ``seg``) back to its rules before the
    layouts here were measured; returns a function that undoes the patch."""
    import numpy as np

    saved = {k: getattr(seg, k) for k in ("_room_below", "_line_band", "_attach_small", "_left_on_row", "_frame_strokes",
                                          "_closes_gap", "_same_row", "_head_row")}
    seg._room_below = lambda lines, *a, **k: np.zeros(len(lines), np.int64)
    seg._line_band = lambda *a, **k: None
    seg._attach_small = lambda lines, kind, bb, s: saved["_attach_small"](lines, kind, bb, s, reach=0.0, gap=0.8)
    seg._left_on_row = lambda *a, **k: None
    seg._frame_strokes = lambda *a, **k: (None, None)
    seg._closes_gap = lambda rows, xa, xb, sc, min_column: bool(rows.any(axis=0)[xa:xb].mean() >= 0.5)
    seg._same_row = seg._head_row = lambda first, *a, **k: np.zeros(len(first), bool)

    def undo():
        for k, v in saved.items():
            setattr(seg, k, v)
    return undo


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--no-tesseract", action="store_true")
    ap.add_argument("--before", action="store_true", help="also read with segmentation as it was before")
    ap.add_argument("--model", default=None, help="model to read with (default: the shipped one)")
    ap.add_argument("--compare-model", default=None, help="also read with this model (e.g. the one shipped before)")
    ap.add_argument("--only", choices=sorted(VARIANTS), action="append", help="read only these page kinds")
    args = ap.parse_args()

    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")  # the package re-exports segment()
    from ocrcore.model.predict import Recognizer
    from ocrcore.recognize import PageRecognizer

    reader = PageRecognizer(Recognizer.load(args.model, num_threads=1))
    other = PageRecognizer(Recognizer.load(args.compare_model, num_threads=1)) if args.compare_model else None
    readers = ["ours"] + (["ours, segmentation as before"] if args.before else [])
    readers += ["ours, model " + os.path.basename(args.compare_model.rstrip("/"))] if other else []
    if not args.no_tesseract and tesseract_cli.available():
        readers.append("tesseract 5")
    elif not args.no_tesseract:
        print("tesseract not installed (scripts/system-deps.sh --bench installs it): skipped")
    rows = []
    for variant, params in VARIANTS.items():
        if args.only and variant not in args.only:
            continue
        samples = [generate("pages", 77, i, {"dpi": args.dpi, **params}) for i in range(args.pages)]
        truths = [truth_page(sample_to_row(s, "pages")) for s in samples]
        cells = [table_cells(s, t) for s, t in zip(samples, truths)]
        n_true = sum(len(t.lines) for t in truths)
        n_cells = sum(len(c) for c in cells)
        for name in readers:
            acc, n_found, ce, ct, t0 = PageScore(), 0, 0, 0, time.perf_counter()
            undo = segmentation_as_before(seg) if name == "ours, segmentation as before" else (lambda: None)
            try:
                for i, (s, truth) in enumerate(zip(samples, truths)):
                    if name == "tesseract 5":
                        page = tesseract_cli.read_page(s.image, f"p{i}")
                    else:
                        page = (other if name.startswith("ours, model") else reader)(s.image, page_id=f"p{i}")
                    score_page(truth, page, acc)
                    n_found += len(page.lines)
                    if name != "tesseract 5":  # Tesseract's text comes without boxes here
                        e, n = cell_errors(cells[i], page)
                        ce, ct = ce + e, ct + n
            finally:
                undo()
            rows.append((variant, n_cells, name, acc, n_found, n_true, (ce / ct if ct else None),
                         (time.perf_counter() - t0) / args.pages))
    print(f"\n{args.pages} pages at {args.dpi} dpi, seed 77")
    print(f"{'pages':14s} {'cells':>5s}  {'reader':30s} {'CER':>7s} {'WER':>7s} {'lines':>9s} {'cell CER':>9s} {'s/page':>7s}")
    for variant, n_cells, name, acc, n_found, n_true, ccer, spp in rows:
        cc = f"{100 * ccer:8.2f}%" if ccer is not None else f"{'':9s}"
        print(f"{variant:14s} {n_cells:5d}  {name:30s} {100 * acc.cer:6.2f}% {100 * acc.wer:6.2f}% "
              f"{n_found:4d}/{n_true:<4d} {cc} {spp:7.2f}")


if __name__ == "__main__":
    main()

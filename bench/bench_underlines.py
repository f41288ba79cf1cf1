"""Underlined words: page CER with and without underline removal, and Tesseract, in one run.

Synthetic A4 pages (seed 77 like bench_recognize.py) drawn twice, plain and with ``underlines``
(a share of body words starting an underlined run of 1-3 words; the truth is the same text).
Each is read by the page recognizer (shipped model) with underline removal, by the same with it
switched off (what segmentation did before), and by Tesseract 5 (``--psm 3``, if installed).
Prints page CER/WER, lines found against true lines, and how many ``_`` each emitted (the
truth has none).

    python bench/bench_underlines.py [--pages 8] [--underlines 0.15] [--dpi 300] [--no-tesseract]
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import tesseract_cli  # noqa: E402
from ocrcore.pagescore import PageScore, score_page, truth_page  # noqa: E402
from ocrcore.synth import generate  # noqa: E402
from ocrcore.synth.dataset import sample_to_row  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--underlines", type=float, default=0.15)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--no-tesseract", action="store_true")
    args = ap.parse_args()

    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")  # the package re-exports segment()
    from ocrcore.model.predict import Recognizer
    from ocrcore.recognize import PageRecognizer

    reader = PageRecognizer(Recognizer.load(num_threads=1))
    found_strokes = seg._underlines
    readers = {"ours": None, "ours, no underline removal": None}
    if not args.no_tesseract and tesseract_cli.available():
        readers["tesseract 5"] = None
    elif not args.no_tesseract:
        print("tesseract not installed (scripts/system-deps.sh --bench installs it): skipped")
    rows = []
    for variant, share in (("plain", 0.0), ("underlined", args.underlines)):
        samples = [generate("pages", 77, i, {"dpi": args.dpi, "underlines": share}) for i in range(args.pages)]
        truths = [truth_page(sample_to_row(s, "pages")) for s in samples]
        n_true = sum(len(t.lines) for t in truths)
        n_under = sum(s.meta.get("underlined_words", 0) for s in samples)
        for name in readers:
            acc, n_found, n_bar, t0 = PageScore(), 0, 0, time.perf_counter()
            for i, (s, truth) in enumerate(zip(samples, truths)):
                if name == "tesseract 5":
                    page = tesseract_cli.read_page(s.image, f"p{i}")
                else:
                    # the "before" column: segmentation as it was, with the stroke finder off
                    seg._underlines = found_strokes if name == "ours" else (lambda *a, **k: None)
                    page = reader(s.image, page_id=f"p{i}")
                score_page(truth, page, acc)
                n_found += len(page.lines)
                n_bar += page.text.count("_")
            seg._underlines = found_strokes
            rows.append((variant, n_under, name, acc, n_found, n_true, n_bar, (time.perf_counter() - t0) / args.pages))
    print(f"\n{args.pages} pages at {args.dpi} dpi, seed 77; underlined: share {args.underlines}")
    print(f"{'pages':11s} {'words underlined':>16s}  {'reader':28s} {'CER':>7s} {'WER':>7s} {'lines':>9s} {'_':>4s} {'s/page':>7s}")
    for variant, n_under, name, acc, n_found, n_true, n_bar, spp in rows:
        print(f"{variant:11s} {n_under:16d}  {name:28s} {100 * acc.cer:6.2f}% {100 * acc.wer:6.2f}% "
              f"{n_found:4d}/{n_true:<4d} {n_bar:4d} {spp:7.2f}")


if __name__ == "__main__":
    main()

"""The same pages scanned at several resolutions: page CER and boxes, ours and Tesseract 5.

Archives come at 150, 200, 300 dpi and more; low resolutions and faint or eroded type are where
a reader breaks first. Synthetic A4 pages (seed 77 like bench_recognize.py; each page index
draws the same text, fonts and degradations at every resolution, with the degradations' sizes
scaled to it) are read by the page recognizer (the shipped model or ``--model``, and
``--compare-model`` side by side) and by Tesseract 5 (``--psm 3``, told the true resolution
with ``--dpi``, if installed). Prints page CER/WER, the mean IoU of character and word boxes
(ours; Tesseract's text comes without boxes here), lines found against true lines, the worst
page's CER and seconds per page, per resolution and reader.

    python bench/bench_resolution.py [--pages 12] [--dpis 150,200,300] [--model URL]
                                     [--compare-model URL] [--no-tesseract] [--seed 77]
                                     [--params '{"degrade": 1.0}']

``--params``: more page generator parameters, as JSON (``{"degrade": 1.0}``: scans twice as
degraded as the default's, faint and eroded type among them).
"""
from __future__ import annotations

import argparse
import json
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
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--dpis", default="150,200,300")
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--model", default=None, help="model to read with (default: the shipped one)")
    ap.add_argument("--compare-model", default=None, help="also read with this model")
    ap.add_argument("--no-tesseract", action="store_true")
    ap.add_argument("--params", default="{}", help="more page generator parameters, as JSON")
    args = ap.parse_args()
    params = json.loads(args.params)

    from ocrcore.model.predict import Recognizer
    from ocrcore.recognize import PageRecognizer

    readers = {"ours": PageRecognizer(Recognizer.load(args.model, num_threads=1))}
    if args.compare_model:
        readers["ours, model " + os.path.basename(args.compare_model.rstrip("/"))] = \
            PageRecognizer(Recognizer.load(args.compare_model, num_threads=1))
    tess = not args.no_tesseract and tesseract_cli.available()
    if not args.no_tesseract and not tess:
        print("tesseract not installed (scripts/system-deps.sh --bench installs it): skipped")
    names = list(readers) + (["tesseract 5"] if tess else [])
    rows = []
    for dpi in (int(d) for d in args.dpis.split(",")):
        samples = [generate("pages", args.seed, i, {**params, "dpi": dpi}) for i in range(args.pages)]
        truths = [truth_page(sample_to_row(s, "pages")) for s in samples]
        n_true = sum(len(t.lines) for t in truths)
        for name in names:
            acc, n_found, worst, t0 = PageScore(), 0, 0.0, time.perf_counter()
            for i, (s, truth) in enumerate(zip(samples, truths)):
                page = tesseract_cli.read_page(s.image, f"p{i}", dpi) if name == "tesseract 5" else readers[name](s.image, page_id=f"p{i}")
                one = PageScore()
                score_page(truth, page, one)
                score_page(truth, page, acc)
                worst = max(worst, one.cer)
                n_found += len(page.lines)
            rows.append((dpi, name, acc.summary(), n_found, n_true, worst, (time.perf_counter() - t0) / args.pages))
    print(f"\n{args.pages} pages, seed {args.seed}" + (f", params {json.dumps(params)}" if params else ""))
    print("| dpi | reader | CER | WER | char IoU | word IoU | lines found / true | worst page CER | s/page |")
    print("|---|---|---|---|---|---|---|---|---|")
    for dpi, name, sm, n_found, n_true, worst, spp in rows:
        iou = (f"{sm['char_iou']:.3f} | {sm['word_iou']:.3f}" if name != "tesseract 5" and sm["char_iou"] is not None
               else " | ")
        print(f"| {dpi} | {name} | {100 * sm['cer']:.2f}% | {100 * sm['wer']:.2f}% | {iou} | {n_found} / {n_true} | "
              f"{100 * worst:.2f}% | {spp:.2f} |")


if __name__ == "__main__":
    main()

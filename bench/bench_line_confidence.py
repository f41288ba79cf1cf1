"""Which lines fall below a confidence floor: text, or what only looks like text?

Reads synthetic pages with every line kept (``min_line_confidence`` 0), matches each line found to
the true lines (box IoU >= 0.3) and prints, for several floors, how many lines that match no true
line (the dots of a halftone, the grain of a photo, specks, read as "$27A #%") and how many true
lines (with their characters and the errors they were read with) lie below it. This is the
evidence for :data:`ocrcore.recognize.MIN_LINE_CONFIDENCE`.

    python bench/bench_line_confidence.py [--sets default] [--pages 12] [--floors 0.3,0.4,0.5,0.6,0.7]

A set is ``seed:dpi:params`` with generator params as JSON; ``"_scan": "dither"`` or
``"salt"`` turns the page into a dithered bilevel scan or adds 4% salt and pepper.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

DEFAULT_SETS = [
    '171:300:{"figures": 1.0, "degrade": 1.0}',
    '172:300:{"figures": 1.0, "degrade": 1.0}',
    '173:200:{"figures": 1.0, "furniture": 1.0, "tables": 0.5}',
    '174:200:{"figures": 0.5, "furniture": 1.0, "tables": 0.5, "degrade": 1.0}',
    '15:150:{"figures": 1.0, "degrade": 1.0}',
    '77:200:{}',
    '77:300:{"_scan": "dither"}',
    '77:300:{"_scan": "salt"}',
]


def scanned(image, how, index: int):
    """The page as a dithered bilevel scan, or with 4% salt and pepper (seeded by page)."""
    import numpy as np
    from PIL import Image

    grey = image.convert("L")
    if how == "dither":
        return grey.convert("1")
    if how == "salt":
        g = np.asarray(grey).copy()
        u = np.random.default_rng(index).random(g.shape)
        g[u < 0.02], g[u > 0.98] = 0, 255
        return Image.fromarray(g)
    if how:
        raise SystemExit(f"unknown _scan {how!r}: use dither or salt")
    return grey


def survey(sets: list[str], pages: int, model) -> list[dict]:
    """One record per line found: its confidence, text, and the true line it matches (if any)."""
    from rapidfuzz.distance import Levenshtein

    from ocrcore.containers import bbox_iou
    from ocrcore.model.predict import Recognizer
    from ocrcore.pagescore import truth_page
    from ocrcore.recognize import PageRecognizer
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    reader = PageRecognizer(Recognizer.load(model, num_threads=1), min_line_confidence=0.0)
    rows = []
    for spec in sets:
        seed, dpi, params = spec.split(":", 2)
        params = json.loads(params)
        how = params.pop("_scan", None)
        for k in range(pages):
            s = generate("pages", int(seed), k, {"dpi": int(dpi), **params})
            page = reader(scanned(s.image, how, k), page_id=f"{seed}/{k}")
            truth = truth_page(sample_to_row(s, "pages"))
            for line in page.lines:
                best = max(truth.lines, key=lambda t: bbox_iou(line.bbox, t.bbox), default=None)
                ref = best.text if best is not None and bbox_iou(line.bbox, best.bbox) >= 0.3 else None
                rows.append({"set": spec, "page": k, "confidence": line.confidence, "text": line.text, "ref": ref,
                             "errors": Levenshtein.distance(ref, line.text) if ref is not None else len(line.text)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="default", help="';'-separated seed:dpi:params, or 'default'")
    ap.add_argument("--pages", type=int, default=12, help="pages per set")
    ap.add_argument("--floors", default="0.3,0.4,0.5,0.6,0.7")
    ap.add_argument("--model", default=None)
    ap.add_argument("--show", type=int, default=10, help="list this many true lines and non-text lines nearest the floor")
    args = ap.parse_args()
    sets = DEFAULT_SETS if args.sets == "default" else [s for s in args.sets.split(";") if s.strip()]
    t0 = time.perf_counter()
    rows = survey(sets, args.pages, args.model)
    true = [r for r in rows if r["ref"] is not None]
    other = [r for r in rows if r["ref"] is None]
    print(f"{len(sets)} sets x {args.pages} pages ({time.perf_counter() - t0:.0f} s): {len(rows)} lines found, "
          f"{len(true)} match a true line, {len(other)} match none ({sum(len(r['text']) for r in other)} characters)")
    print("| floor | non-text lines below (characters) | true lines below | their characters | read with errors |")
    print("|---|---|---|---|---|")
    for f in (float(v) for v in args.floors.split(",")):
        o = [r for r in other if r["confidence"] < f]
        t = [r for r in true if r["confidence"] < f]
        print(f"| {f:g} | {len(o)} ({sum(len(r['text']) for r in o)}) | {len(t)} | "
              f"{sum(len(r['ref']) for r in t)} | {sum(r['errors'] for r in t)} |")
    print("true lines read with the lowest confidence:")
    for r in sorted(true, key=lambda r: r["confidence"])[: args.show]:
        print(f"  {r['confidence']:.3f} {r['set']} page {r['page']}: {r['text'][:40]!r} (true: {r['ref'][:40]!r})")
    print("non-text lines read with the highest confidence:")
    for r in sorted(other, key=lambda r: -r["confidence"])[: args.show]:
        print(f"  {r['confidence']:.3f} {r['set']} page {r['page']}: {r['text'][:50]!r}")


if __name__ == "__main__":
    main()

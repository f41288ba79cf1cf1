"""Where a page's time goes in recognition, one core: binarize + segment, line crops, CRNN, boxes.

    python bench/bench_page_stages.py [--pages 8] [--dpi 300] [--precision auto]

Synthetic A4 pages (seed 77, like bench_recognize.py); one extra page first warms up oneDNN and is
not counted. Prints mean seconds per page of each stage.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args()

    from ocrcore.model.predict import Recognizer
    from ocrcore.preprocess.pages import analyse_page
    from ocrcore.recognize import LineImage, build_line, settle_gc
    from ocrcore.synth import generate

    rec = Recognizer.load(num_threads=1, precision=args.precision)
    settle_gc()  # as a flow worker does
    totals = {"binarize + segment": 0.0, "line crops": 0.0, "recognition (CRNN + decoding)": 0.0, "boxes": 0.0}
    n_lines = 0
    for k in range(args.pages + 1):
        image = generate("pages", 77, k, {"dpi": args.dpi}).image
        t0 = time.perf_counter()
        layout = analyse_page(image)
        t1 = time.perf_counter()
        lines = []
        for r in layout.lines:
            c = r.crop(layout.binarized)
            lines.append(LineImage(c.image, tuple(r.bbox), c.to_original_bbox, int(r.column), c.to_original_bboxes))
        t2 = time.perf_counter()
        results = rec.recognize_lines([li.image for li in lines], batch_size=args.batch_size)
        t3 = time.perf_counter()
        for li, r in zip(lines, results):
            build_line(li, r.text, r.confidence, r.chars)
        t4 = time.perf_counter()
        if k == 0:
            continue
        n_lines += len(lines)
        for name, dt in zip(totals, (t1 - t0, t2 - t1, t3 - t2, t4 - t3)):
            totals[name] += dt
    print(f"== {args.pages} pages at {args.dpi} dpi, {n_lines / args.pages:.0f} lines per page, precision {rec.precision} ==")
    for name, v in totals.items():
        print(f"{name:32s} {v / args.pages:.3f} s/page")
    print(f"{'total':32s} {sum(totals.values()) / args.pages:.3f} s/page")


if __name__ == "__main__":
    main()

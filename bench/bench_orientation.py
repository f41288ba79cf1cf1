"""Benchmark: pages given upright, upside down and sideways; the turn found, accuracy and cost.

    python bench/bench_orientation.py [--pages 24] [--dpi 200] [--seed 77] [--turns 0,90,180,270]

Synthetic pages (one or two columns, skew, scan degradations) are given turned (a page "needing
90" was fed turned a quarter counter-clockwise), read by the shipped model through
:class:`ocrcore.recognize.PageRecognizer` on one core, and scored against their ground truth
mapped onto the page as given. Prints, for each turn given: how often each turn was found, page
CER, character- and word-box IoU, and seconds per page. Upright pages are also read with the
check off (``orient=False``), alternating with it on page by page, for the cost of the check.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=24)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--seed", type=int, default=77)
    ap.add_argument("--params", default="{}", help='more page generator parameters as JSON, e.g. \'{"degrade": 1.0}\'')
    ap.add_argument("--turns", default="0,90,180,270", help="turns to give the pages (comma-separated)")
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--sample", type=int, default=None, help="lines that judge a page (default: SAMPLE_LINES)")
    args = ap.parse_args()

    from ocrcore.imageio import decode_image, encode_png
    from ocrcore import orientation
    from ocrcore.model.predict import Recognizer
    from ocrcore.orientation import page_to_original, turn_image
    from ocrcore.pagescore import PageScore, score_page, truth_page
    from ocrcore.recognize import PageRecognizer, settle_gc
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    turns = [int(t) for t in args.turns.split(",")]
    params = {"dpi": args.dpi, **json.loads(args.params)}
    if args.sample is not None:
        orientation.SAMPLE_LINES = args.sample
    rec = Recognizer.load(num_threads=1, precision=args.precision)
    settle_gc()
    on = PageRecognizer(rec)
    off = PageRecognizer(rec, orient=False)
    on(generate("pages", args.seed, 10_000, params).image, page_id="warm-up")
    found = {t: {} for t in turns}
    scores = {t: PageScore() for t in turns}
    secs = dict.fromkeys(turns, 0.0)
    margin = dict.fromkeys(turns, 1.0)  # least lead of the right turn's score over the others tried
    t_off = t_on = 0.0
    for k in range(args.pages):
        s = generate("pages", args.seed, k, params)
        truth = truth_page(sample_to_row(s, "pages"))
        for t in turns:
            # a PNG round trip, as pages arrive; the page as given is the upright one turned back
            given = decode_image(encode_png(turn_image(s.image, (360 - t) % 360)))
            if t == 0 and k % 2:  # the check off, first on odd pages and second on even ones
                t0 = time.perf_counter()
                off(given, page_id=f"{k}")
                t_off += time.perf_counter() - t0
            t0 = time.perf_counter()
            page = on(given, page_id=f"{k}")
            dt = time.perf_counter() - t0
            secs[t] += dt
            got = on.last_check.turn
            found[t][got] = found[t].get(got, 0) + 1
            sc = on.last_check.scores
            others = [v for u, v in sc.items() if u != t]
            if t in sc and others:
                margin[t] = min(margin[t], sc[t] - max(others))
            score_page(page_to_original(truth, t, given.width, given.height), page, scores[t])
            if t == 0:
                t_on += dt
                if k % 2 == 0:
                    t0 = time.perf_counter()
                    off(given, page_id=f"{k}")
                    t_off += time.perf_counter() - t0
        print(f"page {k + 1}/{args.pages} done", file=sys.stderr, flush=True)
    n = args.pages
    print(f"{n} pages x {len(turns)} turns, seed {args.seed}, {params}, one core, precision {rec.precision}, "
          f"{orientation.SAMPLE_LINES} lines judge")
    print("| turn given | turns found | least margin | page CER | char IoU | word IoU | s/page |")
    print("|---|---|---|---|---|---|---|")
    for t in turns:
        m = scores[t].summary()
        f = ", ".join(f"{g}: {c}" for g, c in sorted(found[t].items()))
        print(f"| {t} | {f} | {margin[t]:.3f} | {m['cer']:.2%} | {m['char_iou']:.3f} | {m['word_iou']:.3f} | {secs[t] / n:.3f} |")
    if 0 in turns:
        print(f"upright pages, check off: {t_off / n:.3f} s/page; on: {t_on / n:.3f} s/page "
              f"(ratio on/off {t_on / t_off:.3f})")


if __name__ == "__main__":
    main()

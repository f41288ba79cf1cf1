"""Read many synthetic pages and list the worst: where the reader breaks, page by page.

Averages over a dozen pages hide the page whose columns were read interleaved (one such page at
76% CER among 60 read at 0.1% moves the mean tenfold, and nothing else shows it). This reads
``--pages`` pages of each seed with the shipped model (or ``--model``) and prints every page
whose CER is above ``--threshold``, with what the generator drew (columns, font, size, tables,
figures, furniture, degradations), then the pages' CER in all.

    python bench/bench_worst_pages.py [--dpi 300] [--seeds 141,142,143,144,145] [--pages 12]
                                      [--threshold 0.015] [--params '{"degrade": 1.0}'] [--model URL]
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
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--seeds", default="141,142,143,144,145")
    ap.add_argument("--pages", type=int, default=12, help="pages per seed")
    ap.add_argument("--threshold", type=float, default=0.015, help="page CER above which a page is listed")
    ap.add_argument("--params", default="{}", help="more page generator parameters, as JSON")
    ap.add_argument("--model", default=None, help="model to read with (default: the shipped one)")
    args = ap.parse_args()
    params = json.loads(args.params)

    from ocrcore.model.predict import Recognizer
    from ocrcore.pagescore import PageScore, score_page, truth_page
    from ocrcore.recognize import PageRecognizer
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    reader = PageRecognizer(Recognizer.load(args.model, num_threads=1))
    total, listed, n, t0 = PageScore(), 0, 0, time.perf_counter()
    print(f"pages at {args.dpi} dpi, seeds {args.seeds}, {args.pages} each, params {json.dumps(params)}; "
          f"listed: page CER above {args.threshold:.2%}")
    for seed in (int(v) for v in args.seeds.split(",") if v.strip()):
        for k in range(args.pages):
            sample = generate("pages", seed, k, {"dpi": args.dpi, **params})
            page = reader(sample.image, page_id=f"{seed}/{k}")
            truth = truth_page(sample_to_row(sample, "pages"))
            one = PageScore()
            score_page(truth, page, one)
            score_page(truth, page, total)
            n += 1
            cer = one.summary()["cer"]
            if cer > args.threshold:
                listed += 1
                m = sample.meta
                print(f"  seed {seed} page {k}: CER {cer:.2%}, lines {len(page.lines)} found / {len(truth.lines)} true; "
                      f"{m['columns']} column(s), {os.path.basename(m['font_body'])} {m['font_pt']} pt, "
                      f"tables {len(m['tables'])}, figures {len(m['figures'])}, furniture {m['furniture'] is not None}, "
                      f"degradations {[d['name'] for d in m['degradations']]}", flush=True)
    s = total.summary()
    print(f"{n} pages, {listed} listed; page CER {s['cer']:.3%}, WER {s['wer']:.3%}, "
          f"char / word IoU {s['char_iou']:.3f} / {s['word_iou']:.3f}; {(time.perf_counter() - t0) / max(1, n):.2f} s/page")


if __name__ == "__main__":
    main()

"""Pages drawn with random, often extreme generator settings: where the reader fails outright.

The other benchmarks vary one thing at a time around ordinary pages. This draws each page's
settings at random over the generator's whole range (72-600 dpi, 4-48 pt type, skew up to 10
degrees, any mix of pictures, tables, underlines, furniture, curl, show-through, symbols and
heavy degradation), reads it with the whole page reader, and counts pages that raise (none may:
a page error in a run) and pages read above ``--threshold`` CER, listing them with their
settings so each can be drawn again (``generate("pages", seed, 1, settings)``). Many of these
settings are beyond what scans hold (two columns of 40-pt type with a quarter-inch gutter,
the back page showing through as dark as the front, 72-dpi pages drowned in noise); what to
fix among them is a judgement, not a target.

    python bench/bench_stress_pages.py [--seed 1] [--pages 60] [--threshold 0.1] [--model shipped-fast]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
import traceback

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

SHARES = (("figures", 1.0), ("underlines", 1.0), ("tables", 1.0), ("furniture", 1.0), ("curl", 0.1),
          ("show_through", 0.8), ("symbols", 0.5), ("typographic", 1.0), ("ligatures", 1.0))


def draw_settings(rng) -> dict:
    """One page's generator settings, each drawn over the generator's range."""
    dpi = int(rng.choice([72, 100, 150, 200, 300, 400, 600]))
    lo_pt = max(4.0, 6.0 * 72 / dpi + 0.1)  # the generator's floor: text at least 6 px high
    a, b = float(rng.uniform(lo_pt, 30)), float(rng.uniform(lo_pt, 48))
    p = {"dpi": dpi, "min_pt": min(a, b), "max_pt": max(a, b), "columns": int(rng.choice([1, 2])),
         "max_skew": float(rng.uniform(0, 10)), "degrade": float(rng.uniform(0, 1))}
    for k, hi in SHARES:
        if rng.random() < 0.3:
            p[k] = float(rng.uniform(0, hi))
    if rng.random() < 0.2:
        lead = float(rng.uniform(1, 4))
        p["min_leading"], p["max_leading"] = lead, max(lead, float(rng.uniform(1, 4)))
    return p


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1, help="seed of the settings drawn")
    ap.add_argument("--pages", type=int, default=60)
    ap.add_argument("--threshold", type=float, default=0.1, help="page CER above which a page is listed")
    ap.add_argument("--model", default="shipped-fast", help="model to read with")
    args = ap.parse_args()

    import numpy as np

    from ocrcore.model.predict import Recognizer
    from ocrcore.pagescore import PageScore, score_page, truth_page
    from ocrcore.recognize import PageRecognizer
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    reader = PageRecognizer(Recognizer.load(args.model, num_threads=1))
    rng = np.random.default_rng(args.seed)
    total, cers, listed, raised = PageScore(), [], [], []
    t0 = time.perf_counter()
    for i in range(args.pages):
        p = draw_settings(rng)
        seed = int(rng.integers(1000, 9999))
        s = generate("pages", seed, 1, p)
        try:
            page = reader(s.image, page_id=f"stress-{i}")
        except Exception as e:  # counted and listed: a page error in a real run
            raised.append((seed, p, f"{type(e).__name__}: {e}"))
            traceback.print_exc(limit=-3)
            continue
        one = PageScore()
        truth = truth_page(sample_to_row(s, "pages"))
        score_page(truth, page, one)
        score_page(truth, page, total)
        cers.append(one.cer)
        if one.cer > args.threshold:
            listed.append((one.cer, seed, p, len(page.lines), len(truth.lines)))
    print(f"{args.pages} pages (settings seed {args.seed}), model {args.model}, {time.perf_counter() - t0:.0f} s")
    for cer, seed, p, n, m in sorted(listed, key=lambda x: -x[0]):
        short = {k: (round(v, 3) if isinstance(v, float) else v) for k, v in p.items()}
        print(f"  seed {seed}: CER {cer:7.2%}, lines {n} found / {m} true; {json.dumps(short)}")
    for seed, p, err in raised:
        print(f"  seed {seed}: RAISED {err}; {json.dumps(p)}")
    print(f"raised: {len(raised)}; read above {args.threshold:.0%} CER: {len(listed)} of {len(cers)}; "
          f"mean page CER {float(np.mean(cers)) if cers else 0.0:.2%}, all characters {total.cer:.2%}")


if __name__ == "__main__":
    main()

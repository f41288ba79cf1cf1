"""Write a line dataset of crops cut from synthetic pages by the page pipeline (see ocrcore/pagelines.py).

    python scripts/page_line_dataset.py --pages 240 --seed 9000 --out DATASET [--dpi 300] [--processes 2] \
        [--params '{"symbols": 0.03}'] [--bilevel 0.4,0.7]

``--bilevel LO,HI`` thresholds each page to black and white first, as a bilevel scan is, at a
level drawn per page between LO and HI (:func:`ocrcore.preprocess.binarize`'s ``threshold``,
between the ink and paper levels; lower thins the strokes and breaks a light font's hairlines),
so the crops are cut from the black-and-white page as ``ocr recognize`` would cut them.

One shard per ``--pages-per-shard`` pages, written as ``part-NNNNN.parquet`` (the dataset format),
so ``ocr train --data DATASET`` reads it like any other dataset. Pages are a pure function of
``(seed, index)``, so the same command writes the same rows.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def shard(out: str, seed: int, first: int, count: int, dpi: int, k: int, params: dict,
          bilevel: tuple[float, float] | None = None) -> tuple[int, int, int]:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np
    from PIL import Image

    from ocrcore import storage
    from ocrcore.datasets import rows_to_parquet_bytes
    from ocrcore.pagelines import CropStats, labeled_crops
    from ocrcore.preprocess.binarize import binarize
    from ocrcore.pagescore import truth_page
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    stats, rows = CropStats(), []
    for i in range(first, first + count):
        s = generate("pages", seed, i, {**params, "dpi": dpi})
        image = s.image
        if bilevel:  # unskewed, so the truth's boxes still fit
            level = float(np.random.default_rng([seed, i]).uniform(*bilevel))
            ink = binarize(image.convert("L"), max_skew=0, descreen=False, threshold=level).binary
            image = Image.fromarray(~ink).convert("1")
        rows += labeled_crops(image, truth_page(sample_to_row(s, "pages")), stats=stats)
    meta = {"kind": "page-crops", "seed": seed, "dpi": dpi, **params, **({"bilevel": list(bilevel)} if bilevel else {})}
    storage.write_bytes_atomic(storage.join(out, f"part-{k:05d}.parquet"), rows_to_parquet_bytes(rows, params=meta))
    return stats.found, stats.matched, stats.true_lines


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, required=True)
    ap.add_argument("--seed", type=int, default=9000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--pages-per-shard", type=int, default=20)
    ap.add_argument("--processes", type=int, default=2)
    ap.add_argument("--params", default="{}", help="more page generator parameters, as JSON")
    ap.add_argument("--bilevel", default=None, metavar="LO,HI",
                    help="threshold each page to black and white first, at a level drawn in [LO, HI] (e.g. 0.4,0.7)")
    args = ap.parse_args()
    params = json.loads(args.params)
    bilevel = None
    if args.bilevel:
        try:
            lo, hi = (float(v) for v in args.bilevel.split(","))
        except ValueError:
            ap.error(f"--bilevel takes two numbers LO,HI, got {args.bilevel!r}")
        if not 0 < lo <= hi < 1:
            ap.error(f"--bilevel levels must satisfy 0 < LO <= HI < 1, got {args.bilevel!r}")
        bilevel = (lo, hi)
    t0 = time.perf_counter()
    starts = list(range(0, args.pages, args.pages_per_shard))
    with ProcessPoolExecutor(args.processes) as ex:
        futs = [ex.submit(shard, args.out, args.seed, s, min(args.pages_per_shard, args.pages - s), args.dpi, k, params,
                          bilevel)
                for k, s in enumerate(starts)]
        found = matched = true = 0
        for f in futs:
            a, b, c = f.result()
            found, matched, true = found + a, matched + b, true + c
    print(f"{args.pages} pages: {true} true lines, {found} found, {matched} labeled crops written to {args.out} "
          f"({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()

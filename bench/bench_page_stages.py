"""Where a page's time goes in recognition, one core, stage by stage, as a flow worker runs it.

    python bench/bench_page_stages.py [--pages 8] [--dpi 300] [--precision auto] [--shard 8]
                                      [--gc settled|default] [--compare-gc] [--model M] [--compare-model M2]

Synthetic A4 pages (seed 77, like bench_recognize.py), encoded as PNG first. Per page: decode the
PNG, binarize + segment, line crops, recognition (CRNN + CTC decoding), boxes (characters and
words on the page), hOCR; every ``--shard`` pages the Parquet part, as a recognize-shard task
builds it (its pages stay alive until then). One extra page first warms up oneDNN and is not
counted. Prints mean seconds per page of each stage.

``--gc settled`` (default) calls :func:`ocrcore.recognize.settle_gc` after loading the model, as
a flow worker does; ``--gc default`` keeps CPython's collector settings. ``--compare-gc`` runs
the benchmark four times in child processes, alternating default and settled, and prints the
ratio of their totals (each child sees the same pages and warms up the same way).
``--compare-model M2`` does the same for ``--model`` (default: the shipped one) against ``M2``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

STAGES = ("decode PNG", "binarize + segment", "line crops", "recognition (CRNN + decoding)", "boxes", "hOCR",
          "Parquet part")


def measure(args) -> dict[str, float]:
    """Seconds per page of each stage (and ``total``) for this process's GC setting."""
    from ocrcore.containers import Page
    from ocrcore.imageio import decode_image, encode_png
    from ocrcore.model.predict import Recognizer
    from ocrcore.preprocess.pages import analyse_page
    from ocrcore.recognize import LineImage, PageRecognizer, build_line, settle_gc
    from ocrcore.serialize.hocr import page_to_hocr
    from ocrcore.serialize.parquet import pages_to_parquet_bytes
    from ocrcore.synth import generate

    pngs = [encode_png(generate("pages", 77, k, {"dpi": args.dpi}).image) for k in range(args.pages + 1)]
    rec = Recognizer.load(args.model, num_threads=1, precision=args.precision)
    reframe = PageRecognizer(rec)._reframe  # page crops are re-framed only as the flow does
    if args.gc == "settled":
        settle_gc()  # as a flow worker does after loading its model
    totals = dict.fromkeys(STAGES, 0.0)
    part: list = []
    n_lines = 0
    for k, data in enumerate(pngs):
        t = [time.perf_counter()]
        image = decode_image(data)
        t.append(time.perf_counter())
        layout = analyse_page(image)
        t.append(time.perf_counter())
        lines = []
        for r in layout.lines:
            c = r.crop(layout.binarized)
            lines.append(LineImage(c.image, tuple(r.bbox), c.to_original_bbox, int(r.column), c.to_original_bboxes))
        t.append(time.perf_counter())
        results = rec.recognize_lines([li.image for li in lines], batch_size=args.batch_size, reframe=reframe)
        t.append(time.perf_counter())
        page = Page(f"page-{k}", image.width, image.height,
                    [build_line(li, r.text, r.confidence, r.chars) for li, r in zip(lines, results)])
        t.append(time.perf_counter())
        page_to_hocr(page).encode("utf-8")
        t.append(time.perf_counter())
        if k == 0:
            continue
        part.append(page)
        n_lines += len(lines)
        if len(part) == args.shard or k == args.pages:
            pages_to_parquet_bytes(part)
            part = []
        t.append(time.perf_counter())
        for name, a, b in zip(STAGES, t, t[1:]):
            totals[name] += b - a
    out = {name: v / args.pages for name, v in totals.items()}
    out["total"] = sum(out.values())
    out["lines per page"] = n_lines / args.pages
    return out


def print_table(title: str, res: dict[str, float]) -> None:
    print(f"== {title}, {res['lines per page']:.0f} lines per page ==")
    for name in STAGES + ("total",):
        print(f"{name:32s} {res[name]:.3f} s/page")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--shard", type=int, default=8, help="pages per Parquet part (kept alive until it is built)")
    ap.add_argument("--gc", choices=("settled", "default"), default="settled")
    ap.add_argument("--compare-gc", action="store_true", help="default vs settled collector, 2 child runs each")
    ap.add_argument("--model", default=None, help="model to read with (default: the shipped one)")
    ap.add_argument("--compare-model", default=None, help="--model against this one, 2 child runs each")
    ap.add_argument("--raw", action="store_true", help=argparse.SUPPRESS)  # child mode: print JSON
    args = ap.parse_args()

    if not (args.compare_gc or args.compare_model):
        res = measure(args)
        if args.raw:
            print(json.dumps(res))
        else:
            print_table(f"{args.pages} pages at {args.dpi} dpi, precision {args.precision}, collector {args.gc}", res)
        return
    base = ["--pages", str(args.pages), "--dpi", str(args.dpi), "--precision", args.precision,
            "--batch-size", str(args.batch_size), "--shard", str(args.shard)]
    if args.compare_model:
        model_args = (lambda m: ["--model", m] if m else [])
        variants = {f"model {args.model or 'shipped'}": model_args(args.model) + ["--gc", args.gc],
                    f"model {args.compare_model}": model_args(args.compare_model) + ["--gc", args.gc]}
    else:
        variants = {f"collector {m}": ["--gc", m] + (["--model", args.model] if args.model else [])
                    for m in ("default", "settled")}
    runs: dict[str, list[dict]] = {k: [] for k in variants}
    for name in list(variants) * 2:  # alternating, so a slow spell of the machine hits both
        cmd = [sys.executable, __file__, "--raw", *base, *variants[name]]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
        runs[name].append(json.loads(out))
    mean = {m: {k: sum(r[k] for r in rs) / len(rs) for k in rs[0]} for m, rs in runs.items()}
    for m in variants:
        totals = ", ".join(f"{r['total']:.3f}" for r in runs[m])
        print_table(f"{args.pages} pages at {args.dpi} dpi, {m}, mean of 2 runs (totals {totals})", mean[m])
    a, b = list(variants)
    print(f"{b} / {a} total: {mean[b]['total'] / mean[a]['total']:.3f}")


if __name__ == "__main__":
    main()

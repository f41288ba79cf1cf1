"""Bulk recognition throughput and accuracy, measured side by side in one run.

1. A plain single-process loop over the pages doing the flow's work without Prefect or Dask: read
   each image, recognise it (PageRecognizer), write its hOCR file, and a Parquet part per shard of
   pages; pages/s and lines/s per core.
2. The recognize flow with 1 and 2 Dask workers on the same pages, ratio to the loop.
3. Tesseract 5 on the same pages (one thread per process, two processes), ratio and CER of both.
4. Peak worker memory on an archive 10x larger (with --memory).

    python bench/bench_recognize.py [--pages 20] [--dpi 300] [--model URL] [--compare-model URL]
        [--shard-size 5] [--loop-precisions fp32,auto] [--memory]

With ``--compare-model`` (e.g. ``shipped-fast``), steps 1-2 run for both models and step 3
prints both models' ratios to the one Tesseract run.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from ocrcore.imageio import decode_image  # noqa: E402
from ocrcore.pagescore import PageScore, score_page, truth_page  # noqa: E402
from ocrcore.synth import generate  # noqa: E402
from ocrcore.synth.dataset import sample_to_row  # noqa: E402

import tesseract_cli  # noqa: E402


def make_pages(folder: str, n: int, dpi: int, seed: int = 77) -> dict:
    os.makedirs(folder, exist_ok=True)
    truth = {}
    for i in range(n):
        s = generate("pages", seed, i, {"dpi": dpi})
        row = sample_to_row(s, "pages")
        name = f"page-{i:04d}.png"
        with open(os.path.join(folder, name), "wb") as f:
            f.write(row["image"]["bytes"])
        truth[name] = truth_page(row)
    return truth


def measure_model(model, tag: int, args, src: str, names: list, truth: dict, tmp: str) -> dict:
    """The plain loop (at each of ``--loop-precisions``) and the flow with 1 and 2 workers for one
    model; returns the loop's seconds and accuracy at precision auto and the 2-worker flow's
    seconds."""
    from ocrcore import storage
    from ocrcore.model.predict import Recognizer
    from ocrcore.recognize import PageRecognizer, settle_gc
    from ocrcore.serialize.hocr import hocr_file_name, page_to_hocr
    from ocrcore.serialize.parquet import pages_to_parquet_bytes

    auto = Recognizer.load(model, num_threads=1).precision
    print(f"== model {model or 'shipped'}; {args.pages} synthetic pages at {args.dpi} dpi; "
          f"recognizer precision auto = {auto} on this CPU ==")
    precs = [auto if p.strip() == "auto" else p.strip() for p in args.loop_precisions.split(",")]
    for prec in dict.fromkeys(precs + [auto]):  # in order, without repeats; auto always runs
        reader = PageRecognizer(Recognizer.load(model, num_threads=1, precision=prec))
        settle_gc()  # as a flow worker does after loading its model
        loop_out = os.path.join(tmp, f"loop-{tag}-{prec}")
        t0 = time.perf_counter()
        pages, n_lines, part = {}, 0, []
        for i, name in enumerate(names):
            with open(os.path.join(src, name), "rb") as f:
                page = reader(decode_image(f.read()), page_id=name)
            storage.write_bytes_atomic(storage.join(loop_out, "hocr", hocr_file_name(name)),
                                       page_to_hocr(page).encode("utf-8"))
            pages[name] = page
            part.append(page)
            n_lines += len(page.lines)
            if len(part) == args.shard_size or i == len(names) - 1:
                storage.write_bytes_atomic(storage.join(loop_out, f"part-{i:05d}.parquet"), pages_to_parquet_bytes(part))
                part = []
        secs = time.perf_counter() - t0
        acc = PageScore()
        for name in names:
            score_page(truth[name], pages[name], acc)
        print(f"plain loop, 1 process, {prec}: {secs:.1f} s, {args.pages / secs:.3f} pages/s, "
              f"{n_lines / secs:.1f} lines/s per core")
        print(f"  accuracy: {acc.summary()}")
        if prec == auto:  # the flows below run at precision auto: compare them with this loop
            loop_s, auto_acc = secs, acc

    from flows.recognize import run_recognize

    for w in (1, 2):
        out = os.path.join(tmp, f"out-{tag}-{w}")
        t0 = time.perf_counter()
        res = run_recognize(src, out, model=model, shard_size=args.shard_size, workers=w, write_hocr=True)
        total = time.perf_counter() - t0
        print(f"flow, {w} worker(s): shards {res['seconds']:.1f} s ({args.pages / res['seconds']:.3f} pages/s, "
              f"{res['lines'] / res['seconds'] / w:.1f} lines/s per core), ratio to loop {loop_s / res['seconds']:.2f}x; "
              f"with cluster start {total:.1f} s, ratio {loop_s / total:.2f}x")
    return {"loop_s": loop_s, "acc": auto_acc, "flow2_s": res["seconds"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--model", default=None)
    ap.add_argument("--compare-model", default=None,
                    help="a second model (a URL or shipped-fast) measured the same way in the same run")
    ap.add_argument("--shard-size", type=int, default=5)
    ap.add_argument("--loop-precisions", default="fp32,auto",
                    help="precisions of the plain loop, side by side (the flows run at auto, like the last one)")
    ap.add_argument("--memory", action="store_true", help="also run an archive 10x larger and compare peak RSS")
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="bench-rec-")
    try:
        src = os.path.join(tmp, "pages")
        truth = make_pages(src, args.pages, args.dpi)
        names = sorted(truth)
        from flows.server import ensure_api

        ensure_api()
        models = [args.model] + ([args.compare_model] if args.compare_model else [])
        results = [measure_model(m, k, args, src, names, truth, tmp) for k, m in enumerate(models)]

        if tesseract_cli.available():
            t0 = time.perf_counter()
            with ThreadPoolExecutor(2) as ex:
                texts = dict(zip(names, ex.map(lambda n: tesseract_cli.run_page(os.path.join(src, n)), names)))
            tess_s = time.perf_counter() - t0
            tacc = PageScore()
            for name in names:
                score_page(truth[name], tesseract_cli.text_page(texts[name], name), tacc)
            print(f"tesseract 5, 2 processes x 1 thread: {tess_s:.1f} s, {args.pages / tess_s:.3f} pages/s; "
                  f"CER {100 * tacc.cer:.2f}% WER {100 * tacc.wer:.2f}%")
            for m, r in zip(models, results):
                print(f"ours (model {m or 'shipped'}, 2 workers) vs tesseract (2 processes): throughput ratio "
                      f"{tess_s / r['flow2_s']:.2f}x, CER ours {100 * r['acc'].cer:.2f}% vs tesseract {100 * tacc.cer:.2f}%")
        else:
            print("tesseract not installed (scripts/system-deps.sh --bench installs it): skipped")
        if len(models) == 2:
            a, b = results
            print(f"model {models[1]} / model {models[0] or 'shipped'}: loop {a['loop_s'] / b['loop_s']:.2f}x "
                  f"the pages/s, 2-worker flow {a['flow2_s'] / b['flow2_s']:.2f}x")

        if args.memory:
            from flows.recognize import run_recognize

            for mult in (1, 10):
                big = os.path.join(tmp, f"mem{mult}")
                os.makedirs(big)
                for k in range(mult):
                    for name in names:
                        os.link(os.path.join(src, name), os.path.join(big, f"{k:03d}-{name}"))
                res = run_recognize(big, os.path.join(tmp, f"memout{mult}"), model=args.model,
                                    shard_size=args.shard_size, workers=2, write_hocr=False)
                print(f"archive x{mult} ({res['pages']} pages): peak worker RSS {res['worker_max_rss_mb']} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

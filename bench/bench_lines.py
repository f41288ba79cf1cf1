"""Line recognition on CPU: our model at batch sizes 1, 16 and 64 against Tesseract 5, one run.

Both read the same line images from a dataset; Tesseract runs as ONE process over the whole list
(``--psm 7``, ``OMP_THREAD_LIMIT=1``) so its start-up is not counted; ours uses one torch thread.
Prints lines/s per core and CER (rapidfuzz) of each.

    python bench/bench_lines.py --data DATASET [--model MODEL] [--n 300] [--precisions fp32,bf16]

Each precision is measured (bf16 pays off on CPUs with AMX or AVX512-BF16; elsewhere it is
emulated and slow); the ratio to Tesseract uses the precision ``auto`` picks on this machine.
Lines are re-framed to the model's line geometry as ``ocr eval`` does (``line_norm`` in its model.json); in ``auto``
precision, batch 16 is also read as given, to show what re-framing costs and buys.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from ocrcore.datasets import iter_records  # noqa: E402
from ocrcore.evaluate import score  # noqa: E402
from ocrcore.model.predict import Recognizer, record_to_gray  # noqa: E402

import tesseract_cli  # noqa: E402


def forward_times(model) -> None:
    """One forward pass over 32 lines of 32 x 1170 px (a page's worth), one thread: the model as
    trained, the inference copy (``ocrcore.model.fast``) in fp32, and the copy in bf16 autocast."""
    import torch

    rec = Recognizer.load(model, num_threads=1, precision="fp32")
    rec16 = Recognizer.load(model, num_threads=1, precision="bf16")
    x, w = torch.rand(32, 1, rec.input_height, 1170), torch.full((32,), 1170)

    def best_of(fn, n=5) -> float:
        fn()
        times = []
        for _ in range(n):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    with torch.inference_mode():
        a = best_of(lambda: rec.model(x, w))
        b = best_of(lambda: rec.net(x, w))
        with torch.autocast("cpu", dtype=torch.bfloat16):
            c = best_of(lambda: rec16.net(x, w))
    print(f"forward, 32 lines of {rec.input_height}x1170 px, 1 thread: as trained {a:.3f} s, "
          f"inference copy fp32 {b:.3f} s ({a / b:.2f}x), bf16 {c:.3f} s ({a / c:.2f}x)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True)
    ap.add_argument("--model", default=None)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--precisions", default="fp32,bf16", help="comma-separated: fp32, bf16")
    args = ap.parse_args()

    recs = []
    for r in iter_records(args.data, columns=["id", "image", "text"]):
        recs.append(r)
        if len(recs) >= args.n:
            break
    refs = [r["text"] for r in recs]
    grays = [record_to_gray(r) for r in recs]
    forward_times(args.model)
    auto = Recognizer.load(args.model, num_threads=1).precision
    print(f"== {len(recs)} line images from {args.data}; precision auto = {auto} on this CPU ==")
    ours_rates: dict[int, float] = {}
    for prec in args.precisions.split(","):
        rec = Recognizer.load(args.model, num_threads=1, precision=prec.strip())
        for bs in (1, 16, 64):
            t0 = time.perf_counter()
            out = rec.recognize_lines(grays, batch_size=bs)
            dt = time.perf_counter() - t0
            rep = score(refs, [o.text for o in out], normalize=rec.charset.normalize)
            print(f"ours {rec.precision}, batch {bs:3d}: {len(recs) / dt:8.1f} lines/s per core  "
                  f"CER {100 * rep.cer:.2f}%  WER {100 * rep.wer:.2f}%")
            if rec.precision == auto:
                ours_rates[bs], ours_cer = len(recs) / dt, rep.cer
            if rec.precision == auto and bs == 16 and rec.line_norm:
                t0 = time.perf_counter()
                out = rec.recognize_lines(grays, batch_size=bs, reframe=False)
                dt = time.perf_counter() - t0
                rep = score(refs, [o.text for o in out], normalize=rec.charset.normalize)
                print(f"ours {rec.precision}, batch {bs:3d}, as given (not re-framed): {len(recs) / dt:8.1f} lines/s "
                      f"per core  CER {100 * rep.cer:.2f}%  WER {100 * rep.wer:.2f}%")
    if not tesseract_cli.available():
        print("tesseract not installed (scripts/system-deps.sh --bench): skipped")
        return
    texts, dt = tesseract_cli.read_lines([r["image"]["bytes"] for r in recs])
    trep = score(refs, texts, normalize=rec.charset.normalize)
    print(f"tesseract 5 --psm 7: {len(recs) / dt:8.1f} lines/s per core  CER {100 * trep.cer:.2f}%  WER {100 * trep.wer:.2f}%")
    ratios = ", ".join(f"batch {bs} {rate * dt / len(recs):.1f}x" for bs, rate in ours_rates.items())
    print(f"ratio of lines/s, ours ({auto}) / tesseract: {ratios}; "
          f"CER ours {100 * ours_cer:.2f}% vs tesseract {100 * trep.cer:.2f}%")


if __name__ == "__main__":
    main()

"""How a model reads line images framed differently: margins, tight crops, binarized, low resolution.

    python bench/bench_line_geometry.py --data DATASET [--n 300] [--model MODEL] [--pages-data DATASET]

Line datasets come cropped in many ways: OCRopus ``.bin.png`` lines are binarized and cut a few
pixels around the ink, others keep generous white margins or a fixed height. A CRNN scales each
image to its input height, so the margins set the size of the text it sees. Each variant of the
same held-out lines is read twice in one run, as given (``reframe=False``) and re-framed to
the model's line geometry (``reframe=True``, :func:`ocrcore.model.lines.normalize_line`), and
both CERs are printed, with what re-framing costs per line. ``--pages-data``: a dataset of
crops cut by our page segmenter (``scripts/page_line_dataset.py``), read as given and
re-framed, to check lines the model sees in bulk recognition. ``--tesseract`` adds Tesseract 5's
CER on each variant (``--psm 7``): the bar a real line set's acceptance check sets.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "2")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import tesseract_cli  # noqa: E402


def _pad(g, t, b, l=0, r=0):
    h, w = g.shape
    o = np.ones((h + t + b, w + l + r), np.float32)
    o[t:t + h, l:l + w] = g
    return o


def _tight(g, rows_only=False):
    ink = g < 0.5
    rows, cols = np.flatnonzero(ink.any(1)), np.flatnonzero(ink.any(0))
    if rows.size == 0:
        return g
    cut = g[rows[0]: rows[-1] + 1]
    cut = cut if rows_only else cut[:, cols[0]: cols[-1] + 1]
    return cut if min(cut.shape) >= 8 else g  # a speck of a line: left as it is


def _resize(g, f):
    h, w = g.shape
    return np.asarray(Image.fromarray(g).resize((max(4, int(w * f)), max(4, int(h * f))), Image.BILINEAR), np.float32)


def _binary(g):
    return (g > 0.5).astype(np.float32)


def _nlbin(g):
    """Binarized as ``ocropus-nlbin`` does after flattening: the grey range stretched between the
    5th and 90th percentiles, then cut at half of it, so faint type keeps its strokes."""
    lo, hi = np.percentile(g, 5), np.percentile(g, 90)
    if hi - lo < 1e-3:
        return _binary(g)
    return ((g - lo) / (hi - lo) > 0.5).astype(np.float32)


VARIANTS = {
    "as given": lambda g: g,
    "cut to the ink": _tight,
    "rows cut to the ink": lambda g: _tight(g, True),
    "binarized at 0.5, ink + 3 px": lambda g: _pad(_binary(_tight(g)), 3, 3, 3, 3),
    "binarized at 0.5, as given": _binary,
    "binarized as nlbin does, ink + 3 px": lambda g: _pad(_nlbin(_tight(g)), 3, 3, 3, 3),
    "+ half its height above and below": lambda g: _pad(g, g.shape[0] // 2, g.shape[0] // 2),
    "+ half its height above": lambda g: _pad(g, g.shape[0] // 2, 0),
    "half resolution": lambda g: _resize(g, 0.5),
    "half resolution, binarized": lambda g: _binary(_resize(g, 0.5)),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model", default=None, help="model URL (default: the shipped model)")
    ap.add_argument("--pages-data", default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tesseract", action="store_true",
                    help="also read each variant with Tesseract 5 (--psm 7), for the CER it sets")
    args = ap.parse_args()

    from ocrcore.datasets import iter_records
    from ocrcore.evaluate import score
    from ocrcore.model.lines import normalize_line
    from ocrcore.model.predict import Recognizer, record_to_gray

    rec = Recognizer.load(args.model, num_threads=args.threads)
    print(f"model {args.model or 'shipped'}: line_norm {rec.line_norm}")

    def cell(texts, preds):
        r = score(texts, preds, normalize=rec.charset.normalize)
        return f"{100 * r.cer:6.2f}% / {100 * r.seq_acc:5.1f}%"

    def read(grays, texts, reframe):
        return cell(texts, [x.text for x in rec.recognize_lines(grays, batch_size=16, reframe=reframe)])

    tess = args.tesseract and tesseract_cli.available()
    if args.tesseract and not tess:
        print("tesseract not installed (scripts/system-deps.sh --bench): its column is left out")

    def row(name, gs, texts):
        cells = [read(gs, texts, False), read(gs, texts, True)]
        if tess:
            cells.append(cell(texts, tesseract_cli.read_lines(gs)[0]))
        print(f"| {name:38s} | " + " | ".join(cells) + " |", flush=True)

    def load(url):
        recs = [r for _, r in zip(range(args.n), iter_records(url))]
        return [record_to_gray(r) for r in recs], [r["text"] for r in recs]

    grays, texts = load(args.data)
    print(f"{len(grays)} lines of {args.data}; CER / sequence accuracy")
    head = ["as given", "re-framed"] + (["Tesseract 5"] if tess else [])
    print(f"| {'variant':38s} | " + " | ".join(head) + " |\n|" + "---|" * (len(head) + 1))
    for name, f in VARIANTS.items():
        row(name, [f(g) for g in grays], texts)
    if args.pages_data:
        pg, pt = load(args.pages_data)
        row(f"page crops, {len(pg)} (our segmenter)", pg, pt)
    t = time.perf_counter()
    for g in grays:
        normalize_line(g)
    print(f"re-framing: {1000 * (time.perf_counter() - t) / len(grays):.2f} ms per line "
          f"(mean input {np.mean([g.shape[1] for g in grays]):.0f}x{np.mean([g.shape[0] for g in grays]):.0f} px)")


if __name__ == "__main__":
    main()

"""``ocr recognize`` (the recognize flow), ``ocr hocr`` (render a result row) and ``ocr pipeline``."""
from __future__ import annotations

import json
import sys


def cmd_recognize(args) -> int:
    from ocrcore import storage
    from ocrcore.cli import _prefect_env, _run_flow, _storage_options

    if args.shard_size <= 0:
        raise ValueError(f"--shard-size must be positive, got {args.shard_size}")
    if not 0.0 <= args.min_line_confidence <= 1.0:
        raise ValueError(f"--min-line-confidence must be from 0 to 1 (0 keeps every line), got {args.min_line_confidence}")
    opts = _storage_options(args)
    storage.preflight_writable(args.out, opts)
    from ocrcore.model.checkpoint import load_model
    from ocrcore.model.predict import resolve_model_url

    load_model(resolve_model_url(args.model), storage_options=opts)  # a bad model fails here, clearly
    _prefect_env(args)
    from flows.recognize import run_recognize

    return _run_flow("recognize", "page", run_recognize, input=args.input, out=args.out, model=args.model,
                     shard_size=args.shard_size, single_line=args.single_line, incremental=args.incremental,
                     write_hocr=not args.no_hocr, workers=args.workers, scheduler=args.scheduler, storage_options=opts,
                     precision=args.precision, orient=not args.no_orient, min_line_confidence=args.min_line_confidence)


def cmd_hocr(args) -> int:
    from ocrcore import storage
    from ocrcore.serialize.hocr import page_to_hocr
    from ocrcore.serialize.parquet import iter_pages

    found = 0
    for page in iter_pages(args.results):
        if args.page_id and page.page_id != args.page_id:
            continue
        html = page_to_hocr(page)
        if args.out:
            storage.write_bytes_atomic(args.out, html.encode("utf-8"))
            print(f"hOCR of {page.page_id} written to {args.out}", file=sys.stderr)
        else:
            sys.stdout.write(html)
        found += 1
        break
    if not found:
        raise ValueError(f"no result row {'for ' + args.page_id if args.page_id else ''} in {args.results}")
    return 0


def register(sub) -> None:
    from ocrcore.cli import _cluster_args, _precision_arg
    from ocrcore.recognize import MIN_LINE_CONFIDENCE

    r = sub.add_parser("recognize", help="recognise every page of an archive into Parquet + hOCR")
    r.add_argument("input", help="folder, prefix, glob, tar, zip, multi-page TIFF or PDF (path or URL)")
    r.add_argument("--out", required=True, help="output URL")
    r.add_argument("--model", help="model URL, or shipped-fast: the shipped crnn_fast student (default: the shipped model)")
    r.add_argument("--shard-size", type=int, default=50, help="pages per shard (one Prefect task each)")
    r.add_argument("--single-line", action="store_true", help="inputs are single lines (captchas, line images)")
    r.add_argument("--incremental", action="store_true", help="process only pages not yet in the output")
    r.add_argument("--no-orient", action="store_true",
                   help="read every page as given (default: pages upside down or sideways are read turned upright)")
    r.add_argument("--min-line-confidence", type=float, default=MIN_LINE_CONFIDENCE, metavar="F",
                   help="leave out lines of a page read below this confidence: halftone dots and photo grain read "
                        f"as text (default {MIN_LINE_CONFIDENCE:g}; 0 keeps every line)")
    r.add_argument("--no-hocr", action="store_true", help="skip the per-page hOCR files")
    _precision_arg(r)
    _cluster_args(r)
    r.set_defaults(func=cmd_recognize)

    h = sub.add_parser("hocr", help="render a result row (a page) as hOCR")
    h.add_argument("results", help="a results part file or output prefix")
    h.add_argument("--page-id", help="which page (default: the first)")
    h.add_argument("--out", help="write here instead of stdout")
    h.set_defaults(func=cmd_hocr)
    register_pipeline(sub)


def cmd_pipeline(args) -> int:
    from ocrcore.cli import _prefect_env

    _prefect_env(args)
    from flows.pipeline import pipeline

    res = pipeline(out=args.out, train_lines=args.lines, train_steps=args.train_steps, pages=args.pages,
                   page_dpi=args.dpi, workers=args.workers, use_trained=args.use_trained)
    s = res["score"]
    print(json.dumps({"score": s, "recognize": res["recognize"], "train_best": res["train"]["best_metrics"]}, indent=2, default=str))
    return 0


def register_pipeline(sub) -> None:
    p = sub.add_parser("pipeline", help="end to end: synthetic data -> training -> recognition -> scored report")
    p.add_argument("--out", default="data/pipeline", help="output URL for every stage (default: data/pipeline)")
    p.add_argument("--lines", type=int, default=2000, help="synthetic training lines")
    p.add_argument("--train-steps", type=int, default=150, help="training steps (a short fine-tune)")
    p.add_argument("--pages", type=int, default=8, help="synthetic pages to recognise")
    p.add_argument("--dpi", type=int, default=200)
    p.add_argument("--use-trained", action="store_true", help="recognise with the model trained here")
    p.add_argument("--workers", type=int)
    p.add_argument("--no-server", action="store_true")
    p.set_defaults(func=cmd_pipeline)

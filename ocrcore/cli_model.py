"""``ocr train`` (the train flow), ``ocr eval`` and ``ocr average`` (plain, in this process)."""
from __future__ import annotations

import json
import sys


def _check_model_url(flag: str, url: str, opts, hint: str) -> None:
    """A clear usage error unless ``url`` holds a model (model.json beside model.safetensors)."""
    from ocrcore import storage
    from ocrcore.cli import UsageError
    from ocrcore.model.checkpoint import model_urls

    try:
        found = storage.exists(model_urls(url, opts)[1], opts)
    except ValueError as e:  # a file that is not a model (a pickle, say): the reason
        raise UsageError(f"{flag} {url}: {e}") from None
    if not found:
        raise UsageError(f"{flag} {url}: no model there (a model is a directory or prefix with model.json "
                         f"and model.safetensors){hint}")


def cmd_train(args) -> int:
    from ocrcore.cli import UsageError, _prefect_env, _run_flow, _storage_options
    from ocrcore.train import TrainConfig

    config = {}
    if args.config:
        try:
            config = json.loads(args.config)
        except json.JSONDecodeError as e:
            raise UsageError(f"--config must be a JSON object: {e}") from None
    for key in ("arch", "epochs", "max_steps", "batch_size", "lr", "seed", "patience", "device", "amp"):
        v = getattr(args, key)
        if v is not None:
            config[key] = v
    config["val_fraction"] = args.val_fraction
    config["split_seed"] = args.split_seed
    TrainConfig.from_dict(config)  # unknown keys or bad values: a clear message before anything starts
    opts = _storage_options(args)
    from ocrcore.model.predict import SHIPPED_NAMES, resolve_model_url

    init = None if str(args.init).lower() == "none" else args.init
    if init in SHIPPED_NAMES:
        init = resolve_model_url(init)
    if init not in (None, "auto"):
        _check_model_url("--init", init, opts, "; use --init auto or --init none to start otherwise")
    if args.teacher:
        teacher = resolve_model_url(args.teacher)
        _check_model_url("--teacher", teacher, opts, "")
        config["teacher"] = args.teacher  # the trainer resolves a shipped name; provenance keeps the name
        TrainConfig.from_dict(config)
    from ocrcore.datasets import count_records

    n = count_records(args.data, opts)
    if n == 0:
        raise UsageError(f"the dataset {args.data} is empty (no rows in part-*.parquet shards); create one with `ocr synth` or `ocr import`")
    _prefect_env(args)
    from flows.train import run_train

    print(f"training on {n} samples from {args.data} -> {args.out}", file=sys.stderr)
    return _run_flow("train", "step", run_train, data=args.data, out=args.out, config=config, init=init,
                     workers=args.workers, scheduler=args.scheduler, storage_options=opts)


def cmd_eval(args) -> int:
    from ocrcore import storage
    from ocrcore.cli import _storage_options
    from ocrcore.datasets import iter_records
    from ocrcore.evaluate import evaluate
    from ocrcore.model.predict import Recognizer
    from ocrcore.train import split_from_model_config

    opts = _storage_options(args)
    rec = Recognizer.load(args.model, storage_options=opts, num_threads=args.threads, precision=args.precision)
    ids = None
    if args.split != "all":
        all_ids = [r["id"] for r in iter_records(args.data, columns=["id"], storage_options=opts)]
        ids = split_from_model_config(rec.config, all_ids, args.split)
    report = evaluate(rec, iter_records(args.data, columns=["id", "image", "text"], storage_options=opts),
                      ids=ids, batch_size=args.batch_size,
                      reframe={"model": None, "on": True, "off": False}[args.reframe])
    print(report.summary())
    print(json.dumps({"cer": report.cer, "wer": report.wer, "sequence_accuracy": report.seq_acc, "n": report.n}))
    if args.predictions:
        storage.write_bytes_atomic(args.predictions, report.to_jsonl().encode(), opts)
        print(f"per-sample predictions written to {args.predictions}", file=sys.stderr)
    return 0


def cmd_average(args) -> int:
    from ocrcore.cli import UsageError, _storage_options
    from ocrcore.model.checkpoint import average_models

    weights = None
    if args.weights:
        try:
            weights = [float(w) for w in args.weights.split(",")]
        except ValueError:
            raise UsageError(f"--weights must be numbers separated by commas, got {args.weights!r}") from None
    average_models(args.models, args.out, weights=weights, storage_options=_storage_options(args))
    print(f"the mean of {len(args.models)} models written to {args.out}", file=sys.stderr)
    return 0


def register(sub) -> None:
    from ocrcore.cli import _cluster_args, _precision_arg

    t = sub.add_parser("train", help="train a CRNN+CTC line recognizer (the train flow)")
    t.add_argument("--data", required=True, help="dataset URL (from `ocr synth` or `ocr import`)")
    t.add_argument("--out", required=True, help="model URL (a directory or prefix)")
    t.add_argument("--val-fraction", type=float, default=0.1, help="seeded validation part of --data")
    t.add_argument("--split-seed", type=int, default=0)
    t.add_argument("--init", default="auto",
                   help="model URL to fine-tune from; auto (default): the shipped model for datasets under "
                        "20,000 samples trained with default --arch and charset, else from scratch; none: from scratch")
    t.add_argument("--teacher", help="model URL to distil from, or 'shipped': the model trained learns the "
                                      "teacher's frame posteriors as well as the labels (a smaller, faster "
                                      "--arch, e.g. crnn_fast, with --init none)")
    t.add_argument("--arch", help="auto (default: crnn_compact below 20,000 samples, else crnn_small), "
                                   "crnn_compact, crnn_small, crnn_base, or crnn_fast (a student for --teacher)")
    t.add_argument("--epochs", type=float, help="passes over the data (default: auto, about 120,000 samples "
                                                "seen, 30 to 150 epochs)")
    t.add_argument("--max-steps", type=int)
    t.add_argument("--batch-size", type=int)
    t.add_argument("--lr", type=float)
    t.add_argument("--seed", type=int)
    t.add_argument("--patience", type=int, help="validations without improvement before stopping")
    t.add_argument("--device", help="auto, cpu, cuda")
    t.add_argument("--amp", help="auto, off, bf16, fp16")
    t.add_argument("--config", help="further TrainConfig fields as JSON")
    _cluster_args(t)
    t.set_defaults(func=cmd_train)

    e = sub.add_parser("eval", help="CER, WER and sequence accuracy of a model on a dataset")
    e.add_argument("--model", help="model URL, or shipped-fast (default: the shipped model)")
    e.add_argument("--data", required=True)
    e.add_argument("--split", choices=["all", "val", "train"], default="all",
                   help="val/train: the seeded split recorded when the model was trained on this dataset")
    e.add_argument("--predictions", help="write per-sample predictions (JSON lines) here")
    e.add_argument("--batch-size", type=int, default=32)
    e.add_argument("--reframe", choices=["model", "on", "off"], default="model",
                   help="re-frame each line image to the line geometry the model reads (margins and text "
                        "size): model (default) when its model.json has line_norm, on, off")
    e.add_argument("--threads", type=int, help="torch CPU threads")
    _precision_arg(e)
    e.add_argument("--storage-options", help="fsspec storage options as JSON")
    e.set_defaults(func=cmd_eval)

    a = sub.add_parser("average", help="average the weights of models fine-tuned from one base (a model soup)")
    a.add_argument("models", nargs="+", help="model URLs: one architecture, charset and line geometry")
    a.add_argument("--out", required=True, help="model URL to write")
    a.add_argument("--weights", help="one weight per model, summing to 1 (default: equal)")
    a.add_argument("--storage-options", help="fsspec storage options as JSON")
    a.set_defaults(func=cmd_average)

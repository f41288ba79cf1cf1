"""The ``ocr`` command line: thin sub-commands that parse arguments and call the library or a flow.

Heavy modules (Prefect, Dask, torch) are imported inside the sub-commands, so ``ocr --help`` is
instant and a bad argument is reported before any server or cluster starts. Errors a user can fix
(bad parameters, unreachable storage, bad inputs) print one ``error: ...`` line and exit 2.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Optional


class UsageError(Exception):
    """A problem with what the user asked for; printed without a traceback."""


def _parse_json_or_kv(items: list[str]) -> dict:
    """``--param key=value`` pairs (values parsed as JSON when they can be) into a dict."""
    out: dict = {}
    for item in items or []:
        if "=" not in item:
            raise UsageError(f"--param expects KEY=VALUE, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = json.loads(v)
        except json.JSONDecodeError:
            out[k.strip()] = v
    return out


def _storage_options(args) -> Optional[dict]:
    if getattr(args, "storage_options", None):
        try:
            opts = json.loads(args.storage_options)
        except json.JSONDecodeError as e:
            raise UsageError(f"--storage-options must be a JSON object: {e}") from None
        if not isinstance(opts, dict):
            raise UsageError("--storage-options must be a JSON object")
        return opts
    return None


def _prefect_env(args) -> None:
    """Point this process (and the workers it starts) at a Prefect API before Prefect is imported."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    # Dask's INFO chatter (worker start/stop, closed comms at shutdown) drowns the progress bar.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "warning")
    # Without a server (``--no-server``) Prefect starts a temporary one for the run and waits 20 s
    # for it by default: on a busy two-core machine it answered later and the run failed before
    # it began ("Timed out while attempting to connect to ephemeral Prefect API server").
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    from flows.server import ensure_api, ui_url

    url = ensure_api(start=not getattr(args, "no_server", False))
    if url:
        print(f"Prefect UI: {ui_url(url)}", file=sys.stderr)


class _Bar:
    """tqdm progress bar fed by the flows' progress events."""

    def __init__(self, desc: str, unit: str):
        self.desc, self.unit, self.bar = desc, unit, None

    def __call__(self, ev: dict) -> None:
        from tqdm import tqdm

        if ev["event"] == "start":
            self.bar = tqdm(total=ev["total"], initial=ev["done"], desc=self.desc, unit=self.unit, file=sys.stderr)
        elif self.bar is not None:
            self.bar.update(ev.get("n", 0))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _run_flow(desc: str, unit: str, run, **kwargs) -> int:
    """Run a flow's ``run_*`` entry point with a progress bar; print its summary as JSON."""
    from flows.artifacts import progress_hook

    bar = _Bar(desc, unit)
    try:
        with progress_hook(bar):
            res = run(**kwargs)
    finally:
        bar.close()
    print(json.dumps(res, indent=2, default=str))
    return 0


def _precision_arg(p: argparse.ArgumentParser) -> None:
    from ocrcore.model import PRECISIONS  # torch-free: the parser is built at every start

    p.add_argument("--precision", choices=PRECISIONS, default="auto",
                   help="recognizer arithmetic: auto = bf16 on CPUs with AMX or AVX512-BF16 (2.7x and "
                        "1.6x the lines/s of fp32, same CER on our held-out lines), fp16 on CUDA, else fp32")


def _cluster_args(p: argparse.ArgumentParser) -> None:
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, help="local Dask worker processes (default: number of cores)")
    g.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://host:8786")
    p.add_argument("--storage-options", help="fsspec storage options as JSON (default: from AWS_* environment)")
    p.add_argument("--no-server", action="store_true",
                   help="do not start a local Prefect server (use PREFECT_API_URL or an ephemeral API)")


# ----------------------------------------------------------------------------- sub-commands

def cmd_synth(args) -> int:
    from ocrcore.sharding import plan_shards
    from ocrcore.synth import validate_params

    params = _parse_json_or_kv(args.param)
    if args.charset is not None:
        params["charset"] = args.charset
    try:
        full = validate_params(args.kind, params)
        plan_shards(args.count, args.shard_size)
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.workers is not None and args.workers <= 0:
        raise UsageError(f"--workers must be positive, got {args.workers}")
    from ocrcore import storage

    opts = _storage_options(args)
    storage.preflight_writable(args.out, opts)
    _prefect_env(args)
    from flows.synth import run_synth

    return _run_flow(f"synth {args.kind}", "img", run_synth, kind=args.kind, count=args.count, out=args.out,
                     seed=args.seed, shard_size=args.shard_size, params=full, workers=args.workers,
                     scheduler=args.scheduler, storage_options=opts)


def cmd_import(args) -> int:
    from ocrcore.datasets import import_labeled

    rep = import_labeled(args.source, args.dest, labels=args.labels, charset=args.charset,
                         shard_size=args.shard_size, storage_options=_storage_options(args))
    print(rep.summary())
    for e in rep.errors[:20]:
        print(f"  {e['error_type']}: {e['message']}", file=sys.stderr)
    if len(rep.errors) > 20:
        print(f"  ... and {len(rep.errors) - 20} more in {args.dest}/errors/", file=sys.stderr)
    return 0 if rep.rows else 1


def cmd_server(args) -> int:
    from flows.server import STATE, ensure_api, healthy, stop_server, ui_url

    if args.action == "start":
        url = ensure_api(start=True, port=args.port)
        print(f"Prefect API {url}; UI {ui_url(url)}")
    elif args.action == "stop":
        print("stopped" if stop_server() else "no server started by ocr is running")
    else:
        url = json.loads(STATE.read_text())["api_url"] if STATE.exists() else None
        print(f"running at {ui_url(url)}" if url and healthy(url) else "not running")
    return 0


# ----------------------------------------------------------------------------- parser

def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ocr", description="Distributed batch OCR on Prefect and Dask.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="generate a synthetic dataset (captcha, lines, pages)")
    s.add_argument("kind", choices=["captcha", "lines", "pages"])
    s.add_argument("--count", type=int, required=True, help="number of samples")
    s.add_argument("--out", required=True, help="output URL: a path, file://, s3://bucket/prefix, memory://")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--shard-size", type=int, default=500, help="samples per shard (one Prefect task each)")
    s.add_argument("--charset", help="characters to draw from (captcha) or allow (lines, pages)")
    s.add_argument("--param", action="append", default=[], metavar="KEY=VALUE",
                   help="generator parameter, repeatable (e.g. --param degrade=0.3 --param dpi=150)")
    _cluster_args(s)
    s.set_defaults(func=cmd_synth)

    i = sub.add_parser("import", help="turn a labeled folder of images into a dataset")
    i.add_argument("source", help="folder or prefix (path, s3://...) or a glob")
    i.add_argument("dest", help="dataset URL to write")
    i.add_argument("--labels", choices=["filename", "gt.txt"], required=True,
                   help="filename: the file name is the label; gt.txt: x.png with x.gt.txt")
    i.add_argument("--charset", help="allowed characters; labels with others become error rows")
    i.add_argument("--shard-size", type=int, default=1000)
    i.add_argument("--storage-options", help="fsspec storage options as JSON")
    i.set_defaults(func=cmd_import)

    v = sub.add_parser("server", help="start, stop or check the local Prefect server")
    v.add_argument("action", choices=["start", "stop", "status"])
    v.add_argument("--port", type=int, default=4200)
    v.set_defaults(func=cmd_server)

    _register_extra(sub)
    return p


def _register_extra(sub) -> None:
    """Sub-commands that live in their own modules (train, eval, segment, ...), when present."""
    import importlib

    for mod in ("ocrcore.cli_model", "ocrcore.cli_preprocess", "ocrcore.cli_recognize"):
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if e.name == mod:
                continue
            raise
        m.register(sub)


def main(argv: Optional[list[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    from ocrcore.storage import StorageError

    try:
        return int(args.func(args) or 0)
    except (UsageError, ValueError, StorageError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (``ocr segment page.png | head``): stop quietly, as Unix tools do;
        # stdout goes to /dev/null so the interpreter's final flush does not raise again
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())

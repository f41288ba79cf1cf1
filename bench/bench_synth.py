"""Synthetic data throughput: a plain single-process loop against the synth flow on 2 workers.

Prints images/s per core for each kind in a plain loop, then runs the same `lines` count through
the Prefect flow on a LocalCluster of 2 workers and prints the ratio to the loop (measured side by
side in this run) and the Prefect + Dask overhead per shard.

    python bench/bench_synth.py [--count 2000] [--shard-size 250]
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from ocrcore import storage  # noqa: E402
from ocrcore.sharding import plan_shards  # noqa: E402
from ocrcore.synth import make_generator, validate_params  # noqa: E402
from ocrcore.synth.dataset import build_shard  # noqa: E402


def loop_rate(kind: str, n: int, params: dict | None = None) -> float:
    gen = make_generator(kind, validate_params(kind, params or {}))
    gen(0, 0)  # warm caches (fonts, word list)
    t0 = time.perf_counter()
    for i in range(n):
        gen(0, i)
    return n / (time.perf_counter() - t0)


def plain_loop(kind: str, count: int, shard_size: int, out: str, params: dict) -> float:
    """The same work as the flow (generate, encode, Parquet, write), in one process."""
    t0 = time.perf_counter()
    for s in plan_shards(count, shard_size):
        res = build_shard(kind, 0, params, s.start, s.stop, count=count, shard_size=shard_size)
        storage.write_bytes_atomic(storage.join(out, s.name), res.data)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--shard-size", type=int, default=250)
    ap.add_argument("--per-kind", type=int, default=100, help="images per kind for the plain-loop rates")
    args = ap.parse_args()

    print("== generation, plain loop, one core ==")
    for kind, n, params in (("captcha", args.per_kind, {"style": "classic"}), ("captcha", args.per_kind, {"style": "lib"}),
                            ("lines", args.per_kind, {}), ("pages", max(3, args.per_kind // 20), {})):
        print(f"{kind:8s} {str(params):22s} {loop_rate(kind, n, params):8.1f} images/s per core  (n={n})")

    from flows.server import ensure_api

    ensure_api()
    from flows.synth import run_synth

    params = validate_params("lines", {})
    tmp = tempfile.mkdtemp(prefix="bench-synth-")
    try:
        loop_s = plain_loop("lines", args.count, args.shard_size, os.path.join(tmp, "loop"), params)
        t0 = time.perf_counter()
        res = run_synth("lines", args.count, os.path.join(tmp, "flow"), seed=0, shard_size=args.shard_size,
                        params=params, workers=2)
        total_s = time.perf_counter() - t0
        flow_s = res["seconds"]
        n_shards = res["shards"]
        shard_s = loop_s / n_shards
        overhead = (2 * flow_s - loop_s) / n_shards
        print(f"\n== lines: {args.count} images, {n_shards} shards of {args.shard_size} ==")
        print(f"plain loop, 1 process          {loop_s:7.1f} s  {args.count / loop_s:7.1f} images/s")
        print(f"flow, 2 workers (shards only)  {flow_s:7.1f} s  {args.count / flow_s:7.1f} images/s  ratio {loop_s / flow_s:.2f}x")
        print(f"flow, 2 workers (incl. cluster start, planning, commit) {total_s:7.1f} s  ratio {loop_s / total_s:.2f}x")
        print(f"mean shard compute {shard_s:.2f} s; Prefect+Dask overhead per shard ~{overhead:.2f} s worker time")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

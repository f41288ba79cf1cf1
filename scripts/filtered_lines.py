"""Write a line dataset of synthetic lines whose text matches a pattern (and, optionally, a meta flag).

    python scripts/filtered_lines.py --count 3000 --seed 8000 --out DATASET --pattern 'f[fil]' \
        [--require ligatures] [--params '{"ligatures": 1.0}'] [--processes 2] [--per-shard 1000]

For targeted fine-tuning on what plain synthetic lines rarely hold: a ligature pair in one line
of eight, for instance. Lines are drawn by the ``lines`` generator in index order and kept while
``--pattern`` (a regular expression) matches their text and every ``--require`` key of their
metadata is true, until ``--count`` are kept; the same command writes the same rows.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def shard(out: str, seed: int, k: int, count: int, stride: int, pattern: str, require: list[str],
          params: dict) -> tuple[int, int]:
    """Shard ``k``: the first ``count`` matching lines among indices ``k, k + stride, ...``."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    from ocrcore import storage
    from ocrcore.datasets import rows_to_parquet_bytes
    from ocrcore.synth import make_generator
    from ocrcore.synth.dataset import sample_to_row

    gen, rx, rows, i = make_generator("lines", params), re.compile(pattern), [], k
    while len(rows) < count:
        s = gen(seed, i)
        if rx.search(s.text) and all(s.meta.get(r) for r in require):
            rows.append(sample_to_row(s, "lines"))
        i += stride
    storage.write_bytes_atomic(storage.join(out, f"part-{k:05d}.parquet"), rows_to_parquet_bytes(
        rows, params={"kind": "lines", "seed": seed, "pattern": pattern, "require": require, **params}))
    return len(rows), (i - k) // stride


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pattern", required=True, help="regular expression the line's text must match")
    ap.add_argument("--require", action="append", default=[], help="metadata key that must be true (repeatable)")
    ap.add_argument("--params", default="{}", help="lines generator parameters, as JSON")
    ap.add_argument("--per-shard", type=int, default=1000)
    ap.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    params = json.loads(args.params)
    re.compile(args.pattern)  # a bad pattern fails here, before any work
    from ocrcore.synth import validate_params
    validate_params("lines", params)
    n = -(-args.count // args.per_shard)
    sizes = [min(args.per_shard, args.count - k * args.per_shard) for k in range(n)]
    with ProcessPoolExecutor(args.processes) as ex:
        done = list(ex.map(shard, [args.out] * n, [args.seed] * n, range(n), sizes, [n] * n,
                           [args.pattern] * n, [args.require] * n, [params] * n))
    kept, drawn = sum(d[0] for d in done), sum(d[1] for d in done)
    print(f"{kept} lines kept of {drawn} drawn, {n} shards written to {args.out}")


if __name__ == "__main__":
    main()

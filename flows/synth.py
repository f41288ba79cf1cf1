"""Synthetic dataset flow: plan deterministic shards, generate them on Dask, commit, resume.

One Prefect task is one shard (hundreds of images): Prefect + Dask add ~0.55 s of worker time
per task here (bench_synth.py), so per-image tasks would drown the work in overhead.
"""
from __future__ import annotations

import time
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE

from flows import artifacts
from flows.cluster import make_task_runner, runner_from_env
from ocrcore import storage
from ocrcore.datasets import read_params
from ocrcore.sharding import Shard, pending_shards, plan_shards
from ocrcore.synth import KINDS, validate_params
from ocrcore.synth.dataset import build_shard, same_dataset, shard_params

SAMPLES_DIR = "_samples"


@task(name="synth-shard", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def synth_shard(
    kind: str, seed: int, params: dict, shard: dict, out: str, count: int, shard_size: int,
    storage_options: Optional[dict] = None, keep_samples: int = 0,
) -> dict:
    """Generate one shard and write it with one PUT under its deterministic name."""
    s = Shard(**shard)
    res = build_shard(kind, seed, params, s.start, s.stop, count=count, shard_size=shard_size, keep_samples=keep_samples)
    for sample_id, png in res.samples:
        storage.write_bytes_atomic(storage.join(out, SAMPLES_DIR, f"{sample_id}.png"), png, storage_options)
    storage.write_bytes_atomic(storage.join(out, s.name), res.data, storage_options)
    return {"shard": s.name, "rows": res.rows, "seconds": round(res.seconds, 3), "bytes": len(res.data)}


def committed_shards(out: str, plan: list[Shard], ident: dict, storage_options: Optional[dict] = None) -> list[str]:
    """Names of planned shards already written by the same dataset definition.

    A shard under the right name but from a different definition (other kind, seed or
    parameters) is an error: mixing datasets silently would corrupt both.
    """
    fs, path = storage.get_fs(out, storage_options)
    try:
        present = {p.rstrip("/").rsplit("/", 1)[-1] for p in fs.ls(path, detail=False)} if fs.exists(path) else set()
    except FileNotFoundError:
        present = set()
    done = []
    for s in plan:
        if s.name in present:
            found = read_params(storage.join(out, s.name), storage_options)
            if not same_dataset(found, ident):
                raise ValueError(
                    f"{storage.redact(out)} already holds {s.name} of a different dataset "
                    f"(kind/seed/parameters/count differ: found {found.get('kind')!r} seed {found.get('seed')!r}); "
                    "write to a new --out or delete the old one"
                )
            done.append(s.name)
    return done


@flow(name="synth-dataset", log_prints=True, task_runner=runner_from_env())
def generate_dataset(
    kind: str,
    count: int,
    out: str,
    seed: int = 0,
    shard_size: int = 500,
    params: Optional[dict] = None,
    storage_options: Optional[dict] = None,
) -> dict:
    """Generate ``count`` synthetic ``kind`` samples into ``out`` as Parquet shards.

    Reruns skip committed shards; with every shard and ``_SUCCESS`` present nothing is written.
    """
    log = get_run_logger()
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose one of {', '.join(KINDS)}")
    full = validate_params(kind, params or {})
    plan = plan_shards(count, shard_size)
    ident = shard_params(kind, seed, full, count, shard_size)
    storage.preflight_writable(out, storage_options)
    done = committed_shards(out, plan, ident, storage_options)
    todo = pending_shards(plan, done)
    success_url = storage.join(out, "_SUCCESS")
    log.info("%s: %d samples in %d shards, %d already committed", kind, count, len(plan), len(done))
    if not todo and storage.exists(success_url, storage_options):
        log.info("dataset at %s is complete; nothing to do", storage.redact(out))
        return {"kind": kind, "count": count, "shards": len(plan), "written": 0, "skipped": len(plan), "out": out}

    t0 = time.perf_counter()
    progress = artifacts.Progress(count, key=artifacts.artifact_key(f"synth-{kind}-progress"),
                                  description=f"synthetic {kind}: samples written", done=sum(s.size for s in plan if s.name in set(done)))
    futures = {}
    for s in todo:
        fut = synth_shard.submit(kind, seed, full, s.to_dict(), out, count, shard_size, storage_options,
                                 keep_samples=4 if s.index == 0 else 0)
        futures[fut] = s
    results = artifacts.gather_shards(futures, progress, log, units=lambda s, r: r["rows"])
    wall = time.perf_counter() - t0

    storage.write_json_atomic(storage.join(out, "_manifest.json"), {
        **ident, "shards": [{"name": s.name, "start": s.start, "stop": s.stop, "rows": s.size} for s in plan],
        "rows": count,
    }, storage_options)
    storage.write_bytes_atomic(success_url, b"", storage_options)

    written = sum(r["rows"] for r in results)
    throughput = written / wall if wall > 0 else 0.0
    per_shard = sorted(results, key=lambda r: r["shard"])
    artifacts.table(per_shard, key=f"synth-{kind}-shards", description=f"synthetic {kind}: shards written in this run")
    samples = "\n".join(
        f"- [{n}]({artifacts.link_for(storage.join(out, SAMPLES_DIR, n))})"
        for n in _sample_names(out, storage_options)
    )
    artifacts.markdown(
        f"# Synthetic {kind}\n\n| | |\n|---|---|\n| samples | {count} |\n| shards | {len(plan)} "
        f"(written {len(results)}, skipped {len(done)}) |\n| written this run | {written} |\n"
        f"| wall time | {wall:.1f} s |\n| throughput | {throughput:.1f} samples/s |\n"
        f"| output | [{storage.redact(out)}]({artifacts.link_for(out)}) |\n\n## Samples\n{samples or '(none)'}\n",
        key=f"synth-{kind}-summary", description=f"synthetic {kind} summary",
    )
    log.info("wrote %d samples in %d shards in %.1f s (%.1f samples/s)", written, len(results), wall, throughput)
    return {"kind": kind, "count": count, "shards": len(plan), "written": len(results), "skipped": len(done),
            "out": out, "seconds": wall, "samples_per_s": throughput}


def _sample_names(out: str, storage_options: Optional[dict]) -> list[str]:
    try:
        return sorted(u.rsplit("/", 1)[-1] for u in storage.list_files(storage.join(out, SAMPLES_DIR), storage_options))
    except Exception:
        return []


def run_synth(kind: str, count: int, out: str, *, seed: int = 0, shard_size: int = 500, params: Optional[dict] = None,
              workers: Optional[int] = None, scheduler: Optional[str] = None, storage_options: Optional[dict] = None) -> dict:
    """Run :func:`generate_dataset` on a LocalCluster of ``workers`` or an existing ``scheduler``."""
    runner = make_task_runner(workers=workers, scheduler=scheduler)
    return generate_dataset.with_options(task_runner=runner)(
        kind=kind, count=count, out=out, seed=seed, shard_size=shard_size, params=params, storage_options=storage_options
    )

"""Synthetic data throughput: a plain single-process loop against the synth flow on 2 workers.

Prints images/s per core for each kind in a plain loop, then runs the same `lines` count through
the Prefect flow on a LocalCluster of 2 workers and prints the ratio to the loop (measured side by
side in this run) and the Prefect + Dask overhead per shard.

    python bench/bench_synth.py [--count 2000] [--shard-size 250] [--diagnose]
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


class CpuSampler:
    """Sums CPU seconds (user + system) of this process, its children and the Prefect server
    while a block runs, sampling every 0.25 s so short-lived worker processes are counted."""

    def __init__(self, server_pid: int | None):
        import psutil
        import threading

        self._psutil = psutil
        self.server_pid = server_pid
        self.last: dict[int, tuple[str, float]] = {}
        self.base: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _procs(self):
        me = self._psutil.Process()
        yield "flow process (flow, scheduler, nannies)", me
        for c in me.children(recursive=True):
            yield "dask workers", c
        if self.server_pid:
            try:
                yield "prefect server", self._psutil.Process(self.server_pid)
                for c in self._psutil.Process(self.server_pid).children(recursive=True):
                    yield "prefect server", c
            except self._psutil.Error:
                pass

    def sample(self, into: dict):
        for role, p in self._procs():
            try:
                t = p.cpu_times()
                into[p.pid] = (role, t.user + t.system)
            except self._psutil.Error:
                pass

    def _run(self):
        while not self._stop.wait(0.25):
            self.sample(self.last)

    def __enter__(self):
        base: dict = {}
        self.sample(base)
        self.base = {pid: v for pid, (_, v) in base.items()}
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.sample(self.last)

    def by_role(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid, (role, v) in self.last.items():
            out[role] = out.get(role, 0.0) + v - self.base.get(pid, 0.0)
        return out


def _server_pid() -> int | None:
    import json

    from flows.server import STATE

    try:
        return int(json.loads(STATE.read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return None


def _warm(kind: str, params: dict) -> None:
    make_generator(kind, params)(0, 0)


def _shard_job(kind: str, params: dict, start: int, stop: int, count: int, shard_size: int, url: str) -> None:
    res = build_shard(kind, 0, params, start, stop, count=count, shard_size=shard_size)
    storage.write_bytes_atomic(url, res.data)


def two_processes(kind: str, count: int, shard_size: int, out: str, params: dict) -> float:
    """The same shards on a 2-process pool with no Prefect or Dask: the machine's own ceiling
    for 2 processes (warm processes, so start-up is not counted)."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, wait

    with ProcessPoolExecutor(2, mp_context=mp.get_context("spawn"), initializer=_warm, initargs=(kind, params)) as ex:
        wait([ex.submit(time.sleep, 0.5) for _ in range(4)])  # both processes started and warm
        t0 = time.perf_counter()
        futs = [ex.submit(_shard_job, kind, params, s.start, s.stop, count, shard_size, storage.join(out, s.name))
                for s in plan_shards(count, shard_size)]
        for f in futs:
            f.result()
        return time.perf_counter() - t0


def bare_dask(kind: str, count: int, shard_size: int, out: str, params: dict, tuned: bool) -> tuple[float, float]:
    """The same shards on a bare Dask LocalCluster of 2 workers (no Prefect): (wall s, worker CPU s).

    ``tuned`` applies flows.cluster.tune_local_dask(); otherwise Dask's own defaults are used.
    """
    import dask
    import psutil
    from distributed import Client, LocalCluster

    from flows.cluster import tune_local_dask

    if tuned:
        tune_local_dask()
        settings = {}
    else:  # Dask's shipped defaults (the flow run above changed them in this process)
        env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
        settings = {"distributed.nanny.pre-spawn-environ": {**env, "MALLOC_TRIM_THRESHOLD_": 65536},
                    "distributed.worker.profile.enabled": True}
    with dask.config.set(settings):
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as cl, Client(cl) as c:
            c.gather(c.map(_warm, [kind, kind], [params, params], pure=False))
            kids = psutil.Process().children(recursive=True)
            base = {p.pid: sum(p.cpu_times()[:2]) for p in kids}
            t0 = time.perf_counter()
            futs = [c.submit(_shard_job, kind, params, s.start, s.stop, count, shard_size, storage.join(out, s.name), pure=False)
                    for s in plan_shards(count, shard_size)]
            c.gather(futs)
            wall = time.perf_counter() - t0
            cpu = sum(sum(p.cpu_times()[:2]) - base.get(p.pid, 0.0) for p in kids)
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--shard-size", type=int, default=250)
    ap.add_argument("--per-kind", type=int, default=100, help="images per kind for the plain-loop rates")
    ap.add_argument("--diagnose", action="store_true",
                    help="also run the shards on a bare Dask LocalCluster, with Dask's defaults and with ours")
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
        pool_s = two_processes("lines", args.count, args.shard_size, os.path.join(tmp, "pool"), params)
        t0 = time.perf_counter()
        with CpuSampler(_server_pid()) as cpu:
            res = run_synth("lines", args.count, os.path.join(tmp, "flow"), seed=0, shard_size=args.shard_size,
                            params=params, workers=2)
        total_s = time.perf_counter() - t0
        flow_s = res["seconds"]
        n_shards = res["shards"]
        shard_s = loop_s / n_shards
        overhead = (2 * flow_s - loop_s) / n_shards
        print(f"\n== lines: {args.count} images, {n_shards} shards of {args.shard_size} ==")
        print(f"plain loop, 1 process          {loop_s:7.1f} s  {args.count / loop_s:7.1f} images/s")
        print(f"2 plain processes, no Prefect/Dask {pool_s:7.1f} s  {args.count / pool_s:7.1f} images/s  ratio {loop_s / pool_s:.2f}x (machine ceiling)")
        print(f"flow, 2 workers (shards only)  {flow_s:7.1f} s  {args.count / flow_s:7.1f} images/s  ratio {loop_s / flow_s:.2f}x")
        print(f"flow, 2 workers (incl. cluster start, planning, commit) {total_s:7.1f} s  ratio {loop_s / total_s:.2f}x")
        print(f"mean shard compute {shard_s:.2f} s; Prefect+Dask overhead per shard ~{overhead:.2f} s worker time")
        print(f"CPU seconds during the flow run (plain loop used {loop_s:.1f} s on one core):")
        for role, sec in sorted(cpu.by_role().items()):
            print(f"  {role:42s} {sec:7.1f} s")
        if args.diagnose:
            # ours first: a Nanny started under Dask's defaults writes MALLOC_TRIM_THRESHOLD_ into
            # this process's own environment, which every later worker would inherit
            for tuned in (True, False):
                wall, wcpu = bare_dask("lines", args.count, args.shard_size, os.path.join(tmp, f"dask{tuned}"), params, tuned)
                print(f"bare Dask, 2 warm workers, {'our settings ' if tuned else 'Dask defaults'}: {wall:6.1f} s "
                      f"(ratio {loop_s / wall:.2f}x), worker CPU {wcpu:.1f} s")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()

"""Dask task runner factory: a LocalCluster by default, or a user's existing scheduler.

Workers are single-threaded processes with numeric libraries pinned to one thread each, so W
workers on W cores do not fight, and they inherit the Prefect API URL so task runs report to the
same server as the flow (without it every worker would start a temporary server of its own).

Two Dask defaults are changed for the local cluster we start, because they cost our image work
CPU that a plain process does not pay (measured with bench/bench_synth.py, see bench/RESULTS.md):

- ``MALLOC_TRIM_THRESHOLD_=65536`` (Dask sets it before spawning workers, to return memory to the
  OS sooner) also switches off glibc's dynamic mmap threshold, so every image-sized buffer is a
  fresh mmap with page faults: about 9% more worker CPU for the same lines
  (``bench/bench_synth.py --diagnose``: 51.6 s against 47.1 s).
- the statistical profiler (a stack sample every 10 ms, for the dashboard's Profile page).

Set ``OCR_DASK_KEEP_DEFAULTS=1`` to keep Dask's own settings.
"""
from __future__ import annotations

import os
from typing import Optional

from prefect_dask import DaskTaskRunner

THREAD_VARS = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def worker_env(threads: int = 1) -> dict[str, str]:
    """Environment for LocalCluster worker processes."""
    from prefect.settings import PREFECT_API_URL

    env = {var: str(threads) for var in THREAD_VARS}
    env["OCR_TORCH_THREADS"] = str(threads)
    env["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
    env["DASK_LOGGING__DISTRIBUTED"] = os.environ.get("DASK_LOGGING__DISTRIBUTED", "warning")
    api = PREFECT_API_URL.value() or os.environ.get("PREFECT_API_URL")
    if api:
        env["PREFECT_API_URL"] = api
    return env


def tune_local_dask() -> None:
    """Apply the local-cluster settings of the module docstring (idempotent, this process only)."""
    import dask

    if os.environ.get("OCR_DASK_KEEP_DEFAULTS"):
        return
    env = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}) or {})
    env.pop("MALLOC_TRIM_THRESHOLD_", None)
    dask.config.set({"distributed.nanny.pre-spawn-environ": env, "distributed.worker.profile.enabled": False})


def make_task_runner(
    workers: Optional[int] = None,
    scheduler: Optional[str] = None,
    *,
    threads_per_worker: int = 1,
    resources: Optional[dict] = None,
    memory_limit: str | float | None = "auto",
) -> DaskTaskRunner:
    """A DaskTaskRunner for ``scheduler`` (an address like ``tcp://host:8786``) or a LocalCluster.

    ``workers`` defaults to the number of CPU cores. ``resources`` (e.g. ``{"GPU": 1}``) is given
    to every local worker.
    """
    if workers is not None and scheduler:
        raise ValueError("give either --workers (a local cluster) or --scheduler (an existing cluster), not both")
    if scheduler:
        if "://" not in scheduler and ":" not in scheduler:
            raise ValueError(f"scheduler address {scheduler!r} should look like tcp://HOST:8786")
        return DaskTaskRunner(address=scheduler)
    n = workers if workers is not None else (os.cpu_count() or 1)
    if not isinstance(n, int) or n <= 0:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    kwargs = {
        "n_workers": n,
        "threads_per_worker": threads_per_worker,
        "processes": True,
        "dashboard_address": ":0",
        "env": worker_env(threads_per_worker),
        "memory_limit": memory_limit,
    }
    if resources:
        kwargs["resources"] = resources
    tune_local_dask()
    return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs=kwargs)


def runner_from_env() -> DaskTaskRunner:
    """The task runner a deployed flow uses: ``OCR_DASK_SCHEDULER`` (an existing cluster) or a
    LocalCluster of ``OCR_DASK_WORKERS`` workers (default: one per core)."""
    workers = os.environ.get("OCR_DASK_WORKERS")
    return make_task_runner(workers=int(workers) if workers else None, scheduler=os.environ.get("OCR_DASK_SCHEDULER") or None)

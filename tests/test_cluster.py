"""Cluster factory: argument checks and the Dask settings applied to the local cluster."""
from __future__ import annotations

import dask
import pytest

from flows.cluster import make_task_runner, tune_local_dask


def test_bad_arguments_are_clear():
    with pytest.raises(ValueError, match="either --workers"):
        make_task_runner(workers=2, scheduler="tcp://h:8786")
    with pytest.raises(ValueError, match="positive"):
        make_task_runner(workers=0)
    with pytest.raises(ValueError, match="tcp://HOST:8786"):
        make_task_runner(scheduler="nonsense")


def test_local_cluster_drops_malloc_trim_and_profiler(monkeypatch):
    monkeypatch.delenv("OCR_DASK_KEEP_DEFAULTS", raising=False)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536, "OMP_NUM_THREADS": 1},
                          "distributed.worker.profile.enabled": True}):
        runner = make_task_runner(workers=2)
        env = dask.config.get("distributed.nanny.pre-spawn-environ")
        assert "MALLOC_TRIM_THRESHOLD_" not in env and env["OMP_NUM_THREADS"] == 1  # the rest is kept
        assert dask.config.get("distributed.worker.profile.enabled") is False
        assert runner.cluster_kwargs["n_workers"] == 2 and runner.cluster_kwargs["threads_per_worker"] == 1


def test_keep_defaults_opt_out(monkeypatch):
    monkeypatch.setenv("OCR_DASK_KEEP_DEFAULTS", "1")
    with dask.config.set({"distributed.nanny.pre-spawn-environ": {"MALLOC_TRIM_THRESHOLD_": 65536}}):
        tune_local_dask()
        assert dask.config.get("distributed.nanny.pre-spawn-environ") == {"MALLOC_TRIM_THRESHOLD_": 65536}

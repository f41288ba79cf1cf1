"""Train flow: one long training task on a Dask worker (a GPU worker when the cluster has one).

The task streams metrics to the Prefect UI while it runs: a progress artifact (steps), a table
artifact of the validation curve re-published after every validation, and a markdown summary with
the checkpoint location at the end.
"""
from __future__ import annotations

import os
import time
import uuid
from typing import Any, Optional

import dask
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE

from flows import artifacts
from flows.cluster import make_task_runner, runner_from_env


@task(name="cluster-has-gpu", cache_policy=NO_CACHE)
def cluster_has_gpu() -> bool:
    """True when some worker of the cluster declares a ``GPU`` resource."""
    from distributed import get_client

    info = get_client().scheduler_info(n_workers=-1)
    return any((w.get("resources") or {}).get("GPU", 0) >= 1 for w in info.get("workers", {}).values())


class _StepRelay:
    """Training steps from the worker to the flow process's progress bar, through a Dask queue.

    The training task runs in a worker process; the command line's progress bar lives in the
    flow process. The task puts ``(step, total)`` on a named ``distributed.Queue`` (at most about
    twice a second); the flow drains it while it waits for the task.
    """

    def __init__(self, name: Optional[str]):
        self.name, self.queue, self.last_put = name, None, 0.0

    def put(self, step: int, total: int, force: bool = False) -> None:
        if not self.name:
            return
        now = time.monotonic()
        if not force and now - self.last_put < 0.5:
            return
        self.last_put = now
        try:
            if self.queue is None:
                from distributed import Queue

                self.queue = Queue(self.name)
            self.queue.put([int(step), int(total)])
        except Exception:  # a progress bar never stops training
            self.name = None


def _follow(fut, queue_name: str) -> None:
    """Feed the local progress callback from the training task's queue until ``fut`` is done."""
    from distributed import Queue

    from prefect.context import FlowRunContext

    client = FlowRunContext.get().task_runner.client
    q = Queue(queue_name, client=client)
    done, started = 0, False

    def show(step: int, total: int) -> None:
        nonlocal done, started
        if not started:
            artifacts.emit({"event": "start", "done": step, "total": total})
            started, done = True, step
        elif step > done:
            artifacts.emit({"event": "advance", "n": step - done, "done": step, "total": total})
            done = step

    wrapped = fut.wrapped_future
    while True:  # non-blocking reads: a timed-out queue get is logged as an error by the scheduler
        finished = wrapped.done()
        try:
            items = q.get(batch=True)
        except Exception:  # the cluster is going away: the task's own result tells the rest
            break
        for item in items:
            show(*item)
        if finished:
            break
        time.sleep(0.5)


@task(name="train-recognizer", cache_policy=NO_CACHE)
def train_task(config: dict, data: str, out: str, init: Optional[str] = None,
               storage_options: Optional[dict] = None, val_data: Optional[str] = None,
               progress_queue: Optional[str] = None) -> dict:
    """Run :func:`ocrcore.train.train` here, publishing progress and the validation curve."""
    from ocrcore.train import train

    log = get_run_logger()
    state: dict[str, Any] = {"curve": [], "progress": None, "total": None, "last_pct": -1.0}
    relay = _StepRelay(progress_queue)

    def on_event(ev: dict) -> None:
        kind = ev.get("event")
        if kind in ("start", "step"):
            relay.put(ev["step"], ev["max_steps"], force=kind == "start")
        if kind == "start":
            state["total"] = ev.get("max_steps") or ev.get("total_steps")
            state["progress"] = artifacts.create_progress_artifact(
                progress=0.0, key="train-progress", description="training steps done (%)")
            log.info("training start: %s", {k: v for k, v in ev.items() if k != "event"})
        elif kind == "step" and state["total"] and state["progress"] is not None:
            pct = round(100.0 * ev["step"] / state["total"], 0)
            if pct > state["last_pct"]:
                state["last_pct"] = pct
                artifacts.update_progress_artifact(state["progress"], progress=min(pct, 100.0))
        elif kind == "val":
            row = {k: ev.get(k) for k in ("step", "epoch", "train_loss", "val_loss", "cer", "wer", "seq_acc", "lr", "best") if k in ev}
            state["curve"].append(row)
            artifacts.table(state["curve"], key="train-validation-curve", description="validation metrics during training")
            log.info("validation: %s", row)
        elif kind in ("warning", "resume", "done"):
            log.info("%s: %s", kind, {k: v for k, v in ev.items() if k != "event"})

    res = train(config, data, out=out, val_data=val_data, init=init, progress=on_event, storage_options=storage_options)
    relay.put(res.step, state["total"] or res.step, force=True)
    if state["progress"] is not None:
        artifacts.update_progress_artifact(state["progress"], progress=100.0)
    return {"out": res.out, "best_metrics": res.best_metrics, "step": res.step, "epochs": res.epochs,
            "stopped_early": res.stopped_early, "n_train": res.n_train, "n_val": res.n_val,
            "samples_per_s": res.samples_per_s, "elapsed_s": res.elapsed_s, "device": res.device, "amp": res.amp,
            "resumed_from_step": res.resumed_from_step, "skipped": dict(res.skipped)}


@flow(name="train-recognizer", log_prints=True, task_runner=runner_from_env())
def train_model(data: str, out: str, config: Optional[dict] = None, init: Optional[str] = None,
                storage_options: Optional[dict] = None, val_data: Optional[str] = None) -> dict:
    """Train a CRNN+CTC recognizer on ``data`` into ``out`` (resumes from ``out/last``)."""
    log = get_run_logger()
    config = dict(config or {})
    from ocrcore.train import TrainConfig

    TrainConfig.from_dict(config)  # bad keys fail here, before any work is scheduled
    gpu = cluster_has_gpu.submit().result()
    log.info("training on a %s worker", "GPU" if gpu else "CPU")
    queue_name = f"ocr-train-progress-{uuid.uuid4().hex}" if artifacts.hook_active() else None
    with dask.annotate(resources={"GPU": 1}) if gpu else _nullcontext():
        fut = train_task.submit(config, data, out, init, storage_options, val_data, progress_queue=queue_name)
    if queue_name:
        _follow(fut, queue_name)
    res = fut.result()
    m = res["best_metrics"] or {}
    artifacts.markdown(
        f"# Training finished\n\n| | |\n|---|---|\n| model | `{out}` |\n| device | {res['device']} (AMP {res['amp']}) |\n"
        f"| steps | {res['step']} ({res['epochs']:.1f} epochs) |\n| train / val samples | {res['n_train']} / {res['n_val']} |\n"
        f"| best CER | {100 * m.get('cer', float('nan')):.2f}% |\n| best WER | {100 * m.get('wer', float('nan')):.2f}% |\n"
        f"| sequence accuracy | {100 * m.get('seq_acc', float('nan')):.2f}% |\n| throughput | {res['samples_per_s']:.1f} samples/s |\n"
        f"| stopped early | {res['stopped_early']} |\n", key="train-summary", description="training summary")
    return res


class _nullcontext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def run_train(data: str, out: str, *, config: Optional[dict] = None, init: Optional[str] = None,
              workers: Optional[int] = None, scheduler: Optional[str] = None,
              storage_options: Optional[dict] = None, val_data: Optional[str] = None) -> dict:
    """Train on an existing cluster, or on a local one-worker cluster using every core
    (with a ``GPU`` resource when this machine has CUDA)."""
    config = dict(config or {})
    resources = None
    if not scheduler:
        import torch

        if torch.cuda.is_available():
            resources = {"GPU": 1}
        config.setdefault("num_threads", os.cpu_count() or 1)
    runner = make_task_runner(workers=None if scheduler else (workers or 1), scheduler=scheduler, resources=resources)
    return train_model.with_options(task_runner=runner)(data=data, out=out, config=config, init=init,
                                                        storage_options=storage_options, val_data=val_data)

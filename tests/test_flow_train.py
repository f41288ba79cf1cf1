"""The train flow on a Dask worker with a real Prefect API, then `ocr eval --split val`."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ocrcore import storage

pytestmark = pytest.mark.slow


def test_train_flow_and_eval_on_recorded_split(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.artifacts import progress_hook
    from flows.synth import run_synth
    from flows.train import run_train

    data = str(tmp_path / "cap")
    run_synth("captcha", 80, data, seed=11, shard_size=40, workers=1)
    out = str(tmp_path / "model")
    cfg = {"arch": "crnn_small", "max_steps": 12, "batch_size": 16, "val_every": 6, "seed": 0, "num_threads": 1,
           "log_every": 1}
    events = []
    with progress_hook(events.append):  # what the command line's progress bar is fed, from the worker
        res = run_train(data, out, config=cfg)
    assert events[0]["event"] == "start" and events[0]["total"] == 12
    assert events[0]["done"] + sum(e["n"] for e in events[1:]) == 12 == events[-1]["done"]
    assert res["step"] == 12 and res["n_val"] == 8 and res["n_train"] == 72 and res["device"] == "cpu"
    assert storage.exists(f"{out}/model.safetensors") and storage.exists(f"{out}/model.json")
    model_json = storage.read_json(f"{out}/model.json")
    assert model_json["training"]["split"]["val_fraction"] == 0.1
    with get_client(sync_client=True) as client:
        arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["train-validation-curve"])))
        curve = max(arts, key=lambda a: a.created).data
        curve = json.loads(curve) if isinstance(curve, str) else curve
        assert [r["step"] for r in curve] == [6, 12]
        summary = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["train-summary"])))
        assert out in max(summary, key=lambda a: a.created).data

    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    preds = str(tmp_path / "preds.jsonl")
    r = subprocess.run([exe, "eval", "--model", out, "--data", data, "--split", "val", "--predictions", preds],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "CER" in r.stdout and "WER" in r.stdout and "sequence accuracy" in r.stdout
    metrics = json.loads(r.stdout.strip().splitlines()[-1])
    assert metrics["n"] == 8
    assert len(open(preds).read().splitlines()) == 8


def test_train_cli_rejects_bad_input(tmp_path, prefect_api):
    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, msg in [
        (["train", "--data", str(empty), "--out", str(tmp_path / "m")], "is empty"),
        (["train", "--data", str(empty), "--out", str(tmp_path / "m"), "--config", '{"bogus": 1}'], "bogus"),
        (["train", "--data", str(empty), "--out", str(tmp_path / "m"), "--val-fraction", "1.5"], "val_fraction"),
        (["train", "--data", str(empty), "--out", str(tmp_path / "m"), "--init", str(tmp_path / "nope")], "no model there"),
        (["train", "--data", str(empty), "--out", str(tmp_path / "m"), "--teacher", str(tmp_path / "nope")],
         "--teacher"),
    ]:
        r = subprocess.run([exe, *args], capture_output=True, text=True, timeout=120, env=env)
        assert r.returncode == 2 and msg in r.stderr and "Traceback" not in r.stderr, (args, r.stderr)
    pickle_model = tmp_path / "pm"
    pickle_model.mkdir()
    (pickle_model / "model.json").write_text("{}")
    (pickle_model / "model.safetensors").write_bytes(b"\x80\x04\x95" + b"\x00" * 64)
    r = subprocess.run([exe, "eval", "--model", str(pickle_model), "--data", str(empty)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr


def test_train_process_killed_resumes_to_the_same_model(prefect_api, tmp_path):
    """Issue 3's check with a real kill: `ocr train` SIGKILLed half way (its Dask worker with it,
    no process left behind), run again with the same command, ends with the same weights,
    validation curve and metrics as a run never interrupted."""
    import re

    import torch
    from conftest import kill_when

    from flows.synth import run_synth
    from ocrcore.model.checkpoint import read_tensors
    from ocrcore.train import train

    data = str(tmp_path / "cap")
    run_synth("captcha", 80, data, seed=11, shard_size=40, workers=1)
    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    cfg = json.dumps({"arch": "crnn_compact", "model": {"hidden": 32}, "max_steps": 24, "batch_size": 16,
                      "val_every": 4, "seed": 0, "num_threads": 1})

    def cmd(out):
        return [exe, "train", "--data", data, "--out", out, "--init", "none", "--workers", "1", "--config", cfg]

    killed = str(tmp_path / "killed")
    p = subprocess.Popen(cmd(killed), env=env, start_new_session=True, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    state = os.path.join(killed, "last", "training_state.json")
    kill_when(p, lambda: os.path.exists(state) and json.load(open(state))["step"] >= 8)
    # the rerun resumes from the newer of the two checkpoint slots (last-next/ is whole while last/ is rewritten)
    at_kill = max(json.load(open(os.path.join(killed, slot, "training_state.json")))["step"]
                  for slot in ("last", "last-next") if os.path.exists(os.path.join(killed, slot, "training_state.json")))
    assert 8 <= at_kill < 24

    r = subprocess.run(cmd(killed), env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert int(re.search(r'"resumed_from_step": (\d+)', r.stdout).group(1)) == at_kill
    straight = str(tmp_path / "straight")  # the same settings, never interrupted, in this process
    train({**json.loads(cfg), "val_fraction": 0.1, "split_seed": 0}, data, out=straight)

    for name in ("model.safetensors", "last/model.safetensors", "last/training_state.safetensors"):
        a, b = read_tensors(os.path.join(killed, name)), read_tensors(os.path.join(straight, name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a), name
    ta, tb = (storage.read_json(os.path.join(d, "model.json"))["training"] for d in (killed, straight))
    assert ta["history"] == tb["history"] and ta["metrics"] == tb["metrics"] and ta["steps"] == tb["steps"]


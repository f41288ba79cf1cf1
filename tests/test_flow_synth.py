"""The synth flow end to end: real Prefect API, real Dask worker processes, real HTTP S3."""
from __future__ import annotations

import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
from PIL import Image

from ocrcore import datasets, storage
from ocrcore.synth import make_generator, validate_params

pytestmark = pytest.mark.slow

LINE_PARAMS = {"min_chars": 5, "max_chars": 20, "degrade": 0.3}


def _digest(url: str) -> dict[str, str]:
    return {u.rsplit("/", 1)[-1]: hashlib.sha256(storage.read_bytes(u)).hexdigest()
            for u in storage.list_files(url) if u.endswith(".parquet")}


def _expected(kind, seed, count, params):
    gen = make_generator(kind, validate_params(kind, params))
    return [(s.id, s.text) for s in (gen(seed, i) for i in range(count))]


def test_local_and_s3_two_workers_resume_and_determinism(prefect_api, tmp_path, s3_bucket):
    from flows.synth import run_synth

    # the acceptance size: 2,000 line images, to local disk and to S3, with 2 workers
    count, seed = 2000, 7
    want = _expected("lines", seed, count, LINE_PARAMS)
    for out in (str(tmp_path / "a"), f"{s3_bucket}/lines/a"):
        res = run_synth("lines", count, out, seed=seed, shard_size=500, params=LINE_PARAMS, workers=2)
        assert res["written"] == 4 and res["skipped"] == 0
        rows = list(datasets.iter_records(out, columns=["id", "text", "image", "chars", "width", "height"]))
        assert [(r["id"], r["text"]) for r in rows] == want
        assert all(r["image"]["bytes"][:8] == b"\x89PNG\r\n\x1a\n" and r["image"]["path"].endswith(".png") for r in rows)
        assert all(len(r["chars"]) == len(r["text"].replace(" ", "")) for r in rows)
        # the datasets-style image struct decodes to an image of the recorded size
        for r in rows[::250]:
            img = Image.open(io.BytesIO(r["image"]["bytes"]))
            assert img.size == (r["width"], r["height"])
        table = pq.read_table(storage.get_fs(out)[0].open(storage.get_fs(f"{out}/part-00000.parquet")[1], "rb"))
        assert table.num_rows == 500 and table.schema.field("image").type.names == ["bytes", "path"]
        assert storage.exists(f"{out}/_SUCCESS")
        manifest = storage.read_json(f"{out}/_manifest.json")
        assert manifest["rows"] == count and len(manifest["shards"]) == 4
        before = _digest(out)
        # a rerun rewrites nothing
        res2 = run_synth("lines", count, out, seed=seed, shard_size=500, params=LINE_PARAMS, workers=2)
        assert res2["written"] == 0 and res2["skipped"] == 4
        assert _digest(out) == before
    # same seed into a new folder: identical files; local and S3 identical too
    b = str(tmp_path / "b")
    run_synth("lines", count, b, seed=seed, shard_size=500, params=LINE_PARAMS, workers=2)
    assert _digest(b) == _digest(str(tmp_path / "a")) == _digest(f"{s3_bucket}/lines/a")


def test_crash_resume_recomputes_only_missing_shards(prefect_api, tmp_path):
    from flows.synth import run_synth

    out = str(tmp_path / "cap")
    run_synth("captcha", 60, out, seed=1, shard_size=20, workers=1)
    full = _digest(out)
    # simulate a crash after the first shard: later shards and _SUCCESS never written
    for name in ("part-00001.parquet", "part-00002.parquet", "_SUCCESS", "_manifest.json"):
        os.remove(os.path.join(out, name))
    mtime0 = os.stat(os.path.join(out, "part-00000.parquet")).st_mtime_ns
    res = run_synth("captcha", 60, out, seed=1, shard_size=20, workers=1)
    assert res["written"] == 2 and res["skipped"] == 1
    assert os.stat(os.path.join(out, "part-00000.parquet")).st_mtime_ns == mtime0
    assert _digest(out) == full


def test_rerun_with_other_parameters_is_refused(prefect_api, tmp_path):
    from flows.synth import run_synth

    out = str(tmp_path / "x")
    run_synth("captcha", 10, out, seed=1, shard_size=10, workers=1)
    with pytest.raises(ValueError, match="different dataset"):
        run_synth("captcha", 10, out, seed=2, shard_size=10, workers=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_external_scheduler_and_workers(prefect_api, tmp_path):
    """A user's existing cluster: `dask scheduler` and `dask worker` started as separate processes."""
    from flows.synth import run_synth

    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    env = dict(os.environ, PREFECT_API_URL=prefect_api, OMP_NUM_THREADS="1")
    dask = os.path.join(os.path.dirname(sys.executable), "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        procs.append(subprocess.Popen([dask, "worker", addr, "--nworkers", "2", "--nthreads", "1", "--no-dashboard"],
                                      env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(addr, timeout=5) as c:
                    if len(c.scheduler_info()["workers"]) == 2:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "external Dask cluster did not come up"
            time.sleep(0.5)
        out = str(tmp_path / "ext")
        res = run_synth("captcha", 40, out, seed=3, shard_size=10, scheduler=addr)
        assert res["written"] == 4
        assert datasets.count_records(out) == 40
        assert [r["id"] for r in datasets.iter_records(out, columns=["id"])] == [i for i, _ in _expected("captcha", 3, 40, {})]
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            p.wait(timeout=30)


def _ocr(*args, env=None, timeout=300):
    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=timeout, env=env)


def test_cli_synth_and_bad_input(prefect_api, tmp_path):
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    out = str(tmp_path / "cli")
    r = _ocr("synth", "captcha", "--count", "30", "--out", out, "--shard-size", "15", "--workers", "2", env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["written"] == 2
    assert datasets.count_records(out) == 30
    bad = [
        (["synth", "captcha", "--count", "0", "--out", out], "count must be a positive integer"),
        (["synth", "captcha", "--count", "-3", "--out", out], "count must be a positive integer"),
        (["synth", "captcha", "--count", "5", "--out", "nosuch://x"], "cannot use storage URL"),
        (["synth", "captcha", "--count", "5", "--out", out, "--charset", ""], "charset"),
        (["synth", "captcha", "--count", "5", "--out", out, "--param", "nonsense=1"], "nonsense"),
        (["synth", "lines", "--count", "5", "--out", out, "--param", 'fonts=["/nonexistent/font.ttf"]'], "/nonexistent/font.ttf"),
    ]
    for args, msg in bad:
        r = _ocr(*args, env=env, timeout=120)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert msg in r.stderr, (args, r.stderr)
        assert "Traceback" not in r.stderr


def test_cli_unreachable_s3(tmp_path):
    env = dict(os.environ, AWS_ENDPOINT_URL="http://127.0.0.1:9", AWS_ACCESS_KEY_ID="k", AWS_SECRET_ACCESS_KEY="s")
    r = _ocr("synth", "captcha", "--count", "5", "--out", "s3://bucket/x", env=env, timeout=120)
    assert r.returncode == 2 and "not writable" in r.stderr and "Traceback" not in r.stderr
    assert "s\n" not in r.stderr and "AWS_SECRET_ACCESS_KEY=" not in r.stderr


def test_no_server_gives_prefects_temporary_server_time_to_start():
    """``--no-server`` runs on the temporary server Prefect starts itself, which it waits 20 s
    for by default: on a busy two-core machine it answered later and ``ocr synth --no-server``
    failed before it began. The CLI gives it 120 s (a user's own setting kept), set before
    Prefect reads its settings."""
    code = ("import argparse, os; from ocrcore.cli import _prefect_env; "
            "_prefect_env(argparse.Namespace(no_server=True)); "
            "from prefect.settings import PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS as S; print(S.value())")
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS")}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and r.stdout.split()[-1] == "120", r.stderr[-2000:]
    env["PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"] = "45"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0 and r.stdout.split()[-1] == "45", r.stderr[-2000:]


def test_artifacts_reach_the_prefect_api(prefect_api, tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    from flows.synth import run_synth

    out = str(tmp_path / "art")
    run_synth("captcha", 20, out, seed=5, shard_size=10, workers=1)
    with get_client(sync_client=True) as client:
        def latest(key):
            arts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))
            assert arts, f"no artifact {key}"
            return max(arts, key=lambda a: a.created)

        summary = latest("synth-captcha-summary")
        assert "| samples | 20 |" in summary.data and out in summary.data and "_samples" in summary.data
        table = latest("synth-captcha-shards")
        rows = json.loads(table.data) if isinstance(table.data, str) else table.data
        assert sorted(r["shard"] for r in rows) == ["part-00000.parquet", "part-00001.parquet"]
        progress = latest("synth-captcha-progress")
        assert float(progress.data) == 100.0

"""The preprocess flow over a small archive: every page in pages/ or errors/, lines in the dataset."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile

import pyarrow.parquet as pq
import pytest

from ocrcore import datasets, storage
from ocrcore.imageio import encode_png
from ocrcore.synth import generate

pytestmark = pytest.mark.slow


def _pages_dir(tmp_path, n=2):
    src = tmp_path / "in"
    src.mkdir()
    truth = {}
    for i in range(n):
        s = generate("pages", 3, i, {"dpi": 100, "degrade": 0.2})
        (src / f"p{i}.png").write_bytes(encode_png(s.image))
        truth[f"p{i}.png"] = s
    (src / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        data = encode_png(generate("pages", 3, 9, {"dpi": 100, "columns": 1}).image)
        ti = tarfile.TarInfo("scans/t0.png")
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    (src / "batch.tar").write_bytes(buf.getvalue())
    return src, truth


def test_preprocess_flow_accounts_for_every_page(prefect_api, tmp_path):
    from flows.preprocess import run_preprocess

    from test_recognize import _spread_with_bar

    src, truth = _pages_dir(tmp_path)
    (src / "spread.png").write_bytes(encode_png(_spread_with_bar()))
    out = str(tmp_path / "out")
    res = run_preprocess(str(src), out, shard_size=2, workers=2, save_binarized=True)
    assert res["pages"] == 5 and res["written"] == 3
    pages = pq.read_table(f"{out}/pages").to_pylist()
    errors = pq.read_table(f"{out}/errors").to_pylist()
    assert len(pages) == 4 and len(errors) == 1
    assert errors[0]["page_id"].endswith("broken.png#1") and errors[0]["error_type"] in ("truncated_image", "corrupt_image")
    lines = list(datasets.iter_records(f"{out}/lines", columns=["id", "page_id", "bbox", "line_no", "width", "height"]))
    by_page = {}
    for r in lines:
        by_page.setdefault(r["page_id"].rsplit("/", 1)[-1], []).append(r)
    for name, s in truth.items():
        found = by_page[f"{name}#1"]
        # most true lines are found (the benchmark checks the exact targets)
        assert len(found) >= 0.8 * len(s.page.lines)
        assert [r["line_no"] for r in found] == list(range(len(found)))
    assert any(k.endswith("t0.png#1") for k in by_page)
    # two facing pages and a reversed bar: read as recognition reads them (test_recognize checks the rows)
    spread = next(p for p in pages if p["page_id"].endswith("spread.png#1"))
    assert [p["kind"] for p in spread["parts"]] == ["left", "bar", "right"]
    assert spread["lines"] == len(by_page["spread.png#1"]) == sum(p["lines"] for p in spread["parts"])
    assert len(os.listdir(f"{out}/binarized")) == 4
    assert storage.exists(f"{out}/_SUCCESS")
    again = run_preprocess(str(src), out, shard_size=2, workers=1, save_binarized=True)
    assert again["written"] == 0 and again["skipped"] == 3
    # other shards under the same names would hold other pages: refused, not skipped
    with pytest.raises(ValueError, match="another run.*shard_size was 2, now 1"):
        run_preprocess(str(src), out, shard_size=1, workers=1, save_binarized=True)


def test_segment_cli_prints_lines_and_overlay(tmp_path):
    s = generate("pages", 4, 0, {"dpi": 100, "columns": 1})
    img = tmp_path / "page.png"
    img.write_bytes(encode_png(s.image))
    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    r = subprocess.run([exe, "segment", str(img), "--overlay", str(tmp_path / "o.png")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "lines" in r.stdout.splitlines()[0] and (tmp_path / "o.png").stat().st_size > 0
    r = subprocess.run([exe, "segment", str(tmp_path / "missing.png")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "error:" in r.stderr and "Traceback" not in r.stderr
    # piped into a reader that stops early: no traceback about the broken pipe
    r = subprocess.run(f"'{exe}' segment '{img}' | head -1", shell=True, capture_output=True, text=True, timeout=120)
    assert r.stdout.count("\n") == 1 and "Traceback" not in r.stderr and "BrokenPipe" not in r.stderr, r.stderr

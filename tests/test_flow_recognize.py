"""The recognize flow over a mixed archive on S3 with bad members: nothing lost, output reads back."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import zipfile

import pyarrow.parquet as pq
import pytest
from PIL import Image

from ocrcore import storage
from ocrcore.imageio import encode_png
from ocrcore.synth import generate

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """A real checkpoint (random weights): the flow's mechanics do not depend on accuracy."""
    import torch

    from ocrcore.model.charset import Charset
    from ocrcore.model.checkpoint import save_model
    from ocrcore.model.crnn import build_model
    from ocrcore.synth.corpus import DEFAULT_LINE_CHARSET

    torch.manual_seed(0)
    cs = Charset(sorted(set(DEFAULT_LINE_CHARSET)))
    model = build_model({"arch": "crnn_small", "num_classes": len(cs.chars) + 1})
    url = str(tmp_path_factory.mktemp("m") / "tiny")
    save_model(url, model, cs)
    return url


def _page_png(i, **kw):
    return encode_png(generate("pages", 8, i, {"dpi": 60, "degrade": 0.1, **kw}).image)


def _archive(root: str):
    """Pages as files, tar, zip, multi-page TIFF and PDF, plus bad members."""
    storage.write_bytes_atomic(f"{root}/a/p0.png", _page_png(0))
    storage.write_bytes_atomic(f"{root}/a/empty.png", b"")
    storage.write_bytes_atomic(f"{root}/a/text.png", b"hello, not an image")
    storage.write_bytes_atomic(f"{root}/a/trunc.png", _page_png(1)[:200])
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for name, data in (("x/p2.png", _page_png(2)), ("../evil.png", _page_png(3))):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))
    storage.write_bytes_atomic(f"{root}/b.tar", buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("z/p4.png", _page_png(4))
    storage.write_bytes_atomic(f"{root}/c.zip", buf.getvalue())
    frames = [Image.open(io.BytesIO(_page_png(i))) for i in (5, 6)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:])
    storage.write_bytes_atomic(f"{root}/d.tif", buf.getvalue())
    buf = io.BytesIO()
    frames[0].convert("RGB").save(buf, format="PDF", save_all=True, append_images=[frames[1].convert("RGB")])
    storage.write_bytes_atomic(f"{root}/e.pdf", buf.getvalue())
    # 1 + 1 (tar) + 1 (zip) + 2 (tiff) + 2 (pdf) good pages; 4 bad inputs
    return 7, {"empty_file", "not_an_image", "unsafe_member"}


def test_recognize_s3_archive_every_page_once(prefect_api, s3_bucket, tiny_model):
    from flows.recognize import run_recognize

    root = f"{s3_bucket}/scans"
    good, bad_types = _archive(root)
    out = f"{s3_bucket}/results"
    res = run_recognize(root, out, model=tiny_model, shard_size=3, workers=2)
    fs, path = storage.get_fs(out)
    results = pq.read_table(fs.open(f"{path}/part-00000.parquet", "rb"))
    rows = []
    for name in sorted(n.rsplit("/", 1)[-1] for n in fs.ls(path, detail=False) if n.endswith(".parquet")):
        rows += pq.read_table(fs.open(f"{path}/{name}", "rb")).to_pylist()
    errors = []
    for name in sorted(fs.ls(f"{path}/errors", detail=False)):
        errors += pq.read_table(fs.open(name, "rb")).to_pylist()
    ids = [r["page_id"] for r in rows] + [e["page_id"] for e in errors]
    assert len(ids) == len(set(ids)) == res["pages"] == good + 4
    assert len(rows) == good
    assert bad_types <= {e["error_type"] for e in errors}
    assert {"truncated_image", "corrupt_image"} & {e["error_type"] for e in errors}
    assert "lines" in results.schema.names and results.schema.field("lines").type.value_type.get_field_index("words") >= 0
    assert len(fs.ls(f"{path}/hocr")) == good
    assert storage.exists(f"{out}/_SUCCESS") and storage.read_json(f"{out}/_manifest.json")["pages"] == good + 4
    again = run_recognize(root, out, model=tiny_model, shard_size=3, workers=1)
    assert again["written"] == 0


def test_resume_and_incremental_equal_undisturbed(prefect_api, tmp_path, tiny_model):
    from flows.recognize import run_recognize

    src = tmp_path / "in"
    for i in range(4):
        storage.write_bytes_atomic(str(src / f"p{i}.png"), _page_png(10 + i, columns=1))
    full, part = str(tmp_path / "full"), str(tmp_path / "part")
    run_recognize(str(src), full, model=tiny_model, shard_size=2, workers=1)
    run_recognize(str(src), part, model=tiny_model, shard_size=2, workers=1)
    os.remove(f"{part}/part-00001.parquet")  # a crash before the second shard committed
    os.remove(f"{part}/_SUCCESS")
    res = run_recognize(str(src), part, model=tiny_model, shard_size=2, workers=1)
    assert res["written"] == 1 and res["skipped"] == 1
    for name in ("part-00000.parquet", "part-00001.parquet"):
        assert open(f"{full}/{name}", "rb").read() == open(f"{part}/{name}", "rb").read()
    # a rerun that would skip shards written by another run is refused, not silently mixed
    with pytest.raises(ValueError, match="another run.*model was"):
        run_recognize(str(src), full, model=None, shard_size=2, workers=1)
    # nightly-bucket case: new pages arrive; only they are processed
    storage.write_bytes_atomic(str(src / "a9.png"), _page_png(19, columns=1))
    with pytest.raises(ValueError, match="pages under the input changed.*part-00000"):
        run_recognize(str(src), full, model=tiny_model, shard_size=2, workers=1)  # a9 sorts first
    inc = run_recognize(str(src), part, model=tiny_model, shard_size=2, workers=1, incremental=True)
    assert inc["pages"] == 1 and inc["written"] == 1
    assert pq.read_table(f"{part}/part-00002.parquet").column("page_id").to_pylist()[0].endswith("a9.png#1")
    # ocr hocr renders a stored row
    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    r = subprocess.run([exe, "hocr", f"{part}/part-00002.parquet"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and "ocr_page" in r.stdout, r.stderr


def test_worker_killed_mid_run_output_equals_undisturbed(prefect_api, tmp_path, tiny_model):
    """A Dask worker process killed while shards run: Dask reruns its work, output is identical."""
    import signal

    import psutil

    from flows.artifacts import progress_hook
    from flows.recognize import run_recognize

    src = tmp_path / "in"
    for i in range(6):
        storage.write_bytes_atomic(str(src / f"p{i}.png"), _page_png(30 + i, columns=1))
    calm = str(tmp_path / "calm")
    run_recognize(str(src), calm, model=tiny_model, shard_size=1, workers=2, write_hocr=False)

    killed = []

    def kill_one(ev):
        if ev["event"] == "advance" and not killed:
            # Dask worker processes are spawned children ("spawn_main"); the resource tracker is not one
            workers = [p for p in psutil.Process().children(recursive=True) if "spawn_main" in " ".join(p.cmdline())]
            if workers:
                workers[0].send_signal(signal.SIGKILL)
                killed.append(workers[0].pid)

    hit = str(tmp_path / "hit")
    with progress_hook(kill_one):
        res = run_recognize(str(src), hit, model=tiny_model, shard_size=1, workers=2, write_hocr=False)
    assert killed, "no worker process was found to kill"
    assert res["written"] == 6
    for i in range(6):
        name = f"part-{i:05d}.parquet"
        assert open(f"{calm}/{name}", "rb").read() == open(f"{hit}/{name}", "rb").read()


def test_upside_down_page_is_read_upright_by_the_flow(prefect_api, tmp_path):
    """The shipped model in the flow: a page fed upside down reads like its upright twin, its
    boxes on the page as given, and the summary counts it."""
    from flows.recognize import run_recognize
    from ocrcore.orientation import boxes_to_original
    from ocrcore.serialize.parquet import iter_pages as iter_results

    img = generate("pages", 9, 1, {"dpi": 120}).image
    src = tmp_path / "in"
    storage.write_bytes_atomic(str(src / "a_upright.png"), encode_png(img))
    storage.write_bytes_atomic(str(src / "b_fed_upside_down.png"), encode_png(img.rotate(180)))
    res = run_recognize(str(src), str(tmp_path / "out"), shard_size=2, workers=1)
    assert res["recognised"] == 2 and res["turned"] == 1 and res["lines_dropped"] == 0, res
    assert storage.read_json(str(tmp_path / "out" / "_manifest.json"))["params"]["min_line_confidence"] == 0.5
    up, down = sorted(iter_results(str(tmp_path / "out")), key=lambda p: p.page_id)
    assert down.text == up.text and len(up.text) > 500
    mapped = boxes_to_original([c.bbox for ln in down.lines for w in ln.words for c in w.chars], 180, img.width, img.height)
    assert mapped.tolist() == [list(c.bbox) for ln in up.lines for w in ln.words for c in w.chars]
    # from the command line with the check off, the page fed upside down is read as given: noise;
    # with a higher confidence floor, the lines under it are left out on the workers and counted
    import json

    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    r = subprocess.run([exe, "recognize", str(src), "--out", str(tmp_path / "as_given"), "--no-orient", "--workers", "1",
                        "--min-line-confidence", "0.9", "--no-server"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["turned"] == 0
    up2, down2 = sorted(iter_results(str(tmp_path / "as_given")), key=lambda p: p.page_id)
    assert [ln.text for ln in up2.lines] == [ln.text for ln in up.lines if ln.confidence >= 0.9]
    assert down2.text != up.text and all(ln.confidence >= 0.9 for ln in down2.lines)
    low_up = sum(ln.confidence < 0.9 for ln in up.lines)
    assert summary["lines_dropped"] > low_up, summary  # some of the page upside down, too
    r = subprocess.run([exe, "recognize", str(src), "--out", str(tmp_path / "bad"), "--min-line-confidence", "2",
                        "--no-server"], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--min-line-confidence must be from 0 to 1" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr


def test_a_page_whose_every_line_falls_below_the_floor_is_kept_empty_and_counted(prefect_api, tmp_path):
    """A photograph alone on a page is read as lines of garbage; with the floor above all of them
    the page is still in the results, with no lines, and the summary counts it (and the flow
    logs it), while a page of text keeps its lines."""
    from flows.recognize import run_recognize
    from ocrcore.serialize.parquet import iter_pages as iter_results

    s = generate("pages", 31, 1, {"dpi": 200, "figures": 1.0})
    x0, y0, x1, y1 = s.meta["figures"][0]["bbox"]
    src = tmp_path / "in"
    storage.write_bytes_atomic(str(src / "a_photo.png"), encode_png(s.image.crop((x0 - 20, y0 - 20, x1 + 20, y1 + 20))))
    storage.write_bytes_atomic(str(src / "b_text.png"), encode_png(generate("pages", 9, 1, {"dpi": 120}).image))
    res = run_recognize(str(src), str(tmp_path / "out"), shard_size=2, workers=1, orient=False, min_line_confidence=0.95)
    photo, text = sorted(iter_results(str(tmp_path / "out")), key=lambda p: p.page_id)
    assert res["recognised"] == 2 and res["pages_emptied"] == 1, res
    assert photo.lines == [] and photo.text == "" and len(text.lines) > 10
    assert res["lines_dropped"] >= 5, res


def test_recognize_process_killed_rerun_skips_committed_shards(prefect_api, tmp_path, tiny_model):
    """Issue 5's check with a real kill: `ocr recognize` SIGKILLed half way (its workers with it),
    then the same command again: committed shards are not recomputed (their files untouched), and
    the output, Parquet and hOCR, equals an undisturbed run's."""
    from conftest import kill_when
    from flows.recognize import run_recognize

    src = tmp_path / "in"
    for i in range(6):
        storage.write_bytes_atomic(str(src / f"p{i:02d}.png"), _page_png(50 + i, columns=1))
    calm = tmp_path / "calm"
    run_recognize(str(src), str(calm), model=tiny_model, shard_size=1, workers=1, orient=False)

    exe = os.path.join(os.path.dirname(sys.executable), "ocr")
    env = dict(os.environ, PREFECT_API_URL=prefect_api)
    hit = tmp_path / "hit"
    cmd = [exe, "recognize", str(src), "--out", str(hit), "--model", tiny_model, "--shard-size", "1", "--workers", "1",
           "--no-orient"]  # a random model reads every page badly, and the check would try each turn
    p = subprocess.Popen(cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kill_when(p, lambda: (hit / "part-00001.parquet").exists())
    committed = {f.name: f.stat().st_mtime_ns for f in hit.glob("part-*.parquet")}
    assert 2 <= len(committed) < 6 and not (hit / "_SUCCESS").exists()

    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert {n: (hit / n).stat().st_mtime_ns for n in committed} == committed  # not recomputed

    def files(root):
        return {str(f.relative_to(root)): f.read_bytes() for f in root.rglob("*")
                if f.is_file() and f.name.endswith((".parquet", ".html", ".hocr"))}

    calm_files, hit_files = files(calm), files(hit)
    assert len([n for n in calm_files if n.startswith("hocr")]) == 6
    assert hit_files.keys() == calm_files.keys()
    assert all(hit_files[n] == calm_files[n] for n in calm_files), [n for n in calm_files if hit_files[n] != calm_files[n]]
    assert (hit / "_SUCCESS").exists()


def test_model_id_names_each_shipped_model_and_hashes_its_weights():
    """The id recorded in the manifest and in every result row tells the shipped models apart."""
    from flows.recognize import model_id

    default, fast = model_id(None), model_id("shipped-fast")
    assert default == model_id("shipped") and default.startswith("default@")
    assert fast.startswith("shipped-fast@") and fast.split("@")[1] != default.split("@")[1]


def test_resume_check_needs_a_manifest_naming_the_same_pages(tmp_path):
    """Part files with no manifest, or a manifest planning other pages under their names, are
    refused with what to do; the same plan resumes."""
    from flows.pages import check_resumable
    from ocrcore.sharding import plan_page_shards

    plan = plan_page_shards([("file:///in/a.png", "a.png#1"), ("file:///in/b.png", "b.png#1")], 1)
    ident = {"kind": "recognize", "model": "m@1"}
    out = str(tmp_path)
    check_resumable(out, plan, set(), ident)  # nothing committed: nothing to check
    with pytest.raises(ValueError, match="no _manifest.json"):
        check_resumable(out, plan, {"part-00000.parquet"}, ident)
    storage.write_json_atomic(f"{out}/_manifest.json", {**ident, "shards": [s.to_dict() for s in plan]})
    check_resumable(out, plan, {plan[0].name}, ident)
    other = plan_page_shards([("file:///in/0.png", "0.png#1"), ("file:///in/a.png", "a.png#1")], 1)
    with pytest.raises(ValueError, match="changed"):
        check_resumable(out, other, {plan[0].name}, ident)
    with pytest.raises(ValueError, match="model was 'm@1', now 'm@2'.*incremental"):
        check_resumable(out, plan, {plan[0].name}, {**ident, "model": "m@2"}, hint="or pass incremental")

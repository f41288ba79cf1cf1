import io

import pyarrow.parquet as pq
import pytest
from PIL import Image

from ocrcore import datasets, storage


def _png(text_shade=0, size=(40, 20)) -> bytes:
    img = Image.new("L", size, 255)
    img.paste(text_shade, (5, 5, 30, 15))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _row(i: int) -> dict:
    return {"id": f"r{i}", "image": {"bytes": _png(), "path": f"r{i}.png"}, "text": f"t{i}", "width": 40,
            "height": 20, "source": "test", "chars": [{"text": "t", "bbox": [0, 0, 1, 1]}]}


def test_shard_roundtrip_and_streaming(tmp_path):
    out = str(tmp_path / "ds")
    for k in range(2):
        rows = [_row(i) for i in range(k * 100, k * 100 + 100)]
        storage.write_bytes_atomic(storage.join(out, f"part-{k:05d}.parquet"), datasets.rows_to_parquet_bytes(rows, params={"p": k}))
    assert datasets.count_records(out) == 200
    got = list(datasets.iter_records(out, columns=["id", "text"]))
    assert [r["id"] for r in got] == [f"r{i}" for i in range(200)]
    assert set(got[0]) == {"id", "text"}
    # the HF image convention: struct<bytes, path>
    t = pq.read_table(storage.join(out, "part-00000.parquet"))
    assert t.schema.field("image").type.names == ["bytes", "path"]
    assert datasets.read_params(storage.join(out, "part-00001.parquet")) == {"p": 1}
    # small row groups keep streaming memory bounded
    assert pq.ParquetFile(storage.join(out, "part-00000.parquet")).metadata.num_row_groups >= 2


def test_same_rows_same_bytes():
    rows = [_row(i) for i in range(10)]
    assert datasets.rows_to_parquet_bytes(rows, params={"a": 1}) == datasets.rows_to_parquet_bytes(rows, params={"a": 1})


def test_missing_dataset_is_clear(tmp_path):
    with pytest.raises(storage.StorageError, match="does not exist|no dataset"):
        list(datasets.iter_records(str(tmp_path / "nope")))
    (tmp_path / "empty").mkdir()
    with pytest.raises(storage.StorageError, match="no dataset shards"):
        list(datasets.iter_records(str(tmp_path / "empty")))


def test_import_filename_labels_with_bad_inputs(tmp_path):
    src = tmp_path / "captchas"
    src.mkdir()
    for label in ["2b827", "3bnyf", "4cfw8"]:
        (src / f"{label}.png").write_bytes(_png())
    (src / "5xxzz.png").write_bytes(_png()[:60])  # truncated
    (src / "6aaaa.png").write_bytes(b"this is text, not a png")
    (src / "7QQQQ.png").write_bytes(_png())  # Q not in charset
    (src / "notes.txt").write_text("hello")
    dest = str(tmp_path / "ds")
    rep = datasets.import_labeled(str(src), dest, labels="filename", charset="2345678bcdefgmnpwxy", shard_size=2)
    assert rep.rows == 3
    ids = sorted(r["id"] for r in datasets.iter_records(dest))
    errs = pq.read_table(f"{dest}/errors/part-00000.parquet").to_pylist()
    by_id = {e["page_id"].rsplit("/", 1)[-1]: e["error_type"] for e in errs}
    # every input is accounted for exactly once
    assert len(ids) + len(errs) == 7
    assert by_id["5xxzz.png"] in ("truncated_image", "corrupt_image")
    assert by_id["6aaaa.png"] == "not_an_image"
    assert by_id["7QQQQ.png"] == "label_outside_charset"
    assert by_id["notes.txt"] == "not_an_image_file"
    assert "QQQQ" in [e["message"] for e in errs if e["error_type"] == "label_outside_charset"][0]
    assert storage.exists(f"{dest}/_SUCCESS")


def test_import_gt_pairs_from_s3(s3_bucket, tmp_path):
    src = f"{s3_bucket}/lines"
    storage.write_bytes_atomic(f"{src}/a.png", _png())
    storage.write_bytes_atomic(f"{src}/a.gt.txt", "Hello  world\n".encode())
    storage.write_bytes_atomic(f"{src}/sub/b.bin.png", _png())
    storage.write_bytes_atomic(f"{src}/sub/b.gt.txt", "Second line".encode())
    storage.write_bytes_atomic(f"{src}/c.png", _png())  # no label
    dest = f"{s3_bucket}/ds"
    rep = datasets.import_labeled(src, dest, labels="gt.txt")
    recs = {r["id"]: r for r in datasets.iter_records(dest)}
    assert set(recs) == {"a.png", "sub/b.bin.png"}
    assert recs["a.png"]["text"] == "Hello world"
    assert recs["sub/b.bin.png"]["text"] == "Second line"
    assert [e["error_type"] for e in rep.errors] == ["missing_label"]

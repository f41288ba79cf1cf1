"""The Parquet dataset format for training and evaluation data, its readers and importers.

A dataset is a prefix holding shards ``part-00000.parquet``, ``part-00001.parquet`` ... plus
``_manifest.json`` and ``_SUCCESS``; importers also write ``errors/part-00000.parquet``.
Row schema (the Hugging Face ``datasets`` image convention, so others can load it):

* ``id: string``, ``image: struct<bytes: binary, path: string>``, ``text: string``,
  ``width: int32``, ``height: int32``, ``source: string``
* optional ``chars: list<struct<text: string, bbox: list<int32>>>`` (exact boxes, synthetic data)
* optional ``lines`` (whole synthetic pages): the ground-truth layout in the result schema's shape
  (line bbox, text, column, words with bbox, text and chars)

Generator or importer parameters go into the file's key-value metadata under ``ocr.params``.
Shards are built in memory and written with one PUT, with small row groups so readers stream.
"""
from __future__ import annotations

import io
import json
import posixpath
import re
from dataclasses import dataclass, field
from typing import Iterator, Optional

import pyarrow as pa
import pyarrow.parquet as pq

from ocrcore import storage
from ocrcore.imageio import ImageError, decode_image
from ocrcore.sharding import shard_name

BBOX = pa.list_(pa.int32())
CHAR = pa.struct([("text", pa.string()), ("bbox", BBOX)])
WORD = pa.struct([("text", pa.string()), ("bbox", BBOX), ("chars", pa.list_(CHAR))])
LINE = pa.struct(
    [("text", pa.string()), ("bbox", BBOX), ("column", pa.int32()), ("words", pa.list_(WORD))]
)
IMAGE = pa.struct([("bytes", pa.binary()), ("path", pa.string())])

BASE_FIELDS = [
    pa.field("id", pa.string(), nullable=False),
    pa.field("image", IMAGE),
    pa.field("text", pa.string()),
    pa.field("width", pa.int32()),
    pa.field("height", pa.int32()),
    pa.field("source", pa.string()),
]

ERRORS_SCHEMA = pa.schema(
    [
        pa.field("page_id", pa.string()),
        pa.field("source_uri", pa.string()),
        pa.field("stage", pa.string()),
        pa.field("error_type", pa.string()),
        pa.field("message", pa.string()),
    ]
)

ROW_GROUP_ROWS = 64
SHARD_RE = re.compile(r"part-(\d{5,})\.parquet$")


LAYOUT_FIELDS = [
    pa.field("page_id", pa.string()),
    pa.field("line_no", pa.int32()),
    pa.field("bbox", BBOX),
    pa.field("column", pa.int32()),
]


def dataset_schema(with_chars: bool = False, with_lines: bool = False, with_layout: bool = False) -> pa.Schema:
    """The dataset schema; ``with_layout`` adds where a line came from (lines cut from pages)."""
    fields = list(BASE_FIELDS)
    if with_layout:
        fields.extend(LAYOUT_FIELDS)
    if with_chars:
        fields.append(pa.field("chars", pa.list_(CHAR)))
    if with_lines:
        fields.append(pa.field("lines", pa.list_(LINE)))
    return pa.schema(fields)


def table_to_parquet_bytes(table: pa.Table, *, params: Optional[dict] = None) -> bytes:
    """Serialise a table to Parquet bytes in memory (deterministic for equal input)."""
    if params is not None:
        meta = dict(table.schema.metadata or {})
        meta[b"ocr.params"] = json.dumps(params, sort_keys=True).encode()
        table = table.replace_schema_metadata(meta)
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=ROW_GROUP_ROWS, compression="zstd")
    return buf.getvalue()


def rows_to_parquet_bytes(rows: list[dict], *, params: Optional[dict] = None) -> bytes:
    """Dataset rows (dicts in the schema above) -> Parquet bytes."""
    with_chars = any("chars" in r for r in rows)
    with_lines = any("lines" in r for r in rows)
    with_layout = any("page_id" in r for r in rows)
    schema = dataset_schema(with_chars, with_lines, with_layout)
    table = pa.Table.from_pylist(rows, schema=schema)
    return table_to_parquet_bytes(table, params=params)


def errors_to_parquet_bytes(errors: list[dict]) -> bytes:
    return table_to_parquet_bytes(pa.Table.from_pylist(errors, schema=ERRORS_SCHEMA))


def list_shards(url: str, storage_options: Optional[dict] = None) -> list[str]:
    """Shard URLs of a dataset, in order. ``url`` may also name a single Parquet file."""
    if str(url).endswith(".parquet"):
        return [str(url)]
    fs, path = storage.get_fs(url, storage_options)
    try:
        names = fs.ls(path, detail=False)
    except FileNotFoundError:
        raise storage.StorageError(f"no dataset at {storage.redact(url)}: the location does not exist") from None
    except Exception as e:
        raise storage.StorageError(f"cannot list dataset {storage.redact(url)}: {e}") from None
    shards = sorted(posixpath.basename(n) for n in names if SHARD_RE.search(posixpath.basename(n)))
    return [storage.join(url, s) for s in shards]


def _open_parquet(url: str, storage_options: Optional[dict]) -> pq.ParquetFile:
    fs, path = storage.get_fs(url, storage_options)
    return pq.ParquetFile(fs.open(path, "rb"))


def iter_records(
    url: str,
    *,
    columns: Optional[list[str]] = None,
    storage_options: Optional[dict] = None,
    batch_rows: int = ROW_GROUP_ROWS,
) -> Iterator[dict]:
    """Stream rows (dicts) from every shard of a dataset, a row group at a time.

    Memory stays bounded by one row group whatever the dataset size.
    """
    shards = list_shards(url, storage_options)
    if not shards:
        raise storage.StorageError(
            f"no dataset shards (part-*.parquet) at {storage.redact(url)}; "
            "create one with `ocr synth` or `ocr import`"
        )
    for shard in shards:
        pf = _open_parquet(shard, storage_options)
        cols = [c for c in columns if c in pf.schema_arrow.names] if columns else None
        for batch in pf.iter_batches(batch_size=batch_rows, columns=cols):
            yield from batch.to_pylist()


def count_records(url: str, storage_options: Optional[dict] = None) -> int:
    """Row count from shard footers only (no data read)."""
    return sum(_open_parquet(s, storage_options).metadata.num_rows for s in list_shards(url, storage_options))


def read_params(url: str, storage_options: Optional[dict] = None) -> dict:
    """Generator/importer parameters stored in a shard's key-value metadata."""
    meta = _open_parquet(url, storage_options).schema_arrow.metadata or {}
    raw = meta.get(b"ocr.params")
    return json.loads(raw) if raw else {}


# --------------------------------------------------------------------------- importers

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".pbm", ".pgm", ".ppm")


@dataclass
class ImportReport:
    """What an import did: rows written, errors (also written to ``errors/``), shards."""

    dest: str
    rows: int = 0
    errors: list[dict] = field(default_factory=list)
    shards: list[str] = field(default_factory=list)
    charset: str = ""

    def summary(self) -> str:
        by_type: dict[str, int] = {}
        for e in self.errors:
            by_type[e["error_type"]] = by_type.get(e["error_type"], 0) + 1
        parts = [f"imported {self.rows} samples into {storage.redact(self.dest)} ({len(self.shards)} shards)"]
        if self.errors:
            kinds = ", ".join(f"{k}: {v}" for k, v in sorted(by_type.items()))
            parts.append(f"{len(self.errors)} inputs not imported ({kinds}); see {self.dest}/errors/")
        return "; ".join(parts)


def _split_name(url: str) -> tuple[str, str]:
    base = posixpath.basename(url)
    low = base.lower()
    for ext in IMAGE_EXTS:
        if low.endswith(ext):
            return base[: -len(ext)], ext
    return base, ""


def _label_pairs(files: list[str], labels: str) -> Iterator[tuple[str, Optional[str], Optional[str], Optional[str]]]:
    """Yield ``(key, image_url, label_text_or_gt_url, problem)`` in a stable order."""
    if labels == "filename":
        for f in files:
            stem, ext = _split_name(f)
            if ext:
                yield f, f, stem, None
            elif not posixpath.basename(f).startswith("."):
                yield f, None, None, "not_an_image_file"
        return
    gts = {f[: -len(".gt.txt")]: f for f in files if f.endswith(".gt.txt")}
    images = {}
    for f in files:
        if f.endswith(".gt.txt") or posixpath.basename(f).startswith("."):
            continue
        stem, ext = _split_name(f)
        if ext:
            images[posixpath.join(posixpath.dirname(f), stem)] = f
        else:
            yield f, None, None, "not_an_image_file"
    # A line image is often named x.bin.png (OCRopus); its label is x.gt.txt.
    for key in sorted(set(images) | set(gts)):
        img = images.get(key)
        gt = gts.get(key)
        if img and gt is None and key.endswith(".bin"):
            gt = gts.get(key[: -len(".bin")])
        if img and gt:
            yield img, img, gt, None
        elif img:
            yield img, img, None, "missing_label"
        elif gt and not (key + ".bin") in images:
            yield gt, None, gt, "missing_image"


def import_labeled(
    source: str,
    dest: str,
    *,
    labels: str = "filename",
    charset: Optional[str] = None,
    shard_size: int = 1000,
    storage_options: Optional[dict] = None,
    dest_storage_options: Optional[dict] = None,
) -> ImportReport:
    """Turn a user's labeled folder (local or S3) into a dataset.

    ``labels="filename"``: the file name without extension is the label (``2b827.png``).
    ``labels="gt.txt"``: OCRopus pairs ``x.png`` + ``x.gt.txt`` (also ``x.bin.png``).
    Unreadable images, missing labels and labels with characters outside ``charset`` become rows
    in ``dest/errors/``; nothing is dropped silently.
    """
    if labels not in ("filename", "gt.txt"):
        raise ValueError(f"labels must be 'filename' or 'gt.txt', not {labels!r}")
    if shard_size <= 0:
        raise ValueError(f"shard_size must be positive, got {shard_size}")
    allowed = set(charset) if charset else None
    dest_opts = dest_storage_options if dest_storage_options is not None else storage_options
    storage.preflight_writable(dest, dest_opts)
    files = list(storage.list_files(source, storage_options))
    if not files:
        raise storage.StorageError(f"no files found at {storage.redact(source)}")
    report = ImportReport(dest=dest)
    rows: list[dict] = []
    seen_chars: set[str] = set()
    params = {"importer": labels, "source": storage.redact(source), "charset": charset}

    def flush() -> None:
        if rows:
            name = shard_name(len(report.shards))
            storage.write_bytes_atomic(storage.join(dest, name), rows_to_parquet_bytes(rows, params=params), dest_opts)
            report.shards.append(name)
            rows.clear()

    def error(uri: str, etype: str, msg: str) -> None:
        report.errors.append(
            {"page_id": uri, "source_uri": storage.redact(uri), "stage": "import", "error_type": etype, "message": msg}
        )

    for key, image_url, label, problem in _label_pairs(files, labels):
        if problem == "not_an_image_file":
            error(key, problem, f"{key}: not an image file name (expected one of {', '.join(IMAGE_EXTS)})")
            continue
        if problem == "missing_label":
            error(key, problem, f"{key}: no ground truth file {posixpath.splitext(key)[0]}.gt.txt")
            continue
        if problem == "missing_image":
            error(key, problem, f"{key}: ground truth without an image next to it")
            continue
        try:
            data = storage.read_bytes(image_url, storage_options)
            img = decode_image(data, name=image_url)
            if labels == "gt.txt":
                text = storage.read_bytes(label, storage_options).decode("utf-8").strip("\r\n\ufeff ")
                text = " ".join(text.split())
            else:
                text = label
        except ImageError as e:
            error(key, e.error_type, str(e))
            continue
        except UnicodeDecodeError as e:
            error(key, "bad_label_encoding", f"{label}: ground truth is not UTF-8 ({e})")
            continue
        if not text:
            error(key, "empty_label", f"{key}: label is empty")
            continue
        if allowed is not None:
            bad = sorted(set(text) - allowed)
            if bad:
                error(key, "label_outside_charset", f"{key}: label {text!r} has characters outside the charset: {''.join(bad)!r}")
                continue
        seen_chars.update(text)
        stem = posixpath.basename(image_url)
        rows.append(
            {
                "id": storage.relative_to(image_url, source),
                "image": {"bytes": data, "path": stem},
                "text": text,
                "width": img.width,
                "height": img.height,
                "source": storage.redact(image_url),
            }
        )
        report.rows += 1
        if len(rows) >= shard_size:
            flush()
    flush()
    report.charset = "".join(sorted(seen_chars))
    if report.errors:
        storage.write_bytes_atomic(
            storage.join(dest, "errors", shard_name(0)), errors_to_parquet_bytes(report.errors), dest_opts
        )
    storage.write_json_atomic(
        storage.join(dest, "_manifest.json"),
        {
            "kind": "import",
            "params": params,
            "rows": report.rows,
            "errors": len(report.errors),
            "shards": report.shards,
            "charset": report.charset,
        },
        dest_opts,
    )
    storage.write_bytes_atomic(storage.join(dest, "_SUCCESS"), b"", dest_opts)
    return report

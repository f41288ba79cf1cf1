"""Recognition results as Parquet: one row per page, nested lines, words and characters.

Why: the result table is the product's main output; the schema lives here once, and the reader
turns rows back into :mod:`ocrcore.containers` so every other writer (hOCR, ALTO) can start
from Parquet. Schema (DESIGN.md), with ``bbox = list<int32>`` as ``[x0, y0, x1, y1]`` in original
image pixels and confidences in [0, 1]::

    page_id: string, source_uri: string, page_no: int32, width: int32, height: int32,
    text: string, confidence: float32, model: string, run_id: string,
    lines: list<struct<bbox, baseline: list<list<int32>> (null when unknown), text,
                       confidence: float32, column: int32,
                       words: list<struct<bbox, text, confidence: float32,
                                          chars: list<struct<bbox, text, confidence: float32>>>>>>

``column`` (the reading-order column of a line) is an addition to DESIGN.md so that a round trip
loses nothing. Confidences are stored as float32; the reader returns the shortest decimal that
float32 value stands for (0.9 reads back as 0.9), so a page whose confidences have at most ~7
significant digits round-trips exactly and re-writing a read page gives identical bytes.
"""
from __future__ import annotations

from typing import Iterable, Iterator, Optional

import numpy as np
import pyarrow as pa

from ocrcore import datasets
from ocrcore.containers import Char, Line, Page, Word

FORMAT = "ocr-results/1"

BBOX = pa.list_(pa.int32())
CONF = pa.float32()
CHAR = pa.struct([("bbox", BBOX), ("text", pa.string()), ("confidence", CONF)])
WORD = pa.struct([("bbox", BBOX), ("text", pa.string()), ("confidence", CONF), ("chars", pa.list_(CHAR))])
LINE = pa.struct(
    [
        ("bbox", BBOX),
        pa.field("baseline", pa.list_(pa.list_(pa.int32())), nullable=True),
        ("text", pa.string()),
        ("confidence", CONF),
        ("column", pa.int32()),
        ("words", pa.list_(WORD)),
    ]
)
RESULT_SCHEMA = pa.schema(
    [
        pa.field("page_id", pa.string(), nullable=False),
        pa.field("source_uri", pa.string()),
        pa.field("page_no", pa.int32()),
        pa.field("width", pa.int32()),
        pa.field("height", pa.int32()),
        pa.field("text", pa.string()),
        pa.field("confidence", CONF),
        pa.field("model", pa.string()),
        pa.field("run_id", pa.string()),
        pa.field("lines", pa.list_(LINE)),
    ],
    metadata={b"ocr.format": FORMAT.encode()},
)
ERRORS_SCHEMA = datasets.ERRORS_SCHEMA


def _box(b) -> list[int]:
    if len(b) != 4:
        raise ValueError(f"a bbox needs 4 integers (x0, y0, x1, y1), got {b!r}")
    return [int(v) for v in b]


def page_to_row(page: Page) -> dict:
    """One Page -> one row dict in :data:`RESULT_SCHEMA`'s shape."""
    lines = []
    for ln in page.lines:
        words = [
            {
                "bbox": _box(w.bbox),
                "text": w.text,
                "confidence": float(w.confidence),
                "chars": [{"bbox": _box(c.bbox), "text": c.text, "confidence": float(c.confidence)} for c in w.chars],
            }
            for w in ln.words
        ]
        lines.append(
            {
                "bbox": _box(ln.bbox),
                "baseline": None if ln.baseline is None else [[int(x), int(y)] for x, y in ln.baseline],
                "text": ln.text,
                "confidence": float(ln.confidence),
                "column": int(ln.column),
                "words": words,
            }
        )
    return {
        "page_id": page.page_id,
        "source_uri": page.source_uri,
        "page_no": int(page.page_no),
        "width": int(page.width),
        "height": int(page.height),
        "text": page.text,
        "confidence": float(page.confidence),
        "model": page.model,
        "run_id": page.run_id,
        "lines": lines,
    }


def pages_to_table(pages: Iterable[Page]) -> pa.Table:
    return pa.Table.from_pylist([page_to_row(p) for p in pages], schema=RESULT_SCHEMA)


def pages_to_parquet_bytes(pages: Iterable[Page], *, params: Optional[dict] = None) -> bytes:
    """A result part file built in memory (deterministic for equal input), for one PUT."""
    return datasets.table_to_parquet_bytes(pages_to_table(pages), params=params)


def errors_to_parquet_bytes(errors: Iterable[dict]) -> bytes:
    """An errors part file (``datasets.ERRORS_SCHEMA``); unknown or missing keys are refused."""
    rows = list(errors)
    names = set(ERRORS_SCHEMA.names)
    for r in rows:
        if set(r) != names:
            raise ValueError(
                f"error rows need exactly the keys {sorted(names)}; got {sorted(r)} "
                f"(missing {sorted(names - set(r))}, unknown {sorted(set(r) - names)})"
            )
    return datasets.errors_to_parquet_bytes(rows)


def _f32(v) -> float:
    """The shortest decimal a stored float32 stands for (so 0.9 reads back as 0.9)."""
    return 1.0 if v is None else float(str(np.float32(v)))


def row_to_page(row: dict) -> Page:
    """Inverse of :func:`page_to_row` (``text`` is derived from the lines, so it is not read)."""
    lines = []
    for ld in row.get("lines") or []:
        words = [
            Word(
                wd["text"],
                tuple(wd["bbox"]),
                _f32(wd.get("confidence")),
                [Char(cd["text"], tuple(cd["bbox"]), _f32(cd.get("confidence"))) for cd in wd.get("chars") or []],
            )
            for wd in ld.get("words") or []
        ]
        baseline = ld.get("baseline")
        lines.append(
            Line(
                tuple(ld["bbox"]),
                ld["text"],
                _f32(ld.get("confidence")),
                words,
                None if baseline is None else [tuple(p) for p in baseline],
                int(ld.get("column") or 0),
            )
        )
    return Page(
        page_id=row["page_id"],
        width=int(row["width"]),
        height=int(row["height"]),
        lines=lines,
        source_uri=row.get("source_uri") or "",
        page_no=int(row.get("page_no") or 0),
        confidence=_f32(row.get("confidence")),
        model=row.get("model") or "",
        run_id=row.get("run_id") or "",
    )


def iter_pages(url: str, storage_options: Optional[dict] = None) -> Iterator[Page]:
    """Pages of one result file or of every ``part-*.parquet`` under a result prefix, streamed."""
    for row in datasets.iter_records(url, storage_options=storage_options):
        yield row_to_page(row)

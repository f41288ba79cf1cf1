"""Result writers: Parquet round trip and schema, hOCR validity and escaping."""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ocrcore import datasets, storage
from ocrcore.containers import Char, Line, Page, Word, union_bbox
from ocrcore.serialize import hocr
from ocrcore.serialize import parquet as rp

NS = {"h": "http://www.w3.org/1999/xhtml"}


def word(text, x, y, conf=0.9, cw=10, h=20):
    chars = [Char(c, (x + i * cw, y, x + (i + 1) * cw, y + h), round(0.5 + 0.05 * i, 2)) for i, c in enumerate(text)]
    return Word(text, union_bbox(c.bbox for c in chars), conf, chars)


def make_page(text_a="Hello world", text_b='a<b & "c" \'d\'>', page_no=2) -> Page:
    lines = []
    for li, (text, col) in enumerate([(text_a, 0), (text_b, 0), ("tail", 1)]):
        x, y = 10 + 300 * col, 10 + 30 * li
        words, wx = [], x
        for t in text.split(" "):
            words.append(word(t, wx, y, conf=0.87))
            wx = words[-1].bbox[2] + 10
        lines.append(
            Line(
                union_bbox(w.bbox for w in words), text, 0.75, words,
                baseline=[(x, y + 16), (wx, y + 18)] if li != 1 else None, column=col,
            )
        )
    lines.append(Line((600, 200, 650, 220), "no words", 0.5, [], None, 1))
    return Page(
        "s3://b/scans/a.tar!/dir/x.png#2", 800, 300, lines, source_uri="s3://b/scans/a.tar",
        page_no=page_no, confidence=0.8, model="crnn-v1", run_id="run-1",
    )


# --------------------------------------------------------------------------- Parquet


def test_parquet_round_trip_exact(tmp_path):
    pages = [make_page(), make_page("x", "y", page_no=1), Page("p#1", 10, 10)]
    data = rp.pages_to_parquet_bytes(pages)
    assert data == rp.pages_to_parquet_bytes(pages)  # deterministic
    storage.write_bytes_atomic(str(tmp_path / "part-00000.parquet"), data)
    back = list(rp.iter_pages(str(tmp_path)))
    assert back == pages
    assert [rp.row_to_page(r) for r in pq.read_table(io.BytesIO(data)).to_pylist()] == pages
    assert rp.pages_to_parquet_bytes(back) == data
    row = pq.read_table(io.BytesIO(data)).to_pylist()[0]
    assert row["text"] == pages[0].text and row["lines"][1]["baseline"] is None


def test_parquet_schema_matches_design():
    schema = pq.read_schema(io.BytesIO(rp.pages_to_parquet_bytes([make_page()])))
    assert schema.names == [
        "page_id", "source_uri", "page_no", "width", "height", "text", "confidence", "model", "run_id", "lines",
    ]
    types = {f.name: f.type for f in schema}
    assert types["page_id"] == pa.string() and types["page_no"] == pa.int32()
    assert types["width"] == types["height"] == pa.int32()
    line = types["lines"].value_type
    assert [line.field(i).name for i in range(line.num_fields)] == ["bbox", "baseline", "text", "confidence", "column", "words"]
    assert line.field("bbox").type == pa.list_(pa.int32())
    assert line.field("baseline").type == pa.list_(pa.list_(pa.int32())) and line.field("baseline").nullable
    assert line.field("confidence").type == pa.float32()
    w = line.field("words").type.value_type
    assert [w.field(i).name for i in range(w.num_fields)] == ["bbox", "text", "confidence", "chars"]
    c = w.field("chars").type.value_type
    assert [(c.field(i).name, c.field(i).type) for i in range(c.num_fields)] == [
        ("bbox", pa.list_(pa.int32())), ("text", pa.string()), ("confidence", pa.float32()),
    ]
    assert schema.metadata[b"ocr.format"] == rp.FORMAT.encode()


def test_errors_table():
    rows = [{"page_id": "a#1", "source_uri": "a", "stage": "input", "error_type": "empty_file", "message": "m"}]
    t = pq.read_table(io.BytesIO(rp.errors_to_parquet_bytes(rows)))
    assert t.schema.equals(datasets.ERRORS_SCHEMA) and t.to_pylist() == rows
    with pytest.raises(ValueError, match="unknown"):
        rp.errors_to_parquet_bytes([{**rows[0], "extra": 1}])
    with pytest.raises(ValueError, match="missing"):
        rp.errors_to_parquet_bytes([{"page_id": "x"}])


def test_parquet_rejects_bad_boxes():
    page = Page("p#1", 10, 10, [Line((1, 2, 3), "x")])
    with pytest.raises(ValueError, match="bbox"):
        rp.pages_to_parquet_bytes([page])


# --------------------------------------------------------------------------- hOCR validator

TITLE_GRAMMAR = {
    "bbox": re.compile(r"^\d+ \d+ \d+ \d+$"),
    "x_wconf": re.compile(r"^\d+$"),
    "x_conf": re.compile(r"^\d+(\.\d+)?$"),
    "baseline": re.compile(r"^-?\d+(\.\d+)? -?\d+$"),
    "ppageno": re.compile(r"^\d+$"),
    "image": re.compile(r'^"([^"\\]|\\.)*"$'),
}
PARENT = {"ocr_carea": "ocr_page", "ocr_line": "ocr_carea", "ocrx_word": "ocr_line", "ocrx_cinfo": "ocrx_word"}


def parse_title(title: str) -> dict:
    props = {}
    for part in title.split("; "):
        key, _, value = part.partition(" ")
        assert key in TITLE_GRAMMAR, f"unknown property {key!r} in {title!r}"
        assert TITLE_GRAMMAR[key].match(value), f"bad {key} value {value!r}"
        assert key not in props
        props[key] = value
    return props


def validate_hocr(text: str) -> ET.Element:
    """Structural hOCR check: meta tags, class hierarchy, title grammar, box nesting, unique ids."""
    root = ET.fromstring(text.encode("utf-8"))
    metas = {m.get("name"): m.get("content") for m in root.iterfind("h:head/h:meta", NS) if m.get("name")}
    assert metas.get("ocr-system")
    caps = metas["ocr-capabilities"].split()
    used = {el.get("class") for el in root.iter() if (el.get("class") or "").startswith("ocr")}
    assert used <= set(caps), f"classes {used - set(caps)} not declared in ocr-capabilities"
    ids, boxes = set(), {}

    def check(el, parent_cls, parent_box):
        cls = el.get("class")
        if cls and cls.startswith("ocr"):
            assert PARENT.get(cls, None) == parent_cls or (cls == "ocr_page" and parent_cls is None), (cls, parent_cls)
            assert el.get("id") and el.get("id") not in ids, el.get("id")
            ids.add(el.get("id"))
            props = parse_title(el.get("title"))
            box = tuple(int(v) for v in props["bbox"].split())
            assert box[0] <= box[2] and box[1] <= box[3], box
            if parent_box is not None:
                assert parent_box[0] <= box[0] and parent_box[1] <= box[1], (cls, box, parent_box)
                assert box[2] <= parent_box[2] and box[3] <= parent_box[3], (cls, box, parent_box)
            if cls == "ocrx_word":
                assert 0 <= int(props["x_wconf"]) <= 100
            if cls == "ocrx_cinfo":
                assert 0 <= float(props["x_conf"]) <= 100 and len(el) == 0
            if cls == "ocr_page":
                assert "ppageno" in props and "image" in props
            boxes[el.get("id")] = box
            parent_cls, parent_box = cls, box
        for child in el:
            check(child, parent_cls, parent_box)

    body = root.find("h:body", NS)
    for page in body:
        assert page.get("class") == "ocr_page"
        check(page, None, None)
    return root


def text_of(el: ET.Element) -> str:
    return "".join(el.itertext())


def test_hocr_valid_structure_and_values():
    page = make_page()
    out = hocr.page_to_hocr(page, image_name="x.png")
    root = validate_hocr(out)
    pg = root.find(".//h:div[@class='ocr_page']", NS)
    assert pg.get("title") == 'image "x.png"; bbox 0 0 800 300; ppageno 1'
    lines = root.findall(".//h:span[@class='ocr_line']", NS)
    assert [text_of(ln) for ln in lines] == [ln.text for ln in page.lines]
    assert len(root.findall(".//h:div[@class='ocr_carea']", NS)) == 2  # column 0, then column 1
    assert "baseline" in lines[0].get("title") and "baseline" not in lines[1].get("title")
    w = root.find(".//h:span[@class='ocrx_word']", NS)
    assert w.get("title") == "bbox 10 10 60 30; x_wconf 87"
    c = w.find("h:span[@class='ocrx_cinfo']", NS)
    assert c.get("title") == "bbox 10 10 20 30; x_conf 50.00" and c.text == "H"
    caps = root.find(".//h:meta[@name='ocr-capabilities']", NS).get("content")
    assert caps == "ocr_page ocr_carea ocr_line ocrx_word ocrx_cinfo ocrp_wconf"


def test_hocr_baseline_relative_to_bbox_bottom():
    line = Line((10, 10, 110, 30), "x", baseline=[(10, 26), (110, 28)])
    assert hocr._baseline(line) == "baseline 0.02 -4"


def test_hocr_escaping():
    nasty = 'a<b & "c" \'d\'> \x07bell'
    page = make_page(text_a=nasty)
    out = hocr.page_to_hocr(page, image_name='dir/we"ird;&<name>.png')
    assert ">&lt;</span>" in out and ">&amp;</span>" in out
    assert re.search(r"<(?![/a-zA-Z!?])", out) is None  # every '<' starts markup
    assert re.search(r"&(?!(lt|gt|amp|quot|apos|#\d+);)", out) is None  # every '&' is an entity
    root = validate_hocr(out)
    lines = root.findall(".//h:span[@class='ocr_line']", NS)
    assert text_of(lines[0]) == nasty.replace("\x07", "\ufffd")
    assert text_of(lines[1]) == 'a<b & "c" \'d\'>'
    title = root.find(".//h:div[@class='ocr_page']", NS).get("title")
    assert title.startswith('image "dir/we\\"ird%3B&<name>.png"; bbox')


def test_hocr_random_text_round_trips_through_an_xml_parser():
    """Every text and attribute the writer escapes by hand reads back exactly (after xml_safe)."""
    import random

    rng = random.Random(5)
    alphabet = [chr(c) for c in range(0, 0x250)] + ["\ud800", "\ufffe", "\U0001f600", "&amp;", "]]>", "\r\n"]
    for trial in range(20):
        texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 12))) for _ in range(3)]
        page = make_page(text_a=texts[0].replace(" ", "_"))
        page.page_id = texts[1]
        page.lines[-1].text = texts[2]
        name = "".join(rng.choice(alphabet) for _ in range(10))
        out = hocr.page_to_hocr(page, image_name=name, system=texts[2])
        root = validate_hocr(out)
        assert root.find("h:head/h:title", NS).text == hocr.xml_safe(texts[1])
        assert root.find(".//h:meta[@name='ocr-system']", NS).get("content") == hocr.xml_safe(texts[2])
        lines = root.findall(".//h:span[@class='ocr_line']", NS)
        assert text_of(lines[0]) == hocr.xml_safe(page.lines[0].text)
        assert text_of(lines[-1]) == hocr.xml_safe(texts[2])
        title = root.find(".//h:div[@class='ocr_page']", NS).get("title")
        assert title.startswith("image " + hocr._image_value(name) + "; bbox 0 0 800 300")


def test_hocr_empty_page_and_ids_unique_across_pages():
    empty = hocr.page_to_hocr(Page("e#1", 50, 40, page_no=1))
    validate_hocr(empty)
    assert "<div" in empty and "/>" not in empty.split("<body>")[1]  # no self-closed div in HTML
    ids1 = set(re.findall(r'id="([^"]+)"', hocr.page_to_hocr(make_page(page_no=1))))
    ids2 = set(re.findall(r'id="([^"]+)"', hocr.page_to_hocr(make_page(page_no=2))))
    assert ids1 and not ids1 & ids2


def test_hocr_file_name():
    a = hocr.hocr_file_name("s3://b/scans/a.tar!/dir/x.png#1")
    assert a.startswith("b_scans_a.tar_dir_x.png_1-") and a.endswith(".html")
    assert a != hocr.hocr_file_name("s3://b/scans/a.tar!/dir/x.png#2")
    assert len(hocr.hocr_file_name("s3://b/" + "x" * 900 + "#1")) < 120


def test_hocr_tools_check(tmp_path):
    """The hocr-tools reference checker (lxml.html based) accepts our output."""
    exe = shutil.which("hocr-check") or str(Path(sys.executable).with_name("hocr-check"))
    if not Path(exe).exists():
        pytest.skip("hocr-tools not installed (pip install hocr-tools)")
    f = tmp_path / "page.html"
    f.write_text(hocr.page_to_hocr(make_page(text_a='odd <&"\'> text'), image_name="a;b.png"), encoding="utf-8")
    res = subprocess.run([sys.executable, exe, str(f)], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    report = res.stderr + res.stdout
    assert "ok 1" in report and "not ok" not in report, report

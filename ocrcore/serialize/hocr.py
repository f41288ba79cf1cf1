"""hOCR 1.2 output: one XHTML file per page, built as an XML tree (escaping by the serialiser).

Why a tree and not a template string: OCR text is arbitrary (``<``, ``&``, quotes, control
characters), and only a serialiser escapes every case. What is emitted, and nothing else:

* ``<meta name="ocr-system">``, ``<meta name="ocr-capabilities">`` (see :data:`CAPABILITIES`),
  ``<meta name="ocr-number-of-pages">``;
* ``div.ocr_page``: ``image "<name>"; bbox 0 0 W H; ppageno N`` (``ppageno`` counts from 0, so it
  is ``page_no - 1``; our ``page_no`` counts from 1);
* ``div.ocr_carea`` per run of consecutive lines in the same column: ``bbox`` (union of lines);
* ``span.ocr_line``: ``bbox`` and, when the line has a baseline, ``baseline slope offset`` (the
  straight line through the first and last baseline points, offset in pixels from the bbox's
  bottom edge, as the spec defines it);
* ``span.ocrx_word``: ``bbox; x_wconf C`` with C an integer 0..100 (confidence x 100, rounded);
* characters as ``span.ocrx_cinfo`` children of the word: ``bbox; x_conf C`` with C a float
  0..100 (two decimals). A word without characters holds its text directly.

Boxes are the containers' integer pixels in the original image. Ids are ``page_P``, ``block_P_K``,
``line_P_K``, ``word_P_K``, ``char_P_K`` with P the page number and K a counter per page, so they
are unique within a page and across the pages of one source. Characters XML cannot carry
(C0 controls other than tab/newline, lone surrogates) are replaced by U+FFFD. In the ``image``
name, ``"`` and ``\\`` are backslash-escaped and ``;`` is written ``%3B`` so that naive
``title.split(';')`` parsers (hocr-tools) still read the title.
"""
from __future__ import annotations

import hashlib
import math
import re
import xml.etree.ElementTree as ET
from typing import Optional

from ocrcore.containers import Line, Page, union_bbox

XHTML_NS = "http://www.w3.org/1999/xhtml"
CAPABILITIES = ("ocr_page", "ocr_carea", "ocr_line", "ocrx_word", "ocrx_cinfo", "ocrp_wconf")
_XML_DECL = '<?xml version="1.0" encoding="UTF-8"?>\n'
_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
)
_XML_INVALID = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """Text with characters XML 1.0 cannot represent replaced by U+FFFD."""
    return _XML_INVALID.sub("\ufffd", str(text))


def ocr_system() -> str:
    try:
        from importlib.metadata import version

        return f"ocrcore {version('ocrcore')}"
    except Exception:  # not installed as a distribution
        return "ocrcore"


def _bbox(b) -> str:
    return "bbox " + " ".join(str(int(v)) for v in b)


def _pct(conf: float) -> float:
    c = float(conf)
    return 0.0 if math.isnan(c) else min(max(c, 0.0), 1.0) * 100.0


def _image_value(name: str) -> str:
    s = xml_safe(name).replace("\\", "\\\\").replace('"', '\\"').replace(";", "%3B")
    return f'"{s}"'


def _baseline(line: Line) -> Optional[str]:
    pts = line.baseline
    if not pts:
        return None
    (xf, yf), (xl, yl) = pts[0], pts[-1]
    slope = (yl - yf) / (xl - xf) if xl != xf else 0.0
    x0, y1 = line.bbox[0], line.bbox[3]
    offset = round(yf + slope * (x0 - xf) - y1)
    s = f"{slope:.4f}".rstrip("0").rstrip(".")
    return f"baseline {'0' if s in ('', '-0') else s} {int(offset)}"


def _el(parent: ET.Element, tag: str, cls: str, id_: str, title: str) -> ET.Element:
    return ET.SubElement(parent, tag, {"class": cls, "id": id_, "title": title})


def page_to_hocr(page: Page, image_name: Optional[str] = None, *, system: Optional[str] = None) -> str:
    """One page as an hOCR 1.2 XHTML document (a str; encode as UTF-8 to write it).

    ``image_name`` goes into the page's ``image`` property; it defaults to the page id.
    """
    p = max(int(page.page_no), 1)
    html = ET.Element("html", {"xmlns": XHTML_NS, "xml:lang": "en", "lang": "en"})
    head = ET.SubElement(html, "head")
    ET.SubElement(head, "title").text = xml_safe(page.page_id or "OCR output")
    ET.SubElement(head, "meta", {"http-equiv": "Content-Type", "content": "text/html; charset=utf-8"})
    ET.SubElement(head, "meta", {"name": "ocr-system", "content": xml_safe(system or ocr_system())})
    ET.SubElement(head, "meta", {"name": "ocr-capabilities", "content": " ".join(CAPABILITIES)})
    ET.SubElement(head, "meta", {"name": "ocr-number-of-pages", "content": "1"})
    body = ET.SubElement(html, "body")
    title = "; ".join(
        [
            "image " + _image_value(page.page_id if image_name is None else image_name),
            _bbox((0, 0, page.width, page.height)),
            f"ppageno {max(int(page.page_no) - 1, 0)}",
        ]
    )
    page_el = _el(body, "div", "ocr_page", f"page_{p}", title)

    # consecutive lines of one column form a content area
    runs: list[list[Line]] = []
    for line in page.lines:
        if runs and runs[-1][0].column == line.column:
            runs[-1].append(line)
        else:
            runs.append([line])
    n = {"block": 0, "line": 0, "word": 0, "char": 0}

    def next_id(kind: str) -> str:
        n[kind] += 1
        return f"{kind}_{p}_{n[kind]}"

    for run in runs:
        area = _el(page_el, "div", "ocr_carea", next_id("block"), _bbox(union_bbox(ln.bbox for ln in run)))
        for line in run:
            props = [_bbox(line.bbox)]
            if (bl := _baseline(line)) is not None:
                props.append(bl)
            line_el = _el(area, "span", "ocr_line", next_id("line"), "; ".join(props))
            if not line.words:
                line_el.text = xml_safe(line.text)
            for i, word in enumerate(line.words):
                w_el = _el(
                    line_el, "span", "ocrx_word", next_id("word"),
                    f"{_bbox(word.bbox)}; x_wconf {int(round(_pct(word.confidence)))}",
                )
                if word.chars:
                    for ch in word.chars:
                        c_el = _el(
                            w_el, "span", "ocrx_cinfo", next_id("char"),
                            f"{_bbox(ch.bbox)}; x_conf {_pct(ch.confidence):.2f}",
                        )
                        c_el.text = xml_safe(ch.text)
                else:
                    w_el.text = xml_safe(word.text)
                if i < len(line.words) - 1:
                    w_el.tail = " "
    _layout(html)
    return _XML_DECL + _DOCTYPE + ET.tostring(html, encoding="unicode", short_empty_elements=False) + "\n"


def _layout(html: ET.Element) -> None:
    """Newlines and indentation between block elements only (inside a line, spaces are text)."""

    def walk(el: ET.Element, depth: int) -> None:
        kids = list(el)
        if not kids or el.get("class") == "ocr_line":
            return
        el.text = (el.text or "") + "\n" + "  " * (depth + 1) if not (el.text or "").strip() else el.text
        for k in kids:
            walk(k, depth + 1)
            k.tail = "\n" + "  " * (depth + 1)
        kids[-1].tail = "\n" + "  " * depth

    walk(html, 0)


def hocr_file_name(page_id: str) -> str:
    """A file name for a page's hOCR: a readable tail of the id plus a hash (unique, < 120 chars)."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", page_id)).strip("_.")
    digest = hashlib.sha1(page_id.encode("utf-8", "surrogatepass")).hexdigest()[:12]
    return f"{slug[-80:].lstrip('_.') or 'page'}-{digest}.html"

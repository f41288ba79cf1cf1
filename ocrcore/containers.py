"""Result containers: Page -> Line -> Word -> Char.

One shape serves recognition results and synthetic ground truth, so evaluation compares like with
like. Boxes are integer pixels ``(x0, y0, x1, y1)`` (right/bottom exclusive) in the ORIGINAL input
image; confidences are floats in [0, 1] (ground truth uses 1.0). The containers are plain data:
writers (Parquet, hOCR) read them and convert coordinates only at the edge.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Callable, Iterable, Optional, Sequence

BBox = tuple[int, int, int, int]


def union_bbox(boxes: Iterable[BBox]) -> BBox:
    """Smallest box holding every box; raises ValueError on an empty iterable."""
    boxes = list(boxes)
    if not boxes:
        raise ValueError("union_bbox needs at least one box")
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def bbox_iou(a: BBox, b: BBox) -> float:
    """Intersection over union of two boxes (0.0 when either is empty)."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area_a = max(0, a[2] - a[0]) * max(0, a[3] - a[1])
    area_b = max(0, b[2] - b[0]) * max(0, b[3] - b[1])
    union = area_a + area_b - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Char:
    text: str
    bbox: BBox
    confidence: float = 1.0


@dataclass
class Word:
    text: str
    bbox: BBox
    confidence: float = 1.0
    chars: list[Char] = field(default_factory=list)


@dataclass
class Line:
    bbox: BBox
    text: str
    confidence: float = 1.0
    words: list[Word] = field(default_factory=list)
    baseline: Optional[list[tuple[int, int]]] = None
    column: int = 0


@dataclass
class Page:
    page_id: str
    width: int
    height: int
    lines: list[Line] = field(default_factory=list)
    source_uri: str = ""
    page_no: int = 0
    confidence: float = 1.0
    model: str = ""
    run_id: str = ""

    @property
    def text(self) -> str:
        """Page text in reading order, one line per text line."""
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict:
        """Plain nested dict (tuples become lists) in the Parquet result schema's shape."""
        d = asdict(self)
        d["text"] = self.text
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Page":
        """Inverse of :meth:`to_dict`; tolerates missing optional keys."""
        lines = []
        for ld in d.get("lines") or []:
            words = []
            for wd in ld.get("words") or []:
                chars = [
                    Char(cd["text"], tuple(cd["bbox"]), float(cd.get("confidence", 1.0)))
                    for cd in wd.get("chars") or []
                ]
                words.append(Word(wd["text"], tuple(wd["bbox"]), float(wd.get("confidence", 1.0)), chars))
            baseline = ld.get("baseline")
            lines.append(
                Line(
                    tuple(ld["bbox"]),
                    ld["text"],
                    float(ld.get("confidence", 1.0)),
                    words,
                    [tuple(p) for p in baseline] if baseline else None,
                    int(ld.get("column", 0) or 0),
                )
            )
        return cls(
            page_id=d["page_id"],
            width=int(d["width"]),
            height=int(d["height"]),
            lines=lines,
            source_uri=d.get("source_uri", "") or "",
            page_no=int(d.get("page_no", 0) or 0),
            confidence=float(d.get("confidence", 1.0)),
            model=d.get("model", "") or "",
            run_id=d.get("run_id", "") or "",
        )


def map_page_boxes(page: Page, to_boxes: Callable[[list[BBox]], Sequence[Sequence[int]]], width: int,
                   height: int) -> Page:
    """``page`` with every box (lines, words, characters) passed through ``to_boxes`` (all of
    them at once, in order) and the size ``width`` x ``height``: a page read in another frame
    (turned, resampled) put back on the image as given."""
    boxes: list[BBox] = []
    for ln in page.lines:
        boxes.append(ln.bbox)
        for w in ln.words:
            boxes.append(w.bbox)
            boxes.extend(c.bbox for c in w.chars)
    it = iter(tuple(int(v) for v in row) for row in to_boxes(boxes))
    lines = []
    for ln in page.lines:
        lb = next(it)
        words = []
        for w in ln.words:
            wb = next(it)
            words.append(Word(w.text, wb, w.confidence, [Char(c.text, next(it), c.confidence) for c in w.chars]))
        lines.append(Line(lb, ln.text, ln.confidence, words, column=ln.column))
    return Page(page_id=page.page_id, width=width, height=height, lines=lines, source_uri=page.source_uri,
                page_no=page.page_no, confidence=page.confidence, model=page.model, run_id=page.run_id)

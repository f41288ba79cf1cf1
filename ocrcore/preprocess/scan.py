"""The layout of a whole scanned image: its parts analysed as pages, their lines in reading order.

A scan is not always one flat page. A book scanned open holds two facing pages, each with its
own skew, curling into the spine; a reversed-out heading is a dark bar to the page's
binarization, its white lettering lost. :func:`analyse_scan` cuts a spread into its pages
(:func:`.pageparts.spread_split`), analyses each (:func:`.pages.analyse_page`), flattens and
analyses again a page whose lines bend (:mod:`.dewarp`), binarizes again without it a page
whose back shows through the paper (:mod:`.showthrough`), reads the bars on each inverted
(:func:`.pageparts.reversed_bars`), and puts all their lines in one reading order: the left page
before the right one, a bar's lines by height among its page's lines. Boxes are mapped back onto
the image as given (:meth:`PagePart.to_image`). The line crops are cut here too
(:meth:`ScanLayout.crops`), with the back page's strokes turned to paper where it shows.

Recognition (``ocrcore.recognize.page_lines``), the preprocess flow and ``ocr segment`` all take
their lines from here, so the lines a person inspects, the line dataset a preprocess run writes and
the lines a recognition run reads are the same.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Optional

import numpy as np
from PIL import Image

from ocrcore.containers import BBox, bbox_iou
from ocrcore.preprocess.binarize import BinarizeResult
from ocrcore.preprocess.dewarp import VerticalWarp, estimate_curl, estimate_warp
from ocrcore.preprocess.marks import page_grey
from ocrcore.preprocess.pageparts import bar_layout, reversed_bars, reversed_image, spread_split
from ocrcore.preprocess.pages import PageLayout, analyse_page
from ocrcore.preprocess.segment import LineCrop, LineRegion
from ocrcore.preprocess import showthrough

# A page line this much inside a bar that yields lines, or overlapping it this much (box IoU), is
# the bar itself taken for a line (a dark blob, read as noise); it goes. The IoU rule catches a
# bar on a skewed page, whose line box (the bar's deskewed box mapped back) outgrows the bar's:
# 0.67 inside, read as "Tm" (a synthetic spread at 100 dpi, skewed about a degree).
BAR_LINE_SHARE = 0.7
BAR_LINE_IOU = 0.5
FLATTEN_PASSES = 3  # analyses of a curled page's flat page at most, each taking out the bend left


@dataclass
class Flattened:
    """A curled page, flattened: its layout was found on the flat page that ``warp`` makes of
    the deskewed frame of ``first`` (the analysis that measured the bend)."""

    warp: VerticalWarp
    first: BinarizeResult


@dataclass(eq=False)
class PagePart:
    """A part of the image analysed as a page of its own.

    ``kind``: ``"page"`` (the whole image), ``"left"`` / ``"right"`` (two facing pages), ``"bar"``
    (light lettering on a dark bar, analysed inverted) or ``"line"`` (single-line mode).
    ``box``: where the part lies on the image. Its layout's boxes are on the part (``box``'s
    origin), or on its flat page when ``flattened``; :meth:`to_image` maps them onto the image.
    """

    kind: str
    box: BBox
    layout: PageLayout
    flattened: Optional[Flattened] = None
    shaded: float = 0.0  # share of the paper away from its lines' ink that is shaded (see crops())
    soft: float = 0.0  # share of its lines' ink that is soft, the back page's (see crops())
    faint: float = 0.0  # share of the paper away from its lines' ink in a light back page's letters
    _crops: Optional[dict] = field(default=None, repr=False)

    @property
    def shows_through(self) -> bool:
        """Whether the back of the sheet shows through this part (taken out where binarizing
        again could tell it: :attr:`BinarizeResult.show_through` of its layout)."""
        return (self.layout.binarized.show_through or showthrough.shows(self.shaded, self.soft)
                or self.faint > showthrough.FAINT_SHARE)

    def crops(self) -> dict[int, LineCrop]:
        """The crops of the layout's lines (by ``id`` of the region), cut once and kept. The
        back page showing through is turned to paper in them (:func:`.showthrough.clean_crops`;
        not for single lines, whose noise is what a captcha model learned, nor for bilevel
        input)."""
        if self._crops is None:
            regions, b = self.layout.lines, self.layout.binarized
            cut = [r.crop(b) for r in regions]
            if self.kind != "line" and not b.was_binary:
                cut, self.shaded, self.soft, self.faint = showthrough.clean_crops(regions, cut, force=b.show_through)
            self._crops = {id(r): c for r, c in zip(regions, cut)}
        return self._crops

    @property
    def origin(self) -> tuple[int, int]:
        return int(self.box[0]), int(self.box[1])

    @property
    def as_given(self) -> BinarizeResult:
        """The part binarized as given (its skew and polarity), before any flattening."""
        return self.flattened.first if self.flattened is not None else self.layout.binarized

    @property
    def plain(self) -> bool:
        """Whether the layout's boxes are already on the image (nothing to move or unbend)."""
        return self.flattened is None and self.origin == (0, 0)

    def to_image(self, boxes) -> list[BBox]:
        """Boxes of the layout -> boxes on the whole image."""
        if self.flattened is not None:
            fl = self.flattened
            boxes = fl.first.transform.to_original_bboxes(fl.warp.to_page_boxes(boxes))
        x, y = self.origin
        return [(int(b[0]) + x, int(b[1]) + y, int(b[2]) + x, int(b[3]) + y) for b in boxes]


@dataclass
class PlacedLine:
    """A line of one part; ``bbox`` and ``column`` are on the whole image (columns of the right
    page are numbered after the left page's)."""

    region: LineRegion
    part: PagePart
    column: int

    @cached_property
    def bbox(self) -> BBox:
        # mapped once: on a flattened page the map samples the displacement, and reading order
        # and the bar checks ask for the box again and again
        return self.part.to_image([self.region.bbox])[0]


@dataclass
class ScanLayout:
    """The parts of a scan (a page, or two facing pages first, then any bars) and its lines in
    reading order."""

    parts: list[PagePart]
    lines: list[PlacedLine]

    @property
    def pages(self) -> list[PagePart]:
        return [p for p in self.parts if p.kind != "bar"]

    def crops(self) -> list[LineCrop]:
        """The line crops (normalized grey, 1 = paper) of :attr:`lines`, in the same order (the
        parts' crops, :meth:`PagePart.crops`)."""
        return [pl.part.crops()[id(pl.region)] for pl in self.lines]


def analyse_scan(image: Image.Image, *, single: bool = False, binarize_params: Optional[dict] = None,
                 segment_params: Optional[dict] = None, split_spreads: bool = True,
                 reversed_text: bool = True, flatten: bool = True) -> ScanLayout:
    """Find the lines of a scanned image in reading order.

    ``single``: the image is one line (a captcha, a line image): no spreads, bars or segmentation.
    ``split_spreads``: two facing pages are analysed one by one, the left one first.
    ``reversed_text``: light lettering on dark bars is found and analysed inverted.
    ``flatten``: a page whose lines bend (curling into a book's spine) is flattened first.
    """
    full = (0, 0, image.width, image.height)
    if single:
        part = PagePart("line", full, analyse_page(image, single=True, binarize_params=binarize_params))
        return ScanLayout([part], [PlacedLine(r, part, int(r.column)) for r in part.layout.lines])
    # grey once: the spread and bar checks and the analysis would each convert a colour page;
    # highlighter marks on a colour page are taken out of the paper here (:mod:`.marks`)
    image = page_grey(image)
    x = spread_split(image) if split_spreads else None
    if x is None:
        return _analyse_part(image, full, "page", binarize_params, segment_params, reversed_text, 0, flatten)
    left = _analyse_part(image, (0, 0, x, image.height), "left", binarize_params, segment_params, reversed_text,
                         0, flatten)
    columns = 1 + max((pl.column for pl in left.lines), default=-1)
    right = _analyse_part(image, (x, 0, image.width, image.height), "right", binarize_params, segment_params,
                          reversed_text, columns, flatten)
    return ScanLayout(left.parts + right.parts, left.lines + right.lines)


def _flattened(part: PagePart, binarize_params: Optional[dict], segment_params: Optional[dict]) -> PagePart:
    """The part analysed again on its flat page when its lines bend (:mod:`.dewarp`), else as is."""
    first, m = part.layout.binarized, part.layout.measures
    text = m.pop("text", None)  # a page's worth of pixels: not kept with the layout
    if text is None:
        return part
    args = (text, m["scale"], m["factor"], first.transform.size)
    warp = estimate_warp(*args, columns=m.pop("columns"))
    if warp is None:
        return part
    # Lines followed one by one fall short where a page curls hard (:func:`estimate_curl`): the
    # page is flattened first by the bend its lines' slopes model, and what is left is followed.
    warp = estimate_curl(*args) or warp
    # The page as given (grey, dark text on light), deskewed, then flattened, is analysed afresh.
    # Flattening the first analysis's normalized grey instead lost all but 5 of 104 lines on a
    # page with its back showing through at 45% (read bent by the back page's text; 47 lines
    # unflattened, 43 this way): its levels, fitted to the bent page, do not fit the flat one.
    page = Image.fromarray(first.src)
    if first.deskewed:
        page = page.transform(first.transform.size, Image.AFFINE, first.transform.pil_affine(), Image.BILINEAR,
                              fillcolor=255)
    grey = np.asarray(page)

    def analyse(w: VerticalWarp, measure: bool) -> PageLayout:
        # Not deskewed again: the modelled bend leaves lines level to a fraction of a degree (0.19
        # on one page), which deskewing turned into another frame, where no bend left was measured
        # (5.81% CER on that page at 10% curl, 0.17% this way).
        flat = w.flatten(grey, 255)
        return analyse_page(Image.fromarray(flat), binarize_params={**(binarize_params or {}), "deskew": False},
                            segment_params=segment_params, measure=measure)

    # Bent hard, neighbouring lines merged where they bent most and the bend measured there fell
    # short; on the flat page they come apart, and what bend is left is measured and taken out.
    for k in range(FLATTEN_PASSES):
        layout = analyse(warp, k < FLATTEN_PASSES - 1)  # the last pass measures nothing more
        m = layout.measures
        text = m.pop("text", None)
        more = None
        if text is not None:
            more = estimate_warp(text, m["scale"], m["factor"], first.transform.size, columns=m.pop("columns"))
        m.clear()
        if more is None:
            break
        warp = warp.then(more)
    return PagePart(part.kind, part.box, layout, Flattened(warp, first))


def _analyse_part(image: Image.Image, box: BBox, kind: str, binarize_params: Optional[dict],
                  segment_params: Optional[dict], reversed_text: bool, column0: int = 0,
                  flatten: bool = True) -> ScanLayout:
    """One page of the image (``box``), with the bars on it."""
    im = image if box == (0, 0, image.width, image.height) else image.crop(box)
    part = PagePart(kind, box, analyse_page(im, binarize_params=binarize_params, segment_params=segment_params,
                                            measure=flatten))
    if flatten:
        part = _flattened(part, binarize_params, segment_params)
    if _shows_through(part, binarize_params):
        # binarized again without the back page's strokes: taken for text where the front has
        # none, they made lines of their own and joined the front's. A page too faint to tell
        # them by keeps its first analysis (its crops are cleaned all the same).
        params = {**(binarize_params or {}), "show_through": True}
        again = PagePart(kind, box, analyse_page(im, binarize_params=params, segment_params=segment_params,
                                                 measure=flatten))
        if again.layout.binarized.show_through:
            part = _flattened(again, params, segment_params) if flatten else again
    parts, lines = [part], [PlacedLine(r, part, column0 + int(r.column)) for r in part.layout.lines]
    if not reversed_text:
        return ScanLayout(parts, lines)
    for b, mask in reversed_bars(im):
        layout = bar_layout(reversed_image(im, b, mask), binarize_params, segment_params)
        if not layout.lines:
            continue
        bar = PagePart("bar", (b[0] + box[0], b[1] + box[1], b[2] + box[0], b[3] + box[1]), layout)
        parts.append(bar)
        lines = [pl for pl in lines
                 if _share_inside(pl.bbox, bar.box) < BAR_LINE_SHARE and bbox_iou(pl.bbox, bar.box) < BAR_LINE_IOU]
        lines = _insert_by_height(lines, [PlacedLine(r, bar, column0 + int(r.column)) for r in layout.lines])
    return ScanLayout(parts, lines)


def _shows_through(part: PagePart, binarize_params: Optional[dict]) -> bool:
    """Whether a grey page's line crops show its back page (:mod:`.showthrough`) where its
    binarization did not already take it out (and was not told not to)."""
    b = part.layout.binarized
    if b.was_binary or b.show_through or (binarize_params or {}).get("show_through", None) is not None:
        return False
    part.crops()
    return showthrough.shows(part.shaded, part.soft)


def _share_inside(b: BBox, box: BBox) -> float:
    """The share of box ``b`` that lies inside ``box``."""
    w = min(b[2], box[2]) - max(b[0], box[0])
    h = min(b[3], box[3]) - max(b[1], box[1])
    return max(0, w) * max(0, h) / max(1, (b[2] - b[0]) * (b[3] - b[1]))


def _insert_by_height(lines: list[PlacedLine], new: list[PlacedLine]) -> list[PlacedLine]:
    """``new`` (a bar's lines, in order) put before the first line that lies below the bar's top
    and overlaps it across; after everything when none does."""
    boxes = [pl.bbox for pl in new]
    top = min(b[1] for b in boxes)
    x0, x1 = min(b[0] for b in boxes), max(b[2] for b in boxes)
    at = next((i for i, pl in enumerate(lines)
               if pl.bbox[1] >= top and pl.bbox[0] < x1 and pl.bbox[2] > x0), len(lines))
    return lines[:at] + new + lines[at:]

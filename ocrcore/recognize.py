"""Page -> preprocessing -> lines -> batched recognition -> containers with boxes.

Character boxes come from the CTC alignment (Calamari/Tesseract style): each character's frame run
``[start, end)`` is mapped back through the recognizer's scaling to columns of the line crop
(using the line's true width, not the padded batch width); the line is cut between neighbouring
characters at the ink valley between their spans, so no ink falls between boxes; each piece is
snapped to its ink (antialiased edge included), and finally mapped through the crop's origin and
the deskew transform to the ORIGINAL page.

Confidences: a character's is the maximum probability in its CTC run; a word's is the MINIMUM of
its characters' (one doubtful letter makes a doubtful word, which is what a reviewer wants to
find); a line's comes from the decoder; a page's is the character-weighted mean of its lines.
"""
from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import numpy as np
from PIL import Image

from ocrcore.containers import BBox, Char, Line, Page, Word, map_page_boxes, union_bbox
from ocrcore.imageio import square_pixels, to_gray, unsquare
from ocrcore.preprocess import dots

# Grey levels (1.0 = white paper) on the normalized line crop. A box holds every pixel darker than
# BOX_INK, so it takes in most of a glyph's antialiased edge as a tight ink box does; cuts between
# neighbouring characters go where the column count of pixels darker than CUT_INK is lowest.
# Measured on synthetic pages (ink-box truth): thresholds of 0.5/0.5 with midpoint cuts gave a mean
# character IoU of 0.671 (4 pages, 300 dpi); valley cuts 0.695. Across 3 other pages at 300 and
# 200 dpi, BOX_INK/CUT_INK 0.8/0.6 gave 0.819 and 0.775, 0.9/0.7 gave 0.791 and 0.625 (lighter
# thresholds catch blur and neighbours' residue above and below the glyphs at low resolution).
BOX_INK = 0.8
CUT_INK = 0.6
# On a faint, noisy crop (a carbon copy, a faded scan) normalization stretches the paper's noise
# until single grains pass BOX_INK above and below the letters, and boxes grow to the crop's
# height. There a pixel is box ink only if darker than the paper's median by NOISE_SIGMAS times
# the paper's noise (its upper quartile's spread; ink fills less than half a crop). Measured on
# synthetic pages: 3 noisy carbon copies at 300 dpi, character / word IoU 0.704 / 0.693 -> 0.937
# / 0.933; 6 plain pages at 300 dpi and 4 at 200 unchanged (0.820 / 0.922, 0.733 / 0.886); 3 or 5
# sigmas gave 0.906 / 0.895 and 0.937 / 0.936 on the copies, 5 lost 0.02 on heavily degraded pages.
NOISE_SIGMAS = 4.0

# Lines read below this confidence are left out of a page (``PageRecognizer``'s
# ``min_line_confidence``; 0 keeps every line). What falls under it is mostly not text: the dots
# of a halftone or the grain of a photo that segmentation took for glyphs, read as "$27A #%".
# Measured with ``python bench/bench_line_confidence.py --pages 8`` (2026-12-05; 64 synthetic
# pages: pictures, tables, running heads, heavy degradation at 150-300 dpi, dithered and
# salt-and-pepper scans): of 4,219 lines found, 404 match no true line; below 0.5 lie 353 of those
# (832 characters) and 4 true lines, read with 93 errors in their 111 characters (at 0.6: 382 and
# 9 true lines, 174 errors in 230 characters).
MIN_LINE_CONFIDENCE = 0.5


@dataclass
class LineImage:
    """A line to recognise: grey pixels (1.0 = white) and the map from crop boxes to the page.

    ``to_page_many`` (optional) maps a list of boxes at once, which is faster than ``to_page``
    box by box.
    """

    image: np.ndarray
    bbox: BBox
    to_page: Callable[[BBox], BBox]
    column: int = 0
    to_page_many: Optional[Callable[[Sequence[BBox]], list[BBox]]] = None

    def boxes_to_page(self, boxes: Sequence[BBox]) -> list[BBox]:
        if not boxes:
            return []
        if self.to_page_many is not None:
            return list(self.to_page_many(boxes))
        return [self.to_page(b) for b in boxes]


def page_lines(image: Image.Image, *, single_line: bool = False, binarize_params: Optional[dict] = None,
               segment_params: Optional[dict] = None, split_spreads: bool = True,
               reversed_text: bool = True, flatten: bool = True) -> list[LineImage]:
    """Find the lines of a page in reading order (or the whole image as one line).

    The layout comes from :func:`ocrcore.preprocess.scan.analyse_scan`: ``split_spreads`` reads
    an image of two facing pages page by page, the left one first, each deskewed on its own;
    ``reversed_text`` reads light lettering on dark bars too; ``flatten`` straightens a page
    curling into a book's spine. Boxes stay on the image as given.
    """
    if single_line:
        g = to_gray(image)
        h, w = g.shape
        return [LineImage(g, (0, 0, w, h), lambda b: b)]
    from ocrcore.preprocess.scan import analyse_scan

    scan = analyse_scan(image, binarize_params=binarize_params, segment_params=segment_params,
                        split_spreads=split_spreads, reversed_text=reversed_text, flatten=flatten)
    out = []
    for pl, crop in zip(scan.lines, scan.crops()):
        region = pl.region
        li = LineImage(crop.image, tuple(region.bbox), crop.to_original_bbox, pl.column, crop.to_original_bboxes)
        out.append(li if pl.part.plain else _on_image(li, pl.part))
    return out


def _on_image(li: LineImage, part) -> LineImage:
    """A line found in a part of the image (the right page of a spread, a reversed bar, a curled
    page flattened), with its boxes mapped onto the whole image."""
    many = li.to_page_many
    return LineImage(li.image, part.to_image([li.bbox])[0], lambda b: part.to_image([li.to_page(b)])[0], li.column,
                     (lambda bs: part.to_image(many(bs)) if len(bs) else []) if many is not None else None)


def _valley_cuts(profile: np.ndarray, spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """Where to split each pair of neighbouring characters with CTC spans ``spans[i]``, ``spans[i+1]``.

    Between the two spans' centres, the columns with the least ink (``profile``: ink pixels per
    column): white gaps when the glyphs are apart, the thinnest joint when they touch. Of such
    columns the one nearest the spans' midpoint wins (the middle of the gap between the spans, or
    of their centres when they overlap), and the cut is the centre of its run of equal columns.
    Vectorised over all pairs: one window row per pair.
    """
    n, w = len(spans) - 1, len(profile)
    sp = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    a, b = sp[:-1], sp[1:]
    mid = np.where(a[:, 1] <= b[:, 0], (a[:, 1] + b[:, 0]) / 2.0,
                   ((a[:, 0] + a[:, 1]) / 2.0 + (b[:, 0] + b[:, 1]) / 2.0) / 2.0)
    lo = np.clip((a[:, 0] + a[:, 1]) // 2, 0, w - 1)
    hi = np.minimum(np.maximum((b[:, 0] + b[:, 1] + 1) // 2, lo + 1), w)
    cols = lo[:, None] + np.arange(int((hi - lo).max()))[None, :]
    inside = cols < hi[:, None]
    vals = np.where(inside, profile[np.minimum(cols, w - 1)], np.iinfo(np.int64).max)
    lowest = vals == vals.min(axis=1, keepdims=True)
    dist = np.where(lowest, np.abs(cols + 0.5 - mid[:, None]), np.inf)
    j = cols[np.arange(n), dist.argmin(axis=1)]
    # runs of equal profile values: start and (exclusive) end of the run holding each column
    change = np.flatnonzero(np.diff(profile)) + 1
    run_start = np.concatenate([[0], change])[np.searchsorted(change, j, side="right")]
    run_end = np.concatenate([change, [w]])[np.searchsorted(change, j, side="right")]
    return (np.maximum(run_start, lo) + np.minimum(run_end, hi)) / 2.0


def box_ink_level(gray: np.ndarray) -> float:
    """The grey level below which a line crop's pixel is ink for its boxes: :data:`BOX_INK`, or
    lower where the paper is noisy (:data:`NOISE_SIGMAS`; measured on every other pixel)."""
    sub = gray[::2, ::2]
    counts = np.bincount(np.clip(sub * 255.0 + 0.5, 0, 255).astype(np.uint8).ravel(), minlength=256)
    p50, p75 = np.searchsorted(np.cumsum(counts), (0.5 * sub.size, 0.75 * sub.size)) / 255.0  # to 1/255
    return min(BOX_INK, float(p50 - NOISE_SIGMAS * (p75 - p50) / 0.674))


def char_boxes(gray: np.ndarray, spans: Sequence[tuple[int, int]]) -> list[BBox]:
    """Boxes in line-crop coordinates for characters whose CTC spans are ``[x0, x1)`` columns.

    A CTC span marks where the model fired, not the glyph's extent, so the line is cut between
    neighbours at the ink valley between their spans (:func:`_valley_cuts`; the first character
    reaches the crop's left edge, the last its right edge) and each piece is snapped to its ink.
    A piece without ink keeps its columns and the line's ink rows.
    """
    h, w = gray.shape
    n = len(spans)
    if n == 0:
        return []
    ink = gray < box_ink_level(gray)
    col_ink = ink.any(axis=0)
    ink_cols = np.flatnonzero(col_ink)
    top = np.where(col_ink, ink.argmax(axis=0), h)  # first ink row per column
    bottom = np.where(col_ink, h - ink[::-1].argmax(axis=0), 0)  # last ink row + 1
    rows_any = np.flatnonzero(ink.any(axis=1))
    line_y0, line_y1 = (int(rows_any[0]), int(rows_any[-1]) + 1) if rows_any.size else (0, h)
    cuts = np.empty(n + 1)
    cuts[0], cuts[-1] = 0.0, float(w)
    if n > 1:
        cuts[1:-1] = _valley_cuts((gray < CUT_INK).view(np.uint8).sum(axis=0, dtype=np.int64), spans)
    left = np.clip(np.floor(cuts[:-1]), 0, w - 1).astype(np.int64)
    right = np.clip(np.maximum(np.ceil(cuts[1:]), left + 1), 0, w).astype(np.int64)
    if ink_cols.size == 0:
        return [(int(a), line_y0, int(b), line_y1) for a, b in zip(left, right)]
    first = np.searchsorted(ink_cols, left)  # index in ink_cols of the first ink column >= left
    last = np.searchsorted(ink_cols, right) - 1  # ... of the last ink column < right
    has = first <= last  # the piece has ink: snap to it; else keep its columns
    x0 = np.where(has, ink_cols[np.minimum(first, ink_cols.size - 1)], left)
    x1 = np.where(has, ink_cols[np.maximum(last, 0)] + 1, right)
    # top and bottom of the ink in each box's columns, all boxes at once: one window row per box
    cols = x0[:, None] + np.arange(max(int((x1 - x0).max()), 1))[None, :]
    inside = cols < x1[:, None]
    cols = np.minimum(cols, w - 1)
    y0 = np.where(has, np.where(inside, top[cols], h).min(axis=1), line_y0)
    y1 = np.where(has, np.where(inside, bottom[cols], 0).max(axis=1), line_y1)
    return list(zip(x0.tolist(), y0.tolist(), x1.tolist(), y1.tolist()))


def wide_line_cuts(gray: np.ndarray, limit: int) -> list[tuple[int, bool]]:
    """Where to cut a line image wider than ``limit`` columns into pieces the model can take:
    ``(column, is_space)`` pairs, none for a line that fits.

    A line that long (a wide-format drawing's title block, a rule taken for a line, stripes
    turned sideways by the orientation check) once failed the whole page. Each cut lies in the
    second half of its piece, in the widest run of the emptiest columns there: a word space when
    the line has one (``is_space``: white, at least a fifth of the crop's height), else the
    thinnest joint.
    """
    h, w = gray.shape
    limit = max(int(limit), 8)
    if w <= limit:
        return []
    profile = (gray < CUT_INK).sum(axis=0)
    cuts, start = [], 0
    while w - start > limit:
        lo, hi = start + limit // 2, min(start + limit, w - limit // 4)  # no sliver left at the end
        win = profile[lo:hi]
        low = np.r_[False, win == win.min(), False]
        edges = np.flatnonzero(low[1:] != low[:-1])
        runs = edges.reshape(-1, 2)
        longest = runs[np.argmax(runs[:, 1] - runs[:, 0])]
        cut = lo + int(longest.sum()) // 2
        cuts.append((cut, bool(win.min() == 0 and longest[1] - longest[0] >= max(2, h // 5))))
        start = cut
    return cuts


def join_pieces(results: Sequence, cuts: Sequence[tuple[int, bool]]):
    """One line's result from the results of its pieces (:func:`wide_line_cuts`): characters moved
    to the whole line's columns (``x0``, ``x1``; their CTC frame numbers stay their piece's), a
    space where a cut fell in a word space, the confidence the mean of the characters' as the
    decoder's."""
    from ocrcore.model.predict import CharResult, LineResult

    if not cuts:
        return results[0]
    chars: list = []
    offsets = [0] + [c for c, _ in cuts]
    for k, (r, a) in enumerate(zip(results, offsets)):
        moved = [CharResult(c.text, c.confidence, c.start, c.end, c.x0 + a, c.x1 + a) for c in r.chars]
        if k and cuts[k - 1][1] and moved and chars and not chars[-1].text.isspace() and not moved[0].text.isspace():
            conf = (chars[-1].confidence + moved[0].confidence) / 2.0
            chars.append(CharResult(" ", conf, 0, 0, a, a))
        chars += moved
    if not chars:
        return LineResult("", float(np.mean([r.confidence for r in results])), [])
    return LineResult("".join(c.text for c in chars), float(np.mean([c.confidence for c in chars])), chars)


def build_line(li: LineImage, text: str, confidence: float, chars: Sequence) -> Line:
    """A :class:`Line` with words and characters in page coordinates from a recognised line.

    ``chars`` are the recognizer's characters (``text``, ``confidence``, ``x0``, ``x1`` in crop
    columns), spaces included; words are split on spaces.
    """
    visible = [c for c in chars if not c.text.isspace()]
    boxes = char_boxes(li.image, [(int(c.x0), int(c.x1)) for c in visible]) if visible else []
    page_boxes = iter(li.boxes_to_page(boxes))
    words: list[Word] = []
    cur: list[Char] = []

    def close() -> None:
        if cur:
            words.append(Word("".join(c.text for c in cur), union_bbox(c.bbox for c in cur),
                              float(min(c.confidence for c in cur)), list(cur)))
            cur.clear()

    for c in chars:
        if c.text.isspace():
            close()
        else:
            cur.append(Char(c.text, tuple(int(v) for v in next(page_boxes)), float(c.confidence)))
    close()
    return Line(tuple(int(v) for v in li.bbox), " ".join(w.text for w in words), float(confidence), words,
                column=li.column)


def settle_gc(young: int = 20_000) -> None:
    """Fewer and cheaper garbage collections in a process that recognises many pages.

    Call once the model is loaded. A page builds thousands of small objects (characters, words,
    Parquet rows), so CPython's collector, at its default of a pass every 700 new objects, runs
    often, and its full passes walk every live object, torch's and the model's included. This
    moves everything alive now out of the collector's sight (``gc.freeze``) and lets
    ``young`` objects pile up between passes of the youngest generation. Cycles are still
    collected. ``python bench/bench_page_stages.py --compare-gc``: 0.949x the time per page, most
    of the gain in building boxes and words.
    """
    gc.freeze()
    t0, t1, t2 = gc.get_threshold()
    gc.set_threshold(max(t0, int(young)), t1, t2)


def check_min_line_confidence(value) -> float:
    """``value`` as a float in [0, 1], or a ValueError that says what is expected."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= float(value) <= 1.0:
        raise ValueError(f"min_line_confidence must be a number from 0 to 1 (0 keeps every line), got {value!r}")
    return float(value)


class PageRecognizer:
    """Reads whole pages with a loaded :class:`ocrcore.model.predict.Recognizer`.

    ``orient`` (pages only): find pages given upside down or sideways and read them upright
    (:mod:`ocrcore.orientation`); their boxes are still on the page as given. ``turns`` counts
    the pages read so far by the turn they needed, ``last_check`` is the last page's decision.
    ``min_line_confidence`` (pages only): lines read below it are left out, as not text
    (:data:`MIN_LINE_CONFIDENCE`; 0 keeps all); ``dropped_lines`` counts them over the pages read
    so far. A single line (a captcha, a line image) is always kept: it is the input.
    ``join_dots`` (pages only): lines printed in separate pin dots (dot-matrix draft) are read
    blurred so their dots merge into strokes (:mod:`ocrcore.preprocess.dots`; boxes still come
    from the line as found); ``dotted_lines`` counts the crops read so.
    """

    def __init__(self, recognizer, *, single_line: bool = False, batch_size: int = 32, model_name: str = "",
                 orient: bool = True, min_line_confidence: float = MIN_LINE_CONFIDENCE, join_dots: bool = True):
        self.join_dots = join_dots and not single_line
        self.dotted_lines = 0
        self.min_line_confidence = check_min_line_confidence(min_line_confidence)
        self.dropped_lines = 0
        self.recognizer = recognizer
        self.single_line = single_line
        self.batch_size = batch_size
        self.model_name = model_name
        self.orient = orient and not single_line
        self.turns: dict[int, int] = {}
        self.last_check = None

    def _read(self, images: list) -> list:
        if not images:
            return []
        if self.join_dots:
            joined = [dots.join_dots(g) for g in images]
            self.dotted_lines += sum(j is not g for j, g in zip(joined, images))
            images = joined
        rec = self.recognizer
        read = lambda ims: rec.recognize_lines(ims, batch_size=self.batch_size, reframe=self._reframe)  # noqa: E731
        max_width, height = getattr(rec, "max_width", None), getattr(rec, "input_height", None)
        if not max_width or not height:
            return read(images)
        # Half the model's width limit: re-framing a crop may make it shallower, so wider.
        cuts = [wide_line_cuts(g, max_width * g.shape[0] // (2 * height)) for g in images]
        parts = []  # a line that fits is one piece, itself
        for g, cs in zip(images, cuts):
            bounds = [0] + [c for c, _ in cs] + [g.shape[1]]
            parts += [g[:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]
        got = iter(read(parts))
        return [join_pieces([next(got) for _ in range(len(cs) + 1)], cs) for cs in cuts]

    @property
    def _reframe(self) -> bool | None:
        """Line images and captchas: as the model says. Lines our segmenter cut: re-framed only
        where the model learned them re-framed (``line_norm["segmented"]``)."""
        norm = getattr(self.recognizer, "line_norm", None)
        if self.single_line or not norm:
            return None
        return bool(norm.get("segmented", False))

    def __call__(self, image: Image.Image, *, page_id: str, source_uri: str = "", page_no: int = 1,
                 run_id: str = "") -> Page:
        """One image read as a page (or a single line): text, words, characters and their boxes
        on the image as given. An image whose resolution tags say its pixels are not square (a
        fax) is read resampled square (:func:`ocrcore.imageio.square_pixels`)."""
        square, sx, sy = square_pixels(image)
        page = self._read_page(square, page_id=page_id, source_uri=source_uri, page_no=page_no, run_id=run_id)
        if square is image:
            return page
        return map_page_boxes(page, unsquare(sx, sy, *image.size), *image.size)

    def _read_page(self, image: Image.Image, *, page_id: str, source_uri: str, page_no: int, run_id: str) -> Page:
        from ocrcore.orientation import check_orientation, page_to_original, turn_image

        lines = page_lines(image, single_line=self.single_line)
        turn, known = 0, {}
        if self.orient:
            seen: dict[int, list[LineImage]] = {}

            def lines_of(im: Image.Image) -> list[np.ndarray]:
                seen[90] = page_lines(im)
                return [li.image for li in seen[90]]

            self.last_check = check_orientation(image, [li.image for li in lines], self._read, lines_of)
            turn, known = self.last_check.turn, self.last_check.readings
            if turn:
                lines, known = (seen[turn] if turn in seen else page_lines(turn_image(image, turn))), {}
        rest = [i for i in range(len(lines)) if i not in known]
        known.update(zip(rest, self._read([lines[i].image for i in rest])))
        results = [known[i] for i in range(len(lines))]
        self.turns[turn] = self.turns.get(turn, 0) + 1
        page_lines_ = []
        floor = 0.0 if self.single_line else self.min_line_confidence
        for li, r in zip(lines, results):
            line = build_line(li, r.text, r.confidence, r.chars)
            if not line.words:
                continue
            if line.confidence < floor:
                self.dropped_lines += 1
                continue
            page_lines_.append(line)
        weights = [max(1, len(ln.text)) for ln in page_lines_]
        conf = float(np.average([ln.confidence for ln in page_lines_], weights=weights)) if page_lines_ else 0.0
        w, h = (image.height, image.width) if turn in (90, 270) else (image.width, image.height)
        page = Page(page_id=page_id, width=w, height=h, lines=page_lines_, source_uri=source_uri,
                    page_no=page_no, confidence=conf, model=self.model_name, run_id=run_id)
        return page_to_original(page, turn, image.width, image.height)

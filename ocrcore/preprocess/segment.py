"""Text line segmentation and reading order, in the spirit of OCRopus ``gpageseg``.

Works on the deskewed ink image of :func:`~ocrcore.preprocess.binarize.binarize`, at a reduced
"work" resolution (the longer side near ``work_size`` pixels):

1. connected components; the text scale is the median square root of character box areas;
2. components are classed as text, small marks (dots, noise), rules (long and thin) and
   non-text blobs (pictures, frames); only text makes line seeds; long thin horizontal strokes
   (underlines, strike-through), table grids and rules broken into dashes are taken out of the
   ink first where they touch text, and painted white in every line crop;
3. column separators: tall vertical strips of whitespace with text on both sides (text edges),
   plus vertical rules;
4. line seeds: between a top edge (density rising downwards) and the next bottom edge of the
   horizontally smeared text density, the vertical gradient at the text scale; cut at separators;
5. label spreading at component level: each component joins the seed it overlaps most, small
   marks (i-dots, accents, commas) join the nearest seed above or below;
6. lines: union boxes of their components, pieces of one line merged, masks kept for extraction;
7. reading order: a line comes before lines below it that it overlaps horizontally, and before
   lines to its right unless a line overlapping both lies between them (so columns are read left
   to right, and a full-width heading ends a section); topological sort.

Every :class:`LineRegion` carries its box in ORIGINAL image coordinates.
"""
from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import ConvexHull, QhullError

from ocrcore.containers import BBox
from ocrcore.preprocess.binarize import BinarizeResult, _slice_padded, dilate3x3, to_gray_u8
from ocrcore.preprocess.dots import page_is_dotted
from ocrcore.preprocess.geometry import PageTransform

__all__ = ["LineCrop", "LineRegion", "segment", "single_line", "estimate_scale"]

# Most (mark, line) pairs one step of a pairwise rule holds at once (about 16 MB per float64 array)
_PAIR_BUDGET = 2_000_000
# How far (text scales) past a line's end a period-sized mark in its core band still joins it
# (:func:`_attach_small`): monospace type leaves 0.5-0.6 between the last letter and a period.
TRAIL_REACH = 1.0
# ... unless more period-sized marks than this per line lie where no line takes them: noise.
STRAY_POINTS = 5.0
# How far (text scales) past a line's end a dash in its x-height band still joins it, on such a
# quiet page: a justified line stretches the space before a closing dash to 1.5-3 scales.
DASH_TRAIL = 3.0


@dataclass
class LineCrop:
    """A line image cut from a page, with its mapping back to the ORIGINAL image.

    ``image``: float32, 1.0 = background, 0.0 = ink, in the deskewed frame. ``origin``: deskewed-
    frame position of the crop's top-left corner. ``content``: ``(x0, x1)`` columns of ``image``
    holding the line itself (the rest is padding).
    """

    image: np.ndarray
    origin: tuple[int, int]
    transform: PageTransform
    content: tuple[int, int]

    def to_original(self, xs, ys) -> tuple[np.ndarray, np.ndarray]:
        """Crop pixel coordinates (continuous) -> original image coordinates."""
        return self.transform.to_original(np.asarray(xs, np.float64) + self.origin[0],
                                          np.asarray(ys, np.float64) + self.origin[1])

    def to_original_bbox(self, bbox: BBox) -> BBox:
        """Crop box -> box in the original image."""
        x0, y0, x1, y1 = bbox
        ox, oy = self.origin
        return self.transform.to_original_bbox((x0 + ox, y0 + oy, x1 + ox, y1 + oy))

    def to_original_bboxes(self, boxes) -> list[BBox]:
        """:meth:`to_original_bbox` for many crop boxes at once."""
        b = np.asarray(boxes, dtype=np.float64).reshape(-1, 4) + np.array([*self.origin, *self.origin])
        return self.transform.to_original_bboxes(b)


@dataclass
class LineRegion:
    """One text line found on a page.

    ``bbox``: ORIGINAL image coordinates ``(x0, y0, x1, y1)``, right/bottom exclusive. ``column``:
    column index (0 = leftmost; lines spanning columns get the column they start in). ``order``:
    position in reading order. ``box``: the same line in the deskewed frame of ``transform``.
    ``mask``: optional bool array over ``mask_box`` (deskewed frame, ``mask_scale`` pixels per
    cell), False where a pixel belongs to another line; :meth:`crop` paints those white.
    ``room_below``: extra crop rows under the padding (deskewed frame) for a line whose ink stops
    at the baseline (no descenders: figures, capitals, a table cell), so its crop has the
    proportions of a full line, as the recognizer was trained on. ``ink``: the line's own ink
    (its components) over ``mask_box`` on the same grid as ``mask``; what is far from it in a
    crop is not the line's (:mod:`ocrcore.preprocess.showthrough`).
    """

    bbox: BBox
    column: int
    order: int
    box: BBox
    transform: PageTransform
    pad: int = 4
    mask: Optional[np.ndarray] = field(default=None, repr=False)
    mask_box: Optional[BBox] = None
    mask_scale: int = 1
    room_below: int = 0
    ink: Optional[np.ndarray] = field(default=None, repr=False)

    def padded_box(self, pad: Optional[int] = None) -> BBox:
        p = self.pad if pad is None else int(pad)
        x0, y0, x1, y1 = self.box
        return (x0 - p, y0 - p, x1 + p, y1 + p + self.room_below)

    def crop(self, source, *, pad: Optional[int] = None, masked: bool = True, frame: str = "original") -> LineCrop:
        """The line image with padding, as a :class:`LineCrop` (float32, 1.0 = background).

        ``source``: the :class:`BinarizeResult` the line came from (gives normalized grey; the
        best choice), or the page as a PIL image or 2-D array, in the ORIGINAL frame (default; the
        deskewed line is resampled from it) or already in the deskewed frame (``frame="deskewed"``).
        ``masked``: paint ink of neighbouring lines white.
        """
        pbox = self.padded_box(pad)
        px0, py0, px1, py1 = pbox
        if isinstance(source, BinarizeResult):
            img = source.gray_region(pbox)
        elif frame == "deskewed" or self.transform.is_identity:
            arr, div = _gray_array(source)
            img = _slice_padded(arr, pbox, div).astype(np.float32) / np.float32(div)
        elif frame == "original":
            arr, div = _gray_array(source)
            yy, xx = np.mgrid[py0:py1, px0:px1].astype(np.float64) + 0.5
            xo, yo = self.transform.to_original(xx, yy)
            img = ndi.map_coordinates(arr.astype(np.float32), [yo - 0.5, xo - 0.5], order=1, mode="constant",
                                      cval=float(div), output=np.float32, prefilter=False) / np.float32(div)
        else:
            raise ValueError(f"frame must be 'original' or 'deskewed', not {frame!r}")
        img = np.clip(img, 0.0, 1.0).astype(np.float32)
        if masked and self.mask is not None:
            keep = self._mask_for(pbox)
            img[~keep] = 1.0
        x0, _, x1, _ = self.box
        return LineCrop(img, (px0, py0), self.transform, (x0 - px0, x1 - px0))

    def _mask_for(self, pbox: BBox) -> np.ndarray:
        """The keep-mask resampled (nearest) onto a deskewed-frame box; outside the mask: keep."""
        px0, py0, px1, py1 = pbox
        mx0, my0, _, _ = self.mask_box
        s = self.mask_scale
        ys = (np.arange(py0, py1) - my0) // s
        xs = (np.arange(px0, px1) - mx0) // s
        mh, mw = self.mask.shape
        iy = (ys >= 0) & (ys < mh)
        ix = (xs >= 0) & (xs < mw)
        keep = np.ones((py1 - py0, px1 - px0), bool)
        if iy.any() and ix.any():
            # valid rows/columns form one run each: upsample that block by repetition (several
            # times faster than fancy indexing) and cut it to the pixels wanted
            ya, yb = np.flatnonzero(iy)[[0, -1]]
            xa, xb = np.flatnonzero(ix)[[0, -1]]
            block = self.mask[ys[ya]: ys[yb] + 1, xs[xa]: xs[xb] + 1]
            if s > 1:
                block = np.repeat(np.repeat(block, s, axis=0), s, axis=1)
            oy = py0 + ya - (my0 + ys[ya] * s)
            ox = px0 + xa - (mx0 + xs[xa] * s)
            keep[ya: yb + 1, xa: xb + 1] = block[oy: oy + yb - ya + 1, ox: ox + xb - xa + 1]
        return keep


def _gray_array(source) -> tuple[np.ndarray, float]:
    """A 2-D grey array and its white value, converting PIL images (any mode) on the way."""
    if isinstance(source, np.ndarray) and source.ndim == 2 and source.dtype != np.bool_:
        if source.dtype == np.uint8:
            return source, 255.0
        if np.issubdtype(source.dtype, np.floating):
            return source, 1.0
    return to_gray_u8(source), 255.0


def single_line(image, *, trim: bool = False, pad: int = 4) -> LineRegion:
    """The whole input as one line (captchas, line images): no segmentation.

    ``image``: PIL image, 2-D array or :class:`BinarizeResult`. With ``trim``, the line box is the
    ink bounding box plus ``pad`` (the whole image when there is no ink).
    """
    if isinstance(image, BinarizeResult):
        res = image
    elif trim:
        from ocrcore.preprocess.binarize import binarize

        res = binarize(image, deskew=False, max_skew=0.0)
    else:
        res = None
    if res is not None:
        tr = res.transform
        H, W = res.binary.shape
        box = (0, 0, W, H)
        if trim and res.binary.any():
            rows = np.flatnonzero(res.binary.any(axis=1))
            cols = np.flatnonzero(res.binary.any(axis=0))
            box = (max(0, cols[0] - pad), max(0, rows[0] - pad), min(W, cols[-1] + 1 + pad), min(H, rows[-1] + 1 + pad))
    else:
        W, H = image.size if hasattr(image, "size") and not isinstance(image, np.ndarray) else (
            np.asarray(image).shape[1], np.asarray(image).shape[0])
        tr = PageTransform.identity(W, H)
        box = (0, 0, W, H)
    return LineRegion(bbox=tr.to_original_bbox(box), column=0, order=0, box=box, transform=tr, pad=0)


# --------------------------------------------------------------------------------------------
# segmentation


def _reduce_any(b: np.ndarray, f: int) -> np.ndarray:
    """Block-OR downsampling of a bool image by an integer factor (partial edge blocks kept)."""
    if f <= 1:
        return b
    im = Image.fromarray(b.view(np.uint8) * np.uint8(255))
    return np.asarray(im.reduce(f)) > 0


def _odd(n: float) -> int:
    n = max(1, int(round(n)))
    return n if n % 2 else n + 1


def estimate_scale(heights: np.ndarray, widths: np.ndarray) -> float:
    """Text scale: median square root of component box areas, over character-sized components."""
    sq = np.sqrt(heights.astype(np.float64) * widths)
    ok = (sq >= 3) & (heights >= 2)
    if not ok.any():
        return 0.0
    s = float(np.median(sq[ok]))
    ok2 = ok & (sq > s / 3) & (sq < 3 * s)
    return float(np.median(sq[ok2])) if ok2.any() else s


def segment(
    binarized: BinarizeResult,
    *,
    scale: Optional[float] = None,
    work_size: int = 2000,
    min_gutter: float = 2.0,
    max_gutter: float = 12.0,
    colsep_min_height: float = 10.0,
    pad: Optional[int] = None,
    masks: bool = True,
    measures: Optional[dict] = None,
) -> list[LineRegion]:
    """Text lines of a binarized page in reading order (``[]`` for blank or tiny pages).

    ``scale``: text scale in full-resolution pixels (estimated when None). ``min_gutter``,
    ``max_gutter``, ``colsep_min_height``: column-gap width limits and minimal separator height,
    in units of the text scale. ``pad``: crop padding in pixels (default from the scale).
    ``masks``: keep per-line masks so crops can blank out neighbouring lines. ``measures``: a
    dict that receives the text components' ink (``text``, bool, work resolution), the column
    separators found (``columns``, bool, or None), the work resolution's reduction ``factor``
    and the text ``scale`` in work pixels, for a caller that
    measures the page further (:mod:`.dewarp`); left empty on the full-resolution fallback.
    """
    B = binarized.binary
    H, W = B.shape
    if H < 8 or W < 8 or not B.any():
        return []
    f = max(1, int(math.ceil(max(H, W) / float(work_size))))
    b = _reduce_any(B, f)
    labels, n, objs, bb = _components(b)
    if n == 0:
        return []
    ch, cw = bb[:, 1] - bb[:, 0], bb[:, 3] - bb[:, 2]
    pitch = _line_pitch(b)
    band = _line_band(b, pitch)
    s = _text_scale(ch, cw, pitch, scale, f, band)
    if not scale and pitch is not None and s < 0.8 * pitch / 2.5 and page_is_dotted(B, pitch * f):
        # Dot-matrix draft: a letter's dots, apart or in small clusters, are the components,
        # and the scale they give (5 px against a 17-px pitch at the work resolution of a 200-dpi
        # page) split lines into pieces (65 lines for 59). The pitch is the scale to take.
        s = pitch / 2.5
    if s < 2.0 and f > 1 and not scale:
        return _full_resolution(binarized, min_gutter, max_gutter, colsep_min_height, pad, masks)
    if s <= 0:
        return []
    kind = _classify(ch, cw, s)  # 0 noise/small, 1 text, 2 hrule, 3 vrule, 4 big non-text
    kind[_solid_blobs(labels, objs, ch, cw, s)] = 4
    pictures = _picture_mask(labels, objs, kind, bb, ch, cw, s)
    if pictures is not None:
        inside = _inside(pictures, bb)
        if not scale:
            # A picture's dots and blobs skew the text scale and the line pitch (a halftone's dots
            # made the scale so small that headings fell apart into words): measure both again
            # on what lies outside the pictures.
            outside = np.ones(n, bool)
            outside[inside] = False
            rest = b & ~_picture_pixels(pictures, b.shape)
            pitch = _line_pitch(rest)
            band2 = _line_band(rest, pitch)
            s2 = _text_scale(ch[outside], cw[outside], pitch, None, f, band2) if outside.any() else 0.0
            if s2 > 0 and abs(s2 - s) > 0.1 * s:
                s, band = s2, band2
                kind = _classify(ch, cw, s)
                kind[_solid_blobs(labels, objs, ch, cw, s)] = 4
                # and the pictures again at that scale: at the dots' scale, the bold glyphs of a
                # heading or a table's header row were dense enough to pass for pictures. None
                # found there means none: the first ones were glyphs (a page of large type lost
                # 3 of its 15 lines to pictures kept from the first scale, 38% CER)
                pictures = _picture_mask(labels, objs, kind, bb, ch, cw, s)
                inside = _inside(pictures, bb) if pictures is not None else np.zeros(0, np.intp)
        kind[inside] = 4
        if s < 2.0 and f > 1 and not scale:
            return _full_resolution(binarized, min_gutter, max_gutter, colsep_min_height, pad, masks)
    under = _underlines(b, s)
    if under is not None:  # strokes of pictures and frames are theirs
        under[under] = kind[labels[under] - 1] != 4
        if pictures is not None:
            under &= ~_picture_pixels(pictures, b.shape)
        if not under.any():
            under = None
    grid, grid_v = _frame_strokes(labels, objs, bb, ch, cw, s, pictures)
    if grid is not None:  # table grids and boxes: their strokes are rules, their verticals separators
        under = grid if under is None else under | grid
    dashed, dashed_v = _dashed_rules(labels, bb, ch, cw, kind, s, under)
    if dashed is not None:  # rules broken into dashes: rules too, their verticals separators
        under = dashed if under is None else under | dashed
        if dashed_v is not None:
            grid_v = dashed_v if grid_v is None else grid_v | dashed_v
    if under is not None and (grid is not None or (kind[labels[under] - 1] <= 1).any()):
        # Underlines (and strike-through, form lines) touching text: glyphs joined to a long
        # stroke made one component as wide as the phrase, so the stroke goes, and the
        # components are labelled and classed again (the pictures found stay as they are).
        # The same for the strokes of a table's grid, which may touch the text of its cells.
        b = b & ~under
        labels, n, objs, bb, ch, cw, kind = _classed(b, s, pictures)
        if n == 0:
            return []
    pen = _pen_marks(labels, objs, kind, bb, ch, cw, s, pitch, band)
    if pen.size:
        pen = pen[_as_dark_as_type(binarized, labels, objs, kind, pen, f)]
    if pen.size:
        # A reader's pen marks (notes, ticks, signatures, words circled) go as underlines do,
        # and are painted out of every line's crop.
        table = np.zeros(n + 1, bool)
        table[pen + 1] = True
        pen = table[labels]
        b = b & ~pen
        labels, n, objs, bb, ch, cw, kind = _classed(b, s, pictures)
        if n == 0:
            return []
    else:
        pen = None
    # Gutter widths are judged against the smaller of the two (bold type inflates components).
    s_gap = min(s, pitch / 2.5) if pitch is not None else s
    if not (kind == 1).any():
        return []
    table = np.zeros(n + 1, np.uint8)
    table[1:] = kind
    kimg = table[labels]
    text = kimg == 1

    rules = kimg == 2 if under is None else (kimg == 2) | under
    colsep = _column_separators(text | (kimg == 4) | rules, text, s_gap, min_gutter, max_gutter,
                                colsep_min_height, pitch=pitch, pictures=kimg == 4)
    if (kind == 3).any():
        vr = kimg == 3
        vr = ndi.maximum_filter1d(vr.view(np.uint8), _odd(s), axis=1).view(bool)
        colsep = vr if colsep is None else (colsep | vr)
    if measures is not None:
        measures.update(text=text, columns=colsep, factor=f, scale=s)
    order_sep = colsep  # a grid's verticals cut lines but do not make columns: its rows read across
    if colsep is not None:
        order_sep = _drop_table_gutters(colsep, rules, s, pitch)
    if grid_v is not None:
        gv = ndi.maximum_filter1d(grid_v.view(np.uint8), _odd(s), axis=1).view(bool)
        colsep = gv if colsep is None else (colsep | gv)

    seeds, nseeds, hb = _line_seeds(text, s, colsep)
    if nseeds == 0:
        return []
    assign, splits, seeds = _assign_components(labels, n, objs, seeds, hb, kind, bb, s, pitch=pitch)
    lines = _build_lines(assign, splits, kind, bb, s, seeds)
    if not lines:
        return []
    lines = _split_margins(lines, bb, seeds, hb, s)
    lines = _merge_pieces(lines, colsep, s, b.shape, pitch)
    lines = [ln for ln in lines if not _is_speck(ln, labels, objs, s)]
    lines = _absorb_fragments(lines, s)
    lines = _fold_slivers(lines, s)
    if not lines:
        return []
    _attach_small(lines, kind, bb, s)
    order, cols = _reading_order(lines, order_sep, s)

    tr = binarized.transform
    pad_px = int(pad) if pad is not None else max(2, int(round(0.3 * s * f)))
    lid = None
    if masks:
        cc2line = np.zeros(n + 1, np.int32)
        for i, ln in enumerate(lines):
            cc2line[ln["ccs"]] = i + 1
        for c in splits:
            cc2line[c] = -1  # pixels set below
        lid = cc2line[labels]
        lid[lid < 0] = 0
        for i, ln in enumerate(lines):
            for py, px in ln["pix"]:
                lid[py, px] = i + 1
    room = _room_below(lines, kind, bb)
    out = []
    for rank, i in enumerate(order):
        ln = lines[i]
        x0, y0, x1, y1 = ln["box"]
        box = (x0 * f, y0 * f, min(W, x1 * f), min(H, y1 * f))
        region = LineRegion(bbox=tr.to_original_bbox(box), column=int(cols[i]), order=rank, box=box,
                            transform=tr, pad=pad_px, room_below=int(room[i]) * f)
        if lid is not None:
            m = -(-max(pad_px + region.room_below, int(1.5 * s * f)) // f) + 1  # room for larger crop pads too
            mb = (x0 - m, y0 - m, x1 + m, y1 + m)
            sub = _slice_padded(lid, mb, 0)
            own = sub == i + 1
            others = (sub > 0) & ~own
            if under is not None:  # rules and underlines: painted white in every line
                others |= _slice_padded(under, mb, False)
            if pen is not None:
                others |= _slice_padded(pen, mb, False)
            region.mask_box = (mb[0] * f, mb[1] * f, mb[2] * f, mb[3] * f)
            region.mask_scale = f
            region.ink = own
            if others.any():
                region.mask = ~(dilate3x3(others) & ~own)
        out.append(region)
    return out


def _frame_strokes(labels, objs, bb, ch, cw, s, pictures, min_share: float = 0.7,
                   max_fill: float = 0.25) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """Pixels of table grids and boxes (frames), and of their vertical strokes; (None, None) when
    the page has none.

    A frame is a component at least 4 text scales across and 1.5 high, filling at most
    ``max_fill`` of its box, with at least ``min_share`` of its pixels in straight runs:
    horizontal ones of 3 scales or more, vertical ones of 1.5 scales or more (a row of a table
    is about that high). Line drawings and pictures are mostly curves and short strokes. Why: a
    table's grid is one large component, which was taken for a picture, so its strokes stayed
    in the line crops (read as ``|``, ``[`` or ``p``) and its vertical rules did not separate
    the cells of a row, which ran together into one line. A piece that two rules or more span
    each way has its runs counted through one-pixel steps (a grid on a skewed page).
    """
    cand = np.flatnonzero((np.maximum(ch, cw) >= 4 * s) & (np.minimum(ch, cw) >= 1.5 * s))
    if cand.size == 0:
        return None, None
    lh, lv = max(3, int(round(3 * s))), max(3, int(round(1.5 * s)))
    grid = vert = None
    for i in cand.tolist():
        sl = objs[i]
        own = labels[sl] == i + 1
        area = int(own.sum())
        if area > max_fill * float(ch[i]) * float(cw[i]):
            continue
        h, v = _runs(own, lh, lv, False)
        if (h | v).sum() < min_share * area:
            # A thin rule on a skewed page, deskewed, steps a pixel row every so often: a
            # 1.6-degree grid had 68% of its ink in runs. Runs through such steps count where
            # two rules, or more, span the piece each way, as a grid's or a box's do (an
            # underlined phrase has one, and its letters' strokes lie beside it).
            hs, vs = _runs(own, lh, lv, True)
            if _boxed(hs, vs, lh, lv):
                h, v = hs & own, vs & own
        strokes = h | v
        if strokes.sum() < min_share * area or not v.any() or not h.any():
            continue
        if grid is None:
            grid = np.zeros(labels.shape, bool)
            vert = np.zeros(labels.shape, bool)
        grid[sl] |= strokes
        vert[sl] |= v
    if grid is not None and pictures is not None:
        inside = _picture_pixels(pictures, grid.shape)
        grid &= ~inside
        vert &= ~inside
    if grid is None or not grid.any():
        return None, None
    return grid, vert


def _runs(own: np.ndarray, lh: int, lv: int, stepped: bool) -> tuple[np.ndarray, np.ndarray]:
    """Horizontal runs of ``lh`` pixels or more and vertical runs of ``lv`` or more in ``own``;
    ``stepped``: runs that may step a pixel aside, found on the piece grown by a pixel across
    (they reach past ``own`` by that pixel)."""
    h = v = np.zeros_like(own)
    if own.shape[1] >= lh:
        h = ndi.binary_opening(_thicken(own, 0) if stepped else own, structure=np.ones((1, lh), bool))
    if own.shape[0] >= lv:
        v = ndi.binary_opening(_thicken(own, 1) if stepped else own, structure=np.ones((lv, 1), bool))
    return h, v


def _boxed(h: np.ndarray, v: np.ndarray, lh: int, lv: int, span: float = 0.8) -> bool:
    """Two horizontal rules or more among runs ``h``, and two vertical ones among ``v``, each
    across ``span`` of the piece (:func:`_frame_strokes`)."""
    rows = ndi.binary_dilation(h, structure=np.ones((1, lh), bool)).sum(axis=1) >= span * h.shape[1]
    cols = ndi.binary_dilation(v, structure=np.ones((lv, 1), bool)).sum(axis=0) >= span * v.shape[0]
    return ndi.label(rows)[1] >= 2 and ndi.label(cols)[1] >= 2


def _thicken(mask: np.ndarray, axis: int) -> np.ndarray:
    """``mask`` grown by a pixel each way along ``axis`` (0: up and down)."""
    out = mask.copy()
    if axis == 0:
        out[1:] |= mask[:-1]
        out[:-1] |= mask[1:]
    else:
        out[:, 1:] |= mask[:, :-1]
        out[:, :-1] |= mask[:, 1:]
    return out


DASH_GAP = 1.5  # the widest break, in text scales, between two pieces of one broken rule
DASH_FILL = 0.5  # the least share of a broken rule's length its pieces cover
DASH_PIECES = 3  # ... and the fewest pieces it breaks into
DASH_LONG = 10.0  # the shortest broken horizontal rule, in text scales
DASH_TOUCH = 0.5  # the most of its length with other ink within half a scale above or below


def _dashed_rules(labels, bb, ch, cw, kind, s, under: Optional[np.ndarray]
                  ) -> tuple[Optional[np.ndarray], Optional[np.ndarray]]:
    """Pixels of rules broken into dashes, and of the vertical ones among them; (None, None)
    when there are none.

    A thin rule on a skewed page steps from one pixel row to the next every so often, and where
    it steps its ink is spread over two rows at half strength: erosion or a light scan breaks it
    there, so deskewed and binarized it is a row of dashes at a regular period (every 42 px at
    1.4 degrees). Each dash is short enough to pass for a glyph: a table's broken rules were
    read as lines of ``-`` and ``|``, and its broken verticals joined the cells of a row.

    A horizontal one: at least ``DASH_PIECES`` thin dashes in one row of pixels (give or take
    the rule's thickness), each a text scale long or more and three times as long as it is
    thick, with breaks of at most ``DASH_GAP`` scales (or the shorter dash's length), covering
    ``DASH_FILL`` of a length of ``DASH_LONG`` scales or more, with paper along it: other ink
    within half a scale of it over at most ``DASH_TOUCH`` of its length. Where a vertical rule
    (or a descender through a broken underline) crosses it, the crossing is one piece shaped
    like a ``+`` or a ``T`` (no more ink than two strokes as long as its sides); crossings join
    a row but are not its dashes, a row has at most half as many crossings as dashes, and only
    a crossing's arms along the row are taken (:func:`_cross_arms`). Thin type broken apart is
    what these tests turn down: the serifs and bars of a light monospace heading lie in a row
    too, shorter, beside the rest of their letters, the letters between them like crossings.

    A vertical one: the same standing up, its pieces the upright dashes and the crossings of
    the horizontal rules found (between two crossings a broken vertical may leave no dash at
    all), at least 3 scales tall, with paper beside its dashes as a horizontal one has along
    it, and only where both its ends meet horizontal rules, one of them broken (found here;
    the other may be whole, or in ``under``, the strokes found before): the ``l`` and ``I`` that start a paragraph's lines stand in
    a column too, and on a page of underlined words the underlines met the ends of the stems of
    letters in a column.
    """
    t = max(2, int(round(0.35 * s)) + 1)
    low = max(3.0, 0.5 * s)
    loose = kind <= 1
    flat = loose & (ch <= t) & (cw >= max(low, s)) & (cw >= 3 * ch)
    if int(flat.sum()) < DASH_PIECES:  # most pages: no broken rule, and so no vertical either
        return None, None
    area = np.bincount(labels.ravel(), minlength=len(kind) + 1)[1:]
    cross = loose & (cw >= low) & (ch >= low) & (area <= t * (cw + ch))
    tall = loose & (cw <= t) & (ch >= low) & (ch >= 3 * cw)
    out = np.zeros(labels.shape, bool)
    crossed = np.zeros(len(kind), bool)  # crossings on a horizontal rule found: a vertical's pieces
    side = max(2, int(round(0.5 * s)))
    pieces = np.flatnonzero(flat | cross)
    for grp in _dash_rows(bb[pieces], flat[pieces], s, DASH_LONG):
        comps = pieces[grp]
        dashes = comps[flat[comps]]
        crossings = comps.size - dashes.size
        if bb[dashes, 1].max() - bb[dashes, 0].min() > 2 * t + 2 or 2 * crossings > dashes.size:
            continue
        ya, yb = int(bb[dashes, 0].min()), int(bb[dashes, 1].max())
        x0, x1 = int(bb[comps, 2].min()), int(bb[comps, 3].max())
        sub = labels[max(0, ya - side): yb + side, x0:x1]
        mine = np.isin(sub, comps + 1)
        if ((sub > 0) & ~mine).any(axis=0).mean() <= DASH_TOUCH:
            out[ya:yb, x0:x1] |= np.isin(labels[ya:yb, x0:x1], dashes + 1)
            for k in comps[cross[comps]].tolist():
                _cross_arms(out, labels, k, bb[k], ya, yb)
            crossed[comps] = cross[comps]
    if not out.any():  # a vertical needs a broken horizontal rule at one end
        return None, None
    dashed = out.copy()
    horizontal = dashed | np.concatenate(([False], kind == 2))[labels]  # and a whole one may end it
    if under is not None:
        horizontal |= under
    vert = np.zeros(labels.shape, bool)
    gap = int(math.ceil(DASH_GAP * s))
    upright = tall | crossed
    pieces = np.flatnonzero(upright)
    for grp in _dash_rows(bb[pieces][:, [2, 3, 0, 1]], upright[pieces], s, 3.0):
        comps = pieces[grp]
        y0, y1 = int(bb[comps, 0].min()), int(bb[comps, 1].max())
        x0, x1 = int(bb[comps, 2].min()), int(bb[comps, 3].max())
        ex0, ex1 = max(0, x0 - gap), x1 + gap  # a table's rules may stop short of its frame
        top = (slice(max(0, y0 - gap), y0 + 1), slice(ex0, ex1))
        foot = (slice(max(0, y1 - 1), y1 + gap), slice(ex0, ex1))
        if not (horizontal[top].any() and horizontal[foot].any()
                and (dashed[top].any() or dashed[foot].any())):
            continue
        tall_ones = comps[tall[comps]]
        if tall_ones.size:  # paper beside it, the horizontal rules it crosses aside
            xa, xb = int(bb[tall_ones, 2].min()), int(bb[tall_ones, 3].max())
            sl = (slice(y0, y1), slice(max(0, xa - side), xb + side))
            beside = (labels[sl] > 0) & ~np.isin(labels[sl], comps + 1) & ~dashed[sl]
            if beside.any(axis=1).mean() > DASH_TOUCH:
                continue
        vert[y0:y1, x0:x1] |= np.isin(labels[y0:y1, x0:x1], comps + 1)
    out |= vert
    return out, (vert if vert.any() else None)


def _cross_arms(out: np.ndarray, labels: np.ndarray, k: int, box, ya: int, yb: int) -> None:
    """Mark in ``out`` what of crossing ``k`` (box ``(y0, y1, x0, x1)``) lies in a broken
    rule's rows ``ya:yb``, less the columns where it has ink both above and below them: the
    vertical stroke through the rule stays, whether a vertical rule's or a letter's descender
    through an underline (taking the whole piece took the ``p`` with it)."""
    y0, y1, x0, x1 = (int(v) for v in box)
    own = labels[y0:y1, x0:x1] == k + 1
    r0, r1 = max(ya, y0) - y0, min(yb, y1) - y0
    if r1 <= r0:
        return
    through = own[:r0].any(axis=0) & own[r1:].any(axis=0)
    out[y0 + r0: y0 + r1, x0:x1] |= own[r0:r1] & ~through[None, :]


def _dash_rows(boxes: np.ndarray, dash: np.ndarray, s: float, min_span: float) -> list[np.ndarray]:
    """Rows of pieces that make one broken rule (:func:`_dashed_rules`), as index arrays into
    ``boxes``: ``(a0, a1, b0, b1)`` per piece, ``a`` across the row and ``b`` along it; ``dash``:
    which pieces are dashes (the others, crossings, only join dashes: a word's letters shaped
    like crossings, side by side, made a row of their own). Two pieces are neighbours when
    their ``a`` ranges touch and the break between them along the row is at most ``DASH_GAP``
    scales or the shorter one's length (overlapping by at most 2 px, where the rule steps):
    how far apart the steps of a rule lie depends on its thickness and the page's skew, not on
    the type (breaks of 2.4 scales behind thin, eroded type)."""
    m = len(boxes)
    if int(dash.sum()) < DASH_PIECES:
        return []
    a0, a1, b0, b1 = (boxes[:, k].astype(np.int64) for k in range(4))
    by_a = np.argsort(a0, kind="stable")
    a0s, a1s, b0s, b1s, length = a0[by_a], a1[by_a], b0[by_a], b1[by_a], (b1 - b0)[by_a]
    widest = int((a1 - a0).max())
    gap = DASH_GAP * s
    src, dst = [], []
    rows_all = np.flatnonzero(dash[by_a])
    for r0 in range(0, rows_all.size, 64):  # each dash against the pieces its a range can touch
        rows = rows_all[r0: r0 + 64]
        w0 = int(np.searchsorted(a0s, a0s[rows].min() - widest, "left"))
        c = slice(w0, int(np.searchsorted(a0s, a1s[rows].max(), "right")))
        brk = np.maximum(b0s[None, c] - b1s[rows, None], b0s[rows, None] - b1s[None, c])
        reach = np.maximum(gap, np.minimum(length[rows, None], length[None, c]))
        near = ((a0s[rows, None] <= a1s[None, c]) & (a0s[None, c] <= a1s[rows, None])
                & (brk <= reach) & (brk >= -2))
        i, j = np.nonzero(near)
        src.append(by_a[rows[i]])
        dst.append(by_a[j + w0])
    i, j = np.concatenate(src), np.concatenate(dst)
    n, comp = connected_components(coo_matrix((np.ones(i.size, np.int8), (i, j)), shape=(m, m)),
                                   directed=False)
    out = []
    for g in np.flatnonzero(np.bincount(comp, weights=dash, minlength=n) >= DASH_PIECES).tolist():
        idx = np.flatnonzero(comp == g)
        lo, hi = int(b0[idx].min()), int(b1[idx].max())
        if hi - lo < min_span * s:
            continue
        cover = np.zeros(hi - lo, bool)
        for k in idx.tolist():
            cover[b0[k] - lo: b1[k] - lo] = True
        if cover.mean() >= DASH_FILL:
            out.append(idx)
    return out


PEN_TALL = 1.8  # a text component this many text scales tall, thin, and no letter of a row beside it: a pen's mark
PEN_BAND = 1.15  # ... or this many times the height of a line's band of inked rows, if lower
PEN_FILL = 0.4  # the most of its box a pen mark fills (0.3 for a loop drawn round words)
PEN_ROW = 3  # glyphs within its height and three of its heights of it that make it type ...
PEN_ABOVE = 2.2  # ... unless it is this many times their (median) height
PEN_DARK = 0.65  # the most of the way from the type's grey to the paper's a pen mark's grey lies
PEN_REACH = (0.5, 0.8)  # ... or reaches this many of their heights above all of them, or below (descenders)


def _pen_marks(labels, objs, kind, bb, ch, cw, s, pitch: Optional[float], band: Optional[float]) -> np.ndarray:
    """Text components that are a reader's pen marks, not type: indices (may be empty).

    Written with a ballpoint, a margin note's joined-up words, a tick, a signature and a loop
    drawn round words are single components taller than the type's lines, thin (a stroke of
    one width, filling under 40% of the box), and with no row of glyphs beside them of which
    they could be a tall letter (a heading's capitals have one). A loop round words holds two
    or more text components inside its box, where a glyph holds none, and does not run along
    its box's edges as a printed frame does. Taken for text they joined the lines they crossed
    into one tall line, read as noise (8 pages with notes, ticks and circled words read at 6.3%
    CER against 0.22% without them). Marks no taller than type (a short note's small words)
    are left: wide, thin and alone, a printed word whose letters touch, alone on its line,
    looked the same.
    """
    y0, y1, x0, x1 = bb[:, 0], bb[:, 1], bb[:, 2], bb[:, 3]
    text = kind == 1
    if not text.any():
        return np.zeros(0, np.intp)
    # eroded type breaks into pieces that make the scale small; the pitch, and the height of the
    # letters that stay whole (an ascender's about 1.5 scales), do not
    whole = float(np.percentile(ch[text], 90))
    s = max(s, pitch / 2.5 if pitch is not None else 0.0, whole / 1.5)
    # taller than a line of type (its band of inked rows, ascenders to descenders) by a little,
    # where the scale puts the bar higher (a bold face's scale is large); never under the
    # tallest tenth of the glyphs by as much (the band of eroded type is thin)
    tall = max(min(PEN_TALL * s, PEN_BAND * band), PEN_BAND * whole) if band else PEN_TALL * s
    cand = np.flatnonzero(text & (ch > tall) & (cw >= s))
    out = []
    for i in cand.tolist():
        sl = objs[i]
        own = labels[sl] == i + 1
        fill = float(own.sum()) / float(ch[i] * cw[i])
        if fill >= PEN_FILL:
            continue
        inside = text & (y0 >= y0[i]) & (y1 <= y1[i]) & (x0 >= x0[i]) & (x1 <= x1[i])
        inside[i] = False
        edges = (own[:2].any(axis=0).mean() + own[-2:].any(axis=0).mean()) / 2  # a frame runs along them
        if inside.sum() >= 2 and fill < 0.3 and edges < 0.3:
            out.append(i)
            continue
        # glyphs lying within its height nearby: a tall letter has a row of them, and is at most
        # about twice their height (a parenthesis against an x-height); a mark beside a line
        # towers over it, one in a margin has none
        h = float(ch[i])
        span = np.minimum(y1, y1[i]) - np.maximum(y0, y0[i])
        near = (x1 > x0[i] - 3 * h) & (x0 < x1[i] + 3 * h) & ~inside
        like = text & near & (span >= 0.6 * ch) & (ch >= 0.3 * h)
        like[i] = False
        if like.sum() < PEN_ROW:
            out.append(i)
            continue
        row = float(np.median(ch[like]))
        top, bottom = y0[like].min(), y1[like].max()
        # glyphs of two lines that touch (a descender on an ascender) are a tall component over
        # two rows of glyphs: tall for either row, but reaching beyond neither, and denser than
        # a tick's two strokes in their box (0.28-0.35 against 0.14-0.2)
        centres = (y0[like] + y1[like]) / 2.0
        two_rows = centres.max() - centres.min() >= 0.5 * h and fill >= 0.25
        towers = h > PEN_ABOVE * row and not two_rows
        if towers or y0[i] < top - PEN_REACH[0] * row or y1[i] > bottom + PEN_REACH[1] * row:
            out.append(i)
    return np.asarray(out, dtype=np.intp)


def _as_dark_as_type(binarized: BinarizeResult, labels, objs, kind, comps: np.ndarray, f: int,
                     samples: int = 64) -> np.ndarray:
    """Which of ``comps`` are about as dark on the page as its type (a mask over them): their
    median grey at most :data:`PEN_DARK` of the way from the type's darkest tenth to the
    paper's. A pen's ink is (0.0-0.54 on synthetic pages at 150 and 300 dpi: a thin stroke at
    150 dpi is lighter); the back page's words showing through a thin sheet, blurred into blobs
    that pass for pen marks, are not (0.77-0.80; painted out of the crops, they hid that the
    page shows through)."""
    src, tr = binarized.src, binarized.transform
    if src is None:
        return np.ones(comps.size, bool)

    def grey(ys: np.ndarray, xs: np.ndarray) -> np.ndarray:
        ox, oy = tr.to_original(xs * f + f / 2.0, ys * f + f / 2.0)
        ox = np.clip(np.round(ox).astype(np.intp), 0, src.shape[1] - 1)
        oy = np.clip(np.round(oy).astype(np.intp), 0, src.shape[0] - 1)
        return src[oy, ox].astype(np.float32)

    text = kind[labels - 1] == 1
    text[labels == 0] = False
    ty, tx = np.nonzero(text)
    if ty.size == 0:
        return np.ones(comps.size, bool)
    pick = np.linspace(0, ty.size - 1, min(ty.size, 4000)).astype(np.intp)
    ink = float(np.percentile(grey(ty[pick], tx[pick]), 10))  # the type's own; on a page whose back
    # shows through, most "text" can be the back page's
    paper = float(np.percentile(src[::8, ::8], 90))
    out = np.zeros(comps.size, bool)
    for k, c in enumerate(comps.tolist()):
        sl = objs[c]
        ys, xs = np.nonzero(labels[sl] == c + 1)
        pick = np.linspace(0, ys.size - 1, min(ys.size, samples)).astype(np.intp)
        out[k] = np.median(grey(ys[pick] + sl[0].start, xs[pick] + sl[1].start)) <= ink + PEN_DARK * (paper - ink)
    return out


def _room_below(lines, kind, bb, default_ratio: float = 0.28) -> np.ndarray:
    """Rows (work resolution) to add under each line's crop so a line without descenders gets
    the descender zone a full line has.

    Per line: the baseline is the median bottom of its text components, its height above the
    baseline the distance up to its highest one. The page's descender depth, as a share of that
    height, is the median over lines with descenders (``default_ratio``, typical of book faces,
    when none has). A line whose ink stops less than 60% of that depth below its baseline gets
    the rest. Why: a cell such as "+4.2%" or "Revenue" was cropped to its capitals' height and
    scaled up by the line's full height ratio, and read "[4.20%", "Revemue"; with room below,
    as every trained line has, they read right.
    """
    asc = np.zeros(len(lines))
    desc = np.zeros(len(lines))
    for i, ln in enumerate(lines):
        cc = ln["ccs"]
        cc = cc[kind[cc - 1] == 1] if len(cc) else cc
        if len(cc) == 0:
            continue
        b = bb[cc - 1]
        base = float(np.median(b[:, 1]))
        asc[i] = base - float(b[:, 0].min())
        desc[i] = ln["box"][3] - base
    ok = asc > 0
    with_desc = ok & (desc >= 0.15 * np.maximum(asc, 1e-9))
    ratio = float(np.median(desc[with_desc] / asc[with_desc])) if with_desc.sum() >= 3 else default_ratio
    ratio = min(max(ratio, 0.18), 0.4)
    need = ratio * asc
    return np.where(ok & (desc < 0.6 * need), np.ceil(need - desc), 0).astype(np.int64)


def _components(b: np.ndarray) -> tuple[np.ndarray, int, list, np.ndarray]:
    """8-connected components of a bool image: labels, count, slices and boxes
    ``(y0, y1, x0, x1)`` (int32, one row per component)."""
    labels, n = ndi.label(b, structure=np.ones((3, 3), bool))
    objs = ndi.find_objects(labels)
    bb = np.array([(o[0].start, o[0].stop, o[1].start, o[1].stop) for o in objs], dtype=np.int32).reshape(-1, 4)
    return labels, n, objs, bb


def _classed(b: np.ndarray, s: float, pictures):
    """Components of ``b`` labelled and classed again once strokes were taken out of it (the
    pictures found stay as they are): ``labels, n, objs, bb, ch, cw, kind``."""
    labels, n, objs, bb = _components(b)
    ch, cw = bb[:, 1] - bb[:, 0], bb[:, 3] - bb[:, 2]
    kind = _classify(ch, cw, s)
    if n:
        kind[_solid_blobs(labels, objs, ch, cw, s)] = 4
        if pictures is not None:
            kind[_inside(pictures, bb)] = 4
    return labels, n, objs, bb, ch, cw, kind


def _picture_pixels(pictures: tuple[np.ndarray, int], shape: tuple[int, int]) -> np.ndarray:
    """A picture grid mask (from :func:`_picture_mask`) as a pixel mask of ``shape``."""
    grid, r = pictures
    return np.repeat(np.repeat(grid, r, axis=0), r, axis=1)[: shape[0], : shape[1]]


def _underlines(b: np.ndarray, s: float, min_length: float = 3.0, max_thickness: float = 0.35) -> Optional[np.ndarray]:
    """Pixels of long thin horizontal strokes (None when there are none): runs of at least
    ``min_length`` text scales at most ``max_thickness`` scales thick. Underlines, strike-through,
    rules and form lines; no glyph has a horizontal stroke that long (a heading's bars that long
    are thick). An underline that touches descenders joins the glyphs of a whole phrase into one
    component: the line finder then lost the phrase's line, and the recognizer read the stroke
    (spaces became ``_``).

    Cheap on pages without such strokes: a run of ``L`` pixels holds ``(L - 7) // 8`` whole
    aligned 8-pixel blocks of ink (4-pixel blocks for short ``L``), found by comparing 8 bytes
    at a time; only rows with that many blocks side by side (and their neighbours) are filtered
    exactly."""
    L = int(round(min_length * s))
    k, word, ones = (8, np.uint64, 0x0101010101010101) if L >= 31 else (4, np.uint32, 0x01010101)
    need = (L - k + 1) // k
    if need < 2:
        return None
    t = max(2, int(round(max_thickness * s)) + 1)
    H, W = b.shape
    Wk = W // k
    if need > Wk:  # longer than the page is wide (a photo's blobs can set a huge scale)
        return None
    full = np.ascontiguousarray(b[:, : Wk * k]).view(word) == word(ones)
    cand = full[:, : Wk - need + 1].copy()
    for j in range(1, need):
        cand &= full[:, j: Wk - need + 1 + j]
    rows = np.flatnonzero(cand.any(axis=1))
    if rows.size == 0:
        return None
    reach = max(3, int(round(s)))
    pad = max(t + 3, reach)
    breaks = np.flatnonzero(np.diff(rows) > 2 * pad) + 1
    band = np.zeros_like(b)
    for grp in np.split(rows, breaks):
        y0, y1 = max(0, int(grp[0]) - pad), min(H, int(grp[-1]) + pad + 1)
        band[y0:y1] = _strokes_in(b[y0:y1], L, t, reach)
    return band if band.any() else None


def _strokes_in(b: np.ndarray, L: int, t: int, reach: int, max_touch: float = 0.5) -> np.ndarray:
    """:func:`_underlines` on a strip of rows: the thin long runs plus one row above and below
    (their ragged edges, which binarization breaks into short runs, would otherwise stay behind
    as specks that join the line and read as ``_``), less where a descender crosses them."""
    u = b.view(np.uint8)
    runs = ndi.maximum_filter1d(ndi.minimum_filter1d(u, L, axis=1), L, axis=1)
    thick = ndi.maximum_filter1d(ndi.minimum_filter1d(runs, t, axis=0), t, axis=0)
    under = (runs > thick).view(bool)
    band = under.copy()
    band[1:] |= under[:-1]
    band[:-1] |= under[1:]
    band &= b
    _drop_glyph_runs(band, b, max_touch, reach, t + 3)
    # Where a descender crosses the stroke (ink just above and just below it in the same column)
    # the crossing stays, so the tail of a g, p or y stays joined to its letter.
    rest = b & ~band
    above = np.zeros_like(band)
    below = np.zeros_like(band)
    for d in range(1, t + 2):
        above[d:] |= rest[:-d]
        below[:-d] |= rest[d:]
    for _ in range(t + 1):  # carry "ink above" down and "ink below" up through the stroke's rows
        above[1:] |= above[:-1] & band[1:]
        below[:-1] |= below[1:] & band[:-1]
    band &= ~(above & below)
    return band


GLYPH_BELOW = 0.05  # the least share of a run's columns with ink under it that makes it the joined tops of a word


def _drop_glyph_runs(band: np.ndarray, b: np.ndarray, max_touch: float, reach: int, max_height: int) -> None:
    """Keep only strokes with clear space along them: an underline touches ink just above or below
    it only where a descender crosses or a letter sits on it; a long run inside glyphs (the tops or
    the feet of letters that ink bleed has joined into one, at low resolution) has stems against
    it in most columns. Removes, in place, each stroke taller than ``max_height`` (thin runs joined
    into a block: the top and the feet of bled letters), each with ink in the row right above or
    below it on more than ``max_touch`` of its columns, and each with more ink in the ``reach`` rows below it
    than half of that in the ``reach`` rows above (a strike-through stays too), over more than
    ``GLYPH_BELOW`` of its columns."""
    lab, n = ndi.label(band, structure=np.ones((3, 3), bool))
    H = b.shape[0]
    for k, sl in enumerate(ndi.find_objects(lab), start=1):
        ys, xs = sl
        mine = lab[sl] == k
        cols = mine.any(axis=0)
        y0, y1 = ys.start, ys.stop
        near = np.zeros(xs.stop - xs.start, bool)
        if y0 > 0:
            near |= b[y0 - 1, xs] & ~band[y0 - 1, xs]
        if y1 < H:
            near |= b[y1, xs] & ~band[y1, xs]
        # what sits on the stroke: text above it, little below (descender tails) - not the
        # body of a word under the joined tops of its letters
        above = (b[max(0, y0 - reach): y0, xs] & ~band[max(0, y0 - reach): y0, xs]).sum()
        under = b[y1: y1 + reach, xs] & ~band[y1: y1 + reach, xs]
        below = under.sum()
        # (a speck under a table's bottom rule is not a word's body: what lies below must
        # also spread over GLYPH_BELOW of the stroke's columns; the speck dropped the rule)
        if (y1 - y0 > max_height or (near & cols).sum() > max_touch * cols.sum()
                or (below > 0.5 * above and under.any(axis=0).sum() > GLYPH_BELOW * cols.sum())):
            band[sl][mine] = False


def _full_resolution(binarized, min_gutter, max_gutter, colsep_min_height, pad, masks) -> list[LineRegion]:
    """Very small text: segment again at full resolution."""
    H, W = binarized.binary.shape
    return segment(binarized, scale=None, work_size=max(H, W), min_gutter=min_gutter, max_gutter=max_gutter,
                   colsep_min_height=colsep_min_height, pad=pad, masks=masks)


def _text_scale(ch, cw, pitch, scale, f, band: Optional[float] = None) -> float:
    """Text scale in work pixels: given (``scale``, full-resolution pixels), or estimated from the
    components and checked against the line pitch. ``band``: the height of a line's band of
    inked rows (:func:`_line_band`), if known."""
    if scale:
        return float(scale) / f
    s = estimate_scale(ch, cw)
    # Broken strokes (thin or faint type) shrink components, touching glyphs grow them; the
    # line pitch is immune to both. Trust the components unless the two disagree badly. Small
    # components under a wide pitch are also what double-spaced text looks like, and there the
    # components are right (taking the pitch made crops 2.4 times too tall: CER 20%). The height
    # of a line's band of inked rows tells the two apart: broken type leaves components under
    # 0.35 of it, whole glyphs about half of it or more (measured on single- and double-spaced
    # synthetic pages, and degraded ones at 150 dpi). Broken type keeps the pitch's scale, even
    # double-spaced (eroded ink thins the band too, so the band is no scale to take).
    if pitch is not None and s > 0 and not (0.6 * pitch / 2.5 <= s <= 1.7 * pitch / 2.5):
        if s > 1.7 * pitch / 2.5 or band is None or s < 0.4 * band:
            s = pitch / 2.5
    return s


def _line_band(b: np.ndarray, pitch: Optional[float], min_ink: int = 3) -> Optional[float]:
    """Median height (pixels) of the bands of rows that hold ink, per page half (so two columns
    whose lines do not align do not merge), counting bands of 0.15 to 3 line pitches (and at
    least 4 rows, so rules and specks do not count): the height of a line of text, whatever the
    spacing between lines. None when under 4 such bands."""
    if pitch is None:
        return None
    h, w = b.shape
    runs = []
    for part in (b[:, : w // 2], b[:, w // 2:]):
        ink = np.r_[False, part.sum(axis=1) >= min_ink, False]
        edges = np.flatnonzero(ink[1:] != ink[:-1])
        lengths = edges[1::2] - edges[::2]
        runs.append(lengths[(lengths >= max(4.0, 0.15 * pitch)) & (lengths <= 3 * pitch)])
    runs = np.concatenate(runs)
    return float(np.median(runs)) if runs.size >= 4 else None


def _line_pitch(b: np.ndarray) -> Optional[float]:
    """Text line pitch (pixels) from the autocorrelation of the row profiles of both page halves."""
    h, w = b.shape
    lo, hi = 6, min(h // 3, 400)
    if hi - lo < 4:
        return None
    ac = np.zeros(h)
    for part in (b[:, : w // 2], b[:, w // 2:]):
        prof = part.sum(axis=1, dtype=np.float64)
        # Rows of solid ink (a heading reversed out on a dark bar, a black band) are capped at
        # the 90th percentile of the inked rows: uncapped, the bar's rows made a broad hump in
        # the autocorrelation, the true pitch's peak rose from too shallow a valley for the
        # ripple test below, and its double was taken (26 -> 53 px; pairs of lines read as one).
        inked = prof[prof > 0]
        if inked.size:
            np.minimum(prof, np.percentile(inked, 90), out=prof)
        prof -= prof.mean()
        spec = np.fft.rfft(prof, 2 * h)
        ac += np.fft.irfft(spec.real ** 2 + spec.imag ** 2)[:h]
    if ac[0] <= 0:
        return None
    seg = ac[lo:hi]
    peaks = np.flatnonzero((seg[1:-1] > seg[:-2]) & (seg[1:-1] >= seg[2:])) + 1
    peaks = peaks[seg[peaks] > 0.1 * ac[0]]
    if peaks.size == 0:
        return None
    # The first strong peak: multiples of the pitch can come out a little higher. A peak whose
    # double lag is no peak is not the pitch but a distance within a line: in thin or eroded
    # type the x-height's top and the baseline are the densest rows, so the x-height itself
    # correlates (8 px against a 33-px pitch on a 150-dpi monospace page, which then fell apart
    # into 488 "lines" for 85). The true pitch repeats at twice its lag.
    # Nor is a ripple on the slope of a broad hump: large type's strokes make one at the distance
    # from the x-height's top to the baseline (10 px against a 93-px pitch, 39-pt type at 150
    # dpi, and the page lost all but 4 of its 32 lines). The pitch's peak rises from a deep
    # valley, where lines meet the gaps between them; a ripple barely dips before it.
    strong = peaks[seg[peaks] >= 0.5 * seg[peaks].max()]
    for p in strong:
        lag = lo + int(p)
        d = max(1, lag // 10)
        if ac[lag] - ac[:lag].min() < 0.5 * ac[lag]:
            continue
        if 2 * lag + d >= h or ac[2 * lag - d: 2 * lag + d + 1].max() >= 0.3 * ac[lag]:
            return float(lag)
    return float(lo + strong[0])


def _classify(ch, cw, s) -> np.ndarray:
    """Component kinds from box height/width in scale units: 0 small mark or noise, 1 text,
    2 horizontal rule, 3 vertical rule, 4 large non-text (pictures, frames)."""
    kind = np.ones(len(ch), np.uint8)
    small = (ch < 0.45 * s) & (cw < 0.9 * s) | (ch < 2) | (np.maximum(ch, cw) < 0.3 * s)
    hrule = (cw > 6 * s) & (ch < 0.5 * s)
    vrule = (ch > 4 * s) & (cw < 0.5 * s)
    big = (ch > 8 * s) & ~vrule
    kind[small] = 0
    kind[hrule] = 2
    kind[vrule] = 3
    kind[big] = 4
    return kind


def _solid_blobs(labels, objs, ch, cw, s, min_size: float = 2.0, min_fill: float = 0.7) -> np.ndarray:
    """Components that are large, about as wide as tall, and filled: punch holes, ink blots,
    dark stamps. Glyphs that large are outlines or strokes (an O, a D, a bold M fill well under
    70% of their box); a disc fills 79%. As text they joined the lines beside them into one box
    spanning two lines, or became a line of their own read as a letter."""
    cand = np.flatnonzero((ch >= min_size * s) & (cw >= min_size * s) & (cw <= 1.7 * ch) & (ch <= 1.7 * cw))
    keep = [i for i in cand.tolist()
            if np.count_nonzero(labels[objs[i]] == i + 1) >= min_fill * float(ch[i]) * float(cw[i])]
    return np.asarray(keep, dtype=np.intp)


def _picture_mask(labels, objs, kind, bb, ch, cw, s, window: float = 3.0, min_density: float = 0.12,
                  min_side: float = 4.0) -> Optional[tuple[np.ndarray, int]]:
    """Picture regions (photos, halftones, dense drawings): a bool grid mask and its cell size in
    work pixels, or None.

    Binarized, a photo becomes large dense blobs and a halftone a field of dots; pieces of either
    pass for glyphs, and lines found there are read as garbage (353 false lines on 20 pages with a
    figure each, ``bench_preprocess.py --figures 1``). Evidence is the ink of large dense
    components (filling >= 25% of their box) and the boxes of small marks; a region is a picture
    where that evidence covers ``min_density`` of a ``window`` x ``window`` scale-unit
    neighbourhood over at least ``min_side`` scale units each way. Text has its small marks
    (dots, commas) too sparse for that, and large glyphs of a title are outlines or strokes, far
    below the fill of a photo's blobs. Small marks count by box at their centre's cell, so a page
    without pictures costs a histogram, not a pass over its pixels."""
    H, W = labels.shape
    r = max(1, int(s // 3))  # grid cell, work pixels
    gh, gw = -(-H // r), -(-W // r)
    small = np.flatnonzero(kind == 0)
    cells = ((bb[small, 0] + bb[small, 1]) // 2 // r) * gw + (bb[small, 2] + bb[small, 3]) // 2 // r
    grid = np.bincount(cells, weights=(ch[small] * cw[small]).astype(np.float64), minlength=gh * gw)
    big = np.flatnonzero(kind == 4)
    area = ch[big].astype(np.int64) * cw[big]
    if area.sum() <= labels.size // 8:  # a few blobs: look at each in its box
        for i in big.tolist():
            o = objs[i]
            ys, xs = np.nonzero(labels[o] == i + 1)
            if ys.size >= 0.25 * float(ch[i]) * float(cw[i]):  # dense: a photo's blob, not a frame or a glyph
                grid += np.bincount((ys + o[0].start) // r * gw + (xs + o[1].start) // r, minlength=gh * gw)
        grid = grid.reshape(gh, gw)
    else:  # many large boxes (a halftone's connected dots): one pass over the page
        counts = np.bincount(labels.ravel(), minlength=len(kind) + 1)
        sel = np.zeros(len(kind) + 1, bool)
        sel[big[counts[big + 1] >= 0.25 * area] + 1] = True
        pix = np.zeros((gh * r, gw * r), np.float32)
        pix[:H, :W] = sel[labels]
        grid = grid.reshape(gh, gw) + pix.reshape(gh, r, gw, r).sum(axis=(1, 3))
    grid = grid.astype(np.float32) / float(r * r)
    k = max(3, int(round(window * s / r)))
    dens = ndi.uniform_filter(grid, size=k, mode="constant")
    cand = dens >= min_density
    if not cand.any():
        return None
    # The window spreads a region beyond its picture; its core (twice the density) stays within
    # about a third of a scale unit of the picture's edge. The core's convex hull is the picture:
    # white parts along a photo's edge count too, and a picture at an angle stays at its angle.
    core = dens >= 2 * min_density
    lab, _ = ndi.label(cand)
    side = min_side * s / r
    hull_img = Image.new("1", (cand.shape[1], cand.shape[0]), 0)
    draw = ImageDraw.Draw(hull_img)
    for j, o in enumerate(ndi.find_objects(lab)):
        if o is None or o[0].stop - o[0].start < side or o[1].stop - o[1].start < side:
            continue
        ys, xs = np.nonzero(core[o] & (lab[o] == j + 1))  # row-major: rows ascending
        if ys.size < 3:
            continue
        # the hull needs only each row's outermost cells (their outer corners)
        rows, first = np.unique(ys, return_index=True)
        lo = np.minimum.reduceat(xs, first)
        hi = np.maximum.reduceat(xs, first) + 1
        pts = np.concatenate([np.stack([lo, rows], 1), np.stack([lo, rows + 1], 1),
                              np.stack([hi, rows], 1), np.stack([hi, rows + 1], 1)]) + (o[1].start, o[0].start)
        try:
            hull = ConvexHull(pts)
        except QhullError:  # all cells in a row: too thin to be a picture
            continue
        draw.polygon([tuple(map(float, pts[v])) for v in hull.vertices], fill=1)
    mask = np.asarray(hull_img, dtype=bool)
    return (mask, r) if mask.any() else None


def _inside(pictures: tuple[np.ndarray, int], bb: np.ndarray) -> np.ndarray:
    """Indices of the components whose box centre lies in a picture (a grid mask and its cell
    size, from :func:`_picture_mask`)."""
    mask, r = pictures
    yc = np.minimum((bb[:, 0] + bb[:, 1]) // 2 // r, mask.shape[0] - 1)
    xc = np.minimum((bb[:, 2] + bb[:, 3]) // 2 // r, mask.shape[1] - 1)
    return np.flatnonzero(mask[yc, xc])


def _column_separators(ink, text, s, min_gutter, max_gutter, min_height, align_min=0.75,
                       min_lines=6, pitch: Optional[float] = None, min_column: float = 10.0,
                       pictures: Optional[np.ndarray] = None) -> Optional[np.ndarray]:
    """Column gutters: blank vertical strips at least ``min_gutter`` wide and ``min_height`` tall
    (scale units) with text within ``max_gutter`` on both sides, whose right-hand lines start at
    one x (``align_min`` of at least ``min_lines`` lines), between columns at least
    ``min_column`` wide. ``pitch``: line pitch (work pixels) if known. ``pictures``: pixels of
    pictures, which stand beside a gap as text does, and which a gutter, once found, may run
    beside (:func:`_extend_gutter`). Bool mask at work resolution or None.
    """
    h, w = ink.shape
    cf = max(1, int(s // 4))
    ic = _reduce_any(ink, cf)
    tc = _reduce_any(text, cf)
    sc = s / cf
    hc, wc = ic.shape
    gw = _odd(min_gutter * sc)
    minh = _odd(min_height * sc)
    if hc < minh or wc < 3 * gw:
        return None
    blank = ~ndi.maximum_filter1d(ic.view(np.uint8), gw, axis=1).view(bool)
    blank = ndi.minimum_filter1d(blank.view(np.uint8), minh, axis=0)
    blank = ndi.maximum_filter1d(blank, minh, axis=0).view(bool)
    if not blank.any():
        return None
    # Text within max_gutter to the left and to the right, rows smeared over about two lines. A
    # picture counts as what stands beside a gap (lines are still needed at the gap's right edge,
    # below): a column's few lines under a photo set in it, with the photo, make a gutter tall
    # enough; alone they did not, and each ran into the line of the column beside it.
    pc = _reduce_any(pictures, cf) if pictures is not None and pictures.any() else None
    tv = ndi.maximum_filter1d((tc if pc is None else tc | pc).view(np.uint8), _odd(3 * sc), axis=0).astype(np.int32)
    D = max(2, int(round(max_gutter * sc)))
    cs = np.zeros((hc, wc + 1), np.int32)
    np.cumsum(tv, axis=1, out=cs[:, 1:])
    # text in columns [x - D, x) and (x, x + D] (clipped to the page), by slicing the cumsum
    left = cs[:, :wc].copy()
    if D < wc:
        left[:, D:] -= cs[:, : wc - D]
    right = np.empty_like(left)
    right[:, : max(wc - D, 0)] = cs[:, D + 1:]
    right[:, max(wc - D, 0):] = cs[:, wc:]
    right -= cs[:, 1:]
    cand = blank & (left > 0) & (right > 0)
    # Bridge rows where a short line (paragraph end, heading) leaves one side empty for a while:
    # a paragraph's short last line and the blank line after it make two line pitches.
    close = _odd(max(6 * sc, 2.5 * pitch / cf if pitch else 0.0))
    cand = ndi.minimum_filter1d(ndi.maximum_filter1d(cand.view(np.uint8), close, axis=0), close, axis=0) & blank
    cand = ndi.minimum_filter1d(cand, minh, axis=0)
    cand = ndi.maximum_filter1d(cand, minh, axis=0).view(bool)
    if not cand.any():
        return None
    lab, k = ndi.label(cand, structure=np.ones((3, 3), bool))
    # Text edges: a column's lines start at one x (its left edge), while a river of word gaps in
    # justified text is followed by words starting anywhere. Pieces of one gutter (cut where a
    # column has a paragraph gap) are judged together.
    big = np.int32(1 << 30)
    xx = np.arange(wc, dtype=np.int32)[None, :]
    nxt = np.minimum.accumulate(np.where(tc, xx, big)[:, ::-1], axis=1)[:, ::-1]
    tol = max(1.0, 0.5 * sc)
    pieces = []
    for i, o in enumerate(ndi.find_objects(lab)):
        m = lab[o] == i + 1
        rows = np.flatnonzero(m.any(axis=1))
        xr = o[1].start + m.shape[1] - 1 - np.argmax(m[rows, ::-1], axis=1)
        nx = nxt[o[0].start + rows, np.minimum(xr + 1, wc - 1)]
        valid = (nx - xr) <= gw  # text right at the gap's edge (not further across more blank)
        ry, nv = rows[valid], nx[valid]
        if ry.size == 0:
            continue
        # Runs of consecutive rows with text to the right are text lines; a line starts at the
        # leftmost of its rows.
        brk = np.flatnonzero(np.diff(ry) > 1) + 1
        pieces.append((i + 1, o[1].start, o[1].stop, np.minimum.reduceat(nv, np.r_[0, brk]), o[0].start, o[0].stop,
                       int(np.median(xr)), o))
    keep = np.zeros(k + 1, bool)
    accepted = []
    # Grouped by where they end on the right (the column edge), not by their whole width: a
    # piece widened by a paragraph gap beside it must not swallow word gaps nearby.
    pieces.sort(key=lambda p: p[6])
    groups, cur = [], []
    for p in pieces:
        if cur and p[6] - cur[-1][6] <= gw:
            cur.append(p)
        else:
            if cur:
                groups.append(cur)
            cur = [p]
    if cur:
        groups.append(cur)
    has_text = tc.any(axis=1)
    first_text = tc.argmax(axis=1)
    last_text = wc - 1 - tc[:, ::-1].argmax(axis=1)
    for g in groups:
        starts = np.concatenate([p[3] for p in g])
        # a line may start up to a scale unit right of its column's edge, never left of it: the
        # first letter's side bearing, or its thin left part lost in a faint scan (light type,
        # eroded: 11 of 39 lines of a column started 3-4 coarse pixels in, and no gutter was found)
        off = starts - np.median(starts)
        aligned = float(np.mean((off >= -tol) & (off <= max(tol, sc))))
        # min_lines in one piece: a river of word gaps at one x in several short paragraphs of a
        # column made pieces of four lines each, which together passed for a gutter
        ok = max(p[3].size for p in g) >= min_lines and aligned >= align_min
        if ok:
            # A gap enclosed by text right above and right below it is a river inside a column:
            # lines of that column close it. A heading above the gutter or a page number centred
            # below it (narrow: it does not reach min_column either way) does not.
            y0, y1 = min(p[4] for p in g), max(p[5] for p in g)
            xs = int(np.median([p[6] for p in g]))
            xa, xb = max(0, xs - gw), min(wc, xs + 1)
            reach = max(1, int(round(2 * sc)))
            above = y0 > 0 and _closes_gap(tc[max(0, y0 - reach):y0], xa, xb, sc, min_column)
            below = y1 < hc and _closes_gap(tc[y1:y1 + reach], xa, xb, sc, min_column)
            ok = not (above and below)
        if ok:
            # Each side holds a column, not a word or two: at the gap's rows, text reaches at least
            # min_column scale units beyond it on both sides (a river next to the margin does not).
            # (each side measured on the rows with text on that side: beside a column that ends
            # early, the rows below its end have none, and their median sank below the bar)
            rows = np.flatnonzero(has_text[y0:y1]) + y0
            lrows, rrows = rows[first_text[rows] < xs], rows[last_text[rows] > xs]
            ok = lrows.size > 0 and rrows.size > 0 and min(
                np.median(xs - first_text[lrows]), np.median(last_text[rrows] - xs)) >= min_column * sc
        if ok:
            keep[[p[0] for p in g]] = True
            accepted.append(g)
    sep = keep[lab]
    if not sep.any():
        return None
    # Rows where the gap is much narrower than the gutter (a heading's word gap that happens to
    # line up with the gutter below it) are not part of the separator, and neither is what
    # reaches sideways beyond the gutter's usual edges (a blank band above the columns, between
    # a heading and their first lines, would otherwise cut those lines into words).
    beside = tc if pc is None else tc | pc
    for g in accepted:
        objs_g = [(p[0], p[7]) for p in g]
        # gap per row: the candidate's width plus what the gw-wide blank test took off its sides
        widths = np.concatenate([(lab[o] == pid).sum(axis=1) for pid, o in objs_g]) + (gw - 1)
        # (and below 3 scale units: a long line of a ragged-right column narrows the gutter, too)
        wmin = min(0.7 * np.percentile(widths, 10), 3.0 * sc)
        pid, o = max(objs_g, key=lambda q: q[1][0].stop - q[1][0].start)
        lft, rgt = _gutter_edges(lab[o] == pid, o, tc, gw)
        for pid, o in objs_g:
            m = lab[o] == pid
            sub = sep[o]
            narrow = m.sum(axis=1) + (gw - 1) < wmin
            if narrow.any():
                sub[narrow] &= ~m[narrow]
            a, b = min(max(0, lft - o[1].start), m.shape[1]), min(max(0, rgt - o[1].start), m.shape[1])
            sub[:, :a] &= ~m[:, :a]
            sub[:, b:] &= ~m[:, b:]
            # Rows where the piece stops short of the gutter's edges (text too far off on one
            # side for the reach test: beside a narrow table set in a column) get the gutter's
            # band where it is blank: trimmed to its edges, a gutter beside a table kept only
            # the table's side, and the column's first lines, reaching further right above the
            # table, ran across the gutter into the next column's.
            rs = np.flatnonzero(m.any(axis=1) & ~narrow)
            if rs.size and rgt > lft:
                ys = o[0].start + rs
                sep[ys, lft:rgt] |= blank[ys, lft:rgt]
        # from each piece's ends: between two pieces too (a photo beside the gutter)
        _extend_gutter(sep, ic, beside, lft, rgt, [(p[4], p[5]) for p in g], 3 * D, close)
    if cf > 1:
        sep = np.repeat(np.repeat(sep, cf, axis=0), cf, axis=1)[:h, :w]
        if sep.shape != (h, w):
            sep = np.pad(sep, ((0, h - sep.shape[0]), (0, w - sep.shape[1])), mode="edge")
    return sep


def _gutter_edges(m: np.ndarray, o: tuple, tc: np.ndarray, gw: int) -> tuple[int, int]:
    """A gutter's usual edges ``[lft, rgt)`` (coarse columns) from its tallest piece ``m`` (at
    slice ``o`` of the coarse text mask ``tc``): the median of each side's edge over the rows
    where text stands right at that edge (within ``gw``), or over all rows where none does. Rows
    where the piece ends in blank paper (the reach test ran out beside a narrow table) do not
    say where the column is."""
    wc = tc.shape[1]
    rows = np.flatnonzero(m.any(axis=1))
    x0 = o[1].start + m[rows].argmax(axis=1)
    x1 = o[1].start + m.shape[1] - m[rows, ::-1].argmax(axis=1)  # exclusive
    t = tc[o[0].start + rows]
    at_left = np.array([t[i, max(0, a - gw):a].any() for i, a in enumerate(x0)], bool)
    at_right = np.array([t[i, b:min(wc, b + gw)].any() for i, b in enumerate(x1)], bool)
    lft = int(np.median(x0[at_left] if at_left.any() else x0))
    rgt = int(np.ceil(np.median(x1[at_right] if at_right.any() else x1)))
    return lft, rgt


def _drop_table_gutters(colsep: np.ndarray, rules: np.ndarray, s: float, pitch: Optional[float],
                        reach: float = 2.0) -> Optional[np.ndarray]:
    """``colsep`` without the gutters of ruled tables, for reading order only: a gutter whose
    top and bottom each end at a horizontal rule crossing it (within ``reach`` line pitches) is
    the gap between a table's columns, not between a page's. It still cuts lines into cells, but
    the table is read row by row: a table of wide columns between its top, header and bottom
    rules (booktabs style) got gutters of nine rows, and its columns were read one after the
    other, each cell of a row far from the next (page CER 12.5%).
    """
    if not rules.any():
        return colsep
    lab, k = ndi.label(colsep, structure=np.ones((3, 3), bool))
    r = max(2, int(round(reach * (pitch if pitch else 2.0 * s))))
    keep = np.ones(k + 1, bool)
    keep[0] = False
    for i, (ys, xs) in enumerate(ndi.find_objects(lab)):
        if rules[max(0, ys.start - r):ys.start + 1, xs].any() and rules[max(0, ys.stop - 1):ys.stop + r, xs].any():
            keep[i + 1] = False
    if keep[1:].all():
        return colsep
    out = keep[lab]
    return out if out.any() else None


def _extend_gutter(sep: np.ndarray, ink: np.ndarray, text: np.ndarray, lft: int, rgt: int,
                   spans: list[tuple[int, int]], reach: int, max_gap: int) -> None:
    """Carry an accepted gutter (columns ``[lft, rgt)``, pieces of rows ``spans``) up and down
    its own blank band, as far as the band stays free of ink and text stands on both sides within
    ``reach``, with no more than ``max_gap`` rows at a time without (a paragraph gap, not the
    band between two blocks of columns). Found row by row, a gutter needs text near it on both
    sides: beside a column's short last lines and the blank line after them its candidate moved
    away and was dropped, so the two lines of the column's next paragraph ran across the gutter
    into the other column's lines. ``text`` may hold pictures too: beside a photo set in one
    column the gutter ended, and the three lines under the photo ran into the other column's."""
    if rgt <= lft:
        return
    hc, wc = ink.shape
    free = ~ink[:, lft:rgt].any(axis=1)
    both = text[:, max(0, lft - reach):lft].any(axis=1) & text[:, rgt:min(wc, rgt + reach)].any(axis=1)
    for y0, y1 in spans:
        for step, start, stop in ((1, y1, hc), (-1, y0 - 1, -1)):
            last, since = None, 0
            for r in range(start, stop, step):
                if not free[r] or since > max_gap:
                    break
                since = 0 if both[r] else since + 1
                if both[r]:
                    last = r
            if last is not None:
                a, b = (y1, last + 1) if step == 1 else (last, y0)
                sep[a:b, lft:rgt] = True


def _closes_gap(rows: np.ndarray, xa: int, xb: int, sc: float, min_column: float) -> bool:
    """Whether the text in ``rows`` (a band of the coarse text mask) covers most of the gap's
    columns ``[xa, xb)`` and reaches at least ``min_column`` scale units beyond it on one side,
    as a line of a column does (a paragraph's short last line too); a page number centred
    under a gutter does not."""
    ink = rows.any(axis=0)
    if not ink[xa:xb].size or ink[xa:xb].mean() < 0.5:
        return False
    xs = np.flatnonzero(ink)
    need = min_column * sc
    return bool(xa - xs[0] >= need or xs[-1] - (xb - 1) >= need)


def _line_seeds(text, s, colsep):
    """Seed label image on a horizontally binned grid (``hb`` work pixels per cell)."""
    h, w = text.shape
    hb = max(1, int(round(s / 3)))
    wb = -(-w // hb)
    t = text
    if wb * hb != w:
        t = np.pad(t, ((0, 0), (0, wb * hb - w)))
    counts = t[:, 0::hb].astype(np.uint8)  # ink per cell: a sum of strided slices (5x a reshaped mean)
    for i in range(1, hb):
        counts += t[:, i::hb]
    d = counts.astype(np.float32) / np.float32(hb)
    sx = max(1, int(round(2.5 * s / hb)))
    d = ndi.uniform_filter1d(ndi.uniform_filter1d(d, sx, axis=1), sx, axis=1)
    g = ndi.gaussian_filter1d(d, max(1.0, 0.3 * s), axis=0, order=1)
    vr = _odd(s)
    gmax = float(np.abs(g).max())
    if gmax <= 0:
        return None, 0, hb
    thr = 0.04 * gmax
    top = (g > thr) & (g == ndi.maximum_filter1d(g, vr, axis=0))
    neg = -g
    bot = (neg > thr) & (neg == ndi.maximum_filter1d(neg, vr, axis=0))
    yy = np.arange(h, dtype=np.int32)[:, None]
    big = np.int32(1 << 30)
    lt = np.maximum.accumulate(np.where(top, yy, -1), axis=0)
    lb = np.maximum.accumulate(np.where(bot, yy, -1), axis=0)
    nb = np.minimum.accumulate(np.where(bot, yy, big)[::-1], axis=0)[::-1]
    # Next top edge strictly below each row: a seed must reach its bottom edge before it.
    nt = np.full_like(nb, big)
    np.minimum.accumulate(np.where(top[:0:-1], yy[:0:-1], big), axis=0, out=nt[-2::-1])
    delta = max(2, int(round(s / 2)))
    seed = ((lt > lb) & (nb - lt <= 3 * s)) | (nb - yy < delta)
    seed &= (nb < big) & (nb < nt) & (d > 0.02)
    if colsep is not None:
        cb = colsep if wb * hb == w else np.pad(colsep, ((0, 0), (0, wb * hb - w)))
        cb = cb.reshape(h, wb, hb).any(axis=2)
        seed &= ~cb
    else:
        cb = None
    seed = ndi.maximum_filter1d(seed.view(np.uint8), max(1, int(round(s / hb))), axis=1).view(bool)
    if cb is not None:
        seed &= ~cb
    lab, k = ndi.label(seed)
    if k > 1:
        lab, k = _cut_bridges(lab, k)
    return lab, k, hb


STACKED_SEEDS = 0.8  # line pitches between the centres of two seeds that are never joined
STACKED_PIECES = 0.6  # ... between the cores of two pieces that are never merged (both overlapping)
BRIDGE_TALL = 1.6  # a seed this many times the median seed's height may be two lines' seeds joined
BRIDGE_SHARE = 0.2  # ... by rows holding at most this share of its widest row's cells


def _cut_bridges(lab: np.ndarray, k: int) -> tuple[np.ndarray, int]:
    """Seeds of two lines joined by a narrow bridge, cut apart at it.

    Heavy type set close (a typewriter's single spacing: lines 1/6 inch apart, its ink spread)
    touches the next line here and there; where it does, the gradient finds no edge between
    the lines and their two seeds join through a few cells into one, twice a seed's height,
    and the two lines were read as one. Rows of a tall seed holding few of its cells, with wide
    rows above and below, are such a bridge: they are dropped and the seeds labelled again. A
    tall seed of large type has no such waist.
    """
    objs = ndi.find_objects(lab)
    heights = np.array([o[0].stop - o[0].start if o is not None else 0 for o in objs])
    med = float(np.median(heights[heights > 0]))
    cut = False
    for i in np.flatnonzero(heights > BRIDGE_TALL * med):
        sl = objs[i]
        own = lab[sl] == i + 1
        rows = own.sum(axis=1)
        narrow = rows <= BRIDGE_SHARE * rows.max()
        wide = np.flatnonzero(rows >= 0.5 * rows.max())
        inner = narrow & (np.arange(len(rows)) > wide[0]) & (np.arange(len(rows)) < wide[-1])
        if inner.any():
            sub = lab[sl]
            sub[inner[:, None] & own] = 0
            cut = True
    if not cut:
        return lab, k
    return ndi.label(lab > 0)


def _assign_components(labels, n, objs, seeds, hb, kind, bb, s, merge_seeds=True, pitch=None):
    """Seed number per text component (0 = none), and pixel splits of components joining lines.

    A component goes to the seed it overlaps most, else to the nearest seed straight above or
    below within about a line. A component overlapping several seeds substantially (a descender
    touching the ascender below) is split pixel by pixel to the nearest seed, as label spreading
    would. Small marks are left out here and attached to finished lines (:func:`_attach_small`),
    so that a speck beside a line cannot stretch it along the seed's smeared ends.
    Returns ``(assign, splits, seeds)``, ``splits`` = {component: (ys, xs, seed per pixel)},
    ``seeds`` possibly with seeds of one line joined (never two a ``pitch`` apart).
    """
    h, w = labels.shape
    hs, wbs = seeds.shape
    sfull = np.repeat(seeds, hb, axis=1)[:, :w] if hb > 1 else seeds
    m = (labels > 0) & (sfull > 0)
    cc = labels[m].astype(np.int64)
    sd = sfull[m].astype(np.int64)
    ns = int(seeds.max())
    assign = np.zeros(n + 1, np.int32)
    splits = {}
    # Nearest seed straight above / below every cell of the binned seed grid.
    yy = np.arange(hs, dtype=np.int32)[:, None]
    has = seeds > 0
    up = np.maximum.accumulate(np.where(has, yy, -1), axis=0)
    dn = np.minimum.accumulate(np.where(has, yy, hs)[::-1], axis=0)[::-1]

    def nearest(ys, xcols):
        yu, yd = up[ys, xcols], dn[ys, xcols]
        du = np.where(yu >= 0, ys - yu, 1 << 30)
        dd = np.where(yd < hs, yd - ys, 1 << 30)
        lu = np.where(yu >= 0, seeds[np.maximum(yu, 0), xcols], 0)
        ld = np.where(yd < hs, seeds[np.minimum(yd, hs - 1), xcols], 0)
        return np.where(du <= dd, lu, ld), np.minimum(du, dd)

    if cc.size:
        key = cc * (ns + 1) + sd
        uk, cnt = np.unique(key, return_counts=True)
        kc, ks = uk // (ns + 1), uk % (ns + 1)
        o = np.lexsort((cnt, kc))
        kc, ks, cnt = kc[o], ks[o], cnt[o]
        last = np.ones(len(kc), bool)
        last[:-1] = kc[1:] != kc[:-1]
        assign[kc[last]] = ks[last]
        if merge_seeds:
            # Two seeds sharing most of their glyphs are one line of large type (the gradient at
            # body-text scale can put two seeds in one tall line): join them and start over.
            txt = kind[kc - 1] == 1
            per_seed = np.bincount(ks[txt], minlength=ns + 1)
            # Entries of components with more than one seed, paired with the component's best
            # seed (the last entry of its run).
            multi = np.flatnonzero(~last & txt)
            if multi.size:
                run_last = np.flatnonzero(last)
                pa = ks[multi]
                pb = ks[run_last[np.searchsorted(run_last, multi)]]
                lo_, hi_ = np.minimum(pa, pb), np.maximum(pa, pb)
                pk, pc = np.unique(lo_ * (ns + 1) + hi_, return_counts=True)
                a_, b_ = pk // (ns + 1), pk % (ns + 1)
                join = pc >= 0.4 * np.minimum(per_seed[a_], per_seed[b_])
                if join.any():
                    # ... and only seeds touching each other: the x-height bands of neighbouring
                    # lines whose glyphs touch are a descender-plus-ascender height apart.
                    so = ndi.find_objects(seeds)
                    ext = np.array([(o[0].start, o[0].stop, o[1].start, o[1].stop) if o is not None else (0, 0, 0, 0)
                                    for o in so])
                    rows, cols = ext[:, :2], ext[:, 2:] * hb
                    ra, rb_ = rows[a_ - 1], rows[b_ - 1]
                    vgap = np.maximum(ra[:, 0], rb_[:, 0]) - np.minimum(ra[:, 1], rb_[:, 1])
                    join &= vgap < 0.5 * s
                    if pitch:
                        # ... nor seeds of two lines stacked a pitch apart, sharing the glyphs that
                        # touch across them (8 lines an inch of 9-pin print: each descender meets
                        # the capitals below); seeds inside one line lie closer (a broken pin's
                        # slivers 0.5 of a pitch apart there).
                        ca, cb_ = cols[a_ - 1], cols[b_ - 1]
                        over = np.minimum(ca[:, 1], cb_[:, 1]) - np.maximum(ca[:, 0], cb_[:, 0])
                        dist = np.abs((ra[:, 0] + ra[:, 1]) - (rb_[:, 0] + rb_[:, 1])) / 2.0
                        short = np.maximum(ra[:, 1] - ra[:, 0], rb_[:, 1] - rb_[:, 0]) <= pitch  # not a photo's blobs
                        band = pc >= 0.8 * np.minimum(per_seed[a_], per_seed[b_])  # one inside the other's glyphs
                        join &= ~((over >= 2 * s) & (dist >= STACKED_SEEDS * pitch) & short & ~band)
                if join.any():
                    parent = np.arange(ns + 1)

                    def find(i):
                        while parent[i] != i:
                            parent[i] = parent[parent[i]]
                            i = parent[i]
                        return i

                    for x, y in zip(a_[join], b_[join]):
                        rx, ry = find(int(x)), int(find(int(y)))
                        if rx != ry:
                            parent[max(rx, ry)] = min(rx, ry)
                    remap = np.array([find(i) for i in range(ns + 1)])
                    return _assign_components(labels, n, objs, remap[seeds], hb, kind, bb, s, merge_seeds=False)
        # Components whose second seed holds a good share of their overlap get split.
        idx_last = np.flatnonzero(last)
        prev = idx_last - 1
        okp = (prev >= 0) & (kc[np.maximum(prev, 0)] == kc[idx_last])
        if okp.any():
            tot = np.bincount(kc, weights=cnt, minlength=n + 1)
            for j in np.flatnonzero(okp):
                c = int(kc[idx_last[j]])
                if kind[c - 1] != 1 or cnt[prev[j]] < max(0.2 * tot[c], 2):
                    continue
                sl = objs[c - 1]
                ys, xs = np.nonzero(labels[sl] == c)
                ys = ys + sl[0].start
                xs = xs + sl[1].start
                lab_px, _ = nearest(ys, np.minimum(xs // hb, wbs - 1))
                splits[c] = (ys, xs, lab_px)
    assign[1:][kind != 1] = 0
    todo = np.flatnonzero((assign[1:] == 0) & (kind == 1)) + 1
    if todo.size:
        b = bb[todo - 1]
        ycen = (b[:, 0] + b[:, 1]) // 2
        xc = np.minimum((b[:, 2] + b[:, 3]) // 2 // hb, wbs - 1)
        best, dist = nearest(ycen, xc)
        ok = dist <= 1.2 * s
        assign[todo[ok]] = best[ok]
    return assign, splits, seeds


def _build_lines(assign, splits, kind, bb, s, seeds) -> list[dict]:
    """Group components (and pieces of split ones) by seed into lines (work resolution).

    Each line: ``box`` (x0, y0, x1, y1), ``core`` (rows of its seed: the x-height band), ``ccs``
    (whole components) and ``pix`` (pixels of split components, as (ys, xs) pairs).
    """
    acc: dict[int, dict] = {}

    def add(sd, y0, y1, x0, x1):
        ln = acc.get(sd)
        if ln is None:
            acc[sd] = ln = {"b": [y0, y1, x0, x1], "ccs": [], "pix": []}
        else:
            b = ln["b"]
            b[0], b[1], b[2], b[3] = min(b[0], y0), max(b[1], y1), min(b[2], x0), max(b[3], x1)
        return ln

    ids = np.flatnonzero(assign[1:] > 0) + 1
    if splits:
        ids = ids[~np.isin(ids, np.fromiter(splits.keys(), dtype=np.int64))]
    if ids.size:
        a = assign[ids]
        o = np.argsort(a, kind="stable")
        ids, a = ids[o], a[o]
        b = bb[ids - 1]
        starts = np.flatnonzero(np.r_[True, a[1:] != a[:-1]])
        ends = np.r_[starts[1:], len(a)]
        y0 = np.minimum.reduceat(b[:, 0], starts)
        y1 = np.maximum.reduceat(b[:, 1], starts)
        x0 = np.minimum.reduceat(b[:, 2], starts)
        x1 = np.maximum.reduceat(b[:, 3], starts)
        for k in range(len(starts)):
            acc[int(a[starts[k]])] = {"b": [int(y0[k]), int(y1[k]), int(x0[k]), int(x1[k])],
                                      "ccs": ids[starts[k]:ends[k]].tolist(), "pix": []}
    for c, (ys, xs, lab_px) in splits.items():
        for sd in np.unique(lab_px):
            if sd == 0:
                continue
            mk = lab_px == sd
            py, px = ys[mk], xs[mk]
            add(int(sd), int(py.min()), int(py.max()) + 1, int(px.min()), int(px.max()) + 1)["pix"].append((py, px))
    cores = ndi.find_objects(seeds)
    lines = []
    for sd, ln in acc.items():
        y0, y1, x0, x1 = ln["b"]
        if (y1 - y0) < 0.4 * s:
            continue
        co = cores[sd - 1] if sd - 1 < len(cores) else None
        core = (co[0].start, co[0].stop) if co is not None else (y0, y1)
        lines.append({"box": (x0, y0, x1, y1), "core": core, "ccs": np.asarray(ln["ccs"], dtype=np.int64),
                      "pix": ln["pix"], "seed": sd})
    return lines


MARGIN_EDGE = 0.5  # text scales within which a justified block's lines end (or start) at one x: its edge
MARGIN_SHARE = 0.5  # ... the least share of the lines reaching the edge's last 10 scales that end there
MARGIN_PAST = 0.25  # ... the most share of them that reach on past it (lines with a note beside them)
MARGIN_CLEAR = 1.0  # text scales of paper between a ragged line and what lies beyond its block's edge
MARGIN_NUMBER = 5.0  # text scales: the widest a paragraph's number set out left of its block is
RAGGED_SPAN = 2.0  # text scales short of a ragged edge within which the longer lines end


def _split_margins(lines: list[dict], bb: np.ndarray, seeds: np.ndarray, hb: int, s: float) -> list[dict]:
    """Lines with a note written in the margin beside them, split in two: the line, and the note
    as a piece of its own marked ``margin`` (never merged into a line of the text block again).

    A note a little beyond a justified column's edge lies a word gap from its line, so the line's
    seed ran on into it; the note's tall handwriting made the line's core twice as tall, and the
    line was merged with the line above into one, read as junk (seed 306 page 6: 4.1%). The
    block's edge is where most lines of a column end at one x (or start, on the left): what a
    line holds wholly beyond it, by ``MARGIN_GAP`` scales, is in the margin. Ragged text has no
    such edge on its right: there the edge is where the longest lines end (:func:`_ragged_edge`),
    and what lies beyond it must stand ``MARGIN_CLEAR`` scales clear of the line, more than a
    word gap (seed 305 page 2: 2.9%), and not stand within the line's rows as type does
    (:func:`_on_line`). A line longer than most ends past that edge: its last letters stay with
    it, and only what stands clear of them is judged (:func:`_clear_of_line`; seed 327 page 10,
    a note 1.5 scales beyond such a line: 2.8%). Left of the block, a paragraph's number set out
    in the margin before its first line is type too, and stays with its line.
    """
    if len(lines) < 5:
        return lines
    bx = np.array([ln["box"] for ln in lines], dtype=np.int64)
    wide = (bx[:, 2] - bx[:, 0]) > 10 * s
    if wide.sum() < 5:
        return lines
    right = _block_edge(bx[wide, 2], bx[wide, 0], s)
    left = _block_edge(-bx[wide, 0], -bx[wide, 2], s)
    ragged = right is None
    if ragged:
        right = _ragged_edge(bx[wide, 2], s)
    if right is None and left is None:
        return lines
    hi = np.inf if right is None else right + MARGIN_GAP * s
    lo = -np.inf if left is None else -left - MARGIN_GAP * s
    out = []
    for ln in lines:
        if ln["box"][2] < hi and ln["box"][0] > lo:
            out.append(ln)
            continue
        cc, pix = ln["ccs"], ln["pix"]
        cx = bb[cc - 1][:, 2:4]
        px = np.array([(p.min(), p.max() + 1) for _, p in pix], dtype=np.int64).reshape(-1, 2)
        sides = []
        for out_cc, out_px, edge in ((cx[:, 0] >= hi, px[:, 0] >= hi, 1), (cx[:, 1] <= lo, px[:, 1] <= lo, -1)):
            if edge > 0 and ragged:
                out_cc, out_px = _clear_of_line(cx, px, out_cc, out_px, MARGIN_CLEAR * s)
            if out_cc.all() and out_px.all() or not (out_cc.any() or out_px.any()):
                continue
            # the rest of the line must end at the edge: a heading running on across it (over
            # both columns of a page whose right column is too short for an edge of its own)
            # has a letter astride it, or a word gap no wider than its others. A ragged edge is
            # only where the longer lines end: a line may end a little past it.
            rest = np.r_[cx[~out_cc, 1], px[~out_px, 1]] if edge > 0 else -np.r_[cx[~out_cc, 0], px[~out_px, 0]]
            slack = RAGGED_SPAN if edge > 0 and ragged else MARGIN_EDGE
            if rest.size and rest.max() > (right if edge > 0 else left) + slack * s:
                continue
            sides.append((out_cc, out_px))
        if not sides:
            out.append(ln)
            continue
        away_cc = np.logical_or.reduce([o for o, _ in sides])
        away_px = np.logical_or.reduce([o for _, o in sides])
        if away_cc.all() and away_px.all():
            out.append(ln)
            continue
        body = _extent(_part(ln, ~away_cc, ~away_px), bb)
        notes = []
        for out_cc, out_px in sides:
            note = _part(ln, out_cc, out_px)
            note["box"] = _extent(note, bb)
            x0, x1 = note["box"][0], note["box"][2]
            # (what stands beyond a ragged edge already stands MARGIN_CLEAR clear: _clear_of_line)
            if (x0 >= hi and ragged and _on_line(note["box"], body, s)
                    or x1 <= lo and _on_line(note["box"], body, s, MARGIN_NUMBER)):
                continue  # type of the line: a long line's last words, a paragraph's number
            note["margin"] = True
            notes.append((note, out_cc, out_px))
        if not notes:
            out.append(ln)
            continue
        taken_cc = np.logical_or.reduce([o for _, o, _ in notes])
        taken_px = np.logical_or.reduce([o for _, _, o in notes])
        line = _part(ln, ~taken_cc, ~taken_px)
        line["box"] = _extent(line, bb)
        for part in [line] + [n for n, _, _ in notes]:
            x0, y0, x1, y1 = part["box"]
            part["core"] = _seed_rows(seeds, hb, x0, x1, ln) or (y0, y1)
            out.append(part)
    return out


def _part(ln: dict, take_cc: np.ndarray, take_px: np.ndarray) -> dict:
    """The components and split pixels of line ``ln`` that the masks take, as a line's dict."""
    return {"ccs": ln["ccs"][take_cc], "pix": [p for p, t in zip(ln["pix"], take_px) if t]}


def _extent(line: dict, bb: np.ndarray) -> tuple[int, int, int, int]:
    """Box ``(x0, y0, x1, y1)`` of a line's components and pixels."""
    b = bb[line["ccs"] - 1]
    boxes = [(b[:, 2].min(), b[:, 0].min(), b[:, 3].max(), b[:, 1].max())] if len(b) else []
    boxes += [(px.min(), py.min(), px.max() + 1, py.max() + 1) for py, px in line["pix"]]
    a = np.array(boxes, dtype=np.int64)
    return int(a[:, 0].min()), int(a[:, 1].min()), int(a[:, 2].max()), int(a[:, 3].max())


def _block_edge(ends: np.ndarray, starts: np.ndarray, s: float) -> Optional[int]:
    """The outermost x (the largest of ``ends``) where ``MARGIN_SHARE`` of the lines reaching
    into the 10 scales before it end within ``MARGIN_EDGE`` scales of it, and at most
    ``MARGIN_PAST`` of them go on past it; None where there is none (ragged text). For a left
    edge, pass negated starts as ``ends`` and negated ends as ``starts``."""
    tol = MARGIN_EDGE * s
    for e in np.unique(ends)[::-1]:
        reach = (starts < e - 10 * s) & (ends > e - 10 * s)
        n = int(reach.sum())
        if n < 5:
            continue
        at = int((reach & (np.abs(ends - e) <= tol)).sum())
        past = int((reach & (ends > e + tol)).sum())
        if at >= MARGIN_SHARE * n and past <= MARGIN_PAST * n:
            return int(e)
        if past > MARGIN_PAST * n:
            return None  # an edge inside the block: lines of another column go on past it
    return None


def _on_line(note: tuple, body: tuple, s: float, widest: float = np.inf, slack: float = 0.3) -> bool:
    """Whether what a line holds beyond its block's edge (box ``note``) is type of that line:
    within the line's own rows (by ``slack`` scales) and no wider than ``widest`` scales. A
    paragraph's number set out in the margin is; so is the last word of a typed line longer than
    most, after two spaces. Handwriting reaches above or below its line."""
    return note[2] - note[0] <= widest * s and note[1] >= body[1] - slack * s and note[3] <= body[3] + slack * s


def _clear_of_line(cx: np.ndarray, px: np.ndarray, out_cc: np.ndarray, out_px: np.ndarray,
                   clear: float) -> tuple[np.ndarray, np.ndarray]:
    """Of what a line holds beyond a ragged edge (``out_cc`` of its components' x-spans ``cx``,
    ``out_px`` of its split pixels' ``px``), only what stands ``clear`` px beyond the rest of the
    line: a line longer than most ends past the edge, and its last letters go back to it (else
    the note beside it came with them and was judged as they are, type close to its line)."""
    out_cc, out_px = out_cc.copy(), out_px.copy()
    while out_cc.any() or out_px.any():
        rest = np.r_[cx[~out_cc, 1], px[~out_px, 1]]
        end = rest.max() if rest.size else -np.inf
        back_cc, back_px = out_cc & (cx[:, 0] < end + clear), out_px & (px[:, 0] < end + clear)
        if not (back_cc.any() or back_px.any()):
            break
        out_cc &= ~back_cc
        out_px &= ~back_px
    return out_cc, out_px


def _ragged_edge(ends: np.ndarray, s: float, run: int = 3, span: float = RAGGED_SPAN) -> Optional[int]:
    """The right edge of ragged text: the furthest line end with ``run`` more lines ending
    within ``span`` scales short of it, found among the furthest ``MARGIN_PAST`` of the lines
    (lines with a note beside them end further out, few and far apart); None if none is."""
    e = np.sort(ends)[::-1]
    for i in range(min(len(e) - run, int(MARGIN_PAST * len(e)) + 1)):
        if e[i] - e[i + run] <= span * s:
            return int(e[i])
    return None


def _seed_rows(seeds: np.ndarray, hb: int, x0: int, x1: int, ln: dict) -> Optional[tuple[int, int]]:
    """Rows of the seed a line was grown from, over its columns ``[x0, x1)`` only (the x-height
    band of that part of the line), or None when the seed does not reach there."""
    y0, y1 = ln["core"]
    sub = seeds[y0:y1, x0 // hb:max(x0 // hb + 1, -(-x1 // hb))] == ln["seed"]
    rows = np.flatnonzero(sub.any(axis=1))
    if rows.size == 0:
        return None
    return y0 + int(rows[0]), y0 + int(rows[-1]) + 1


def _absorb_fragments(lines, s) -> list[dict]:
    """Fold tiny "lines" (pieces of broken glyphs, a closing quote at a column's edge, where
    the gutter kept it from the line's other pieces) into a real line within half a scale."""
    if len(lines) < 2:
        return lines
    bx = np.array([ln["box"] for ln in lines], dtype=np.float64)
    w = bx[:, 2] - bx[:, 0]
    tiny = (w < 2 * s) & np.array([len(ln["ccs"]) + len(ln["pix"]) <= 3 for ln in lines])
    if not tiny.any() or tiny.all():
        return lines
    big = np.flatnonzero(~tiny)
    drop = set()
    for i in np.flatnonzero(tiny):
        cy = (bx[i, 1] + bx[i, 3]) / 2
        b = bx[big]
        dx = np.maximum(b[:, 0] - bx[i, 2], 0) + np.maximum(bx[i, 0] - b[:, 2], 0)
        dy = np.maximum(b[:, 1] - cy, 0) + np.maximum(cy - b[:, 3], 0)
        d = np.where(dx <= 0.5 * s, dy, np.inf)
        j = int(np.argmin(d))
        if d[j] <= 0.5 * s:
            _fold_into(lines[big[j]], lines[i])
            drop.add(int(i))
    return [ln for k, ln in enumerate(lines) if k not in drop]


def _fold_into(line: dict, piece: dict) -> None:
    """Make ``piece`` (a line's dict) part of ``line``: its components, pixels and box."""
    x0, y0, x1, y1 = line["box"]
    u0, v0, u1, v1 = piece["box"]
    line["box"] = (min(x0, u0), min(y0, v0), max(x1, u1), max(y1, v1))
    line["ccs"] = np.concatenate([line["ccs"], piece["ccs"]])
    line["pix"] = line["pix"] + piece["pix"]


def _fold_slivers(lines, s, max_height: float = 0.7, max_gap: float = 0.35) -> list[dict]:
    """Fold slivers into the line they were cut from: a "line" within another line's width,
    that line at least 1.5 times as tall, and either inside its box and under a scale tall, or
    under ``max_height`` scales tall and at most ``max_gap`` scales above or below it. A
    dot-matrix printer with a broken pin leaves the same row of dots out of every letter, which
    cut the tops of capitals and ascenders (or the descenders) from each line as a line of its
    own (0.75-0.9 scales tall, inside the line's box), read as junk. Real lines do not lie
    inside another's box, and are taller (lowercase alone is about a scale) or farther apart
    (a row of dashes under a heading sits in a line pitch of its own)."""
    if len(lines) < 2:
        return lines
    bx = np.array([ln["box"] for ln in lines], dtype=np.float64)
    h = bx[:, 3] - bx[:, 1]
    drop: set[int] = set()
    for i in np.flatnonzero(h < s):
        gap = np.maximum(bx[:, 1] - bx[i, 3], 0) + np.maximum(bx[i, 1] - bx[:, 3], 0)
        inside = (bx[:, 1] <= bx[i, 1]) & (bx[:, 3] >= bx[i, 3])
        near = inside | ((gap <= max_gap * s) & (h[i] < max_height * s))
        ok = near & (h >= 1.5 * h[i]) & (bx[:, 0] <= bx[i, 0] + 0.5 * s) & (bx[:, 2] >= bx[i, 2] - 0.5 * s)
        ok[i] = False
        ok[list(drop)] = False
        if not ok.any():
            continue
        j = int(np.flatnonzero(ok)[np.argmin(gap[ok])])
        _fold_into(lines[j], lines[i])
        bx[j] = lines[j]["box"]
        drop.add(int(i))
    return [ln for k, ln in enumerate(lines) if k not in drop]


def _is_speck(ln, labels, objs, s) -> bool:
    """A "line" that is one solid blob: a speck of dirt about a character in size, or a larger
    squat one inked all through (a punch hole, whole or cut by the page's edge; the sprocket
    holes down fan-fold paper's tractor strips, 1.5-3 scales beside 10-point print, too small
    or too ragged at its rim for :func:`_solid_blobs`, were each read as a line "0"), not text.
    A blob with a hole is a glyph: two digits run together in small bold type ("96", a page
    number at 150 dpi) fill their box as much as a speck does; a large glyph without one (a
    bold heading's ``m``) leaves gaps inside the ellipse its box holds."""
    if len(ln["ccs"]) != 1 or ln["pix"]:
        return False
    x0, y0, x1, y1 = ln["box"]
    w, h = x1 - x0, y1 - y0
    big = w > 1.5 * s or h > 1.5 * s
    if big and max(w, h) > 2.0 * min(w, h):
        return False
    c = int(ln["ccs"][0])
    blob = labels[objs[c - 1]] == c
    ink = np.count_nonzero(blob)
    if ink <= 0.6 * w * h:  # a disc fills 79% of its box, less once binarized at its rim
        return False
    if big:  # inked all through: the middle of the ellipse within its box (a cut disc's too)
        yy, xx = np.ogrid[0:blob.shape[0], 0:blob.shape[1]]
        cy, cx = (blob.shape[0] - 1) / 2.0, (blob.shape[1] - 1) / 2.0
        core = ((yy - cy) / (0.4 * blob.shape[0])) ** 2 + ((xx - cx) / (0.4 * blob.shape[1])) ** 2 <= 1.0
        if np.count_nonzero(blob & core) < 0.97 * np.count_nonzero(core):
            return False
    return np.count_nonzero(ndi.binary_fill_holes(blob)) == ink


def _attach_small(lines, kind, bb, s, reach: float = 1.5, gap: float = 0.4, trail: float = TRAIL_REACH,
                  dash_trail: float = DASH_TRAIL) -> None:
    """Attach small marks (i-dots, accents, punctuation) lying within a line's span (up to half
    a scale beyond its ends), in place.

    Marks above or below a line join it within ``gap`` text scales of its box. Dots of dirt in
    the wide gaps of double-spaced text joined lines at 0.8 and made their crops up to 1.8 times
    too tall (6 double-spaced pages: CER 1.45% at 0.8, 0.16% at 0.4; single-spaced pages, where
    the gaps are narrower, read the same).

    A dash-like mark (wider than tall, at least 0.4 scales wide) within a line's x-height band
    may end up to ``reach`` text scales before its start or begin that far after its end: a
    minus sign or an opening dash is often the first mark of a line (a table's "-18.7"), dashes
    frame a page number ("- 101 -", a monospace font gives each its own cell), and both were
    dropped when marks had to lie within half a scale. Specks of dirt and slivers of a table's
    rules (at a line's edge, not at its x-height) get no such reach. A mark level with two
    lines (cells of a table row) joins the nearer one. The marks left then get a second pass,
    with each line's ends moved out to the dashes it took (a period after a closing dash).

    A mark the size of a period or a colon's dot (:func:`_point_like`) within the line's core
    band may begin up to ``trail`` text scales after the line's end: monospace type centres its
    punctuation in a full cell, so a line's final period or colon lies 0.5-0.6 scales beyond its
    last letter, and lines lost it ("swear." read "swear"; 4 of the 9 errors at a line's end,
    of 26, on 423 page crops, bench/RESULTS.md). Specks much smaller than a period, at any height, stay out, and on
    a page strewn with period-sized specks no line takes (:data:`STRAY_POINTS` per line) the
    rule is off. On such a quiet page a dash past a line's end reaches ``dash_trail`` scales:
    justification stretches the space before a closing dash ("significantly -") to 1.5-3
    scales, and 3 of 14 such lines on 40 pages lost it.

    A mark widens its line's box but never makes it taller: the crop's height sets the size the
    text reaches the recognizer at, and specks of dirt above and below a speckled scan's lines
    made their crops up to 1.5 times too tall, so narrow type shrank below what the model can
    tell apart ("lilly" read "ly"; a bilevel 300-dpi page with 1.3% specks: page CER 5.31% ->
    2.07%, Tesseract 1.53%). What a line's glyphs span already holds its dots, accents and
    punctuation, and the crop's padding the dots of a line without ascenders.
    """
    small = np.flatnonzero(kind == 0)
    if small.size == 0 or not lines:
        return
    lb = np.array([ln["box"] for ln in lines], dtype=np.float64)
    lc = np.array([ln["core"] for ln in lines], dtype=np.float64).reshape(-1, 2)
    b = bb[small].astype(np.float64)
    best = _nearest_line(lb, lc, b, s, reach, gap)
    # Period-sized marks and dashes further past a line's end, unless the page is strewn with
    # marks of that size that no line took (noise: a page with 4% salt and pepper has 15-30 per
    # line, clean pages under 0.3, speckled or degraded ones up to 2), whose specks would join.
    point = _point_like(b, s)
    quiet = trail > 0 and np.count_nonzero(point & (best < 0)) <= STRAY_POINTS * len(lines)
    dash_trail = dash_trail if quiet else 0.0  # within ``reach`` every dash joins anyway
    if quiet:
        rest = np.flatnonzero(best < 0)
        best[rest] = _nearest_line(lb, lc, b[rest], s, reach, gap, trail, dash_trail)
    # Once more, for the marks left, beside the dashes that joined a line: the period after a
    # closing dash lay beyond the line's glyphs by more than half a scale and was dropped
    # ("Perkins -." read "Perkins -"). Only dashes (and on a quiet page period-sized marks)
    # widen the reach, once: letting every mark do so chained the specks of a page with 4% salt
    # and pepper onto its lines (CER 8.6% -> 13.0%).
    dash = (_dash_like(b, s) | (point & quiet)) & (best >= 0)
    if dash.any():
        lb2 = lb.copy()
        for c, li in zip(np.flatnonzero(dash), best[dash]):
            lb2[li, 0], lb2[li, 2] = min(lb2[li, 0], b[c, 2]), max(lb2[li, 2], b[c, 3])
        rest = np.flatnonzero(best < 0)
        if rest.size:
            best[rest] = _nearest_line(lb2, lc, b[rest], s, reach, gap, trail if quiet else 0.0, dash_trail)
    ok = best >= 0
    if not ok.any():
        return
    add: dict[int, list[int]] = {}
    for c, li in zip(small[ok], best[ok]):
        add.setdefault(int(li), []).append(int(c))
    for li, cs in add.items():
        cb = bb[cs]
        x0, y0, x1, y1 = lines[li]["box"]
        lines[li]["box"] = (min(x0, int(cb[:, 2].min())), y0, max(x1, int(cb[:, 3].max())), y1)
        lines[li]["ccs"] = np.concatenate([lines[li]["ccs"], np.asarray(cs, dtype=np.int64) + 1])


def _dash_like(b: np.ndarray, s: float) -> np.ndarray:
    """Marks (rows of component boxes: y0, y1, x0, x1) shaped as dashes: wider than tall, at
    least 0.4 text scales wide."""
    return ((b[:, 3] - b[:, 2]) >= 1.5 * (b[:, 1] - b[:, 0])) & ((b[:, 3] - b[:, 2]) >= 0.4 * s)


def _point_like(b: np.ndarray, s: float) -> np.ndarray:
    """Marks (rows of component boxes: y0, y1, x0, x1) the size of a period or a colon's dot,
    0.2-0.6 text scales each way (a period measured 0.35, dirt specks 0.07), or of a short
    hyphen: wider than tall, 0.2-0.6 scales wide and at least 0.1 tall."""
    h, w = b[:, 1] - b[:, 0], b[:, 3] - b[:, 2]
    dot = (h >= 0.2 * s) & (w >= 0.2 * s) & (h <= 0.6 * s) & (w <= 0.6 * s)
    hyphen = (w >= 1.5 * h) & (h >= 0.1 * s) & (w >= 0.2 * s) & (w <= 0.6 * s)
    return dot | hyphen


def _nearest_line(lb: np.ndarray, lc: np.ndarray, b: np.ndarray, s: float, reach: float, gap: float,
                  trail: float = 0.0, dash_trail: float = 0.0) -> np.ndarray:
    """For each small mark (rows of component boxes ``b``: y0, y1, x0, x1), the line (boxes
    ``lb``, x-height bands ``lc``) it joins under :func:`_attach_small`'s rules, or -1."""
    yc = (b[:, 0] + b[:, 1]) / 2
    dash = _dash_like(b, s)
    point = _point_like(b, s) & ~dash
    # Marks in order of height, a block at a time against only the lines within ``gap`` of the
    # block's rows (no other line can take a mark): memory and time stay bounded on a page of
    # specks (a dithered or halftone page has 10^5 marks and thousands of line fragments, and
    # the full marks-by-lines matrices took 8 GB).
    by_y = np.argsort(yc, kind="stable")
    best = np.full(len(b), -1, np.int64)
    reach_y = gap * s
    step = max(256, _PAIR_BUDGET // max(1, len(lb)))
    for k in range(0, len(b), step):
        m = by_y[k: k + step]
        near = np.flatnonzero((lb[:, 1] - reach_y <= yc[m[-1]]) & (lb[:, 3] + reach_y >= yc[m[0]]))
        if near.size == 0:
            continue
        bm, ym, lbn, lcn = b[m], yc[m], lb[near], lc[near]
        dx = np.maximum(lbn[None, :, 0] - bm[:, 3:4], 0) + np.maximum(bm[:, 2:3] - lbn[None, :, 2], 0)
        inside_x = dx <= 0.5 * s  # a closing quote just after a line's end too
        mid = (ym[:, None] > lcn[None, :, 0]) & (ym[:, None] < lcn[None, :, 1])  # at the x-height, as dashes are
        beside = mid & dash[m][:, None] & (dx <= reach * s)
        after = bm[:, 2:3] >= lbn[None, :, 2]  # the mark begins past the line's end
        beside |= mid & point[m][:, None] & after & (dx <= trail * s)
        beside |= mid & dash[m][:, None] & after & (dx <= dash_trail * s)
        dy = np.maximum(lbn[None, :, 1] - ym[:, None], 0) + np.maximum(ym[:, None] - lbn[None, :, 3], 0)
        dy = np.where(inside_x | beside, dy + 1e-3 * dx, np.inf)
        j = np.argmin(dy, axis=1)
        take = dy[np.arange(len(m)), j] <= reach_y
        best[m[take]] = near[j[take]]
    return best


MARGIN_GAP = 0.25  # text scales beyond the furthest that long lines reach where a margin begins


def _merge_pieces(lines, colsep, s, shape, pitch: Optional[float] = None) -> list[dict]:
    """Merge pieces of one line: same band of rows, small horizontal gap, no separator between,
    and no two pieces in one line that lie one above the other (``pitch``: the line pitch)."""
    if len(lines) < 2:
        return lines
    bx = np.array([ln["box"] for ln in lines], dtype=np.int64)
    x0, y0, x1, y1 = bx.T
    # Vertical overlap of the cores (x-height bands): boxes can be stretched by joined glyphs.
    cy = np.array([ln["core"] for ln in lines], dtype=np.int64)
    c0, c1 = cy[:, 0], cy[:, 1]
    hgt = c1 - c0
    pi, pj = _overlapping_pairs(c0, c1)  # every rule below needs the cores to overlap
    ov = np.minimum(c1[pi], c1[pj]) - np.maximum(c0[pi], c0[pj])
    vo = ov / np.maximum(np.minimum(hgt[pi], hgt[pj]), 1)
    bh = y1 - y0
    bov = np.minimum(y1[pi], y1[pj]) - np.maximum(y0[pi], y0[pj])
    # Boxes also count when the cores at least touch (pieces of one heading can have offset cores).
    vo = np.maximum(vo, np.where(ov > 0, 0.6 / 0.7 * bov / np.maximum(np.minimum(bh[pi], bh[pj]), 1), 0))
    gap = np.maximum(x0[pj] - x1[pi], x0[pi] - x1[pj])
    cand = ((vo > 0.6) & (gap < 10.0 * s)) | ((vo > 0.25) & (gap < 1.5 * s))
    if not cand.any():
        return lines
    pi, pj, gap = pi[cand], pj[cand], gap[cand]
    parent = list(range(len(lines)))

    def find(i):
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    # Large type (headings) is never cut by a column separator: a word gap in a heading can line
    # up with the gutter below it.
    large = hgt >= 1.4 * np.median(hgt)
    # What lies wholly beyond the text block's edges (the furthest that long lines reach) is in
    # a margin: a note written or printed there is no part of the line beside it. So is what
    # :func:`_split_margins` cut from a line at its block's edge.
    wide = (x1 - x0) > 10 * s
    margin = np.array([bool(ln.get("margin")) for ln in lines])
    if wide.sum() >= 5:
        margin |= (x0 > x1[wide].max() + MARGIN_GAP * s) | (x1 < x0[wide].min() - MARGIN_GAP * s)
    # Pieces stacked one above the other (overlapping across more than 2 scales, their cores a
    # good part of a line pitch apart) are never one line, whatever lies between them: lines set
    # so close that each one's core reaches the next (8 lines an inch of 9-pin print) were
    # chained together through pairs of pieces and small bits between the lines. Pieces of large
    # type (boxes half again as tall as most) are left out, and so are two pieces that together
    # span less than 1.5 pitches (a heading cut into an upper and a lower band of pieces).
    lp = float(pitch) if pitch else 2.5 * s
    mid = (c0 + c1) / 2.0
    piece = (x1 - x0) >= 2 * s
    tall_box = bh >= 1.5 * np.median(bh[piece]) if piece.any() else np.zeros(len(lines), bool)
    checked = piece & ~tall_box
    members = {i: [i] for i in np.flatnonzero(checked).tolist()}

    def stacked(ra, rb) -> bool:
        a, b = members.get(ra), members.get(rb)
        if not a or not b:
            return False
        a, b = np.asarray(a)[:, None], np.asarray(b)[None, :]
        over = np.minimum(x1[a], x1[b]) - np.maximum(x0[a], x0[b])
        span = np.maximum(y1[a], y1[b]) - np.minimum(y0[a], y0[b])
        return bool(((over >= 2 * s) & (np.abs(mid[a] - mid[b]) >= STACKED_PIECES * lp) & (span >= 1.5 * lp)).any())

    for i, j, g in zip(pi.tolist(), pj.tolist(), gap.tolist()):
        if margin[i] != margin[j]:
            continue
        if colsep is not None and not (large[i] and large[j] and g < 1.5 * min(hgt[i], hgt[j])):
            gx0, gx1 = (x1[i], x0[j]) if x1[i] <= x0[j] else (x1[j], x0[i])
            if gx1 > gx0:
                ry0, ry1 = max(y0[i], y0[j]), min(y1[i], y1[j])
                if colsep[ry0:max(ry1, ry0 + 1), gx0:gx1].any():
                    continue
        ri, rj = find(i), find(j)
        if ri != rj:
            if stacked(ri, rj):
                continue
            parent[rj] = ri
            if rj in members:
                members.setdefault(ri, []).extend(members.pop(rj))
    groups: dict[int, list[int]] = {}
    for i in range(len(lines)):
        groups.setdefault(find(i), []).append(i)
    out = []
    for g in groups.values():
        if len(g) == 1:
            out.append(lines[g[0]])
            continue
        gb = bx[g]
        out.append({"box": (int(gb[:, 0].min()), int(gb[:, 1].min()), int(gb[:, 2].max()), int(gb[:, 3].max())),
                    "core": (int(c0[g].min()), int(c1[g].max())),
                    "ccs": np.concatenate([lines[i]["ccs"] for i in g]),
                    "pix": [pp for i in g for pp in lines[i]["pix"]]})
    return out


def _overlapping_pairs(a0: np.ndarray, a1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All pairs ``i < j`` whose intervals ``[a0, a1)`` overlap, in row-major order.

    A sweep over the intervals sorted by start instead of an n x n matrix: a page has a few
    pieces per row of text, but a sideways or noisy page has thousands of fragments, and their
    n x n matrices took seconds and gigabytes.
    """
    n = len(a0)
    order = np.argsort(a0, kind="stable")
    s0, s1 = a0[order], a1[order]
    # in start order, k overlaps the following intervals whose start lies before k's end
    end = np.searchsorted(s0, s1, side="left")
    cnt = np.maximum(end - np.arange(n) - 1, 0)
    # equal starts: the intervals before k with k's start overlap k too, and are counted there
    first = np.repeat(np.arange(n), cnt)
    second = first + 1 + (np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt))
    i, j = order[first], order[second]
    keep = (a1[i] > a0[j]) & (a1[j] > a0[i]) & (a1[i] > a0[i]) & (a1[j] > a0[j])
    i, j = i[keep], j[keep]
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    k = np.lexsort((hi, lo))
    return lo[k], hi[k]


def _reading_order(lines, colsep, s) -> tuple[list[int], np.ndarray]:
    """Reading order and column index of every line (topological sort of pairwise rules).

    Line u comes before line v when they overlap horizontally and u is higher, or when u lies
    left of a column gutter and v right of it, and no third line overlapping both horizontally
    lies between them in height.
    Lines crossing a column gutter (headings, full-width paragraphs), and lines on their row, are
    read strictly by height against every other line, on one row from left to right (a line
    another gutter bounds is its column's: a table's gutter within a column); a running head
    over the columns is read across before them (:func:`_head_row`). So columns are read
    left to right, a column that ends early does not pull the rest of its neighbour after it,
    and a full-width heading comes before the columns below it. Ties go to the higher, then the
    left line, except that a line ready to be read on the same row further left goes first
    (:func:`_left_on_row`: a table's cells row by row).
    The column of a line is the number of separators left of its start that run beside it.
    A line crosses a gutter only beside it (within 4 text scales of its ends), and where the
    columns change from one block to the next across a blank band (:func:`_blocks`: two
    columns over three) the blocks are read one after the other.
    """
    n = len(lines)
    b = np.array([ln["box"] for ln in lines], dtype=np.float64).reshape(-1, 4)
    core = np.array([ln["core"] for ln in lines], dtype=np.float64).reshape(-1, 2)
    x0, x1 = b[:, 0], b[:, 2]
    y0 = b[:, 1]
    yc = (core[:, 0] + core[:, 1]) / 2
    cols = np.zeros(n, np.int32)
    span = np.zeros(n, bool)
    seps = None
    if colsep is not None and colsep.any():
        lab, _ = ndi.label(colsep, structure=np.ones((3, 3), bool))
        # A separator's x: its most covered column (the gutter proper; a piece can also reach
        # into the blank end of a short column).
        # Pieces overlapping a taller one in x take its x.
        objs_ = ndi.find_objects(lab)
        seps, taken = [], []
        for k in sorted(range(len(objs_)), key=lambda k: -(objs_[k][0].stop - objs_[k][0].start)):
            o = objs_[k]
            xs0, xs1 = o[1].start, o[1].stop
            xc = next((t[2] for t in taken if t[0] < xs1 and xs0 < t[1]), None)
            if xc is None:
                cov = (lab[o] == k + 1).sum(axis=0)
                best = np.flatnonzero(cov == cov.max())
                xc = xs0 + (best[0] + best[-1] + 1) / 2.0
                taken.append((xs0, xs1, xc))
            seps.append((o[0].start, o[0].stop, xc))
        seps = np.array(seps)
        # Crossing a gutter counts only beside it or a few lines from its ends: a short gutter
        # found in a river of one column's word gaps made every line of that column, from top
        # to bottom, a crossing line read by height, interleaved with the next column's lines.
        near_sep = (seps[None, :, 0] <= yc[:, None] + 4 * s) & (seps[None, :, 1] >= yc[:, None] - 4 * s)
        span = ((x0[:, None] < seps[None, :, 2] - s) & (x1[:, None] > seps[None, :, 2] + s) & near_sep).any(axis=1)
        beside = (seps[None, :, 0] <= yc[:, None] + s) & (seps[None, :, 1] >= yc[:, None] - s)
        # ... unless another gutter beside it bounds it: then it is a line of one column, over the
        # gutter of a table set in that column. Read by height, the lines over a table in the
        # left column were read between the right column's lines, and the right column's lines
        # above them before them (a page read at 26% CER, every line found).
        bound = beside & ((x1[:, None] <= seps[None, :, 2] + 0.5 * s) | (x0[:, None] >= seps[None, :, 2] - 0.5 * s))
        span &= ~bound.any(axis=1)
        # A line on the row of one that crosses a gutter (the page number beside a running head
        # that runs over the gutter) is no column's line either.
        span |= _same_row(span, core, x0, x1)
        left = seps[None, :, 2] < x0[:, None] + 0.5 * s
        for i in range(n):
            xs = np.sort(seps[beside[i] & left[i], 2])
            cols[i] = 0 if span[i] else int(np.count_nonzero(np.r_[True, np.diff(xs) > 2 * s])) if xs.size else 0
    if n <= 1:
        return list(range(n)), cols
    tol = 0.5 * s
    xov = (np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])) > tol
    above = yc[:, None] < yc[None, :]
    before = xov & above
    # "Left of" only across a column gutter: a gutter x between the two lines, beside one of them.
    leftof = np.zeros((n, n), bool)
    if seps is not None:
        head = _head_row(core, x0, x1, xov)
        for sy0, sy1, sx in seps:
            lft, rgt = x1 <= sx + tol, x0 >= sx - tol
            near = (yc >= sy0 - 4 * s) & (yc <= sy1 + 4 * s)
            lft &= ~head
            rgt &= ~head
            leftof[np.ix_(np.flatnonzero(lft & near), np.flatnonzero(rgt))] = True
            leftof[np.ix_(np.flatnonzero(lft), np.flatnonzero(rgt & near))] = True
    if n <= 400:
        # w separates u, v when it overlaps both horizontally and lies between them in height.
        lo = np.minimum(yc[:, None], yc[None, :])
        hi = np.maximum(yc[:, None], yc[None, :])
        between = (yc[None, None, :] > lo[:, :, None]) & (yc[None, None, :] < hi[:, :, None])
        sep = (between & xov[:, None, :] & xov[None, :, :]).any(axis=2)
        before |= leftof & ~sep
    else:
        before |= leftof
    block = None
    if seps is not None and len(seps) > 1:
        block = _blocks(b[:, 1], b[:, 3], seps, s)
        if block.any():  # blocks of columns one under another: read block by block
            other = block[:, None] != block[None, :]
            before = np.where(other, block[:, None] < block[None, :], before)
    sp = span[:, None] | span[None, :]
    if span.any():
        # by height, but on one row from left to right (a running head and its page number)
        every = np.arange(n)
        above = np.where(_row_pairs(core, every, every) & sp, x0[:, None] < x0[None, :], above)
    before = np.where(sp, above, before)
    np.fill_diagonal(before, False)
    order, cycled = _sorted_lines(before, y0, x0, core)
    if cycled and leftof.any():
        # A gutter's rule put a line before one its own column reads after it: a short line
        # under a table set in the left column, left of the table's gutter, came before the
        # table's right-hand cells, which the line under the table follows. The cycle was
        # broken at the top-most line, the right column's first: read in the middle of the
        # left one (a 200-dpi page at 43% CER, every line found). Down the columns comes first.
        down = xov & (yc[:, None] < yc[None, :])  # line over line where they overlap: down each column
        cut = leftof & _reach(down).T & ~sp
        if block is not None:
            cut &= block[:, None] == block[None, :]
        if cut.any():
            order, _ = _sorted_lines(before & ~cut, y0, x0, core)
    return order, cols


def _reach(edges: np.ndarray) -> np.ndarray:
    """Transitive closure of an acyclic relation (``edges[u, v]``: u before v)."""
    r = edges.copy()
    while True:
        f = r.astype(np.float32)
        nxt = r | ((f @ f) > 0)
        if np.array_equal(nxt, r):
            return r
        r = nxt


def _sorted_lines(before: np.ndarray, y0: np.ndarray, x0: np.ndarray, core: np.ndarray) -> tuple[list[int], bool]:
    """Lines in an order that keeps ``before`` (ties to the higher, then the left line; a line
    ready on the same row further left first), and whether a cycle had to be broken (at the
    top-most line left)."""
    n = len(before)
    indeg = before.sum(axis=0)
    heap = [(y0[i], x0[i], i) for i in range(n) if indeg[i] == 0]
    heapq.heapify(heap)
    done = np.zeros(n, bool)
    order: list[int] = []
    by_top = np.lexsort((x0, y0)).tolist()  # for cycles
    top, cycled = 0, False
    while len(order) < n:
        if not heap:  # a cycle: take the top-most remaining line
            cycled = True
            while done[by_top[top]]:
                top += 1
            i = by_top[top]
            heap.append((y0[i], x0[i], i))
        _, _, i = heapq.heappop(heap)
        if done[i]:
            continue
        j = _left_on_row(i, heap, core, x0, done)
        if j is not None:  # a line on the same row further left goes first (a table's cells)
            heapq.heappush(heap, (y0[i], x0[i], i))
            i = j  # its own heap entry is skipped once it is done
        done[i] = True
        order.append(int(i))
        js = np.flatnonzero(before[i] & ~done)
        indeg[js] -= 1
        for j in js[indeg[js] == 0].tolist():
            heapq.heappush(heap, (y0[j], x0[j], j))
    return order, cycled


def _blocks(top: np.ndarray, bottom: np.ndarray, seps: np.ndarray, s: float, min_gap: float = 2.0,
            reach: float = 6.0) -> np.ndarray:
    """Block index of every line (0 from the top) where the page's columns change from one block
    to the next: a blank band across the page at least ``min_gap`` scale units high, no gutter
    running through it, gutters ending just above it (within ``reach`` scales) and others
    starting just below it, none at the x of one above. Two columns over three on a magazine
    page: the upper columns' lines are left of a lower gutter, so by the gutter rules the
    lower-left column came before the upper right one. A column ending early, paragraph gaps,
    headings and footnotes (no gutter on one side) make no block."""
    n = len(top)
    block = np.zeros(n, np.int32)
    order = np.argsort(top, kind="stable")
    reach_bottom = np.maximum.accumulate(bottom[order])
    cuts = []
    for k in range(n - 1):
        ga, gb = reach_bottom[k], top[order[k + 1]]
        if gb - ga < min_gap * s:
            continue
        if np.any((seps[:, 0] < ga) & (seps[:, 1] > gb)):
            continue  # a gutter runs through the band
        above = seps[(seps[:, 1] <= ga + min_gap * s) & (seps[:, 1] >= ga - reach * s), 2]
        below = seps[(seps[:, 0] >= gb - min_gap * s) & (seps[:, 0] <= gb + reach * s), 2]
        if above.size and below.size and np.abs(above[:, None] - below[None, :]).min() > 2 * s:
            cuts.append((ga + gb) / 2.0)
    if cuts:
        block = np.searchsorted(np.asarray(cuts), (top + bottom) / 2.0).astype(np.int32)
    return block


def _row_pairs(core: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Whether lines ``u[i]`` and ``v[j]`` are on one row: their x-height bands overlap by more
    than half the smaller one (the rule of :func:`_left_on_row`)."""
    lo, hi = core[:, 0], core[:, 1]
    ov = np.minimum(hi[u, None], hi[None, v]) - np.maximum(lo[u, None], lo[None, v])
    return ov > 0.5 * np.minimum((hi - lo)[u, None], (hi - lo)[None, v])


def _same_row(lines: np.ndarray, core: np.ndarray, x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    """Lines side by side with one of ``lines`` (a mask) on its row, boxes apart in x."""
    out = np.zeros(len(core), bool)
    u = np.flatnonzero(lines)
    if u.size and len(core) >= 2:
        row = _row_pairs(core, u, np.arange(len(core)))
        row &= (x1[u][:, None] <= x0[None, :]) | (x1[None, :] <= x0[u][:, None])
        out[row.any(axis=0)] = True
    return out


def _head_row(core: np.ndarray, x0: np.ndarray, x1: np.ndarray, xov: np.ndarray, min_ratio: float = 1.3) -> np.ndarray:
    """The page's top row when it holds lines side by side and stands clear of the lines below
    it, by ``min_ratio`` times the usual gap between a line and the next one below: a running
    head (a title over one column, the page number over the other). It is read across, before
    the columns; taken as column text, its page number waited for the whole left column. Only
    the top row: below it, rows with lines on both sides of a gutter are the columns' own (a
    gutter found too short must not interleave them)."""
    none = np.zeros(len(core), bool)
    top = np.argmin(core[:, 0] + core[:, 1])
    row = _same_row(np.arange(len(core)) == top, core, x0, x1)
    if not row.any():
        return none
    row[top] = True
    # gap from a line's x-height band down to the next band below it that it overlaps in x,
    # for the row and (on a page of thousands of fragments, a sample of) the other lines
    others = np.flatnonzero(~row)
    idx = np.r_[np.flatnonzero(row), others[:: max(1, others.size // 400)]]
    gap = core[None, :, 0] - core[idx, None, 1]
    gap = np.where(xov[idx] & (gap > 0), gap, np.inf).min(axis=1)
    k = int(row.sum())
    usual = gap[k:][np.isfinite(gap[k:])]
    below = gap[:k][np.isfinite(gap[:k])]
    if usual.size < 3 or below.size == 0:
        return none
    # clear by a ratio and by half an x-height: the usual gap is a few work pixels, and one or two
    # more (a speck raising a line's band) made the top row of two columns a running head
    med = float(np.median(usual))
    if below.min() < max(min_ratio * med, med + 0.5 * float(np.median(core[:, 1] - core[:, 0]))):
        return none
    return row


def _left_on_row(i: int, heap: list, core: np.ndarray, x0: np.ndarray, done: np.ndarray) -> Optional[int]:
    """Among the lines ready to be read, the leftmost on the same row as line ``i`` and left of
    it, or None. Same row: their x-height bands overlap by more than half the smaller one.

    Ties in reading order go to the higher line, but on one row "higher" is a tall ``$`` or a
    capital, or a cell set a pixel higher: a table row was read in an order set by its glyphs.
    """
    c0, c1 = core[i]
    best = None
    for _, _, j in heap:
        if done[j] or j == i or x0[j] >= x0[i] or (best is not None and x0[j] >= x0[best]):
            continue
        d0, d1 = core[j]
        if min(c1, d1) - max(c0, d0) > 0.5 * min(c1 - c0, d1 - d0):
            best = j
    return best

"""Preprocessing: binarize (modes, inversion, bilevel pass-through, skew), segment (lines, columns,
reading order, boxes in original coordinates), single-line mode and line normalization.

Pages are rendered here with PIL at about 150 dpi so every test stays small and fast.
"""
from __future__ import annotations

import functools
import io
import math

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter, ImageFont
from scipy.ndimage import label as ndi_label

from ocrcore.containers import bbox_iou
from ocrcore.preprocess import (
    BinarizeResult,
    PageTransform,
    binarize,
    normalize_line,
    segment,
    single_line,
)

WORDS = ("lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore "
         "et dolore magna aliqua enim ad minim veniam quis nostrud exercitation ullamco laboris nisi aliquip "
         "ex ea commodo consequat duis aute irure in reprehenderit voluptate velit esse cillum fugiat").split()


def _font(size: int):
    for path in ("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                 "DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(path, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def render_page(width=1000, height=1300, columns=1, size=20, heading=False, seed=0, margin=70, gutter=60,
                leading=1.55, max_lines=None):
    """A white page of random words; returns (image "L", [(box, column)] in reading order)."""
    rng = np.random.default_rng(seed)
    img = Image.new("L", (width, height), 255)
    d = ImageDraw.Draw(img)
    font = _font(size)
    truth = []
    y = margin
    if heading:
        hf = _font(int(size * 1.8))
        text = "A heading across the page"
        d.text((margin, y), text, font=hf, fill=0)
        truth.append((d.textbbox((margin, y), text, font=hf), 0))
        y += int(size * 3.5)
    colw = (width - 2 * margin - (columns - 1) * gutter) // columns
    top = y
    for c in range(columns):
        x, y, n = margin + c * (colw + gutter), top, 0
        while y + 2 * size < height - margin and (max_lines is None or n < max_lines):
            words = []
            while True:
                w = WORDS[rng.integers(len(WORDS))]
                if d.textlength(" ".join(words + [w]), font=font) > colw:
                    break
                words.append(w)
            text = " ".join(words)
            d.text((x, y), text, font=font, fill=0)
            truth.append((d.textbbox((x, y), text, font=font), c))
            y += int(size * leading)
            n += 1
    return img, truth


def rotate_page(img, boxes, angle):
    """Rotate a page counter-clockwise (PIL convention, canvas expanded) and map its boxes."""
    rot = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=255)
    W, H = img.size
    W2, H2 = rot.size
    a = math.radians(angle)
    c, s = math.cos(a), math.sin(a)
    out = []
    for (x0, y0, x1, y1), col in boxes:
        xs = np.array([x0, x1, x0, x1]) - W / 2
        ys = np.array([y0, y0, y1, y1]) - H / 2
        X, Y = c * xs + s * ys + W2 / 2, -s * xs + c * ys + H2 / 2
        out.append(((int(X.min()), int(Y.min()), int(np.ceil(X.max())), int(np.ceil(Y.max()))), col))
    return rot, out


def matched_order(found, truth):
    """Truth index of the best match (IoU >= 0.5) for every found box, or -1."""
    out = []
    for f in found:
        ious = [bbox_iou(f, t) for t in truth]
        j = int(np.argmax(ious))
        out.append(j if ious[j] >= 0.5 else -1)
    return out


@pytest.fixture(scope="module")
def text_line_image():
    img = Image.new("L", (420, 90), 255)
    d = ImageDraw.Draw(img)
    d.text((15, 20), "Sphinx of black quartz", font=_font(34), fill=0)
    return img


@pytest.fixture(scope="module")
def page1():
    return render_page(columns=1)


# --------------------------------------------------------------------------------------------
# binarize


@pytest.mark.parametrize("mode", ["1", "L", "P", "RGB", "RGBA", "LA", "I;16", "I", "F", "CMYK"])
def test_every_pillow_mode_binarizes_to_the_same_ink(mode, text_line_image):
    ref = np.asarray(text_line_image) < 128
    g = np.asarray(text_line_image, dtype=np.float64)
    if mode == "I;16":
        img = Image.fromarray((g * 257).astype(np.uint16))
    elif mode == "I":
        img = Image.fromarray((g * 1000 - 5000).astype(np.int32))
    elif mode == "F":
        img = Image.fromarray((g / 255).astype(np.float32))
    elif mode in ("RGBA", "LA"):
        # Ink opaque black, background transparent *black*: only alpha says it is background.
        a = np.where(ref, 255, 0).astype(np.uint8)
        z = np.zeros_like(a)
        img = Image.fromarray(np.dstack([z, z, z, a] if mode == "RGBA" else [z, a]))
    elif mode == "1":
        img = text_line_image.point(lambda v: 255 if v >= 128 else 0).convert("1")
    else:
        img = text_line_image.convert(mode)
    assert img.mode == mode
    res = binarize(img)
    assert res.binary.shape == ref.shape and res.binary.dtype == np.bool_
    frac = res.binary.mean()
    assert 0.02 < frac < 0.4
    inter = np.logical_and(res.binary, ref).sum()
    assert inter / np.logical_or(res.binary, ref).sum() > 0.75
    assert not res.inverted


def test_array_inputs_and_empty_array():
    a = np.full((40, 60), 255, np.uint8)
    a[15:25, 10:50] = 0
    for arr in (a, a.astype(np.float32) / 255, a.astype(np.float64) * 3 + 7, a > 128):
        res = binarize(arr)
        assert res.binary[20, 30] and not res.binary[5, 5]
    with pytest.raises(ValueError):
        binarize(np.zeros((0, 5), np.uint8))


def test_inverted_page_detected(page1):
    img, _ = page1
    normal = binarize(img)
    inv = binarize(Image.fromarray(255 - np.asarray(img)))
    assert inv.inverted and not normal.inverted
    agree = np.logical_and(inv.binary, normal.binary).sum() / np.logical_or(inv.binary, normal.binary).sum()
    assert agree > 0.9


def test_bilevel_input_passes_through_unchanged(page1):
    img, _ = page1
    bw = img.point(lambda v: 255 if v >= 128 else 0).convert("1")
    res = binarize(bw)
    assert res.was_binary and abs(res.angle) < 0.05 and not res.deskewed
    assert np.array_equal(res.binary, np.asarray(bw) == 0)
    # Skew is still estimated on bilevel input.
    rot = bw.convert("L").rotate(1.2, resample=Image.NEAREST, expand=True, fillcolor=255).convert("1")
    res2 = binarize(rot)
    assert res2.was_binary and abs(res2.angle - 1.2) < 0.1


@pytest.mark.parametrize("angle", [-1.7, 0.6, 2.0, 6.5, -9.0])
def test_skew_estimated_within_a_tenth_of_a_degree(angle, page1):
    """Up to 10 degrees either way by default: a page fed into a scanner 6 degrees askew was
    searched only to 3 and lost whole (a 300-dpi page read at 97% CER; now 0.14%)."""
    img, _ = page1
    rot, _ = rotate_page(img, [], angle)
    res = binarize(rot)
    assert abs(res.angle - angle) < 0.1
    assert res.deskewed and res.transform.size == res.binary.shape[::-1]


def test_noisy_shaded_page_skew_and_ink():
    img, _ = render_page(columns=1, seed=3)
    rot, _ = rotate_page(img, [], -0.8)
    g = np.asarray(rot, dtype=np.float64)
    yy, xx = np.mgrid[0:g.shape[0], 0:g.shape[1]]
    shade = 0.55 + 0.4 * xx / g.shape[1]  # dark left edge, light right edge
    rng = np.random.default_rng(0)
    noisy = np.clip(g * shade + rng.normal(0, 8, g.shape), 0, 255).astype(np.uint8)
    res = binarize(Image.fromarray(noisy))
    assert abs(res.angle + 0.8) < 0.1
    clean = binarize(rot)
    agree = np.logical_and(res.binary, clean.binary).sum() / np.logical_or(res.binary, clean.binary).sum()
    assert agree > 0.7


def test_transform_round_trip_and_pil_convention():
    tr = PageTransform.deskew(300, 200, 2.5)
    xs, ys = np.array([0.0, 150.0, 299.0]), np.array([0.0, 100.0, 10.0])
    bx, by = tr.to_original(*tr.to_deskewed(xs, ys))
    assert np.allclose(bx, xs) and np.allclose(by, ys)
    # A dot rotated by PIL lands where to_original sends the upright point.
    up = Image.new("L", (300, 200), 255)
    ImageDraw.Draw(up).rectangle((238, 48, 241, 51), fill=0)
    rot = up.rotate(2.5, resample=Image.BILINEAR, expand=True, fillcolor=255)
    ys_, xs_ = np.nonzero(np.asarray(rot) < 128)
    tr2 = PageTransform.deskew(*up.size, 2.5)  # deskewed frame of `rot`...
    # ...but here `rot` is the original and `up` the upright content: map upright -> rotated.
    ox, oy = PageTransform(2.5, rot.size, up.size).to_original(240.0, 50.0)
    assert abs(ox - (xs_.mean() + 0.5)) < 1.0 and abs(oy - (ys_.mean() + 0.5)) < 1.0
    assert tr2.size[0] > 300 and tr2.to_original_bbox((0, 0, *tr2.size)) == (0, 0, 300, 200)
    boxes = [(0, 0, *tr2.size), (10, 20, 30, 45), (-5, 3, 400, 7), (100, 100, 101, 101)]
    for clip in (True, False):
        assert tr2.to_original_bboxes(boxes, clip=clip) == [tr2.to_original_bbox(b, clip=clip) for b in boxes]


# --------------------------------------------------------------------------------------------
# segment


def _check_lines(lines, truth, min_iou=0.5):
    boxes = [b for b, _ in truth]
    idx = matched_order([ln.bbox for ln in lines], boxes)
    assert len(lines) == len(truth), (len(lines), len(truth))
    assert idx == list(range(len(truth))), idx
    assert all(bbox_iou(ln.bbox, boxes[i]) >= min_iou for ln, i in zip(lines, idx))
    assert [ln.order for ln in lines] == list(range(len(lines)))
    assert [ln.column for ln in lines] == [c for _, c in truth]


def test_segment_one_column(page1):
    img, truth = page1
    _check_lines(segment(binarize(img)), truth)


def test_segment_two_columns_with_heading_in_reading_order():
    img, truth = render_page(columns=2, heading=True, seed=1)
    _check_lines(segment(binarize(img)), truth)


def test_segment_skewed_two_column_page_boxes_in_original_coordinates():
    img, truth = render_page(columns=2, seed=2)
    rot, truth_rot = rotate_page(img, truth, -1.4)
    res = binarize(rot)
    lines = segment(res)
    _check_lines(lines, truth_rot)
    W, H = rot.size
    for ln in lines:
        x0, y0, x1, y1 = ln.bbox
        assert 0 <= x0 < x1 <= W and 0 <= y0 < y1 <= H


def test_blank_noise_and_tiny_pages_give_no_lines():
    assert segment(binarize(Image.new("L", (600, 800), 255))) == []
    rng = np.random.default_rng(0)
    noise = np.clip(235 + rng.normal(0, 6, (500, 400)), 0, 255).astype(np.uint8)
    assert segment(binarize(Image.fromarray(noise))) == []
    assert segment(binarize(Image.new("L", (5, 5), 0))) == []
    assert segment(binarize(Image.new("RGB", (1, 1)))) == []
    res = binarize(Image.new("L", (5, 5), 255))
    assert res.binary.shape == (5, 5) and not res.binary.any()


def test_crops_from_result_and_from_original_agree_and_map_back():
    img, truth = render_page(columns=1, seed=4, max_lines=6)
    rot, truth_rot = rotate_page(img, truth, 1.1)
    res = binarize(rot)
    lines = segment(res)
    assert len(lines) == 6
    ln = lines[2]
    a = ln.crop(res)
    b = ln.crop(rot)
    assert a.image.dtype == np.float32 and a.image.shape == b.image.shape
    assert a.image.min() < 0.2 and a.image.max() == 1.0
    assert np.mean(np.abs(a.image - b.image)) < 0.08
    # The crop's content box maps back onto the line's original box.
    h = a.image.shape[0]
    back = a.to_original_bbox((a.content[0], ln.pad, a.content[1], h - ln.pad))
    assert bbox_iou(back, ln.bbox) > 0.9
    some = [(0, 0, 5, 5), (a.content[0], ln.pad, a.content[1], h - ln.pad)]
    assert a.to_original_bboxes(some) == [a.to_original_bbox(b) for b in some]
    # Levels sampled coarsely and interpolated agree with per-pixel sampling, on the page and beyond.
    assert res._gray is None  # the on-demand path, not the cached page
    for box in (ln.padded_box(), (-30, -20, 90, 40), (rot.width - 50, 10, rot.width + 25, 37)):
        x0, y0, x1, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + np.float32(0.5)
        xo, yo = res.transform.to_original(xx, yy)
        exact = res.normalized_at(xo, yo).reshape(yy.shape)
        fast = res.gray_region(box)
        assert fast.shape == exact.shape and np.max(np.abs(fast - exact)) < 0.02



def test_crops_of_an_unturned_page_are_its_pixels():
    """A page left unturned (a PDF's render, a straight scan) is cut by slicing, not resampled:
    the grey equals per-pixel sampling, and off the page it is paper."""
    from PIL import Image

    img, _ = render_page(columns=1, seed=4, max_lines=6)
    res = binarize(img)
    assert res.transform.is_identity
    ln = segment(res)[2]
    for box in (ln.padded_box(), (-30, -20, 90, 40), (img.width - 50, 10, img.width + 25, 37)):
        x0, y0, x1, y1 = box
        yy, xx = np.mgrid[y0:y1, x0:x1].astype(np.float32) + np.float32(0.5)
        exact = res.normalized_at(xx, yy).reshape(yy.shape)
        fast = res.gray_region(box)
        assert fast.shape == exact.shape and np.max(np.abs(fast - exact)) < 0.02
        pil = np.asarray(Image.fromarray(res.src).transform((x1 - x0, y1 - y0), Image.AFFINE, (1, 0, x0, 0, 1, y0),
                                                             Image.BILINEAR, fillcolor=255))
        assert np.array_equal(res._source_box(box), pil)  # what the resampling gave, pixel for pixel

def test_single_line_whole_image_and_trimmed(text_line_image):
    whole = single_line(text_line_image)
    assert whole.bbox == (0, 0, 420, 90) and whole.order == 0
    crop = whole.crop(text_line_image)
    assert crop.image.shape == (90, 420)
    trimmed = single_line(text_line_image, trim=True, pad=3)
    x0, y0, x1, y1 = trimmed.bbox
    assert 5 <= x0 <= 20 and 15 <= y0 <= 35 and x1 < 420 and y1 < 90
    res = binarize(text_line_image)
    assert isinstance(res, BinarizeResult) and single_line(res).bbox == (0, 0, 420, 90)


# --------------------------------------------------------------------------------------------
# normalize


@pytest.mark.parametrize("mode", ["scale", "center"])
def test_normalize_line_height_polarity_and_mapping(mode):
    img, truth = render_page(columns=1, seed=5, max_lines=3)
    rot, truth_rot = rotate_page(img, truth, 0.9)
    res = binarize(rot)
    ln = segment(res)[1]
    crop = ln.crop(res)
    nl = normalize_line(crop, 48, mode=mode, width_multiple=8)
    assert nl.image.shape[0] == 48 and nl.image.shape[1] % 8 == 0 and nl.image.dtype == np.float32
    assert nl.image[0].min() == 1.0 and nl.image.min() < 0.3  # white padding, dark ink
    # Normalized x -> crop x is the exact inverse of the forward scaling.
    cx = np.array([crop.content[0] + 1.0, 100.0, crop.content[1] - 1.0])
    fx = nl.x_offset + (cx - crop.content[0]) * nl.scale
    assert np.allclose(nl.x_to_crop(fx), cx)
    # The line's full normalized extent lands on its original box.
    ox = nl.x_to_original([nl.x_offset, nl.x_offset + nl.width])
    assert abs(ox[0] - ln.bbox[0]) < 3 and abs(ox[1] - ln.bbox[2]) < 3
    back = nl.to_original_bbox((nl.x_offset, 2, nl.x_offset + nl.width, 46))
    assert bbox_iou(back, ln.bbox) > 0.6


def test_normalize_bare_arrays_and_max_width():
    a = np.ones((30, 200), np.float32)
    a[10:20, 20:180] = 0
    nl = normalize_line(a, 32, vpad=0, hpad=0)
    assert nl.image.shape == (32, round(200 * 32 / 30))
    assert np.allclose(nl.x_to_original([0, nl.image.shape[1]]), [0, 200])
    nl2 = normalize_line((a * 255).astype(np.uint8), 32, max_width=100)
    assert nl2.image.shape == (32, 100)
    assert np.allclose(nl2.x_to_original([nl2.x_offset, nl2.x_offset + nl2.width]), [0, 200], atol=1)


def test_regions_pickle_and_masks_blank_neighbouring_lines():
    import pickle

    img, truth = render_page(columns=1, seed=6, leading=1.2, max_lines=5)
    res = binarize(img)
    lines = segment(res)
    assert len(lines) == 5
    again = pickle.loads(pickle.dumps(lines))
    assert [ln.bbox for ln in again] == [ln.bbox for ln in lines]
    mid = lines[2]
    big_pad = 12  # reaches into the lines above and below
    masked = mid.crop(res, pad=big_pad).image
    plain = mid.crop(res, pad=big_pad, masked=False).image
    assert (plain < 0.5).sum() > (masked < 0.5).sum()
    assert masked[:3].min() > 0.5 and masked[-3:].min() > 0.5  # neighbours' ink painted white


def test_palette_with_transparency_and_inverted_bilevel():
    base = Image.new("L", (200, 60), 255)
    ImageDraw.Draw(base).text((10, 10), "Ink 42", font=_font(30), fill=0)
    p = base.convert("P")
    p.info["transparency"] = p.getpixel((0, 0))  # background index transparent
    res = binarize(p)
    assert 0.01 < res.binary.mean() < 0.4 and not res.inverted
    inv = Image.fromarray(np.asarray(base) < 128).convert("1")  # white text on black
    res2 = binarize(inv)
    assert res2.inverted and res2.was_binary
    assert np.array_equal(res2.binary, np.asarray(base) < 128)


def test_line_mask_resampling_matches_nearest_lookup():
    """_mask_for (block repetition) equals a per-pixel nearest lookup, for boxes inside, across
    and beside the mask, at several cell sizes."""
    from ocrcore.preprocess.geometry import PageTransform
    from ocrcore.preprocess.segment import LineRegion

    rng = np.random.default_rng(5)
    for scale in (1, 2, 3, 4):
        mask = rng.random((7, 11)) > 0.5
        region = LineRegion((0, 0, 1, 1), 0, 0, (0, 0, 1, 1), PageTransform.identity(200, 200),
                            mask=mask, mask_box=(13, 9, 13 + 11 * scale, 9 + 7 * scale), mask_scale=scale)
        for _ in range(30):
            x0, y0 = (int(v) for v in rng.integers(-5, 60, 2))
            box = (x0, y0, x0 + int(rng.integers(1, 50)), y0 + int(rng.integers(1, 40)))
            ys = np.arange(box[1], box[3]) - 9
            xs = np.arange(box[0], box[2]) - 13
            want = np.ones((len(ys), len(xs)), bool)
            for i, y in enumerate(ys):
                for j, x in enumerate(xs):
                    if 0 <= y < 7 * scale and 0 <= x < 11 * scale:
                        want[i, j] = mask[y // scale, x // scale]
            assert np.array_equal(region._mask_for(box), want), (scale, box)


@pytest.mark.parametrize("index", [22, 172, 224, 247])
def test_two_column_pages_once_read_out_of_order(index):
    """Synthetic 300-dpi pages whose columns were once interleaved or cut: a blank band between a
    rule and the columns taken into the gutter cut the first lines into words (22), a paragraph
    break beside the end of the other column (172), a river of word gaps next to the margin in
    justified monospace text (224), a long ragged-right line narrowing the gutter (247). Every
    true line is found, in reading order, and only lines that truly span both columns (a title)
    are found spanning them."""
    from ocrcore.pagescore import truth_page
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", 77, index, {"dpi": 300})
    truth = [ln.bbox for ln in truth_page(sample_to_row(sample, "pages")).lines]
    lines = segment(binarize(sample.image))
    idx = [i for i in matched_order([ln.bbox for ln in lines], truth) if i >= 0]
    assert idx == sorted(idx), idx
    assert set(idx) == set(range(len(truth)))
    gutter = sample.image.width / 2

    def spans(b):
        return b[0] < gutter - 50 and b[2] > gutter + 50

    wide = [t for t in truth if spans(t)]
    assert all(any(bbox_iou(ln.bbox, t) >= 0.5 for t in wide) for ln in lines if spans(ln.bbox))


def test_overlapping_pairs_match_the_pairwise_definition():
    """The sweep that replaced n x n matrices in merging line pieces finds exactly the pairs of
    intervals that overlap, in row-major order (empty intervals, equal starts and ends included)."""
    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")
    rng = np.random.default_rng(3)
    for n in (0, 1, 2, 7, 60, 300):
        a0 = rng.integers(0, 40, n)
        a1 = a0 + rng.integers(0, 8, n)
        i, j = seg._overlapping_pairs(a0, a1)
        ov = (np.minimum(a1[:, None], a1[None, :]) - np.maximum(a0[:, None], a0[None, :])) > 0
        want_i, want_j = np.nonzero(np.triu(ov, 1))
        assert i.tolist() == want_i.tolist() and j.tolist() == want_j.tolist()


@pytest.mark.parametrize("index", [1, 3])
def test_dark_scanner_borders_are_ignored(index):
    """Dark bands along the page's edges (lid open, photocopied book edge) must not hide the text.

    Without clearing them, on these two synthetic pages at 100 dpi the bands' straight edges
    pulled the skew estimate to 0 (true -1.8 and -0.9 degrees), and page 3 gave 8 lines instead
    of 81 (at 300 dpi page 6 gave none). A bilevel scan of the same page takes the same path."""
    from ocrcore.synth import generate

    def with_bands(im):
        im = im.copy()
        d = ImageDraw.Draw(im)
        W, H = im.size
        d.rectangle((0, 0, 23, H), fill=15)  # left band, at the very edge
        d.rectangle((0, H - 17, W, H - 2), fill=25)  # bottom band, a pixel or two in from the edge
        return im

    grey = generate("pages", 77, index, {"dpi": 100}).image.convert("L")
    bilevel = Image.fromarray(~binarize(grey, max_skew=0).binary).convert("L")  # black ink on white
    for clean, mode in ((grey, "L"), (bilevel, "1")):
        want, got = binarize(clean.convert(mode)), binarize(with_bands(clean).convert(mode))
        assert abs(got.angle - want.angle) < 0.05, (mode, got.angle, want.angle)
        a, b = segment(want), segment(got)
        assert len(a) > 40 and len(a) <= len(b) <= len(a) + 3  # the turn differs a little: a speck or two
        assert all(max(bbox_iou(x.bbox, y.bbox) for y in b) > 0.75 for x in a)


def test_text_touching_the_page_edge_is_not_border():
    tight, truth = render_page(columns=1, seed=4, margin=0, max_lines=6)
    lines = segment(binarize(tight))
    assert len(lines) == len(truth) and min(ln.bbox[0] for ln in lines) <= 1
    assert all(bbox_iou(ln.bbox, box) > 0.9 for ln, (box, _) in zip(lines, truth))


def test_punch_holes_are_not_text():
    """Filled discs in the margin (punch holes) once joined the lines beside them into one box
    over two lines, or became a line of their own read as a letter."""
    from ocrcore.synth import generate

    clean = generate("pages", 77, 0, {"dpi": 100}).image.convert("L")
    holed = clean.copy()
    d = ImageDraw.Draw(holed)
    H = holed.height
    for y in (0.25, 0.5, 0.75):
        d.ellipse((13, H * y - 13, 39, H * y + 13), fill=10)
    a, b = segment(binarize(clean)), segment(binarize(holed))
    assert len(a) > 40 and len(b) == len(a)
    assert all(bbox_iou(x.bbox, y.bbox) > 0.9 for x, y in zip(a, b))


def test_fan_fold_paper_is_not_text():
    """Printouts on fan-fold paper. Sprocket holes down both tractor strips (5/32 inch, about 2
    scales beside such print, too small or too ragged at the rim for the punch-hole rule) were
    read as lines "0" (here the one cut by the page's edge: 58 lines for 57; 35 of them on a
    24-pin page drawn while the generator was written). Pale bars every other half inch (23 grey
    levels), in the margins where no text sets the ink level, became black blocks that
    swallowed the lines: 29 lines for 72. Each true line is found now, and nothing else."""
    from ocrcore.synth import generate

    for index, form in ((1, "holes"), (5, "bars")):
        s = generate("pages", 77, index, {"dpi": 300, "dotmatrix": 1.0})
        assert s.meta["dotmatrix"]["form"][form]
        lines = segment(binarize(s.image.convert("L")))
        truth = [ln.bbox for ln in s.page.lines]
        assert len(lines) == len(truth)
        assert all(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth)


def test_a_broken_print_pins_row_does_not_cut_lines_in_two():
    """A dot-matrix printer with a broken pin leaves the same row of dots out of every letter:
    the tops of capitals and ascenders above it, cut from their line, became 44 "lines" of
    their own on this page (read as junk). They are folded into the line they belong to."""
    from ocrcore.synth import generate

    s = generate("pages", 77, 2, {"dpi": 300, "dotmatrix": 1.0})
    assert s.meta["dotmatrix"]["dead_pin_row"] is not None
    lines = segment(binarize(s.image.convert("L")))
    truth = [ln.bbox for ln in s.page.lines]
    assert all(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth)
    false = [ln for ln in lines if max(bbox_iou(t, ln.bbox) for t in truth) < 0.5]
    assert len(false) <= 6


def test_dot_matrix_drafts_lines_are_not_cut_by_their_dots_scale():
    """At 200 dpi a 9-pin draft's letters binarize to separate dots and small clusters of them,
    and the text scale taken from those components (5 px against a 17-px line pitch at the work
    resolution) cut lines into pieces: 65 lines for 59 on this page. A page whose ink is mostly
    round dots evenly spaced takes its scale from the line pitch."""
    from ocrcore.synth import generate

    s = generate("pages", 77, 2, {"dpi": 200, "dotmatrix": 1.0})
    assert s.meta["dotmatrix"]["pins"] == 9
    lines = segment(binarize(s.image.convert("L")))
    truth = [ln.bbox for ln in s.page.lines]
    assert len(lines) == len(truth)
    assert all(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth)


def test_pieces_of_lines_stacked_one_above_the_other_are_not_merged():
    """Two long pieces of neighbouring lines whose cores touch, and a small bit between them
    that overlaps both cores: merging pieces pair by pair chained the two lines into one. Pieces
    overlapping across more than 2 scales with cores a line pitch apart are never merged; pieces
    side by side on one line still are."""
    from ocrcore.preprocess.segment import _merge_pieces

    def piece(box, core, c):
        return {"box": box, "core": core, "ccs": np.array([c]), "pix": []}

    s, pitch = 6.0, 19.0
    upper = piece((0, 100, 600, 121), (102, 121), 1)
    lower = piece((0, 118, 600, 139), (119, 139), 2)
    bit = piece((300, 117, 304, 122), (117, 121), 3)
    upper_right = piece((610, 101, 900, 121), (103, 121), 4)  # the same line, beyond a word gap
    out = _merge_pieces([upper, lower, bit, upper_right], None, s, (300, 1000), pitch)
    assert len(out) == 2
    top, bottom = sorted(out, key=lambda ln: ln["box"][1])
    assert {1, 4} <= set(top["ccs"].tolist()) and 2 not in top["ccs"].tolist()  # the bit goes with one
    assert 2 in bottom["ccs"].tolist() and not {1, 4} & set(bottom["ccs"].tolist())
    assert top["box"][3] <= 122 and bottom["box"][1] >= 117


def test_dot_matrix_at_8_lines_an_inch_keeps_its_lines_apart():
    """A 9-pin printer at 8 lines an inch fills the whole line pitch with its 9 rows of dots, so
    one line's descenders touch the next line's capitals and every line's core reaches its
    neighbours'. Its pieces were merged across lines: 68 lines for 78 on this page, 10 boxes
    holding two lines or more."""
    from ocrcore.synth import generate

    def covers(box, t):  # most of a true line's height, and half its width, inside the box
        return (min(box[3], t[3]) - max(box[1], t[1]) >= 0.8 * (t[3] - t[1])
                and min(box[2], t[2]) - max(box[0], t[0]) >= 0.5 * (t[2] - t[0]))

    s = generate("pages", 77, 10, {"dpi": 300, "dotmatrix": 1.0})
    assert s.meta["dotmatrix"]["lines_per_inch"] == 8.0
    lines = segment(binarize(s.image.convert("L")))
    truth = [ln.bbox for ln in s.page.lines]
    assert len(truth) - 3 <= len(lines) <= len(truth) + 2
    assert sum(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth) >= len(truth) - 3
    assert sum(sum(covers(ln.bbox, t) for t in truth) >= 2 for ln in lines) <= 4


def test_no_lines_are_found_in_pictures():
    """Photographs and halftones on a page hold no text. Binarized they turn into dense blobs and
    fields of dots that once gave 37 false lines on these 4 pages (read as garbage downstream);
    picture regions now keep their pieces out of the lines, and every true line is still found."""
    from ocrcore.synth import generate

    inside = 0
    for i in range(4):
        s = generate("pages", 31, i, {"dpi": 200, "figures": 1.0})
        figs = [f["bbox"] for f in s.meta["figures"]]
        assert figs
        lines = segment(binarize(s.image.convert("L")))
        truth = [ln.bbox for ln in s.page.lines]
        for ln in lines:
            cx, cy = (ln.bbox[0] + ln.bbox[2]) / 2, (ln.bbox[1] + ln.bbox[3]) / 2
            inside += any(f[0] < cx < f[2] and f[1] < cy < f[3] for f in figs)
        assert all(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth)
    assert inside <= 6


def test_large_type_keeps_its_line_pitch():
    """Large type (7-39 pt at 150 dpi, two columns): the row profile's autocorrelation has a
    ripple at the distance from the x-height's top to the baseline, 10 px, taken for the line
    pitch (93 px); at the scale it implied, the glyphs passed for pictures and 4 lines of 32 were
    found (page CER 97%). The pitch's peak must now rise from a deep valley."""
    from ocrcore.synth import generate

    s = generate("pages", 2997, 1, {"dpi": 150, "min_pt": 7.3, "max_pt": 39.5, "columns": 2, "max_skew": 8.3,
                                    "degrade": 0.18, "underlines": 0.24, "symbols": 0.39, "typographic": 0.91})
    lines = segment(binarize(s.image.convert("L")))
    truth = [ln.bbox for ln in s.page.lines]
    assert len(truth) == 32
    found = sum(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth)
    assert found >= 30 and len(lines) <= 34, (found, len(lines))


def test_touching_lines_of_heavy_typed_text_are_two_lines(monkeypatch):
    """A typed page set single-spaced (lines 1/6 inch apart, the type's own size) by a machine
    whose ink spread 2.3 px round the strokes: two lines' letters touch in places, so their
    seeds joined through a few cells into one, and the two lines were found and read as one
    (53 lines of 54). The narrow bridge is now cut; a tall seed without a waist stays whole."""
    import importlib

    from ocrcore.synth import generate

    S = importlib.import_module("ocrcore.preprocess.segment")  # the package re-exports segment()
    s = generate("pages", 77, 8, {"dpi": 300, "typewriter": 1.0})
    assert s.meta["leading_px"] == 50.0 and s.meta["typewriter"]["spread_px"] > 2
    truth = [ln.bbox for ln in s.page.lines]
    b = binarize(s.image.convert("L"))
    lines = segment(b)
    assert len(truth) == 54 and len(lines) == 54
    assert sum(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth) == 54
    with monkeypatch.context() as m:
        m.setattr(S, "_cut_bridges", lambda lab, k: (lab, k))
        assert len(segment(b)) == 53
    # the rule alone: two bands joined by a 2-cell bridge are cut; a tall band is not
    seeds = np.zeros((120, 40), bool)
    for y in (5, 20, 35):  # three lines' seeds, 8 rows each
        seeds[y:y + 8, 2:38] = True
    seeds[50:58, 2:38] = seeds[65:73, 2:38] = True
    seeds[58:65, 10:12] = True  # two more, joined by a bridge two cells wide
    seeds[85:105, 5:30] = True  # a tall seed of large type, no waist
    lab, k = ndi_label(seeds)
    cut, n = S._cut_bridges(lab, k)
    assert k == 5 and n == 6
    assert (cut[85:105, 5:30] == cut[85, 5]).all() and cut[54, 5] != cut[69, 5]


def test_pictures_not_found_again_at_the_text_scale_are_no_pictures():
    """Large underlined type at 100 dpi: at the first text scale its glyphs passed for pictures;
    measured again outside them, the scale is the type's, and there no picture is found. The
    first pictures were kept all the same, and 3 of the 15 lines were lost in them."""
    from ocrcore.synth import generate

    s = generate("pages", 6839, 1, {"dpi": 100, "min_pt": 14.6, "max_pt": 45.7, "columns": 1, "max_skew": 5.8,
                                    "degrade": 0.065, "figures": 0.21, "underlines": 0.98, "tables": 0.37,
                                    "furniture": 0.64, "curl": 0.0068, "show_through": 0.22, "ligatures": 0.28})
    assert not s.meta["figures"]
    lines = segment(binarize(s.image.convert("L")))
    truth = [ln.bbox for ln in s.page.lines]
    assert len(truth) == 15
    assert all(any(bbox_iou(t, ln.bbox) >= 0.5 for ln in lines) for t in truth)


def test_a_photograph_alone_on_a_page_is_no_error():
    """A plate: a photograph alone on a white page. Its large blobs set a text scale of hundreds
    of pixels, and the underline finder then failed the page (a ValueError from slicing, so the
    page became an error row): a stroke that long cannot fit the page. These plates now give
    at most a line each."""
    from ocrcore.synth import generate

    for seed, k in ((34, 2), (34, 1), (35, 1)):
        s = generate("pages", seed, k, {"dpi": 200, "figures": 1.0})
        x0, y0, x1, y1 = s.meta["figures"][0]["bbox"]
        page = Image.new("L", (1700, 2200), 250)
        page.paste(s.image.convert("L").crop((x0, y0, x1, y1)), (100, 400))
        assert len(segment(binarize(page))) <= 1


def test_a_heading_above_a_halftone_is_not_taken_for_part_of_a_picture():
    """A halftone's dots make the first text scale tiny; at that scale the bold glyphs of the
    heading and of a table's header row were dense enough to pass for pictures, and were lost
    (seed 161 page 5: 12.5% page CER). The text scale is measured again outside the pictures, and
    the pictures are now found again at that scale: the heading and the header row are lines."""
    from ocrcore.synth import generate

    s = generate("pages", 161, 5, {"dpi": 300, "furniture": 1.0, "tables": 0.5, "figures": 0.5})
    assert s.meta["figures"]
    lines = segment(binarize(s.image.convert("L")))
    heading = next(ln for ln in s.page.lines if ln.text.startswith("Ballad"))
    assert any(bbox_iou(heading.bbox, ln.bbox) >= 0.8 for ln in lines)
    header = [ln for ln in s.page.lines if ln.text in ("By system", "Expect")]
    assert len(header) == 2
    for t in header:
        assert any(ln.bbox[1] <= t.bbox[1] and ln.bbox[3] >= t.bbox[3] and ln.bbox[0] <= t.bbox[0] + 5
                   and ln.bbox[2] >= t.bbox[2] - 5 for ln in lines), t


def test_pages_without_pictures_have_no_picture_regions():
    """The picture test must not fire on text: i-dots, commas and scan specks stay too sparse,
    on clean and on heavily degraded pages, in one and two columns."""
    import sys

    from ocrcore.synth import generate

    seg = sys.modules["ocrcore.preprocess.segment"]
    found = []
    real = seg._picture_mask
    try:
        seg._picture_mask = lambda *a, **k: found.append(real(*a, **k)) or found[-1]
        for i, params in enumerate([{"dpi": 150}, {"dpi": 200, "degrade": 1.0}, {"dpi": 300, "columns": 2},
                                    {"dpi": 150, "degrade": 1.0, "min_pt": 7.0, "max_pt": 8.0}]):
            segment(binarize(generate("pages", 40 + i, 0, params).image.convert("L")))
    finally:
        seg._picture_mask = real
    assert len(found) == 4 and all(m is None for m in found)


def _longest_dark_run(img: np.ndarray) -> int:
    """Longest horizontal run of dark pixels in any row."""
    dark = np.pad(img < 0.5, ((0, 0), (1, 1)))
    edges = np.diff(dark.astype(np.int8), axis=1)
    starts, ends = np.nonzero(edges == 1), np.nonzero(edges == -1)
    return int((ends[1] - starts[1]).max()) if starts[1].size else 0


def test_underlines_are_taken_out_of_lines():
    """Underlined phrases: the stroke touches descenders and once joined a phrase's glyphs into one
    component; what was found kept the stroke, read as ``_``. Every true line is still found as on
    the plain page, and far fewer line crops hold a dark run longer than twice their height (an
    underline under one short word, or one with letters sitting on it, may stay)."""
    import importlib

    from ocrcore.synth import generate

    seg = importlib.import_module("ocrcore.preprocess.segment")
    long_runs = {True: 0, False: 0}
    for i in range(2):
        plain = generate("pages", 77, i, {"dpi": 300})
        under = generate("pages", 77, i, {"dpi": 300, "underlines": 0.3})
        assert under.meta["underlined_words"] > 50
        a = segment(binarize(plain.image.convert("L")))
        res = binarize(under.image.convert("L"))
        for removal in (True, False):
            found = seg._underlines
            if not removal:
                seg._underlines = lambda *a, **k: None
            try:
                b = segment(res)
            finally:
                seg._underlines = found
            if removal:
                assert len(b) == len(a) and abs(len(a) - len(plain.page.lines)) <= 1
                assert all(bbox_iou(x.bbox, y.bbox) > 0.8 for x, y in zip(a, b))
            for ln in b:
                crop = ln.crop(res).image
                long_runs[removal] += _longest_dark_run(crop) > 2 * crop.shape[0]
    assert long_runs[False] >= 40 and long_runs[True] <= 0.3 * long_runs[False], long_runs


def test_a_speck_under_a_rule_leaves_it_a_rule():
    """A run with a word's body under it (the joined tops of bled letters) is no underline; a
    speck of dirt under a table's bottom rule once counted as that body, and the whole rule
    stayed in the page, read as a line (``er``). A rule with a speck below it is still found;
    a run over a row of stems is still left alone."""
    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")
    b = np.zeros((200, 600), bool)
    b[100:102, 50:550] = True
    b[106:108, 300:302] = True  # the speck
    under = seg._underlines(b, 10.0)
    assert under is not None and under[100:102, 52:548].all() and not under[106:108].any()
    tops = np.zeros_like(b)
    tops[100:102, 50:550] = True
    for x in range(50, 550, 6):  # letters' stems under their joined tops, a row apart
        tops[103:112, x:x + 2] = True
    under = seg._underlines(tops, 10.0)
    assert under is None or not under[100:102].any()


def test_a_broken_rule_takes_a_crossings_arms_and_leaves_its_stroke():
    """Where a stroke crosses a rule broken into dashes (a table's vertical, or a letter's
    descender through a broken underline) the two are one piece. Taking the whole piece with
    the rule took the letter with it (a page of underlined words at 300 dpi read 8.48% so,
    3.46% now); its arms along the rule's rows go, and the stroke through them stays."""
    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")
    b = np.zeros((40, 60), bool)
    b[5:35, 28:31] = True  # a stroke, top to bottom
    b[19:21, 10:50] = True  # the rule's arms through it
    labels, n = ndi_label(b, structure=np.ones((3, 3), bool))
    out = np.zeros_like(b)
    seg._cross_arms(out, labels, 0, (5, 35, 10, 50), 19, 21)
    assert out[19:21, 10:28].all() and out[19:21, 31:50].all()  # the arms
    assert not out[:, 28:31].any() and not out[:19].any() and not out[21:].any()  # not the stroke
    tee = np.zeros_like(b)
    tee[19:21, 10:50] = True
    tee[21:35, 28:31] = True  # a stroke down from the rule only: a frame's top corner, a T
    labels, n = ndi_label(tee, structure=np.ones((3, 3), bool))
    out[:] = False
    seg._cross_arms(out, labels, 0, (19, 35, 10, 50), 19, 21)
    assert out[19:21, 10:50].all() and not out[21:].any()


def _table_page(size=24, para_lines=3, para_top=40, table_top=190):
    """A paragraph and a 4-row table whose right-hand cells start higher (``$``) or with a
    minus sign, as tables print figures. Returns the page and each cell's (text, x0, y0)."""
    f = _font(size)
    img = Image.new("L", (1100, 700), 255)
    d = ImageDraw.Draw(img)
    para = ("quietly paying yearly dues, the group kept up its ledger", "in good order and by the end of",
            "the year had the following figures to report to everyone:")
    for k, text in enumerate(para[:para_lines]):
        d.text((60, para_top + 36 * k), text, font=f, fill=0)
    rows = [("Region", "$48,160", "-18.7"), ("Total", "$39,480", "+1.1%"), ("Quay", "$92,400", "-6.8"),
            ("West", "$41,800", "-0.3%")]
    cells = []
    for r, row in enumerate(rows):
        y = table_top + r * 60
        for c, (text, x) in enumerate(zip(row, (60, 480, 860))):
            if text.startswith("-"):  # a minus set apart from its figure, as tables align them
                d.text((x, y), "-", font=f, fill=0)
                d.text((x + int(0.7 * size), y), text[1:], font=f, fill=0)
            else:
                d.text((x, y - 5 * (c == 1)), text, font=f, fill=0)  # the middle cells set higher
            cells.append((text, x, y))
    return img, cells


@pytest.mark.parametrize("para_lines, para_top, table_top", [(3, 40, 190), (1, 60, 160)])
def test_table_cells_read_row_by_row_with_their_signs_and_full_height_crops(para_lines, para_top, table_top):
    """Cells of a table row are read left to right even when a cell to the right starts higher
    (its ``$``); a leading minus sign, a small mark a little before the figure, stays with it;
    and a cell without descenders is cropped with room for them, so every crop of one type size
    has about the height of a line with descenders (the recognizer read "Revenue" as "Revemue"
    and "-1.1%" as "-1.10%" from crops cut tight to capitals). With one line of text above the
    table, the line pitch came out as the gap between it and the table, and the text scale,
    taken from it, was three times too large: cells ran together."""
    img, cells = _table_page(para_lines=para_lines, para_top=para_top, table_top=table_top)
    res = binarize(img)
    lines = segment(res)
    assert len(lines) == para_lines + len(cells)
    table = lines[para_lines:]
    for ln, (text, x, y) in zip(table, cells):
        assert abs(ln.bbox[0] - x) <= 6 and abs(ln.bbox[1] - y) <= 14, (text, ln.bbox)
    heights = [ln.crop(res).image.shape[0] for ln in lines]
    assert max(heights) <= 1.12 * min(heights), heights
    assert lines[0].room_below == 0 and table[0].room_below == 0  # with descenders: no room added
    assert table[3].room_below > 0 and table[5].room_below > 0  # "Total", "+1.1%": none


def test_double_spaced_text_keeps_its_scale_and_crops():
    """Double-spaced text (a typescript, a thesis draft) has a line pitch twice its type size.
    The scale once followed the pitch there (as it must for broken type), which padded every crop
    to over twice its height; dots of dirt in the wide gaps joined lines and stretched them too.
    Crops of the same type size now have the same height single- or double-spaced."""
    heights = {}
    for leading, dirt in ((1.55, False), (2.6, False), (2.6, True)):
        img, truth = render_page(leading=leading, size=20)
        d = ImageDraw.Draw(img)
        for k, ((x0, y0, x1, y1), _) in enumerate(truth[:-1] if dirt else []):
            gx = x0 + 40 + 97 * k % max(1, x1 - x0 - 80)
            gy = y1 + 4  # a dot of dirt in the gap below the line, half a text scale from it
            d.ellipse((gx, gy, gx + 2, gy + 2), fill=0)
        res = binarize(img)
        lines = segment(res)
        assert matched_order([ln.bbox for ln in lines], [b for b, _ in truth]) == list(range(len(truth)))
        heights[leading, dirt] = max(ln.crop(res).image.shape[0] for ln in lines)
    assert heights[2.6, False] <= 1.1 * heights[1.55, False], heights
    assert heights[2.6, True] <= 1.1 * heights[1.55, False], heights


def _dashed_rect(d, x0, y0, x1, y1, dash, gap):
    """A rule from (x0, y0) to (x1, y1) drawn as dashes ``dash`` long with ``gap`` between them,
    along its longer side: what binarizing a thin rule on a skewed, eroded scan leaves."""
    along = 0 if x1 - x0 >= y1 - y0 else 1
    a, end = (x0, x1) if along == 0 else (y0, y1)
    while a < end:
        b = min(end, a + dash)
        d.rectangle((a, y0, b, y1) if along == 0 else (x0, a, x1, b), fill=0)
        a = b + gap


@pytest.mark.parametrize("drawn", ["whole", "dashed", "askew"])
def test_grid_tables_are_cut_at_their_rules_and_read_row_by_row(drawn):
    """A table ruled as a grid is one large component, once taken for a picture: its vertical
    rules did not separate the cells of a row, which ran together into one line with the rules
    in it (read as ``|`` or ``[``). Now its strokes are rules (painted white in every crop),
    its verticals cut lines without making page columns, so the cells are read row by row.

    ``dashed``: a thin grid on a skewed page that ink erosion broke where its rules step from
    one pixel row to the next, each dash short enough to pass for a glyph: its rules were read
    as lines of ``-``, and its verticals joined the cells of a row. Its dashes are rules too.
    ``askew``: the page scanned 1.6 degrees askew, a little blurred, saved as JPEG; deskewed,
    its rules step a pixel every 36 and too little of the grid lay in straight runs for a grid
    (9 lines found for 17)."""
    f = _font(24)
    img = Image.new("L", (1100, 800), 255)
    d = ImageDraw.Draw(img)
    for k, text in enumerate(("the year had the following figures to report to everyone,",
                              "collected from the offices and checked against the ledger:")):
        d.text((60, 40 + 36 * k), text, font=f, fill=0)
    rows = [("Region", "Units", "Change"), ("North", "1,204", "+4.2%"), ("South", "987", "-1.1%"),
            ("East", "2,310", "+12.5%"), ("West", "1,045", "+0.3%")]
    xs, top, rh = [60, 250, 400, 560], 150, 44
    cells = []
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            d.text((xs[c] + 10, top + r * rh + 8), text, font=f, fill=0)
            cells.append((xs[c] + 10, top + r * rh + 8))
    rule = functools.partial(_dashed_rect, d, dash=28, gap=14) if drawn == "dashed" else (
        lambda *box: d.rectangle(box, fill=0))
    for k in range(len(rows) + 1):
        rule(xs[0], top + k * rh, xs[-1], top + k * rh + 1)
    for x in xs:
        rule(x, top, x + 1, top + len(rows) * rh + 1)
    if drawn == "askew":
        angle = 1.6
        img = img.rotate(angle, resample=Image.BICUBIC, fillcolor=255).filter(ImageFilter.GaussianBlur(0.6))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=80)
        img = Image.open(buf).convert("L")
        c, sn, cx, cy = math.cos(math.radians(angle)), math.sin(math.radians(angle)), 550, 400
        cells = [(cx + (x - cx) * c + (y - cy) * sn, cy - (x - cx) * sn + (y - cy) * c) for x, y in cells]
    res = binarize(img)
    lines = segment(res)
    assert len(lines) == 2 + len(cells), [ln.bbox for ln in lines]
    for ln, (x, y) in zip(lines[2:], cells):
        assert abs(ln.bbox[0] - x) <= 8 and abs(ln.bbox[1] - y) <= 12, (ln.bbox, x, y)
        crop = ln.crop(res).image
        assert crop[:, :2].min() > 0.5 and crop[:, -2:].min() > 0.5  # no rule at the crop's edges
        assert crop[:2].min() > 0.5 and crop[-2:].min() > 0.5


def test_line_pitch_is_not_the_x_height_of_thin_type():
    """In thin or eroded type the x-height's top and the baseline are the densest rows of a line,
    so the row profile also correlates at the x-height. Taken for the line pitch (8 pixels
    against 33 on an eroded 150-dpi monospace page of the acceptance archive), it cut that page
    into 488 "lines" for 85. The pitch must repeat at twice its lag; the x-height does not."""
    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")
    rng = np.random.default_rng(0)
    b = np.zeros((1200, 800), bool)
    y = 40
    while y < 1150:  # lines 32-34 px apart: two dense rows 8 px apart joined by sparse stems
        b[y, 50:750] = rng.random(700) < 0.6
        b[y + 8, 50:750] = rng.random(700) < 0.6
        b[y + 1:y + 8, 50:750:7] = True
        y += 33 + int(rng.integers(-1, 2))
    assert seg._line_pitch(b) == pytest.approx(33, abs=1.5)

    from ocrcore.synth import generate

    sample = generate("pages", 5150, 23, {"dpi": 150})  # the page that was cut to pieces
    assert sample.meta["degradations"][0]["name"] == "ink_erode"
    res = binarize(sample.image)
    assert seg._line_pitch(res.binary) == pytest.approx(sample.meta["leading_px"], rel=0.08)
    assert len(segment(res)) < 2.5 * len(sample.page.lines)  # 488 for 85 before


@pytest.mark.parametrize("index, dpi", [(1, 300), (5, 300), (8, 300), (43, 300), (27, 150)])
def test_running_heads_page_numbers_and_footnotes_read_in_place(index, dpi):
    """Book furniture (synthetic pages with ``furniture``), each page a fault found on them: a
    running head's page number over the right column was read after the whole left column (1:
    a title over the left column; 43: a title running over the gutter); the dashes around a
    page number ("- 101 -", monospace, a cell each) were dropped (5); a page number centred
    under the gutter, with a heading centred above it, was taken to close the gutter as the
    lines of a column close a river of word gaps, so both columns ran together (8); a page
    number of two digits run together at 150 dpi ("- 96 -") filled its box like a speck of
    dirt and was dropped (27)."""
    from ocrcore.synth import generate

    sample = generate("pages", 77, index, {"dpi": dpi, "furniture": 1.0})
    truth = [ln.bbox for ln in sample.page.lines]
    found = [ln.bbox for ln in segment(binarize(sample.image))]
    order = [j for j in matched_order(found, truth) if j >= 0]
    assert order == list(range(len(truth))), order


def test_a_closing_quote_at_a_column_edge_stays_with_its_line():
    """A closing quote just past a column's last glyph, kept from its line's other pieces by the
    gutter, was found as a line of its own (page 1 of seed 77: 105 lines for 104). Fragments
    within half a scale of a line's end, measured from their edge, join it."""
    from ocrcore.synth import generate

    sample = generate("pages", 77, 1, {"dpi": 300})
    truth = [ln.bbox for ln in sample.page.lines]
    found = [ln.bbox for ln in segment(binarize(sample.image))]
    assert len(found) == len(truth)
    assert matched_order(found, truth) == list(range(len(truth)))


def test_dithered_bilevel_page_is_read_as_the_grey_it_stands_for():
    """A scanner's "halftone" mode (error diffusion) renders text and paper as dots. Taken as ink,
    the dots of this 300-dpi page gave 356 "lines" for 104 and the crops read as noise (90%
    CER); it is now recognised as dithered, smoothed back to grey and segmented as the grey
    page is. A thresholded bilevel scan of the same page is not taken for dithered."""
    import importlib

    from ocrcore.synth import generate

    B = importlib.import_module("ocrcore.preprocess.binarize")
    grey = generate("pages", 77, 1, {"dpi": 300}).image.convert("L")
    dithered = grey.convert("1")  # Floyd-Steinberg
    want = segment(binarize(grey))
    thresholded = Image.fromarray(~binarize(grey, max_skew=0).binary).convert("1")
    assert B.looks_dithered(B.to_gray_u8(dithered))
    assert not B.looks_dithered(B.to_gray_u8(thresholded))
    got = binarize(dithered)
    assert not got.was_binary  # read through the grey path, crops included
    lines = segment(got)
    assert len(want) > 80 and abs(len(lines) - len(want)) <= 2
    assert all(max(bbox_iou(x.bbox, y.bbox) for y in lines) > 0.75 for x in want)
    raw = segment(binarize(dithered, descreen=False, despeckle=False))  # dots as ink: not the page's lines
    assert sum(any(bbox_iou(x.bbox, y.bbox) > 0.75 for y in raw) for x in want) < len(want) / 4


def test_faint_dithered_type_is_found(monkeypatch):
    """Light, eroded, blurred type dithered (seed 77, page 20 at 300 dpi): its strokes were as
    faint as the paper's dots, under the least contrast that keeps the dots out, and 2 of its 95
    lines were found. A descreened page with almost no ink is thresholded again on a copy
    blurred more, where lone dots fade far more than strokes."""
    import importlib

    from ocrcore.synth import generate

    B = importlib.import_module("ocrcore.preprocess.binarize")
    s = generate("pages", 77, 20, {"dpi": 300})
    dithered = s.image.convert("L").convert("1")
    lines = segment(binarize(dithered))
    assert abs(len(lines) - len(s.page.lines)) <= 3, len(lines)
    assert sum(any(bbox_iou(x.bbox, y.bbox) > 0.5 for y in lines) for x in s.page.lines) >= 0.9 * len(s.page.lines)
    monkeypatch.setattr(B, "FAINT_INK", 0.0)  # never thresholded again
    assert len(segment(binarize(dithered))) < 20  # 11: the heading and fragments


def test_specks_do_not_make_the_whole_page_a_border():
    """Border clearing works on a reduced image. When any ink made a reduced cell dark, specks
    (2% salt and pepper on a 300-dpi page put one in half the cells) chained into one region
    along all four edges and the whole page, text included, was cleared: no line found. Cells
    now need to be mostly ink; a real border band is still cleared."""
    import importlib

    B = importlib.import_module("ocrcore.preprocess.binarize")
    rng = np.random.default_rng(5)
    ink = rng.random((3300, 2400)) < 0.02  # specks everywhere
    ink[:, :30] = True  # a dark band along the left edge
    text = np.zeros_like(ink)
    for y in range(400, 3000, 60):  # blocks of "text" in the middle
        text[y: y + 25, 300:2100] = rng.random((25, 1800)) < 0.5
    cleared = B._clear_borders(ink | text)
    assert not cleared[:, :25].any()  # the band is gone
    assert cleared[text].all()  # the text is kept
    assert cleared[:, 200:].sum() >= 0.95 * (ink | text)[:, 200:].sum()  # and the specks away from the band


def test_a_page_of_dots_segments_in_bounded_memory():
    """Marks were attached to lines through (marks x lines) matrices: on this dithered 150-dpi
    page taken as ink (10^5 dots, 447 line fragments) segmentation peaked at 1.4 GB of arrays,
    and 9 GB with the page turned sideways (as the orientation check turns it), enough to kill a
    worker. They are now taken a block of marks at a time against the lines near them."""
    import tracemalloc

    from ocrcore.synth import generate

    res = binarize(generate("pages", 77, 1, {"dpi": 150}).image.convert("1"), descreen=False, despeckle=False)
    tracemalloc.start()
    try:
        lines = segment(res)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(lines) > 200 and peak < 400e6, (len(lines), peak / 1e6)


def test_attaching_marks_block_by_block_matches_all_pairs_at_once():
    """The blocked attachment of small marks gives what the dense (marks x lines) rule gives, in
    its passes (period-sized marks and dashes further past the lines' ends on a quiet page; then,
    for the marks left, the boxes widened by the dashes, and on a quiet page the points, the
    first attached)."""
    import importlib

    seg = importlib.import_module("ocrcore.preprocess.segment")
    rng = np.random.default_rng(11)
    s, n_lines, n_marks = 20.0, 40, 3000
    y0 = rng.uniform(0, 2000, n_lines).round()
    x0 = rng.uniform(0, 1500, n_lines).round()
    boxes = np.stack([x0, y0, x0 + rng.uniform(50, 600, n_lines).round(), y0 + rng.uniform(15, 40, n_lines).round()], 1)
    kind = np.zeros(n_marks + 5, np.int64)
    kind[:5] = 1  # a few components that are not marks
    my, mx = rng.uniform(0, 2050, n_marks + 5), rng.uniform(0, 2100, n_marks + 5)
    mh, mw = rng.uniform(1, 8, n_marks + 5), rng.uniform(1, 16, n_marks + 5)
    bb = np.stack([my, my + mh, mx, mx + mw], 1).round().astype(np.int64)  # rows y0, y1, x0, x1
    # and a period 0.75 scales past each line's end, level with its middle
    cy = ((boxes[:, 1] + boxes[:, 3]) / 2).round()
    periods = np.stack([cy - 3, cy + 3, boxes[:, 2] + 15, boxes[:, 2] + 21], 1).astype(np.int64)
    bb = np.concatenate([bb, periods])
    kind = np.concatenate([kind, np.zeros(n_lines, np.int64)])

    def fresh():
        return [{"box": tuple(int(v) for v in b), "core": (int(b[1]) + 4, int(b[3]) - 4),
                 "ccs": np.array([k + 1], np.int64)} for k, b in enumerate(boxes)]

    def dense(lines, small, trail, dash_trail=0.0, reach=1.5, gap=0.4):  # the rule as one set of matrices
        b = bb[small].astype(np.float64)
        yc = (b[:, 0] + b[:, 1]) / 2
        lb = np.array([ln["box"] for ln in lines], np.float64)
        lc = np.array([ln["core"] for ln in lines], np.float64)
        dash = ((b[:, 3] - b[:, 2]) >= 1.5 * (b[:, 1] - b[:, 0])) & ((b[:, 3] - b[:, 2]) >= 0.4 * s)
        point = seg._point_like(b, s) & ~dash
        dx = np.maximum(lb[None, :, 0] - b[:, 3:4], 0) + np.maximum(b[:, 2:3] - lb[None, :, 2], 0)
        mid = (yc[:, None] > lc[None, :, 0]) & (yc[:, None] < lc[None, :, 1])
        past = b[:, 2:3] >= lb[None, :, 2]
        after = mid & point[:, None] & past & (dx <= trail * s) | mid & dash[:, None] & past & (dx <= dash_trail * s)
        dy = np.maximum(lb[None, :, 1] - yc[:, None], 0) + np.maximum(yc[:, None] - lb[None, :, 3], 0)
        dy = np.where((dx <= 0.5 * s) | (mid & dash[:, None] & (dx <= reach * s)) | after, dy + 1e-3 * dx, np.inf)
        best = np.argmin(dy, axis=1)
        ok = dy[np.arange(len(small)), best] <= gap * s
        return {int(c) + 1: int(li) for c, li in zip(small[ok], best[ok])}

    def expected(quiet):
        lines = fresh()
        marks = np.flatnonzero(kind == 0)
        want = dense(lines, marks, 0.0)
        if quiet:  # period-sized marks past the lines' ends, for the marks left
            want.update(dense(lines, np.array([c for c in marks if c + 1 not in want], np.int64), seg.TRAIL_REACH,
                              seg.DASH_TRAIL))
        for c, li in want.items():  # the dashes (and on a quiet page the points) widen the boxes
            h, w = bb[c - 1, 1] - bb[c - 1, 0], bb[c - 1, 3] - bb[c - 1, 2]
            point = seg._point_like(bb[c - 1: c].astype(np.float64), s)[0]
            if not (w >= 1.5 * h and w >= 0.4 * s) and not (quiet and point):
                continue
            x0, y0, x1, y1 = lines[li]["box"]
            lines[li]["box"] = (min(x0, int(bb[c - 1, 2])), y0, max(x1, int(bb[c - 1, 3])), y1)
        second = dense(lines, np.array([c for c in marks if c + 1 not in want], np.int64),
                       seg.TRAIL_REACH if quiet else 0.0, seg.DASH_TRAIL if quiet else 0.0)
        assert len(want) > 100 and len(second) > 0
        want.update(second)
        return want

    budget, stray = seg._PAIR_BUDGET, seg.STRAY_POINTS
    results = {}
    try:
        seg._PAIR_BUDGET = 1000  # blocks of 256 marks: many blocks
        for quiet, limit in ((False, 0.0), (True, 1e9)):  # a page strewn with points, and a quiet one
            seg.STRAY_POINTS = limit
            lines = fresh()
            seg._attach_small(lines, kind, bb, s)
            got = {int(c): k for k, ln in enumerate(lines) for c in ln["ccs"][1:]}
            assert got == expected(quiet), quiet
            results[quiet] = got
    finally:
        seg._PAIR_BUDGET, seg.STRAY_POINTS = budget, stray
    assert len(results[True]) > len(results[False])


def test_lone_specks_on_a_bilevel_scan_are_taken_out():
    """Dust and toner specks on a black-and-white scan are single dots. On this 300-dpi page with
    0.5% of its pixels turned to dots they were kept as ink and read in the crops (4 pages: CER
    6.9% against 1.5% clean); now the binarized page is within 0.1% of the clean one's pixels
    (0.48% before), and a clean scan is left as it is."""
    import importlib

    from ocrcore.synth import generate

    B = importlib.import_module("ocrcore.preprocess.binarize")
    ink = binarize(generate("pages", 77, 2, {"dpi": 300}).image.convert("L"), max_skew=0).binary
    rng = np.random.default_rng(0)
    clean = Image.fromarray(~ink).convert("1")
    dotted = Image.fromarray(~ink & (rng.random(ink.shape) >= 0.005)).convert("1")
    want, got = binarize(clean), binarize(dotted)
    assert got.was_binary and not B.looks_dithered(B.to_gray_u8(dotted))
    assert (want.binary != got.binary).mean() < 0.001
    assert np.array_equal(binarize(clean).src, B.to_gray_u8(clean))  # nothing taken from a clean scan


def test_specks_around_a_line_do_not_make_its_crop_taller():
    """A speckled bilevel scan (seed 77 page 4 at 200 dpi, degraded: bled ink, noise, 1.3% specks
    up to 3 px, then thresholded): specks just above and below each line joined it as small
    marks and stretched its box to 1.29-1.55 times the line's true height, shrinking its narrow
    type below what the recognizer tells apart. A mark now widens a line's box but never makes
    it taller: every box within 1.2 times the true line's height, as on clean pages."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", 77, 4, {"dpi": 200, "degrade": 1.0})
    assert any(d["name"] == "speckle" for d in sample.meta["degradations"])
    truth = truth_page(sample_to_row(sample, "pages"))
    lines = analyse_scan(sample.image).lines
    assert len(lines) == len(truth.lines) == 12
    for pl in lines:
        t = max(truth.lines, key=lambda tl: bbox_iou(pl.bbox, tl.bbox)).bbox
        assert bbox_iou(pl.bbox, t) > 0.6
        assert (pl.bbox[3] - pl.bbox[1]) <= 1.2 * (t[3] - t[1])


def test_a_single_line_keeps_its_dots():
    """A bilevel captcha's noise dots are what its model learned to read through: in single-line
    mode the image is not descreened or despeckled, so the crop is the image as given."""
    from ocrcore.preprocess.pages import analyse_page, crop_u8

    img = Image.new("L", (200, 50), 255)
    ImageDraw.Draw(img).text((20, 12), "x7bn4", fill=0, font=_font(26))
    a = np.asarray(img) < 128
    a |= np.random.default_rng(2).random(a.shape) < 0.05  # noise dots, most of them alone
    dotted = Image.fromarray(~a).convert("1")
    layout = analyse_page(dotted, single=True)
    assert layout.binarized.was_binary
    assert np.array_equal(np.asarray(crop_u8(layout.lines[0], layout.binarized)) < 128, a)
    assert not np.array_equal(binarize(dotted).binary, a)  # a page would lose them


def _bend_of(image):
    """The warp :func:`estimate_warp` finds on an image, from the page analysis's measures."""
    from ocrcore.preprocess.dewarp import estimate_warp
    from ocrcore.preprocess.pages import analyse_page

    layout = analyse_page(image, measure=True)
    m = layout.measures
    return estimate_warp(m["text"], m["scale"], m["factor"], layout.binarized.transform.size, columns=m["columns"])


def test_straight_pages_are_not_flattened():
    """On 44 synthetic pages of every layout, no two bent grid cells touched; one of them, two
    columns whose lines stand at other heights, read bent until strokes stopped at the gutter."""
    from ocrcore.synth import generate

    for params, seed, i in (({"dpi": 200, "columns": 2}, 5, 0), ({"dpi": 150, "tables": 1.0}, 9, 1),
                            ({"dpi": 150, "degrade": 1.0}, 5, 3), ({"dpi": 200, "figures": 1.0}, 31, 1),
                            ({"dpi": 100}, 3, 1)):
        assert _bend_of(generate("pages", seed, i, params).image) is None, (params, i)


def test_flattening_reads_each_column_as_map_coordinates_does():
    """The flat page is made band by band, each pixel read from two rows of its own column (whole-
    page coordinate arrays took 6 s and 1.1 GB at 600 dpi); it must be the page that scipy's
    ``map_coordinates`` (linear, constant mode) makes of the same displacement, bands and page
    edges included."""
    from scipy import ndimage as ndi

    from ocrcore.preprocess.dewarp import VerticalWarp

    rng = np.random.default_rng(3)
    h, w = 613, 421
    warp = VerticalWarp(rng.normal(0.0, 15.0, (9, 13)), (w / 12.5, h / 8.5), (w, h))
    page = rng.uniform(0, 255, (h, w)).astype(np.float32)
    full = np.asarray(Image.fromarray(warp.grid.astype(np.float32), mode="F").resize(
        (w, h), Image.BILINEAR, box=warp._resize_box()), dtype=np.float32)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    want = ndi.map_coordinates(page, [yy + full, xx], order=1, mode="constant", cval=255.0, prefilter=False)
    got = warp.flatten(page, 255.0, band=64)
    assert got.shape == want.shape and np.abs(got - want).max() < 0.05
    whole = warp.flatten(np.round(page).astype(np.uint8), 255)  # a page's grey: rounded, in its type
    assert whole.dtype == np.uint8
    assert np.abs(whole.astype(np.float32) - ndi.map_coordinates(
        np.round(page), [yy + full, xx], order=1, mode="constant", cval=255.0, prefilter=False)).max() <= 0.51
    assert (np.abs(full) > 20).any()  # the warp moves rows by more than a band's edge effects


def test_a_curled_page_is_found_bent():
    """A book's page curling into its spine (the generator's ``curl``) is found bent, the same
    page flat is not, and the bend is about what was drawn."""
    from ocrcore.synth import generate

    flat = generate("pages", 77, 0, {"dpi": 150})
    curled = generate("pages", 77, 0, {"dpi": 150, "curl": 0.03})
    assert _bend_of(flat.image) is None
    warp = _bend_of(curled.image)
    assert warp is not None
    # lines at the spine's ends bend by up to 3% of the height, half of it either way of the middle
    assert 0.3 * 0.03 * curled.image.height <= warp.bend <= 2.5 * 0.03 * curled.image.height
    # large type set close: reduced down as well as across, its lines merged into strokes two
    # lines thick and the bend went unmeasured
    assert _bend_of(generate("pages", 77, 20, {"dpi": 200, "curl": 0.03, "columns": 1}).image) is not None


def _left_bent(warp, flat, pmap, line_height):
    """For each true line of a page drawn ``flat``: how far its middle, drawn curled (``pmap``
    from flat to curled) and flattened again by ``warp`` (None: not flattened), still rises and
    falls along the line, in line heights."""
    out = []
    for line in flat.page.lines:
        x0, y0, x1, y1 = line.bbox
        on_page = pmap(np.stack([np.linspace(x0, x1, 40), np.full(40, (y0 + y1) / 2.0)], axis=1))
        y = on_page[:, 1].copy()
        for _ in range(10 if warp is not None else 0):  # flat y + d(x, flat y) = the page's y
            y = on_page[:, 1] - warp.d(on_page[:, 0], y)
        out.append((y.max() - y.min()) / line_height)
    return np.array(out)


def test_a_page_curled_hard_is_flattened_by_its_lines_slopes(monkeypatch):
    """Curled by 10% of its height (as far as the generator goes), a page's lines near the spine
    rise 3-4 line heights over a few words, at up to 45 degrees: followed line by line, their
    strokes ran into the next line's and went unmeasured, and the bend held from where it was
    measured left them bent by 2-3 line heights after every pass. Flattened first by the bend
    the lines' slopes model, then followed, they are left bent by half a line height at most."""
    from ocrcore.preprocess import scan
    from ocrcore.synth import generate
    from ocrcore.synth.degrade import curl

    def left_bent(curled, flat, pmap):
        part = scan.analyse_scan(curled.image).parts[0]
        assert not part.layout.binarized.deskewed and not part.flattened.first.deskewed  # one frame
        return _left_bent(part.flattened.warp, flat, pmap, flat.meta["size_px"])

    for seed, index in ((85, 1), (86, 3)):
        curled = generate("pages", seed, index, {"dpi": 200, "max_skew": 0.0, "curl": 0.1})
        flat = generate("pages", seed, index, {"dpi": 200, "max_skew": 0.0})
        _, pmap = curl(flat.image, 0.1, spine=curled.meta["curl"]["spine"])
        raw = _left_bent(None, flat, pmap, flat.meta["size_px"])
        got = left_bent(curled, flat, pmap)
        with monkeypatch.context() as m:
            m.setattr(scan, "estimate_curl", lambda *a, **k: None)
            followed = left_bent(curled, flat, pmap)
        # 85/1: drawn bent by up to 3.16 line heights, 3.03 left followed, 0.30 now; 86/3: 2.63, 2.00, 0.46
        assert raw.max() >= 2.5 and followed.max() >= 1.9, (seed, raw.max(), followed.max())
        assert got.max() <= 0.75 and got.mean() <= 0.5 * followed.mean(), (seed, got, followed)


def test_flat_page_boxes_map_back_onto_the_page():
    """Boxes found on the flattened page land where their ink is on the page: dark squares on
    a page bent by a known displacement, found again on the flat page and mapped back."""
    from scipy import ndimage as ndi

    from ocrcore.preprocess.dewarp import VerticalWarp

    h, w = 400, 600
    gy, gx = np.mgrid[0:8, 0:12].astype(np.float64)
    grid = 25.0 * np.sin(gx / 4.0) * (gy - 3.5) / 3.5  # up on top, down below, changing across
    warp = VerticalWarp(grid=grid, cell=(w / 12, h / 8), size=(w, h))
    flat = np.ones((h, w), np.float32)
    want = [(60 + 90 * j, 40 + 110 * i, 60 + 90 * j + 24, 40 + 110 * i + 24) for i in range(3) for j in range(6)]
    for x0, y0, x1, y1 in want:
        flat[y0:y1, x0:x1] = 0.0
    # the page: each flat point (x, y) drawn at (x, y + d(x, y)), sampled back by the warp's map
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    page = np.ones((h, w), np.float32)
    py = np.round(yy + warp.d(xx, yy)).astype(int)
    ok = (py >= 0) & (py < h)
    page[py[ok], xx[ok].astype(int)] = np.minimum(page[py[ok], xx[ok].astype(int)], flat[ok])
    page = ndi.grey_erosion(page, size=(3, 1))  # fill rows the rounding skipped
    again = warp.flatten(page, 1.0)
    lab, n = ndi.label(again < 0.5)
    found = sorted(((s[1].start, s[0].start, s[1].stop, s[0].stop) for s in ndi.find_objects(lab)),
                   key=lambda b: (round(b[1] / 110), b[0]))
    assert n == len(want)
    ink = ndi.find_objects(ndi.label(page < 0.5)[0])
    on_page = sorted(((s[1].start, s[0].start, s[1].stop, s[0].stop) for s in ink), key=lambda b: (round(b[1] / 110), b[0]))
    for got, true in zip(warp.to_page_boxes(found), on_page):
        assert np.abs(np.asarray(got) - np.asarray(true)).max() <= 3, (got, true)


def test_a_page_flattened_by_mistake_keeps_its_lines(monkeypatch):
    """The back page showing through (45%, blurred) reads bent. Flattening the first analysis's
    normalized grey then kept 5 of the page's lines (47 unflattened): its levels, fitted to the
    bent page, did not fit the flat one. The flat page is now made from the page as given."""
    from PIL import ImageFilter, ImageOps

    from ocrcore.preprocess import scan
    from ocrcore.synth import generate

    front = np.asarray(generate("pages", 77, 1, {"dpi": 300}).image.convert("L"), np.float32)
    back = generate("pages", 78, 1, {"dpi": 300}).image.convert("L")
    back = np.asarray(ImageOps.mirror(back).filter(ImageFilter.GaussianBlur(2.0)), np.float32)
    page = Image.fromarray(np.clip(front * (1 - 0.45 * (255 - back) / 255), 0, 255).astype(np.uint8))
    got = scan.analyse_scan(page)
    monkeypatch.setattr(scan, "estimate_warp", lambda *a, **k: None)
    unflattened = scan.analyse_scan(page)
    assert len(got.lines) >= 0.85 * len(unflattened.lines), (len(got.lines), len(unflattened.lines))


def test_a_page_whose_back_shows_through_is_read_without_it():
    """The back of the sheet showing through (the generator's ``show_through``): where the front
    has no text, the binarization's local ink level was the back page's, and its mirrored lines
    were found as text (56 lines for 12). The crops show it, the page is binarized again
    without it, its crops have it turned to paper, and the page's parts say so."""
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.preprocess.showthrough import SHADED_SHARE
    from ocrcore.synth import generate

    s = generate("pages", 77, 4, {"dpi": 150, "show_through": 0.4})
    truth = len(s.page.lines)
    told_not = analyse_scan(s.image, binarize_params={"show_through": False})
    assert len(told_not.lines) >= 3 * truth  # the back page's lines, read as text
    scan = analyse_scan(s.image)
    part = scan.parts[0]
    assert part.shows_through and part.layout.binarized.show_through
    assert len(scan.lines) == truth
    crops = scan.crops()
    assert part.shaded > SHADED_SHARE  # measured on the crops before they were cleaned
    # every line found is a line of the front page, and its crop has paper around its strokes
    for pl in scan.lines:
        assert max(bbox_iou(pl.bbox, ln.bbox) for ln in s.page.lines) > 0.5, pl.bbox
    def grey(cs):  # share of the crops' pixels neither ink nor paper
        return float(np.mean([np.mean((c.image > 0.15) & (c.image < 0.85)) for c in cs]))

    clean = grey(analyse_scan(generate("pages", 77, 4, {"dpi": 150}).image).crops())  # the same page, no back
    raw = grey(pl.region.crop(part.layout.binarized) for pl in scan.lines)
    assert grey(crops) < 1.1 * clean and raw > 1.4 * clean, (grey(crops), raw, clean)


def test_grey_body_text_under_a_black_heading_is_not_taken_for_the_back_page(monkeypatch):
    """Taking the back page out keeps ink near the page's darkest ink; under a black heading,
    grey body text was no nearer to it than the back page and went (a 200-dpi page read at
    68.6% CER). Its strokes are sharp and the back page's are blurred by the paper: sharp
    components stay whatever their level, and the back page still goes."""
    import importlib

    from ocrcore.synth.degrade import show_through

    binarize_mod = importlib.import_module("ocrcore.preprocess.binarize")  # the module, not the function

    rng = np.random.default_rng(3)

    def sheet(heading_level, body_level):
        im = Image.new("L", (1100, 900), 240)
        d = ImageDraw.Draw(im)
        d.text((60, 40), "A HEADING IN BLACK", font=_font(64), fill=heading_level)
        for k in range(12):
            d.text((60, 150 + 58 * k), " ".join(rng.choice(WORDS, 7)), font=_font(30), fill=body_level)
        return im

    front = sheet(0, 150)
    page = show_through(front, sheet(0, 0), 0.35, paper=240, blur=2.0)
    own = binarize(front, max_skew=0).binary  # the front's ink, no back page
    near = own.copy()
    for _ in range(3):
        near = binarize_mod.dilate3x3(near)
    body = own.copy()
    body[:140] = False

    def kept(result):
        assert result.show_through
        return (float((result.binary & body).sum() / body.sum()),  # the grey body's ink kept
                int((result.binary & ~near).sum()))  # ink away from the front's: the back page

    as_is = binarize(page, max_skew=0)
    assert (as_is.binary & ~near).sum() > 20000  # the back page binarized as ink
    body_kept, back = kept(binarize(page, max_skew=0, show_through=True))
    assert body_kept > 0.9 and back < 0.02 * (as_is.binary & ~near).sum(), (body_kept, back)
    monkeypatch.setattr(binarize_mod, "SHOW_THROUGH_SHARP", 99.0)  # by level alone
    body_kept, _ = kept(binarize(page, max_skew=0, show_through=True))
    assert body_kept < 0.7, body_kept


def test_a_back_page_that_joined_the_lines_is_found_by_its_soft_strokes():
    """With the back page at half the front's darkness (300 dpi, seed 5002 page 2) its strokes
    joined the front's lines, so the paper away from the lines stayed clean (1.1% shaded, under
    the bar) and the page was read at 61% CER, 73 lines for 94. The lines' ink is blurred
    where it is the back page's: that share finds it, and the page is read without it."""
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.preprocess.showthrough import SHADED_SHARE, SOFT_SHARE
    from ocrcore.synth import generate

    s = generate("pages", 5002, 2, {"dpi": 300, "show_through": 0.5})
    told_not = analyse_scan(s.image, binarize_params={"show_through": False})
    first = told_not.parts[0]
    first.crops()
    assert first.shaded < SHADED_SHARE  # the paper test misses it
    assert first.soft > SOFT_SHARE and first.shows_through, (first.shaded, first.soft)
    scan = analyse_scan(s.image)
    assert scan.parts[0].layout.binarized.show_through
    truth = [ln.bbox for ln in s.page.lines]
    found = sum(max(bbox_iou(pl.bbox, t) for t in truth) > 0.5 for pl in scan.lines)
    before = sum(max(bbox_iou(pl.bbox, t) for t in truth) > 0.5 for pl in told_not.lines)
    assert found >= 0.9 * len(truth) > before, (found, before, len(truth))


def test_a_light_back_page_has_the_crops_cleaned_without_binarizing_again(monkeypatch):
    """A back page at 20% (300 dpi, seed 333 page 10, monospace type) shades the paper less than
    the bar (0.8% of it) and never joins the lines, yet its letters sit in the word gaps of the
    crops, grey, and were read as letters (2.5% CER, a quarter of the words wrong). Patches of
    faint shade the size of a letter's part find it: the crops are cleaned, and the page is not
    binarized again for it."""
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.preprocess.showthrough import FAINT_SHARE, SHADED_SHARE, SOFT_SHARE
    from ocrcore.synth import generate

    scan = analyse_scan(generate("pages", 333, 10, {"dpi": 300, "show_through": 0.2}).image)
    crops = scan.crops()
    part = scan.parts[0]
    assert part.shaded < SHADED_SHARE and part.soft < SOFT_SHARE, (part.shaded, part.soft)
    assert part.faint > 1.5 * FAINT_SHARE and part.shows_through, part.faint
    assert not part.layout.binarized.show_through

    def grey(cs):  # share of the crops' pixels neither ink nor paper
        return float(np.mean([np.mean((c.image > 0.15) & (c.image < 0.85)) for c in cs]))

    no_back = grey(analyse_scan(generate("pages", 333, 10, {"dpi": 300}).image).crops())
    raw = grey(pl.region.crop(part.layout.binarized) for pl in scan.lines)
    assert grey(crops) < 1.02 * no_back and raw > 1.15 * no_back, (grey(crops), raw, no_back)

    # a picture's grey that segmentation took for lines (seed 151 page 8) is darker than a back page
    from ocrcore.preprocess import showthrough

    def faint():
        pic = analyse_scan(generate("pages", 151, 8, {"dpi": 300, "figures": 1.0}).image)
        pic.crops()
        return pic.parts[0].faint

    assert faint() < 0.1 * FAINT_SHARE
    monkeypatch.setattr(showthrough, "FAINT_DARK", 1.0)
    assert faint() > FAINT_SHARE


def test_clean_pages_do_not_show_through_and_keep_their_crops():
    """Pages with no back showing, of the kinds that look most like it (pictures, heavy
    degradation, 100 dpi, a bilevel scan), are not taken for it: their shaded and faint shares stay far
    under the bar and their crops are exactly the regions' own. (The 100-dpi page's soft share,
    0.0146, went to 0.0150 when lines kept their final periods: half the bar; the margin is 0.6.)"""
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.preprocess.showthrough import FAINT_SHARE, SHADED_SHARE, SOFT_SHARE
    from ocrcore.synth import generate

    for params, seed, i in (({"dpi": 150, "figures": 1.0}, 21, 1), ({"dpi": 150, "degrade": 1.0}, 21, 0),
                            ({"dpi": 100}, 14, 1), ({"dpi": 200, "degrade": 1.0, "furniture": 1.0}, 21, 1)):
        scan = analyse_scan(generate("pages", seed, i, params).image)
        crops = scan.crops()
        part = scan.parts[0]
        assert not part.shows_through and part.shaded < 0.5 * SHADED_SHARE, (params, part.shaded)
        assert part.soft < 0.6 * SOFT_SHARE, (params, part.soft)
        assert part.faint < 0.5 * FAINT_SHARE, (params, part.faint)
        for pl, c in zip(scan.lines, crops):
            assert np.array_equal(c.image, pl.region.crop(part.layout.binarized).image)
    bilevel = generate("pages", 77, 4, {"dpi": 150, "show_through": 0.4}).image.convert("1", dither=Image.Dither.NONE)
    scan = analyse_scan(bilevel)
    assert not scan.parts[0].shows_through and scan.parts[0].shaded == 0.0


def test_text_in_a_field_of_noise_dots_is_read_without_the_dots():
    """A bilevel scan whose paper went grey in one corner (shading, then noise, then one threshold
    for the page: seed 15 page 0 at 200 dpi, degraded) keeps its text as solid strokes in a field
    of random dots. Taken as ink, the dots bridged lines into tall merged crops and were read
    (page CER 28%). The field is found where ink is as clustered as random dots, and read through
    a blur against its own paper level: inside it, what the crops read keeps the letters and
    drops the dots. Clean bilevel pages at 100 to 300 dpi have no field."""
    import importlib

    from ocrcore.pagescore import truth_page
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    B = importlib.import_module("ocrcore.preprocess.binarize")
    sample = generate("pages", 15, 0, {"dpi": 200, "degrade": 1.0})
    given = B.to_gray_u8(sample.image)
    assert B._is_two_level(given) and not B.looks_dithered(given)
    field = B._dot_field(given < 128)
    assert field is not None and 0.1 < field.mean() < 0.4
    assert field[:, -300:].mean() > 3 * field[:, :600].mean()  # the shaded side, not the clean one
    text = np.zeros_like(field)
    for line in truth_page(sample_to_row(sample, "pages")).lines:
        for word in line.words:
            for c in word.chars:
                x0, y0, x1, y1 = c.bbox
                text[max(0, y0 - 2): y1 + 2, max(0, x0 - 2): x1 + 2] = True
    read = binarize(sample.image).src < 128
    assert (given < 128)[field & ~text].mean() > 0.3  # dots between the letters, as given
    assert read[field & ~text].mean() < 0.01  # gone
    assert read[field & text].mean() > 0.25  # letters kept
    for dpi in (100, 150, 300):
        clean = B.to_gray_u8(generate("pages", 77, 0, {"dpi": dpi}).image) < 128
        assert B._dot_field(clean) is None, dpi


@pytest.mark.parametrize("seed,index,dpi,params", [(15, 7, 200, {"degrade": 1.0}), (103, 6, 200, {}), (107, 8, 200, {}),
                                                    (142, 4, 300, {}),
                                                    (163, 10, 300, {"furniture": 1.0, "tables": 0.5, "figures": 0.5}),
                                                    (167, 6, 300, {"furniture": 1.0, "tables": 1.0, "figures": 0.5}),
                                                    (242, 11, 300, {"columns": 2, "furniture": 0.7, "tables": 0.5,
                                                                    "figures": 0.5, "underlines": 0.03,
                                                                    "annotations": 0.2, "stamps": 0.2,
                                                                    "highlights": 0.05}),
                                                    (92, 3, 300, {"figures": 1.0, "columns": 2})])
def test_two_columns_are_read_one_after_the_other(seed, index, dpi, params):
    """Two pages whose columns were read interleaved, line by line across the gutter.
    Seed 15 page 7 (200 dpi, degraded): word gaps lining up over a few lines of several short
    paragraphs (a river: two paragraphs of four lines each at one x) passed together for a
    column gutter; every line of that column then crossed a "gutter" and was read by height,
    interleaved with the next column's lines (page CER 78%). A gutter now needs its lines in one
    piece, and a line crosses a gutter only beside it. Seed 103 page 6 (200 dpi, extra-light
    type, eroded): 11 of the right column's 39 lines started 3-4 coarse pixels right of the
    others (thin first strokes lost), under the 75% aligned a gutter needs, so no gutter was
    found; a line may now start up to a scale unit right of its column's edge. Seed 107 page 8
    (200 dpi, justified): the columns' first lines stood 6 work pixels above the next where
    lines usually stand 4, which passed for a running head (1.3 times the usual gap) and was
    read across: a running head now also stands clear by half an x-height. Seed 142 page 4 (300
    dpi): beside the left column's short last lines and a paragraph gap no gutter candidate had
    text near it on both sides, so the gutter ended there and the column's last two lines ran
    into the right column's; an accepted gutter now carries on down its blank band. Seed 163
    page 10 (300 dpi, a running head, footnotes): the right column ends a third of the way down,
    and the rows below its end, with no text right of the gutter, pulled the median reach of
    the right-hand text under the 10 scales a column needs, so no gutter was found (57% CER);
    each side is now measured on the rows with text on that side. Seed 167 page 6 (300 dpi): a
    photo at the top of the right column stopped the gutter (no text beside it), and the three
    lines under the photo, too few for a gutter of their own, ran into the left column's (38%);
    a gutter now carries on beside pictures, and from each of its pieces. Seed 242 page 11 (300
    dpi, ragged right): the right column holds one line, a photo and five lines; those lines
    alone were too few for a gutter, and each ran into the left column's line beside it (21%);
    a picture now counts as what stands beside a gap, so photo and lines make one gutter. Seed
    92 page 3: the same under a photo (72 pairs of lines out of order)."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", seed, index, {"dpi": dpi, **params})
    assert sample.meta["columns"] == 2
    truth = truth_page(sample_to_row(sample, "pages")).lines
    found = analyse_scan(sample.image).lines
    order = []
    for pl in found:
        j = max(range(len(truth)), key=lambda j: bbox_iou(pl.bbox, truth[j].bbox))
        if bbox_iou(pl.bbox, truth[j].bbox) > 0.5:
            order.append(j)
    assert len(set(order)) >= len(truth) - 2
    assert order == sorted(order)  # both columns, each top to bottom, the left one first


def test_a_narrow_table_in_a_column_leaves_the_gutter_where_its_lines_end():
    """Seed 287 page 8 (300 dpi, two ragged-right columns): a narrow table in the left column
    stands too far from the right column for a gutter's reach test, so beside it the gutter's
    candidate ended halfway across the gap. Trimmed to the median edges of its rows, the gutter
    lay left of where the column's first three lines end, and those lines ran across the gap into
    the right column's (page CER 10.3%). A gutter's edges are now taken where text stands at
    them: no line crosses the gap, and the columns are read one after the other."""
    from ocrcore.pagescore import truth_page
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", 287, 8, {"dpi": 300, "tables": 1.0})
    truth = truth_page(sample_to_row(sample, "pages")).lines
    half = sample.image.width / 2
    left_end = max(t.bbox[2] for t in truth if t.bbox[2] < half)
    right_start = min(t.bbox[0] for t in truth if t.bbox[0] > half)
    assert right_start - left_end > 60  # the gap between the columns, at its narrowest
    found = segment(binarize(sample.image))
    across = [ln.bbox for ln in found if ln.bbox[0] < left_end and ln.bbox[2] > right_start]
    assert not across
    firsts = [i for i, ln in enumerate(found) if ln.bbox[0] > half]
    lasts = [i for i, ln in enumerate(found) if ln.bbox[2] < half]
    assert firsts and lasts and max(lasts) < min(firsts)  # the left column first, all of it


@pytest.mark.parametrize("seed,index,params", [(161, 5, {"furniture": 1.0, "tables": 0.5, "figures": 0.5}),
                                              (166, 10, {"furniture": 1.0, "tables": 1.0, "figures": 0.5})])
def test_ruled_table_of_wide_columns_is_read_row_by_row(seed, index, params):
    """A table between a top, a header and a bottom rule, its columns wide and far apart, has
    gaps between its columns tall enough (nine rows) to pass for page gutters: its columns
    were read one after the other, every cell of a row far from the next (page CER 12.5% and
    9.4%). A gutter ending at a rule above and a rule below is a table's: it still cuts the
    rows into cells, but the table is read row by row, as the truth lists its cells."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", seed, index, {"dpi": 300, **params})
    assert [t["rules"] for t in sample.meta["tables"]] == ["booktabs"]
    truth = truth_page(sample_to_row(sample, "pages")).lines
    order = []
    for pl in analyse_scan(sample.image).lines:
        j = max(range(len(truth)), key=lambda j: bbox_iou(pl.bbox, truth[j].bbox))
        if bbox_iou(pl.bbox, truth[j].bbox) > 0.2:  # two cells of a row read as one line overlap one
            order.append(j)
    assert len(order) >= 0.7 * len(truth)
    assert order == sorted(order)


@pytest.mark.parametrize("seed,index,params", [(201, 4, {"tables": 1.0, "columns": 2}),
                                              (197, 0, {"degrade": 1.0, "furniture": 0.5, "tables": 0.3, "figures": 0.3})])
def test_lines_over_a_table_in_one_column_are_that_columns_lines(seed, index, params):
    """A table set in the left column of two: the gap between its columns is a gutter (it cuts
    its rows into cells), and the left column's lines just over it crossed that gutter, so they
    were taken for lines spanning columns (a heading) and read by height: the right column's
    lines above them came before them, and the next lines of both columns were read
    interleaved (every line found; 463 and 912 pairs of lines out of order, page CER 26%). A
    line that crosses a gutter while another gutter beside it bounds it is now a line of its
    column. The table's own cells may still be read a column at a time."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", seed, index, {"dpi": 200, **params})
    assert sample.meta["columns"] == 2 and len(sample.meta["tables"]) == 1
    truth = truth_page(sample_to_row(sample, "pages")).lines
    tx0, ty0, tx1, ty1 = sample.meta["tables"][0]["bbox"]
    cells = [j for j, ln in enumerate(truth) if tx0 <= (ln.bbox[0] + ln.bbox[2]) / 2 <= tx1
             and ty0 <= (ln.bbox[1] + ln.bbox[3]) / 2 <= ty1]
    assert len(cells) >= 6
    order = []
    for pl in analyse_scan(sample.image).lines:
        j = max(range(len(truth)), key=lambda j: bbox_iou(pl.bbox, truth[j].bbox))
        if bbox_iou(pl.bbox, truth[j].bbox) > 0.5:
            order.append(min(cells) if j in cells else j)  # the table's cells as one place
    assert len(order) >= len(truth) - 2
    assert order == sorted(order)  # the left column, its table in its place, then the right one


def test_a_line_under_a_table_in_a_column_does_not_pull_the_next_column_into_it():
    """Seed 340 page 2 (200 dpi): an unruled table in the left column of two. A short line under
    the table, left of the gap between the table's columns (a gutter), was set before the
    table's right-hand cells by the gutter's rule, while the line under the table, which it
    follows, comes after those cells down their column: a cycle, broken at the top-most line
    left, the right column's first, so the right column was read in the middle of the left one
    (43% CER, every line found). Where the rules make a cycle, a gutter's rule that the
    columns' own order (down each column) contradicts goes: the left column is read whole,
    then the right one."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", 340, 2, {"dpi": 200, "columns": 2, "tables": 0.5, "figures": 0.3, "furniture": 0.5,
                                        "underlines": 0.02, "stamps": 0.2, "annotations": 0.2, "show_through": 0.2})
    truth = truth_page(sample_to_row(sample, "pages")).lines
    middle = sample.image.width / 2
    sides = []
    for pl in analyse_scan(sample.image).lines:
        t = max(truth, key=lambda ln: bbox_iou(pl.bbox, ln.bbox))
        if bbox_iou(pl.bbox, t.bbox) > 0.5:
            sides.append((t.bbox[0] + t.bbox[2]) / 2 > middle)
    assert len(sides) >= len(truth) - 2 and sum(sides) >= 40
    assert sides == sorted(sides), sides.index(True)  # every left-column line before the right column's


def test_two_columns_over_three_read_block_by_block():
    """Two columns over three (a magazine page). The upper columns' lines run across the lower
    block's gutters, and crossing any gutter on the page made a line one that spans columns,
    read by height: the upper columns were read interleaved. A gutter now counts only beside a
    line or a few lines from its ends; then the lower-left column, left of the upper gutter,
    came before the upper right one. A blank band where the gutters change (none runs through
    it, those above end and those below start near it at other x) now splits the page into
    blocks read one after the other."""
    top, t_truth = render_page(width=1000, height=560, columns=2, seed=3, margin=60, gutter=70)
    low, l_truth = render_page(width=1000, height=560, columns=3, seed=4, margin=60, gutter=70)
    img = Image.new("L", (1000, 1120), 255)
    img.paste(top, (0, 0))
    img.paste(low, (0, 560))
    truth = t_truth + [((x0, y0 + 560, x1, y1 + 560), c) for (x0, y0, x1, y1), c in l_truth]
    lines = segment(binarize(img))
    order = matched_order([ln.bbox for ln in lines], [b for b, _ in truth])
    assert -1 not in order and len(set(order)) == len(truth)
    assert order == sorted(order)  # upper left, upper right, then the three lower columns


def test_a_monospace_lines_final_period_stays_in_its_crop():
    """Monospace type centres punctuation in a full cell, so a line's final period or colon lies
    0.5-0.6 text scales past its last letter, beyond the half scale marks had to lie within: on
    this 300-dpi page (seed 9950 page 4, monospace) four lines' crops lost their final mark and
    were read without it ("swear." -> "swear"). Every line ending in punctuation now keeps it."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", 9950, 4, {"dpi": 300})
    truth = truth_page(sample_to_row(sample, "pages"))
    found = analyse_scan(sample.image).lines
    ending = [tl for tl in truth.lines if tl.text[-1] in ".:;,!"]
    assert len(ending) >= 4
    for tl in ending:
        last = tl.words[-1].chars[-1].bbox
        pl = max(found, key=lambda p: bbox_iou(p.bbox, tl.bbox))
        assert pl.bbox[2] >= last[2] - 1, (tl.text, pl.bbox, last)



@pytest.mark.parametrize("index", [21, 26, 35])
def test_a_justified_lines_closing_dash_stays_in_its_crop(index):
    """Justification stretches the space before a line's closing dash ("significantly -"): on
    these 300-dpi pages (seed 77) it lay 1.53-2.84 text scales past the last word, beyond the 1.5
    a dash could reach, and the line was read without it (3 of 14 lines ending in a dash on 40
    pages). On a quiet page a dash in the line's x-height band now joins up to 3 scales out."""
    import re

    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", 77, index, {"dpi": 300})
    truth = truth_page(sample_to_row(sample, "pages"))
    found = analyse_scan(sample.image).lines
    ending = [tl for tl in truth.lines if re.search(r"\s[-\u2013\u2014]+[^\w\s]*$", tl.text)]
    assert ending
    for tl in ending:
        last = tl.words[-1].chars[-1].bbox
        pl = max(found, key=lambda p: bbox_iou(p.bbox, tl.bbox))
        assert pl.bbox[2] >= last[2] - 1, (tl.text, pl.bbox, last)

def test_a_heading_reversed_out_does_not_set_the_line_pitch():
    """A heading printed white on a dark bar (turned with the page): its rows are solid ink, and
    in the row profile's autocorrelation the bar made a broad hump on which the true pitch's peak
    (26 px on this 300-dpi page) rose from too shallow a valley for the ripple test; the pitch
    went to 53 and pairs of lines were read as one (``bench_scan_defects.py``, 8 pages: 48 of
    436 lines lost, page CER 0.44% -> 16.5%; a bar half a pixel shorter kept 26). Row sums are
    now capped at the 90th percentile of the inked rows' before correlating."""
    import importlib

    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate

    seg = importlib.import_module("ocrcore.preprocess.segment")
    pitches = []
    real = seg._line_pitch
    s = generate("pages", 77, 3, {"dpi": 300})
    x0, y0, x1, y1 = s.page.lines[0].bbox
    a = np.radians(float(s.meta["skew_deg"]))
    c, s_ = np.cos(a), abs(np.sin(a))
    w0 = ((x1 - x0) * c - (y1 - y0) * s_) / (c * c - s_ * s_)  # the line's size before it was turned
    h0 = ((y1 - y0) * c - (x1 - x0) * s_) / (c * c - s_ * s_)
    cx, cy, hw, hh = (x0 + x1) / 2, (y0 + y1) / 2, w0 / 2 + 50, max(h0, 0.3 * (y1 - y0)) / 2 + 12.5
    corners = [(cx + dx * np.cos(a) + dy * np.sin(a), cy - dx * np.sin(a) + dy * np.cos(a))
               for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))]
    mask = Image.new("1", s.image.size, 0)
    ImageDraw.Draw(mask).polygon(corners, fill=1)
    g = np.asarray(s.image.convert("L")).astype(np.float32)
    inside = np.asarray(mask)
    g[inside] = 255 - 0.85 * g[inside]  # paper a dark grey, ink near white
    try:
        seg._line_pitch = lambda b: pitches.append(real(b)) or pitches[-1]
        lines = analyse_scan(Image.fromarray(g.astype(np.uint8))).lines
    finally:
        seg._line_pitch = real
    assert pitches and 22 <= pitches[0] <= 30, pitches
    truth = [ln.bbox for ln in s.page.lines[1:]]
    found = sum(any(bbox_iou(t, pl.bbox) >= 0.5 for pl in lines) for t in truth)
    assert found >= len(truth) - 2, (found, len(truth))


def test_highlighter_marks_turn_to_paper_on_a_colour_page():
    """A colour scan of a page with words marked by highlighters: read as luminance, the marks
    are bands of grey 0.73-0.89 (darker where strokes overlap); :func:`page_grey` divides each
    channel by the dye's colour there, so the marked paper is paper again and the type under it
    as dark as on the plain page; off the marks, the plain page (the marks come from a stream of
    their own), its paper balanced to white."""
    from ocrcore.preprocess.marks import page_grey
    from ocrcore.synth import generate

    for index, dpi in ((0, 150), (1, 300)):
        plain = np.asarray(generate("pages", 77, index, {"dpi": dpi}).image.convert("L"), np.int16)
        marked = generate("pages", 77, index, {"dpi": dpi, "highlights": 0.2}).image
        lum = np.asarray(marked.convert("L"), np.int16)
        grey = np.asarray(page_grey(marked), np.int16)
        under = lum < plain - 25  # under the marks
        assert under.sum() > 5000
        # the paper's colour is balanced to white: the plain page scaled by as much
        balanced = np.minimum(plain * (np.median(grey[~under]) / np.median(plain[~under])), 255)
        before, after = np.abs(lum - plain)[under].mean(), np.abs(grey - balanced)[under].mean()
        assert after < 4 and after < before / 10, (dpi, before, after)
        assert np.percentile(np.abs(grey - balanced)[~under], 99) <= 6  # the marks' blurred edges


def test_coloured_type_is_not_taken_for_a_mark():
    """Red, blue, orange and light blue type on a colour page are read as luminance, to the
    pixel (the fringes of coloured letters are tinted, but they are no area of dyed paper); red
    type under a yellow mark (with black type) keeps the luminance red type has on white
    paper."""
    from ocrcore.preprocess.marks import page_grey
    from ocrcore.synth import generate

    g = np.asarray(generate("pages", 77, 0, {"dpi": 150}).image.convert("L"), np.float32)[:, :, None] / 255
    for ink in ((0.8, 0.1, 0.1), (0.1, 0.2, 0.7), (1.0, 0.55, 0.1), (0.35, 0.65, 1.0)):
        page = Image.fromarray(np.round((g + (1 - g) * np.array(ink, np.float32)) * 255).astype(np.uint8))
        assert np.array_equal(np.asarray(page_grey(page)), np.asarray(page.convert("L"))), ink
    canvas = np.full((300, 600, 3), 250, np.float32)
    text = np.zeros((300, 600), bool)
    for x in range(40, 560, 24):  # strokes 4 px wide, 40 px tall, as letters of words
        text[130:170, x:x + 4] = True
        text[130:134, x:x + 14] = True
    black = text.copy()
    black[:, 300:] = text[:, :300] = False
    canvas[black] = 20  # a word in black, one in red
    canvas[text] = (205, 25, 25)
    mark = np.zeros((300, 600), bool)
    mark[110:190, 20:580] = True
    canvas[mark] *= np.array((0.98, 0.95, 0.3), np.float32)  # a yellow highlighter's dye
    red_on_white = 0.299 * 205 + 0.587 * 25 + 0.114 * 25
    grey = np.asarray(page_grey(Image.fromarray(canvas.astype(np.uint8))), np.float32)
    assert abs(np.median(grey[text]) - red_on_white * 255 / 250) < 12  # white-balanced to 255
    assert np.median(grey[black]) < 30
    assert np.median(grey[mark & ~ndi_dilated(text | black)]) >= 245
    lum = np.asarray(Image.fromarray(canvas.astype(np.uint8)).convert("L"), np.float32)
    assert np.median(lum[mark & ~ndi_dilated(text | black)]) < 230  # what luminance gave


def test_a_blue_carbon_copy_keeps_its_letters(monkeypatch):
    """A colour scan of a blue carbon copy (blurred, light letters, the carbon's smudges): the
    letters' light, tinted fringes and the smudges had passed for a highlighter's dye over type,
    and the letters were turned towards paper (a page read at 24% CER, 0.9% as luminance). Its
    type is told as coloured (:func:`coloured_type`), so the letters keep their luminance;
    highlighted pages are not (the tests above)."""
    import ocrcore.preprocess.marks as marks
    from ocrcore.synth import generate

    s = generate("pages", 9997, 1, {"dpi": 200, "typewriter": 1.0, "carbon": 1.0, "degrade": 1.0})
    assert s.image.mode == "RGB" and s.meta["carbon"]["colour"] == "blue"
    assert marks.coloured_type(np.asarray(s.image))
    lum = np.asarray(s.image.convert("L"), np.float32)

    def darkest_gain(grey: np.ndarray) -> np.ndarray:  # how much lighter each letter's darkest pixel came out
        return np.array([grey[y0:y1, x0:x1].min() - lum[y0:y1, x0:x1].min() for _, (x0, y0, x1, y1) in s.chars])

    assert np.percentile(darkest_gain(np.asarray(marks.page_grey(s.image), np.float32)), 95) <= 5
    monkeypatch.setattr(marks, "coloured_type", lambda rgb: False)  # as before: taken for a mark
    assert np.percentile(darkest_gain(np.asarray(marks.page_grey(s.image), np.float32)), 95) > 30


def ndi_dilated(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage as ndi

    return ndi.binary_dilation(mask, iterations=3)


def test_highlighter_marks_turn_to_paper_on_a_grey_page():
    """The same marks scanned in grey are flat bands of grey with sharp edges around words:
    their paper is divided by the band's level (as light as the plain page's or lighter), the
    type under them stays dark, and the rest of the page is as it was. Pages without marks,
    with photographs, tables or heavy degradation, are left alone."""
    from scipy import ndimage as ndi

    from ocrcore.preprocess.marks import grey_marks, page_grey
    from ocrcore.synth import generate

    for index, dpi in ((1, 300), (0, 150)):
        plain = np.asarray(generate("pages", 77, index, {"dpi": dpi}).image.convert("L"), np.int16)
        marked = generate("pages", 77, index, {"dpi": dpi, "highlights": 0.2}).image.convert("L")
        lum = np.asarray(marked, np.int16)
        grey = np.asarray(page_grey(marked), np.int16)
        under = lum < plain - 25
        paper = under & (plain >= 200)
        ink = ndi.binary_closing(under, np.ones((7, 7), bool)) & (plain < 80)
        assert paper.sum() > 5000 and ink.sum() > 5000
        assert np.percentile((lum - plain)[paper], 95) <= -25
        assert np.percentile((grey - plain)[paper], 5) >= -3, dpi
        assert np.percentile((grey - plain)[ink], 95) <= 30, dpi
        away = ~ndi.binary_dilation(lum < plain - 5, iterations=15)
        assert np.percentile(np.abs(grey - plain)[away], 99) <= 2
    for params in ({"dpi": 300}, {"dpi": 300, "figures": 1.0}, {"dpi": 300, "tables": 1.0},
                   {"dpi": 150, "degrade": 1.0}):
        for i in range(2):
            assert grey_marks(np.asarray(generate("pages", 5, i, params).image.convert("L"))) is None, (params, i)


def test_a_stamps_ink_turns_to_paper_and_the_type_under_it_stays():
    """A rubber stamp pressed over type (an oval at 150 dpi, a box at 300): on a colour scan
    its coloured ink turns to paper (type under it, dark in every channel, kept); on a grey scan
    the frame marks it and its strokes wider than type's turn to paper. Away from the stamp,
    the page is its luminance to the pixel."""
    from scipy import ndimage as ndi

    from ocrcore.preprocess.marks import page_grey
    from ocrcore.synth import generate

    for index, dpi in ((2, 150), (7, 300)):
        plain = np.asarray(generate("pages", 77, index, {"dpi": dpi}).image.convert("L"), np.int16)
        s = generate("pages", 77, index, {"dpi": dpi, "stamps": 1.0})
        lum = np.asarray(s.image.convert("L"), np.int16)
        stamp = lum < plain - 40
        paper = stamp & (plain >= 200)  # the stamp's ink on paper
        under = ndi.binary_dilation(stamp, iterations=3) & (plain < 60)  # type under and beside it
        away = ~ndi.binary_dilation(stamp, iterations=20)
        assert paper.sum() > 5000 and under.sum() > 300
        for image, least in ((s.image, 0.98), (s.image.convert("L"), 0.8)):
            grey = np.asarray(page_grey(image), np.int16)
            assert (grey[paper] >= 0.9 * np.median(plain)).mean() >= least, (index, image.mode)
            assert (grey[under] < 100).mean() >= 0.98, (index, image.mode)
            assert np.array_equal(grey[away], lum[away]), (index, image.mode)


def test_a_stamp_pressed_beside_marked_words_is_lifted():
    """A stamp pressed over a column's edge, beside words marked with a highlighter (seed 244
    page 5, 300 dpi): its coloured ink and the marks' dye made one group, mostly in the marks'
    blocks, so it was left as a highlighter's, its words joined a line of each column into one
    that crossed the gutter, and the page was read in two blocks (26.47% CER; 0.28% now). What
    lies outside the marks is now grouped again on its own. The other stamp, and the page away
    from the stamps, as before."""
    from scipy import ndimage as ndi

    from ocrcore.preprocess.marks import page_grey
    from ocrcore.synth import generate

    params = {"dpi": 300, "columns": 2, "furniture": 0.7, "tables": 0.5, "figures": 0.5, "underlines": 0.03,
              "annotations": 0.2, "stamps": 0.2, "highlights": 0.05}
    s = generate("pages", 244, 5, params)
    plain = generate("pages", 244, 5, {**params, "stamps": 0.0})
    assert len(s.meta["stamps"]["stamps"]) == 2 and s.meta["highlights"]["words"] > 0
    lum = np.asarray(s.image.convert("L"), np.int16)
    was = np.asarray(plain.image.convert("L"), np.int16)
    paper = (lum < was - 40) & (was >= 200)  # the stamps' ink on paper
    grey = np.asarray(page_grey(s.image), np.int16)
    lifted = grey >= 0.9 * 255
    beside = np.zeros_like(paper)
    beside[900:1300, 850:1400] = True  # ARCHIVE COPY, over the gutter and the marked words
    other = np.zeros_like(paper)
    other[300:700, 300:900] = True  # PAID, at the top
    assert (paper & beside).sum() > 5000 and (paper & other).sum() > 3000
    assert lifted[paper & beside].mean() > 0.7  # 0.03 before
    assert lifted[paper & other].mean() > 0.98
    away = ~ndi.binary_dilation(lum < was - 40, iterations=20)
    assert (grey[away] == np.asarray(page_grey(plain.image), np.int16)[away]).mean() > 0.9999


def test_only_a_stamp_is_taken_for_one():
    """Coloured ink is a stamp's when it crosses type or closes a frame round words: a red frame
    round lines of black type is, and so is one round its own bold words (touching it or not), and
    a row of red capitals turned from the type; a large red letter O (its counter empty), red
    words beside black ones (level with them), a paragraph of red type
    and a yellowed page's tinted paper and type's edges are not (a colour page's coloured type:
    ``test_coloured_type_is_not_taken_for_a_mark``). On grey pages, plain pages,
    the back page showing through, photographs, ruled tables and heavily degraded scans are
    left as they are (the same array)."""
    from ocrcore.preprocess.stamps import lift_grey_stamps, stamp_regions
    from ocrcore.synth import generate

    def canvas(draw_red) -> np.ndarray:
        c = np.full((600, 800, 3), 250, np.uint8)
        for y in (230, 280, 330):
            for x in range(120, 680, 16):  # lines of black type: strokes 4 px wide, 30 px tall
                c[y:y + 30, x:x + 4] = 20
                c[y:y + 4, x:x + 10] = 20
        draw_red(c)
        return c

    def frame(c):
        c[200:208, 80:720] = c[392:400, 80:720] = (200, 40, 50)
        c[200:400, 80:88] = c[200:400, 712:720] = (200, 40, 50)

    def letter_o(c):
        yy, xx = np.mgrid[:600, :800]
        r = np.hypot((yy - 150) / 120, (xx - 150) / 100)
        c[(r >= 0.9) & (r <= 1.0)] = (200, 40, 50)

    def beside(c):
        for x in range(120, 680, 30):  # red words a line below the black ones
            c[390:420, x:x + 4] = (200, 40, 50)

    def framed_words(c):  # a red frame round red bold words nearly touching it, on bare paper
        c[420:428, 100:700] = c[582:590, 100:700] = (200, 40, 50)
        c[420:590, 100:108] = c[420:590, 692:700] = (200, 40, 50)
        for y in (442, 516):
            for x in range(122, 680, 24):
                c[y:y + 50, x:x + 6] = (200, 40, 50)

    def words_touching_the_frame(c):  # bold red capitals pressed against a doubled frame, rows
        c[420:426, 100:310] = c[584:590, 100:310] = (200, 40, 50)  # touching it above and below
        c[420:590, 100:106] = c[420:590, 304:310] = (200, 40, 50)
        c[432:436, 112:298] = c[574:578, 112:298] = (200, 40, 50)
        c[432:578, 112:116] = c[432:578, 294:298] = (200, 40, 50)
        for x in range(124, 280, 26):
            c[436:496, x:x + 8] = c[436:444, x:x + 18] = (200, 40, 50)
            c[514:574, x:x + 8] = c[566:574, x:x + 18] = (200, 40, 50)

    def pressed_askew(c):  # a frameless row of bold red capitals turned 15 degrees, beside the type
        for x in range(440, 620, 20):
            y = 560 - int(round((x - 440) * np.tan(np.radians(15))))
            c[y - 24:y, x:x + 8] = c[y - 24:y - 16, x:x + 14] = (200, 40, 50)

    def coloured_paragraph(c):  # lines of red letters (counters and all) set close: one group
        for y in range(420, 560, 34):
            for x in range(104, 290, 18):
                c[y:y + 30, x:x + 12] = (200, 40, 50)
                c[y + 2:y + 28, x + 2:x + 10] = 250

    assert len(stamp_regions(canvas(frame))) == 1
    # the words were the frame's own ink, and the frame held nothing else: kept (seed 261 page 11)
    assert len(stamp_regions(canvas(framed_words))) == 1
    # words touching the frame close it into pockets, and no hole holds them (seed 268 page 9 at
    # 200 dpi: 80.87% CER, its deskew thrown by two stamps kept); a paragraph closes in no paper
    assert len(stamp_regions(canvas(words_touching_the_frame))) == 1
    assert stamp_regions(canvas(coloured_paragraph)) == []
    # a row of words turned from the type is a stamp pressed askew (seed 269 page 0 at 200 dpi: its
    # letters joined three lines into blocks that were lost, 9.69% CER; 0.62% now, as unstamped)
    assert len(stamp_regions(canvas(pressed_askew))) == 1
    assert stamp_regions(canvas(letter_o)) == [] and stamp_regions(canvas(beside)) == []
    for i in range(2):  # a yellowed page: its paper and its type's edges are tinted, not ink
        g = np.asarray(generate("pages", 5, i, {"dpi": 300}).image.convert("L"), np.float32)[:, :, None]
        yellowed = np.clip(g * np.array((0.95, 0.85, 0.62), np.float32) + 0.5, 0, 255).astype(np.uint8)
        assert stamp_regions(yellowed) == [], i
    for params in ({"dpi": 300}, {"dpi": 150}, {"dpi": 300, "show_through": 0.4}, {"dpi": 300, "figures": 1.0},
                   {"dpi": 300, "tables": 1.0}, {"dpi": 150, "degrade": 1.0}):
        for i in range(2):
            g = np.asarray(generate("pages", 5, i, params).image.convert("L"))
            assert lift_grey_stamps(g) is g, (params, i)


def test_pen_marks_are_kept_out_of_the_lines(monkeypatch):
    """A reader's ballpoint marks (a margin note, ticks, words circled, a signature) are taken
    out before lines are built: every printed line is found with its own box. Taken for text,
    a loop round a word joined the two lines it crossed into one, and a tick stretched the line
    beside it. Pages without pen marks (large type, tables, running heads, degraded 150-dpi
    scans) have nothing taken out."""
    import importlib

    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate

    S = importlib.import_module("ocrcore.preprocess.segment")
    found = []
    pen_marks = S._pen_marks
    monkeypatch.setattr(S, "_pen_marks", lambda *a: found.append(pen_marks(*a)) or found[-1])

    def matched(sample) -> float:
        boxes = [pl.bbox for pl in analyse_scan(sample.image).lines]
        return float(np.mean([max(bbox_iou(t.bbox, b) for b in boxes) >= 0.7 for t in sample.page.lines]))

    s = generate("pages", 77, 0, {"dpi": 300, "annotations": 1.0})
    m = s.meta["annotations"]
    assert m["circles"] == 2 and m["ticks"] == 2 and m["notes"] == 1
    assert matched(s) == 1.0 and found[-1].size >= 3
    for params in ({"dpi": 300, "min_pt": 14, "max_pt": 24}, {"dpi": 300, "tables": 1.0, "furniture": 1.0},
                   {"dpi": 150, "degrade": 1.0}):
        for i in range(2):
            found.clear()
            analyse_scan(generate("pages", 5, i, params).image)
            assert found and all(f.size == 0 for f in found), (params, i)
    monkeypatch.setattr(S, "_pen_marks", lambda *a: np.zeros(0, np.intp))
    assert matched(s) < 1.0  # a line stretched by a pen mark (marks in the margin are split off anyway)


def test_a_note_in_the_margin_is_not_joined_to_the_line_beside_it(monkeypatch):
    """A short note printed (or written small) in the margin beside a body line, a few scales
    out, stays a line of its own: joined to the line, it stretched the line's box into the
    margin and its crop read the two as one line. What lies wholly beyond the furthest that
    long lines reach is margin."""
    import importlib

    from ocrcore.synth import generate

    S = importlib.import_module("ocrcore.preprocess.segment")
    s = generate("pages", 77, 2, {"dpi": 150, "max_skew": 0})
    page = s.image.convert("L")
    right = max(ln.bbox[2] for ln in s.page.lines)
    target = next(ln for ln in s.page.lines[len(s.page.lines) // 2:] if ln.bbox[2] >= right - 4)  # a full line
    x0, y0, x1, y1 = target.bbox
    # a few scales out (nearer, the note and the line share a seed: the tests below)
    ImageDraw.Draw(page).text((right + 40, y0), "see p. 12", fill=0, font=_font(int((y1 - y0) * 0.7)))

    def found():
        lines = segment(binarize(page))
        own = max(lines, key=lambda ln: bbox_iou(ln.bbox, target.bbox))
        return own, [ln for ln in lines if ln.bbox[0] > right]

    own, margin = found()
    assert own.bbox[2] <= right + 3 and bbox_iou(own.bbox, target.bbox) > 0.8, own.bbox
    assert len(margin) == 1 and margin[0].bbox[1] < y1 and margin[0].bbox[3] > y0
    monkeypatch.setattr(S, "MARGIN_GAP", float("inf"))
    own, margin = found()
    assert own.bbox[2] > right + 20 and not margin  # joined, as it was


def test_a_scribble_a_word_gap_beside_a_justified_column_is_split_from_its_lines(monkeypatch):
    """Pen strokes a word gap beyond a justified column's edge, reaching up beside the line
    above, were cut between the two lines' seeds and each half joined its line, stretching both
    boxes into the margin. A justified block's edge is where most of its lines end: what a line
    holds wholly beyond it is a margin piece of its own, and both lines end at the edge."""
    import importlib

    from ocrcore.synth import generate

    S = importlib.import_module("ocrcore.preprocess.segment")
    s = generate("pages", 77, 2, {"dpi": 150, "max_skew": 0})
    page = s.image.convert("L")
    truth = s.page.lines
    right = max(ln.bbox[2] for ln in truth)
    k = next(i for i in range(len(truth) // 2, len(truth))
             if truth[i].bbox[2] >= right - 4 and truth[i - 1].bbox[2] >= right - 4)  # two full lines
    target, above = truth[k], truth[k - 1]
    x0, y0, x1, y1 = target.bbox
    h = y1 - y0
    d = ImageDraw.Draw(page)
    for i in range(6):  # loops up from the line's foot to above the line above's top
        xa = right + int(0.5 * h) + i * int(0.45 * h)
        d.line([(xa, y1 - 2), (xa + int(0.2 * h), y0 - int(0.9 * h)), (xa + int(0.35 * h), y1 - 2)], fill=0, width=2)

    def found():
        lines = segment(binarize(page))
        own = [max(lines, key=lambda ln: bbox_iou(ln.bbox, t.bbox)) for t in (target, above)]
        return own, [ln for ln in lines if ln.bbox[0] > right]

    own, margin = found()
    assert all(ln.bbox[2] <= right + 3 for ln in own), [ln.bbox for ln in own]
    assert margin and all(ln.bbox[1] < y1 and ln.bbox[3] > above.bbox[1] for ln in margin)
    monkeypatch.setattr(S, "_split_margins", lambda lines, *a: lines)
    own, margin = found()
    assert all(ln.bbox[2] > right + 20 for ln in own) and not margin  # both stretched, as they were


@pytest.mark.parametrize("seed,index,params,other", [
    (306, 6, {"annotations": 1.0}, ()), (305, 2, {"annotations": 1.0}, ()),
    (304, 9, {"columns": 2, "tables": 0.5, "figures": 0.3, "furniture": 0.5, "underlines": 0.02, "stamps": 0.2,
              "annotations": 0.2}, ()),
    # "Mines", a table's last cell, is found with a piece of the table's corner (a fault of its own)
    (327, 10, {"columns": 2, "tables": 0.5, "figures": 0.3, "furniture": 0.5, "underlines": 0.02, "stamps": 0.2,
               "annotations": 0.2}, ("Mines",))])
def test_notes_written_beside_justified_lines_leave_every_line_whole(seed, index, params, other):
    """Handwritten margin notes a word gap beyond a justified column (300 dpi): a note's seed
    ran on from its line's, its tall letters made that line's core twice a line's height, and
    the line was merged with the line above it, the pair read as junk (seed 306 page 6: 4.1%,
    two lines lost; seed 304 page 9: 4.1%, four). Seed 305 page 2: the same beside a ragged
    column, three scales out (2.9%). Seed 327 page 10: a note two lines tall 1.5 scales beyond
    the longest line of a ragged column, whose last letters lie past the column's usual edge
    (they went with the note, and the note, judged by them, was kept as type of the line; 2.8%,
    two lines lost). Every true line is now found (but one known to fail for another cause)."""
    from ocrcore.pagescore import truth_page
    from ocrcore.preprocess.scan import analyse_scan
    from ocrcore.synth import generate
    from ocrcore.synth.dataset import sample_to_row

    sample = generate("pages", seed, index, {"dpi": 300, **params})
    assert sample.meta["annotations"]["notes"] >= 1
    truth = truth_page(sample_to_row(sample, "pages")).lines
    found = [pl.bbox for pl in analyse_scan(sample.image).lines]
    missed = [t.text for t in truth if max(bbox_iou(t.bbox, b) for b in found) <= 0.5]
    assert missed == list(other)


def test_a_paragraphs_number_set_out_in_the_margin_stays_with_its_line(monkeypatch):
    """Numbers set out left of a block's edge before their paragraphs' first lines are type of
    those lines, not notes in the margin: each line keeps its number. What is no wider than a
    number and stands within its line's rows is type of that line."""
    import importlib

    from ocrcore.synth import generate

    S = importlib.import_module("ocrcore.preprocess.segment")
    s = generate("pages", 77, 2, {"dpi": 150, "max_skew": 0})
    page = s.image.convert("L")
    left = min(ln.bbox[0] for ln in s.page.lines)
    firsts = [t for t in s.page.lines if t.bbox[0] <= left + 2][3:8:2]
    d = ImageDraw.Draw(page)
    for i, t in enumerate(firsts):
        h = t.bbox[3] - t.bbox[1]
        d.text((left - int(1.6 * h), t.bbox[1]), f"{i + 4}.", fill=0, font=_font(int(h * 0.8)))

    def starts():
        lines = segment(binarize(page))
        return [max(lines, key=lambda ln: bbox_iou(ln.bbox, t.bbox)).bbox[0] for t in firsts]

    assert all(x < left - 15 for x in starts())
    monkeypatch.setattr(S, "MARGIN_NUMBER", 0.0)
    assert all(x >= left - 2 for x in starts())  # the numbers taken for notes


def test_a_typed_lines_last_words_after_two_spaces_stay_with_it(monkeypatch):
    """Ragged typed text, two spaces after a period: the longest line's last words, past where
    the longest lines end and two spaces (more than 1.5 scales) on, are type of that line, not a
    note in the margin. They stand within the line's rows, where handwriting does not."""
    import importlib

    S = importlib.import_module("ocrcore.preprocess.segment")
    font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf", 22)
    rng = np.random.default_rng(3)
    img = Image.new("L", (1100, 1400), 255)
    d = ImageDraw.Draw(img)
    boxes = []
    for i in range(40):
        txt, n = "", int(rng.integers(52, 64))
        while True:
            t = (txt + ("  " if txt.endswith(".") else " ") if txt else "") + WORDS[rng.integers(len(WORDS))]
            if len(t) > n:
                break
            txt = t + ("." if rng.random() < 0.25 else "")
        if i == 20:  # the gap between its sentences where most lines end
            txt = "ut labore et dolore magna aliqua enim ad minim veniam quis ut.  Ut nostrud"
        d.text((80, 80 + 32 * i), txt, font=font, fill=0)
        boxes.append(d.textbbox((80, 80 + 32 * i), txt, font=font))

    def end():
        return max(segment(binarize(img)), key=lambda ln: bbox_iou(ln.bbox, boxes[20])).bbox[2]

    assert end() >= boxes[20][2] - 4
    monkeypatch.setattr(S, "_on_line", lambda *a, **k: False)
    assert end() < boxes[20][2] - 100  # its last words taken for a note


def test_a_heading_running_on_past_a_justified_edge_stays_whole(monkeypatch):
    """A line running on across a justified block's edge (a heading set wider than the column,
    or over two columns where the right one is too short for an edge of its own) is not split
    there: what a line holds beyond the edge is a margin piece only if the rest of the line
    ends at the edge."""
    import importlib

    from ocrcore.synth import generate

    S = importlib.import_module("ocrcore.preprocess.segment")
    s = generate("pages", 77, 2, {"dpi": 150, "max_skew": 0})
    page = s.image.convert("L")
    right = max(ln.bbox[2] for ln in s.page.lines)
    bottom = max(ln.bbox[3] for ln in s.page.lines)
    h = s.page.lines[5].bbox[3] - s.page.lines[5].bbox[1]
    d = ImageDraw.Draw(page)
    txt, font = "Report of the standing committee", _font(int(h * 0.9))
    x = right - 0.55 * d.textlength(txt, font=font)
    d.text((x, bottom + 2 * h), txt, font=font, fill=0)
    x0, _, x1, _ = d.textbbox((x, bottom + 2 * h), txt, font=font)

    def below():
        return [ln.bbox for ln in segment(binarize(page)) if ln.bbox[1] > bottom + h]

    assert [(b[0], b[2]) for b in below()] == [(pytest.approx(x0, abs=3), pytest.approx(x1, abs=3))]
    monkeypatch.setattr(S, "MARGIN_EDGE", float("inf"))  # any rest of the line passes
    assert len(below()) == 2

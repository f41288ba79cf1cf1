"""Tests for the synthetic data generators: determinism, exact boxes, page truth, validation."""
from __future__ import annotations

import json
import math
import pickle
import random
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from ocrcore.containers import Page
from ocrcore.synth import (
    CAPTCHA_CHARSET,
    DEFAULT_LINE_CHARSET,
    KINDS,
    FontError,
    default_params,
    generate,
    make_generator,
    validate_params,
)
from ocrcore.synth.corpus import random_text
from ocrcore.synth.degrade import map_boxes, rotate
from ocrcore.synth.fonts import discover_fonts, load_font

SMALL_PAGE = {"dpi": 80}

CASES = [
    ("captcha", {}),
    ("captcha", {"style": "lib"}),
    ("lines", {}),
    ("pages", SMALL_PAGE),
]


def _inside(box, outer) -> bool:
    return outer[0] <= box[0] <= box[2] <= outer[2] and outer[1] <= box[1] <= box[3] <= outer[3]


def _truth(s):
    return (s.text, s.chars, s.page.to_dict() if s.page else None, json.dumps(s.meta, sort_keys=True))


@pytest.mark.parametrize("kind,params", CASES, ids=lambda x: str(x))
def test_deterministic_and_index_dependent(kind, params):
    gen = make_generator(kind, params)
    a, b, c = gen(7, 3), gen(7, 3), gen(7, 4)
    assert a.image.mode == "L"
    assert a.image.tobytes() == b.image.tobytes()
    assert _truth(a) == _truth(b)
    assert a.id == b.id != c.id
    assert a.image.tobytes() != c.image.tobytes()
    # a fresh generator (as in another process) and the one-shot API agree
    assert generate(kind, 7, 3, params).image.tobytes() == a.image.tobytes()
    restored = pickle.loads(pickle.dumps(gen))
    assert restored(7, 3).image.tobytes() == a.image.tobytes()


def test_lib_captcha_leaves_global_random_alone():
    random.seed(123)
    state = random.getstate()
    make_generator("captcha", {"style": "lib"})(0, 0)
    assert random.getstate() == state


def test_captcha_defaults_match_keras_dataset_shape():
    gen = make_generator("captcha")
    for i in range(5):
        s = gen(0, i)
        assert s.image.size == (200, 50) and s.image.mode == "L"
        assert len(s.text) == 5 and set(s.text) <= set(CAPTCHA_CHARSET)
        assert len(CAPTCHA_CHARSET) == 19
        arr = np.asarray(s.image)
        bg = np.median(arr)
        assert [c for c, _ in s.chars] == list(s.text)
        for _, box in s.chars:
            assert _inside(box, (0, 0, 200, 50)) and box[2] > box[0] and box[3] > box[1]
            assert arr[box[1] : box[3], box[0] : box[2]].min() < bg - 60


def test_captcha_length_range_and_charset():
    gen = make_generator("captcha", {"min_length": 3, "max_length": 7, "charset": "ABC123"})
    lengths = {len(gen(1, i).text) for i in range(30)}
    assert lengths <= set(range(3, 8)) and len(lengths) > 2
    assert len(generate("captcha", 0, 0, {"length": 4, "style": "lib"}).text) == 4


def _ink_checks(img: Image.Image, chars, dark: int = 128, coverage: float = 0.99):
    arr = np.asarray(img)
    w, h = img.size
    covered = np.zeros_like(arr, dtype=bool)
    for ch, box in chars:
        assert _inside(box, (0, 0, w, h)), (ch, box)
        region = arr[box[1] : box[3], box[0] : box[2]]
        assert region.size and region.min() < dark, (ch, box)
        covered[box[1] : box[3], box[0] : box[2]] = True
    ink = arr < dark
    assert covered[ink].mean() >= coverage


def test_clean_lines_boxes_cover_ink():
    gen = make_generator("lines", {"degrade": 0})
    for i in range(12):
        s = gen(5, i)
        assert s.text == s.text.strip() and "  " not in s.text
        assert [c for c, _ in s.chars] == [c for c in s.text if c != " "]
        _ink_checks(s.image, s.chars, dark=160)
        assert s.meta["degradations"] == [] and s.meta["font"]


def test_degraded_lines_boxes_stay_in_image():
    gen = make_generator("lines", {"degrade": 1.0, "min_chars": 3, "max_chars": 20})
    names = set()
    for i in range(10):
        s = gen(2, i)
        w, h = s.image.size
        assert 3 <= len(s.text) <= 20
        assert all(_inside(b, (0, 0, w, h)) for _, b in s.chars)
        names |= {d["name"] for d in s.meta["degradations"]}
    assert len(names) >= 4


def test_lines_respect_user_charset():
    charset = "abcdefghijklmnopqrstuvwxyz0123456789 "
    gen = make_generator("lines", {"charset": charset, "degrade": 0, "max_height": 30})
    for i in range(5):
        assert set(gen(0, i).text) <= set(charset)


def test_random_text_invariants():
    rng = np.random.default_rng(0)
    for _ in range(300):
        t = random_text(rng, 5, 70)
        assert 5 <= len(t) <= 70 and t == t.strip() and "  " not in t
        assert set(t) <= set(DEFAULT_LINE_CHARSET)
    assert set(random_text(rng, 10, 20, "0123456789")) <= set("0123456789")
    with pytest.raises(ValueError, match="sentence_start"):
        random_text(rng, 5, 10, sentence_start=1.5)


def test_symbols_bring_the_characters_prose_lacks():
    """Technical tokens (citations, formulas, addresses) put every printable ASCII symbol into the
    text; without them a model never learns ``[`` or ``=``. Prose alone holds none of them, and a
    restricted charset still holds."""
    rare = set("#*+<=>@[\\]^_{|}~")
    rng = np.random.default_rng(1)
    texts = [random_text(rng, 5, 70, symbols=0.05) for _ in range(1500)]
    seen = set("".join(texts))
    assert rare <= seen, sorted(rare - seen)
    assert all(t == t.strip() and "  " not in t and 5 <= len(t) <= 70 for t in texts)
    assert seen <= set(DEFAULT_LINE_CHARSET)
    prose = "".join(random_text(rng, 5, 70) for _ in range(1500))
    assert not set(prose) & rare
    letters = "abcdefghijklmnopqrstuvwxyz ,."
    assert set("".join(random_text(rng, 5, 70, letters, symbols=0.3) for _ in range(200))) <= set(letters)
    with pytest.raises(ValueError, match="symbols"):
        random_text(rng, 5, 10, symbols=0.9)
    assert rare & set("".join(generate("lines", 4, i).text for i in range(300)))  # on by default for lines
    with pytest.raises(ValueError, match="symbols"):
        validate_params("lines", {"symbols": 2})


def test_lines_start_mid_sentence_by_default():
    """Lines cut from running text mostly begin in lowercase; sentence_start=1 always opens one."""
    def lower_starts(params):
        texts = [generate("lines", 9, i, params).text for i in range(60)]
        return sum(t[:1].islower() for t in texts)

    assert lower_starts({}) >= 30
    assert lower_starts({"sentence_start": 1.0}) == 0


def _unskew(box, angle, w, h):
    """Centre of a box rotated back by ``-angle`` (undoing the page skew)."""
    cx, cy = (box[0] + box[2]) / 2 - w / 2, (box[1] + box[3]) / 2 - h / 2
    a = math.radians(-angle)
    return (w / 2 + math.cos(a) * cx + math.sin(a) * cy, h / 2 - math.sin(a) * cx + math.cos(a) * cy)


@pytest.mark.parametrize("columns", [1, 2])
def test_page_truth_is_consistent(columns):
    gen = make_generator("pages", {"dpi": 90, "columns": columns, "degrade": 0, "max_skew": 2.0})
    for i in range(2):
        s = gen(11, i)
        page = s.page
        assert isinstance(page, Page)
        w, h = s.image.size
        assert (page.width, page.height) == (w, h) == (round(210 / 25.4 * 90), round(297 / 25.4 * 90))
        assert page.text == s.text and len(page.lines) > 10
        assert abs(s.meta["skew_deg"]) <= 2.0 and s.meta["columns"] == columns
        flat = []
        for line in page.lines:
            assert _inside(line.bbox, (0, 0, w, h))
            assert line.text.split(" ") == [wd.text for wd in line.words]
            for word in line.words:
                assert _inside(word.bbox, line.bbox)
                assert word.text == "".join(c.text for c in word.chars)
                for c in word.chars:
                    assert _inside(c.bbox, word.bbox)
                    flat.append((c.text, c.bbox))
        assert flat == s.chars
        assert {ln.column for ln in page.lines} == set(range(columns))
        # reading order: column by column, top to bottom once the skew is undone
        cols = [ln.column for ln in page.lines]
        assert cols == sorted(cols)
        for col in range(columns):
            ys = [_unskew(ln.bbox, s.meta["skew_deg"], w, h)[1] for ln in page.lines if ln.column == col]
            assert ys == sorted(ys)
        if columns == 2:
            x0 = [_unskew(ln.bbox, s.meta["skew_deg"], w, h)[0] for ln in page.lines if ln.column == 1]
            x1 = [_unskew(ln.bbox, s.meta["skew_deg"], w, h)[0] for ln in page.lines if ln.column == 0]
            assert min(x0) > max(x1) - 1
        _ink_checks(s.image, s.chars, dark=200, coverage=0.0)


def test_page_default_size_and_unskewed_boxes():
    s = generate("pages", 0, 1, {"dpi": 80, "max_skew": 0.0, "degrade": 0})
    assert s.meta["skew_deg"] == 0.0
    _ink_checks(s.image, s.chars, dark=200, coverage=0.0)
    params = validate_params("pages")
    assert params["dpi"] == 300 and params["columns"] == "random"


@pytest.mark.parametrize(
    "kind,params,needle",
    [
        ("nope", {}, "unknown synthetic kind"),
        ("lines", {"colour": 1}, "unknown parameter"),
        ("captcha", {"charset": ""}, "charset"),
        ("captcha", {"charset": "aab"}, "duplicate"),
        ("captcha", {"charset": "ab c"}, "charset contains"),
        ("lines", {"charset": "ab\tc"}, "charset contains"),
        ("lines", {"charset": "ab\x07"}, "charset contains"),
        ("pages", {"charset": "abc"}, "space"),
        ("captcha", {"length": 0}, "length"),
        ("captcha", {"min_length": 6, "max_length": 4}, "greater than"),
        ("captcha", {"length": 5, "min_length": 4}, "either length"),
        ("captcha", {"width": 40}, "too small"),
        ("captcha", {"style": "fancy"}, "style"),
        ("lines", {"min_chars": 0}, "min_chars"),
        ("lines", {"min_height": 4}, "too small"),
        ("lines", {"max_chars": 3, "min_chars": 9}, "greater than"),
        ("lines", {"degrade": 1.5}, "degrade"),
        ("lines", {"min_chars": True}, "integer"),
        ("lines", {"fonts": []}, "fonts"),
        ("lines", {"fonts": "/usr/share/fonts"}, "fonts"),
        ("lines", {"fonts": ["/no/such/font.ttf"]}, "does not exist"),
        ("lines", {"font_classes": ["gothic"]}, "font_classes"),
        ("pages", {"columns": 3}, "columns"),
        ("pages", {"figures": 1.5}, "figures"),
        ("pages", {"underlines": -0.2}, "underlines"),
        ("pages", {"symbols": -0.1}, "symbols"),
        ("pages", {"max_skew": 45}, "max_skew"),
        ("pages", {"curl": 0.5}, "curl"),
        ("pages", {"show_through": 0.9}, "show_through"),
        ("pages", {"highlights": 1.5}, "highlights"),
        ("pages", {"dpi": 50, "min_pt": 5}, "too small"),
    ],
)
def test_validation_errors(kind, params, needle):
    with pytest.raises(ValueError, match=needle):
        validate_params(kind, params)


def test_defaults_validate_and_are_json():
    for kind in KINDS:
        p = validate_params(kind, None)
        assert p == default_params(kind)
        json.dumps(p)


@pytest.mark.parametrize(
    "kind,params",
    [("captcha", {"length": 4}), ("captcha", {"min_length": 2}), ("lines", {"font_styles": ["bold"]}), ("pages", {"columns": 2})],
)
def test_validation_is_idempotent(kind, params):
    once = validate_params(kind, params)
    assert validate_params(kind, once) == once


def test_bad_font_file_names_path(tmp_path):
    bad = tmp_path / "broken.ttf"
    bad.write_bytes(b"this is not a font")
    with pytest.raises(FontError, match="broken.ttf"):
        load_font(str(bad), 20)
    with pytest.raises(FontError, match="broken.ttf"):
        make_generator("lines", {"fonts": [str(bad)]})
    assert issubclass(FontError, ValueError)


def test_font_discovery_and_explicit_fonts():
    fonts = discover_fonts()
    assert fonts, "no system fonts: run `make setup`"
    assert [f.path for f in fonts] == sorted(f.path for f in fonts)
    assert not any("symbol" in f.family.lower() or "math" in f.family.lower() for f in fonts)
    assert {f.font_class for f in fonts} >= {"serif", "sans"}
    one = fonts[0].path
    s = generate("lines", 0, 0, {"fonts": [one], "degrade": 0})
    assert s.meta["font"] == one


def test_rotation_point_map_matches_pixels():
    arr = np.full((120, 200), 255, np.uint8)
    arr[30:40, 50:70] = 0
    out, pmap = rotate(Image.fromarray(arr), 12.0, expand=True)
    box = map_boxes([(50, 30, 70, 40)], pmap, out.size)[0]
    ink = Image.fromarray(((np.asarray(out) < 128) * 255).astype(np.uint8)).getbbox()
    assert all(abs(a - b) <= 1 for a, b in zip(box, ink))
    assert map_boxes([(-50, -50, 500, 500)], None, (200, 120)) == [(0, 0, 200, 120)]


def test_ocrcore_synth_imports_no_orchestration():
    code = (
        "import sys, ocrcore.synth, ocrcore.synth.pages, ocrcore.synth.lines, ocrcore.synth.captcha;"
        "bad=[m for m in ('prefect','dask','distributed') if m in sys.modules];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_underlines_draw_strokes_and_leave_the_text_alone():
    """``underlines`` adds strokes under runs of words and nothing else (not text: the truth is
    the plain page's); at 0 the page is the very page drawn before the parameter existed."""
    plain = generate("pages", 77, 0, {"dpi": 100})
    same = generate("pages", 77, 0, {"dpi": 100, "underlines": 0.0})
    assert np.array_equal(np.asarray(plain.image), np.asarray(same.image))
    under = generate("pages", 77, 0, {"dpi": 100, "underlines": 0.2})
    assert under.text == plain.text and under.meta["underlined_words"] > 20
    assert plain.meta["underlined_words"] == 0
    a, b = (np.asarray(x.image, dtype=np.int16) for x in (plain, under))
    darker = b < a - 60
    assert darker.sum() > 500 and not (b > a + 60).any()  # strokes added, nothing taken away
    rows = np.flatnonzero(darker.any(axis=1))
    assert darker[rows].sum(axis=1).max() > 40  # long and horizontal


def test_highlights_tint_the_paper_under_runs_of_words():
    """``highlights`` marks runs of body words as a highlighter does: an RGB page whose grey is
    the plain page's but under the marks, where the paper is tinted (darker in the channels the
    dye cuts, as light there as before in the one it passes) and the ink stays dark; the text
    and boxes are the plain page's."""
    plain = generate("pages", 77, 0, {"dpi": 100})
    marked = generate("pages", 77, 0, {"dpi": 100, "highlights": 0.3})
    assert plain.meta["highlights"] is None and plain.image.mode == "L"
    m = marked.meta["highlights"]
    assert marked.image.mode == "RGB" and m["words"] > 20 and m["marks"] >= 5 and 1 <= len(m["pens"]) <= 2
    assert marked.text == plain.text and marked.page == plain.page
    g = np.asarray(plain.image, np.int16)
    rgb = np.asarray(marked.image, np.int16)
    dyed = rgb.min(axis=2) < rgb.max(axis=2) - 40  # tinted pixels
    assert dyed.sum() > 2000
    assert np.abs(rgb.max(axis=2) - g)[dyed].mean() < 25  # the channel the dye passes: the page as it was
    assert np.abs(rgb.min(axis=2) - g)[dyed].mean() > 60
    assert (rgb.max(axis=2) <= g + 2).all()  # a mark never lightens the page, nor its ink


def test_annotations_are_pen_marks_over_the_plain_page():
    """``annotations`` has a reader write on the page with a ballpoint: an RGB page whose pixels
    are the plain page's but where the pen went, dark there (darker in the channels the ink
    cuts), with notes in a side margin; the text and boxes are the plain page's. Pages the
    draw skips stay grey and plain."""
    plain = generate("pages", 77, 0, {"dpi": 100})
    pen = generate("pages", 77, 0, {"dpi": 100, "annotations": 1.0})
    assert plain.meta["annotations"] is None and plain.image.mode == "L"
    m = pen.meta["annotations"]
    assert pen.image.mode == "RGB" and m["pen"] in ("blue", "black", "red") and m["notes"] >= 1
    assert pen.text == plain.text and pen.page == plain.page
    g = np.asarray(plain.image, np.int16)
    rgb = np.asarray(pen.image, np.int16)
    inked = rgb.max(axis=2) < g - 40
    assert 300 < inked.sum() < 0.02 * g.size  # strokes, not a wash
    assert (rgb.max(axis=2) <= g + 2).all()  # a pen never lightens the page
    assert (np.abs(rgb.max(axis=2) - g) <= 2).mean() > 0.95  # elsewhere the page as it was
    boxes = [ln.bbox for ln in pen.page.lines]
    left = min(b[0] for b in boxes)
    right = max(b[2] for b in boxes)
    ys, xs = np.nonzero(inked)
    assert ((xs < left) | (xs >= right)).sum() > 100  # notes and ticks in a margin
    skipped = generate("pages", 77, 0, {"dpi": 100, "annotations": 0.01})
    assert skipped.meta["annotations"] is None and skipped.image == plain.image


def test_stamps_are_coloured_ink_over_the_plain_page():
    """``stamps`` presses one or two rubber stamps on the page: an RGB page whose pixels are the
    plain page's but where the stamp's ink went, coloured there (one channel passing, the others
    cut) and never lighter; type under a stamp as dark as it was. The text and boxes are the
    plain page's; pages the draw skips stay grey and plain."""
    plain = generate("pages", 77, 2, {"dpi": 100})
    stamped = generate("pages", 77, 2, {"dpi": 100, "stamps": 1.0})
    assert plain.meta["stamps"] is None and plain.image.mode == "L"
    m = stamped.meta["stamps"]
    assert stamped.image.mode == "RGB" and 1 <= len(m["stamps"]) <= 2 and len(m["pens"]) == len(m["stamps"])
    assert all(st["kind"] in ("box", "oval", "plain") and st["where"] in ("text", "top", "bottom") for st in m["stamps"])
    assert stamped.text == plain.text and stamped.page == plain.page
    g = np.asarray(plain.image, np.int16)
    rgb = np.asarray(stamped.image, np.int16)
    hi, lo = rgb.max(axis=2), rgb.min(axis=2)
    inked = rgb.mean(axis=2) < g - 40
    assert 300 < inked.sum() < 0.05 * g.size  # strokes and letters, not a wash
    assert np.median(((hi - lo) / np.maximum(hi, 1))[inked]) > 0.4  # coloured ink
    assert (hi <= g + 2).all()  # a stamp never lightens the page
    assert (np.abs(hi - g) <= 2).mean() > 0.9  # elsewhere the page as it was
    assert (rgb.max(axis=2)[g < 60] < 100).all()  # type under a stamp stays dark
    skipped = generate("pages", 77, 2, {"dpi": 100, "stamps": 0.01})
    assert skipped.meta["stamps"] is None and skipped.image == plain.image


def test_typed_pages_and_lines_are_struck_unevenly_with_exact_boxes():
    """``typewriter`` types the page or line: a Courier-like face, one ragged column, each letter
    struck as one machine strikes it (a letter's strikes differ in darkness, a type bar lands
    off the line the same way each time); every character's box holds its ink and the ink lies
    in the boxes. Pages and lines the draw skips are the plain ones."""
    from ocrcore.synth.fonts import FontSet
    from ocrcore.synth.render import Glyph, Placed
    from ocrcore.synth.typewriter import machine, strike, type_font

    params = {"dpi": 150, "typewriter": 1.0, "degrade": 0.0, "max_skew": 0.0}
    s = generate("pages", 77, 1, params)
    m = s.meta["typewriter"]
    assert m is not None and s.meta["columns"] == 1 and not s.meta["justified"]
    assert "mono" in s.meta["font_body"].lower() and s.meta["size_px"] in (21, 25)  # 10 or 12 pt at 150 dpi
    g = np.asarray(s.image, np.int16)
    inked = g < s.meta["paper"] - 60
    in_boxes = np.zeros_like(inked)
    lightest = {}
    for ch, (x0, y0, x1, y1) in s.chars:
        assert (g[y0:y1, x0:x1] < s.meta["paper"] - 60).any(), ch  # each box holds ink
        in_boxes[max(0, y0 - 1):y1 + 1, max(0, x0 - 1):x1 + 1] = True
        lightest.setdefault(ch, []).append(int(g[y0:y1, x0:x1].min()))
    specks = s.meta["specks"]
    assert (inked & ~in_boxes).sum() <= 60 * specks  # ink outside the boxes: the page's specks only
    darkest = [np.ptp(v) for ch, v in lightest.items() if len(v) >= 20]
    assert darkest and np.median(darkest) > 30  # the same letter struck harder and lighter
    # one bar, one offset: strikes of a letter land off the line alike (jitter aside)
    rng = np.random.default_rng(3)
    mach = machine(rng, load_font(type_font(FontSet(discover_fonts()), rng).path, 50))
    mach.jitter, mach.bar = 0.0, 4.0
    glyph = Glyph(Image.new("L", (20, 30), 255), 2, 10)
    first = [Placed("k", 0, 100, glyph) for _ in range(5)]
    strike(mach, first)
    assert {p.y for p in first} == {100 + int(round(mach.bars["k"][1]))}
    assert {p.x for p in first} == {int(round(mach.bars["k"][0]))}
    line = generate("lines", 5, 2, {"typewriter": 1.0})
    assert line.meta["typewriter"] is not None and line.meta["font_class"] == "mono"
    skipped = generate("pages", 77, 1, {"dpi": 150, "typewriter": 0.01})
    assert skipped.meta["typewriter"] is None and skipped.image == generate("pages", 77, 1, {"dpi": 150}).image
    assert generate("lines", 5, 2, {"typewriter": 0.0}).image == generate("lines", 5, 2).image
    with pytest.raises(FontError, match="monospaced"):  # said when the generator is made, not mid-shard
        make_generator("pages", {"typewriter": 0.5, "font_classes": ["serif"]})


def test_typed_carbon_copies_are_blurred_lighter_and_keep_the_truth():
    """``carbon`` makes typed pages carbon copies: the same text, each letter where the top
    sheet's is (within the blur; a faint stroke's end may fade out of the box), its ink lighter,
    each strike blurred (wider, more of it mid-grey), a blue carbon a colour page whose ink is
    bluer than it is red; typed lines too. Refused without typed text;
    a draw that skips the copy leaves the typed page as it was."""
    from ocrcore.synth.fonts import FontSet
    from ocrcore.synth.render import Placed, glyph
    from ocrcore.synth.typewriter import machine, strike, type_font

    base = {"dpi": 150, "typewriter": 1.0, "degrade": 0.0, "max_skew": 0.0}
    for index, colour in ((1, "blue"), (2, "black")):
        top = generate("pages", 77, index, base)
        copy = generate("pages", 77, index, {**base, "carbon": 1.0})
        c = copy.meta["carbon"]
        assert c["colour"] == colour and c["blur_px"] > 0 and 1 <= c["copy"] <= 3 and c["smudges"]
        assert copy.text == top.text and [ch for ch, _ in copy.chars] == [ch for ch, _ in top.chars]
        shift = [max(abs(a - b) for a, b in zip(bt, bc)) for (_, bt), (_, bc) in zip(top.chars, copy.chars)]
        assert np.median(shift) <= 1 and np.percentile(shift, 99) <= 2 + 2.5 * c["blur_px"] and max(shift) <= 6
        darkest = []
        for s in (top, copy):
            g = np.asarray(s.image.convert("L"), np.float32)
            mins = np.array([g[y0:y1, x0:x1].min() for _, (x0, y0, x1, y1) in s.chars])
            assert mins.max() < s.meta["paper"] - 8  # every box holds ink (a blurred speck's faint)
            assert np.mean(mins < s.meta["paper"] - 40) > 0.99
            darkest.append(float(np.median(mins)))
        assert darkest[1] > darkest[0] + 30  # lighter
        if colour == "blue":
            assert copy.image.mode == "RGB"
            a = np.asarray(copy.image, np.float32)
            ink = a.mean(axis=2) < np.percentile(a.mean(axis=2), 3)
            assert a[ink][:, 2].mean() > a[ink][:, 0].mean() + 30
        else:
            assert copy.image.mode == "L"
    # blurred: the same strike through the sheets is wider and softer (more of its ink mid-grey)
    font = load_font(type_font(FontSet(discover_fonts()), np.random.default_rng(0)).path, 50)
    struck = []
    for blur in (0.0, 1.5):
        mach = machine(np.random.default_rng(4), font)
        mach.blur, mach.grain, mach.tilt, mach.pressure = blur, 0.0, 0.0, (1.0, 1.0)
        placed = [Placed("o", 0, 0, glyph(font, "o"))]
        strike(mach, placed)
        a = np.asarray(placed[0].glyph.mask, np.float32) / 255.0
        struck.append((a.shape, float(((a > 0.2) & (a < 0.8)).sum() / (a >= 0.2).sum())))
    assert struck[1][0][0] >= struck[0][0][0] + 2 and struck[1][1] > struck[0][1] + 0.1
    line = generate("lines", 5, 1, {"typewriter": 1.0, "carbon": 1.0})
    assert line.meta["carbon"]["blur_px"] > 0 and line.image.mode == "L"
    assert line.text == generate("lines", 5, 1, {"typewriter": 1.0}).text
    for kind in ("pages", "lines"):
        with pytest.raises(ValueError, match="set typewriter > 0"):
            make_generator(kind, {"carbon": 0.5})
    skipped = generate("pages", 77, 2, {**base, "carbon": 0.01})
    assert skipped.meta["carbon"] is None and skipped.image == generate("pages", 77, 2, base).image


def test_dot_matrix_printouts_print_letters_as_dots_and_keep_the_truth():
    """``dotmatrix`` prints pages (and lines) as a dot-matrix printer does: each letter the dots
    of a small bitmap font (in 9-pin draft they stand apart: several blobs a letter, where print
    makes one), a broken pin's row left out of every letter, on fan-fold paper (pale bars,
    sprocket holes); every character's box holds its dots. Typed text is not printed too; a
    share out of range is refused; a draw that skips leaves the page as it was."""
    from scipy import ndimage as ndi

    from ocrcore.synth.dotmatrix import Printer, continuous_form, dot_print, dot_face, printer
    from ocrcore.synth.fonts import FontSet
    from ocrcore.synth.render import Placed, glyph

    base = {"dpi": 300, "degrade": 0.0, "max_skew": 0.0}
    s = generate("pages", 77, 2, {**base, "dotmatrix": 1.0})
    d = s.meta["dotmatrix"]
    assert d["pins"] == 9 and d["dead_pin_row"] is not None and d["lines_per_inch"] in (3.0, 6.0, 8.0)
    assert "".join(ch for ch, _ in s.chars) == s.text.replace(" ", "").replace("\n", "")
    g = np.asarray(s.image.convert("L"))
    blobs = []
    for ch, (x0, y0, x1, y1) in s.chars:
        assert g[y0:y1, x0:x1].min() < s.meta["paper"] - 60  # every box holds ink
        if ch.isalnum() and ch not in "il1":
            blobs.append(ndi.label(g[y0:y1, x0:x1] < s.meta["paper"] - 60)[1])
    assert np.median(blobs) >= 4  # dots, not strokes
    plain = generate("pages", 77, 2, base)
    assert plain.meta["dotmatrix"] is None and np.median([
        ndi.label(np.asarray(plain.image)[y0:y1, x0:x1] < plain.meta["paper"] - 60)[1]
        for ch, (x0, y0, x1, y1) in plain.chars if ch.isalnum() and ch not in "il1"]) == 1

    # a broken pin: its row of dots is missing from every letter that has ink there
    fonts = FontSet(discover_fonts())
    face = dot_face(fonts, np.random.default_rng(0))
    font = load_font(face.path, 50)
    pr = printer(np.random.default_rng(3), face, font, 300)
    pr.jitter, pr.grain, pr.fade, pr.ink, pr.bold = 0.0, 0.0, 0.0, (1.0, 1.0), False
    rows = pr.cells_of("H")[:, 0]
    pr.dead, pr.dead_ink = int(np.median(rows)), 0.0  # the crossbar's row
    placed = [Placed("H", 0, 0, glyph(font, "H"))]
    dot_print(pr, placed)
    a = np.asarray(placed[0].glyph.mask, np.float32) / 255.0
    y = int(round(pr.lift + (pr.dead + 0.5) * pr.pitch)) - placed[0].glyph.dy
    assert isinstance(pr, Printer) and a[y].max() < 0.35 * a.max(axis=1).max()  # no dot on the broken pin's row
    assert a[y - int(pr.pitch)].max() > 0.8  # the stems above it printed

    # fan-fold paper: bars every other half inch, holes in the tractor strips
    img = Image.new("L", (600, 900), 250)
    form = {}
    for seed in range(40):
        img = Image.new("L", (600, 900), 250)
        form = continuous_form(img, np.random.default_rng(seed), 100)
        if form["bars"] and form["holes"]:
            break
    a = np.asarray(img)
    assert form["bars"] and form["holes"] and (a == 250 - form["bars"]["depth"]).mean() > 0.3
    assert (a <= form["holes"]["level"]).sum() > 0 and (a[:, 50:550] <= form["holes"]["level"]).sum() == 0

    line = generate("lines", 5, 2, {"dotmatrix": 1.0})
    assert line.meta["dotmatrix"]["pins"] in (9, 24) and line.text
    assert generate("lines", 5, 2, {"dotmatrix": 1.0, "typewriter": 1.0}).meta["dotmatrix"] is None
    with pytest.raises(ValueError, match="dotmatrix"):
        make_generator("pages", {"dotmatrix": 1.5})
    skipped = generate("pages", 77, 3, {**base, "dotmatrix": 0.01, "dpi": 100})
    assert skipped.meta["dotmatrix"] is None and skipped.image == generate("pages", 77, 3, {**base, "dpi": 100}).image


def test_dot_matrix_line_spacing_can_be_asked_for():
    """``dotmatrix_lpi`` sets the printouts' lines an inch (the benchmark's 8 lines an inch,
    where a 9-pin printer's rows fill the whole pitch): drawn after the usual draw, so the printer,
    the text and the paper stay as drawn; 8 only where the printer's letters fit (9 pins); values
    other than 0, 3, 6, 8 are refused."""
    base = {"dpi": 100, "degrade": 0.0, "dotmatrix": 1.0}
    drawn = generate("pages", 77, 3, base)
    assert drawn.meta["dotmatrix"]["lines_per_inch"] == 6.0
    assert generate("pages", 77, 3, {**base, "dotmatrix_lpi": 0}).image == drawn.image
    eight = generate("pages", 77, 3, {**base, "dotmatrix_lpi": 8})
    d8 = eight.meta["dotmatrix"]
    assert d8["lines_per_inch"] == 8.0 and d8["pins"] == 9 and d8["face"] == drawn.meta["dotmatrix"]["face"]
    assert eight.meta["leading_px"] == 100 / 8 and eight.text.split()[:5] == drawn.text.split()[:5]
    wide = generate("pages", 77, 8, {**base, "dotmatrix_lpi": 8}).meta["dotmatrix"]  # a 24-pin printer
    assert wide["pins"] == 24 and wide["lines_per_inch"] == 6.0  # keeps its drawn spacing
    assert generate("pages", 77, 8, {**base, "dotmatrix_lpi": 3}).meta["dotmatrix"]["lines_per_inch"] == 3.0
    with pytest.raises(ValueError, match="dotmatrix_lpi"):
        make_generator("pages", {"dotmatrix": 1.0, "dotmatrix_lpi": 7})


def test_shards_written_before_a_neutral_parameter_existed_still_match():
    """A shard stored before ``underlines`` (or ``figures``, or page ``symbols``) existed holds the
    very samples the neutral value draws, so a rerun after an upgrade resumes instead of
    refusing it; any other value, seed or kind is still a different dataset."""
    from ocrcore.synth.dataset import same_dataset, shard_params

    params = validate_params("pages", {"dpi": 100})
    ident = shard_params("pages", 1, params, 10, 5)
    old = {k: v for k, v in params.items() if k not in ("underlines", "figures")}
    assert same_dataset(shard_params("pages", 1, old, 10, 5), ident)
    assert not same_dataset(shard_params("pages", 1, old, 10, 5),
                            shard_params("pages", 1, {**params, "underlines": 0.1}, 10, 5))
    assert not same_dataset(shard_params("pages", 2, old, 10, 5), ident)
    assert not same_dataset(shard_params("pages", 1, old, 10, 4), ident)
    lines = validate_params("lines", {})
    no_sym = {k: v for k, v in lines.items() if k != "symbols"}
    assert not same_dataset(shard_params("lines", 1, no_sym, 10, 5), shard_params("lines", 1, lines, 10, 5))
    assert same_dataset(shard_params("lines", 1, no_sym, 10, 5),
                        shard_params("lines", 1, {**lines, "symbols": 0.0}, 10, 5))


def test_cells_are_short_figures_and_labels():
    """``cells`` makes lines table cells: mostly one short token, with the signed figures,
    percentages and amounts tables print; at 0 a line is the line drawn before it existed."""
    texts = [generate("lines", 21, i, {"cells": 1.0}).text for i in range(200)]
    assert all(t and t == t.strip() and len(t) <= 70 for t in texts)
    assert sum(len(t) <= 12 for t in texts) >= 120
    assert sum(any(c.isdigit() for c in t) for t in texts) >= 80
    assert {"+", "-", "%", "$", "(", ","} <= set("".join(texts))
    assert any(t[0] == "+" and t[1:2].isdigit() for t in texts)
    plain = generate("lines", 21, 3)
    assert np.array_equal(np.asarray(plain.image), np.asarray(generate("lines", 21, 3, {"cells": 0.0}).image))
    with pytest.raises(ValueError, match="cells"):
        validate_params("lines", {"cells": 1.5})


def test_tables_are_cells_in_row_order_and_leave_the_text_alone():
    """A page with ``tables`` holds a table whose cells are lines of the truth, row by row and
    left to right; the text before and after it is the plain page's (its own random stream), and
    at 0 the page is the very page drawn before the parameter existed."""
    plain = generate("pages", 77, 1, {"dpi": 100})
    assert np.array_equal(np.asarray(plain.image), np.asarray(generate("pages", 77, 1, {"dpi": 100, "tables": 0.0}).image))
    assert plain.meta["tables"] == []
    seen_rules = set()
    for i in range(6):
        plain = generate("pages", 77, i, {"dpi": 100})
        tab = generate("pages", 77, i, {"dpi": 100, "tables": 1.0})
        if not tab.meta["tables"]:
            continue
        (t,) = tab.meta["tables"]
        seen_rules.add(t["rules"])
        x0, y0, x1, y1 = t["bbox"]

        def in_table(ln):
            cx, cy = (ln.bbox[0] + ln.bbox[2]) / 2, (ln.bbox[1] + ln.bbox[3]) / 2
            return x0 <= cx <= x1 and y0 <= cy <= y1

        cells = [ln for ln in tab.page.lines if in_table(ln)]
        assert len(cells) >= 6
        k = tab.page.lines.index(cells[0])
        assert tab.page.lines[k:k + len(cells)] == cells  # one run in reading order
        w, h = tab.image.size
        centres = [_unskew(ln.bbox, tab.meta["skew_deg"], w, h) for ln in cells]
        row_h = min(ln.bbox[3] - ln.bbox[1] for ln in cells)
        for (xa, ya), (xb, yb) in zip(centres, centres[1:]):
            same_row = abs(yb - ya) < 0.5 * row_h
            assert (same_row and xb > xa) or (yb > ya + 0.5 * row_h and xb < xa)
        rest = [ln.text for ln in tab.page.lines if not in_table(ln)]
        assert rest == [ln.text for ln in plain.page.lines][:len(rest)]
        assert any(any(c.isdigit() for c in ln.text) for ln in cells)
    assert len(seen_rules) >= 2


def test_leading_range_sets_the_line_pitch():
    """``min_leading``/``max_leading`` set the body's line pitch in units of its type size
    (2 and more: double-spaced); the defaults draw the very pages drawn before they existed."""
    wide = generate("pages", 77, 2, {"dpi": 100, "min_leading": 2.0, "max_leading": 2.2})
    assert 2.0 <= wide.meta["leading_px"] / wide.meta["size_px"] <= 2.2
    a = generate("pages", 77, 2, {"dpi": 100})
    b = generate("pages", 77, 2, {"dpi": 100, "min_leading": 1.12, "max_leading": 1.45})
    assert np.array_equal(np.asarray(a.image), np.asarray(b.image))
    with pytest.raises(ValueError, match="leading"):
        validate_params("pages", {"min_leading": 2.5, "max_leading": 2.0})
    with pytest.raises(ValueError, match="leading"):
        validate_params("pages", {"max_leading": 9})


def test_furniture_frames_the_plain_page_in_reading_order():
    """With ``furniture`` a page gets a running head in its top margin (first in the truth), a
    page number in its bottom margin (last) and footnotes in smaller type at the foot of the
    last column (before the page number); the body is the plain page's, cut short where the
    footnotes need room, and at 0 the page is the very page drawn before the parameter existed."""
    plain = generate("pages", 77, 1, {"dpi": 100})
    assert np.array_equal(np.asarray(plain.image), np.asarray(generate("pages", 77, 1, {"dpi": 100, "furniture": 0.0}).image))
    assert plain.meta["furniture"] is None
    seen = {"head": 0, "footnote_lines": 0, "foot": 0}
    for i in range(6):
        plain = generate("pages", 77, i, {"dpi": 100})
        page = generate("pages", 77, i, {"dpi": 100, "furniture": 1.0})
        fu = page.meta["furniture"]
        for k in seen:
            seen[k] += fu[k] > 0
        lines = page.page.lines
        nh, nn, nf = fu["head"], fu["footnote_lines"], fu["foot"]
        body = lines[nh:len(lines) - nn - nf]
        assert [ln.text for ln in body] == [ln.text for ln in plain.page.lines][:len(body)]
        assert len(body) >= 0.8 * len(plain.page.lines)
        w, h = page.image.size
        cy = [_unskew(ln.bbox, page.meta["skew_deg"], w, h)[1] for ln in lines]  # centres, skew undone
        body_cy = cy[nh:len(lines) - nn - nf]
        assert all(y < min(body_cy) for y in cy[:nh])
        assert all(y > max(body_cy) for y in cy[len(lines) - nf:])
        assert all(any(c.isdigit() for c in ln.text) for ln in lines[len(lines) - nf:])
        notes = lines[len(lines) - nn - nf:len(lines) - nf]
        if notes:
            assert notes[0].text.startswith("1 ")
            assert np.median([ln.bbox[3] - ln.bbox[1] for ln in notes]) < np.median([ln.bbox[3] - ln.bbox[1] for ln in body])
            col = notes[0].column
            last_col = [y for ln, y in zip(body, body_cy) if ln.column == col]
            assert max(last_col) < cy[len(lines) - nn - nf]
    assert all(v >= 2 for v in seen.values()), seen
    letters = "abcdefghijklmnopqrstuvwxyz "  # no digits: no page numbers, footnotes unnumbered
    page = generate("pages", 77, 5, {"dpi": 100, "furniture": 1.0, "charset": letters})
    assert page.meta["furniture"]["footnote_lines"] > 0
    assert set("".join(ln.text for ln in page.page.lines)) <= set(letters)
    with pytest.raises(ValueError, match="furniture"):
        validate_params("pages", {"furniture": 1.5})


def test_show_through_darkens_the_paper_with_the_back_page_mirrored():
    """``show_through`` lays the back of the sheet (another page, mirrored, blurred) under the
    front: the text and every box are the page's own, the front's ink is untouched, the paper
    darkens by at most the strength and where the mirrored back page has ink, and at 0 the page
    is the very page drawn before the parameter existed. (Unskewed: the back page is part of
    the sheet, so it turns with the page's skew.)"""
    plain = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "max_skew": 0})
    same = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "max_skew": 0, "show_through": 0.0})
    assert np.array_equal(np.asarray(plain.image), np.asarray(same.image)) and plain.meta["show_through"] is None
    st = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "max_skew": 0, "show_through": 0.4})
    assert st.text == plain.text and [b for _, b in st.chars] == [b for _, b in plain.chars]
    meta = st.meta["show_through"]
    assert meta["strength"] == 0.4 and meta["seed"] != 77
    a = np.asarray(plain.image, np.float32)
    b = np.asarray(st.image, np.float32)
    assert (b <= a + 0.5).all() and (b >= 0.6 * a - 1).all()  # darker, by at most the strength
    paper = a > 250
    darker = paper & (b < a - 0.1 * 255)  # paper shaded by the back page's strokes
    assert 0.01 < darker[paper].mean() < 0.5
    back = generate("pages", meta["seed"], 0, {"dpi": 100, "degrade": 0, "max_skew": 0}).image
    back_ink = np.asarray(back.transpose(Image.Transpose.FLIP_LEFT_RIGHT), np.float32) < 128
    assert back_ink[darker].mean() > 5 * back_ink[paper & ~darker].mean()  # the shade is the back page, mirrored
    # the same page again: the back page comes from a stream of its own, so the draw repeats
    again = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "max_skew": 0, "show_through": 0.4})
    assert np.array_equal(np.asarray(again.image), b.astype(np.uint8))


def test_curl_bends_the_lines_and_their_boxes_with_them():
    """``curl`` bends the page into a spine: the text is the flat page's, boxes near the spine
    move with their ink (each still holds dark pixels; covering the ink as before), and at 0
    the page is the very page drawn before the parameter existed."""
    flat = generate("pages", 77, 0, {"dpi": 100, "degrade": 0})
    same = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "curl": 0.0})
    assert np.array_equal(np.asarray(flat.image), np.asarray(same.image)) and flat.meta["curl"] is None
    bent = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "curl": 0.04})
    assert bent.text == flat.text and bent.meta["curl"]["spine"] in ("left", "right")
    _ink_checks(bent.image, bent.chars, dark=150, coverage=0.97)  # the fold's shadow is paper
    moved = [abs(b[1] - a[1]) for (_, a), (_, b) in zip(flat.chars, bent.chars)]
    assert max(moved) >= 0.01 * bent.image.height and np.median(moved) <= 1


def test_ligatures_set_one_glyph_and_split_its_box_among_its_letters():
    """Where a font has them, ``fi``/``ffl``/... are drawn once as the font's ligature; each
    letter gets a box of its own (adjacent parts of the ligature's ink, in order), the text
    after moves as the ligature's advance says, and a font without ligatures is unchanged."""
    from ocrcore.synth.render import LIGATURES, advances, has_ligature, paste, place

    infos = discover_fonts()
    with_liga = next(load_font(f.path, 48) for f in infos if has_ligature(load_font(f.path, 48), "ffi"))
    text = "an office baffles fluffy fish"
    steps = advances(with_liga, text)
    plain, joined = place(with_liga, text, 4, 4, steps), place(with_liga, text, 4, 4, steps, ligatures=True)
    assert [p.ch for p in joined] == list(text)
    assert all(p.clip is None and p.drawn for p in plain)
    parts = [p for p in joined if p.clip is not None]
    # "ffi" of office, "ffl" of baffles, "fl" and "ff" of fluffy, "fi" of fish: 3 + 3 + 2 + 2 + 2 letters
    assert len(parts) == 12 and sum(not p.drawn for p in parts) == 7
    for a, b in zip(parts, parts[1:]):
        if not b.drawn:  # the next letter of the same ligature
            assert a.box[2] == b.box[0] and a.box[0] < a.box[2] and a.x == b.x
    imgs = []
    for placed in (plain, joined):
        img = Image.new("L", (int(sum(steps)) + 8, 80), 255)
        paste(img, placed, 0)
        imgs.append(img)
        _ink_checks(img, [(p.ch, p.box) for p in placed if p.ch != " "], dark=160)
    assert imgs[0].tobytes() != imgs[1].tobytes()
    assert LIGATURES[0] == "ffi"  # longest first, so "ffi" is not set as "ff" + "i"

    without = next(load_font(f.path, 48) for f in infos if not has_ligature(load_font(f.path, 48), "fi"))
    st = advances(without, text)
    assert [(p.x, p.box) for p in place(without, text, 0, 0, st, ligatures=True)] == \
        [(p.x, p.box) for p in place(without, text, 0, 0, st)]


def test_ligature_lines_and_pages_keep_their_text_and_truth():
    """``ligatures`` changes how lines and pages are drawn, not what they say: the same text,
    the same characters in order, boxes still on the ink; at 0 they are the samples drawn
    before the parameter existed (its draw comes from a stream of its own)."""
    gen0, gen1 = make_generator("lines", {"degrade": 0}), make_generator("lines", {"degrade": 0, "ligatures": 1.0})
    changed = 0
    for i in range(40):
        a, b = gen0(11, i), gen1(11, i)
        assert a.text == b.text and [c for c, _ in a.chars] == [c for c, _ in b.chars]
        assert a.meta["ligatures"] is False
        if a.image.tobytes() != b.image.tobytes():
            assert b.meta["ligatures"] and any(s in b.text for s in ("fi", "fl", "ff"))
            _ink_checks(b.image, b.chars, dark=160)
            changed += 1
    assert changed >= 2
    assert generate("lines", 11, 3, {"degrade": 0, "ligatures": 0.0}).image.tobytes() == gen0(11, 3).image.tobytes()
    plain = generate("pages", 77, 0, {"dpi": 100, "degrade": 0})
    set_ = generate("pages", 77, 0, {"dpi": 100, "degrade": 0, "ligatures": 1.0})
    assert set_.meta["ligatures"] and not plain.meta["ligatures"]
    assert set_.text == plain.text and [c for c, _ in set_.chars] == [c for c, _ in plain.chars]
    assert set_.image.tobytes() != plain.image.tobytes()
    page = Page.from_dict(set_.page.to_dict())
    for line in page.lines:
        for word in line.words:
            for ch in word.chars:
                assert _inside(ch.bbox, word.bbox), (ch.text, ch.bbox, word.bbox)


def test_typeset_draws_curly_quotes_and_dashes_for_ascii_labels():
    from ocrcore.synth.typography import EM_DASH, EN_DASH, typeset

    label, drawn = typeset('He said "don\'t go" -- then left - pages 12-15, re-do (\'a\') x-1')
    assert label == 'He said "don\'t go" - then left - pages 12-15, re-do (\'a\') x-1'
    assert drawn == (f"He said \u201cdon\u2019t go\u201d {EM_DASH} then left {EN_DASH} pages 12{EN_DASH}15, re-do "
                     "(\u2018a\u2019) x-1")
    assert len(label) == len(drawn)
    assert typeset("plain words") == ("plain words", "plain words")


def test_typographic_lines_and_pages_draw_other_glyphs_under_the_same_labels():
    """``typographic`` draws quotes and dashes as print has them; the labels stay ASCII (what the
    charset's ``ocr`` normalization folds print to) and every box stays on its glyph's ink."""
    from ocrcore.synth.typography import typeset

    gen0 = make_generator("lines", {"degrade": 0})
    gen1 = make_generator("lines", {"degrade": 0, "typographic": 1.0})
    changed = 0
    for i in range(60):
        a, b = gen0(13, i), gen1(13, i)
        assert b.text == (typeset(a.text)[0] if b.meta["typographic"] else a.text)
        assert [c for c, _ in b.chars] == [c for c in b.text if c != " "] and b.text.isascii()
        if a.image.tobytes() != b.image.tobytes():
            assert b.meta["typographic"] and any(c in a.text for c in "'\"-")
            _ink_checks(b.image, b.chars, dark=160)
            changed += 1
        if b.meta["font_class"] == "mono":
            assert not b.meta["typographic"]
    assert changed >= 5
    plain = generate("pages", 77, 1, {"dpi": 100, "degrade": 0})
    typo = generate("pages", 77, 1, {"dpi": 100, "degrade": 0, "typographic": 1.0, "ligatures": 1.0})
    assert typo.meta["typographic"] and typo.text.replace("--", "-") == plain.text.replace("--", "-")
    assert any(c in plain.text for c in "'\"-")
    assert typo.image.tobytes() != plain.image.tobytes()

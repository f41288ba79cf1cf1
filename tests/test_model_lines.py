"""Line preprocessing and augmentation: shapes, errors, determinism."""
import numpy as np
import pytest

from ocrcore.model.augment import AugmentConfig, augment_line
from ocrcore.model.lines import LineImageError, from_uint8, pad_batch, scale_to_height, to_uint8


def test_scale_to_height_keeps_aspect_and_range():
    img = np.ones((50, 200), np.float32)
    img[20:30, 50:150] = 0.0
    out = scale_to_height(img, 32)
    assert out.shape == (32, 128) and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0 and out.min() < 0.2


@pytest.mark.parametrize("shape,reason", [((3, 100), "too_small"), ((10, 9000), "too_wide"), ((4, 4, 3), "bad_shape")])
def test_scale_errors(shape, reason):
    with pytest.raises(LineImageError) as ei:
        scale_to_height(np.ones(shape, np.float32), 32, max_width=4096)
    assert ei.value.reason == reason


def test_pad_batch():
    x, w = pad_batch([np.zeros((8, 5), np.float32), np.zeros((8, 2), np.float32)], min_width=4, margin=3)
    assert x.shape == (2, 1, 8, 8) and w.tolist() == [5, 4]
    assert float(x[1, 0, :, 2:].min()) == 1.0  # white padding
    x64, w64 = pad_batch([np.zeros((8, 5), np.float32), np.zeros((8, 70), np.float32)], margin=3, multiple=64)
    assert x64.shape == (2, 1, 8, 128) and w64.tolist() == [5, 70] and float(x64[1, 0, :, 70:].min()) == 1.0
    with pytest.raises(ValueError):
        pad_batch([np.zeros((8, 5)), np.zeros((9, 5))])


def test_uint8_round_trip():
    a = np.linspace(0, 1, 256, dtype=np.float32).reshape(16, 16)
    assert np.abs(from_uint8(to_uint8(a)) - a).max() <= 0.5 / 255 + 1e-6


def test_augment_is_seeded_and_keeps_height():
    img = np.ones((32, 100), np.float32)
    img[10:22, 10:90] = 0.0
    always = AugmentConfig(p_stretch=1, p_affine=1, p_elastic=1, p_morph=1, p_blur=1, p_contrast=1, p_noise=1)
    a = augment_line(img, np.random.default_rng(5), always)
    b = augment_line(img, np.random.default_rng(5), always)
    c = augment_line(img, np.random.default_rng(6), always)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.shape[0] == 32 and 80 <= a.shape[1] <= 120 and a.min() >= 0 and a.max() <= 1
    never = AugmentConfig(p_stretch=0, p_affine=0, p_elastic=0, p_morph=0, p_blur=0, p_contrast=0, p_noise=0)
    assert np.array_equal(augment_line(img, np.random.default_rng(0), never), img)
    with pytest.raises(ValueError, match="unknown augmentation"):
        AugmentConfig.from_dict({"p_snow": 1})


def _line(seed: int = 3, index: int = 0):
    """A synthetic printed line as float grey (1.0 = white) with its text and character boxes."""
    from ocrcore.imageio import to_gray
    from ocrcore.synth import generate

    s = generate("lines", seed, index, {"degrade": 0.0})
    return to_gray(s.image), s.text, s.chars


def _framed(g, top, bottom, left=0, right=0):
    h, w = g.shape
    out = np.ones((h + top + bottom, w + left + right), np.float32)
    out[top:top + h, left:left + w] = g
    return out


def test_normalize_line_gives_one_geometry_whatever_the_margins():
    """The same line with wide margins, cut to its ink, or as rendered comes out framed alike:
    the same height and the same baseline row, so the model sees the text at one size."""
    from ocrcore.model.lines import ink_mask, normalize_line, text_band

    g, _, _ = _line()
    rows = np.flatnonzero((g < 0.5).any(axis=1))
    cols = np.flatnonzero((g < 0.5).any(axis=0))
    tight = g[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
    wide = _framed(g, g.shape[0], g.shape[0], 40, 40)
    outs = [normalize_line(v) for v in (g, tight, wide)]
    heights = [o.shape[0] for o, _ in outs]
    bases = [text_band(ink_mask(o)[0])[0] for o, _ in outs]
    assert max(heights) - min(heights) <= 2 and max(bases) - min(bases) <= 1.0
    base, xh, _, _ = text_band(ink_mask(outs[0][0])[0])
    assert abs(base - 1.8 * xh) <= 1.0 and abs(outs[0][0].shape[0] - base - 0.8 * xh) <= 1.0
    # the ink gets the same white before and after it: columns added (x_offset > 0) or cut (< 0)
    side = int(round(0.6 * xh))
    for (o, off), (src, c0) in zip(outs, ((g, cols[0]), (tight, 0), (wide, cols[0] + 40))):
        assert off == side - c0
        o_cols = np.flatnonzero((o < 0.5).any(axis=0))
        assert o_cols[0] == side and o.shape[1] - 1 - o_cols[-1] == side
    assert outs[1][1] > 0 and outs[2][1] < 0
    blank = np.ones((30, 80), np.float32)
    assert normalize_line(blank)[0] is not None and normalize_line(blank)[1] == 0
    assert normalize_line(blank)[0].shape == blank.shape  # nothing to measure: unchanged


def test_shipped_model_reads_lines_whatever_their_margins():
    """Scaled to the model's height, wide margins shrink the text below what the model learned;
    re-framed (the shipped model's ``line_norm``) the same lines read as they do as rendered.
    Character columns still index the image passed in."""
    from ocrcore.model.predict import Recognizer

    rec = Recognizer.load(num_threads=1)
    assert rec.line_norm and rec.line_norm["segmented"] is False
    lines = [_line(11, k) for k in range(4)]
    as_rendered = [r.text for r in rec.recognize_lines([g for g, _, _ in lines], reframe=False)]
    wide = [_framed(g, g.shape[0], g.shape[0], 30, 30) for g, _, _ in lines]
    raw = rec.recognize_lines(wide, reframe=False)
    fixed = rec.recognize_lines(wide)  # the model's line_norm
    assert [r.text for r in fixed] == as_rendered
    assert sum(a != b for a, b in zip(as_rendered, [r.text for r in raw])) >= 3  # without it: misread
    g, text, chars = lines[0]
    rows = np.flatnonzero((g < 0.5).any(axis=1))
    cols = np.flatnonzero((g < 0.5).any(axis=0))
    tight = g[rows[0]: rows[-1] + 1, cols[0]:]  # ink from column 0: re-framing adds columns on the left
    r = rec.recognize_lines([tight])[0]
    visible = [c for c in r.chars if not c.text.isspace()]
    assert r.text == as_rendered[0] and all(0 <= c.x0 <= c.x1 <= tight.shape[1] for c in r.chars)
    # each character's columns overlap its glyph's true box (shifted into the cut image)
    truth = [b for ch, b in chars if not ch.isspace()]
    assert len(visible) == len(truth)
    hits = sum(min(c.x1, b[2] - cols[0]) > max(c.x0, b[0] - cols[0]) for c, b in zip(visible, truth))
    assert hits >= 0.9 * len(truth)


def test_binarize_augmentation_is_hard_edged_and_off_by_default():
    from ocrcore.model.augment import binarize_line

    g, _, _ = _line()
    small = scale_to_height(g, 32)
    dull = 0.4 + 0.4 * small  # grey ink on grey paper
    bw = binarize_line(dull, 0.5)
    assert bw.shape == small.shape and bw.min() == 0.0 and (bw == 1.0).mean() > 0.6  # black on white
    assert abs((bw < 0.5).sum() - (small < 0.5).sum()) < 0.3 * (small < 0.5).sum()  # the same strokes
    assert (binarize_line(dull, 0.3) < 0.5).sum() < (binarize_line(dull, 0.7) < 0.5).sum()  # level: thinner
    assert binarize_line(np.ones((32, 50), np.float32), 0.5).min() == 1.0
    # p_binarize 0 (the default) draws nothing, so earlier training runs replay exactly
    cfg_on = AugmentConfig(p_binarize=1.0, p_stretch=0, p_affine=0, p_elastic=0, p_morph=0, p_blur=0,
                           p_contrast=0, p_noise=0)
    out = augment_line(dull, np.random.default_rng(1), cfg_on)
    assert out.min() == 0.0 and (out == 1.0).mean() > 0.6
    rng_a, rng_b = np.random.default_rng(2), np.random.default_rng(2)
    augment_line(small, rng_a, AugmentConfig())
    augment_line(small, rng_b, AugmentConfig(p_binarize=0.0))
    assert rng_a.random() == rng_b.random()


def test_binarize_scale_below_one_coarsens_and_a_fixed_scale_draws_nothing_more():
    from ocrcore.model.augment import binarize_line

    g, _, _ = _line()
    small = scale_to_height(g, 32)
    fine, coarse = binarize_line(small, 0.5, 2.0), binarize_line(small, 0.5, 0.7)
    assert fine.shape == coarse.shape == small.shape
    # a low-resolution scan scaled up strays further from the line than one binarized at
    # twice the height does: its steps are larger and thin strokes break
    assert np.abs(coarse - small).mean() > np.abs(fine - small).mean()
    assert np.array_equal(binarize_line(small, 0.5), fine)  # 2.0 is the default
    # the default scale is fixed: binarizing draws the level only, as before the option existed
    base = dict(p_binarize=1.0, p_stretch=0, p_affine=0, p_elastic=0, p_morph=0, p_blur=0, p_contrast=0, p_noise=0)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    augment_line(small, rng_a, AugmentConfig(**base))
    rng_b.random(8), rng_b.uniform(0.35, 0.65)  # one draw per transform's probability, then the level
    assert rng_a.random() == rng_b.random()
    # a range draws the scale after the level
    rng_d, rng_e = np.random.default_rng(4), np.random.default_rng(4)
    augment_line(small, rng_d, AugmentConfig(**base, binarize_scale=(0.7, 2.0)))
    rng_e.random(8), rng_e.uniform(0.35, 0.65), rng_e.uniform(0.7, 2.0)
    assert rng_d.random() == rng_e.random()

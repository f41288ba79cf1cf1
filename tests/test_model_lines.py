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

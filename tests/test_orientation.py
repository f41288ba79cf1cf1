"""Pages given upside down or sideways: the turn is found and boxes land on the page as given."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from ocrcore.orientation import (FLIP_MARGIN, TURNS, boxes_to_original, check_orientation, page_to_original,
                                 turn_image)
from ocrcore.synth import generate


@pytest.mark.parametrize("turn", TURNS)
def test_boxes_found_on_a_turned_page_map_back_exactly(turn):
    rng = np.random.default_rng(turn)
    W, H = 37, 23
    for _ in range(20):
        x0, y0 = int(rng.integers(0, W - 1)), int(rng.integers(0, H - 1))
        x1, y1 = int(rng.integers(x0 + 1, W + 1)), int(rng.integers(y0 + 1, H + 1))
        mask = np.zeros((H, W), np.uint8)
        mask[y0:y1, x0:x1] = 255
        turned = np.asarray(turn_image(Image.fromarray(mask), turn))
        ys, xs = np.nonzero(turned)
        found = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
        assert boxes_to_original([found], turn, W, H).tolist() == [[x0, y0, x1, y1]]


def _crop(upright: bool) -> np.ndarray:
    """A 'line' whose dark corner tells which way up it is (top-left when upright)."""
    a = np.ones((10, 60), np.float32)
    a[:3, :5] = 0.0
    return a if upright else np.ascontiguousarray(a[::-1, ::-1])


def _read(crops):
    """A reader that is sure of upright lines and unsure of turned ones."""
    return [SimpleNamespace(confidence=0.99 if c[0, 0] == 0.0 else 0.85) for c in crops]


def test_upright_and_upside_down_pages_are_told_apart():
    never = lambda im: pytest.fail("a page that reads well must not be segmented again")  # noqa: E731
    page = Image.new("L", (8, 8))
    up = check_orientation(page, [_crop(True)] * 5, _read, never)
    assert up.turn == 0 and set(up.readings) == set(range(5))
    down = check_orientation(page, [_crop(False)] * 5, _read, never)
    assert down.turn == 180 and down.scores[180] > down.scores[0]
    # lines too short to judge (narrower than 3x their height) leave the page as given
    short = np.ones((10, 20), np.float32)
    assert check_orientation(page, [short] * 5, _read, lambda im: []).turn == 0


def test_a_page_that_reads_poorly_both_ways_is_tried_a_quarter_turned():
    junk = np.full((10, 40), 0.5, np.float32)
    read = lambda crops: [SimpleNamespace(confidence=0.99 if c[0, 0] == 0.0 else 0.6) for c in crops]  # noqa: E731
    page = Image.new("L", (30, 20))
    asked = []

    def lines_of(upright_good):
        def f(im):
            asked.append(im.size)
            return [_crop(upright_good)] * 3
        return f

    assert check_orientation(page, [junk] * 4, read, lines_of(True)).turn == 90
    assert asked == [(20, 30)]  # the page turned a quarter
    assert check_orientation(page, [junk] * 4, read, lines_of(False)).turn == 270
    # nothing reads well whichever way: keep the page as given
    flat = lambda crops: [SimpleNamespace(confidence=0.6) for _ in crops]  # noqa: E731
    assert check_orientation(page, [junk] * 4, flat, lines_of(True)).turn == 0


def test_small_differences_do_not_turn_a_page():
    close = lambda crops: [SimpleNamespace(confidence=0.95 if c[0, 0] == 0.0 else 0.95 + FLIP_MARGIN / 2)  # noqa: E731
                           for c in crops]
    assert check_orientation(Image.new("L", (8, 8)), [_crop(True)] * 4, close, lambda im: []).turn == 0


@pytest.fixture(scope="module")
def reader():
    from ocrcore.model.predict import Recognizer
    from ocrcore.recognize import PageRecognizer

    return PageRecognizer(Recognizer.load(num_threads=1))


@pytest.fixture(scope="module")
def page():
    from ocrcore.pagescore import truth_page
    from ocrcore.synth.dataset import sample_to_row

    s = generate("pages", 9, 0, {"dpi": 150})
    return s.image, truth_page(sample_to_row(s, "pages"))


@pytest.mark.parametrize("given_turn", [180, 90])
def test_shipped_model_reads_turned_pages_as_if_upright(reader, page, given_turn):
    """A page given upside down or sideways reads like the upright page, boxes on the page given."""
    from ocrcore.pagescore import PageScore, score_page

    image, truth = page
    upright = reader(image, page_id="p")
    assert reader.last_check.turn == 0
    given = turn_image(image, (360 - given_turn) % 360)  # the page as a scanner might give it
    found = reader(given, page_id="p")
    assert reader.last_check.turn == given_turn
    assert (found.width, found.height) == given.size
    assert found.text == upright.text
    acc = PageScore()
    score_page(page_to_original(truth, given_turn, given.width, given.height), found, acc)
    summary = acc.summary()
    assert summary["cer"] <= 0.02 and summary["char_iou"] >= 0.8 and summary["word_iou"] >= 0.9, summary
    # read as given, the same page is noise
    from ocrcore.recognize import PageRecognizer

    as_given = PageRecognizer(reader.recognizer, orient=False)(given, page_id="p")
    acc = PageScore()
    score_page(page_to_original(truth, given_turn, given.width, given.height), as_given, acc)
    assert acc.summary()["cer"] > 0.3

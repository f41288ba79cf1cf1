"""CTC decoding on hand-made probability arrays: text, frame intervals, confidences."""
import numpy as np
import pytest

from ocrcore.model.charset import Charset
from ocrcore.model.ctc import align, batch_greedy_decode, beam_decode, greedy_decode

CS = Charset(["a", "b"], normalize="none")  # classes: 0 blank, 1 'a', 2 'b'


def probs(rows):
    """Rows of (best class, its probability); the rest is spread evenly."""
    out = np.zeros((len(rows), 3))
    for t, (k, p) in enumerate(rows):
        out[t] = (1 - p) / 2
        out[t, k] = p
    return out


def test_greedy_intervals_and_confidences():
    p = probs([(1, 0.9), (1, 0.7), (0, 0.8), (2, 0.6), (2, 0.95), (2, 0.5), (0, 0.9), (1, 0.4)])
    hyp = greedy_decode(p, CS)
    assert hyp.text == "aba"
    assert [(c.text, c.start, c.end) for c in hyp.chars] == [("a", 0, 2), ("b", 3, 6), ("a", 7, 8)]
    assert [c.confidence for c in hyp.chars] == pytest.approx([0.9, 0.95, 0.4])
    assert hyp.confidence == pytest.approx(np.mean([0.9, 0.95, 0.4]))


def test_repeat_needs_blank_and_log_probs_equivalent():
    p = probs([(1, 0.8), (0, 0.6), (1, 0.7), (1, 0.9)])
    hyp = greedy_decode(np.log(p), CS, log_probs=True)
    assert hyp.text == "aa"
    assert [(c.start, c.end) for c in hyp.chars] == [(0, 1), (2, 4)]
    assert [c.confidence for c in hyp.chars] == pytest.approx([0.8, 0.9])


def test_empty_line_confidence_is_mean_blank_certainty():
    p = probs([(0, 0.9), (0, 0.7)])
    hyp = greedy_decode(p, CS)
    assert hyp.text == "" and hyp.chars == []
    assert hyp.confidence == pytest.approx(0.8)
    assert greedy_decode(np.zeros((0, 3)), CS).text == ""


def test_without_charset_texts_are_class_indices():
    assert greedy_decode(probs([(2, 0.9)])).text == "2"


def test_batch_decode_uses_true_lengths():
    a = probs([(1, 0.9), (0, 0.9), (2, 0.9), (2, 0.9)])
    b = probs([(2, 0.9), (0, 0.9), (1, 0.9), (1, 0.9)])  # last two frames are padding
    batch = np.log(np.stack([a, b], axis=1))  # T x N x C
    hyps = batch_greedy_decode(batch, [4, 2], CS)
    assert [h.text for h in hyps] == ["ab", "b"]
    assert hyps[1].chars[0].end == 1
    with pytest.raises(ValueError):
        batch_greedy_decode(batch, [4], CS)


def test_forced_alignment_matches_greedy_on_clean_input():
    p = probs([(1, 0.9), (1, 0.7), (0, 0.8), (2, 0.6), (2, 0.95), (0, 0.9)])
    g, a = greedy_decode(p, CS), align(p, [1, 2], CS)
    assert a.text == g.text == "ab"
    assert [(c.start, c.end, c.confidence) for c in a.chars] == [(c.start, c.end, c.confidence) for c in g.chars]
    with pytest.raises(ValueError, match="cannot hold"):
        align(p[:2], [1, 1, 1], CS)


def test_beam_search_and_lexicon():
    p = probs([(1, 0.9), (0, 0.9), (2, 0.55)])
    p[2] = [0.0, 0.45, 0.55]
    assert greedy_decode(p, CS).text == "ab"
    assert beam_decode(p, CS).text == "ab"
    hyp = beam_decode(p, CS, lexicon=["aa", "b"])
    assert hyp.text == "aa"
    assert [(c.start, c.end) for c in hyp.chars] == [(0, 1), (2, 3)]

"""Charset codec: blank at 0, round trips, normalisation options, out-of-charset errors."""
import pytest

from ocrcore.model.charset import Charset, UnknownCharactersError, normalize_text


def test_round_trip_and_blank():
    cs = Charset.from_texts(["hello", "world"])
    assert cs.chars == sorted(set("helloworld"))
    assert cs.num_classes == len(cs.chars) + 1
    ids = cs.encode("hello")
    assert 0 not in ids
    assert cs.decode(ids) == "hello"
    assert cs.decode([0] + ids + [0]) == "hello"  # blanks dropped
    assert cs.label(0) == ""
    with pytest.raises(ValueError):
        cs.decode([cs.num_classes])


def test_json_round_trip():
    cs = Charset(list("ab c"), normalize="nfc")
    back = Charset.from_json(cs.to_json())
    assert back == cs and back.normalize == "nfc"
    with pytest.raises(ValueError, match="unknown charset keys"):
        Charset.from_dict({"chars": ["a"], "normalize": "ocr", "colour": 1})


def test_invalid_construction():
    with pytest.raises(ValueError, match="duplicate"):
        Charset(["a", "a"])
    with pytest.raises(ValueError, match="single characters"):
        Charset(["ab"])
    with pytest.raises(ValueError, match="normalization"):
        Charset(["a"], normalize="lower")
    with pytest.raises(ValueError):
        Charset.from_texts(["", ""])


def test_normalizations():
    s = "\u201cHe\u2019s\u201d \u2014 e\u0301\ufb01n\u00a0 x  \u2013y\u2026"
    assert normalize_text(s, "none") == s
    assert normalize_text("e\u0301", "nfc") == "\u00e9"
    assert normalize_text(s, "ocr") == "\"He's\" - \u00e9fin x -y..."


def test_default_normalization_is_ocr_and_applies_on_encode():
    cs = Charset.from_texts(["it's - fine"])
    assert cs.normalize == "ocr"
    assert cs.decode(cs.encode("it\u2019s \u2013 \ufb01ne")) == "it's - fine"


def test_unknown_chars_raise_listing_them():
    cs = Charset(list("abc"))
    with pytest.raises(UnknownCharactersError) as ei:
        cs.encode("abxxz")
    err = ei.value
    assert isinstance(err, ValueError)
    assert err.chars == {"x": 2, "z": 1}
    assert "'x'" in str(err) and "'z'" in str(err) and "U+0078" in str(err)


def test_unknown_chars_report_instead_of_raise():
    cs = Charset(list("abc"))
    assert cs.encode("abxz", errors="skip") == cs.encode("ab")
    assert cs.unknown_chars("abxz") == {"x": 1, "z": 1}

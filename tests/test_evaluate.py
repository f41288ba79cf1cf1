"""CER / WER / sequence accuracy, and evaluate() over records with bad inputs."""
import io

import pytest
import torch
from PIL import Image

from ocrcore.evaluate import evaluate, score
from ocrcore.model.charset import Charset
from ocrcore.model.checkpoint import save_model
from ocrcore.model.crnn import build_model
from ocrcore.model.predict import Recognizer

torch.set_num_threads(1)


def test_score_definitions():
    r = score(["hello world", "abc", "xyz"], ["hallo world", "abc", ""], ids=["a", "b", "c"])
    assert r.char_errors == 1 + 0 + 3 and r.char_total == 11 + 3 + 3
    assert r.cer == pytest.approx(4 / 17)
    assert r.word_errors == 1 + 0 + 1 and r.word_total == 2 + 1 + 1
    assert r.wer == pytest.approx(2 / 4)
    assert r.seq_acc == pytest.approx(1 / 3)
    assert [s.id for s in r.samples] == ["a", "b", "c"] and r.samples[1].correct
    text = r.summary()
    assert "CER 23.53%" in text and "WER 50.00%" in text and "sequence accuracy 33.33%" in text
    assert r.to_jsonl().count("\n") == 3 and r.to_dict(samples=False)["n"] == 3


def test_reference_normalisation():
    assert score(["\u201cok\u201d"], ['"ok"'], normalize="ocr").cer == 0.0
    assert score(["\u201cok\u201d"], ['"ok"'], normalize="none").cer == pytest.approx(0.5)
    with pytest.raises(ValueError):
        score(["a"], [])


@pytest.fixture(scope="module")
def recognizer():
    torch.manual_seed(0)
    cs = Charset(list("ab"))
    m = build_model({"arch": "crnn_small", "num_classes": cs.num_classes, "hidden": 8,
                     "blocks": [[4, 1, 2, 2], [4, 1, 2, 2], [8, 1, 2, 1], [8, 1, 2, 1]]})
    return Recognizer(m, cs, device="cpu")


def png(img):
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def test_evaluate_records_with_bad_images(recognizer):
    recs = [
        {"id": "ok", "text": "ab", "image": {"bytes": png(Image.new("L", (64, 32), 255)), "path": None}},
        {"id": "rgb", "text": "a", "image": {"bytes": png(Image.new("RGB", (40, 20), "white")), "path": None}},
        {"id": "broken", "text": "ab", "image": {"bytes": b"garbage", "path": None}},
        {"id": "tiny", "text": "b", "image": {"bytes": png(Image.new("L", (2, 2), 255)), "path": None}},
    ]
    r = evaluate(recognizer, recs)
    assert r.n == 4 and r.n_errors == 2
    by_id = {s.id: s for s in r.samples}
    assert by_id["broken"].error.startswith("not_an_image") and by_id["broken"].prediction == ""
    assert by_id["tiny"].error.startswith("too_small")
    assert r.char_total == 6
    only = evaluate(recognizer, recs, ids={"ok"})
    assert only.n == 1
    with pytest.raises(ValueError, match="nothing to evaluate"):
        evaluate(recognizer, recs, ids={"missing"})


def test_evaluate_loads_model_urls(recognizer, tmp_path):
    save_model(str(tmp_path / "m"), recognizer.model, recognizer.charset)
    recs = [{"id": "x", "text": "a", "image": {"bytes": png(Image.new("L", (64, 32), 255)), "path": None}}]
    r = evaluate(str(tmp_path / "m"), recs)
    assert r.n == 1 and 0.0 <= r.samples[0].confidence <= 1.0


def test_precision_options(recognizer):
    """bf16 inference runs on any CPU (AMX makes it fast) and stays close to fp32; bad values fail."""
    import numpy as np

    from ocrcore.model.predict import cpu_has_fast_bf16, resolve_precision

    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if cpu_has_fast_bf16() else "fp32")
    assert resolve_precision("fp32", cpu) == "fp32"
    with pytest.raises(ValueError, match="CUDA"):
        resolve_precision("fp16", cpu)
    with pytest.raises(ValueError, match="precision must be one of"):
        Recognizer(recognizer.model, recognizer.charset, device="cpu", precision="int4")
    lines = [np.random.default_rng(i).random((32, 40 + 24 * i)).astype(np.float32) for i in range(4)]
    fp32 = Recognizer(recognizer.model, recognizer.charset, device="cpu", precision="fp32").recognize_lines(lines)
    bf16 = Recognizer(recognizer.model, recognizer.charset, device="cpu", precision="bf16").recognize_lines(lines)
    assert len(bf16) == len(fp32) == 4
    assert max(abs(a.confidence - b.confidence) for a, b in zip(fp32, bf16)) < 0.05


def test_evaluate_reframes_lines_as_the_model_says():
    """Lines given with wide white margins: the shipped model (``line_norm`` in its model.json)
    reads them re-framed by default; ``reframe=False`` (``ocr eval --reframe off``) reads them
    as given, where the text comes out too small for it."""
    from ocrcore.synth import generate

    recs = []
    for k in range(4):
        s = generate("lines", 21, k, {"degrade": 0.0})
        wide = Image.new("L", (s.image.width + 60, 3 * s.image.height), 255)
        wide.paste(s.image.convert("L"), (30, s.image.height))
        buf = io.BytesIO()
        wide.save(buf, "PNG")
        recs.append({"id": str(k), "image": {"bytes": buf.getvalue()}, "text": s.text})
    rec = Recognizer.load(num_threads=1)
    default, off = evaluate(rec, recs), evaluate(rec, recs, reframe=False)
    assert default.cer < 0.05 and off.cer > default.cer + 0.2

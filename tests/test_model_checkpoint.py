"""Checkpoints: safetensors + JSON round trip (local and S3), never unpickling, clear errors."""
import json
import os
import pickle

import numpy as np
import pytest
import torch

from ocrcore.model.charset import Charset
from ocrcore.model.checkpoint import CheckpointError, load_model, save_model, sniff
from ocrcore.model.crnn import build_model
from ocrcore.model.predict import Recognizer

torch.set_num_threads(1)

CS = Charset(list("abc"))


def small_model():
    torch.manual_seed(0)
    return build_model({"arch": "crnn_small", "num_classes": CS.num_classes, "hidden": 16,
                        "blocks": [[8, 1, 2, 2], [8, 1, 2, 2], [16, 1, 2, 1], [16, 1, 2, 1]]})


def assert_same_weights(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for k in sa:
        assert torch.equal(sa[k], sb[k]), k


def test_round_trip(tmp_path):
    m = small_model()
    training = {"data": "s3://bucket/data", "steps": 12, "metrics": {"cer": 0.1}, "split": {"seed": 3, "val_fraction": 0.1}}
    written = save_model(str(tmp_path / "m"), m, CS, training=training)
    assert sorted(os.listdir(tmp_path / "m")) == ["model.json", "model.safetensors"]
    m2, cs2, cfg = load_model(str(tmp_path / "m"))
    assert_same_weights(m, m2)
    assert cs2 == CS and cfg == written
    assert cfg["model"] == m.config and cfg["input_height"] == 32 and cfg["normalization"] == "ocr"
    assert cfg["training"] == training
    assert not m2.training  # eval mode
    # the json and weights URLs work too
    load_model(str(tmp_path / "m" / "model.json"))
    load_model(str(tmp_path / "m" / "model.safetensors"))


def test_half_precision_file(tmp_path):
    m = small_model()
    save_model(str(tmp_path / "h"), m, CS, dtype=torch.float16)
    m2, _, _ = load_model(str(tmp_path / "h"))
    assert next(m2.parameters()).dtype == torch.float32
    for k, v in m.state_dict().items():
        assert torch.allclose(v.float(), m2.state_dict()[k].float(), atol=1e-2, rtol=1e-2)


class Boom:
    """Unpickling this would create a marker file: proves nothing is unpickled."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_pickle_is_refused_without_unpickling(tmp_path):
    marker = tmp_path / "pwned"
    d = tmp_path / "m"
    save_model(str(d), small_model(), CS)
    (d / "model.safetensors").write_bytes(pickle.dumps(Boom(str(marker)), protocol=4))
    with pytest.raises(CheckpointError, match="pickle"):
        load_model(str(d))
    assert not marker.exists()


def test_torch_save_file_is_refused(tmp_path):
    path = tmp_path / "model.pt"
    torch.save(small_model().state_dict(), path)  # a zip holding a pickle
    assert sniff(path.read_bytes()) == "zip"
    with pytest.raises(CheckpointError, match="zip.*refused|refused"):
        load_model(str(path))
    d = tmp_path / "m"
    save_model(str(d), small_model(), CS)
    (d / "model.safetensors").write_bytes(path.read_bytes())
    with pytest.raises(CheckpointError, match="torch.save"):
        load_model(str(d))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_weights(tmp_path, damage):
    d = tmp_path / "m"
    save_model(str(d), small_model(), CS)
    p = d / "model.safetensors"
    data = p.read_bytes()
    p.write_bytes({"truncate": data[: len(data) // 2], "garbage": os.urandom(1000), "empty": b""}[damage])
    with pytest.raises(CheckpointError, match="safetensors|corrupt"):
        load_model(str(d))


def test_corrupt_or_wrong_json(tmp_path):
    d = tmp_path / "m"
    save_model(str(d), small_model(), CS)
    cfg = json.loads((d / "model.json").read_text())
    (d / "model.json").write_text("{not json")
    with pytest.raises(CheckpointError, match="corrupt JSON"):
        load_model(str(d))
    bad = dict(cfg, model=dict(cfg["model"], colour="red"))
    (d / "model.json").write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match="unknown model config key"):
        load_model(str(d))
    bad = dict(cfg, model=dict(cfg["model"], hidden=32))
    (d / "model.json").write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match="shape mismatch"):
        load_model(str(d))
    bad = dict(cfg, format="something-else")
    (d / "model.json").write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match="format"):
        load_model(str(d))
    bad = dict(cfg, charset={"chars": ["a", "b"], "normalize": "ocr"})
    (d / "model.json").write_text(json.dumps(bad))
    with pytest.raises(CheckpointError, match="classes"):
        load_model(str(d))


def test_missing_keys_and_files(tmp_path):
    from safetensors.torch import save_file

    d = tmp_path / "m"
    m = small_model()
    save_model(str(d), m, CS)
    sd = {k: v for k, v in m.state_dict().items() if not k.startswith("classifier")}
    save_file(sd, str(d / "model.safetensors"))
    with pytest.raises(CheckpointError, match="missing keys.*classifier"):
        load_model(str(d))
    with pytest.raises(CheckpointError, match="not found"):
        load_model(str(tmp_path / "nothing-here"))


def test_recognizer_from_checkpoint(tmp_path):
    save_model(str(tmp_path / "m"), small_model(), CS)
    lines = [np.ones((20, 70), np.float32), np.random.default_rng(0).random((40, 300)).astype(np.float32)]
    exact = Recognizer.load(str(tmp_path / "m"), device="cpu", precision="fp32")
    assert exact.recognize_lines(lines, batch_size=1) == exact.recognize_lines(lines, batch_size=16)  # fp32: exactly
    rec = Recognizer.load(str(tmp_path / "m"), device="cpu", precision="bf16")
    out = rec.recognize_lines(lines, batch_size=1)
    other = rec.recognize_lines(lines, batch_size=16)  # bf16: the same up to rounding
    assert [o.text for o in out] == [o.text for o in other]
    assert all(abs(a.confidence - b.confidence) < 1e-3 for a, b in zip(out, other))
    beam = rec.recognize_lines(lines, decoder="beam", beam_width=4)
    assert [len(b.chars) for b in beam] == [len(b.text) for b in beam]
    for res, img in zip(out, lines):
        assert set(res.text) <= set("abc")
        assert 0.0 <= res.confidence <= 1.0
        for c in res.chars:
            assert 0 <= c.x0 < c.x1 <= img.shape[1] and c.end > c.start


def test_round_trip_on_s3(s3_bucket):
    url = f"{s3_bucket}/models/small"
    m = small_model()
    save_model(url, m, CS, training={"data": "memory://x"})
    m2, cs2, cfg = load_model(url)
    assert_same_weights(m, m2)
    assert cs2 == CS and cfg["training"]["data"] == "memory://x"
    rec = Recognizer.load(url)
    assert len(rec.recognize_lines([np.ones((32, 64), np.float32)])) == 1


def test_average_models_is_the_weighted_mean_and_refuses_other_bases(tmp_path):
    from ocrcore.cli import main as cli_main
    from ocrcore.model.checkpoint import average_models

    a = small_model()
    torch.manual_seed(1)
    b = small_model()
    with torch.no_grad():
        for p in b.parameters():
            p.add_(torch.randn_like(p))
    norm = {"method": "text-band", "above": 1.8, "below": 0.8, "side": 0.6, "segmented": False}
    save_model(str(tmp_path / "a"), a, CS, training={"steps": 1}, line_norm=norm)
    save_model(str(tmp_path / "b"), b, CS, training={"steps": 2}, line_norm=norm)
    cfg = average_models([str(tmp_path / "a"), str(tmp_path / "b")], str(tmp_path / "ab"), weights=[0.25, 0.75])
    m, cs, loaded = load_model(str(tmp_path / "ab"))
    assert cs == CS and loaded == cfg and cfg["line_norm"] == norm
    sa, sb, sm = a.state_dict(), b.state_dict(), m.state_dict()
    for k, v in sm.items():
        if v.is_floating_point():
            assert torch.allclose(v, 0.25 * sa[k] + 0.75 * sb[k], atol=1e-6), k
    assert [p["weight"] for p in cfg["training"]["averaged"]] == [0.25, 0.75]
    assert [p["training"]["steps"] for p in cfg["training"]["averaged"]] == [1, 2]
    # the command line, equal weights by default
    assert cli_main(["average", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "cli")]) == 0
    m2, _, _ = load_model(str(tmp_path / "cli"))
    k = next(k for k, v in sa.items() if v.is_floating_point())
    assert torch.allclose(m2.state_dict()[k], (sa[k] + sb[k]) / 2, atol=1e-6)
    # another geometry, another charset, bad weights: refused with the reason
    save_model(str(tmp_path / "c"), a, CS, training={}, line_norm=None)
    with pytest.raises(CheckpointError, match="line_norm"):
        average_models([str(tmp_path / "a"), str(tmp_path / "c")], str(tmp_path / "x"))
    other = Charset(list("abd"))
    save_model(str(tmp_path / "d"), a, other, training={}, line_norm=norm)
    with pytest.raises(CheckpointError, match="charset"):
        average_models([str(tmp_path / "a"), str(tmp_path / "d")], str(tmp_path / "x"))
    with pytest.raises(CheckpointError, match="summing to 1"):
        average_models([str(tmp_path / "a"), str(tmp_path / "b")], str(tmp_path / "x"), weights=[0.5, 0.6])
    with pytest.raises(CheckpointError, match="at least two"):
        average_models([str(tmp_path / "a")], str(tmp_path / "x"))
    assert not os.path.exists(tmp_path / "x")
    assert cli_main(["average", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "y"),
                     "--weights", "half,half"]) != 0


def test_shipped_model_names_resolve_and_a_missing_one_says_so(tmp_path, monkeypatch):
    from ocrcore.model import predict
    from ocrcore.model.checkpoint import CheckpointError

    assert predict.resolve_model_url(None) == predict.resolve_model_url("shipped") == str(predict.DEFAULT_MODEL_DIR)
    assert predict.resolve_model_url("s3://bucket/models/m1") == "s3://bucket/models/m1"
    monkeypatch.setitem(predict.SHIPPED_NAMES, "shipped-fast", tmp_path / "absent")
    with pytest.raises(CheckpointError, match="not installed"):
        predict.Recognizer.load("shipped-fast")

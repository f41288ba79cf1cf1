"""Training: loss goes down, exact resume, AMP path on CPU, splits, bad data, Parquet input."""
import io
import json

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw, ImageFont

from ocrcore.model.charset import UnknownCharactersError
from ocrcore.model.checkpoint import load_model, read_tensors
from ocrcore.train import (AUTO_EMA_DECAY, EmptyDatasetError, TrainConfig, TrainError, batches_per_epoch, lr_factor,
                           split_from_model_config, split_ids, train)

torch.set_num_threads(1)

ALPHABET = "abcde"
# A tiny network keeps every run here to a second or two.
TINY = {"hidden": 32, "blocks": [[8, 1, 2, 2], [16, 1, 2, 2], [32, 1, 2, 1], [32, 1, 2, 1]], "dropout": 0.1}


def render(text: str, height: int = 24, mode: str = "L", pitch: int = 0) -> bytes:
    if pitch:  # one character every `pitch` pixels (wide glyphs, like captchas)
        img = Image.new("L", (pitch * len(text) + 8, height), 255)
        for i, ch in enumerate(text):
            ImageDraw.Draw(img).text((4 + i * pitch, 2), ch, fill=0, font=ImageFont.load_default(20))
    else:
        img = Image.new("L", (11 * len(text) + 8, height), 255)
        ImageDraw.Draw(img).text((4, 4), text, fill=0, font=ImageFont.load_default(14))
    if mode != "L":
        img = img.convert(mode)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def records(n: int, seed: int = 0, prefix: str = "s"):
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        t = "".join(rng.choice(list(ALPHABET), size=int(rng.integers(2, 5))))
        out.append({"id": f"{prefix}{i:03d}", "image": {"bytes": render(t), "path": None}, "text": t,
                    "width": 0, "height": 0, "source": "test"})
    return out


def cfg(**kw):
    base = dict(model=TINY, batch_size=8, max_steps=12, lr=3e-3, val_every=6, log_every=2, seed=3,
                bucket_batches=2, val_fraction=0.15)
    base.update(kw)
    return TrainConfig(**base)


@pytest.fixture(scope="module")
def recs():
    return records(64)


def test_loss_goes_down(tmp_path, recs):
    events = []
    res = train(cfg(max_steps=48, val_every=24, augment=False), recs, out=str(tmp_path / "m"), progress=events.append)
    losses = [e["loss"] for e in events if e["event"] == "step"]
    assert np.mean(losses[-3:]) < 0.8 * np.mean(losses[:3])
    assert {e["event"] for e in events} >= {"start", "step", "val", "checkpoint", "done"}
    assert res.step == 48 and res.n_train + res.n_val == 64 and len(res.history) == 2
    model, cs, config = load_model(str(tmp_path / "m"))  # best model is loadable
    assert "".join(cs.chars) == ALPHABET
    tr = config["training"]
    assert tr["split"]["seed"] == 0 and tr["split"]["val_fraction"] == 0.15 and tr["steps"] in (24, 48)
    assert tr["metrics"]["cer"] == res.best_metrics["cer"]


def test_validation_loss_ranks_checkpoints_of_equal_cer(tmp_path, recs):
    """Validations of equal CER and sequence accuracy (common on small sets) keep the one of lower
    validation loss, not the first; the loss is recorded in the curve."""
    res = train(cfg(max_steps=60, val_every=6, augment=False, lr=1e-2), recs, out=str(tmp_path / "m"))
    h = res.history
    assert all(e["val_loss"] is not None and 0 < e["val_loss"] < 50 for e in h)
    keys = [(e["cer"], -e["seq_acc"], e["val_loss"]) for e in h]
    assert [e["best"] for e in h] == [k < min(keys[:i], default=(2.0,)) for i, k in enumerate(keys)]
    # the run has a tie that the loss broke: an improvement at the same CER and sequence accuracy
    assert any(h[i]["best"] and keys[i][:2] == min(keys[:i])[:2] for i in range(1, len(h)))
    best = min(range(len(h)), key=lambda i: keys[i])
    _, _, config = load_model(str(tmp_path / "m"))
    assert config["training"]["metrics"]["step"] == h[best]["step"] == res.best_metrics["step"]


@pytest.mark.parametrize("amp", ["off", "bf16"])
def test_resume_is_exact(tmp_path, recs, amp):
    """Straight run == run interrupted mid-way (between checkpoints) and resumed, in fp32 and in
    bf16 autocast (what ``amp="auto"`` picks on CPUs with bf16 hardware)."""
    c = cfg(max_steps=16, val_every=4, checkpoint_every=6, amp=amp)
    a = train(c, recs, out=str(tmp_path / "a"))

    class Interrupt(Exception):
        pass

    def stop_at_9(e):
        if e["event"] == "val" and e["step"] == 8:
            raise Interrupt  # last checkpoint was at step 6: steps 7-8 are redone

    with pytest.raises(Interrupt):
        train(c, recs, out=str(tmp_path / "b"), progress=stop_at_9)
    b = train(c, recs, out=str(tmp_path / "b"))
    assert b.resumed_from_step == 6
    assert a.history == b.history and a.best_metrics == b.best_metrics
    for name in ("model.safetensors", "last/model.safetensors", "last/training_state.safetensors"):
        ta, tb = read_tensors(str(tmp_path / "a" / name)), read_tensors(str(tmp_path / "b" / name))
        assert ta.keys() == tb.keys()
        for k in ta:
            assert torch.equal(ta[k], tb[k]), (name, k)
    # a finished run resumed again does nothing more
    again = train(c, recs, out=str(tmp_path / "b"))
    assert again.step == 16 and again.history == a.history


def _same_result(a_dir, b_dir) -> None:
    for name in ("model.safetensors", "last/model.safetensors", "last/training_state.safetensors"):
        ta, tb = read_tensors(str(a_dir / name)), read_tensors(str(b_dir / name))
        assert ta.keys() == tb.keys()
        for k in ta:
            assert torch.equal(ta[k], tb[k]), (name, k)


def test_kill_while_checkpoint_is_written_resumes_exactly(tmp_path, recs, monkeypatch):
    """A kill can land between any two of a checkpoint's files (weights, config, optimizer state,
    position): wherever it lands, the rerun resumes from a complete checkpoint and ends equal to
    an uninterrupted run. Before, the set was overwritten in place, and a cut after the new
    weights resumed them with the older step and optimizer state."""
    from ocrcore import storage

    c = cfg(max_steps=12, val_every=4, checkpoint_every=4)
    a = train(c, recs, out=str(tmp_path / "a"))
    real_write, real_remove = storage.write_bytes_atomic, storage.remove

    class Killed(Exception):
        pass

    # the checkpoint at step 8: 4 files to last-next/, 4 to last/, then 4 removals of last-next/
    for cut in range(1, 13):
        out = tmp_path / f"b{cut}"
        ops = {"n": 0, "armed": False}

        def counting(real):
            def op(url, *args, **kw):
                if "/last" in str(url) and ops["armed"]:
                    ops["n"] += 1
                    if ops["n"] == cut:
                        raise Killed(url)
                return real(url, *args, **kw)
            return op

        def arm(e):
            if e["event"] == "step" and e["step"] == 8:
                ops["armed"] = True

        monkeypatch.setattr(storage, "write_bytes_atomic", counting(real_write))
        monkeypatch.setattr(storage, "remove", counting(real_remove))
        with pytest.raises(Killed):
            train(c, recs, out=str(out), progress=arm)
        monkeypatch.setattr(storage, "write_bytes_atomic", real_write)
        monkeypatch.setattr(storage, "remove", real_remove)
        b = train(c, recs, out=str(out))
        # cut 1-4: last/ still holds step 4; 5-8: last/ is torn, last-next/ holds step 8; 9-12: both hold 8
        assert b.resumed_from_step == (4 if cut <= 4 else 8), cut
        assert a.history == b.history and a.best_metrics == b.best_metrics, cut
        _same_result(tmp_path / "a", out)
        assert not (out / "last-next" / "training_state.json").exists()


def test_torn_checkpoint_without_a_complete_copy_is_refused(tmp_path, recs):
    from ocrcore.model.checkpoint import CheckpointError

    c = cfg(max_steps=8, val_every=4)
    out = tmp_path / "m"
    train(c, recs, out=str(out))
    weights = out / "last" / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"\0" * 8)  # not the bytes the state names
    with pytest.raises(CheckpointError, match="incomplete"):
        train(c, recs, out=str(out))


def test_ema_weights_are_saved_and_resume_exactly(tmp_path, recs):
    """With ema_decay the saved model is the weight average (not the last weights), and resumes exactly."""
    c = cfg(max_steps=12, val_every=4, checkpoint_every=4, ema_decay=0.9)
    a = train(c, recs, out=str(tmp_path / "a"))
    best, last = read_tensors(str(tmp_path / "a" / "model.safetensors")), read_tensors(str(tmp_path / "a" / "last/model.safetensors"))
    state = read_tensors(str(tmp_path / "a" / "last/training_state.safetensors"))
    if a.history[-1]["best"]:  # the final average is what was saved
        assert all(torch.equal(best[k], state[f"ema.{k}"]) for k in best)
    assert any(not torch.equal(state[f"ema.{k}"], last[k]) for k in last if last[k].is_floating_point())
    assert int(state["ema_n_averaged"]) == 12

    class Interrupt(Exception):
        pass

    def stop(e):
        if e["event"] == "val" and e["step"] == 8:
            raise Interrupt

    with pytest.raises(Interrupt):
        train(c, recs, out=str(tmp_path / "b"), progress=stop)
    b = train(c, recs, out=str(tmp_path / "b"))
    assert b.resumed_from_step == 4 and a.history == b.history
    tb = read_tensors(str(tmp_path / "b" / "last/training_state.safetensors"))
    assert all(torch.equal(state[k], tb[k]) for k in state if k.startswith("ema"))
    for bad in (1.0, -0.1, "on", True):
        with pytest.raises(ValueError, match="ema_decay"):
            cfg(ema_decay=bad)


def test_resume_refuses_changed_config(tmp_path, recs):
    train(cfg(max_steps=4), recs, out=str(tmp_path / "m"))
    with pytest.raises(TrainError, match="differs in \\['lr'\\]"):
        train(cfg(max_steps=4, lr=1e-2), recs, out=str(tmp_path / "m"))
    train(cfg(max_steps=4, lr=1e-2), recs, out=str(tmp_path / "m"), resume=False)


@pytest.mark.parametrize("amp", ["bf16", "fp16"])
def test_amp_code_path_on_cpu(tmp_path, recs, amp):
    """The mixed-precision path (autocast, GradScaler for fp16) runs on CPU too."""
    events = []
    res = train(cfg(max_steps=6, amp=amp, checkpoint_every=3), recs[:32], out=str(tmp_path / amp), progress=events.append)
    assert res.amp == amp
    assert all(np.isfinite(e["loss"]) for e in events if e["event"] == "step")
    state = json.loads((tmp_path / amp / "last" / "training_state.json").read_text())
    assert (state["scaler"] is not None) == (amp == "fp16")


def test_amp_auto_on_cpu_follows_its_bf16_hardware():
    """``amp="auto"`` trains in bf16 on a CPU that multiplies bf16 in hardware (AMX or
    AVX512-BF16: 1.19-1.52x fp32's samples/s measured on such an EPYC), in fp32 elsewhere, where
    emulated bf16 is several times slower; ``off`` is always fp32."""
    from ocrcore.model.predict import cpu_has_fast_bf16
    from ocrcore.train import _amp_setup
    cpu = torch.device("cpu")
    assert _amp_setup("auto", cpu) == ((torch.bfloat16, False) if cpu_has_fast_bf16() else (None, False))
    assert _amp_setup("off", cpu) == (None, False)
    assert _amp_setup("fp16", cpu) == (torch.float16, True)


def test_split_ids():
    ids = [f"id{i}" for i in range(100)]
    tr, va = split_ids(ids, 0.1, seed=7)
    assert len(va) == 10 and len(tr) == 90 and not set(tr) & set(va)
    assert split_ids(list(reversed(ids)), 0.1, seed=7) == (tr, va)  # order-independent
    assert split_ids(ids, 0.1, seed=8)[1] != va
    assert split_ids(["a", "b"], 0.1, 0)[1] != []  # at least one validation id
    assert split_ids(ids, 0.0, 0) == (sorted(ids), [])


def test_split_recorded_for_evaluation(tmp_path, recs):
    train(cfg(max_steps=2, val_fraction=0.25, split_seed=5), recs, out=str(tmp_path / "m"))
    _, _, config = load_model(str(tmp_path / "m"))
    ids = [r["id"] for r in recs]
    assert split_from_model_config(config, ids, "val") == split_ids(ids, 0.25, 5)[1]
    assert config["training"]["split"]["n_val"] == 16


def test_schedule_helpers():
    assert lr_factor(0, 100, 10, "cosine", 0.0) == pytest.approx(0.1)
    assert lr_factor(10, 100, 10, "cosine", 0.0) == pytest.approx(1.0)
    assert lr_factor(100, 100, 10, "linear", 0.1) == pytest.approx(0.1)
    assert batches_per_epoch(100, 8, 2) == 6 * 2 + 1


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match="unknown TrainConfig key"):
        TrainConfig.from_dict({"lr": 1e-3, "learning_rate": 1})
    with pytest.raises(ValueError, match="unknown model config key"):
        TrainConfig(model={"hidden_size": 3})
    with pytest.raises(ValueError, match="unknown augmentation"):
        TrainConfig(augment_params={"p_rain": 0.5})
    with pytest.raises(ValueError, match="amp"):
        TrainConfig(amp="int8")


def test_empty_dataset(tmp_path):
    with pytest.raises(EmptyDatasetError, match="no records"):
        train(cfg(), [], out=str(tmp_path / "m"))
    bad = [{"id": f"x{i}", "image": {"bytes": b"not an image", "path": None}, "text": "ab"} for i in range(5)]
    with pytest.raises(EmptyDatasetError, match="not_an_image"):
        train(cfg(val_fraction=0.0), bad, out=str(tmp_path / "m"))


def test_unknown_characters(tmp_path, recs):
    with pytest.raises(UnknownCharactersError, match="'e'"):
        train(cfg(charset="abcd"), recs, out=str(tmp_path / "m"))
    res = train(cfg(charset="abcd", on_unknown_chars="skip", max_steps=2), recs, out=str(tmp_path / "m2"))
    assert res.skipped["unknown_chars"] > 0


def test_validation_chars_outside_charset_are_reported(tmp_path, recs):
    val = records(4, seed=9, prefix="v")
    val[0]["text"] = "abz"
    val[0]["image"]["bytes"] = render("abz")
    events = []
    res = train(cfg(max_steps=2), recs, val_data=val, out=str(tmp_path / "m"), progress=events.append)
    assert res.val_unknown_chars == {"z": 1} and res.n_val == 4
    assert res.history[-1]["val_loss"] > 0  # over the three samples the charset encodes
    assert any(e["event"] == "warning" and "'z'" in e["message"] for e in events)


def test_bad_images_are_skipped_with_counts(tmp_path, recs):
    def img_bytes(img):
        buf = io.BytesIO()
        img.save(buf, "PNG")
        return buf.getvalue()

    odd = [
        {"id": "rgba", "text": "ab", "image": {"bytes": render("ab", mode="RGBA"), "path": None}},
        {"id": "i16", "text": "ab", "image": {"bytes": img_bytes(Image.new("I;16", (40, 24), 60000)), "path": None}},
        {"id": "tiny", "text": "a", "image": {"bytes": img_bytes(Image.new("L", (2, 2), 0)), "path": None}},
        {"id": "strip", "text": "a", "image": {"bytes": img_bytes(Image.new("L", (5000, 5), 255)), "path": None}},
        {"id": "corrupt", "text": "a", "image": {"bytes": render("abcde")[:60], "path": None}},
        {"id": "none", "text": "a", "image": {"bytes": None, "path": None}},
        {"id": "long", "text": "abcdeabcdeabcde", "image": {"bytes": render("ab"), "path": None}},
    ]
    res = train(cfg(max_steps=2, val_fraction=0.0, max_width=2000), recs[:16] + odd, out=str(tmp_path / "m"))
    assert res.skipped == {"too_small": 1, "too_wide": 1, "truncated_image": 1, "empty_file": 1, "label_too_long": 1}
    assert res.n_train == 16 + 2  # RGBA and 16-bit images are fine
    with pytest.raises(TrainError, match="too small"):
        train(cfg(max_steps=2, on_bad_sample="raise", val_fraction=0.0), recs[:4] + odd[2:3], out=str(tmp_path / "r"))


def test_streaming_from_parquet_dataset(tmp_path, recs):
    from ocrcore import storage
    from ocrcore.datasets import rows_to_parquet_bytes

    url = str(tmp_path / "ds")
    storage.write_bytes_atomic(storage.join(url, "part-00000.parquet"), rows_to_parquet_bytes(recs[:32]))
    storage.write_bytes_atomic(storage.join(url, "part-00001.parquet"), rows_to_parquet_bytes(recs[32:]))
    a = train(cfg(cache="stream", shuffle_buffer=16), url, out=str(tmp_path / "a"))
    b = train(cfg(cache="memory"), url, out=str(tmp_path / "b"))
    assert a.n_val == b.n_val == 10
    _, _, config = load_model(str(tmp_path / "a"))
    assert config["training"]["data"] == url
    c = train(cfg(cache="stream", shuffle_buffer=16), url, out=str(tmp_path / "c"))
    assert c.history == a.history  # streaming is deterministic too


def test_fine_tune_extends_charset(tmp_path, recs):
    train(cfg(max_steps=2), recs, out=str(tmp_path / "base"))
    more = records(16, seed=4, prefix="f")
    for r in more[:4]:
        r["text"] = r["text"] + "f"
        r["image"]["bytes"] = render(r["text"])
    res = train(cfg(max_steps=2), more, out=str(tmp_path / "ft"), init=str(tmp_path / "base"))
    _, cs, config = load_model(str(tmp_path / "ft"))
    assert "".join(cs.chars) == ALPHABET + "f" and res.step == 2
    assert config["training"]["init"] == str(tmp_path / "base")


def test_init_auto_fine_tunes_the_shipped_model_on_small_data(tmp_path, recs):
    """init="auto" (what `ocr train` passes by default): a small dataset with default settings
    starts from the shipped model, keeps only its own characters, and each kept character's
    classifier row comes from the shipped model's row for that character."""
    from ocrcore.model.predict import default_model_url

    shipped, shipped_cs, _ = load_model(default_model_url())
    quiet = dict(batch_size=8, max_steps=1, lr=1e-12, weight_decay=0.0, warmup_steps=0, val_fraction=0.15,
                 seed=3, augment=False)
    res = train(TrainConfig(**quiet), recs[:24], out=str(tmp_path / "auto"), init="auto")
    model, cs, config = load_model(str(tmp_path / "auto"))
    assert config["training"]["init"] == default_model_url() and config["training"]["init_auto"] is True
    assert config["training"]["ema_decay"] == AUTO_EMA_DECAY  # the weight average is kept
    assert "ema_n_averaged" in read_tensors(str(tmp_path / "auto" / "last" / "training_state.safetensors"))
    assert "".join(cs.chars) == ALPHABET and config["model"]["arch"] == shipped.config["arch"] and res.step == 1
    w_new, w_old = model.classifier.weight.detach(), shipped.classifier.weight.detach()
    for c in ALPHABET:
        assert torch.allclose(w_new[cs.class_of(c)], w_old[shipped_cs.class_of(c)], atol=1e-6)
    assert torch.allclose(w_new[0], w_old[0], atol=1e-6)  # the blank
    assert torch.allclose(model.rnn.weight_hh_l0.detach(), shipped.rnn.weight_hh_l0.detach(), atol=1e-6)
    assert config["line_norm"] is None  # a small dataset's images are read as given, not re-framed
    # any explicit architecture choice (or a larger dataset) trains from scratch
    for name, extra in (("tiny", {"model": TINY}), ("wf", {"width_factor": 8})):
        train(TrainConfig(**quiet, **extra), recs[:24], out=str(tmp_path / name), init="auto")
        config = load_model(str(tmp_path / name))[2]
        assert config["training"]["init"] is None and config["training"]["init_auto"] is False
        assert config["training"]["ema_decay"] == 0.0


def test_init_auto_reads_small_tall_images_at_a_taller_height(tmp_path, recs):
    """Captcha-sized images (200x50 here: short, at least 48 px tall) fine-tune the shipped
    model resized to read 48-pixel images; its conv weights carry over unchanged, the budget
    of samples shrinks with the cost of each, and wide line images stay at 32 pixels."""
    from ocrcore.model.predict import default_model_url
    from ocrcore.train import AUTO_TALL_HEIGHT, auto_epochs

    def sized(w, h):
        out = []
        for r in recs[:24]:
            img = Image.open(io.BytesIO(r["image"]["bytes"])).resize((w, h))
            buf = io.BytesIO()
            img.save(buf, "PNG")
            out.append(dict(r, image={"bytes": buf.getvalue(), "path": None}, width=w, height=h))
        return out

    shipped = load_model(default_model_url())[0]
    quiet = dict(batch_size=8, max_steps=1, lr=1e-12, weight_decay=0.0, warmup_steps=0, val_fraction=0.15, seed=3)
    events = []
    train(TrainConfig(**quiet), sized(200, 50), out=str(tmp_path / "tall"), init="auto", progress=events.append)
    model, _, config = load_model(str(tmp_path / "tall"))
    assert model.input_height == config["input_height"] == AUTO_TALL_HEIGHT
    assert config["training"]["init_auto"] is True and config["training"]["init_input_height"] == 32
    assert torch.equal(model.features[0].weight, shipped.features[0].weight)
    start = next(e for e in events if e["event"] == "start")
    assert start["input_height"] == AUTO_TALL_HEIGHT
    assert start["epochs"] == auto_epochs(start["n_train"], fine_tune=True, budget=32 / AUTO_TALL_HEIGHT)
    assert auto_epochs(936, fine_tune=True, budget=32 / 48) == 57 < auto_epochs(936, fine_tune=True) == 85
    # lines (aspect over 8) and images under 48 px keep the shipped model's height
    for name, (w, h) in (("line", (500, 50)), ("small", (120, 40))):
        train(TrainConfig(**quiet), sized(w, h), out=str(tmp_path / name), init="auto")
        assert load_model(str(tmp_path / name))[2]["input_height"] == 32, name
    # an explicit height: from scratch, or resizing a model fine-tuned (auto or named)
    train(cfg(max_steps=1, input_height=48), recs[:16], out=str(tmp_path / "scratch48"))
    assert load_model(str(tmp_path / "scratch48"))[0].input_height == 48
    for name, init in (("auto64", "auto"), ("named64", default_model_url())):
        train(TrainConfig(**quiet, input_height=64), sized(500, 40), out=str(tmp_path / name), init=init)
        model, _, config = load_model(str(tmp_path / name))
        assert model.input_height == 64 and config["training"]["init_input_height"] == 32, init
        assert torch.equal(model.features[0].weight, shipped.features[0].weight)
    with pytest.raises(ValueError, match="input_height"):
        TrainConfig(input_height=40, model={"input_height": 48})
    with pytest.raises(ValueError, match="input_height"):
        TrainConfig(input_height="tall")


def test_width_factor_auto_follows_character_width(tmp_path, recs):
    train(cfg(max_steps=1), recs[:16], out=str(tmp_path / "narrow"))
    assert load_model(str(tmp_path / "narrow"))[2]["width_factor"] == 4
    wide = [dict(r, image={"bytes": render(r["text"], pitch=28), "path": None}) for r in recs[:16]]
    train(cfg(max_steps=1), wide, out=str(tmp_path / "wide"))
    assert load_model(str(tmp_path / "wide"))[2]["width_factor"] == 8
    captcha_like = [dict(r, image={"bytes": render(r["text"], pitch=20), "path": None}) for r in recs[:16]]
    train(cfg(max_steps=1), captcha_like, out=str(tmp_path / "mid"))  # ~27 px per char: doubled letters need frames
    assert load_model(str(tmp_path / "mid"))[2]["width_factor"] == 4
    train(cfg(max_steps=1, width_factor=None), wide, out=str(tmp_path / "fixed"))
    assert load_model(str(tmp_path / "fixed"))[2]["width_factor"] == 4


def test_auto_arch_and_epochs_follow_the_data_size(recs, tmp_path):
    from ocrcore.train import AUTO_ARCH_THRESHOLD, auto_arch, auto_epochs

    assert auto_arch(936) == "crnn_compact" and auto_arch(AUTO_ARCH_THRESHOLD) == "crnn_small"
    assert auto_epochs(936) == 128 and auto_epochs(100) == 150 and auto_epochs(30_000) == 30
    class Stop(Exception):
        pass

    def on_start(e):
        if e["event"] == "start":
            seen.append(e)
            raise Stop  # the plan is all this test needs

    seen = []
    with pytest.raises(Stop):
        train(cfg(max_steps=None, model=TINY), recs, out=str(tmp_path / "m"), progress=on_start)
    (start,) = seen
    assert start["arch"] == "crnn_compact" and start["epochs"] == auto_epochs(start["n_train"])
    assert start["max_steps"] == round(start["epochs"] * batches_per_epoch(start["n_train"], 8, 2))
    with pytest.raises(ValueError, match="epochs"):
        TrainConfig(epochs=0)
    with pytest.raises(ValueError, match="unknown arch"):
        TrainConfig(arch="crnn_huge")


def _with_margins(rec: dict, pad: int) -> dict:
    img = Image.open(io.BytesIO(rec["image"]["bytes"]))
    big = Image.new("L", (img.width + 2 * pad, img.height + 2 * pad), 255)
    big.paste(img, (pad, pad))
    buf = io.BytesIO()
    big.save(buf, "PNG")
    return {**rec, "id": rec["id"] + "m", "image": {"bytes": buf.getvalue(), "path": None}}


def test_line_norm_reframes_training_samples_and_is_inherited(tmp_path, recs):
    """With ``line_norm`` on, a line with wide margins becomes the same model input as the line
    without them; the geometry is saved with the model, kept by a fine-tune ("auto"), dropped
    with "off", and off when training from scratch by default."""
    from ocrcore.train import Trainer

    def inputs(line_norm):
        t = Trainer(cfg(line_norm=line_norm), recs, out=str(tmp_path / f"probe-{line_norm}"))
        t.height = t._model_config_height()
        t._plan_data()
        return [t._prepare(r, labels_needed=True).image for r in (recs[0], _with_margins(recs[0], 20))]

    plain, wide = inputs("on")
    assert abs(plain.shape[1] - wide.shape[1]) <= 2
    plain, wide = inputs("off")
    assert wide.shape[1] < 0.7 * plain.shape[1]  # as given: margins shrink the text

    train(cfg(max_steps=2, line_norm="on"), recs, out=str(tmp_path / "base"))
    saved = load_model(str(tmp_path / "base"))[2]["line_norm"]
    assert saved == {"method": "text-band", "above": 1.8, "below": 0.8, "side": 0.6, "segmented": False}
    train(cfg(max_steps=2), recs, out=str(tmp_path / "ft"), init=str(tmp_path / "base"))
    assert load_model(str(tmp_path / "ft"))[2]["line_norm"] == saved
    train(cfg(max_steps=2, line_norm="off"), recs, out=str(tmp_path / "ft-off"), init=str(tmp_path / "base"))
    assert load_model(str(tmp_path / "ft-off"))[2]["line_norm"] is None
    train(cfg(max_steps=2), recs, out=str(tmp_path / "scratch"))
    assert load_model(str(tmp_path / "scratch"))[2]["line_norm"] is None
    with pytest.raises(ValueError, match="line_norm"):
        TrainConfig(line_norm="sometimes")
    with pytest.raises(ValueError, match="unknown line_norm"):
        TrainConfig(line_norm={"above": 2.0, "tilt": 1})


def test_distill_loss_counts_valid_frames_only():
    from ocrcore.train import distill_loss

    g = torch.Generator().manual_seed(0)
    t = torch.log_softmax(torch.randn(10, 2, 5, generator=g), -1)
    s = torch.log_softmax(torch.randn(10, 2, 5, generator=g), -1)
    lengths = torch.tensor([10, 6])
    assert float(distill_loss(t, t, lengths)) == pytest.approx(0.0, abs=1e-6)
    base = float(distill_loss(s, t, lengths))
    assert base > 0
    s2 = s.clone()
    s2[6:, 1] = torch.log_softmax(torch.randn(4, 5, generator=g), -1)  # padding of line 2 only
    assert float(distill_loss(s2, t, lengths)) == pytest.approx(base, rel=1e-6)
    s2[0, 1] = t[0, 1]  # a valid frame of line 2 now agrees with the teacher
    assert float(distill_loss(s2, t, lengths)) < base


STUDENT = {"hidden": 16, "blocks": [[4, 1, 2, 2], [8, 1, 2, 2], [16, 1, 2, 1], [16, 1, 2, 1]], "dropout": 0.1}


def test_student_distilled_from_a_teacher_follows_it(tmp_path, recs):
    """A student trained with ``teacher`` takes the teacher's classes and line geometry, records
    its teacher, and ends nearer the teacher's frame posteriors than the same student trained on
    CTC alone, from the same seed and batches."""
    from ocrcore.train import distill_loss

    train(cfg(max_steps=48, val_every=24, augment=False, line_norm="on"), recs, out=str(tmp_path / "teacher"))
    teacher, tcs, tconf = load_model(str(tmp_path / "teacher"))
    kw = dict(model=STUDENT, max_steps=48, val_every=48, augment=False)
    train(cfg(**kw, teacher=str(tmp_path / "teacher"), distill_weight=2.0), recs, out=str(tmp_path / "student"))
    train(cfg(**kw, line_norm="on"), recs, out=str(tmp_path / "alone"))
    student, scs, sconf = load_model(str(tmp_path / "student"))
    alone = load_model(str(tmp_path / "alone"))[0]
    assert scs.chars == tcs.chars and sconf["line_norm"] == tconf["line_norm"] is not None
    assert sconf["training"]["config"]["teacher"] == str(tmp_path / "teacher")
    assert student.factor == teacher.factor and sum(p.numel() for p in student.parameters()) < \
        sum(p.numel() for p in teacher.parameters()) / 3

    from ocrcore.model.lines import from_uint8, normalize_line, pad_batch, scale_to_height
    from ocrcore.model.predict import record_to_gray

    imgs = [scale_to_height(normalize_line(record_to_gray(r), tconf["line_norm"])[0], teacher.input_height)
            for r in recs[:16]]
    x, widths = pad_batch([from_uint8(i) if i.dtype == np.uint8 else i for i in imgs], min_width=teacher.factor)
    with torch.no_grad():
        t_lp, lengths = teacher.eval()(x, widths)
        gaps = [float(distill_loss(m.eval()(x, widths)[0], t_lp, lengths)) for m in (student, alone)]
    assert gaps[0] < 0.7 * gaps[1], gaps


def test_distill_refuses_a_teacher_it_cannot_follow(tmp_path, recs):
    train(cfg(max_steps=2), recs, out=str(tmp_path / "teacher"))
    with pytest.raises(TrainError, match="input height"):
        train(cfg(max_steps=2, model={**STUDENT, "input_height": 48}, teacher=str(tmp_path / "teacher")),
              recs, out=str(tmp_path / "s1"))
    with pytest.raises(TrainError, match="width factor"):
        train(cfg(max_steps=2, model=STUDENT, width_factor=8, teacher=str(tmp_path / "teacher")),
              recs, out=str(tmp_path / "s2"))
    with pytest.raises(TrainError, match="teacher's"):
        train(cfg(max_steps=2, model=STUDENT, charset="abcdef", teacher=str(tmp_path / "teacher")),
              recs, out=str(tmp_path / "s3"))
    with pytest.raises(ValueError, match="distill_weight"):
        TrainConfig(distill_weight=-1)

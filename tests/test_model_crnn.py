"""CRNN factory: variants, config validation, output shapes, padding independence."""
import numpy as np
import pytest
import torch

from ocrcore.model.lines import pad_batch
from ocrcore.model.crnn import (VARIANTS, build_model, count_parameters, output_lengths,
                                resolve_config, width_factor, with_input_height,
                                with_width_factor)
from ocrcore.model.fast import PairMaxPool, UnpackedBiLSTM, inference_copy, reverse_index

torch.set_num_threads(1)


@pytest.mark.parametrize("arch", ["crnn_small", "crnn_base"])
def test_forward_shapes(arch):
    torch.manual_seed(0)
    m = build_model({"arch": arch, "num_classes": 11}).eval()
    h, f = m.input_height, m.factor
    assert f == width_factor({"arch": arch, "num_classes": 11}) == 4
    x = torch.rand(3, 1, h, 100)
    widths = torch.tensor([100, 60, 9])
    with torch.no_grad():
        lp, lengths = m(x, widths)
    assert lp.shape == (100 // f, 3, 11)
    assert lengths.tolist() == [25, 15, 2] == output_lengths(widths, f).tolist()
    assert torch.allclose(lp.exp().sum(-1), torch.ones(25, 3), atol=1e-5)


def test_parameter_budgets():
    small = count_parameters(build_model({"arch": "crnn_small", "num_classes": 20}))
    base = count_parameters(build_model({"arch": "crnn_base", "num_classes": 100}))
    assert 0.5e6 <= small <= 2e6
    assert base > 2 * small and base * 4 < 25e6  # float32 file under the 25 MB budget


def test_config_validation():
    with pytest.raises(ValueError, match="unknown model config key"):
        build_model({"arch": "crnn_small", "num_classes": 5, "hiden": 64})
    with pytest.raises(ValueError, match="unknown architecture"):
        build_model({"arch": "resnet", "num_classes": 5})
    with pytest.raises(ValueError, match="num_classes"):
        build_model({"arch": "crnn_small"})
    with pytest.raises(ValueError, match="too small"):
        build_model({"arch": "crnn_small", "num_classes": 5, "input_height": 8})
    cfg = resolve_config({"arch": "crnn_small", "num_classes": 5, "hidden": 32})
    assert cfg["hidden"] == 32 and cfg["blocks"] == VARIANTS["crnn_small"]["blocks"]


def test_wrong_input_rejected():
    m = build_model({"arch": "crnn_small", "num_classes": 5})
    with pytest.raises(ValueError, match="expected input"):
        m(torch.rand(1, 1, 48, 64))
    with pytest.raises(ValueError, match="width factor"):
        m(torch.rand(1, 1, 32, 2))


def test_output_does_not_depend_on_batch_padding():
    """A line read alone equals the same line inside a wider batch (pad_batch's white margin)."""
    torch.manual_seed(1)
    m = build_model({"arch": "crnn_small", "num_classes": 7}).eval()
    line = np.random.default_rng(0).random((32, 48)).astype(np.float32)
    other = np.random.default_rng(1).random((32, 96)).astype(np.float32)
    x1, w1 = pad_batch([line], min_width=m.factor)
    x2, w2 = pad_batch([line, other], min_width=m.factor)
    assert w2.tolist() == [48, 96] and x2.shape[-1] > 96
    with torch.no_grad():
        alone, _ = m(x1, w1)
        batch, lengths = m(x2, w2)
    assert lengths.tolist() == [12, 24]
    assert torch.allclose(alone[:12, 0], batch[:12, 0], atol=1e-5)


@pytest.mark.parametrize("arch", ["crnn_compact", "crnn_base"])
def test_inference_copy_matches_and_leaves_original(arch):
    """BatchNorm folding + channels-last gives the same outputs; the original keeps its BN layers."""
    torch.manual_seed(2)
    m = build_model({"arch": arch, "num_classes": 9})
    with torch.no_grad():  # non-trivial BN statistics, as after training
        for mod in m.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 2.0)
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.2, 0.2)
    m.eval()
    fast = inference_copy(m)
    assert not any(isinstance(mod, torch.nn.BatchNorm2d) for mod in fast.modules())
    assert any(isinstance(mod, torch.nn.BatchNorm2d) for mod in m.modules()) and not m.channels_last
    assert isinstance(fast.rnn, UnpackedBiLSTM) and isinstance(m.rnn, torch.nn.LSTM)
    assert not any(isinstance(mod, torch.nn.MaxPool2d) for mod in fast.modules())
    x = torch.rand(3, 1, m.input_height, 88)
    widths = torch.tensor([88, 40, 12])
    x[1, ..., 40:] = 1.0  # white padding, as pad_batch adds
    x[2, ..., 12:] = 1.0
    with torch.no_grad():
        ref, lr = m(x, widths)
        out, lo = fast(x, widths)
        full_ref, _ = m(x)
        full_out, _ = fast(x)
    assert torch.equal(lr, lo)
    # frames past a line's end are padding; on valid ones the unpacked LSTM equals the packed one
    valid = torch.arange(ref.shape[0]).unsqueeze(1) < lr.unsqueeze(0)
    assert torch.allclose(ref[valid], out[valid], atol=1e-4)
    assert torch.allclose(full_ref, full_out, atol=1e-4)


@pytest.mark.skipif(not torch.backends.mkldnn.is_available(), reason="needs a torch build with oneDNN")
def test_inference_copy_bf16_stack_matches():
    """The bf16 copy computes what the original does, to bf16 rounding: on CPUs with bf16
    hardware (AMX, AVX512-BF16) through the oneDNN conv stack (required there), elsewhere through
    the channels-last fallback where oneDNN cannot make one."""
    from ocrcore.model.fast import OneDNNBF16
    from ocrcore.model.predict import cpu_has_fast_bf16
    torch.manual_seed(3)
    m = build_model({"arch": "crnn_compact", "num_classes": 9}).eval()
    fast = inference_copy(m, "bf16")
    if cpu_has_fast_bf16():
        assert any(isinstance(mod, OneDNNBF16) for mod in fast.modules())
    x = torch.rand(5, 1, m.input_height, 96)
    widths = torch.tensor([96, 80, 64, 40, 12])
    for i, w in enumerate(widths.tolist()):
        x[i, ..., w:] = 1.0
    with torch.no_grad():
        ref, _ = m(x, widths)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            out, _ = fast(x, widths)
    valid = torch.arange(ref.shape[0]).unsqueeze(1) < torch.tensor([24, 20, 16, 10, 3]).unsqueeze(0)
    assert out.dtype == torch.float32 and out.shape == ref.shape
    assert (ref[valid] - out[valid]).abs().max() < 0.05


def test_batch_slices_follow_the_stack_width_and_do_not_change_the_result():
    """The bf16 path slices a batch by its first layer's width (a thin stack gets longer slices);
    each line is convolved on its own, so the slicing changes what comes out only by float rounding."""
    from ocrcore.model.fast import BatchChunks, bf16_columns

    small = build_model({"arch": "crnn_small", "num_classes": 9}).eval()
    thin = build_model({"arch": "crnn_fast", "num_classes": 9}).eval()
    assert bf16_columns(list(small.features)) == 8192 and bf16_columns(list(thin.features)) == 16384
    x = torch.rand(7, 1, small.input_height, 64)
    with torch.no_grad():
        whole = BatchChunks(small.features, 10**6)(x)
        for cols in (64, 128, 200, 4096):
            assert torch.allclose(BatchChunks(small.features, cols)(x), whole, atol=1e-5)  # kernels per batch size


@pytest.mark.parametrize("kernel", [(2, 2), (2, 1), (1, 2), (3, 2)])
def test_pair_max_pool_equals_max_pool(kernel):
    x = torch.randn(2, 5, 9, 13)  # odd sizes: the last row/column is dropped, as MaxPool2d floors
    ref = torch.nn.MaxPool2d(kernel, kernel)(x)
    assert torch.equal(PairMaxPool(*kernel)(x), ref)
    cl = x.contiguous(memory_format=torch.channels_last)
    assert torch.equal(PairMaxPool(*kernel)(cl), ref)


def test_reverse_index_keeps_padding_in_place():
    idx = reverse_index(torch.tensor([3, 1, 4]), 4)
    assert idx.t().tolist() == [[2, 1, 0, 3], [0, 1, 2, 3], [3, 2, 1, 0]]


def test_with_width_factor():
    base = {"arch": "crnn_small", "num_classes": 5}
    for f in (1, 2, 4, 8, 16):
        cfg = with_width_factor(base, f)
        assert width_factor(cfg) == f
        assert [b[2] for b in cfg["blocks"]] == [b[2] for b in VARIANTS["crnn_small"]["blocks"]]
        m = build_model(cfg)
        assert m(torch.rand(1, 1, 32, 64))[0].shape[0] == 64 // f
    with pytest.raises(ValueError, match="power of two"):
        with_width_factor(base, 3)
    with pytest.raises(ValueError, match="cannot pool"):
        with_width_factor(base, 32)


@pytest.mark.parametrize("arch", ["crnn_small", "crnn_base"])
def test_with_input_height_carries_the_weights_over(arch):
    torch.manual_seed(0)
    m = build_model({"arch": arch, "num_classes": 7}).eval()
    h = m.input_height
    tall = with_input_height(m, h + 16)
    assert tall.input_height == h + 16 and not tall.training
    old, new = m.state_dict(), tall.state_dict()
    first = "proj.0.weight" if m.config["proj"] else "rnn.weight_ih_l0"
    for k in old:
        if not k.startswith(first):
            assert torch.equal(old[k], new[k]), k
    # conv features that are the same on every row give the first layer the same input
    rows_old, rows_new = h // 16, (h + 16) // 16
    c = old[first].shape[1] // rows_old
    f = torch.randn(c)
    for k in (first, first + "_reverse") if not m.config["proj"] else (first,):
        a = old[k] @ f.repeat_interleave(rows_old)
        b = new[k] @ f.repeat_interleave(rows_new)
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)
    # the same height is the same network, and the taller one reads taller lines
    same = with_input_height(m, h)
    assert all(torch.equal(v, same.state_dict()[k]) for k, v in old.items())
    lp, _ = tall(torch.rand(2, 1, h + 16, 96))
    assert lp.shape == (96 // tall.factor, 2, 7)

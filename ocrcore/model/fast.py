"""Inference-only rewrites of a trained CRNN that compute the same function faster on CPU.

Nothing here is ever trained or saved: :func:`inference_copy` builds an eval-mode copy of a
loaded model, and checkpoints keep the layers of :mod:`ocrcore.model.crnn`. Each rewrite is
exact up to float rounding (bf16 rounding on the bf16 path; tests compare it with the
original), so a line reads the same whichever path runs it. Where the time went, profiled on
the shipped crnn_small over 300 held-out lines on one core in bf16 (``bench/bench_lines.py``):
the LSTM over packed sequences falls off oneDNN's fast kernels (46% of the time), and
``max_pool2d`` runs a slow generic kernel (17%).
"""
from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from ocrcore.model.crnn import CRNN


class PairMaxPool(nn.Module):
    """``nn.MaxPool2d(k, k)`` (stride = kernel, no padding, floor) as a max of strided slices.

    Identical results; element-wise maxima vectorise well in any layout and dtype, where
    PyTorch's max-pool kernel is several times slower in channels-last bfloat16.
    """

    def __init__(self, kh: int, kw: int):
        super().__init__()
        self.kh, self.kw = kh, kw

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kh, kw = self.kh, self.kw
        x = x[:, :, : x.shape[2] // kh * kh, : x.shape[3] // kw * kw]
        if kh > 1:
            y = x[:, :, 0::kh]
            for i in range(1, kh):
                y = torch.maximum(y, x[:, :, i::kh])
            x = y
        if kw > 1:
            y = x[..., 0::kw]
            for i in range(1, kw):
                y = torch.maximum(y, x[..., i::kw])
            x = y
        return x


def reverse_index(lengths: torch.Tensor, total: int) -> torch.Tensor:
    """``T x N`` time indices that reverse each sequence within its own length.

    Frames past a sequence's length map to themselves, so padding stays at the end.
    """
    t = torch.arange(total).unsqueeze(1)
    n = lengths.reshape(1, -1)
    return torch.where(t < n, n - 1 - t, t)


class UnpackedBiLSTM(nn.Module):
    """A bidirectional ``nn.LSTM`` run as unidirectional layers on padded (unpacked) batches.

    The backward direction reads each sequence reversed within its true length, so padding never
    reaches a valid frame and outputs equal the packed-sequence LSTM's. Packed sequences keep
    PyTorch off oneDNN's LSTM kernel; unpacked ones take it (3x faster in bf16, measured on
    16 lines of 240 frames).
    """

    def __init__(self, rnn: nn.LSTM):
        super().__init__()
        if not rnn.bidirectional or rnn.batch_first or rnn.proj_size:
            raise ValueError("UnpackedBiLSTM takes a bidirectional, time-major LSTM without projection")
        self.layers = nn.ModuleList()
        for layer in range(rnn.num_layers):
            size = rnn.input_size if layer == 0 else 2 * rnn.hidden_size
            for suffix in ("", "_reverse"):
                one = nn.LSTM(size, rnn.hidden_size, bias=rnn.bias)
                for name in ("weight_ih", "weight_hh") + (("bias_ih", "bias_hh") if rnn.bias else ()):
                    getattr(one, f"{name}_l0").data.copy_(getattr(rnn, f"{name}_l{layer}{suffix}").data)
                self.layers.append(one)
        self.to(next(rnn.parameters()).device).eval()

    def forward(self, x: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        t, n = x.shape[:2]
        # row t * n + j of a (T*N) x F view holds frame t of line j; index_select of whole rows
        # is ~10x faster than an element-wise gather
        rows = (reverse_index(lengths.cpu(), t) * n + torch.arange(n)).reshape(-1).to(x.device)

        def flip(y: torch.Tensor) -> torch.Tensor:
            return y.reshape(t * n, -1).index_select(0, rows).reshape(t, n, -1)

        for i in range(0, len(self.layers), 2):
            fwd, _ = self.layers[i](x)
            back, _ = self.layers[i + 1](flip(x))
            x = torch.cat([fwd, flip(back).to(fwd.dtype)], 2)
        return x


class BatchChunks(nn.Module):
    """Runs ``module`` on slices of the batch of at most ``columns`` input columns in all.

    Same result (each line is convolved on its own); activations small enough to stay in cache
    between layers. Measured on the shipped model's conv stack, bf16, one core, 16 lines: 90 ms
    in one piece, 42 ms in slices of 4,096 columns (1600 px lines); 28 -> 21 ms (960 px).
    """

    def __init__(self, module: nn.Module, columns: int = 4096):
        super().__init__()
        self.module, self.columns = module, columns

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k = max(1, self.columns // max(1, x.shape[-1]))
        if k >= x.shape[0]:
            return self.module(x)
        return torch.cat([self.module(x[i: i + k]) for i in range(0, x.shape[0], k)], 0)


class OneDNNBF16(nn.Module):
    """A conv stack (convolutions, max-pooling, ReLU) run by oneDNN on its own bf16 tensors.

    ``torch.utils.mkldnn`` keeps activations in oneDNN's blocked layout from the first
    convolution to the last pooling, so no layer pays a layout conversion and pooling and ReLU
    run oneDNN's kernels. Input: dense float ``N x 1 x H x W``; output: dense bf16. Measured on
    the shipped model, 16 lines, one core (AMX): 27 -> 19 ms at 960 px, 48 -> 38 ms at 1600 px
    against channels-last convolutions under bf16 autocast.
    """

    def __init__(self, stack: nn.Sequential):
        super().__init__()
        plain = copy.deepcopy(stack).to(memory_format=torch.contiguous_format)
        with warnings.catch_warnings():  # its modules use torch.jit.script_method, deprecated in 2.x
            warnings.simplefilter("ignore", DeprecationWarning)
            from torch.utils import mkldnn

            self.stack = mkldnn.to_mkldnn(plain, torch.bfloat16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stack(x.float().contiguous().to_mkldnn(torch.bfloat16)).to_dense()


def inference_copy(model: CRNN, precision: str = "fp32") -> CRNN:
    """An eval-mode copy of ``model`` that computes the same function faster on CPU.

    - Each BatchNorm is folded into the convolution before it (one pass over the activations less).
    - Each ReLU moves after the max-pooling that follows it (ReLU is monotonic, so max and ReLU
      commute and the result is identical, on a quarter of the values).
    - The LSTM becomes :class:`UnpackedBiLSTM`.
    - The conv stack runs on :class:`BatchChunks` of the batch: for ``precision="bf16"`` (run it
      under bf16 autocast) as :class:`OneDNNBF16`, else in channels-last layout, which oneDNN's
      CPU kernels prefer, with max-pooling as :class:`PairMaxPool`.

    Outputs match the original to float rounding (to bf16 rounding with ``"bf16"``). Never train
    the copy.
    """
    fast = copy.deepcopy(model).eval()
    mods, out = list(fast.features), []
    i = 0
    while i < len(mods):
        cur, nxt = mods[i], mods[i + 1] if i + 1 < len(mods) else None
        if isinstance(cur, nn.Conv2d) and isinstance(nxt, nn.BatchNorm2d):
            out.append(nn.utils.fusion.fuse_conv_bn_eval(cur, nxt))
            i += 2
        elif isinstance(cur, nn.ReLU) and isinstance(nxt, nn.MaxPool2d):
            out += [nxt, cur]
            i += 2
        else:
            out.append(cur)
            i += 1
    stack = _onednn_bf16(out) if precision == "bf16" else None
    if stack is not None:
        fast.features = BatchChunks(stack, bf16_columns(out))
        fast.channels_last = False
    else:
        out = [PairMaxPool(*_pair(m.kernel_size)) if _plain_pool(m) else m for m in out]
        fast.features = BatchChunks(nn.Sequential(*out).to(memory_format=torch.channels_last))
        fast.channels_last = True
    fast.rnn = UnpackedBiLSTM(fast.rnn)
    return fast


# On oneDNN's bf16 path a slice of the batch holds this many first-layer channel-columns: 8,192
# columns for the shipped crnn_small (32 channels first), 16,384 for crnn_fast (16). Measured on
# 12 pages' line batches (one core, AMX; seconds per page for the conv stack at 4,096 / 8,192 /
# 16,384 / 32,768 columns): crnn_small 0.095 / 0.088 / 0.093 / 0.131, crnn_fast 0.102 / 0.082 /
# 0.068 / 0.060. The thinner stack pays a slice's fixed cost over fewer operations, so it
# wants longer slices. The fp32 path keeps 4,096 (there both did best at 4,096-8,192 and worse
# beyond: crnn_small 0.39 s at 4,096 against 0.46 at 16,384).
BF16_SLICE_BUDGET = 32 * 8192


def bf16_columns(layers: list[nn.Module]) -> int:
    """Columns per slice for :class:`OneDNNBF16` over ``layers`` (see :data:`BF16_SLICE_BUDGET`)."""
    first = next((m.out_channels for m in layers if isinstance(m, nn.Conv2d)), 32)
    return max(4096, BF16_SLICE_BUDGET // max(1, first))


def _pair(v) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else tuple(v)


def _plain_pool(m: nn.Module) -> bool:
    """A max-pool that :class:`PairMaxPool` reproduces exactly."""
    return (isinstance(m, nn.MaxPool2d) and _pair(m.stride) == _pair(m.kernel_size)
            and _pair(m.padding) == (0, 0) and _pair(m.dilation) == (1, 1)
            and not m.ceil_mode and not m.return_indices)


def _onednn_bf16(layers: list[nn.Module]) -> OneDNNBF16 | None:
    """:class:`OneDNNBF16` of ``layers``, or None where this torch build cannot make one
    (no oneDNN, or a future torch without ``torch.utils.mkldnn``): the caller falls back."""
    if not torch.backends.mkldnn.is_available():
        return None
    try:
        return OneDNNBF16(nn.Sequential(*layers))
    except Exception:  # noqa: BLE001 - any failure here only costs speed
        return None

"""CRNN line recognizer: conv features over a fixed height -> BiLSTM -> per-frame class scores.

Models are built from plain config dicts (docTR style) so a checkpoint's JSON fully describes
the network: ``build_model({"arch": "crnn_small", "num_classes": 20})``. Named variants live in
:data:`VARIANTS`; any key of a variant may be overridden, and an unknown key raises, so a typo in
a config never silently trains a different network.

Input convention: ``N x 1 x H x W`` float, **1.0 = white paper, 0.0 = black ink** (what
:func:`ocrcore.imageio.to_gray` returns), ``H == config["input_height"]``. Batches are padded on
the right with 1.0 (white). The network inverts internally so that ink is positive and padding
is zero.

Output: ``T x N x C`` log-probabilities (class 0 = CTC blank), ``T = W // width_factor``, so
frame ``t`` covers input columns ``[t * f, (t + 1) * f)``; :func:`output_lengths` gives each
line's true frame count from its true width.
"""
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

# Every key a config may hold; values in VARIANTS are the defaults of each architecture.
CONFIG_KEYS = {
    "arch",          # variant name (informational once resolved)
    "num_classes",   # charset size + 1 (blank); required
    "input_height",  # pixels; input lines are scaled to this height
    "blocks",        # list of [out_channels, convs, pool_h, pool_w]
    "hidden",        # LSTM hidden size per direction
    "lstm_layers",   # stacked BiLSTM layers
    "proj",          # linear projection of flattened conv features before the LSTM (0 = none)
    "dropout",       # dropout before the LSTM, between LSTM layers and before the classifier
}

VARIANTS: dict[str, dict] = {
    # ~1.0M parameters: fast on one CPU core, enough for captchas and clean printed lines.
    # (A lighter 16-32-64-96 conv stack trains ~2x faster but generalised clearly worse on
    # 936 synthetic captchas: validation CER 12% vs 8% after 50 epochs.)
    "crnn_small": {
        "input_height": 32,
        "blocks": [[32, 1, 2, 2], [64, 1, 2, 2], [128, 1, 2, 1], [128, 1, 2, 1]],
        "hidden": 128,
        "lstm_layers": 2,
        "proj": 0,
        "dropout": 0.2,
    },
    # crnn_small with one BiLSTM layer (~0.66M parameters): for small datasets and short texts
    # (captchas, a user's few thousand labeled lines). On 936 synthetic captchas it left CTC's
    # all-blank plateau sooner (CER 10% at epoch 20, against ~70% at epoch 27 for crnn_small)
    # and ended lower (bench/bench_train.py, figures in bench/RESULTS.md).
    "crnn_compact": {
        "input_height": 32,
        "blocks": [[32, 1, 2, 2], [64, 1, 2, 2], [128, 1, 2, 1], [128, 1, 2, 1]],
        "hidden": 128,
        "lstm_layers": 1,
        "proj": 0,
        "dropout": 0.2,
    },
    # ~0.54M parameters, about 2.3x the lines/s of crnn_small in fp32 on a CPU without AMX (the
    # conv stack's FLOPs a quarter, the LSTMs 96 wide): a student, distilled from a crnn_small
    # teacher (TrainConfig.teacher), for archives where throughput matters more than the last
    # tenths of a percent of CER.
    "crnn_fast": {
        "input_height": 32,
        "blocks": [[16, 1, 2, 2], [32, 1, 2, 2], [64, 1, 2, 1], [96, 1, 2, 1]],
        "hidden": 96,
        "lstm_layers": 2,
        "proj": 0,
        "dropout": 0.1,
    },
    # ~4.5M parameters: printed lines of many fonts; still under 20 MB as float32.
    "crnn_base": {
        "input_height": 48,
        "blocks": [[64, 1, 2, 2], [128, 1, 2, 2], [192, 2, 2, 1], [256, 2, 2, 1]],
        "hidden": 256,
        "lstm_layers": 2,
        "proj": 256,
        "dropout": 0.2,
    },
}


def resolve_config(config: dict) -> dict:
    """Fill a config from its variant's defaults; raise ``ValueError`` on unknown/missing keys."""
    if not isinstance(config, dict):
        raise ValueError(f"model config must be a dict, got {type(config).__name__}")
    unknown = set(config) - CONFIG_KEYS
    if unknown:
        raise ValueError(f"unknown model config key(s) {sorted(unknown)}; allowed: {sorted(CONFIG_KEYS)}")
    arch = config.get("arch")
    if arch not in VARIANTS:
        raise ValueError(f"unknown architecture {arch!r}; known: {sorted(VARIANTS)}")
    out = copy.deepcopy(VARIANTS[arch])
    out.update(copy.deepcopy(config))
    if not isinstance(out.get("num_classes"), int) or out["num_classes"] < 2:
        raise ValueError(f"num_classes must be an int >= 2 (charset + blank), got {out.get('num_classes')!r}")
    h = out["input_height"]
    for b in out["blocks"]:
        if len(b) != 4:
            raise ValueError(f"each block is [out_channels, convs, pool_h, pool_w], got {b!r}")
        h //= b[2]
    if h < 1:
        raise ValueError(f"input_height {out['input_height']} is too small for the pooling of {out['blocks']}")
    return out


def width_factor(config: dict) -> int:
    """Input columns per output frame (product of the width pooling)."""
    f = 1
    for b in resolve_config(config)["blocks"]:
        f *= b[3]
    return f


def with_width_factor(config: dict, factor: int) -> dict:
    """``config`` with its width pooling changed to give ``factor`` columns per frame.

    Pooling is doubled from the first block that does not pool in width (or halved from the
    last one that does), so the height pooling and everything else stay as they are.
    """
    cfg = resolve_config(config)
    blocks = [list(b) for b in cfg["blocks"]]
    cur = width_factor(cfg)
    if factor < 1 or factor & (factor - 1):
        raise ValueError(f"width factor must be a power of two, got {factor}")
    while cur < factor:
        free = [b for b in blocks if b[3] == 1]
        if not free:
            raise ValueError(f"{len(blocks)} blocks cannot pool the width by {factor}")
        free[0][3] = 2
        cur *= 2
    while cur > factor:
        [b for b in blocks if b[3] == 2][-1][3] = 1
        cur //= 2
    return {**config, "blocks": blocks}


def feature_rows(config: dict) -> int:
    """Rows the conv stack leaves (input height over the height pooling), folded into features."""
    cfg = resolve_config(config)
    h = cfg["input_height"]
    for b in cfg["blocks"]:
        h //= b[2]
    return h


def with_input_height(model: "CRNN", height: int) -> "CRNN":
    """A copy of ``model`` reading ``height``-pixel lines, its weights carried over.

    The conv stack does not depend on the height; only the first layer after it does, whose
    inputs are the conv channels at each of the rows left (``feature_rows``). Its weights are
    resampled linearly from the old rows to the new ones, each old row's weights spread so that
    their sum is kept: a feature map that is the same on every row gives the same
    pre-activations. Fine-tuning then adapts the network to strokes drawn at the new scale. Used to read small images (captchas,
    50 px tall) nearer their own resolution than the shipped 32 px: their fine detail (the bar
    of an ``e`` under a noise stroke) is lost at 32.
    """
    cfg = {**model.config, "input_height": int(height)}
    new = CRNN(cfg)
    r_old, r_new = feature_rows(model.config), feature_rows(cfg)
    mix = torch.zeros(r_new, r_old)  # new row <- old rows, linear interpolation of row centres
    for i in range(r_new):
        pos = min(max((i + 0.5) * r_old / r_new - 0.5, 0.0), r_old - 1.0)
        lo = int(pos)
        hi = min(lo + 1, r_old - 1)
        mix[i, lo] += 1.0 - (pos - lo)
        mix[i, hi] += pos - lo
    mix /= mix.sum(0, keepdim=True)  # each old row keeps its total weight
    first = "proj.0.weight" if cfg["proj"] else "rnn.weight_ih_l0"
    state = {}
    for k, v in model.state_dict().items():
        if k.startswith(first):  # the layer and, for the LSTM, its reverse direction
            w = v.reshape(v.shape[0], -1, r_old)  # features are channel-major: c * rows + row
            v = torch.einsum("ocr,nr->ocn", w, mix).reshape(v.shape[0], -1)
        state[k] = v.clone()
    new.load_state_dict(state)
    return new.train(model.training)


def output_lengths(widths: torch.Tensor | list[int], factor: int) -> torch.Tensor:
    """True frame counts of lines of the given true pixel widths."""
    w = torch.as_tensor(widths, dtype=torch.long)
    return torch.div(w, factor, rounding_mode="floor")


class CRNN(nn.Module):
    """Conv stack collapsing the height, BiLSTM over the width, linear classifier."""

    def __init__(self, config: dict):
        super().__init__()
        cfg = resolve_config(config)
        self.config = cfg
        layers: list[nn.Module] = []
        c_in, h = 1, cfg["input_height"]
        for c_out, convs, ph, pw in cfg["blocks"]:
            for _ in range(convs):
                layers += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]
                c_in = c_out
            if ph > 1 or pw > 1:
                layers.append(nn.MaxPool2d((ph, pw), (ph, pw)))
            h //= ph
        self.features = nn.Sequential(*layers)
        self.factor = width_factor(cfg)
        feat = c_in * h  # height is folded into channels, keeping vertical detail
        if cfg["proj"]:
            self.proj = nn.Sequential(nn.Linear(feat, cfg["proj"]), nn.ReLU(inplace=True))
            feat = cfg["proj"]
        else:
            self.proj = nn.Identity()
        self.dropout = nn.Dropout(cfg["dropout"])
        self.rnn = nn.LSTM(
            feat, cfg["hidden"], num_layers=cfg["lstm_layers"], bidirectional=True,
            dropout=cfg["dropout"] if cfg["lstm_layers"] > 1 else 0.0,
        )
        self.classifier = nn.Linear(2 * cfg["hidden"], cfg["num_classes"])
        self.channels_last = False

    @property
    def input_height(self) -> int:
        return self.config["input_height"]

    def forward(self, x: torch.Tensor, widths: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``x``: N x 1 x H x W (1.0 = white), ``widths``: true widths (None = all full).

        Returns ``(log_probs T x N x C, frame_lengths N)``. With ``widths`` the LSTM runs on
        packed sequences, so a line's output does not depend on how much padding its batch has.
        """
        if x.dim() != 4 or x.shape[1] != 1 or x.shape[2] != self.input_height:
            raise ValueError(f"expected input N x 1 x {self.input_height} x W, got {tuple(x.shape)}")
        n, _, _, w = x.shape
        if w < self.factor:
            raise ValueError(f"input width {w} is below the model's width factor {self.factor}")
        x = 1.0 - x  # ink -> positive, white padding -> 0
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        f = self.features(x)
        n, c, h, t = f.shape
        f = f.permute(3, 0, 1, 2).reshape(t, n, c * h)  # T x N x (C*h)
        f = self.dropout(self.proj(f))
        if widths is None:
            lengths = torch.full((n,), t, dtype=torch.long)
        else:
            lengths = output_lengths(widths.cpu(), self.factor).clamp(1, t)
        if not isinstance(self.rnn, nn.LSTM):  # an inference rewrite taking true lengths (model.fast)
            y = self.rnn(f, lengths)
        elif widths is None:
            y, _ = self.rnn(f)
        else:
            packed = pack_padded_sequence(f, lengths, enforce_sorted=False)
            y, _ = self.rnn(packed)
            y, _ = pad_packed_sequence(y, total_length=t)
        y = self.classifier(self.dropout(y))
        return torch.log_softmax(y.float(), dim=-1), lengths


def register(name: str, defaults: dict) -> None:
    """Add a named variant (defaults of every config key but ``num_classes``)."""
    VARIANTS[name] = copy.deepcopy(defaults)


def build_model(config: dict) -> CRNN:
    """Build a CRNN from a (possibly partial) config; see :data:`VARIANTS` for defaults."""
    return CRNN(config)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())

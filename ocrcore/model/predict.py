"""Inference: a loaded checkpoint that reads line images, batched by width.

:class:`Recognizer` owns the model, its charset and its preprocessing (taken from the
checkpoint's JSON, so training and inference agree). Results carry, per character, the frame
interval and the matching column interval in the ORIGINAL line image, for boxes downstream.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

import numpy as np
import torch

from ocrcore.imageio import decode_image, to_gray
from ocrcore.model import PRECISIONS
from ocrcore.model.charset import Charset
from ocrcore.model.checkpoint import CheckpointError, load_model
from ocrcore.model.crnn import CRNN
from ocrcore.model.fast import inference_copy
from ocrcore.model.ctc import LineHyp, batch_greedy_decode, beam_decode
from ocrcore.model.lines import check_line_shape, normalize_line, pad_batch, scale_to_height

# The shipped default model: package data ``ocrcore/models/model.json`` + ``model.safetensors``.
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent.parent / "models"


def default_model_url() -> str:
    """Location of the shipped model (raises :class:`CheckpointError` when not installed)."""
    if not (DEFAULT_MODEL_DIR / "model.json").is_file():
        raise CheckpointError(f"no default model shipped at {DEFAULT_MODEL_DIR}; pass a model URL")
    return str(DEFAULT_MODEL_DIR)


# Names of the shipped models, accepted wherever a model URL is: ``shipped`` (the default,
# crnn_small) and ``shipped-fast`` (a crnn_fast student distilled from it, in ``models/fast/``).
SHIPPED_NAMES = {"shipped": DEFAULT_MODEL_DIR, "shipped-fast": DEFAULT_MODEL_DIR / "fast"}


def resolve_model_url(model: Optional[str]) -> str:
    """The URL of ``model``: None = the shipped default model, a name in :data:`SHIPPED_NAMES`
    = that shipped model, anything else a model URL, returned as given."""
    if model is None:
        return default_model_url()
    if model in SHIPPED_NAMES:
        path = SHIPPED_NAMES[model]
        if not (path / "model.json").is_file():
            raise CheckpointError(f"the model {model!r} is not installed at {path}; pass a model URL")
        return str(path)
    return model


# Batch widths are rounded up to a multiple of this many pixels: padding is white and the model
# reads true widths, so results do not change, but batches then share a few shapes and oneDNN,
# which builds and caches its CPU kernels per input shape, reuses them across batches and pages.
PAD_MULTIPLE = 64


def cpu_has_fast_bf16() -> bool:
    """True when this CPU multiplies bfloat16 in hardware, where bf16 inference pays off: AMX
    tiles (Intel Sapphire Rapids on; 2.7x fp32's lines/s) or AVX512-BF16 dot products (AMD EPYC
    of the Zen 4 generation, Intel Cooper Lake; 1.6x on such an EPYC). Elsewhere oneDNN
    emulates bf16 and it is slower."""
    try:
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except Exception:  # private helpers: absent in other torch builds means "don't know"
        return False


def check_precision(precision: str) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`, else a ``ValueError`` that lists them."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {precision!r}")
    return precision


def resolve_precision(precision: str, device: torch.device) -> str:
    """The arithmetic inference runs in: ``fp32``, ``bf16`` or ``fp16`` (autocast; fp16 on CUDA only).

    ``auto``: bf16 on a CPU with bf16 hardware (:func:`cpu_has_fast_bf16`; AMX: 2.7x the
    lines/s of fp32, AVX512-BF16 on an AMD EPYC: 1.6x, ``bench/bench_lines.py`` at batch 16,
    same CER), fp16 on CUDA, fp32 otherwise, since emulated bf16 is slower than fp32. The network's last step
    (log-softmax) always runs in fp32.
    """
    check_precision(precision)
    if precision == "auto":
        if device.type == "cuda":
            return "fp16"
        return "bf16" if device.type == "cpu" and cpu_has_fast_bf16() else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision fp16 needs a CUDA device; use bf16 or fp32 on CPU")
    return precision


def pick_device(device: Optional[str] = None) -> torch.device:
    """``"auto"``/None -> cuda when available, else cpu."""
    if device in (None, "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def record_to_gray(record: dict) -> np.ndarray:
    """A dataset record's image as float32 grayscale (1.0 = white), via ``decode_image``."""
    img = record.get("image")
    data = img.get("bytes") if isinstance(img, dict) else img
    name = str(record.get("id", "<record>"))
    if data is None and isinstance(img, dict) and img.get("path"):
        from ocrcore import storage

        data = storage.read_bytes(img["path"])
    if data is None:
        from ocrcore.imageio import ImageError

        raise ImageError(f"{name}: record has no image bytes", "empty_file")
    return to_gray(decode_image(bytes(data), name=name))


@dataclass
class CharResult:
    """A recognised character: frames [start, end) and columns [x0, x1) of the input line."""

    text: str
    confidence: float
    start: int
    end: int
    x0: int
    x1: int


@dataclass
class LineResult:
    text: str
    confidence: float
    chars: list[CharResult] = field(default_factory=list)


class Recognizer:
    """A CRNN with its charset and preprocessing; thread-safe for inference.

    ``model`` is the network as loaded (what a checkpoint saves); on CPU inference runs
    :func:`~ocrcore.model.fast.inference_copy` of it (BatchNorm folded, oneDNN-friendly
    convolutions, pooling and LSTM), ``optimize=False`` runs the model as given. ``precision``: see
    :func:`resolve_precision`.
    """

    def __init__(self, model: CRNN, charset: Charset, config: Optional[dict] = None,
                 device: Optional[str | torch.device] = None, max_width: int = 8192, optimize: bool = True,
                 precision: str = "auto"):
        self.device = pick_device(device if device is None or isinstance(device, str) else str(device))
        self.precision = resolve_precision(precision, self.device)
        self.model = model.to(self.device).eval()
        self.net = inference_copy(self.model, self.precision) if optimize and self.device.type == "cpu" else self.model
        self.charset = charset
        self.config = config or {}
        self.max_width = max_width
        # the line geometry the model reads (model.json ``line_norm``; None: lines as given)
        self.line_norm: Optional[dict] = self.config.get("line_norm") or None

    @classmethod
    def load(cls, url: Optional[str] = None, *, device: Optional[str] = None,
             storage_options: Optional[dict] = None, num_threads: Optional[int] = None,
             precision: str = "auto") -> "Recognizer":
        """Load a model directory/prefix (local or any fsspec URL); None = the shipped model
        (names of shipped models: :data:`SHIPPED_NAMES`)."""
        if num_threads:
            torch.set_num_threads(int(num_threads))
        model, charset, config = load_model(resolve_model_url(url), storage_options=storage_options)
        return cls(model, charset, config, device=device, precision=precision)

    def _autocast(self):
        if self.precision == "fp32":
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16 if self.precision == "bf16" else torch.float16)

    @property
    def input_height(self) -> int:
        return self.model.input_height

    @property
    def width_factor(self) -> int:
        return self.model.factor

    def check_line(self, gray: np.ndarray) -> None:
        """Raise :class:`~ocrcore.model.lines.LineImageError` if ``gray`` cannot be read."""
        check_line_shape(np.shape(gray), self.input_height, max_width=self.max_width)

    @torch.no_grad()
    def recognize_lines(self, lines: Sequence[np.ndarray], *, batch_size: int = 16,
                        decoder: str = "greedy", beam_width: int = 10, lexicon=None,
                        reframe: Optional[bool] = None) -> list[LineResult]:
        """Read 2-D float line images (1.0 = white), in the given order.

        Lines are sorted by scaled width and batched, so padding stays small, and results do
        not depend on the batch size (exactly in fp32; in bf16 confidences may differ in the
        fourth decimal, as kernels differ per batch shape); each result's character columns are in the coordinates
        of the image passed in. A line that cannot be read (too small, too wide, not 2-D)
        raises :class:`~ocrcore.model.lines.LineImageError`: screen with :meth:`check_line`.
        ``decoder="beam"`` runs CTC prefix beam search, optionally constrained to ``lexicon``.
        ``reframe``: re-frame each line to the model's line geometry first
        (:func:`~ocrcore.model.lines.normalize_line`); None = when the model's config has one
        (``line_norm``). Lines cut by our page segmenter pass False where the model was
        trained on them as cut (``line_norm["segmented"]`` false).
        """
        if decoder not in ("greedy", "beam"):
            raise ValueError(f"decoder must be 'greedy' or 'beam', got {decoder!r}")
        norm = self.line_norm if reframe is None else ((self.line_norm or {}) if reframe else None)
        scaled, scales, offsets = [], [], []
        for g in lines:
            g = np.asarray(g, dtype=np.float32)
            off = 0
            if norm is not None:
                check_line_shape(g.shape, self.input_height)  # the input's own faults first
                g, off = normalize_line(g, norm)
            s = scale_to_height(g, self.input_height, max_width=self.max_width)
            scaled.append(s)
            scales.append(g.shape[1] / max(s.shape[1], 1))
            offsets.append(off)
        order = sorted(range(len(scaled)), key=lambda i: scaled[i].shape[1])
        out: list[Optional[LineResult]] = [None] * len(scaled)
        f = self.width_factor
        for b in range(0, len(order), max(1, batch_size)):
            idx = order[b: b + batch_size]
            x, widths = pad_batch([scaled[i] for i in idx], min_width=f, multiple=PAD_MULTIPLE)
            with self._autocast():
                log_probs, lengths = self.net(x.to(self.device), widths)
            lp = log_probs.float().cpu().numpy()
            if decoder == "greedy":
                hyps = batch_greedy_decode(lp, lengths.tolist(), self.charset, log_probs=True)
            else:
                hyps = [beam_decode(lp[:, j], self.charset, log_probs=True, beam_width=beam_width,
                                    lexicon=lexicon, length=int(lengths[j])) for j in range(len(idx))]
            for i, hyp in zip(idx, hyps):
                out[i] = self._to_result(hyp, scales[i], lines[i].shape[1] if hasattr(lines[i], "shape") else 0,
                                         offsets[i])
        return out  # type: ignore[return-value]

    def _to_result(self, hyp: LineHyp, scale: float, width: int, offset: int = 0) -> LineResult:
        f = self.width_factor
        chars = []
        for c in hyp.chars:
            x0 = int(np.floor(c.start * f * scale)) - offset
            x1 = int(np.ceil(c.end * f * scale)) - offset
            x0 = max(0, x0)
            x1 = max(x0, min(width, x1) if width else x1)
            chars.append(CharResult(c.text, c.confidence, c.start, c.end, x0, x1))
        return LineResult(hyp.text, hyp.confidence, chars)

"""Training of the CRNN line recognizer: device-agnostic, deterministic, resumable.

Pipeline: records (a dataset URL, a list of records, or a callable returning an iterable of
them) -> decode -> grayscale -> scale to the model's input height keeping aspect -> batches of
similar width (bucketing) padded white with true widths -> seeded on-the-fly augmentation ->
CRNN -> CTC loss (``zero_infinity``) -> AdamW with warm-up + cosine/linear decay, gradient
clipping, mixed precision on CUDA (optionally plus a frame-level KL to a teacher model's
output: distillation into a smaller, faster student) -> periodic validation (CER, WER, sequence accuracy, CTC loss) -> best
checkpoint kept (lowest CER, then highest sequence accuracy, then lowest loss), early stopping,
last checkpoint for resume.

Determinism: every random draw derives from ``(seed, epoch, batch)`` or ``(seed, step)``: the
epoch's order and bucketing from ``(seed, epoch)``, augmentation from ``(seed, epoch, batch)``,
torch's generator (dropout) is re-seeded from ``(seed, step)`` before each step. Resuming
therefore needs only the step, epoch and batch position plus the weights and optimizer state,
which the last checkpoint holds (safetensors + JSON; the RNG states are stored as well). On CPU a
run interrupted and resumed ends bit-identical to an uninterrupted one.

Output layout under ``out``: ``model.safetensors`` + ``model.json`` (the best model on
validation, what ``ocr eval`` and recognition load) and ``last/`` (the latest model plus
``training_state.safetensors`` / ``training_state.json`` for resuming, written so that a kill
while it is saved leaves a complete copy: see ``Trainer._save_last``).
"""
from __future__ import annotations

import dataclasses
import hashlib
import logging
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, Optional, Sequence

import numpy as np
import torch
from torch import nn

from ocrcore import storage
from ocrcore.evaluate import EvalReport, score
from ocrcore.imageio import ImageError
from ocrcore.model import checkpoint as ckpt
from ocrcore.model.augment import AugmentConfig, augment_line
from ocrcore.model.charset import Charset, UnknownCharactersError, normalize_text
from ocrcore.model.crnn import (VARIANTS, build_model, resolve_config, width_factor, with_input_height,
                                with_width_factor)
from ocrcore.model.ctc import batch_greedy_decode
from ocrcore.model.lines import (LINE_NORM_DEFAULT, LineImageError, from_uint8, normalize_line, pad_batch,
                                 scale_to_height, to_uint8)
from ocrcore.model.predict import cpu_has_fast_bf16, pick_device, record_to_gray

log = logging.getLogger("ocrcore.train")

STATE_FORMAT = "ocrcore-train-state"
# Config fields that may change between an interrupted run and its resumption.
RUNTIME_FIELDS = {"num_threads", "device", "amp", "log_every", "checkpoint_every", "val_batch_size", "cache"}


# arch="auto": the compact variant below this many training samples, crnn_small from there on.
# Both read 32-pixel lines, so the images can be prepared before the data is counted.
AUTO_SMALL_ARCH, AUTO_LARGE_ARCH, AUTO_ARCH_THRESHOLD = "crnn_compact", "crnn_small", 20_000

# input_height="auto" with init="auto": small images (median aspect at most AUTO_TALL_MAX_ASPECT)
# at least AUTO_TALL_HEIGHT pixels tall are read at that height, the shipped model resized to it
# (crnn.with_input_height), with blur and morphology left out of augmentation. Captchas of 200x50
# lose at 32 pixels what tells a `c` under a noise stroke from an `e`: trained by `ocr train` on
# 936 look-alikes and read on 2,000 unseen ones, CER 0.66% and 0.96% (two seeds; the raw weights
# kept, before AUTO_EMA_DECAY) against 2.01% and 1.46% at 32 pixels (bench/RESULTS.md, Captchas). Lines are left at 32: they are wide, so 48 would cost
# 2.25x the training time on a user's own data for a gain not measured there.
AUTO_TALL_HEIGHT, AUTO_TALL_MAX_ASPECT = 48, 8.0
TALL_AUGMENT = {"p_blur": 0.0, "p_morph": 0.0}  # fine detail at the native scale: do not erase it

# ema_decay="auto": the weight average validated and kept when init="auto" fine-tunes the shipped
# model on a small dataset (a time constant of 500 steps, 8.5 epochs of 936 captchas). There the
# raw weights' validation CER wanders by +-2 errors from epoch to epoch to the end (BatchNorm
# statistics of augmented batches of 16), so the best of 40 validations on 104 captchas picked a
# checkpoint by luck: on 2,000 unseen look-alikes 0.66% and 0.96% (two seeds), the average's
# 0.58% and 0.68%, its curve smooth (bench/RESULTS.md, Captchas).
AUTO_EMA_DECAY = 0.998


def auto_arch(n_train: int) -> str:
    """The architecture ``arch="auto"`` picks: small sets overfit a second LSTM layer and leave
    CTC's all-blank plateau much later with it (measured on 936 captchas, see bench/RESULTS.md)."""
    return AUTO_SMALL_ARCH if n_train < AUTO_ARCH_THRESHOLD else AUTO_LARGE_ARCH


def auto_epochs(n_train: int, fine_tune: bool = False, budget: float = 1.0) -> float:
    """Epochs for ``epochs="auto"``: about 120,000 samples seen, between 30 and 150 epochs;
    when fine-tuning a trained model, about 80,000, between 20 and 150; ``budget`` scales the
    samples (a model resized to read taller images gets 32/48 of them, so it trains in about
    the same time: each sample costs it about 1.6x).

    From scratch, a thousand captchas need well over 100 epochs (CTC sits on its all-blank
    plateau for the first 30 or so); tens of thousands of lines need far fewer passes. A trained
    model has no plateau (CER 9% after one epoch on 936 captchas), and the longer schedule
    still paid: on 2,000 unseen look-alike captchas, 86 epochs read CER 1.55%, 43 epochs 2.43%.
    """
    if fine_tune:
        return float(min(150, max(20, round(80_000 * budget / max(1, n_train)))))
    return float(min(150, max(30, round(120_000 * budget / max(1, n_train)))))


class TrainError(ValueError):
    """Training cannot start or continue; the message says why."""


class EmptyDatasetError(TrainError):
    """The dataset (or the training part of the split) has no usable records."""


# ------------------------------------------------------------------------------- configuration

@dataclass
class TrainConfig:
    """All training settings; :meth:`from_dict` rejects unknown keys."""

    arch: str = "auto"                   # a name in ocrcore.model.crnn.VARIANTS, or "auto" (see auto_arch)
    model: dict = field(default_factory=dict)  # overrides of the architecture config
    width_factor: Any = "auto"           # pixels per output frame: "auto" (4 or 8 from the data), an int, or None (arch default)
    input_height: Any = "auto"           # pixels: "auto" (the arch's or init model's; see AUTO_TALL_HEIGHT) or an int
    charset: Optional[str] = None        # explicit characters; None = built from training labels
    normalize: str = "ocr"               # label normalisation: none | nfc | ocr (see charset.py)
    on_unknown_chars: str = "raise"      # training label outside an explicit charset: raise | skip
    batch_size: int = 16                 # small data on CPU learns fastest with small batches; use 64+ on GPU
    max_steps: Optional[int] = None      # total optimizer steps; None = epochs x batches per epoch
    epochs: Any = "auto"                 # a number, or "auto" (see auto_epochs)
    lr: float = 1e-3
    weight_decay: float = 1e-2
    warmup_fraction: float = 0.05        # of max_steps (warmup_steps overrides)
    warmup_steps: Optional[int] = None
    schedule: str = "cosine"             # cosine | linear | constant (after warm-up)
    min_lr_ratio: float = 0.02
    grad_clip: float = 5.0               # max global gradient norm; 0 = off
    ema_decay: Any = "auto"              # >0: validate and save an exponential moving average of the weights;
                                         # 0 = off; "auto": AUTO_EMA_DECAY when init="auto" fine-tunes, else off
    amp: str = "auto"                    # auto (CUDA: bf16, else fp16 + GradScaler; CPU: bf16 where
                                         # the CPU has bf16 hardware, else off) | off | bf16 | fp16
    device: str = "auto"                 # auto | cpu | cuda | cuda:N
    num_threads: Optional[int] = None    # torch CPU threads
    seed: int = 0
    val_fraction: float = 0.1
    split_seed: int = 0
    max_val_samples: Optional[int] = None
    val_every: Optional[int] = None      # steps; None = once per epoch
    val_batch_size: int = 64
    patience: int = 0                    # validations without improvement before stopping; 0 = off
    checkpoint_every: Optional[int] = None  # steps between last-checkpoint saves; None = val_every
    log_every: int = 10
    augment: bool = True
    augment_params: dict = field(default_factory=dict)  # overrides of AugmentConfig
    line_norm: Any = "auto"              # auto (an explicit init model's; else off) | off | on | {above, below, side}
    bucket_batches: int = 8              # batches sorted by width together
    max_width: int = 4096                # scaled width above which a line is skipped
    on_bad_sample: str = "skip"          # undecodable / too small / too wide image: skip | raise
    cache: str = "auto"                  # memory | stream | auto (memory up to cache_limit records)
    cache_limit: int = 50_000
    shuffle_buffer: int = 4096           # stream mode
    teacher: Optional[str] = None        # a model URL to distil from (same charset, height, width factor)
    distill_weight: float = 1.0          # weight of the frame-level KL to the teacher, beside CTC's 1

    def __post_init__(self):
        choices = {"normalize": ("none", "nfc", "ocr"), "on_unknown_chars": ("raise", "skip"),
                   "schedule": ("cosine", "linear", "constant"), "amp": ("auto", "off", "bf16", "fp16"),
                   "on_bad_sample": ("skip", "raise"), "cache": ("auto", "memory", "stream")}
        for k, allowed in choices.items():
            if getattr(self, k) not in allowed:
                raise ValueError(f"TrainConfig.{k} must be one of {allowed}, got {getattr(self, k)!r}")
        if self.arch != "auto" and self.arch not in VARIANTS:
            raise ValueError(f"unknown arch {self.arch!r}; known: auto, {', '.join(sorted(VARIANTS))}")
        if self.epochs != "auto" and (isinstance(self.epochs, bool) or not isinstance(self.epochs, (int, float))
                                      or self.epochs <= 0):
            raise ValueError(f"epochs must be a positive number or 'auto', got {self.epochs!r}")
        if self.distill_weight < 0:
            raise ValueError(f"distill_weight must be >= 0, got {self.distill_weight}")
        if self.ema_decay != "auto" and (isinstance(self.ema_decay, bool) or not isinstance(self.ema_decay, (int, float))
                                         or not 0.0 <= self.ema_decay < 1.0):
            raise ValueError(f"ema_decay must be 'auto' or a number in [0, 1) (0 = off), got {self.ema_decay!r}")
        if not 0.0 <= self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must be in [0, 1), got {self.val_fraction}")
        if self.batch_size < 1 or (self.max_steps is not None and self.max_steps < 1):
            raise ValueError("batch_size and max_steps must be positive")
        for arch in ([AUTO_SMALL_ARCH, AUTO_LARGE_ARCH] if self.arch == "auto" else [self.arch]):
            resolve_config({**self.model, "arch": arch, "num_classes": 2})  # unknown model keys raise
        if self.width_factor not in ("auto", None) and not isinstance(self.width_factor, int):
            raise ValueError(f"width_factor must be 'auto', None or an int, got {self.width_factor!r}")
        if self.input_height != "auto":
            if isinstance(self.input_height, bool) or not isinstance(self.input_height, int) or self.input_height < 16:
                raise ValueError(f"input_height must be 'auto' or an int of at least 16 pixels, got {self.input_height!r}")
            if self.model.get("input_height", self.input_height) != self.input_height:
                raise ValueError(f"input_height {self.input_height} contradicts model.input_height "
                                 f"{self.model['input_height']}; give one of them")
        AugmentConfig.from_dict(self.augment_params)  # unknown augmentation keys raise
        if not (self.line_norm in ("auto", "off", "on") or isinstance(self.line_norm, dict)):
            raise ValueError(f"line_norm must be 'auto', 'off', 'on' or a dict of normalize_line parameters, "
                             f"got {self.line_norm!r}")
        if isinstance(self.line_norm, dict):
            unknown = set(self.line_norm) - set(LINE_NORM_DEFAULT) - {"segmented"}
            if unknown:
                raise ValueError(f"unknown line_norm key(s) {sorted(unknown)}; allowed: {sorted(LINE_NORM_DEFAULT)}")

    @classmethod
    def from_dict(cls, d: dict) -> "TrainConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        if unknown:
            raise ValueError(f"unknown TrainConfig key(s) {sorted(unknown)}; allowed: {sorted(names)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass
class TrainResult:
    """What a training run did and reached."""

    out: str
    best_metrics: dict
    step: int
    epochs: float
    history: list[dict]
    stopped_early: bool
    skipped: dict
    n_train: int
    n_val: int
    val_unknown_chars: dict
    samples_per_s: float
    elapsed_s: float
    resumed_from_step: int = 0
    device: str = "cpu"
    amp: str = "off"


# ------------------------------------------------------------------------------- helpers

def split_ids(ids: Iterable[str], val_fraction: float, seed: int) -> tuple[list[str], list[str]]:
    """Deterministic train/validation split of record ids (sorted lists, disjoint).

    The unique ids are sorted, permuted with ``numpy.random.default_rng(seed)`` and the first
    ``round(n * val_fraction)`` (at least one when ``val_fraction > 0`` and n > 1) go to
    validation. Independent of the order records arrive in; recorded with the model so
    ``ocr eval --split val`` evaluates exactly the same lines.
    """
    uniq = sorted(set(str(i) for i in ids))
    n = len(uniq)
    n_val = int(round(n * float(val_fraction)))
    if val_fraction > 0 and n > 1:
        n_val = min(max(n_val, 1), n - 1)
    perm = np.random.default_rng(int(seed)).permutation(n)
    val = sorted(uniq[i] for i in perm[:n_val])
    val_set = set(val)
    return [i for i in uniq if i not in val_set], val


def ids_digest(ids: Iterable[str]) -> str:
    """Short SHA-256 of a sorted id list (identifies a split without storing it)."""
    h = hashlib.sha256()
    for i in sorted(ids):
        h.update(i.encode("utf-8") + b"\n")
    return h.hexdigest()[:16]


def split_from_model_config(model_config: dict, ids: Iterable[str], split: str = "val") -> list[str]:
    """The ids of ``split`` ("train" | "val") as recorded in a trained model's ``model.json``."""
    sp = (model_config.get("training") or {}).get("split")
    if not sp:
        raise TrainError("this model records no train/validation split (trained elsewhere, averaged from other models, or with explicit val data)")
    train_ids, val_ids = split_ids(ids, sp["val_fraction"], sp["seed"])
    chosen = val_ids if split == "val" else train_ids if split == "train" else None
    if chosen is None:
        raise ValueError(f"split must be 'train' or 'val', got {split!r}")
    if split == "val" and sp.get("val_ids_sha256") and ids_digest(val_ids) != sp["val_ids_sha256"]:
        log.warning("the dataset's ids differ from those the model was trained on; the validation split differs")
    return chosen


def batches_per_epoch(n: int, batch_size: int, bucket_batches: int) -> int:
    """Batches one epoch of ``n`` samples yields (chunks of ``bucket_batches`` batches)."""
    chunk = batch_size * bucket_batches
    full, rest = divmod(n, chunk)
    return full * bucket_batches + math.ceil(rest / batch_size)


def lr_factor(step: int, total: int, warmup: int, schedule: str, min_ratio: float) -> float:
    """Learning-rate multiplier for (0-based) ``step``: linear warm-up, then decay."""
    if warmup > 0 and step < warmup:
        return (step + 1) / warmup
    if schedule == "constant":
        return 1.0
    p = min(1.0, (step - warmup) / max(1, total - warmup))
    if schedule == "cosine":
        return min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p))
    return min_ratio + (1 - min_ratio) * (1 - p)


def distill_loss(student: torch.Tensor, teacher: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """Mean over valid frames of KL(teacher || student), both ``T x N x C`` log-probabilities.

    Frames at or past a line's length (padding) do not count. CTC alone tells a student only
    which characters a line holds; the teacher's frame posteriors also say where each is and
    how sure to be, which a small network learns far sooner than CTC's alignment.
    """
    t = student.shape[0]
    valid = (torch.arange(t, device=student.device).unsqueeze(1) < lengths.to(student.device).unsqueeze(0))
    kl = (teacher.exp() * (teacher - student)).sum(-1)  # T x N
    return (kl * valid).sum() / valid.sum().clamp(min=1)


def ctc_min_frames(labels: Sequence[int]) -> int:
    """Frames CTC needs for a label sequence (one per label + one between repeats)."""
    return len(labels) + sum(1 for a, b in zip(labels, labels[1:]) if a == b)


@dataclass
class _Sample:
    id: str
    image: np.ndarray  # uint8, model height, 255 = white
    labels: list[int]
    text: str


class _Skip(Exception):
    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


class _Source:
    """Re-iterable records from a dataset URL, a sequence, or a zero-argument callable."""

    def __init__(self, data: Any, storage_options: Optional[dict]):
        self.url = None
        if isinstance(data, str):
            from ocrcore import datasets

            self.url = data
            self._it = lambda columns=None: datasets.iter_records(data, columns=columns, storage_options=storage_options)
        elif callable(data):
            self._it = lambda columns=None: iter(data())
        elif data is None:
            raise TrainError("no training data given")
        else:
            items = data if isinstance(data, (list, tuple)) else list(data)
            self._it = lambda columns=None: iter(items)

    def __call__(self, columns=None) -> Iterator[dict]:
        return self._it(columns)

    def describe(self) -> str:
        return storage.redact(self.url) if self.url else "<records>"


def _amp_setup(amp: str, device: torch.device) -> tuple[Optional[torch.dtype], bool]:
    """(autocast dtype or None, use GradScaler).

    ``auto``: on CUDA bf16, or fp16 with a gradient scaler where bf16 is missing; on a CPU with
    bf16 hardware (:func:`~ocrcore.model.predict.cpu_has_fast_bf16`) bf16, 1.19-1.52x fp32's
    samples/s on an AVX512-BF16 EPYC at the same accuracy (``bench/RESULTS.md``, bf16 on CPUs
    without AMX); on other CPUs off, since emulated bf16 trained 5-7x slower there.
    """
    if amp == "off":
        return None, False
    if amp == "auto":
        if device.type != "cuda":
            return (torch.bfloat16, False) if device.type == "cpu" and cpu_has_fast_bf16() else (None, False)
        return (torch.bfloat16, False) if torch.cuda.is_bf16_supported() else (torch.float16, True)
    return (torch.bfloat16, False) if amp == "bf16" else (torch.float16, True)


def _amp_name(dtype: Optional[torch.dtype]) -> str:
    return {torch.bfloat16: "bf16", torch.float16: "fp16"}.get(dtype, "off")


def _seed_torch(seed: int, step: int) -> None:
    torch.manual_seed((int(seed) * 1_000_003 + int(step)) % (2**63 - 1))


# ------------------------------------------------------------------------------- trainer

LAST_SLOT = "last"        # the resume checkpoint under a model's output
SPARE_SLOT = "last-next"  # the same set written first, so a kill mid-save leaves one slot whole

class Trainer:
    """One training run; :func:`train` is the usual entry point."""

    def __init__(self, config: TrainConfig | dict, data: Any, *, out: str, val_data: Any = None,
                 init: Optional[str] = None, resume: bool = True,
                 progress: Optional[Callable[[dict], None]] = None, storage_options: Optional[dict] = None):
        self.cfg = config if isinstance(config, TrainConfig) else TrainConfig.from_dict(dict(config))
        self.out = str(out)
        self.so = storage_options
        self.progress = progress
        self.init = init  # a model URL, None (from scratch), or "auto" (resolved in _plan_data)
        self.init_auto = False
        self.init_height: Optional[int] = None  # the init model's input height, before any resizing
        self.budget = 1.0  # of auto_epochs' samples
        self.init_line_norm: Optional[dict] = None  # the init model's line geometry, read with its charset
        self.resume = resume
        if self.cfg.num_threads:
            torch.set_num_threads(int(self.cfg.num_threads))
        self.device = pick_device(self.cfg.device)
        self.amp_dtype, self.use_scaler = _amp_setup(self.cfg.amp, self.device)
        self.src = _Source(data, storage_options)
        self.val_src = _Source(val_data, storage_options) if val_data is not None else None
        self.skipped: Counter = Counter()
        self.aug_cfg = AugmentConfig.from_dict(self.cfg.augment_params)

    # -- events ---------------------------------------------------------------------------------
    def _emit(self, event: str, **kw) -> None:
        if self.progress is not None:
            self.progress({"event": event, **kw})

    # -- data -----------------------------------------------------------------------------------
    def _plan_data(self) -> None:
        """Read ids and labels, split, build or check the charset."""
        rows, self.px_per_char, sizes = [], [], {}
        for r in self.src(columns=["id", "text", "width", "height"]):
            rows.append((str(r["id"]), r.get("text") or ""))
            w, h, n = r.get("width") or 0, r.get("height") or 0, len(r.get("text") or "")
            if w > 0 and h > 0:
                sizes[rows[-1][0]] = (h, w)
            if w > 0 and h > 0 and n > 0:
                self.px_per_char.append((rows[-1][0], w * self.height / h / n))
        if not rows:
            raise EmptyDatasetError(f"the training dataset {self.src.describe()} has no records")
        norm = self.cfg.normalize
        if self.val_src is None:
            train_ids, val_ids = split_ids([i for i, _ in rows], self.cfg.val_fraction, self.cfg.split_seed)
            self.split_info = {"seed": self.cfg.split_seed, "val_fraction": self.cfg.val_fraction,
                               "n_train": len(train_ids), "n_val": len(val_ids), "val_ids_sha256": ids_digest(val_ids)}
            val_set = set(val_ids)
            val_rows = [(i, t) for i, t in rows if i in val_set]
        else:
            train_ids = sorted({i for i, _ in rows})
            val_rows = [(str(r["id"]), r.get("text") or "") for r in self.val_src(columns=["id", "text"])]
            val_ids = sorted({i for i, _ in val_rows})
            self.split_info = None
        if self.cfg.max_val_samples is not None and len(val_ids) > self.cfg.max_val_samples:
            val_ids = val_ids[: self.cfg.max_val_samples]
        self.train_ids, self.val_ids = set(train_ids), set(val_ids)
        if not self.train_ids:
            raise EmptyDatasetError(f"no training records left after the validation split of {self.src.describe()}")
        train_texts = [t for i, t in rows if i in self.train_ids]
        self.px_per_char = [v for i, v in self.px_per_char if i in self.train_ids]
        if self.init == "auto":
            self.init = self._auto_init(len(self.train_ids))
            self.init_auto = self.init is not None
            if self.init_auto and self.cfg.input_height == "auto":
                self.height = self._auto_height([sizes[i] for i in self.train_ids if i in sizes])

        self._load_teacher()
        self.charset = self._make_charset(train_texts, norm)
        if self.teacher is not None and self.charset.chars != self.teacher_charset.chars:
            raise TrainError(f"distillation needs the student's classes to be the teacher's ({self.cfg.teacher}); "
                             "train without an explicit charset, or fine-tune from a model with the teacher's charset")
        self.line_norm = self._resolve_line_norm()
        bad_train: Counter = Counter()
        for t in train_texts:
            bad_train.update(self.charset.unknown_chars(t))
        if bad_train and self.cfg.on_unknown_chars == "raise":
            raise UnknownCharactersError(bad_train, where="training labels (set on_unknown_chars='skip' to drop them)")
        self.val_unknown = Counter()
        for i, t in val_rows:
            if i in self.val_ids:
                self.val_unknown.update(self.charset.unknown_chars(t))
        if self.val_unknown:
            msg = str(UnknownCharactersError(self.val_unknown, where="validation labels"))
            log.warning("%s (they count as errors)", msg)
            self._emit("warning", message=msg)
        self.n_train_rows = len(self.train_ids)
        cache = self.cfg.cache
        self.in_memory = cache == "memory" or (cache == "auto" and len(rows) <= self.cfg.cache_limit)

    def _load_teacher(self) -> None:
        """Load ``teacher`` (when set) as a frozen, eval-mode network on the training device."""
        self.teacher = None
        if not self.cfg.teacher:
            return
        from ocrcore.model.predict import resolve_model_url

        model, cs, config = ckpt.load_model(resolve_model_url(self.cfg.teacher), storage_options=self.so)
        if model.input_height != self.height:
            raise TrainError(f"the teacher {self.cfg.teacher} reads {model.input_height}-pixel lines, the student "
                             f"{self.height}-pixel ones; distillation needs the same input height")
        self.teacher_charset, self.teacher_line_norm = cs, config.get("line_norm") or None
        model.eval().requires_grad_(False)
        if self.device.type == "cpu":
            from ocrcore.model.fast import inference_copy

            model = inference_copy(model, "fp32")
        self.teacher = model.to(self.device)

    def _auto_init(self, n_train: int) -> Optional[str]:
        """``init="auto"``: the shipped model for a small dataset trained with default settings
        (``arch`` and width factor auto, no charset or model overrides), else
        None (from scratch). Below :data:`AUTO_ARCH_THRESHOLD` samples a model that already reads
        printed glyphs learns faster and generalises better than a fresh one: trained on 936
        look-alike captchas and read on 2,000 unseen ones, CER 1.55% after 11.5 min against
        2.09% after 13.2 min from scratch (single runs; bench/RESULTS.md)."""
        cfg = self.cfg
        if (n_train >= AUTO_ARCH_THRESHOLD or cfg.arch != "auto" or cfg.charset is not None or cfg.model
                or cfg.teacher
                or cfg.width_factor != "auto"):
            return None
        from ocrcore.model.predict import default_model_url

        url = default_model_url()
        try:
            height = int(ckpt.read_json(ckpt.model_urls(url, self.so)[1], self.so)["model"]["input_height"])
        except Exception as e:  # noqa: BLE001 - a damaged install falls back to training from scratch
            log.warning("init=auto: cannot read the shipped model (%s); training from scratch", e)
            return None
        return url if height == self.height or self.cfg.input_height != "auto" else None

    def _auto_height(self, sizes: list[tuple[int, int]]) -> int:
        """The input height for ``init="auto"``: :data:`AUTO_TALL_HEIGHT` for small images at
        least that tall (captchas), else the shipped model's; taller also means no blur or
        morphology in augmentation and a training budget scaled to keep the time."""
        if not sizes:
            return self.height
        h = float(np.median([s[0] for s in sizes]))
        aspect = float(np.median([s[1] / s[0] for s in sizes]))
        if h < AUTO_TALL_HEIGHT or aspect > AUTO_TALL_MAX_ASPECT or self.height >= AUTO_TALL_HEIGHT:
            return self.height
        self.aug_cfg = AugmentConfig.from_dict({**TALL_AUGMENT, **self.cfg.augment_params})
        self.budget = self.height / AUTO_TALL_HEIGHT
        log.info("input_height=auto: images of median %.0f px, aspect %.1f, read at %d px (the shipped model at %d)",
                 h, aspect, AUTO_TALL_HEIGHT, self.height)
        return AUTO_TALL_HEIGHT

    def _make_charset(self, train_texts: list[str], norm: str) -> Charset:
        if self.init is not None:
            if self.cfg.charset is not None:
                raise TrainError("give either init (whose charset is extended) or an explicit charset, not both")
            model, cs, init_config = ckpt.load_model(self.init, storage_options=self.so)
            self.init_line_norm = init_config.get("line_norm") or None
            self.init_height = model.input_height
            if model.input_height != self.height:
                model = with_input_height(model, self.height)
            self.init_model = model
            self.init_charset = cs
            if self.init_auto:  # the data's own characters only: the model emits nothing else
                return Charset.from_texts(train_texts, normalize=norm)
            if self.cfg.charset is None:
                new = sorted({c for t in train_texts for c in normalize_text(t, cs.normalize)} - set(cs.chars))
                return Charset(cs.chars + new, normalize=cs.normalize)
        if self.cfg.charset is not None:
            return Charset(list(self.cfg.charset), normalize=norm)
        if self.teacher is not None:  # the student emits the teacher's classes, frame by frame
            return Charset(list(self.teacher_charset.chars), normalize=self.teacher_charset.normalize)
        return Charset.from_texts(train_texts, normalize=norm)

    def _resolve_line_norm(self) -> Optional[dict]:
        """The line geometry every sample is re-framed to (None: as given), saved with the model.

        A model fine-tuned from a base the user names keeps its base's, so it reads what it was
        built to read. ``init="auto"`` (a small dataset: captchas, a user's own lines) reads its
        data as given: its images are framed alike, and re-framed captchas, whose noise strokes
        and specks move the measured band, read at 3.9% CER against 1.7% (2,000 held-out
        look-alikes, ``bench/bench_captcha_cli.py``). Training re-frames every sample, lines cut
        from pages included; ``segmented`` (default false) says whether recognition re-frames the
        lines our page segmenter cuts: they come cut close to this geometry already (baseline
        1.73 and 0.71 x-heights from top and bottom against 1.8 and 0.8), and re-framing costs
        about 0.65 ms a line.
        """
        ln = self.cfg.line_norm
        if ln == "auto" and self.init is None and self.teacher is not None:
            ln = self.teacher_line_norm  # the student reads lines framed as its teacher reads them
        elif ln == "auto":  # init="auto" took the shipped model for its glyphs, on data framed alike
            ln = None if self.init_auto else self.init_line_norm
        elif ln == "off":
            ln = None
        elif ln == "on":
            ln = {}
        if ln is None:
            return None
        return {**LINE_NORM_DEFAULT, "segmented": False, **ln}

    def _prepare(self, rec: dict, *, labels_needed: bool) -> _Sample:
        sid = str(rec.get("id"))
        try:
            gray = record_to_gray(rec)
            if self.line_norm is not None:
                gray = normalize_line(gray, self.line_norm)[0]
            img = scale_to_height(gray, self.height, max_width=self.cfg.max_width)
        except ImageError as e:
            raise _Skip(e.error_type, str(e)) from None
        except LineImageError as e:
            raise _Skip(e.reason, f"{sid}: {e}") from None
        text = self.charset.normalize_text(rec.get("text") or "")
        labels: list[int] = []
        if labels_needed:
            if self.charset.unknown_chars(text):
                raise _Skip("unknown_chars", f"{sid}: label has characters outside the charset")
            labels = self.charset.encode(text)
        return _Sample(sid, to_uint8(img), labels, text)

    def _fits(self, s: _Sample) -> bool:
        """Whether CTC can align the sample's label with its frames."""
        return max(s.image.shape[1], self.factor) // self.factor >= ctc_min_frames(s.labels)

    def _iter_train_samples(self, count: bool) -> Iterator[_Sample]:
        for rec in self.src():
            if str(rec.get("id")) not in self.train_ids:
                continue
            try:
                sample = self._prepare(rec, labels_needed=True)
                if not self._fits(sample):
                    raise _Skip("label_too_long", f"{sample.id}: {len(sample.labels)} characters do not fit "
                                                  f"{sample.image.shape[1]} px ({sample.image.shape[1] // self.factor} frames)")
                yield sample
            except _Skip as e:
                if self.cfg.on_bad_sample == "raise" and e.reason != "unknown_chars":
                    raise TrainError(str(e)) from None
                if count:
                    self.skipped[e.reason] += 1

    def _load_val(self) -> None:
        self.val: list[_Sample] = []
        self.val_bad: list[tuple[str, str, str]] = []
        if not self.val_ids:
            return
        src = self.val_src or self.src
        for rec in src():
            sid = str(rec.get("id"))
            if sid not in self.val_ids:
                continue
            try:
                s = self._prepare(rec, labels_needed=False)
            except _Skip as e:
                self.val_bad.append((sid, self.charset.normalize_text(rec.get("text") or ""), f"{e.reason}: {e}"))
                continue
            if s.text and not self.charset.unknown_chars(s.text):
                s.labels = self.charset.encode(s.text)
                if not self._fits(s):  # scored, but no CTC loss: no alignment exists
                    s.labels = []
            self.val.append(s)
        self.val.sort(key=lambda s: (s.image.shape[1], s.id))

    def _epoch_batches(self, epoch: int) -> Iterator[list[_Sample]]:
        """Deterministic batches of one epoch: seeded order, then width-bucketed chunks."""
        rng = np.random.default_rng([self.cfg.seed, epoch, 0xB47C])
        if self.in_memory:
            order = rng.permutation(len(self.train))
            stream: Iterable[_Sample] = (self.train[i] for i in order)
        else:
            stream = self._shuffled(self._iter_train_samples(count=epoch == 0), rng)
        bs, chunk_n = self.cfg.batch_size, self.cfg.batch_size * self.cfg.bucket_batches
        chunk: list[_Sample] = []
        for s in stream:
            chunk.append(s)
            if len(chunk) == chunk_n:
                yield from self._bucket(chunk, bs, rng)
                chunk = []
        if chunk:
            yield from self._bucket(chunk, bs, rng)

    @staticmethod
    def _bucket(chunk: list[_Sample], bs: int, rng: np.random.Generator) -> Iterator[list[_Sample]]:
        chunk = sorted(chunk, key=lambda s: s.image.shape[1])
        batches = [chunk[i: i + bs] for i in range(0, len(chunk), bs)]
        for j in rng.permutation(len(batches)):
            yield batches[int(j)]

    def _shuffled(self, it: Iterable[_Sample], rng: np.random.Generator) -> Iterator[_Sample]:
        buf: list[_Sample] = []
        for s in it:
            buf.append(s)
            if len(buf) >= self.cfg.shuffle_buffer:
                j = int(rng.integers(len(buf)))
                buf[j], buf[-1] = buf[-1], buf[j]
                yield buf.pop()
        order = rng.permutation(len(buf))
        for j in order:
            yield buf[int(j)]

    def _make_batch(self, batch: list[_Sample], epoch: int, index: int):
        rng = np.random.default_rng([self.cfg.seed, epoch, index, 0xA06])
        images = []
        for s in batch:
            img = from_uint8(s.image)
            if self.cfg.augment:
                aug = augment_line(img, rng, self.aug_cfg)
                if aug.shape[1] // self.factor >= ctc_min_frames(s.labels):
                    img = aug
            images.append(img)
        x, widths = pad_batch(images, min_width=self.factor)
        targets = torch.tensor([k for s in batch for k in s.labels], dtype=torch.long)
        target_lengths = torch.tensor([len(s.labels) for s in batch], dtype=torch.long)
        return x, widths, targets, target_lengths

    # -- model / optimizer -----------------------------------------------------------------------
    def _model_config_height(self) -> int:
        if self.cfg.input_height != "auto":  # an init model of another height is resized to it
            return int(self.cfg.input_height)
        if self.init not in (None, "auto"):  # "auto" only picks a model of the default height
            return int(ckpt.read_json(ckpt.model_urls(self.init, self.so)[1], self.so)["model"]["input_height"])
        arch = AUTO_LARGE_ARCH if self.cfg.arch == "auto" else self.cfg.arch
        return int(resolve_config({**self.cfg.model, "arch": arch, "num_classes": 2})["input_height"])

    def _model_config(self) -> dict:
        """Architecture config before the width factor is chosen (init model's when fine-tuning)."""
        if self.init is not None:
            return dict(self.init_model.config)
        return resolve_config({**self.cfg.model, "arch": self.arch, "num_classes": 2, "input_height": self.height})

    def _choose_factor(self, px_per_char: list[float]) -> int:
        """Width factor: fixed by config, or "auto": 8 when characters are wide enough to get
        4 frames each at 8 px per frame (32 px per character at the input height), else 4.

        Fewer frames per character leave CTC's all-blank plateau sooner, but overlapping
        doubled letters ("ee", "666") need a blank between two frames of the same letter: on
        936 synthetic captchas (25.6 px per character) factor 8 dropped one of a pair in 5 of 12
        validation errors and ended at CER ~3.3%, factor 4 at ~2.3% with no such drops.
        """
        default = width_factor(self._model_config())
        wf = self.cfg.width_factor
        if self.teacher is not None:  # frame t of the student must see what frame t of the teacher saw
            if wf not in ("auto", None, self.teacher.factor) or (self.init is not None and default != self.teacher.factor):
                raise TrainError(f"distillation needs the teacher's width factor ({self.teacher.factor}); got "
                                 f"{default if self.init is not None else wf}")
            return self.teacher.factor
        if self.init is not None or wf is None:
            return default
        if wf != "auto":
            return int(wf)
        if not px_per_char:
            return default
        return 8 if float(np.median(px_per_char)) / 8 >= 4.0 else 4

    def _build(self, factor: int) -> None:
        mcfg = with_width_factor({**self._model_config(), "num_classes": self.charset.num_classes}, factor)
        if self.init is not None:
            self.model = build_model(mcfg)
            src_sd = self.init_model.state_dict()
            sd = self.model.state_dict()
            # classifier rows follow their characters (blank first); new characters keep fresh rows
            rows = [(0, 0)] + [(self.charset.class_of(c), self.init_charset.class_of(c))
                               for c in self.charset.chars if c in self.init_charset]
            new_idx, old_idx = (torch.tensor(v) for v in zip(*rows))
            for k, v in src_sd.items():
                if k.startswith("classifier."):
                    sd[k][new_idx] = v[old_idx]
                elif sd[k].shape == v.shape:
                    sd[k] = v.clone()
                else:
                    raise TrainError(f"cannot fine-tune {self.init}: its {k} has shape {tuple(v.shape)}, "
                                     f"the new model's {tuple(sd[k].shape)}")
            self.model.load_state_dict(sd)
            del self.init_model
        else:
            _seed_torch(self.cfg.seed, -1)
            self.model = build_model(mcfg)
        self.model.to(self.device)
        self.height, self.factor = self.model.input_height, self.model.factor
        decay = [p for p in self.model.parameters() if p.ndim >= 2]
        no_decay = [p for p in self.model.parameters() if p.ndim < 2]
        self.opt = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.cfg.lr)
        self.scaler = torch.amp.GradScaler(self.device.type) if self.use_scaler else None
        self.ctc = nn.CTCLoss(blank=0, reduction="mean", zero_infinity=True)
        self.val_ctc = nn.CTCLoss(blank=0, reduction="none", zero_infinity=True)
        self.ema = None
        self.ema_decay = (AUTO_EMA_DECAY if self.init_auto else 0.0) if self.cfg.ema_decay == "auto" else float(self.cfg.ema_decay)
        if self.ema_decay > 0:  # weights (and BN statistics) averaged after every step
            from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

            self.ema = AveragedModel(self.model, multi_avg_fn=get_ema_multi_avg_fn(self.ema_decay), use_buffers=True)
            self.ema.module.eval()

    @property
    def eval_model(self) -> nn.Module:
        """What is validated and saved as the result: the weight average when ``ema_decay`` is on."""
        return self.ema.module if self.ema is not None else self.model

    # -- checkpoints -----------------------------------------------------------------------------
    def _training_meta(self, metrics: Optional[dict]) -> dict:
        return {
            "data": self.src.describe(),
            "val_data": self.val_src.describe() if self.val_src else None,
            "split": self.split_info,
            "steps": self.step,
            "planned_steps": self.max_steps,
            "epochs": round(self.epoch + self.batch_in_epoch / max(1, self.bpe), 4),
            "metrics": metrics or {},
            "config": self.cfg.to_dict(),
            "init": self.init,
            "init_auto": self.init_auto,
            "init_input_height": self.init_height,
            "ema_decay": self.ema_decay,
            "device": str(self.device),
            "amp": _amp_name(self.amp_dtype),
            "n_train": len(self.train) if self.in_memory else self.n_train_rows,
            "n_val": len(self.val) + len(self.val_bad),
            "skipped": dict(self.skipped),
            "history": self.history,
        }

    def _save_last(self) -> None:
        """Write the resume checkpoint: the model, the optimizer and RNG states, the position.

        Its four files are one set, and a kill can land between two of them. So the set is
        written whole to ``last-next/`` first and then over ``last/``, each time with
        ``training_state.json`` last, which holds the SHA-256 of the other three: at any moment
        at least one of the two slots is complete (see :meth:`_resume_slot`)."""
        files = ckpt.model_files(self.model, self.charset, training=self._training_meta(self.best_metrics),
                                 line_norm=self.line_norm)
        tensors: dict[str, torch.Tensor] = {}
        osd = self.opt.state_dict()
        extra_state: dict[str, dict] = {}
        for pid, st in osd["state"].items():
            for k, v in st.items():
                if torch.is_tensor(v):
                    tensors[f"optim.{pid}.{k}"] = v
                else:
                    extra_state.setdefault(str(pid), {})[k] = v
        if self.ema is not None:
            for k, v in self.ema.module.state_dict().items():
                tensors[f"ema.{k}"] = v
            tensors["ema_n_averaged"] = self.ema.n_averaged
        tensors["rng.torch"] = torch.get_rng_state()
        if torch.cuda.is_available():
            for i, s in enumerate(torch.cuda.get_rng_state_all()):
                tensors[f"rng.cuda.{i}"] = s
        np_state = np.random.get_state()
        py_state = random.getstate()
        state = {
            "format": STATE_FORMAT, "format_version": 1,
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "best_key": [None if v == math.inf else v for v in self.best_key] if self.best_key else None, "best_metrics": self.best_metrics,
            "bad_validations": self.bad_validations, "history": self.history,
            "stopped_early": self.stopped_early, "finished": self.finished,
            "config": self.cfg.to_dict(), "charset": self.charset.to_dict(), "split": self.split_info,
            "optimizer": {"param_groups": osd["param_groups"], "extra_state": extra_state},
            "scaler": self.scaler.state_dict() if self.scaler is not None else None,
            "numpy_random": [np_state[0], np_state[1].tolist(), *np_state[2:]],
            "python_random": [py_state[0], list(py_state[1]), py_state[2]],
            "samples_seen": self.samples_seen, "train_time_s": self.train_time,
            "loss_acc": [self.loss_sum, self.loss_n], "running_loss": self.running_loss, "lr": self.lr,
            "skipped": dict(self.skipped), "data": self.src.describe(),
        }
        files[ckpt.STATE_WEIGHTS_NAME] = ckpt.tensors_to_bytes(tensors, {"format": STATE_FORMAT})
        state["files"] = {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}
        files[ckpt.STATE_CONFIG_NAME] = ckpt.json_bytes(state)  # last: it completes the set
        spare, last = storage.join(self.out, SPARE_SLOT), storage.join(self.out, LAST_SLOT)
        for slot in (spare, last):
            for name, data in files.items():
                storage.write_bytes_atomic(storage.join(slot, name), data, self.so)
        for name in reversed(list(files)):  # the state file first: a slot without it is ignored
            storage.remove(storage.join(spare, name), self.so)
        self._emit("checkpoint", step=self.step, url=storage.redact(last))

    def _resume_slot(self) -> Optional[tuple[str, dict]]:
        """``(url, state)`` of the newest complete checkpoint under ``out``, None when there is none.

        A slot is complete when every file its ``training_state.json`` lists has the SHA-256
        recorded there (states written before the digests were recorded are taken as they are).
        Raises :class:`~ocrcore.model.checkpoint.CheckpointError` when checkpoints exist but none
        is complete: resuming from a mixed set would silently train on from the wrong state."""
        complete, broken = [], []
        for slot in (LAST_SLOT, SPARE_SLOT):
            url = storage.join(self.out, slot)
            state_url = storage.join(url, ckpt.STATE_CONFIG_NAME)
            if not storage.exists(state_url, self.so):
                continue
            state = ckpt.read_json(state_url, self.so)
            if not isinstance(state, dict) or state.get("format") != STATE_FORMAT:
                raise ckpt.CheckpointError(f"{storage.redact(state_url)}: not an ocrcore training state")
            ok = all(self._digest(storage.join(url, name)) == digest
                     for name, digest in (state.get("files") or {}).items())
            (complete if ok else broken).append((int(state.get("step", 0)), url, state))
        if complete:
            _, url, state = max(complete, key=lambda c: c[0])
            return url, state
        if broken:
            where = ", ".join(storage.redact(url) for _, url, _ in broken)
            raise ckpt.CheckpointError(f"{where}: the resume checkpoint is incomplete (its files do not match the "
                                       "digests in training_state.json); remove it to train from the start")
        return None

    def _digest(self, url: str) -> Optional[str]:
        """SHA-256 of the object at ``url``; None when it is missing."""
        try:
            return hashlib.sha256(storage.read_bytes(url, self.so)).hexdigest()
        except FileNotFoundError:
            return None

    def _try_resume(self) -> bool:
        found = self._resume_slot() if self.resume else None
        if found is None:
            return False
        last, state = found
        mine = self.cfg.to_dict()
        theirs = {**TrainConfig().to_dict(), **state.get("config", {})}  # keys added since: their defaults
        differ = sorted(k for k in set(mine) | set(theirs) if k not in RUNTIME_FIELDS and mine.get(k) != theirs.get(k))
        if differ:
            raise TrainError(f"cannot resume from {storage.redact(last)}: the training config differs in {differ}; "
                             "use the same settings, another output location, or resume=False")
        if state.get("charset") != self.charset.to_dict() or state.get("split") != self.split_info:
            raise TrainError(f"cannot resume from {storage.redact(last)}: the data (charset or split) changed")
        model, _, _ = ckpt.load_model(last, storage_options=self.so)
        self.model.load_state_dict(model.state_dict())
        tensors = ckpt.read_tensors(storage.join(last, ckpt.STATE_WEIGHTS_NAME), self.so)
        opt_state: dict[int, dict] = {}
        for k, v in tensors.items():
            if k.startswith("optim."):
                _, pid, name = k.split(".", 2)
                opt_state.setdefault(int(pid), {})[name] = v.to(self.device) if name != "step" else v
        for pid, extra in state["optimizer"].get("extra_state", {}).items():
            opt_state.setdefault(int(pid), {}).update(extra)
        try:
            self.opt.load_state_dict({"state": opt_state, "param_groups": state["optimizer"]["param_groups"]})
        except (ValueError, KeyError) as e:
            raise ckpt.CheckpointError(f"{storage.redact(last)}: optimizer state does not fit the model: {e}") from None
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        if self.ema is not None:
            self.ema.module.load_state_dict({k[4:]: v.to(self.device) for k, v in tensors.items() if k.startswith("ema.")})
            self.ema.n_averaged.copy_(tensors["ema_n_averaged"])
        if "rng.torch" in tensors:
            torch.set_rng_state(tensors["rng.torch"])
        if torch.cuda.is_available():
            states = [tensors[k] for k in sorted(t for t in tensors if t.startswith("rng.cuda."))]
            if len(states) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(states)
        ns = state["numpy_random"]
        np.random.set_state((ns[0], np.array(ns[1], dtype=np.uint32), *ns[2:]))
        ps = state["python_random"]
        random.setstate((ps[0], tuple(ps[1]), ps[2]))
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.best_key = tuple(math.inf if v is None else v for v in state["best_key"]) if state["best_key"] else None
        self.best_metrics = state["best_metrics"]
        self.bad_validations = state["bad_validations"]
        self.history = state["history"]
        self.stopped_early, self.finished = state["stopped_early"], state["finished"]
        self.samples_seen, self.train_time = state["samples_seen"], state["train_time_s"]
        self.loss_sum, self.loss_n = state["loss_acc"]
        self.running_loss, self.lr = state["running_loss"], state["lr"]
        if self.in_memory or not self.skipped:
            self.skipped = Counter(state.get("skipped", {}))
        self.resumed_from = self.step
        self._emit("resume", step=self.step, epoch=self.epoch)
        return True

    # -- validation ----------------------------------------------------------------------------
    @torch.no_grad()
    def validate(self) -> Optional[EvalReport]:
        """Greedy-decode the validation set; None when there is none. Sets :attr:`val_loss`:
        the mean CTC loss per character over the samples whose label the charset encodes (None
        when there are none), which ranks checkpoints of equal CER (:meth:`_on_validation`)."""
        self.val_loss = None
        if not self.val and not self.val_bad:
            return None
        net = self.eval_model
        was_training = net.training
        net.eval()
        ids, refs, hyps, confs, errs = [], [], [], [], []
        loss_sum, loss_n = 0.0, 0
        bs = self.cfg.val_batch_size
        for i in range(0, len(self.val), bs):
            batch = self.val[i: i + bs]
            x, widths = pad_batch([from_uint8(s.image) for s in batch], min_width=self.factor)
            with torch.autocast(self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
                lp, lengths = net(x.to(self.device), widths)
            lp = lp.float()
            scored = [j for j, s in enumerate(batch) if s.labels]
            if scored:
                sel = torch.tensor(scored, device=lp.device)
                targets = torch.tensor([k for j in scored for k in batch[j].labels], dtype=torch.long)
                tl = torch.tensor([len(batch[j].labels) for j in scored], dtype=torch.long)
                per = self.val_ctc(lp.index_select(1, sel), targets.to(lp.device), lengths.to(lp.device)[sel],
                                   tl.to(lp.device))
                loss_sum += float((per.cpu() / tl).sum())
                loss_n += len(scored)
            for s, h in zip(batch, batch_greedy_decode(lp.cpu().numpy(), lengths.tolist(), self.charset)):
                ids.append(s.id); refs.append(s.text); hyps.append(h.text); confs.append(h.confidence); errs.append("")
        for sid, text, err in self.val_bad:
            ids.append(sid); refs.append(text); hyps.append(""); confs.append(0.0); errs.append(err)
        if was_training:
            net.train()
        self.val_loss = loss_sum / loss_n if loss_n else None
        return score(refs, hyps, ids=ids, confidences=confs, errors=errs, normalize="none")

    # -- the loop ------------------------------------------------------------------------------
    def _train_step(self, batch: list[_Sample]) -> float:
        x, widths, targets, target_lengths = self._make_batch(batch, self.epoch, self.batch_in_epoch)
        _seed_torch(self.cfg.seed, self.step)
        lr = self.cfg.lr * lr_factor(self.step, self.max_steps, self.warmup, self.cfg.schedule, self.cfg.min_lr_ratio)
        for g in self.opt.param_groups:
            g["lr"] = lr
        self.lr = lr
        dev = self.device
        with torch.autocast(dev.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp_dtype is not None):
            log_probs, lengths = self.model(x.to(dev), widths)
        loss = self.ctc(log_probs.float(), targets.to(dev), lengths.to(dev), target_lengths.to(dev))
        if self.teacher is not None and self.cfg.distill_weight > 0:
            with torch.no_grad(), torch.autocast(dev.type, dtype=self.amp_dtype or torch.float32,
                                                 enabled=self.amp_dtype is not None):
                t_log_probs, _ = self.teacher(x.to(dev), widths)
            loss = loss + self.cfg.distill_weight * distill_loss(log_probs.float(), t_log_probs.float(), lengths)
        self.opt.zero_grad(set_to_none=True)
        if not torch.isfinite(loss):
            self.nonfinite += 1
            return float("nan")
        if self.scaler is not None:
            self.scaler.scale(loss).backward()
            self.scaler.unscale_(self.opt)
            if self.cfg.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            self.scaler.step(self.opt)
            self.scaler.update()
        else:
            loss.backward()
            if self.cfg.grad_clip:
                nn.utils.clip_grad_norm_(self.model.parameters(), self.cfg.grad_clip)
            self.opt.step()
        if self.ema is not None:
            self.ema.update_parameters(self.model)
        return float(loss.detach())

    def _on_validation(self, report: EvalReport) -> None:
        m = {"step": self.step, "epoch": round(self.epoch + self.batch_in_epoch / max(1, self.bpe), 3),
             "cer": report.cer, "wer": report.wer, "seq_acc": report.seq_acc, "n": report.n,
             "train_loss": self.running_loss, "val_loss": self.val_loss, "lr": self.lr}
        # Equal CER and sequence accuracy: the lower validation loss. On a hundred captchas one
        # error is 0.19 points, so ties are common; the first of them was kept before, though
        # later ones, as confident or more, read unseen captchas as well or better (bench/RESULTS.md).
        key = (report.cer, -report.seq_acc, self.val_loss if self.val_loss is not None else math.inf)
        improved = self.best_key is None or key < self.best_key
        m["best"] = improved
        self.history.append(m)
        if improved:
            self.best_key, self.best_metrics, self.bad_validations = key, dict(m), 0
            ckpt.save_model(self.out, self.eval_model, self.charset, training=self._training_meta(m),
                            line_norm=self.line_norm, storage_options=self.so)
        else:
            self.bad_validations += 1
        self._emit("val", **m, best_cer=self.best_key[0], best_seq_acc=-self.best_key[1])
        if self.cfg.patience and self.bad_validations >= self.cfg.patience:
            self.stopped_early = True

    def run(self) -> TrainResult:
        t_start = time.perf_counter()
        self.height = self._model_config_height()
        self._plan_data()
        if self.init is not None:
            self.arch = self.init_model.config.get("arch", self.cfg.arch)
        else:
            self.arch = auto_arch(self.n_train_rows) if self.cfg.arch == "auto" else self.cfg.arch
        if self.in_memory:
            self.factor = 1  # length check after the factor is chosen
            self.train = list(self._iter_train_samples(count=True))
            factor = self._choose_factor([s.image.shape[1] / len(s.labels) for s in self.train if s.labels])
            self._build(factor)
            fits = [s for s in self.train if self._fits(s)]
            self.skipped["label_too_long"] += len(self.train) - len(fits)
            self.skipped = +self.skipped
            self.train = fits
            if not self.train:
                raise EmptyDatasetError(f"no usable training samples in {self.src.describe()}; skipped: {dict(self.skipped)}")
            n_train = len(self.train)
        else:
            self._build(self._choose_factor(self.px_per_char))
            n_train = self.n_train_rows
        self._load_val()
        cfg = self.cfg
        self.bpe = batches_per_epoch(n_train, cfg.batch_size, cfg.bucket_batches)
        self.epochs_planned = (auto_epochs(n_train, fine_tune=self.init is not None, budget=self.budget)
                               if cfg.epochs == "auto" else float(cfg.epochs))
        self.max_steps = cfg.max_steps or max(1, int(round(self.epochs_planned * self.bpe)))
        self.warmup = cfg.warmup_steps if cfg.warmup_steps is not None else int(cfg.warmup_fraction * self.max_steps)
        val_every = cfg.val_every or self.bpe
        ckpt_every = cfg.checkpoint_every or val_every
        self.step = self.epoch = self.batch_in_epoch = 0
        self.best_key, self.best_metrics, self.bad_validations = None, {}, 0
        self.history: list[dict] = []
        self.stopped_early = self.finished = False
        self.samples_seen, self.train_time, self.nonfinite = 0, 0.0, 0
        self.running_loss, self.lr, self.resumed_from = None, cfg.lr, 0
        self.loss_sum, self.loss_n = 0.0, 0
        self._try_resume()
        amp_name = _amp_name(self.amp_dtype)
        self._emit("start", step=self.step, max_steps=self.max_steps, epochs=self.epochs_planned, arch=self.arch,
                   input_height=self.height, ema_decay=self.ema_decay, n_train=n_train,
                   n_val=len(self.val) + len(self.val_bad), device=str(self.device), amp=amp_name,
                   charset="".join(self.charset.chars), skipped=dict(self.skipped),
                   **({"teacher": self.cfg.teacher} if self.teacher is not None else {}))
        self.model.train()
        while not (self.finished or self.stopped_early) and self.step < self.max_steps:
            got_batch = False
            for b, batch in enumerate(self._epoch_batches(self.epoch)):
                if b < self.batch_in_epoch:
                    continue
                got_batch = True
                t0 = time.perf_counter()
                loss = self._train_step(batch)
                self.train_time += time.perf_counter() - t0
                self.step += 1
                self.batch_in_epoch = b + 1
                self.samples_seen += len(batch)
                if loss == loss:
                    self.loss_sum, self.loss_n = self.loss_sum + loss, self.loss_n + 1
                if self.step % cfg.log_every == 0 or self.step == self.max_steps:
                    self.running_loss = self.loss_sum / max(1, self.loss_n)
                    self.loss_sum, self.loss_n = 0.0, 0
                    self._emit("step", step=self.step, max_steps=self.max_steps, epoch=self.epoch,
                               loss=self.running_loss, lr=self.lr,
                               samples_per_s=self.samples_seen / max(self.train_time, 1e-9))
                done = self.step >= self.max_steps
                if self.step % val_every == 0 or done:
                    report = self.validate()
                    if report is not None:
                        self._on_validation(report)
                if done or self.stopped_early:
                    self.finished = True
                if self.step % ckpt_every == 0 or self.finished:
                    self._save_last()
                if self.finished:
                    break
            else:
                if not got_batch and self.batch_in_epoch == 0:
                    raise EmptyDatasetError(f"no usable training samples in {self.src.describe()}; "
                                            f"skipped: {dict(self.skipped)}")
                self.epoch += 1
                self.batch_in_epoch = 0
        if not self.history:  # no validation data: the last model is the result
            ckpt.save_model(self.out, self.eval_model, self.charset, training=self._training_meta({}),
                            line_norm=self.line_norm, storage_options=self.so)
        result = TrainResult(
            out=self.out, best_metrics=dict(self.best_metrics), step=self.step,
            epochs=round(self.epoch + self.batch_in_epoch / max(1, self.bpe), 4), history=list(self.history),
            stopped_early=self.stopped_early, skipped=dict(self.skipped), n_train=n_train,
            n_val=len(self.val) + len(self.val_bad), val_unknown_chars=dict(self.val_unknown),
            samples_per_s=self.samples_seen / max(self.train_time, 1e-9),
            elapsed_s=time.perf_counter() - t_start, resumed_from_step=self.resumed_from,
            device=str(self.device), amp=amp_name,
        )
        self._emit("done", **{k: v for k, v in dataclasses.asdict(result).items() if k != "history"})
        return result


def train(config: TrainConfig | dict, data: Any, *, out: str, val_data: Any = None, init: Optional[str] = None,
          resume: bool = True, progress: Optional[Callable[[dict], None]] = None,
          storage_options: Optional[dict] = None) -> TrainResult:
    """Train a recognizer on ``data`` and write it to ``out`` (see the module docstring).

    ``data``: a dataset URL (Parquet shards, local or S3), a list of records, or a callable
    returning an iterable of records (``id``, ``image={"bytes", "path"}``, ``text``). Without
    ``val_data`` a seeded split of ``data`` (``val_fraction``, ``split_seed``) validates and is
    recorded in ``model.json``. ``init``: a model URL to fine-tune (its charset is extended with
    new characters). ``resume``: continue from ``out/last`` when it holds a training state.
    ``progress`` receives event dicts: ``start``, ``step``, ``val``, ``checkpoint``, ``resume``,
    ``warning``, ``done``.
    """
    return Trainer(config, data, out=out, val_data=val_data, init=init, resume=resume,
                   progress=progress, storage_options=storage_options).run()

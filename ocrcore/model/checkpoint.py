"""Checkpoints: safetensors weights + a JSON config, on any fsspec URL; never pickle.

A *model* is a directory or prefix holding two objects:

* ``model.safetensors``: the network's tensors (safetensors cannot execute code on load);
* ``model.json``: everything inference and provenance need: ``format``, ``format_version``,
  ``model`` (the architecture config for :func:`ocrcore.model.crnn.build_model`), ``charset``
  (with its normalisation), ``input_height``, ``width_factor``, ``normalization``, ``line_norm``
  (the line geometry it reads, or null), ``training``
  (data URL, split seed/fraction, steps, epochs, metrics, ...), ``created``.

A training run's resumable state is a second pair, ``training_state.safetensors`` (optimizer
moments, RNG states as tensors) + ``training_state.json`` (step, schedule, history, ...).

Every load failure raises :class:`CheckpointError` with a message naming the URL and the cause:
a pickle or zip (``torch.save``) file is refused before anything is parsed, a corrupt
safetensors/JSON file or a config that does not match the weights (missing keys, unexpected
keys, shape mismatch) is reported as such.
"""
from __future__ import annotations

import datetime as _dt
import json
import posixpath
from typing import Any, Optional

import torch
from safetensors.torch import load as _st_load
from safetensors.torch import save as _st_save

from ocrcore import storage
from ocrcore.model.charset import Charset
from ocrcore.model.crnn import CRNN, build_model, width_factor

FORMAT = "ocrcore-crnn"
FORMAT_VERSION = 1
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "model.json"
STATE_WEIGHTS_NAME = "training_state.safetensors"
STATE_CONFIG_NAME = "training_state.json"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded (or saved), with the reason."""


# ------------------------------------------------------------------------------- raw objects

def sniff(data: bytes) -> str:
    """Classify checkpoint bytes: ``"safetensors"``, ``"pickle"``, ``"zip"`` or ``"unknown"``.

    ``torch.save`` writes a zip archive (or, in old versions, a raw pickle); both may run code
    when loaded, so they are identified by their magic bytes and never opened.
    """
    if len(data) >= 2 and data[0] == 0x80 and 2 <= data[1] <= 5:
        return "pickle"
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if len(data) >= 10:
        n = int.from_bytes(data[:8], "little")
        if 2 <= n <= len(data) - 8 and data[8:9] == b"{":
            return "safetensors"
    return "unknown"


def tensors_from_bytes(data: bytes, where: str = "<bytes>") -> dict[str, torch.Tensor]:
    """Parse safetensors bytes, refusing pickles/zips and reporting corruption clearly."""
    kind = sniff(data)
    if kind in ("pickle", "zip"):
        raise CheckpointError(
            f"{where}: this is a {kind} file (e.g. from torch.save), not safetensors; pickled "
            "checkpoints can run arbitrary code when loaded and are refused. Convert it with "
            "torch.load in a trusted environment and save it with ocrcore.model.checkpoint.save_model."
        )
    if kind != "safetensors":
        raise CheckpointError(f"{where}: not a safetensors file (bad header; {len(data)} bytes): corrupt or wrong file")
    try:
        return dict(_st_load(data))
    except Exception as e:  # SafetensorError, ValueError on truncated data
        raise CheckpointError(f"{where}: corrupt safetensors file: {e}") from None


def tensors_to_bytes(tensors: dict[str, torch.Tensor], metadata: Optional[dict[str, str]] = None) -> bytes:
    """safetensors bytes of CPU, contiguous copies of ``tensors``."""
    clean = {k: v.detach().to("cpu").contiguous().clone() for k, v in tensors.items()}
    return _st_save(clean, metadata=metadata)


def read_tensors(url: str, storage_options: Optional[dict] = None) -> dict[str, torch.Tensor]:
    return tensors_from_bytes(_read(url, storage_options), storage.redact(url))


def write_tensors(url: str, tensors: dict[str, torch.Tensor], metadata: Optional[dict[str, str]] = None,
                  storage_options: Optional[dict] = None) -> None:
    storage.write_bytes_atomic(url, tensors_to_bytes(tensors, metadata), storage_options)


def read_json(url: str, storage_options: Optional[dict] = None) -> Any:
    data = _read(url, storage_options)
    try:
        return json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{storage.redact(url)}: corrupt JSON: {e}") from None


def json_bytes(obj: Any) -> bytes:
    """The bytes :func:`write_json` writes for ``obj``."""
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def write_json(url: str, obj: Any, storage_options: Optional[dict] = None) -> None:
    storage.write_bytes_atomic(url, json_bytes(obj), storage_options)


def _read(url: str, storage_options: Optional[dict]) -> bytes:
    try:
        return storage.read_bytes(url, storage_options)
    except FileNotFoundError:
        raise CheckpointError(f"{storage.redact(url)}: not found") from None
    except IsADirectoryError:
        raise CheckpointError(f"{storage.redact(url)}: is a directory, expected a file") from None
    except storage.StorageError as e:
        raise CheckpointError(str(e)) from None


# ------------------------------------------------------------------------------- model files

def model_urls(url: str, storage_options: Optional[dict] = None) -> tuple[str, str]:
    """``(weights_url, config_url)`` of the model at ``url``.

    ``url`` is the model directory/prefix, or its ``model.json`` / ``*.safetensors``. A URL
    naming any other existing file (say ``model.pt``) is sniffed and refused with a reason.
    """
    url = str(url)
    base = posixpath.basename(url.rstrip("/"))
    if base.endswith(".json"):
        return storage.join(posixpath.dirname(url), WEIGHTS_NAME), url
    if base.endswith(".safetensors"):
        return url, storage.join(posixpath.dirname(url), CONFIG_NAME)
    try:
        fs, path = storage.get_fs(url, storage_options)
        is_file = fs.isfile(path)
    except Exception:
        is_file = False
    if is_file:
        data = _read(url, storage_options)
        kind = sniff(data)
        if kind in ("pickle", "zip"):
            tensors_from_bytes(data, storage.redact(url))  # raises the pickle message
        raise CheckpointError(
            f"{storage.redact(url)}: is a single {kind} file; a model is a directory holding "
            f"{WEIGHTS_NAME} and {CONFIG_NAME}"
        )
    return storage.join(url, WEIGHTS_NAME), storage.join(url, CONFIG_NAME)


def make_config(model: CRNN, charset: Charset, training: Optional[dict] = None,
                line_norm: Optional[dict] = None) -> dict:
    """The ``model.json`` content for ``model`` over ``charset``.

    ``line_norm``: the line geometry the model reads (:func:`ocrcore.model.lines.normalize_line`
    parameters, plus ``segmented``: whether lines our page segmenter cut are re-framed too);
    None: lines as given.
    """
    cfg = dict(model.config)
    if cfg["num_classes"] != charset.num_classes:
        raise CheckpointError(f"model has {cfg['num_classes']} classes but the charset needs {charset.num_classes}")
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "model": cfg,
        "charset": charset.to_dict(),
        "input_height": cfg["input_height"],
        "width_factor": width_factor(cfg),
        "normalization": charset.normalize,
        "line_norm": dict(line_norm) if line_norm else None,
        "input_convention": "N x 1 x H x W float, 1.0 = white, right-padded with 1.0",
        "training": dict(training or {}),
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }


def model_files(model: CRNN, charset: Charset, *, training: Optional[dict] = None,
                dtype: Optional[torch.dtype] = None, line_norm: Optional[dict] = None) -> dict[str, bytes]:
    """The bytes of ``model.safetensors`` and ``model.json`` for ``model``, weights first."""
    config = make_config(model, charset, training, line_norm)
    tensors = {}
    for k, v in model.state_dict().items():
        tensors[k] = v.to(dtype) if (dtype is not None and v.is_floating_point()) else v
    return {WEIGHTS_NAME: tensors_to_bytes(tensors, {"format": FORMAT}), CONFIG_NAME: json_bytes(config)}


def save_model(url: str, model: CRNN, charset: Charset, *, training: Optional[dict] = None,
               dtype: Optional[torch.dtype] = None, storage_options: Optional[dict] = None,
               line_norm: Optional[dict] = None) -> dict:
    """Write ``model.safetensors`` + ``model.json`` under ``url``; returns the config written.

    ``dtype=torch.float16`` halves the file (weights are cast back to float32 on load).
    The weights are written first and the JSON last, so a model with a config is complete.
    """
    files = model_files(model, charset, training=training, dtype=dtype, line_norm=line_norm)
    for name, data in files.items():
        storage.write_bytes_atomic(storage.join(url, name), data, storage_options)
    return json.loads(files[CONFIG_NAME])


def validate_config(config: Any, where: str = "model.json") -> dict:
    """Check a ``model.json`` dict; raises :class:`CheckpointError` with what is wrong."""
    if not isinstance(config, dict):
        raise CheckpointError(f"{where}: expected a JSON object, got {type(config).__name__}")
    if config.get("format") != FORMAT:
        raise CheckpointError(f"{where}: format is {config.get('format')!r}, expected {FORMAT!r}")
    if int(config.get("format_version", 0)) > FORMAT_VERSION:
        raise CheckpointError(f"{where}: format_version {config['format_version']} is newer than this ocrcore "
                              f"supports ({FORMAT_VERSION}); upgrade ocrcore")
    for key in ("model", "charset"):
        if key not in config:
            raise CheckpointError(f"{where}: missing {key!r}")
    return config


def check_state_dict(model: torch.nn.Module, tensors: dict[str, torch.Tensor], where: str) -> None:
    """Raise :class:`CheckpointError` listing missing/unexpected keys and shape mismatches."""
    expected = model.state_dict()
    missing = sorted(set(expected) - set(tensors))
    unexpected = sorted(set(tensors) - set(expected))
    shapes = [f"{k}: checkpoint {tuple(tensors[k].shape)} vs model {tuple(v.shape)}"
              for k, v in expected.items() if k in tensors and tuple(tensors[k].shape) != tuple(v.shape)]
    problems = []
    if missing:
        problems.append(f"missing keys {missing[:10]}{' ...' if len(missing) > 10 else ''}")
    if unexpected:
        problems.append(f"unexpected keys {unexpected[:10]}{' ...' if len(unexpected) > 10 else ''}")
    if shapes:
        problems.append("shape mismatch: " + "; ".join(shapes[:10]))
    if problems:
        raise CheckpointError(f"{where}: weights do not match the config: " + "; ".join(problems))


def load_model(url: str, *, device: Optional[str | torch.device] = None,
               storage_options: Optional[dict] = None) -> tuple[CRNN, Charset, dict]:
    """Load ``(model in eval mode, charset, config)`` from a model directory/prefix URL."""
    weights_url, config_url = model_urls(url, storage_options)
    where = storage.redact(config_url)
    config = validate_config(read_json(config_url, storage_options), where)
    try:
        charset = Charset.from_dict(config["charset"])
        model = build_model(config["model"])
    except (ValueError, TypeError, KeyError) as e:
        raise CheckpointError(f"{where}: invalid config: {e}") from None
    if model.config["num_classes"] != charset.num_classes:
        raise CheckpointError(f"{where}: model has {model.config['num_classes']} classes, "
                              f"charset needs {charset.num_classes}")
    tensors = read_tensors(weights_url, storage_options)
    check_state_dict(model, tensors, storage.redact(weights_url))
    model.load_state_dict(tensors)  # copies, casting float16 files back to float32
    model.eval()
    if device is not None:
        model.to(device)
    return model, charset, config


def average_models(urls: list[str], out: str, *, weights: Optional[list[float]] = None,
                   storage_options: Optional[dict] = None) -> dict:
    """Write the weighted mean of models fine-tuned from one base to ``out``; returns its config.

    Why: fine-tuning for one kind of input (binarized lines, low-resolution pages) can cost a
    little on another; the mean of the base's and the fine-tune's weights often keeps most of
    both gains (weight-space ensembling, as in "model soups"). Only models of one architecture,
    charset and line geometry can be averaged: anything else raises :class:`CheckpointError`.
    Integer tensors (BatchNorm's batch counters) come from the last model. The config records
    each part's URL, weight and training provenance.
    """
    if len(urls) < 2:
        raise CheckpointError("averaging needs at least two models")
    weights = [1.0 / len(urls)] * len(urls) if weights is None else [float(w) for w in weights]
    if len(weights) != len(urls) or min(weights) < 0 or abs(sum(weights) - 1.0) > 1e-6:
        raise CheckpointError(f"weights must be {len(urls)} non-negative numbers summing to 1, got {weights}")
    parts = [load_model(u, storage_options=storage_options) for u in urls]
    model, charset, first = parts[0]
    for url, (_, _, cfg) in zip(urls[1:], parts[1:]):
        for key in ("model", "charset", "line_norm", "normalization"):
            if cfg.get(key) != first.get(key):
                raise CheckpointError(f"{storage.redact(url)}: its {key!r} differs from {storage.redact(urls[0])}'s; "
                                      "only fine-tunes of one base can be averaged")
    states = [m.state_dict() for m, _, _ in parts]
    mean = {}
    for k, last in states[-1].items():
        if last.is_floating_point():
            mean[k] = sum(w * s[k].double() for w, s in zip(weights, states)).to(last.dtype)
        else:
            mean[k] = last
    model.load_state_dict(mean)
    training = {"averaged": [{"model": storage.redact(u), "weight": w, "training": cfg.get("training", {})}
                             for u, w, (_, _, cfg) in zip(urls, weights, parts)]}
    return save_model(out, model, charset, training=training, storage_options=storage_options,
                      line_norm=first.get("line_norm"))

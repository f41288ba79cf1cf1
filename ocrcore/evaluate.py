"""Recognition accuracy: character error rate, word error rate, sequence accuracy.

Definitions (micro-averaged over the whole set, as OCR evaluations usually report):

* **CER** = sum of character Levenshtein distances / sum of reference lengths;
* **WER** = sum of word Levenshtein distances (words = whitespace-separated tokens) / sum of
  reference word counts;
* **sequence accuracy** = fraction of lines whose prediction equals the reference exactly.

References are normalised with the model's charset normalisation before comparison (a model
trained with ``"ocr"`` folding outputs straight quotes; counting a curly reference quote as an
error would measure the label convention, not the reader). Pass ``normalize="none"`` to
compare raw strings. Distances come from ``rapidfuzz.distance.Levenshtein``.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Iterable, Optional, Sequence

from rapidfuzz.distance import Levenshtein

from ocrcore.model.charset import normalize_text


@dataclass
class SamplePrediction:
    """One evaluated line."""

    id: str
    reference: str
    prediction: str
    confidence: float
    char_errors: int
    char_total: int
    word_errors: int
    word_total: int
    error: str = ""  # why no prediction was made (bad image), if so

    @property
    def correct(self) -> bool:
        return self.reference == self.prediction and not self.error


@dataclass
class EvalReport:
    """Totals and per-sample predictions of one evaluation."""

    cer: float
    wer: float
    seq_acc: float
    n: int
    char_errors: int
    char_total: int
    word_errors: int
    word_total: int
    n_errors: int = 0  # samples that could not be recognised (counted as wrong)
    samples: list[SamplePrediction] = field(default_factory=list)

    def metrics(self) -> dict:
        """The headline numbers as a flat dict."""
        return {"cer": self.cer, "wer": self.wer, "seq_acc": self.seq_acc, "n": self.n,
                "char_errors": self.char_errors, "char_total": self.char_total,
                "word_errors": self.word_errors, "word_total": self.word_total, "n_errors": self.n_errors}

    def summary(self) -> str:
        """One labelled line, e.g. for ``ocr eval``."""
        return (f"CER {100 * self.cer:.2f}% ({self.char_errors}/{self.char_total} chars) | "
                f"WER {100 * self.wer:.2f}% ({self.word_errors}/{self.word_total} words) | "
                f"sequence accuracy {100 * self.seq_acc:.2f}% ({self.n} lines"
                + (f", {self.n_errors} unreadable" if self.n_errors else "") + ")")

    def predictions(self) -> list[dict]:
        """Per-sample rows (id, reference, prediction, confidence, errors)."""
        return [asdict(s) for s in self.samples]

    def to_dict(self, samples: bool = True) -> dict:
        d = self.metrics()
        if samples:
            d["samples"] = self.predictions()
        return d

    def to_jsonl(self) -> str:
        """Per-sample predictions, one JSON object per line."""
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in self.predictions())


def char_distance(ref: str, hyp: str) -> int:
    return Levenshtein.distance(ref, hyp)


def word_distance(ref: str, hyp: str) -> int:
    return Levenshtein.distance(ref.split(), hyp.split())


def score(
    references: Sequence[str],
    predictions: Sequence[str],
    *,
    ids: Optional[Sequence[str]] = None,
    confidences: Optional[Sequence[float]] = None,
    errors: Optional[Sequence[str]] = None,
    normalize: str = "none",
) -> EvalReport:
    """Compare predictions with references (both already read); see the module docstring."""
    if len(references) != len(predictions):
        raise ValueError(f"{len(references)} references but {len(predictions)} predictions")
    n = len(references)
    ids = list(ids) if ids is not None else [str(i) for i in range(n)]
    confidences = list(confidences) if confidences is not None else [1.0] * n
    errors = list(errors) if errors is not None else [""] * n
    samples = []
    for i in range(n):
        ref = normalize_text(references[i] or "", normalize)
        hyp = predictions[i] or ""
        samples.append(SamplePrediction(
            id=ids[i], reference=ref, prediction=hyp, confidence=float(confidences[i]),
            char_errors=char_distance(ref, hyp), char_total=len(ref),
            word_errors=word_distance(ref, hyp), word_total=len(ref.split()), error=errors[i],
        ))
    ce = sum(s.char_errors for s in samples)
    ct = sum(s.char_total for s in samples)
    we = sum(s.word_errors for s in samples)
    wt = sum(s.word_total for s in samples)
    return EvalReport(
        cer=ce / ct if ct else float(ce > 0),
        wer=we / wt if wt else float(we > 0),
        seq_acc=sum(s.correct for s in samples) / n if n else 0.0,
        n=n, char_errors=ce, char_total=ct, word_errors=we, word_total=wt,
        n_errors=sum(1 for e in errors if e), samples=samples,
    )


def evaluate(
    model,
    records: Iterable[dict],
    *,
    ids: Optional[Iterable[str]] = None,
    batch_size: int = 32,
    normalize: Optional[str] = None,
    chunk: int = 512,
    reframe: Optional[bool] = None,
) -> EvalReport:
    """Recognise every record's image and score it against its ``text``.

    ``model`` is a :class:`ocrcore.model.predict.Recognizer` or a model URL. ``ids`` restricts
    evaluation to those record ids (e.g. the validation split recorded with the model).
    ``normalize`` defaults to the model's normalisation. Images that cannot be decoded count as
    wrong (empty prediction) with the reason in ``error``; they never abort the evaluation.
    Records are streamed in chunks of ``chunk``, so memory stays bounded. ``reframe``: re-frame
    each line to the model's line geometry first (None: when the model's config has one; see
    :func:`ocrcore.model.lines.normalize_line`).
    """
    from ocrcore.model.predict import Recognizer, record_to_gray

    rec = model if isinstance(model, Recognizer) else Recognizer.load(model)
    norm = rec.charset.normalize if normalize is None else normalize
    wanted = set(ids) if ids is not None else None
    refs, hyps, sids, confs, errs = [], [], [], [], []

    def flush(buf):
        good = [(i, g) for i, (_, _, g, _) in enumerate(buf) if g is not None]
        results = (rec.recognize_lines([g for _, g in good], batch_size=batch_size, reframe=reframe)
                   if good else [])
        out = {i: r for (i, _), r in zip(good, results)}
        for i, (sid, text, _, err) in enumerate(buf):
            r = out.get(i)
            sids.append(sid)
            refs.append(text)
            hyps.append(r.text if r else "")
            confs.append(r.confidence if r else 0.0)
            errs.append(err)

    buf: list = []
    for r in records:
        sid = str(r.get("id", len(sids) + len(buf)))
        if wanted is not None and sid not in wanted:
            continue
        gray, err = None, ""
        try:
            gray = record_to_gray(r)
            rec.check_line(gray)
        except ValueError as e:  # ImageError, LineImageError
            gray, err = None, f"{getattr(e, 'error_type', getattr(e, 'reason', type(e).__name__))}: {e}"
        buf.append((sid, r.get("text") or "", gray, err))
        if len(buf) >= chunk:
            flush(buf)
            buf = []
    if buf:
        flush(buf)
    if not sids:
        raise ValueError("nothing to evaluate: no records" + (" with the requested ids" if wanted is not None else ""))
    return score(refs, hyps, ids=sids, confidences=confs, errors=errs, normalize=norm)

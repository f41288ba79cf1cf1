"""The training-data scripts under scripts/ (run by hand to build the shipped models' data)."""
from __future__ import annotations

import importlib.util
import os

import numpy as np
import pytest

from ocrcore.datasets import iter_records
from ocrcore.model.predict import record_to_gray

ROOT = os.path.join(os.path.dirname(__file__), "..")


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", f"{name}.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def page_crops():
    """One 100-dpi page cut as grey, and as bilevel at a thin and a thick threshold."""
    pld = _script("page_line_dataset")
    out = {}
    for name, bilevel in (("grey", None), ("thin", (0.3, 0.3)), ("thick", (0.75, 0.75))):
        url = f"memory://test-scripts/page-crops-{name}"
        found, matched, true = pld.shard(url, 5, 0, 1, 100, 0, {}, bilevel)
        assert matched >= 0.9 * true  # nearly every true line was found and labelled
        out[name] = {r["text"]: record_to_gray(r) for r in iter_records(url)}
    return out


def test_bilevel_page_crops_keep_the_labels_and_follow_the_threshold(page_crops):
    common = set.intersection(*(set(rows) for rows in page_crops.values()))
    assert len(common) >= 0.9 * len(page_crops["grey"])  # the same lines, labelled alike
    ink = {k: np.mean([np.mean(1.0 - rows[t]) for t in common]) for k, rows in page_crops.items()}
    assert ink["thin"] < ink["thick"]  # a lower threshold thins the strokes
    # black and white: far fewer half-tones than the anti-aliased grey page (deskewing adds some)
    mid = {k: np.mean([np.mean(np.abs(rows[t] - 0.5) < 0.3) for t in common]) for k, rows in page_crops.items()}
    assert mid["thin"] < 0.8 * mid["grey"] and mid["thick"] < 0.8 * mid["grey"]

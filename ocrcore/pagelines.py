"""Labeled line images cut from synthetic pages by the real page pipeline.

A recognizer reads what preprocessing hands it: lines cut from a binarized, deskewed page, with
contrast normalized, neighbours masked and the crop's own padding. Synthetic lines rendered on
their own differ from that in small ways that cost accuracy on pages. This module runs the page
pipeline (:func:`ocrcore.recognize.page_lines`) on synthetic pages with known text and pairs every
found line with the true line it overlaps most (box IoU at least ``min_iou``, one to one), so a
model can be trained or fine-tuned on exactly what it will see. Lines without a clear match
(merged, split or missed by segmentation) are left out and counted.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from ocrcore.containers import Page, bbox_iou
from ocrcore.imageio import encode_png


@dataclass
class CropStats:
    found: int = 0
    matched: int = 0
    true_lines: int = 0
    unmatched_ids: list[str] = field(default_factory=list)


def labeled_crops(image: Image.Image, truth: Page, *, min_iou: float = 0.5, stats: CropStats | None = None) -> list[dict]:
    """Dataset rows (``id``, ``image``, ``text``, ``width``, ``height``, ``source``) for one page."""
    from ocrcore.recognize import page_lines

    lines = page_lines(image)
    rows, used = [], set()
    for k, li in enumerate(lines):
        best, best_iou = None, min_iou
        for j, tl in enumerate(truth.lines):
            if j in used:
                continue
            iou = bbox_iou(li.bbox, tl.bbox)
            if iou >= best_iou:
                best, best_iou = j, iou
        if best is None:
            if stats is not None:
                stats.unmatched_ids.append(f"{truth.page_id}/line-{k:04d}")
            continue
        used.add(best)
        tl = truth.lines[best]
        text = " ".join(w.text for w in tl.words) if tl.words else tl.text
        if not text.strip():
            continue
        img = Image.fromarray(np.round(np.clip(li.image, 0, 1) * 255).astype(np.uint8), mode="L")
        rows.append({"id": f"{truth.page_id}/line-{k:04d}", "image": {"bytes": encode_png(img), "path": None},
                     "text": text, "width": img.width, "height": img.height, "source": "page-crop"})
    if stats is not None:
        stats.found += len(lines)
        stats.matched += len(rows)
        stats.true_lines += len(truth.lines)
    return rows

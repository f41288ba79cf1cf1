"""Whole-page preprocessing for batch jobs: page -> binarized page + ordered line crops + rows.

This is what a preprocess shard runs per page; it keeps the flow free of image math. Every page
yields exactly one page row (even with zero lines), so no page can go missing silently.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np
import pyarrow as pa
from PIL import Image

from ocrcore.imageio import encode_png
from ocrcore.preprocess.binarize import BinarizeResult, binarize
from ocrcore.preprocess.segment import LineRegion, segment, single_line

PAGES_SCHEMA = pa.schema([
    pa.field("page_id", pa.string()), pa.field("source_uri", pa.string()), pa.field("page_no", pa.int32()),
    pa.field("width", pa.int32()), pa.field("height", pa.int32()), pa.field("skew_angle", pa.float32()),
    pa.field("inverted", pa.bool_()), pa.field("lines", pa.int32()),
])


@dataclass
class PageLayout:
    binarized: BinarizeResult
    lines: list[LineRegion]


def analyse_page(image: Image.Image, *, single: bool = False, binarize_params: Optional[dict] = None,
                 segment_params: Optional[dict] = None) -> PageLayout:
    """Binarize (with deskew) and find text lines in reading order; ``single`` skips segmentation.

    A single line (a captcha, a line image) keeps its dots unless ``binarize_params`` say
    otherwise: no descreening or despeckling, so its crop is what recognition and training
    read (the image as given); a captcha's noise dots are part of what a model learns.
    """
    if single:
        res = binarize(image, **{"descreen": False, "despeckle": False, **(binarize_params or {})})
        return PageLayout(res, [single_line(res)])
    res = binarize(image, **(binarize_params or {}))
    return PageLayout(res, segment(res, **(segment_params or {})))


def crop_u8(region: LineRegion, binarized: BinarizeResult) -> Image.Image:
    """The line crop as an 8-bit grey image (white background)."""
    crop = region.crop(binarized)
    return Image.fromarray(np.round(crop.image * 255).astype(np.uint8), mode="L")


def line_rows(page_id: str, layout: PageLayout) -> list[dict]:
    """Line dataset rows (dataset schema plus layout columns) for one page, in reading order."""
    rows = []
    for k, region in enumerate(layout.lines):
        img = crop_u8(region, layout.binarized)
        rows.append({
            "id": f"{page_id}/line-{k:04d}",
            "image": {"bytes": encode_png(img), "path": f"line-{k:04d}.png"},
            "text": "",
            "width": img.width,
            "height": img.height,
            "source": page_id,
            "page_id": page_id,
            "line_no": k,
            "bbox": [int(v) for v in region.bbox],
            "column": int(region.column),
        })
    return rows


def page_row(page_id: str, source_uri: str, page_no: int, image: Image.Image, layout: PageLayout) -> dict:
    return {"page_id": page_id, "source_uri": source_uri, "page_no": page_no, "width": image.width,
            "height": image.height, "skew_angle": float(layout.binarized.angle),
            "inverted": bool(layout.binarized.inverted), "lines": len(layout.lines)}


def binarized_png(layout: PageLayout) -> bytes:
    """The binarized, deskewed page as a 1-bit PNG (ink black)."""
    return encode_png(Image.fromarray(~layout.binarized.binary).convert("1"), compress_level=6)

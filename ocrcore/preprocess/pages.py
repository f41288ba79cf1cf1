"""One page's layout: binarized (flattened, deskewed, thresholded) and its text lines in reading order.

:func:`analyse_page` treats the image as one page; :mod:`.scan` finds the parts of a scan (facing
pages, reversed bars, a page curling into the spine) and analyses each with it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

import numpy as np
from PIL import Image

from ocrcore.preprocess.binarize import BinarizeResult, binarize
from ocrcore.preprocess.segment import LineCrop, LineRegion, segment, single_line


@dataclass
class PageLayout:
    """A page binarized and segmented; ``measures``: what segmentation measured on the way
    (:func:`~ocrcore.preprocess.segment.segment`'s ``measures``)."""

    binarized: BinarizeResult
    lines: list[LineRegion]
    measures: dict = field(default_factory=dict)


def analyse_page(image: Image.Image, *, single: bool = False, binarize_params: Optional[dict] = None,
                 segment_params: Optional[dict] = None, measure: bool = False) -> PageLayout:
    """Binarize (with deskew) and find text lines in reading order; ``single`` skips segmentation.

    A single line (a captcha, a line image) keeps its dots unless ``binarize_params`` say
    otherwise: no descreening or despeckling, so its crop is what recognition and training
    read (the image as given); a captcha's noise dots are part of what a model learns.
    ``measure``: keep segmentation's ``measures`` (page-sized masks) with the layout, for
    :mod:`.dewarp`; left empty otherwise.
    """
    if single:
        res = binarize(image, **{"descreen": False, "despeckle": False, **(binarize_params or {})})
        return PageLayout(res, [single_line(res)])
    res = binarize(image, **(binarize_params or {}))
    measures: Optional[dict] = {} if measure else None
    return PageLayout(res, segment(res, measures=measures, **(segment_params or {})), measures or {})


def crop_u8(region: LineRegion, binarized: BinarizeResult) -> Image.Image:
    """The line crop as an 8-bit grey image (white background)."""
    return crop_image_u8(region.crop(binarized))


def crop_image_u8(crop: LineCrop) -> Image.Image:
    """A cut line crop (normalized grey, 1 = paper) as an 8-bit grey image."""
    return Image.fromarray(np.round(crop.image * 255).astype(np.uint8), mode="L")

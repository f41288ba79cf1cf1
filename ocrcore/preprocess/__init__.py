"""Page preprocessing: binarize (flatten, deskew, threshold), segment (lines, columns, reading
order) and normalize (line images to the recognizer's input height). numpy/scipy/Pillow only.

Every box leaving this package is in ORIGINAL image coordinates (see :mod:`.geometry`).
"""
from ocrcore.preprocess.binarize import BinarizeResult, binarize, estimate_skew
from ocrcore.preprocess.geometry import PageTransform
from ocrcore.preprocess.normalize import NormalizedLine, normalize_line
from ocrcore.preprocess.segment import LineCrop, LineRegion, segment, single_line

__all__ = [
    "BinarizeResult",
    "LineCrop",
    "LineRegion",
    "NormalizedLine",
    "PageTransform",
    "binarize",
    "estimate_skew",
    "normalize_line",
    "segment",
    "single_line",
]

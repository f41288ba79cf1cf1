"""What a preprocess run writes for one scan: line dataset rows, a page row, the binarized page.

This keeps the preprocess flow free of image math. Every scan yields exactly one page row (even
with zero lines), so no page can go missing silently.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
from PIL import Image

from ocrcore.imageio import encode_png
from ocrcore.preprocess.pages import crop_image_u8
from ocrcore.preprocess.scan import ScanLayout

PART_TYPE = pa.struct([
    pa.field("kind", pa.string()), pa.field("bbox", pa.list_(pa.int32())), pa.field("skew_angle", pa.float32()),
    pa.field("inverted", pa.bool_()), pa.field("lines", pa.int32()), pa.field("bend", pa.float32()),
    pa.field("show_through", pa.bool_()),
])

# ``skew_angle`` and ``inverted`` are those of the first page part (the left page of a spread);
# ``parts`` has every part: ``page``, or ``left`` and ``right``, then any ``bar`` (or ``line``);
# a part's ``bend`` is how far its lines bent, in pixels, when it was flattened (0 when not);
# ``show_through``: its back page showed through the paper and was taken out.
PAGES_SCHEMA = pa.schema([
    pa.field("page_id", pa.string()), pa.field("source_uri", pa.string()), pa.field("page_no", pa.int32()),
    pa.field("width", pa.int32()), pa.field("height", pa.int32()), pa.field("skew_angle", pa.float32()),
    pa.field("inverted", pa.bool_()), pa.field("lines", pa.int32()), pa.field("parts", pa.list_(PART_TYPE)),
])


def line_rows(page_id: str, scan: ScanLayout, to_given=None) -> list[dict]:
    """Line dataset rows (dataset schema plus layout columns) for one scan, in reading order;
    boxes and columns are on the image as given (``to_given``: the map of boxes onto it from the
    image analysed, :func:`ocrcore.imageio.unsquare`, when that was resampled)."""
    rows = []
    boxes = [pl.bbox for pl in scan.lines]
    boxes = to_given(boxes) if to_given is not None else boxes
    for k, (pl, crop, box) in enumerate(zip(scan.lines, scan.crops(), boxes)):
        img = crop_image_u8(crop)
        rows.append({
            "id": f"{page_id}/line-{k:04d}",
            "image": {"bytes": encode_png(img), "path": f"line-{k:04d}.png"},
            "text": "",
            "width": img.width,
            "height": img.height,
            "source": page_id,
            "page_id": page_id,
            "line_no": k,
            "bbox": [int(v) for v in box],
            "column": int(pl.column),
        })
    return rows


def page_row(page_id: str, source_uri: str, page_no: int, image: Image.Image, scan: ScanLayout,
             to_given=None) -> dict:
    """The page row of one scan of ``image`` (as given; ``to_given`` as for :func:`line_rows`)."""
    first = scan.parts[0].as_given
    boxes = [p.box for p in scan.parts]
    boxes = to_given(boxes) if to_given is not None else boxes
    parts = [{"kind": p.kind, "bbox": [int(v) for v in box], "skew_angle": float(p.as_given.angle),
              "inverted": bool(p.as_given.inverted), "lines": sum(pl.part is p for pl in scan.lines),
              "bend": float(p.flattened.warp.bend) if p.flattened is not None else 0.0,
              "show_through": bool(p.shows_through)}
             for p, box in zip(scan.parts, boxes)]
    return {"page_id": page_id, "source_uri": source_uri, "page_no": page_no, "width": image.width,
            "height": image.height, "skew_angle": float(first.angle), "inverted": bool(first.inverted),
            "lines": len(scan.lines), "parts": parts}


def binarized_png(scan: ScanLayout) -> bytes:
    """The binarized, deskewed page as a 1-bit PNG (ink black). Two facing pages, each deskewed
    on its own, are put side by side, tops aligned; a curled page is shown flattened; a reversed
    bar shows as the page's binarization has it (its lettering light on dark)."""
    pages = [p.layout.binarized.binary for p in scan.pages]
    if len(pages) == 1:
        ink = pages[0]
    else:
        ink = np.zeros((max(b.shape[0] for b in pages), sum(b.shape[1] for b in pages)), bool)
        x = 0
        for b in pages:
            ink[:b.shape[0], x:x + b.shape[1]] = b
            x += b.shape[1]
    return encode_png(Image.fromarray(~ink).convert("1"), compress_level=6)

"""Pictures for synthetic pages: photographs and halftone prints, which hold no text.

Real scans of books, reports and magazines carry figures, and a page reader must not read lines
in them. Binarized, a photograph becomes large dense blobs and a halftone a field of dots, pieces
of which pass for glyphs: a layout analysis that never saw them finds "lines" there. Pages with
``figures`` > 0 place these in the text flow so tests and benchmarks can count such lines.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

KINDS = ("photo", "halftone")


def photo(rng: np.random.Generator, w: int, h: int) -> Image.Image:
    """A grey ``w`` x ``h`` image with a photograph's statistics: smooth tones at several scales,
    a few solid shapes with soft edges (objects), full contrast range."""
    a = np.zeros((h, w), np.float32)
    for k, amp in ((3, 1.0), (10, 0.5), (30, 0.25), (90, 0.12)):
        kh = max(2, int(round(k * h / max(w, 1))))
        f = rng.normal(0.0, 1.0, (kh, k)).astype(np.float32)
        a += amp * np.asarray(Image.fromarray(f, "F").resize((w, h), Image.BICUBIC))
    a = (a - a.min()) / max(float(a.max() - a.min()), 1e-6)
    img = Image.fromarray((a * 255).astype(np.uint8), "L")
    d = ImageDraw.Draw(img)
    for _ in range(int(rng.integers(2, 8))):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        x1, y1 = x0 + int(rng.integers(w // 10 + 1, w // 2 + 2)), y0 + int(rng.integers(h // 10 + 1, h // 2 + 2))
        shape = d.ellipse if rng.random() < 0.6 else d.rectangle
        shape((x0, y0, x1, y1), fill=int(rng.integers(0, 256)))
    return img.filter(ImageFilter.GaussianBlur(max(1.0, w / 300.0)))


def halftone(img: Image.Image, rng: np.random.Generator, dpi: int) -> Image.Image:
    """``img`` printed as a clustered-dot halftone at 65-150 lines per inch, screen at 45 or 0
    degrees, as newspapers and books print photographs."""
    a = np.asarray(img, np.float32) / 255.0
    h, w = a.shape
    cell = dpi / float(rng.uniform(65, 150))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if rng.random() < 0.5:
        xx, yy = (xx + yy) / np.sqrt(2.0), (xx - yy) / np.sqrt(2.0)
    screen = (np.cos(xx * np.pi / cell) * np.cos(yy * np.pi / cell) + 1.0) / 2.0
    return Image.fromarray(np.where(a > screen, 255, 0).astype(np.uint8), "L")


def figure(rng: np.random.Generator, w: int, h: int, dpi: int, paper: int, ink: int) -> tuple[Image.Image, str]:
    """A picture of one of :data:`KINDS`, in the page's paper and ink tones; returns it and its kind."""
    kind = KINDS[int(rng.integers(0, len(KINDS)))]
    img = photo(rng, w, h)
    if kind == "halftone":
        img = halftone(img, rng, dpi)
    lut = [int(round(ink + (paper - ink) * v / 255.0)) for v in range(256)]
    return img.point(lut), kind

"""Tesseract 5 as the benchmarks compare against it: line images and whole pages, one thread.

:func:`read_lines`: one ``tesseract`` process reads a whole list of line images (``--psm 7``,
``OMP_THREAD_LIMIT=1``) so that process start-up is not counted; the images are written as PNG
to a temporary folder first (not timed). Each page of Tesseract's output is one line; runs of
white space become one space. :func:`read_page`: one page (``--psm 3``) as a text-only Page.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from typing import Sequence

import numpy as np
from PIL import Image

from ocrcore.containers import Line, Page


def available() -> bool:
    """True where a ``tesseract`` binary is on PATH (``scripts/system-deps.sh --bench`` installs it)."""
    return shutil.which("tesseract") is not None


def read_lines(images: Sequence) -> tuple[list[str], float]:
    """``(texts, seconds)``: Tesseract's reading of each image (PNG bytes, a PIL image, or a float
    array with 1.0 = white) and the seconds the one process took."""
    tmp = tempfile.mkdtemp(prefix="bench-tess-")
    try:
        paths = []
        for i, im in enumerate(images):
            p = os.path.join(tmp, f"{i:05d}.png")
            if isinstance(im, (bytes, bytearray)):
                with open(p, "wb") as f:
                    f.write(im)
            else:
                if isinstance(im, np.ndarray):
                    im = Image.fromarray((np.clip(im, 0.0, 1.0) * 255).round().astype(np.uint8))
                im.save(p)
            paths.append(p)
        lst = os.path.join(tmp, "list.txt")
        with open(lst, "w") as f:
            f.write("\n".join(paths) + "\n")
        t0 = time.perf_counter()
        res = subprocess.run(["tesseract", lst, "stdout", "--psm", "7"], capture_output=True, text=True,
                             env=dict(os.environ, OMP_THREAD_LIMIT="1"))
        dt = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    texts = [" ".join(t.split()) for t in res.stdout.split("\f")][: len(images)]
    return texts + [""] * (len(images) - len(texts)), dt


def read_page(image, name: str, dpi: int | None = None) -> Page:
    """Tesseract 5's text of a page (``--psm 3``, one thread; ``dpi``: the resolution to tell it,
    where known), one :class:`Line` without boxes per output line."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "page.png")
        image.save(path)
        cmd = ["tesseract", path, "stdout", "--psm", "3"] + (["--dpi", str(dpi)] if dpi else [])
        out = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout
    lines = [" ".join(ln.split()) for ln in out.splitlines() if ln.strip()]
    return Page(name, image.width, image.height, [Line((0, 0, 0, 0), t) for t in lines])

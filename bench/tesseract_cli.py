"""Tesseract 5 as the benchmarks compare against it: line images and whole pages, one thread.

:func:`read_lines`: one ``tesseract`` process reads a whole list of line images (``--psm 7``,
``OMP_THREAD_LIMIT=1``) so that process start-up is not counted; the images are written as PNG
to a temporary folder first (not timed). Each page of Tesseract's output is one line; runs of
white space become one space. :func:`read_page`: one page (``--psm 3``) as a text-only Page.

Tesseract's text is folded with ``normalize`` (default ``ocr``, what our references and models
use: curly quotes, long dashes and ligatures to ASCII) before it is scored, so a typographic
variant of the right character is not counted as an error against it. Our model's charset
cannot emit those variants, so the fold changes nothing for it.
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
from ocrcore.model.charset import normalize_text


def available() -> bool:
    """True where a ``tesseract`` binary is on PATH (``scripts/system-deps.sh --bench`` installs it)."""
    return shutil.which("tesseract") is not None


def read_lines(images: Sequence, normalize: str = "ocr") -> tuple[list[str], float]:
    """``(texts, seconds)``: Tesseract's reading of each image (PNG bytes, a PIL image, or a float
    array with 1.0 = white), folded with ``normalize``, and the seconds the one process took."""
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
    texts = [normalize_text(" ".join(t.split()), normalize) for t in res.stdout.split("\f")][: len(images)]
    return texts + [""] * (len(images) - len(texts)), dt


def run_page(path: str, dpi: int | None = None) -> str:
    """Tesseract 5's raw text of the page image at ``path`` (``--psm 3``, one thread; ``dpi``: the
    resolution to tell it, where known)."""
    cmd = ["tesseract", path, "stdout", "--psm", "3"] + (["--dpi", str(dpi)] if dpi else [])
    return subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, OMP_THREAD_LIMIT="1")).stdout


def text_page(text: str, name: str, width: int = 1, height: int = 1, normalize: str = "ocr") -> Page:
    """Tesseract's page text as a :class:`Page` of box-less lines, each folded with ``normalize``."""
    lines = [normalize_text(" ".join(ln.split()), normalize) for ln in text.splitlines() if ln.strip()]
    return Page(name, width, height, [Line((0, 0, 0, 0), t) for t in lines if t])


def read_page(image, name: str, dpi: int | None = None, normalize: str = "ocr") -> Page:
    """Tesseract 5's reading of a PIL page image (see :func:`run_page`, :func:`text_page`)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "page.png")
        image.save(path)
        text = run_page(path, dpi)
    return text_page(text, name, image.width, image.height, normalize)

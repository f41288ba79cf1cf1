"""Rubber stamps an office or a library presses on a page: RECEIVED with a date, PAID, COPY, a
library's oval mark.

Not text of the page: its truth stays the printed text (the stamp's words are the office's,
pressed at an angle over whatever was there). :func:`stamp` draws one into an ink coverage image
(``"L"``, 100 = one coat), which the page generator filters the scan through as it does a
highlighter's dye (:func:`ocrcore.synth.degrade.highlight`), so type under a stamp stays as dark
as it was and the stamp's ink takes its colour from the pad.

What is drawn is what matters to a page reader: capitals in a bold sans 3-6 mm tall, a date line,
most often a frame (a rectangle, doubled or not, or an oval ring), the ink pressed unevenly (a
smooth field of more and less ink, one side lighter, grain where the rubber did not take ink),
turned up to 35 degrees.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from ocrcore.synth.degrade import _smooth_field
from ocrcore.synth.fonts import load_font

# what a stamp pad's ink lets through, per channel, at one coat
STAMP_INKS = {"red": (0.80, 0.22, 0.26), "blue": (0.26, 0.36, 0.80), "violet": (0.55, 0.32, 0.74),
              "green": (0.28, 0.62, 0.36)}
TITLES = ("RECEIVED", "APPROVED", "PAID", "FILED", "COPY", "ENTERED", "CHECKED", "CONFIDENTIAL", "DUPLICATE",
          "ARCHIVE COPY", "WITHDRAWN", "REGISTERED", "FOR OFFICE USE ONLY", "PUBLIC LIBRARY", "ANSWERED",
          "URGENT", "PROPERTY OF THE LIBRARY", "VERIFIED")
MAX_TEXT_MM = {"box": 60, "oval": 42, "plain": 70}  # a stamp's words are at most this wide
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")


def _date(rng: np.random.Generator) -> str:
    d, m, y = int(rng.integers(1, 29)), int(rng.integers(12)), int(rng.integers(1950, 2025))
    forms = (f"{d} {MONTHS[m]} {y}", f"{d:02d}.{m + 1:02d}.{y}", f"{MONTHS[m]} {d} {y}", f"{d:02d} {MONTHS[m]} {y % 100:02d}")
    return forms[int(rng.integers(len(forms)))]


def stamp(rng: np.random.Generator, font_path: str, dpi: int) -> tuple[Image.Image, str]:
    """One stamp: its ink coverage (``"L"``, 100 = one coat, turned, on a transparent ground)
    and its kind (``"box"``, ``"oval"`` or ``"plain"``)."""
    kind = str(rng.choice(["box", "oval", "plain"], p=[0.5, 0.3, 0.2]))
    mm = dpi / 25.4
    cap = rng.uniform(3.0, 6.0) * mm  # capital height
    title = TITLES[int(rng.integers(len(TITLES)))]
    rows = [(title, 1.0)]
    if kind != "plain" or rng.random() < 0.4:
        rows.append((_date(rng), rng.uniform(0.6, 0.9)))
    if kind == "box" and rng.random() < 0.3:
        rows.append((f"No. {int(rng.integers(10, 99999))}", rng.uniform(0.5, 0.7)))

    def cut(cap: float) -> tuple[list, list[float]]:  # each row's font (capitals cap px tall) and width
        fonts = [load_font(font_path, max(6, int(round(cap * s / 0.72)))) for _, s in rows]
        return fonts, [f.getlength(t) for (t, _), f in zip(rows, fonts)]

    fonts, widths = cut(cap)
    most = MAX_TEXT_MM[kind] * mm
    if max(widths) > most:  # a long title is cut in smaller letters, as stamps are
        cap *= most / max(widths)
        fonts, widths = cut(cap)
    gap = cap * rng.uniform(0.35, 0.6)
    heights = [cap * s for _, s in rows]
    text_w, text_h = max(widths), sum(heights) + gap * (len(rows) - 1)
    line = max(2, int(round(rng.uniform(0.4, 1.0) * mm)))
    pad = cap * rng.uniform(0.4, 0.8)
    if kind == "oval":  # the text's box inscribed in the ellipse, a margin round it
        fw, fh = text_w * 1.42 + 2 * pad, text_h * 1.42 + 2 * pad + cap
    elif kind == "box":
        fw, fh = text_w + 2 * pad, text_h + 2 * pad
    else:
        fw, fh = text_w + 2 * line, text_h + 2 * line
    margin = 4 * line
    w, h = int(fw + 2 * margin), int(fh + 2 * margin)
    img = Image.new("L", (w, h), 0)
    draw = ImageDraw.Draw(img)
    y = (h - text_h) / 2
    for (text, _), f, tw, th in zip(rows, fonts, widths, heights):
        top = f.getbbox("H")[1]  # where the capitals start below the font's origin
        draw.text(((w - tw) / 2, y - top), text, fill=100, font=f)
        y += th + gap
    box = (margin, margin, w - margin - 1, h - margin - 1)
    if kind != "plain":  # the frame, doubled on some: a box on 40%, an oval ring on half
        outline = draw.rectangle if kind == "box" else draw.ellipse
        outline(box, outline=100, width=line)
        doubled, apart = (0.4, (0.5, 1.2)) if kind == "box" else (0.5, (0.8, 2.0))
        if rng.random() < doubled:
            inset = line + max(2, int(round(rng.uniform(*apart) * mm)))
            outline((box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset), outline=100,
                    width=max(1, line // 2))
    # the ink pressed unevenly: more and less of it in patches, one side lighter, grain where the
    # rubber took none, the edges softened
    a = np.asarray(img, np.float32)
    patches = 1.0 + 0.35 * _smooth_field(rng, w, h, 6 * mm)
    tilt = rng.uniform(-0.35, 0.35)
    side = 1.0 + tilt * (np.linspace(-1, 1, w)[None, :] * np.cos(rng.uniform(0, np.pi)))
    grain = (rng.random((h, w)) > rng.uniform(0.0, 0.25)).astype(np.float32)
    grain = np.asarray(Image.fromarray((grain * 255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(0.6)),
                       np.float32) / 255.0
    a = a * np.clip(patches * side, 0.35, 1.4) * (0.35 + 0.65 * grain) * rng.uniform(0.8, 1.15)
    img = Image.fromarray(np.clip(a + 0.5, 0, 255).astype(np.uint8))
    angle = float(np.clip(rng.normal(0, 12), -35, 35))
    return img.rotate(angle, Image.BILINEAR, expand=True, fillcolor=0), kind

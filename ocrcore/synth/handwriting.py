"""Pen marks a reader adds to a printed page: notes in the margin, ticks, a line beside a
paragraph, words circled, a signature.

Not text the reader should transcribe: the page's truth stays the printed text. The shapes are
polylines in page pixels; :func:`draw_marks` strokes them with a ballpoint's width into an ink
coverage image (``"L"``, 100 = one coat of the pen's ink), which the page generator filters the
scan through as it does a highlighter's dye (:func:`ocrcore.synth.degrade.highlight`).

Cursive is drawn as a prolate trochoid (a point on a rolling wheel whose arm is longer than its
radius): each turn of the wheel is a letter, a loop where the arm is long, a hump or a cusp where
it is short, its height a letter's x-height, an ascender's or a descender's. That is not
handwriting anyone could read, but it has what matters to a page reader: connected strokes of
one width, loops above and below the line, slant, and an irregular baseline.
"""
from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw

Polyline = list[tuple[float, float]]

# what a pen's ink lets through, per channel, at one coat: blue ballpoint, black, red
PEN_INKS = {"blue": (0.16, 0.22, 0.52), "black": (0.13, 0.13, 0.15), "red": (0.72, 0.16, 0.18)}


def cursive_word(rng: np.random.Generator, x: float, baseline: float, xh: float, letters: int,
                 slant: float, wild: float = 0.0) -> tuple[Polyline, float]:
    """One scribbled word of ``letters`` letters starting at ``(x, baseline)``, x-height ``xh``
    px, slanted by ``slant`` (shear, positive leans right). ``wild`` (0..1) makes loops larger
    and heights freer, as in a signature. Returns the polyline and the x where it ends."""
    adv = xh * rng.uniform(0.65, 0.95) * (1 + 0.5 * wild)
    steps = 14
    t = np.arange(letters * steps + 1) / steps
    k = np.minimum(t.astype(int), letters - 1)
    # per letter: arm (loop size), height, and where it sits (x-height, ascender, descender)
    arm = rng.uniform(0.05, 0.35 + 0.4 * wild, letters)
    kind = rng.choice(3, letters, p=[0.62, 0.23, 0.15])
    height = xh * np.where(kind == 1, rng.uniform(1.8, 2.4, letters), rng.uniform(0.8, 1.15, letters))
    height *= 1 + wild * rng.uniform(-0.3, 0.8, letters)
    phase = 2 * np.pi * t
    xs = x + adv * t + adv * arm[k] * 1.6 * np.sin(phase)  # up ahead, down behind: loops as a hand makes them
    lift = (1 - np.cos(phase)) / 2  # 0 on the baseline, 1 at the letter's top
    ys = baseline - height[k] * lift
    # a descender's letter goes from its top down through the baseline to a loop below it
    u = 2 * (t % 1) - 1
    d = xh * rng.uniform(0.7, 1.0)
    down = (kind[k] == 2) & (u > 0) & (t < letters)
    hang = np.where(u <= 0.5, baseline - height[k] + (height[k] + d) * np.sin(np.pi * u),
                    baseline + d * np.cos(np.pi * (u - 0.5)))
    ys = np.where(down, hang, ys)
    drift = np.cumsum(rng.normal(0, 0.02 * xh, t.size))
    ys = ys + drift
    xs = xs + slant * (baseline - ys)
    return list(zip(xs.tolist(), ys.tolist())), float(x + adv * letters)


def note(rng: np.random.Generator, x: float, y: float, width: float, xh: float) -> list[Polyline]:
    """A margin note: one to three short lines of one or two scribbled words, starting at ``(x,
    y)`` (the first baseline), kept within ``width`` px."""
    slant = rng.uniform(-0.1, 0.45)
    out: list[Polyline] = []
    for row in range(int(rng.integers(1, 4))):
        cx = x + rng.uniform(0, 0.15) * width
        base = y + row * xh * rng.uniform(2.6, 3.4)
        for _ in range(int(rng.integers(1, 3))):
            n = int(rng.integers(2, 7))
            if cx + n * xh * 0.95 > x + width:
                n = int((x + width - cx) / (xh * 0.95))
            if n < 1:
                break
            line, cx = cursive_word(rng, cx, base + rng.normal(0, 0.15 * xh), xh, n, slant)
            out.append(line)
            cx += xh * rng.uniform(0.8, 1.6)
    return out


def signature(rng: np.random.Generator, x: float, y: float, xh: float) -> tuple[list[Polyline], tuple]:
    """A signature with its baseline at ``y``: one or two wild scribbled words and a flourish
    under them. Returns the polylines and their bounding box."""
    slant = rng.uniform(0.0, 0.5)
    lines: list[Polyline] = []
    cx = x
    for _ in range(int(rng.integers(1, 3))):
        word, cx = cursive_word(rng, cx, y + rng.normal(0, 0.2 * xh), xh, int(rng.integers(3, 8)), slant, wild=1.0)
        lines.append(word)
        cx += xh * rng.uniform(0.5, 1.2)
    t = np.linspace(0, 1, 40)
    x0, x1 = x - xh * rng.uniform(0, 1), cx + xh * rng.uniform(0, 1.5)
    sag = xh * rng.uniform(0.4, 1.2)
    lines.append(list(zip((x0 + (x1 - x0) * t).tolist(), (y + sag + xh * 0.6 * np.sin(np.pi * t) * rng.uniform(-1, 1)
                                                             - sag * t).tolist())))
    pts = np.array([p for ln in lines for p in ln])
    return lines, (float(pts[:, 0].min()), float(pts[:, 1].min()), float(pts[:, 0].max()), float(pts[:, 1].max()))


def tick(rng: np.random.Generator, x: float, baseline: float, size: float) -> Polyline:
    """A check mark about ``size`` px tall, its foot near ``(x, baseline)``."""
    a = (x - size * rng.uniform(0.3, 0.5), baseline - size * rng.uniform(0.35, 0.55))
    b = (x, baseline)
    c = (x + size * rng.uniform(0.5, 0.9), baseline - size * rng.uniform(0.9, 1.3))
    t = np.linspace(0, 1, 8)[:, None]
    first = (1 - t) * np.array(a) + t * np.array(b)
    second = (1 - t) * np.array(b) + t * np.array(c) + np.sin(np.pi * t) * size * 0.08
    return [tuple(p) for p in np.concatenate([first, second[1:]]).tolist()]


def sidebar(rng: np.random.Generator, x: float, y0: float, y1: float, size: float) -> Polyline:
    """A line drawn down the margin beside a passage from ``y0`` to ``y1``, sometimes hooked at
    both ends like a bracket."""
    n = max(4, int((y1 - y0) / max(4.0, size)))
    ys = np.linspace(y0, y1, n)
    xs = x + np.cumsum(rng.normal(0, 0.05 * size, n)) + (ys - y0) * rng.uniform(-0.03, 0.03)
    pts = list(zip(xs.tolist(), ys.tolist()))
    if rng.random() < 0.4:
        hook = size * rng.uniform(0.4, 0.9) * (1 if rng.random() < 0.5 else -1)
        pts = [(pts[0][0] + hook, pts[0][1])] + pts + [(pts[-1][0] + hook, pts[-1][1])]
    return pts


def circle(rng: np.random.Generator, box: tuple[float, float, float, float], size: float) -> Polyline:
    """A loop drawn around ``box`` (a word or two), a little more than once round, wobbling."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    rx = (x1 - x0) / 2 + size * rng.uniform(0.25, 0.6)
    ry = (y1 - y0) / 2 + size * rng.uniform(0.2, 0.5)
    start = rng.uniform(0, 2 * np.pi)
    th = start + np.linspace(0, 2 * np.pi * rng.uniform(1.05, 1.2), 72)
    wob = 1 + np.cumsum(rng.normal(0, 0.01, th.size))
    return list(zip((cx + rx * wob * np.cos(th)).tolist(), (cy + ry * wob * np.sin(th)).tolist()))


def draw_marks(size: tuple[int, int], lines: list[Polyline], width: int, rng: np.random.Generator) -> Image.Image:
    """The polylines stroked ``width`` px wide into an ``"L"`` coverage image of ``size`` (100 =
    one coat); each stroke's ink a little lighter or darker, as a ballpoint's is."""
    img = Image.new("L", size, 0)
    draw = ImageDraw.Draw(img)
    for ln in lines:
        if len(ln) >= 2:
            draw.line(ln, fill=int(round(100 * rng.uniform(0.75, 1.0))), width=width, joint="curve")
    return img

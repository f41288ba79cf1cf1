"""Captcha images in two styles.

``classic`` (default) is our own renderer, made to look like the captcha set of the well-known
Keras OCR tutorial (``captcha_images_v2``): 200x50 grey images, 5 characters from
``2345678bcdefgmnpwxy``, dark serif-ish glyphs on a light noisy background, each glyph slightly
rotated and shifted so neighbours overlap a little, one thick wavy dark stroke across the whole
text, a little blur and noise. Per-character boxes are exact: the tight ink box of each rotated
glyph, carried through the mild elastic warp as the bounds of the warped box.

``lib`` uses the ``captcha`` package's ``ImageCaptcha``. That package draws its randomness from
module-level ``secrets``/``random`` calls, so each image is generated under a process-wide lock
with both swapped for a ``random.Random`` seeded from our stream (and the global ``random`` state
restored afterwards). Its per-character boxes are not recoverable: ``Sample.chars`` holds the
characters with empty ``(0, 0, 0, 0)`` boxes for this style.
"""
from __future__ import annotations

import math
import random
import threading

import numpy as np
from PIL import Image, ImageDraw

from ocrcore.synth.base import Sample, sample_id, sample_rng
from ocrcore.synth.degrade import elastic_warp, gaussian_blur, gaussian_noise, map_boxes, speckle
from ocrcore.synth.fonts import FontedGenerator, load_font, resolve_fonts

KIND = "captcha"
CAPTCHA_CHARSET = "2345678bcdefgmnpwxy"
STYLES = ("classic", "lib")

_LIB_LOCK = threading.Lock()


class _SeededSecrets:
    """Stand-in for the ``secrets`` module backed by a seeded ``random.Random``."""

    def __init__(self, r: random.Random):
        self._r = r
        self.randbits = r.getrandbits
        self.choice = r.choice

    def randbelow(self, n: int) -> int:
        return self._r.randrange(n)


def _draw_text(rng: np.random.Generator, charset: str, lo: int, hi: int) -> str:
    n = int(rng.integers(lo, hi + 1))
    return "".join(charset[i] for i in rng.integers(0, len(charset), n))


class CaptchaGenerator(FontedGenerator):
    """Callable ``(seed, index) -> Sample`` for validated ``captcha`` params."""

    def __init__(self, params: dict):
        super().__init__(params)
        self._lib = None

    def __getstate__(self):
        return {**super().__getstate__(), "_lib": None}

    def _lengths(self) -> tuple[int, int]:
        p = self.params
        if p["length"] is not None:
            return p["length"], p["length"]
        return p["min_length"], p["max_length"]

    def __call__(self, seed: int, index: int) -> Sample:
        rng = sample_rng(seed, KIND, index)
        lo, hi = self._lengths()
        text = _draw_text(rng, self.params["charset"], lo, hi)
        if self.params["style"] == "lib":
            return self._lib_sample(rng, text, seed, index)
        return self._classic_sample(rng, text, seed, index)

    # --- lib --------------------------------------------------------------------------------
    def _lib_sample(self, rng: np.random.Generator, text: str, seed: int, index: int) -> Sample:
        import captcha.image as ci

        p = self.params
        if self._lib is None:
            h = p["height"]
            sizes = tuple(max(8, int(round(s * h / 60.0))) for s in (42, 50, 56))
            custom = p["fonts"] is not None or p["extra_fonts"]
            font_paths = [f.path for f in resolve_fonts(p["fonts"], p["extra_fonts"])] if custom else None
            self._lib = ci.ImageCaptcha(width=p["width"], height=h, fonts=font_paths, font_sizes=sizes)
        lib_seed = int(rng.integers(0, 2**63 - 1))
        with _LIB_LOCK:
            state = random.getstate()
            had_secrets = hasattr(ci, "secrets")
            old_secrets = getattr(ci, "secrets", None)
            r = random.Random(lib_seed)
            try:
                random.seed(lib_seed)
                if had_secrets:
                    ci.secrets = _SeededSecrets(r)
                img = self._lib.generate_image(text)
            finally:
                if had_secrets:
                    ci.secrets = old_secrets
                random.setstate(state)
        img = img.convert("L")
        chars = [(c, (0, 0, 0, 0)) for c in text]
        meta = {"kind": KIND, "style": "lib", "lib_seed": lib_seed, "boxes": False}
        return Sample(sample_id(KIND, seed, index), img, text, chars, meta)

    # --- classic ----------------------------------------------------------------------------
    def resolve(self):
        """Serif regular/bold system fonts (the look of the tutorial set), or the user's fonts."""
        p = self.params
        if p["fonts"] is None:
            return resolve_fonts(None, p["extra_fonts"], ("serif",), ("regular", "bold"))
        return resolve_fonts(p["fonts"], p["extra_fonts"])

    def _classic_sample(self, rng: np.random.Generator, text: str, seed: int, index: int) -> Sample:
        p = self.params
        W, H = p["width"], p["height"]
        noise, distortion = float(p["noise"]), float(p["distortion"])
        fonts = self.fonts
        info = fonts.fonts[int(rng.integers(len(fonts.fonts)))]
        n = len(text)

        # text size from the height, shrunk when the text would not fit the width
        size = int(round(H * rng.uniform(0.64, 0.76)))
        size = max(8, min(size, int(W * 0.75 / (0.6 * n))))
        font = load_font(info.path, size)

        bg = float(rng.uniform(212, 240))
        ink = int(rng.uniform(25, 75))
        canvas = np.full((H, W), bg, dtype=np.float32)
        # paper texture: faint low-frequency blotches before the glyphs
        blot = Image.fromarray(rng.uniform(-1, 1, (5, 12)).astype(np.float32), "F").resize((W, H), Image.BICUBIC)
        canvas += np.asarray(blot) * 6.0 * noise
        img = Image.fromarray(np.clip(canvas, 0, 255).astype(np.uint8), "L")

        # glyphs: rendered on their own layer, rotated, cropped to ink, pasted with overlap
        max_rot = 4 + 18 * distortion
        layers = []
        for ch in text:
            pad = size
            layer = Image.new("L", (size * 3, size * 3), 0)
            ImageDraw.Draw(layer).text((pad, pad), ch, font=font, fill=255)
            layer = layer.rotate(float(rng.uniform(-max_rot, max_rot)), Image.BILINEAR)
            layer = layer.point([0 if v < 40 else v for v in range(256)])
            box = layer.getbbox() or (0, 0, 1, 1)
            layers.append(layer.crop(box))
        widths = [lay.width for lay in layers]
        overlap = rng.uniform(0.0, 0.08) + 0.08 * distortion
        gap = size * rng.uniform(0.0, 0.12)
        steps = [w * (1 - overlap) + gap + rng.uniform(-1, 2) for w in widths[:-1]]
        total = sum(steps) + widths[-1]
        x = rng.uniform(0.08, 0.2) * W
        if x + total > W - 4:
            x = max(2.0, (W - total) / 2.0)
        y_mid = H * rng.uniform(0.45, 0.58)
        boxes = []
        for i, lay in enumerate(layers):
            gx = int(round(x))
            gy = int(round(y_mid - lay.height / 2 + rng.uniform(-0.08, 0.08) * H))
            gx = min(max(gx, 0), max(W - lay.width, 0))
            gy = min(max(gy, 0), max(H - lay.height, 0))
            img.paste(ink, (gx, gy), lay)
            boxes.append((gx, gy, min(gx + lay.width, W), min(gy + lay.height, H)))
            if i < len(steps):
                x += steps[i]

        # one thick wavy stroke across the whole text
        x0 = max(0.0, boxes[0][0] - rng.uniform(0, 12))
        x1 = min(float(W), boxes[-1][2] + rng.uniform(0, 12))
        xs = np.linspace(x0, x1, 48)
        amp = H * rng.uniform(0.06, 0.16)
        period = (x1 - x0) * rng.uniform(0.6, 1.3)
        phase = rng.uniform(0, 2 * math.pi)
        slope = rng.uniform(-0.12, 0.12) * H
        ys = y_mid + amp * np.sin(2 * math.pi * (xs - x0) / period + phase) + slope * (xs - x0) / max(x1 - x0, 1)
        stroke = max(2, int(round(H * rng.uniform(0.05, 0.08))))
        ImageDraw.Draw(img).line(list(zip(xs.tolist(), ys.tolist())), fill=ink, width=stroke, joint="curve")

        img, pmap = elastic_warp(img, rng, (0.4 + 1.2 * distortion) * H / 50.0, H * 0.5, fill=int(bg))
        img = gaussian_blur(img, rng.uniform(0.3, 0.5 + 0.5 * noise) * H / 50.0)
        img = speckle(img, rng, 8.0 * noise, max_size=2, dark_fraction=0.5)
        img = gaussian_noise(img, rng, 3 + 9 * noise)
        boxes = map_boxes(boxes, pmap, img.size)
        chars = list(zip(text, boxes))
        meta = {
            "kind": KIND,
            "style": "classic",
            "font": info.path,
            "size_px": size,
            "noise": noise,
            "distortion": distortion,
        }
        return Sample(sample_id(KIND, seed, index), img, text, chars, meta)

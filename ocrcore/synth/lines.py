"""Printed text lines with exact per-character boxes.

Each sample draws English-like text (``corpus.py``), a font (class and style, bold and italic
included) and a text size in px (``min_height``..``max_height``, default 24-56 px: roughly 8-14 pt
at 300 dpi), varies letter and word spacing, draws the line glyph by glyph in black-ish ink on
white-ish paper with random margins, then applies scan-like degradations (``degrade.py``).

``Sample.chars`` holds every non-space character in reading order with its tight ink box at
render time, carried through rotation/warp as the axis-aligned bounds of the transformed box.

``cells`` (a share of lines, 0 by default) makes that share table cells instead of running text:
a figure as tables print it (``+4.2%``, ``(1,204)``, ``$48,160``) or a short label, often shorter
than ``min_chars``. Cut from a page, such a cell is a line of its own.

``ligatures`` (a share of lines, 0 by default) sets that share with the font's ``fi``, ``fl``,
``ff``, ``ffi`` and ``ffl`` ligatures, as books and journals are set; only lines whose tracking
is near zero get them (typesetters drop ligatures from letter-spaced text). The draw comes from
a stream of its own, so a line is the same line with or without them. ``typographic`` (a
share, 0 by default) draws that share's quotes, apostrophes and dashes as print has them
(``“ ” ‘ ’ – —``, :mod:`.typography`), labelled with their ASCII forms, unless the font is
monospaced (typewriters print straight marks); from a stream of its own too. ``typewriter`` (a
share, 0 by default) types that share on a typewriter (:mod:`.typewriter`): a Courier-like face
at a fixed pitch, each letter struck as one machine and ribbon strike it (off the line, tilted,
lighter or heavier, grained, spread, counters filled); from a stream of its own. ``carbon`` (a
share of the typed lines, 0 by default) makes that share carbon copies
(:func:`.typewriter.carbon_copy`: strikes blurred and grainier, lighter ink, onionskin mottled and
smudged; a blue or violet carbon drawn as its grey scan, lines being grey); a stream of its own.
``dotmatrix`` (a share of the lines not typed, 0 by default) prints that share on a dot-matrix
printer (:mod:`.dotmatrix`: each letter the dots of a 9- or 24-pin printer's bitmap font, at 10,
12 or 17 characters an inch; a fifth in capitals; a green bar's edge may cross the line); a
stream of its own.
"""
from __future__ import annotations

from PIL import Image

from ocrcore.synth import dotmatrix, typewriter
from ocrcore.synth.base import Sample, sample_id, sample_rng
from ocrcore.synth.corpus import get_corpus, random_text
from ocrcore.synth.degrade import map_boxes, random_degrade
from ocrcore.synth.fonts import FontedGenerator, load_font
from ocrcore.synth.render import advances, paste, place
from ocrcore.synth.typography import drawable, typeset

KIND = "lines"
LIGATURE_MAX_TRACKING = 0.03  # em; lines spaced wider than this are set without ligatures


class LinesGenerator(FontedGenerator):
    """Callable ``(seed, index) -> Sample`` for validated ``lines`` params; fonts resolved once."""

    def __call__(self, seed: int, index: int) -> Sample:
        p = self.params
        fonts = self.fonts
        rng = sample_rng(seed, KIND, index)
        if p["cells"] > 0 and rng.random() < p["cells"]:  # draws nothing extra when cells == 0
            text = get_corpus(p["charset"]).cell_text(rng, p["max_chars"])
        else:
            text = random_text(rng, p["min_chars"], p["max_chars"], p["charset"], p["sentence_start"],
                               p["symbols"])
        info = fonts.pick(rng)
        size = int(rng.integers(p["min_height"], p["max_height"] + 1))
        wrng = sample_rng(seed, KIND + "-typewriter", index) if p["typewriter"] > 0 else None
        machine = None
        typed = typewriter.typed(wrng, p["typewriter"])
        if typed:
            info = typewriter.type_font(fonts, wrng)
        # a dot-matrix line (one not typed), from a stream of its own; its dpi from its size and pitch
        drng = sample_rng(seed, KIND + "-dotmatrix", index) if p["dotmatrix"] > 0 and not typed else None
        printed = drng is not None and drng.random() < p["dotmatrix"]
        if printed:
            info = dotmatrix.dot_face(fonts, drng)
        font = load_font(info.path, size)
        if typed:
            machine = typewriter.machine(wrng, font)
        printer = None
        if printed:
            pt = float(drng.choice([12.0, 10.0, 7.0], p=[0.45, 0.4, 0.15]))  # 10, 12 or 17 characters an inch
            printer = dotmatrix.printer(drng, info, font, size * 72.0 / pt)
            if drng.random() < 0.2 and all(c in p["charset"] for c in text.upper()):
                text = text.upper()  # listings printed in capitals
        crng = sample_rng(seed, KIND + "-carbon", index) if machine is not None and p["carbon"] > 0 else None
        carbon = typewriter.carbon_copy(machine, crng, size) if crng is not None and crng.random() < p["carbon"] else None
        strength = float(p["degrade"])
        n_drawn = len(text)  # rng draws below as for the plain text, so typesetting changes nothing else
        typographic = bool(p["typographic"] > 0 and info.font_class != "mono"  # typewriters print straight marks
                           and sample_rng(seed, KIND + "-typographic", index).random() < p["typographic"])
        drawn = text
        if typographic:
            text, drawn = typeset(text)
            drawn = drawable(font, text, drawn)

        # spacing: a per-line tracking, a little per-char jitter, a per-line word-space factor
        tracking = float(rng.uniform(-0.02, max(p["max_letter_spacing"], 0.0) + 1e-9)) * size
        jitter = rng.normal(0.0, 0.012 * size, n_drawn) if p["max_letter_spacing"] > 0 else None
        extra = [tracking + (jitter[i] if jitter is not None else 0.0) for i in range(len(text))]
        space_extra = float(rng.uniform(-0.1, 0.6)) * font.getlength(" ")
        if machine is not None or printer is not None:  # a fixed pitch: every letter and space one step
            extra, space_extra, tracking = None, 0.0, 0.0
        steps = advances(font, drawn, extra, space_extra)
        ligatures = bool(machine is None and printer is None and p["ligatures"] > 0
                         and tracking <= LIGATURE_MAX_TRACKING * size
                         and sample_rng(seed, KIND + "-ligatures", index).random() < p["ligatures"])
        placed = place(font, drawn, 0, 0, steps, ligatures=ligatures)
        for pl, ch in zip(placed, text):
            pl.ch = ch  # the label's character (drawn may be its typographic form)
        if machine is not None:
            typewriter.strike(machine, placed)
        if printer is not None:
            dotmatrix.dot_print(printer, placed)

        ascent, descent = font.getmetrics()
        boxes = [pl.box for pl in placed if pl.box is not None]
        left = min([0] + [b[0] for b in boxes])
        top = min([0] + [b[1] for b in boxes])
        right = max([int(round(sum(steps)))] + [b[2] for b in boxes])
        bottom = max([ascent + descent] + [b[3] for b in boxes])
        pad_l, pad_r = (int(round(v * size)) for v in rng.uniform(0.1, 0.8, 2))
        pad_t, pad_b = (int(round(v * size)) for v in rng.uniform(0.05, 0.35, 2))
        ox, oy = pad_l - left, pad_t - top
        width, height = ox + right + pad_r, oy + bottom + pad_b
        for pl in placed:
            pl.x += ox
            pl.y += oy

        paper = int(round(255 - rng.uniform(0, 30) * strength))
        ink = int(round(rng.uniform(0, 70) * strength))
        if carbon is not None:
            ink = max(ink, carbon["ink"])
        img = Image.new("L", (width, height), paper)
        form = (dotmatrix.continuous_form(img, drng, size * 72.0 / pt, holes=False) if printer is not None
                else None)  # a green bar's edge may cross the line
        paste(img, placed, ink)
        if carbon is not None:  # a line's type is about a sixth of an inch: its dpi from its size
            carbon["smudges"] = typewriter.carbon_paper(img, crng, 6 * size)
            img = typewriter.carbon_grey(img, carbon["colour"])

        img, pmap, applied = random_degrade(img, rng, strength, geometric=True, font_px=size, fill=paper)
        visible = [pl for pl in placed if pl.ch != " "]
        raw = [pl.box or (pl.x, pl.y, pl.x, pl.y) for pl in visible]
        mapped = map_boxes(raw, pmap, img.size)
        chars = [(pl.ch, b) for pl, b in zip(visible, mapped)]
        meta = {
            "kind": KIND,
            "font": info.path,
            "font_family": info.family,
            "font_class": info.font_class,
            "font_style": info.style,
            "size_px": size,
            "tracking_px": round(tracking, 3),
            "ligatures": ligatures,
            "typographic": typographic,
            "typewriter": machine.describe() if machine is not None else None,
            "carbon": carbon,
            "dotmatrix": {**printer.describe(), "form": form} if printer is not None else None,
            "paper": paper,
            "ink": ink,
            "degrade": strength,
            "degradations": applied,
        }
        return Sample(sample_id(KIND, seed, index), img, text, chars, meta)

"""Whole printed pages (A4) with line, word and character ground truth.

Layout: random margins, an optional heading (larger, bold) spanning the text block, an optional
horizontal rule, then paragraphs in one or two columns (gutter between), justified or ragged, with
first-line indents and/or paragraph gaps; a few noise specks (not text) as on real pages; with
``figures`` > 0, that share of pages also holds a picture (a photograph or a halftone,
``figures.py``) in the text flow, its box in ``meta["figures"]``; with ``underlines`` > 0,
runs of 1-3 body words are underlined (a stroke parallel to the baseline, a little below it,
crossing the descenders; not text, so the truth is unchanged); with ``tables`` > 0, that share
of pages holds a table between two paragraphs of a column (2-5 columns of a label and figures,
3-10 rows, a header row, ruled as a grid, with top/header/bottom rules only, or not at all;
drawn from a stream of its own, so the text around it is the plain page's), each cell a line
of the truth, row by row, its box in ``meta["tables"]``; with ``furniture`` > 0, that share of
pages gets what books and journals print around the text (a running head with the page number,
footnotes at the foot of the last column in smaller type under a short rule, a page number in
the bottom margin; from a stream of its own, counts in ``meta["furniture"]``); with ``curl`` >
0, the page curves into a book's spine on its left or right (from a stream of its own; lines
within 30% of the width from the spine bend away from the page's middle height by up to
``curl`` of the page height, the paper darkening into the fold; ``meta["curl"]``); with
``show_through`` > 0, the back of the sheet shows through the paper (another page of these
params, from a stream of its own, mirrored and blurred, darkening the paper by up to
``show_through`` where its ink lies; not text, so the truth is unchanged;
``meta["show_through"]``); with ``ligatures`` > 0, that share of pages sets its heading and
body text with the font's ``fi``/``fl``/``ff``/``ffi``/``ffl`` ligatures, as books are set (each
letter's box the part of the ligature's ink at its pen position; from a stream of its own, so
the page is otherwise the same; ``meta["ligatures"]``); with ``typographic`` > 0, that share of
pages prints its heading's and body's quotes, apostrophes and dashes as print has them (``“ ”
‘ ’ – —``, labelled with their ASCII forms; not in a monospaced body font, as typewriters print
straight marks; a stream of its own; ``meta["typographic"]``); with ``highlights`` > 0, runs of
body words are marked with a highlighter (a stream of its own; the pens' dye filters the finished
page per channel, so the page is RGB, a colour scan; not text; ``meta["highlights"]``); with
``annotations`` > 0, that share of pages has a reader's ballpoint marks on it (notes in a side
margin, ticks, a line down the margin, words circled, a signature under the text;
:mod:`.handwriting`; a stream of its own; its ink filters the finished page as the dye does, so
the page is RGB; not text; ``meta["annotations"]``); with ``stamps`` > 0, that share of pages
carries one or two rubber stamps (RECEIVED and a date, PAID, a library's oval; :mod:`.stamps`;
red, blue, violet or green ink, pressed over the text or in the top or bottom part of the page,
turned; a stream of its own; a filter as the dye is, so the page is RGB; not text;
``meta["stamps"]``); with ``typewriter`` > 0, that share of pages is typed (:mod:`.typewriter`: a
Courier-like face at 10 or 12 pt whatever ``min_pt``/``max_pt`` say, one column, ragged right,
single, one-and-a-half or double spaced, the heading typed in the body's face; each letter
struck as one machine and ribbon strike it: off the line, tilted, lighter or heavier, grained,
spread, counters filled; a stream of its own; ``meta["typewriter"]``); with ``carbon`` > 0, that
share of typed pages is a carbon copy (:func:`.typewriter.carbon_copy`: the first, second or
third sheet under the top one, its strikes blurred and grainier, its ink lighter, on onionskin
mottled and smudged by the carbon, black, blue or violet (a colour page unless the scan was
thresholded); a stream of its own; ``meta["carbon"]``); with ``dotmatrix`` > 0, that share of
the pages not typed is a dot-matrix printout (:mod:`.dotmatrix`: one column in a monospaced face
at 10, 12 or 17 characters an inch, 6, 8 or 3 lines an inch, a fifth of them in capitals, each
letter the dots of a 9- or 24-pin printer's bitmap font, a worn ribbon's fading edge and a broken
pin's missing row of dots; on fan-fold paper, pale bars across it or sprocket holes down its
edges; a stream of its own; ``meta["dotmatrix"]``). The page is drawn glyph by glyph at full
resolution, the back page shown through if asked, curled if asked, rotated
once by the skew angle about the page centre (white fill), then degraded like a scan.

Skew convention: ``meta["skew_deg"]`` is the angle the content was rotated by, positive =
counter-clockwise on screen (as ``PIL.Image.rotate``); undoing it means rotating by the negative.

Ground truth ``Sample.page`` holds lines in reading order (running head, heading, then column 0
top to bottom, then column 1, footnotes, page number), ``Line.column`` set (0-based; the heading
is column 0), words split on spaces and non-space chars. Every box is in final image
coordinates: the bounds of the rotated corners and edge midpoints of the box at render time,
rounded outwards and clipped, so chars stay inside their words and words inside their lines.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageDraw

from ocrcore.containers import BBox, Char, Line, Page, Word, union_bbox
from ocrcore.synth.base import Sample, sample_id, sample_rng
from ocrcore.synth.corpus import get_corpus, random_text
from ocrcore.synth.degrade import (compose, curl, highlight, identity_map, map_boxes, random_degrade, rotate,
                                   show_through)
from ocrcore.synth import dotmatrix, handwriting, stamps, typewriter
from ocrcore.synth.figures import figure
from ocrcore.synth.fonts import FontedGenerator, load_font
from ocrcore.synth.render import Placed, advance, advances, paste, place
from ocrcore.synth.typography import drawable, typeset

KIND = "pages"
# what a highlighter's dye lets through, per channel, at one coat: yellow, green, pink, blue, orange
PEN_COLOURS = ((0.99, 0.95, 0.30), (0.62, 0.98, 0.45), (0.98, 0.55, 0.80), (0.50, 0.85, 0.99), (0.99, 0.72, 0.35))
A4_INCHES = (210 / 25.4, 297 / 25.4)  # 2480 x 3508 px at 300 dpi


@dataclass
class _Line:
    text: str
    placed: list[Placed]
    column: int
    baseline_y: int
    words: list[list[Placed]] = field(default_factory=list)


def _word_width(font, word: str) -> float:
    return float(sum(advances(font, word)))


def _split_long(font, word: str, avail: float) -> list[str]:
    """Chunks of ``word`` each fitting ``avail`` (at least one char per chunk)."""
    chunks = []
    while word and _word_width(font, word) > avail:
        cut = len(word) - 1
        while cut > 1 and _word_width(font, word[:cut]) > avail:
            cut -= 1
        cut = max(1, cut)
        chunks.append(word[:cut])
        word = word[cut:]
    if word:
        chunks.append(word)
    return chunks


def _wrap(font, text: str, width: float, first_width: float) -> list[list[str]]:
    """Greedy word wrap into lines (lists of words); words wider than a line are split."""
    space = advance(font, "", " ")
    lines: list[list[str]] = []
    cur: list[str] = []
    cur_w = 0.0
    avail = first_width
    for word in text.split(" "):
        for piece in _split_long(font, word, width):
            ww = _word_width(font, piece)
            if cur and cur_w + space + ww > avail:
                lines.append(cur)
                avail = width
                cur, cur_w = [], 0.0
            cur_w = cur_w + space + ww if cur else ww
            cur.append(piece)
    if cur:
        lines.append(cur)
    return lines


def _layout_line(font, words: list[str], x: float, y: int, avail: float, justify: bool, column: int,
                 ligatures: bool = False, typographic: bool = False) -> _Line:
    """Place one line; justified lines spread the slack over the word gaps; ``ligatures``: see
    :func:`~ocrcore.synth.render.place`; ``typographic``: quotes and dashes drawn as print has
    them (:func:`~ocrcore.synth.typography.typeset`), labelled with their ASCII forms."""
    text = drawn = " ".join(words)
    if typographic:
        text, drawn = typeset(text)
        drawn = drawable(font, text, drawn)
    steps = advances(font, drawn)
    gaps = len(words) - 1
    if justify and gaps > 0:
        slack = avail - sum(steps)
        space = advance(font, "", " ")
        if 0 < slack <= 4 * space * gaps:
            per = slack / gaps
            steps = [s + per if ch == " " else s for s, ch in zip(steps, text)]
    placed = place(font, drawn, x, y, steps, ligatures=ligatures)
    for pl, ch in zip(placed, text):
        pl.ch = ch
    ascent, _ = font.getmetrics()
    words_placed: list[list[Placed]] = [[]]
    for pl in placed:
        if pl.ch == " ":
            words_placed.append([])
        else:
            words_placed[-1].append(pl)
    return _Line(text, placed, column, y + ascent, [w for w in words_placed if w])


class PagesGenerator(FontedGenerator):
    """Callable ``(seed, index) -> Sample`` for validated ``pages`` params; fonts resolved once."""

    def __call__(self, seed: int, index: int) -> Sample:
        p = self.params
        fonts = self.fonts
        rng = sample_rng(seed, KIND, index)
        dpi = p["dpi"]
        charset = p["charset"]
        strength = float(p["degrade"])
        W, H = int(round(A4_INCHES[0] * dpi)), int(round(A4_INCHES[1] * dpi))
        cols = p["columns"] if p["columns"] in (1, 2) else 1 + int(rng.random() < 0.5)

        body = fonts.pick(rng, style="regular")
        ligatures = bool(p["ligatures"] > 0 and sample_rng(seed, KIND + "-ligatures", index).random() < p["ligatures"])
        typographic = bool(p["typographic"] > 0 and body.font_class != "mono"  # typewriters print straight marks
                           and sample_rng(seed, KIND + "-typographic", index).random() < p["typographic"])
        pt = round(float(rng.uniform(p["min_pt"], p["max_pt"])) * 2) / 2
        size = max(6, int(round(pt * dpi / 72.0)))
        font = load_font(body.path, size)
        leading = size * float(rng.uniform(p["min_leading"], p["max_leading"]))
        # a typed page, from a stream of its own: the typewriter's face, size and spacing
        wrng = sample_rng(seed, KIND + "-typewriter", index) if p["typewriter"] > 0 else None
        machine = None
        if typewriter.typed(wrng, p["typewriter"]):
            body = typewriter.type_font(fonts, wrng)
            cols, ligatures, typographic = 1, False, False
            pt = float(wrng.choice([10.0, 12.0]))  # elite (12 letters an inch) or pica (10)
            size = max(6, int(round(pt * dpi / 72.0)))
            font = load_font(body.path, size)
            leading = dpi / float(wrng.choice([6.0, 4.0, 3.0], p=[0.5, 0.2, 0.3]))  # single, 1.5, double
            machine = typewriter.machine(wrng, font)
        # a typed carbon copy, from a stream of its own: the same strikes, blurred, on onionskin
        crng = sample_rng(seed, KIND + "-carbon", index) if machine is not None and p["carbon"] > 0 else None
        carbon = (typewriter.carbon_copy(machine, crng, size)
                  if crng is not None and crng.random() < p["carbon"] else None)
        # a dot-matrix printout (a page not typed), from a stream of its own: printer, pitch, spacing
        drng = sample_rng(seed, KIND + "-dotmatrix", index) if p["dotmatrix"] > 0 and machine is None else None
        printer, lpi, upper = None, 6.0, False
        if drng is not None and drng.random() < p["dotmatrix"]:
            body = dotmatrix.dot_face(fonts, drng)
            cols, ligatures, typographic = 1, False, False
            pt = float(drng.choice([12.0, 10.0, 7.0], p=[0.45, 0.4, 0.15]))  # 10, 12 or 17 characters an inch
            size = max(6, int(round(pt * dpi / 72.0)))
            font = load_font(body.path, size)
            printer = dotmatrix.printer(drng, body, font, dpi)
            lpi = (float(drng.choice([6.0, 8.0, 3.0], p=[0.6, 0.2, 0.2])) if printer.pins == 9  # lines an inch
                   else float(drng.choice([6.0, 3.0], p=[0.75, 0.25])))  # 24 pins reach 0.133 inch: not 8
            if p["dotmatrix_lpi"] and (printer.pins == 9 or p["dotmatrix_lpi"] != 8):
                lpi = float(p["dotmatrix_lpi"])  # asked for (after the draw, so the rest is drawn as before)
            leading = dpi / lpi
            upper = bool(drng.random() < 0.2)  # listings printed in capitals
        fixed = machine is not None or printer is not None  # one face, one size, one pitch
        ml, mr = (v * dpi for v in rng.uniform(0.6, 1.1, 2))
        mt, mb = (v * dpi for v in rng.uniform(0.6, 1.0, 2))
        gutter = float(rng.uniform(0.25, 0.45)) * dpi
        text_w = W - ml - mr
        colw = (text_w - gutter * (cols - 1)) / cols
        justify = bool(rng.random() < 0.6) and not fixed  # typewriters and printers do not justify
        indent = size * float(rng.uniform(1.0, 3.0)) if rng.random() < 0.7 else 0.0
        para_gap = leading * float(rng.uniform(0.3, 1.0)) if (indent == 0 or rng.random() < 0.3) else 0.0

        lines: list[_Line] = []
        line_fonts = []
        # book and journal furniture, from a stream of its own (the body stays the plain page's)
        frng = sample_rng(seed, KIND + "-furniture", index) if p["furniture"] > 0 else None
        furn = self._furniture(frng, body, size, ml, mt, text_w, H - mb, colw, dpi) \
            if frng is not None and frng.random() < p["furniture"] else None
        if furn is not None:
            lines.extend(furn["head"])
            line_fonts.extend([None] * len(furn["head"]))
        y = mt
        # heading across the text block
        heading = None
        if rng.random() < 0.6:
            heading = fonts.variant(body, "bold") or fonts.pick(rng, style="bold")
            hsize = max(size + 2, int(round(size * float(rng.uniform(1.3, 2.0)))))
            if fixed:  # one face, one size: a typed or printed heading is in capitals or not
                heading, hsize = body, size
            hfont = load_font(heading.path, hsize)
            htext = random_text(rng, 8, 45, charset, symbols=p["symbols"])
            if rng.random() < 0.5 and all(c in charset for c in htext.title()):
                htext = htext.title()
            if machine is not None and wrng.random() < 0.5 and all(c in charset for c in htext.upper()):
                htext = htext.upper()
            if printer is not None and (upper or drng.random() < 0.5) and all(c in charset for c in htext.upper()):
                htext = htext.upper()
            centered = bool(rng.random() < 0.5)
            for words in _wrap(hfont, htext, text_w, text_w)[:3]:
                lw = _word_width(hfont, " ".join(words))
                x = ml + (text_w - lw) / 2 if centered else ml
                lines.append(_layout_line(hfont, words, x, int(round(y)), text_w, False, 0, ligatures, typographic))
                line_fonts.append(hfont)
                y += hsize * 1.25
            y += leading * float(rng.uniform(0.4, 1.2))
        rule = None
        if rng.random() < 0.35:
            thick = max(1, int(round(dpi / 150)))
            ry = int(round(y))
            rule = (int(ml), ry, int(ml + text_w), ry + thick)
            y += thick + leading * float(rng.uniform(0.5, 1.0))

        # body text, column by column, paragraphs flowing from one column into the next
        top = y
        bottom = H - mb
        last_bottom = bottom if rng.random() < 0.75 else top + (bottom - top) * float(rng.uniform(0.3, 1.0))
        # a figure (drawn nothing from rng unless figures > 0, so such pages stay as they were)
        fig_at = None  # (column, where down the column as a fraction, height in px)
        if p["figures"] > 0 and rng.random() < p["figures"]:
            fig_at = (int(rng.integers(0, cols)), float(rng.uniform(0.0, 0.6)), colw * float(rng.uniform(0.35, 0.8)))
        trng = sample_rng(seed, KIND + "-tables", index) if p["tables"] > 0 else None
        tab_at = None  # (column, where down the column as a fraction)
        if trng is not None and trng.random() < p["tables"]:
            tab_at = (int(trng.integers(0, cols)), float(trng.uniform(0.0, 0.7)))
        tab_rules: list[tuple[int, int, int, int]] = []
        tab_boxes: list[tuple[int, int, int, int]] = []
        tab_styles: list[str] = []
        fig_boxes: list[tuple[int, int, int, int]] = []
        pending: list[tuple[list[str], bool, bool]] = []  # (words, first-of-paragraph, last-of-paragraph)
        for c in range(cols):
            x0 = ml + c * (colw + gutter)
            y = top
            limit = last_bottom if c == cols - 1 else bottom
            if furn is not None and c == cols - 1 and furn["notes"]:
                limit = min(limit, furn["notes_top"] - 0.6 * leading)
            while y + size * 1.2 <= limit:
                if fig_at is not None and c == fig_at[0] and not fig_boxes and y >= top + (limit - top) * fig_at[1]:
                    fh = min(fig_at[2], limit - y - leading)
                    if fh >= 2 * leading:
                        fig_boxes.append((int(x0), int(round(y + 0.3 * leading)), int(x0 + colw), int(round(y + fh))))
                        y += fh + leading
                        continue
                if (tab_at is not None and c == tab_at[0] and not tab_boxes and not pending
                        and y >= top + (limit - top) * tab_at[1]):
                    cells, rects, th, tstyle = self._table(trng, font, body, x0, y + 0.4 * leading, colw, size, leading, c)
                    tab_at = None if not cells or y + th + 1.2 * leading > limit else tab_at
                    if tab_at is not None:
                        lines.extend(cells)
                        line_fonts.extend([None] * len(cells))  # never underlined
                        tab_rules.extend(rects)
                        tab_boxes.append((int(x0), int(round(y + 0.4 * leading)), int(x0 + colw),
                                          int(round(y + 0.4 * leading + th))))
                        tab_styles.append(tstyle)
                        y += th + 1.2 * leading
                        continue
                if not pending:
                    ptext = random_text(rng, 80, 900, charset, symbols=p["symbols"])
                    if upper and all(c in charset for c in ptext.upper()):
                        ptext = ptext.upper()
                    wrapped = _wrap(font, ptext, colw, colw - indent)
                    pending = [(w, i == 0, i == len(wrapped) - 1) for i, w in enumerate(wrapped)]
                    if y > top and para_gap:
                        y += para_gap
                        if y + size * 1.2 > limit:
                            break
                words, first, last = pending.pop(0)
                x = x0 + (indent if first else 0.0)
                avail = colw - (indent if first else 0.0)
                lines.append(_layout_line(font, words, x, int(round(y)), avail, justify and not last, c, ligatures,
                                          typographic))
                line_fonts.append(font)
                y += leading

        if furn is not None:
            for ln in furn["notes"]:
                ln.column = cols - 1
            lines.extend(furn["notes"] + furn["foot"])
            line_fonts.extend([None] * (len(furn["notes"]) + len(furn["foot"])))
            tab_rules.extend(furn["rules"])

        paper = int(round(255 - rng.uniform(0, 25) * strength))
        ink = int(round(rng.uniform(0, 60) * strength))
        if carbon is not None:
            ink = max(ink, carbon["ink"])
        img = Image.new("L", (W, H), paper)
        form = dotmatrix.continuous_form(img, drng, dpi, lpi) if printer is not None else None
        for ln in lines:
            if machine is not None:
                typewriter.strike(machine, ln.placed)
            if printer is not None:
                dotmatrix.dot_print(printer, ln.placed)
            paste(img, ln.placed, ink)
        figure_kinds = []
        for fx0, fy0, fx1, fy1 in fig_boxes:
            fimg, fkind = figure(rng, fx1 - fx0, fy1 - fy0, dpi, paper, ink)
            img.paste(fimg, (fx0, fy0))
            figure_kinds.append(fkind)
        draw = ImageDraw.Draw(img)
        # underlines from a stream of their own: the page with them is the plain page plus strokes
        n_under = (self._underline(draw, sample_rng(seed, KIND + "-underlines", index), lines, line_fonts, font,
                                   size, ink) if p["underlines"] > 0 else 0)
        if rule is not None:
            draw.rectangle((rule[0], rule[1], rule[2] - 1, rule[3] - 1), fill=ink)
        for rx0, ry0, rx1, ry1 in tab_rules:
            draw.rectangle((rx0, ry0, rx1 - 1, ry1 - 1), fill=ink)
        n_specks = int(rng.integers(1, 9)) if rng.random() < 0.6 else 0
        for _ in range(n_specks):
            r = float(rng.uniform(0.003, 0.012)) * dpi
            sx, sy = float(rng.uniform(0, W)), float(rng.uniform(0, H))
            draw.ellipse((sx - r, sy - r * rng.uniform(0.5, 1.0), sx + r, sy + r), fill=ink)
        if carbon is not None:
            carbon["smudges"] = typewriter.carbon_paper(img, crng, dpi)

        # highlighter marks from a stream of their own, drawn on the flat page like the ink
        marks = (self._highlight(sample_rng(seed, KIND + "-highlights", index), lines, line_fonts, font, size,
                                 (W, H)) if p["highlights"] > 0 else None)
        # pen marks (notes, ticks, circles, a signature) from a stream of their own, like the dye
        arng = sample_rng(seed, KIND + "-annotations", index) if p["annotations"] > 0 else None
        pen = (self._annotate(arng, lines, line_fonts, font, size, (W, H), ml, text_w, dpi)
               if arng is not None and arng.random() < p["annotations"] else None)
        # rubber stamps, from a stream of their own, their ink a filter like the dye
        srng = sample_rng(seed, KIND + "-stamps", index) if p["stamps"] > 0 else None
        stamped = (self._stamps(srng, (W, H), ml, mt, text_w, dpi)
                   if srng is not None and srng.random() < p["stamps"] else None)
        overlays = [o for o in (marks, pen, stamped) if o is not None]  # each {"dye": [...], "pens": [...], ...}
        back = None
        if p["show_through"] > 0:
            img, back = self._show_back(img, seed, index, paper)
        # the curl from a stream of its own: the curled page is the flat page, bent
        spine = None
        cmap = None
        if p["curl"] > 0:
            spine = "left" if sample_rng(seed, KIND + "-curl", index).random() < 0.5 else "right"
            img, cmap = curl(img, p["curl"], spine=spine, fill=paper)
            for o in overlays:
                o["dye"] = [curl(d, p["curl"], spine=spine, shadow=0.0, fill=0)[0] for d in o["dye"]]
        skew = float(rng.uniform(-p["max_skew"], p["max_skew"])) if p["max_skew"] > 0 else 0.0
        if skew != 0.0:
            img, pmap = rotate(img, skew, fill=paper, expand=False)
            for o in overlays:
                o["dye"] = [rotate(d, skew, fill=0, expand=False)[0] for d in o["dye"]]
        else:
            pmap = identity_map
        pmap = compose(cmap, pmap)
        if carbon is not None:  # a blue or violet carbon is lighter in grey
            img = typewriter.carbon_grey(img, carbon["colour"])
        img, _, applied = random_degrade(img, rng, strength, geometric=False, font_px=size, fill=paper)
        if carbon is not None and not any(d["name"] == "threshold" for d in applied):
            img = typewriter.carbon_tint(img, carbon["colour"])  # a colour scan (marks over it filter it further)
        for o in overlays:
            img = highlight(img, o.pop("dye"), o["pens"], blur=0.6 * dpi / 300.0)

        page, chars = self._truth(lines, pmap, img.size, sample_id(KIND, seed, index))
        meta = {
            "kind": KIND,
            "dpi": dpi,
            "columns": cols,
            "skew_deg": round(skew, 4),
            "skew_convention": "positive = counter-clockwise (PIL Image.rotate)",
            "curl": {"depth": p["curl"], "spine": spine} if spine else None,
            "show_through": back,
            "font_body": body.path,
            "font_heading": heading.path if heading else None,
            "font_pt": pt,
            "size_px": size,
            "leading_px": round(leading, 2),
            "justified": justify,
            "ligatures": ligatures,
            "typographic": typographic,
            "rule": rule is not None,
            "specks": n_specks,
            "underlined_words": n_under,
            "highlights": marks,
            "annotations": pen,
            "stamps": stamped,
            "typewriter": machine.describe() if machine is not None else None,
            "carbon": carbon,
            "dotmatrix": {**printer.describe(), "lines_per_inch": lpi, "capitals": upper, "form": form}
            if printer is not None else None,
            "figures": [{"kind": k, "bbox": list(b)} for k, b in zip(figure_kinds, map_boxes(fig_boxes, pmap, img.size))],
            "tables": [{"rules": st, "bbox": list(b)} for st, b in zip(tab_styles, map_boxes(tab_boxes, pmap, img.size))],
            "furniture": ({"head": len(furn["head"]), "footnote_lines": len(furn["notes"]), "foot": len(furn["foot"])}
                          if furn is not None else None),
            "paper": paper,
            "ink": ink,
            "degrade": strength,
            "degradations": applied,
        }
        return Sample(page.page_id, img, page.text, chars, meta, page)

    def _show_back(self, img: Image.Image, seed: int, index: int, paper: int) -> tuple[Image.Image, dict]:
        """The page with the back of its sheet showing through: another page of these params
        (flat, undegraded, drawn from the seed the ``-back`` stream gives), mirrored and blurred
        in proportion to the resolution."""
        p = self.params
        back_seed = int(sample_rng(seed, KIND + "-back", index).integers(0, 2 ** 31))
        flat = {**p, "show_through": 0.0, "curl": 0.0, "degrade": 0.0}
        back = PagesGenerator(flat)
        back._fonts = self.fonts
        b = back(back_seed, index).image
        blur = 2.0 * p["dpi"] / 300.0
        return (show_through(img, b, p["show_through"], paper=255, blur=blur),
                {"strength": p["show_through"], "seed": back_seed, "blur": round(blur, 3)})

    def _table(self, rng, font, body, x0: float, y0: float, width: float, size: int, leading: float,
               column: int) -> tuple[list[_Line], list[tuple[int, int, int, int]], float, str]:
        """A table laid out at ``(x0, y0)`` within ``width``: its cells as lines in row order,
        its rules as rectangles, its height and its ruling style. No cells when even two
        columns do not fit."""
        corpus = get_corpus(self.params["charset"])
        bold_info = self.fonts.variant(body, "bold")
        hfont = load_font(bold_info.path, size) if bold_info is not None and rng.random() < 0.6 else font
        ncols, nrows = int(rng.integers(2, 6)), int(rng.integers(3, 11))
        style = str(rng.choice(["grid", "booktabs", "none"], p=[0.35, 0.35, 0.3]))
        kinds = [corpus.table_number_kind(rng) for _ in range(ncols)]

        def label(n_max: int) -> str:
            words = corpus.words_batch(rng, int(rng.integers(1, n_max + 1)))
            text = " ".join(words)
            return text[:1].upper() + text[1:] if rng.random() < 0.8 else text.title()

        rows = [[label(2) for _ in range(ncols)]]
        rows += [[label(3)] + [corpus.table_number(rng, kinds[k]) or "0" for k in range(1, ncols)]
                 for _ in range(nrows)]
        gap = size * float(rng.uniform(1.0, 2.5))
        pad = size * 0.4 if style == "grid" else 0.0
        right = bool(rng.random() < 0.7)  # figures right-aligned (as most tables set them)
        while ncols >= 2:
            widths = [max(_word_width(hfont if r == 0 else font, row[k]) for r, row in enumerate(rows))
                      for k in range(ncols)]
            total = sum(widths) + gap * (ncols - 1) + 2 * pad * ncols
            if total <= width:
                break
            ncols -= 1
            rows = [row[:ncols] for row in rows]
        else:
            return [], [], 0.0, style
        gap += (width - total) / (ncols - 1) * float(rng.uniform(0.0, 0.6))
        ascent, descent = font.getmetrics()
        # rows leave room between the rules and the glyphs, as typeset tables do
        row_h = max(leading * (float(rng.uniform(1.25, 1.6)) if style == "grid" else float(rng.uniform(1.0, 1.3))),
                    ascent + descent + 0.35 * size)
        edges = [x0]
        for w in widths:
            edges.append(edges[-1] + w + 2 * pad + gap)
        edges[-1] -= gap
        top_off = (row_h - (ascent + descent)) / 2
        cells: list[_Line] = []
        for r, row in enumerate(rows):
            f = hfont if r == 0 else font
            y = int(round(y0 + r * row_h + top_off))
            for k, text in enumerate(row):
                if not text.strip():
                    continue
                cx = edges[k] + pad
                if k > 0 and r > 0 and right:
                    cx = edges[k] + pad + widths[k] - _word_width(f, text)
                cell = _layout_line(f, text.split(" "), cx, y, widths[k], False, column)
                cells.append(cell)
        height = row_h * len(rows)
        thick = max(1, int(round(size / 16)))
        x1 = edges[-1]
        rects = []
        if style == "grid":
            for r in range(len(rows) + 1):
                yy = int(round(y0 + r * row_h))
                rects.append((int(x0), yy, int(round(x1)) + thick, yy + thick))
            for e in edges[:-1] + [x1]:
                xx = int(round(e - gap / 2)) if e not in (edges[0], x1) else int(round(e))
                rects.append((xx, int(y0), xx + thick, int(round(y0 + height)) + thick))
        elif style == "booktabs":
            for yy, t in ((y0, 2 * thick), (y0 + row_h, thick), (y0 + height, 2 * thick)):
                rects.append((int(x0), int(round(yy)), int(round(x1)), int(round(yy)) + t))
        return cells, rects, height + 2 * thick, style

    def _furniture(self, rng, body, size: int, ml: float, mt: float, text_w: float, bottom: float, colw: float,
                   dpi: int) -> dict:
        """What books and journals print around the text: a running head in the top margin (a
        title in smaller, often italic type, the page number at one end or none), footnotes at
        the foot of the last column (smaller type under a short rule, each opening with its
        number) and a page number in the bottom margin. Lines in reading order: ``head``,
        ``notes`` (their top ``notes_top``) and ``foot``; ``rules`` as rectangles."""
        charset = self.params["charset"]
        italic = self.fonts.variant(body, "italic")
        thick = max(1, int(round(size / 16)))
        folio = str(int(rng.integers(1, 500)))
        out = {"head": [], "notes": [], "foot": [], "rules": [], "notes_top": bottom}
        hs = max(6, int(round(size * float(rng.uniform(0.8, 0.95)))))
        hfont = load_font((italic or body).path if rng.random() < 0.6 else body.path, hs)
        hy = mt - hs * float(rng.uniform(1.8, 2.8))
        mode = str(rng.choice(["title-folio", "folio-title", "centred"], p=[0.45, 0.25, 0.3]))
        if rng.random() < 0.85 and hy >= 0.2 * dpi:
            title = random_text(rng, 10, 50, charset)
            if rng.random() < 0.3 and all(c in charset for c in title.upper()):
                title = title.upper()
            tw, fw = _word_width(hfont, title), _word_width(hfont, folio)
            y = int(round(hy))
            parts = {"title-folio": [(title, ml), (folio, ml + text_w - fw)],
                     "folio-title": [(folio, ml), (title, ml + text_w - tw)],
                     "centred": [(title, ml + (text_w - tw) / 2)]}[mode]
            for text, x in parts:
                if text == folio and not all(c in charset for c in folio):
                    continue  # a charset without digits
                if tw + fw + 2 * hs < text_w or mode == "centred":
                    out["head"].append(_layout_line(hfont, text.split(" "), x, y, text_w, False, 0))
            if out["head"] and rng.random() < 0.35:
                ry = int(round(y + hs * 1.35))
                out["rules"].append((int(ml), ry, int(round(ml + text_w)), ry + thick))
        if rng.random() < 0.6:
            fs = max(6, int(round(size * float(rng.uniform(0.75, 0.88)))))
            nfont = load_font(body.path, fs)
            fl = fs * float(rng.uniform(1.1, 1.3))
            wrapped = []
            for k in range(int(rng.integers(1, 4))):
                mark = f"{k + 1} " if str(k + 1) in charset else ""
                text = mark + random_text(rng, 30, 220, charset)
                wrapped += _wrap(nfont, text, colw, colw)
            top = bottom - fl * len(wrapped)
            if top > mt + 0.4 * (bottom - mt):
                x0 = ml + text_w - colw  # the last column
                for k, words in enumerate(wrapped):
                    out["notes"].append(_layout_line(nfont, words, x0, int(round(top + k * fl)), colw, False, 0))
                ry = int(round(top - 0.5 * fl))
                out["rules"].append((int(x0), ry, int(round(x0 + colw * float(rng.uniform(0.25, 0.4)))), ry + thick))
                out["notes_top"] = ry
        if not out["head"] or mode != "title-folio" or rng.random() < 0.3:
            text = (folio, f"- {folio} -", f"Page {folio}", folio)[int(rng.integers(0, 4))]  # half bare
            text = text if all(c in charset or c == " " for c in text) else folio
            ffont = load_font(body.path, max(6, int(round(size * float(rng.uniform(0.8, 1.0))))))
            w = _word_width(ffont, text)
            x = ml + (text_w - w) / 2 if rng.random() < 0.7 else ml + text_w - w
            y = int(round(bottom + size * float(rng.uniform(1.2, 2.2))))
            if all(c in charset for c in folio):
                out["foot"].append(_layout_line(ffont, text.split(" "), x, y, text_w, False, 0))
        return out

    def _underline(self, draw, rng, lines: list[_Line], line_fonts: list, font, size: int, ink: int) -> int:
        """Underline runs of 1-3 words of the body lines (as links and emphasis are): each word
        starts a run with probability ``underlines``. Returns the number of words underlined."""
        offset = size * float(rng.uniform(0.06, 0.14))
        thick = max(1, int(round(size * float(rng.uniform(0.04, 0.07)))))
        count = 0
        for ln, i, j, boxes in _word_runs(rng, lines, line_fonts, font, float(self.params["underlines"]),
                                          lambda i, n: min(n, i + int(rng.integers(1, 4)))):
            y0 = int(round(ln.baseline_y + offset))
            draw.rectangle((min(b[0] for b in boxes), y0, max(b[2] for b in boxes) - 1, y0 + thick - 1), fill=ink)
            count += j - i
        return count

    def _highlight(self, rng, lines: list[_Line], line_fonts: list, font, size: int, page: tuple[int, int]) -> dict:
        """Highlighter marks over runs of 1-6 body words (each word starts one with probability
        ``highlights``; a run may reach the line's end), drawn as a student does: a band of dye
        about the x-height and a little more, drifting off the line, with wobbling edges, ends cut
        by the pen's chisel tip, streaks along it, and darker where two strokes overlap. One or
        two pens a page. Returns ``{"pens": [[r, g, b] transmission at full dye, ...], "words":
        n, "marks": n, "dye": [one "L" image per pen, 100 = one coat]}``, the page's size."""
        pens = [PEN_COLOURS[int(k)] for k in rng.choice(len(PEN_COLOURS), size=1 + int(rng.random() < 0.3),
                                                         replace=False)]
        pens = [[float(np.clip(c + rng.uniform(-0.04, 0.04), 0.1, 1.0)) for c in pen] for pen in pens]
        dye = [np.zeros(page[::-1], np.float32) for _ in pens]
        n_words = n_marks = 0
        def run_end(i: int, n: int) -> int:  # 1-6 words, or the rest of the line
            return n if rng.random() < 0.15 else min(n, i + int(rng.integers(1, 7)))

        for ln, i, j, boxes in _word_runs(rng, lines, line_fonts, font, float(self.params["highlights"]), run_end):
            x0 = min(b[0] for b in boxes) - size * rng.uniform(0.05, 0.4)
            x1 = max(b[2] for b in boxes) + size * rng.uniform(0.05, 0.4)
            self._stroke(rng, dye[int(rng.integers(len(pens)))], x0, x1, ln.baseline_y, size)
            n_words += j - i
            n_marks += 1
        images = [Image.fromarray(np.clip(d * 100.0 + 0.5, 0, 255).astype(np.uint8)) for d in dye]
        return {"pens": [[round(c, 3) for c in pen] for pen in pens], "words": n_words, "marks": n_marks,
                "dye": images}

    def _annotate(self, rng, lines: list[_Line], line_fonts: list, font, size: int, page: tuple[int, int],
                  ml: float, text_w: float, dpi: int) -> dict:
        """What a reader writes on a page with a ballpoint (blue, black or red): one to three
        notes in the wider side margin beside a body line, ticks in the margin, a line down the
        margin beside a passage, words circled in the text, and on half the pages a signature
        below the text (in the space left under the last line, else in the bottom margin, when
        there is room). Returns ``{"pen": name, "pens": [[r, g, b]], "notes", "ticks",
        "sidebars", "circles": n, "signature": bool, "dye": [one "L" image, 100 = one coat]}``."""
        W, H = page
        name = str(rng.choice(["blue", "black", "red"], p=[0.6, 0.3, 0.1]))
        width = max(1, int(round(rng.uniform(0.25, 0.5) / 25.4 * dpi)))
        xh = size * rng.uniform(0.45, 0.75)  # handwriting's x-height against the type's size
        body = [ln for ln, lf in zip(lines, line_fonts) if lf is font and ln.words]
        right = W - ml - text_w
        side = "left" if ml >= right else "right"
        mx0, mw = (ml * 0.08, ml * 0.84) if side == "left" else (ml + text_w + right * 0.08, right * 0.84)
        strokes: list = []
        counts = {"notes": 0, "ticks": 0, "sidebars": 0, "circles": 0}
        if body:
            for _ in range(int(rng.integers(1, 4))):
                ln = body[int(rng.integers(len(body)))]
                strokes.extend(handwriting.note(rng, mx0, ln.baseline_y, mw, xh))
                counts["notes"] += 1
            for _ in range(int(rng.integers(0, 4))):
                ln = body[int(rng.integers(len(body)))]
                edge = ml - size * rng.uniform(0.8, 1.6) if side == "left" else ml + text_w + size * rng.uniform(0.8, 1.6)
                strokes.append(handwriting.tick(rng, edge, ln.baseline_y, size * rng.uniform(0.9, 1.6)))
                counts["ticks"] += 1
            if rng.random() < 0.5:
                i = int(rng.integers(len(body)))
                span = [ln for ln in body[i:i + int(rng.integers(3, 9))] if ln.column == body[i].column]
                x = ml - size * rng.uniform(0.4, 1.0) if side == "left" else ml + text_w + size * rng.uniform(0.4, 1.0)
                strokes.append(handwriting.sidebar(rng, x, span[0].baseline_y - size, span[-1].baseline_y + 0.3 * size,
                                                   size))
                counts["sidebars"] += 1
            for _ in range(int(rng.integers(0, 3))):
                ln = body[int(rng.integers(len(body)))]
                i = int(rng.integers(len(ln.words)))
                boxes = [pl.box for w in ln.words[i:i + int(rng.integers(1, 3))] for pl in w if pl.box is not None]
                if boxes:
                    strokes.append(handwriting.circle(rng, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                                            max(b[2] for b in boxes), max(b[3] for b in boxes)), size))
                    counts["circles"] += 1
        signed = False
        if rng.random() < 0.5:
            last = max((pl.box[3] for ln in lines for pl in ln.placed if pl.box is not None), default=0)
            sxh = size * rng.uniform(0.8, 1.4)
            sig, box = handwriting.signature(rng, ml + text_w * rng.uniform(0.0, 0.5), 0.0, sxh)
            dy = last + sxh * rng.uniform(0.5, 1.5) - box[1]  # its top a little under the text
            if box[3] + dy < H - 0.1 * dpi:
                strokes.extend([[(x, y + dy) for x, y in ln] for ln in sig])
                signed = True
        dye = handwriting.draw_marks(page, strokes, width, rng)
        ink = [float(np.clip(c + rng.uniform(-0.04, 0.04), 0.05, 1.0)) for c in handwriting.PEN_INKS[name]]
        return {"pen": name, "pens": [[round(c, 3) for c in ink]], **counts, "signature": signed, "dye": [dye]}

    def _stamps(self, rng, page: tuple[int, int], ml: float, mt: float, text_w: float, dpi: int) -> dict:
        """One or two rubber stamps (:mod:`.stamps`) in red, blue, violet or green ink: pressed
        over the text, in the top part of the page or in its bottom part, turned. Returns
        ``{"stamps": [{"kind", "ink", "where"}], "pens": [[r, g, b]] per stamp, "dye": [one
        page-sized "L" image per stamp, 100 = one coat]}``."""
        W, H = page
        font = self.fonts.pick(rng, font_class="sans", style="bold")
        out: dict = {"stamps": [], "pens": [], "dye": []}
        for _ in range(1 + int(rng.random() < 0.25)):
            img, kind = stamps.stamp(rng, font.path, dpi)
            name = str(rng.choice(list(stamps.STAMP_INKS), p=[0.45, 0.3, 0.15, 0.1]))
            where = str(rng.choice(["text", "top", "bottom"], p=[0.4, 0.35, 0.25]))
            cx = ml + text_w * rng.uniform(0.1, 0.9)
            cy = {"text": H * rng.uniform(0.25, 0.8), "top": mt * rng.uniform(0.3, 1.6),
                  "bottom": H * rng.uniform(0.82, 0.95)}[where]
            x = int(np.clip(cx - img.width / 2, 0, max(0, W - img.width)))
            y = int(np.clip(cy - img.height / 2, 0, max(0, H - img.height)))
            dye = Image.new("L", page, 0)
            dye.paste(img, (x, y))
            ink = [float(np.clip(c + rng.uniform(-0.05, 0.05), 0.05, 1.0)) for c in stamps.STAMP_INKS[name]]
            out["stamps"].append({"kind": kind, "ink": name, "where": where})
            out["pens"].append([round(c, 3) for c in ink])
            out["dye"].append(dye)
        return out

    @staticmethod
    def _stroke(rng, dye: np.ndarray, x0: float, x1: float, baseline: float, size: int) -> None:
        """One pass of a chisel-tipped marker from ``x0`` to ``x1`` over the line whose baseline is
        at ``baseline``, added to ``dye`` (coats)."""
        half = size * rng.uniform(0.42, 0.62)
        mid = baseline - size * rng.uniform(0.2, 0.34)
        drift = float(np.clip(rng.normal(0, 0.012) * (x1 - x0), -0.3 * size, 0.3 * size))
        cut = size * rng.uniform(-0.35, 0.35)  # the chisel's slant at both ends
        n = max(2, int((x1 - x0) / max(4.0, size * 0.8)))
        xs = np.linspace(x0, x1, n)
        centre = mid + drift * (xs - x0) / max(1.0, x1 - x0) + rng.normal(0, 0.04 * size, n).cumsum() / np.sqrt(n)
        top = centre - half + rng.normal(0, 0.03 * size, n)
        bot = centre + half + rng.normal(0, 0.03 * size, n)
        pts = ([(float(x), float(y)) for x, y in zip(xs, top)]
               + [(float(x + cut), float(y)) for x, y in zip(xs[::-1], bot[::-1])])
        H, W = dye.shape
        bx0, by0 = max(0, int(min(p[0] for p in pts)) - 1), max(0, int(min(p[1] for p in pts)) - 1)
        bx1, by1 = min(W, int(max(p[0] for p in pts)) + 2), min(H, int(max(p[1] for p in pts)) + 2)
        if bx1 <= bx0 or by1 <= by0:
            return
        m = Image.new("L", (bx1 - bx0, by1 - by0), 0)
        ImageDraw.Draw(m).polygon([(x - bx0, y - by0) for x, y in pts], fill=255)
        # streaks along the stroke (the felt tip's uneven wetness) and a coat of 0.8-1.0
        rows = 1.0 - 0.25 * np.abs(np.convolve(rng.normal(0, 1, by1 - by0 + 4), np.ones(5) / 5, "same"))[2:-2]
        coat = rng.uniform(0.8, 1.0) * np.clip(rows, 0.6, 1.0)[:, None].astype(np.float32)
        dye[by0:by1, bx0:bx1] += (np.asarray(m, np.float32) / 255.0) * coat

    @staticmethod
    def _truth(lines: list[_Line], pmap, size: tuple[int, int], page_id: str):
        """Build the Page (boxes mapped through the skew in one vectorised call) and chars list."""
        raw: list[BBox] = []
        for ln in lines:
            wboxes = []
            for w in ln.words:
                cb = [pl.box or (pl.x, pl.y, pl.x, pl.y) for pl in w]
                raw.extend(cb)
                wboxes.append(union_bbox(cb))
            raw.extend(wboxes)
            raw.append(union_bbox(wboxes))
        mapped = iter(map_boxes(raw, pmap, size))
        W, H = size
        out_lines, chars = [], []
        for ln in lines:
            words = []
            for w in ln.words:
                wc = [Char(pl.ch, next(mapped)) for pl in w]
                words.append(wc)
            word_objs = []
            for w, wc in zip(ln.words, words):
                word_objs.append(Word("".join(pl.ch for pl in w), next(mapped), 1.0, wc))
                chars.extend((ch.text, ch.bbox) for ch in wc)
            lbox = next(mapped)
            first, last = ln.words[0][0], ln.words[-1][-1]
            bl = pmap(np.array([[first.x, ln.baseline_y], [(last.box or (0, 0, last.x, 0))[2], ln.baseline_y]], float))
            baseline = [(int(np.clip(round(x), 0, W)), int(np.clip(round(y), 0, H))) for x, y in bl]
            out_lines.append(Line(lbox, ln.text, 1.0, word_objs, baseline, ln.column))
        page = Page(page_id=page_id, width=W, height=H, lines=out_lines)
        return page, chars


def _word_runs(rng, lines: list[_Line], line_fonts: list, font, share: float, run_end):
    """Runs of body words (lines set in ``font``) as a pen marks them: each word not yet in a
    run starts one with probability ``share``, ending where ``run_end(i, n_words)`` says. Yields
    ``(line, i, j, boxes)``: the run's words ``i:j`` and their glyphs' boxes (runs with no ink
    are skipped)."""
    for ln, lf in zip(lines, line_fonts):
        if lf is not font:
            continue
        i = 0
        while i < len(ln.words):
            if rng.random() >= share:
                i += 1
                continue
            j = run_end(i, len(ln.words))
            boxes = [pl.box for w in ln.words[i:j] for pl in w if pl.box is not None]
            if boxes:
                yield ln, i, j, boxes
            i = j

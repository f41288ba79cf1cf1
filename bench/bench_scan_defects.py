"""Scan defects: dithered, speckled, askew, reversed and two-page scans; page CER against Tesseract.

Synthetic A4 pages (seed 77 like bench_recognize.py), each read in several variants with the same
text: the grey page as rendered; bilevel, thresholded (what most scanners in black-and-white
mode give); bilevel, dithered (Floyd-Steinberg error diffusion, Pillow's ``convert("1")``: a
scanner's or fax driver's "halftone" mode); bilevel with ``--specks`` of its pixels turned to
black dots; grey with ``--salt-pepper`` of its pixels turned black or white; grey, turned
``--turn`` degrees (a page fed askew); grey with its heading reversed out (white on a dark
bar: the first line's box and a margin inverted); two facing pages side by side (a book
scanned open: the page and page 100 + i of the seed, the truth both texts, left first); grey,
curled at the spine (the same page drawn with the generator's ``curl``: a book's page bending
into its binding on the left or right, lines bending away from the page's middle height by up
to ``--curl`` of the page height within 30% of the width from the spine, the paper darkening
into the fold; its own true boxes); the same curled hard (``--curl-hard``, 10% of the height
by default: lines near the spine rise 3-4 line heights at up to 45 degrees); grey with the back
page showing through (the generator's ``show_through``: another page mirrored and blurred,
darkening the paper by up to ``--show-through`` where its ink lies, as on thin paper); a fax in
standard mode (the page's
rows halved, thresholded as we threshold, a group 4 TIFF tagged ``dpi`` x ``dpi / 2``: pixels
twice as tall as wide; its truth's boxes halved in height too); a colour scan of the page with
``--highlights`` of its body words starting a run marked with a highlighter (the generator's
``highlights``: yellow, green, pink, blue or orange dye over the paper, one or two pens a page),
and a grey scan of it (luminance); a colour scan of the page a reader wrote on with a ballpoint
(the generator's ``annotations`` on ``--annotations`` of the pages: notes in the margin, ticks,
a line down the margin, words circled, a signature; blue, black or red ink), and a grey scan
of it; a colour scan of the page with one or two rubber stamps on ``--stamps`` of the pages
(the generator's ``stamps``: RECEIVED and a date in a box, a library's oval, PAID without a
frame; red, blue, violet or green pad ink, over the text or in the top or bottom part of the
page, turned), and a grey scan of it.
Readers: the page recognizer (shipped model, or ``--model``; ``--compare-model M2`` adds a
reader with M2, "ours, M2"); the same with this benchmark's fixes switched
off ("before": no descreening of dithered input, no removal of lone dots from bilevel input
or of salt and pepper from grey input,
border clearing that counted any ink in a reduced cell, which chained specks into one region
along all four edges and cleared the page, a skew search of +-3 degrees instead of 10, no bar
search, no splitting of spreads, no flattening of curled pages, no page taken to show its
back through the paper, pixels read as square whatever the resolution tags say, colour
pages read as luminance, marks and stamps and all, grey pages' stamps left in, pen marks
taken for text, and what lies in a margin joined to the line beside it); and
Tesseract 5 (``--psm 3``, if installed). Prints page
CER/WER, lines found against true lines, and the mean IoU of character and word boxes with the
truth where the geometry is the page's own or known (not for the turned page or the spread).

    python bench/bench_scan_defects.py [--pages 8] [--dpi 300] [--specks 0.005] [--salt-pepper 0.04]
                                       [--turn 7] [--curl 0.03] [--curl-hard 0.1] [--show-through 0.4]
                                       [--highlights 0.05]
                                       [--annotations 1.0] [--stamps 1.0]
                                       [--only NAME]
                                       [--no-tesseract] [--no-before] [--model M] [--compare-model M2]
"""
from __future__ import annotations

import argparse
import importlib
import io
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

import tesseract_cli  # noqa: E402
from ocrcore.containers import Page, map_page_boxes  # noqa: E402
from ocrcore.imageio import decode_image  # noqa: E402
from ocrcore.pagescore import PageScore, score_page, truth_page  # noqa: E402
from ocrcore.synth import generate  # noqa: E402
from ocrcore.synth.dataset import sample_to_row  # noqa: E402

B = importlib.import_module("ocrcore.preprocess.binarize")  # the package re-exports binarize()
R = importlib.import_module("ocrcore.preprocess.scan")  # where the spread, bar and bend checks are called
T = importlib.import_module("ocrcore.preprocess.showthrough")
P = importlib.import_module("ocrcore.preprocess.pageparts")
REC = importlib.import_module("ocrcore.recognize")  # where pixels are made square
S = importlib.import_module("ocrcore.preprocess.segment")  # where pen marks are taken out


def variants(sample, index: int, args, wanted) -> dict[str, tuple]:
    """The page as rendered and as fourteen kinds of scan: name -> (image, the sample that holds its
    truth when it is not the page's own: the right-hand page of a spread, the curled page, the
    page with its back showing through; or the truth itself, a :class:`Page` (the fax); else
    None). Only the variants ``wanted(name)`` accepts
    are built. The text is the page's own in all but the spread; the geometry too, but for the
    turned page, the spread and the curled page."""
    grey = sample.image.convert("L")
    dpi = sample.meta["dpi"]
    specks, salt_pepper, turn = args.specks, args.salt_pepper, args.turn
    ink = None

    def thresholded():
        nonlocal ink
        if ink is None:
            ink = B.binarize(grey, max_skew=0, descreen=False).binary  # thresholded as we would
        return ink

    def dotted():
        r = np.random.default_rng(index)  # the page's stream, its first draw
        return Image.fromarray(~thresholded() & (r.random(grey.size[::-1]) >= specks)).convert("1")

    def salted():
        g = np.asarray(grey).copy()
        r = np.random.default_rng(index)
        r.random(g.shape)  # the specks' draw: the same noise as when both came from one stream
        u = r.random(g.shape)
        g[u < salt_pepper / 2] = 0
        g[u > 1 - salt_pepper / 2] = 255
        return Image.fromarray(g), None

    def spread():
        right = generate("pages", 77, 100 + index, {"dpi": dpi})
        g2 = np.asarray(right.image.convert("L"))
        h = min(g2.shape[0], grey.height)
        return Image.fromarray(np.concatenate([np.asarray(grey)[:h], g2[:h]], axis=1)), right

    def faxed():
        half = grey.resize((grey.width, grey.height // 2), Image.BOX)
        buf = io.BytesIO()
        Image.fromarray(~B.binarize(half, max_skew=0, descreen=False).binary).convert("1").save(
            buf, "TIFF", compression="group4", dpi=(dpi, dpi / 2))
        fax = decode_image(buf.getvalue())
        truth = map_page_boxes(truth_page(sample_to_row(sample, "pages")),
                               lambda boxes: [(a, b // 2, c, (d + 1) // 2) for a, b, c, d in boxes], *fax.size)
        return fax, truth

    def coloured(params, grey_scan: bool):  # a colour page (marks on it), or its grey scan
        s = generate("pages", 77, index, {"dpi": dpi, **params})
        return (s.image.convert("L") if grey_scan else s.image), None

    def redrawn(params):
        s = generate("pages", 77, index, {"dpi": dpi, **params})
        return s.image.convert("L"), s

    builders = {
        "grey, as rendered": lambda: (grey, None),
        "bilevel, thresholded": lambda: (Image.fromarray(~thresholded()).convert("1"), None),
        "bilevel, dithered": lambda: (grey.convert("1"), None),
        f"bilevel, {100 * specks:g}% specks": lambda: (dotted(), None),
        f"grey, {100 * salt_pepper:g}% salt and pepper": salted,
        f"grey, turned {turn:g} degrees": lambda: (grey.rotate(turn, Image.BILINEAR, expand=True, fillcolor=255), None),
        "grey, heading reversed out": lambda: (reversed_heading(grey, sample.page.lines[0].bbox,
                                                                float(sample.meta["skew_deg"]), dpi), None),
        "grey, two facing pages": spread,
        "grey, curled at the spine": lambda: redrawn({"curl": args.curl}),
        "grey, curled hard at the spine": lambda: redrawn({"curl": args.curl_hard}),
        f"grey, back page showing through {100 * args.show_through:g}%":
            lambda: redrawn({"show_through": args.show_through}),
        "bilevel fax, standard mode": faxed,
        f"colour, {100 * args.highlights:g}% words highlighted": lambda: coloured({"highlights": args.highlights}, False),
        f"grey, {100 * args.highlights:g}% words highlighted": lambda: coloured({"highlights": args.highlights}, True),
        "colour, pen marks": lambda: coloured({"annotations": args.annotations}, False),
        "grey, pen marks": lambda: coloured({"annotations": args.annotations}, True),
        "colour, stamps": lambda: coloured({"stamps": args.stamps}, False),
        "grey, stamps": lambda: coloured({"stamps": args.stamps}, True),
    }
    return {name: build() for name, build in builders.items() if wanted(name)}


def reversed_heading(grey: Image.Image, bbox, skew_deg: float, dpi: int) -> Image.Image:
    """The page with a line reversed out as a printed bar would be: a rectangle around the line,
    turned with the page (its skew, counter-clockwise), inverted to white on dark grey."""
    x0, y0, x1, y1 = bbox
    a = np.radians(skew_deg)
    c, s_ = np.cos(a), abs(np.sin(a))
    w, h = x1 - x0, y1 - y0
    w0, h0 = (w * c - h * s_) / (c * c - s_ * s_), (h * c - w * s_) / (c * c - s_ * s_)  # the unturned line
    pad = max(8, dpi // 12)
    hw, hh = w0 / 2 + 2 * pad, max(h0, 0.3 * h) / 2 + pad / 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    # turned as the page was: counter-clockwise for a positive skew, y pointing down
    corners = [(cx + dx * np.cos(a) + dy * np.sin(a), cy - dx * np.sin(a) + dy * np.cos(a))
               for dx, dy in ((-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh))]
    mask = Image.new("1", grey.size, 0)
    ImageDraw.Draw(mask).polygon(corners, fill=1)
    g = np.asarray(grey).astype(np.float32)
    inside = np.asarray(mask)
    g[inside] = 255 - 0.85 * g[inside]  # paper turns a dark grey, ink near white
    return Image.fromarray(g.astype(np.uint8))


class Before:
    """This benchmark's fixes switched off, for the "before" column (module attributes, restored)."""

    def __enter__(self):
        self.saved = (B.DITHER_ISOLATED, B.DESPECKLE_LONE, B.IMPULSE_LONE, B.BORDER_FILL,
                      B.binarize.__kwdefaults__["max_skew"], R.spread_split, R.reversed_bars, R.estimate_warp,
                      T.SHADED_SHARE, T.SOFT_SHARE, T.FAINT_SHARE, REC.square_pixels, R.page_grey, S._pen_marks,
                      S.MARGIN_GAP)
        B.DITHER_ISOLATED = B.DESPECKLE_LONE = B.IMPULSE_LONE = 2.0  # never dithered, never despeckled
        B.BORDER_FILL = 1 / 255  # any ink in a reduced cell counts, as it did
        B.binarize.__kwdefaults__["max_skew"] = 3.0  # the skew search range it had
        R.spread_split = lambda image: None  # one page per image
        R.reversed_bars = lambda image: []  # no bars looked for
        R.estimate_warp = lambda *a, **k: None  # no page flattened
        T.SHADED_SHARE = T.SOFT_SHARE = T.FAINT_SHARE = float("inf")  # no page shows through
        REC.square_pixels = lambda image, **k: (image, 1.0, 1.0)  # pixels taken as square
        R.page_grey = P.to_gray_image  # colour pages read as luminance, marks and stamps and all
        S._pen_marks = lambda *a: np.zeros(0, np.intp)  # pen marks taken for text
        S.MARGIN_GAP = float("inf")  # what lies in a margin joined to the line beside it
        return self

    def __exit__(self, *exc):
        (B.DITHER_ISOLATED, B.DESPECKLE_LONE, B.IMPULSE_LONE, B.BORDER_FILL,
         B.binarize.__kwdefaults__["max_skew"], R.spread_split, R.reversed_bars, R.estimate_warp,
         T.SHADED_SHARE, T.SOFT_SHARE, T.FAINT_SHARE, REC.square_pixels, R.page_grey, S._pen_marks,
         S.MARGIN_GAP) = self.saved


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=8)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--specks", type=float, default=0.005, help="share of a bilevel page's pixels turned black")
    ap.add_argument("--salt-pepper", type=float, default=0.04, help="share of a grey page's pixels turned black or white")
    ap.add_argument("--turn", type=float, default=7.0, help="degrees the turned variant is rotated by")
    ap.add_argument("--curl", type=float, default=0.03, help="how far the curled page's lines bend, as a share of its height")
    ap.add_argument("--curl-hard", type=float, default=0.1,
                    help="the same for the page curled hard (0.1: as far as the generator goes)")
    ap.add_argument("--show-through", type=float, default=0.4,
                    help="how far the back page darkens the paper where its ink lies (0..0.8)")
    ap.add_argument("--highlights", type=float, default=0.05,
                    help="share of body words that start a run marked with a highlighter (generator's highlights)")
    ap.add_argument("--annotations", type=float, default=1.0,
                    help="share of pages a reader wrote on with a pen (generator's annotations)")
    ap.add_argument("--stamps", type=float, default=1.0,
                    help="share of pages with one or two rubber stamps on them (generator's stamps)")
    ap.add_argument("--only", default="", help="run only the variants whose name holds this")
    ap.add_argument("--no-tesseract", action="store_true")
    ap.add_argument("--no-before", action="store_true")
    ap.add_argument("--model", default=None, help="model to read with (default: the shipped one)")
    ap.add_argument("--compare-model", default=None, help="also read with this model (reader 'ours, M2')")
    args = ap.parse_args()

    from ocrcore.model.predict import Recognizer
    from ocrcore.recognize import PageRecognizer

    reader = PageRecognizer(Recognizer.load(args.model, num_threads=1))
    other_reader = PageRecognizer(Recognizer.load(args.compare_model, num_threads=1)) if args.compare_model else None
    readers = ["ours"] + (["ours, M2"] if other_reader else []) + ([] if args.no_before else ["ours, before"])
    if not args.no_tesseract and tesseract_cli.available():
        readers.append("tesseract 5")
    elif not args.no_tesseract:
        print("tesseract not installed (scripts/system-deps.sh --bench installs it): skipped")
    samples = [generate("pages", 77, i, {"dpi": args.dpi}) for i in range(args.pages)]
    truths = [truth_page(sample_to_row(s, "pages")) for s in samples]
    pages = [variants(s, i, args, lambda name: args.only in name) for i, s in enumerate(samples)]
    if not pages[0]:
        raise SystemExit(f"no variant's name holds {args.only!r}")
    rows = []
    for variant in pages[0]:
        for name in readers:
            acc, n_found, n_true, t0 = PageScore(), 0, 0, time.perf_counter()
            for i, truth in enumerate(truths):
                image, other = pages[i][variant]
                if isinstance(other, Page):  # its truth, as the variant has it
                    truth = other
                elif other is not None and (other.meta.get("curl") or other.meta.get("show_through")):  # its own truth
                    truth = truth_page(sample_to_row(other, "pages"))
                elif other is not None:  # the text of both pages, the left one first (boxes unused)
                    truth = Page(truth.page_id, image.width, image.height,
                                 truth.lines + truth_page(sample_to_row(other, "pages")).lines)
                n_true += len(truth.lines)
                if name == "tesseract 5":
                    page = tesseract_cli.read_page(image, f"p{i}")
                elif name == "ours, M2":
                    page = other_reader(image, page_id=f"p{i}")
                elif name == "ours, before":
                    with Before():
                        page = reader(image, page_id=f"p{i}")
                else:
                    page = reader(image, page_id=f"p{i}")
                score_page(truth, page, acc)
                n_found += len(page.lines)
            rows.append((variant, name, acc, n_found, n_true, (time.perf_counter() - t0) / args.pages))
    print(f"\n{args.pages} pages at {args.dpi} dpi, seed 77")
    print(f"{'pages':28s} {'reader':14s} {'CER':>8s} {'WER':>8s} {'lines':>10s} {'s/page':>7s} {'char/word IoU':>14s}")
    for variant, name, acc, n_found, n_true, spp in rows:
        iou = (f"{np.mean(acc.char_ious):.3f}/{np.mean(acc.word_ious):.3f}"
               if acc.char_ious and "spread" not in variant and "facing" not in variant and "turned" not in variant else "")
        print(f"{variant:28s} {name:14s} {100 * acc.cer:7.2f}% {100 * acc.wer:7.2f}% {n_found:5d}/{n_true:<4d} {spp:7.2f} {iou:>14s}")


if __name__ == "__main__":
    main()

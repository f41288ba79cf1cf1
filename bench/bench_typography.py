"""Lines as print sets them (ligatures; curly quotes and long dashes): ours and Tesseract 5.

Real printed text joins ``fi``, ``fl``, ``ff``, ``ffi`` and ``ffl`` into one glyph (the dot of
the ``i`` merged into the hook of the ``f``) and prints ``’ “ ” – —`` where plain text types
``' " -``; labels fold them to ASCII, but a model that only saw them typed misreads them
(``office`` -> ``ofice``, ``“`` -> ``<``, an em dash -> ``--``). Held-out synthetic lines (seed
7777, never used in training) that hold a ligature pair, or a quote, apostrophe or dash, are
drawn twice, as typed and as printed (the generator's ``ligatures`` or ``typographic`` at 1.0
and 0: the same text, font, size and degradations), and each reader reads both, as given and
binarized as ``ocropus-nlbin`` does (cut to the ink + 3 px, like issue 3's real lines). Prints
CER and sequence accuracy per set and reader; the difference is what print's forms cost.

    python bench/bench_typography.py [--n 300] [--model M] [--compare-model M2] [--no-tesseract]

Only lines the option applies to are kept (the generator set it: tracking a typesetter would
use ligatures at; not a monospaced font for quotes and dashes). A ligature line differs only
where its font has the ligature, a punctuation line only where it holds a quote, an apostrophe
or a hyphen standing alone or in a number range (one whose hyphens all join words is drawn the
same in both sets).
"""
from __future__ import annotations

import argparse
import os
import re
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402

import tesseract_cli  # noqa: E402
from bench_line_geometry import VARIANTS  # noqa: E402
from ocrcore.evaluate import score  # noqa: E402
from ocrcore.synth import make_generator  # noqa: E402

SEED = 7777
FEATURES = {"ligatures": re.compile("f[fil]"), "typographic": re.compile("['\"-]")}


def held_out_lines(feature: str, n: int) -> dict[str, tuple[list[str], list[np.ndarray]]]:
    """``{"typed": (labels, images), "printed": (labels, images)}``: the first ``n`` held-out
    lines ``feature`` changes (a double hyphen printed as an em dash is labelled ``-``)."""
    printed, typed = make_generator("lines", {feature: 1.0}), make_generator("lines", {})
    out: dict[str, tuple[list, list]] = {"typed": ([], []), "printed": ([], [])}
    i = 0
    while len(out["typed"][0]) < n:
        s = printed(SEED, i)
        if s.meta[feature] and FEATURES[feature].search(s.text):
            for key, smp in (("printed", s), ("typed", typed(SEED, i))):
                out[key][0].append(smp.text)
                out[key][1].append(np.asarray(smp.image, np.float32) / 255.0)
        i += 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--model", default=None, help="model to read with (default: the shipped one)")
    ap.add_argument("--compare-model", default=None, help="also read with this model")
    ap.add_argument("--no-tesseract", action="store_true")
    args = ap.parse_args()

    from ocrcore.model.predict import Recognizer

    readers = {"ours": Recognizer.load(args.model, num_threads=1)}
    if args.compare_model:
        readers["ours, model " + os.path.basename(args.compare_model.rstrip("/"))] = \
            Recognizer.load(args.compare_model, num_threads=1)
    tess = not args.no_tesseract and tesseract_cli.available()
    if not args.no_tesseract and not tess:
        print("tesseract not installed (scripts/system-deps.sh --bench installs it): skipped")
    norm = readers["ours"].charset.normalize
    print(f"held-out lines, seed {SEED}, {args.n} per feature")
    print("| lines | variant | reader | as typed: CER | seq. acc. | as printed: CER | seq. acc. |")
    print("|---|---|---|---|---|---|---|")
    for feature in FEATURES:
        lines = held_out_lines(feature, args.n)
        what = "ligature pairs" if feature == "ligatures" else "quotes, apostrophes, dashes"
        for variant in ("as given", "binarized as nlbin does, ink + 3 px"):
            fn = VARIANTS[variant]
            sets = {key: [fn(g) for g in imgs] for key, (_, imgs) in lines.items()}
            for name in list(readers) + (["tesseract 5"] if tess else []):
                cells = []
                for key in ("typed", "printed"):
                    if name == "tesseract 5":
                        hyps = tesseract_cli.read_lines(sets[key], normalize=norm)[0]
                    else:
                        hyps = [r.text for r in readers[name].recognize_lines(sets[key], batch_size=16)]
                    rep = score(lines[key][0], hyps, normalize=norm)
                    cells += [f"{100 * rep.cer:.2f}%", f"{100 * rep.seq_acc:.1f}%"]
                print(f"| {what} | {variant} | {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()

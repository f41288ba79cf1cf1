"""The captcha acceptance procedure, end to end through the command line, on look-alike data.

Writes N grayscale 200x50 PNGs named by their labels (like the Keras tutorial's
``captcha_images_v2``), then runs exactly what a user types, timing each step:

    ocr import DIR DATASET --labels filename
    ocr train --data DATASET --out MODEL --val-fraction 0.1 --split-seed 0
    ocr eval --model MODEL --data DATASET --split val

    python bench/bench_captcha_cli.py [--n 1040] [--seed 0] [--work DIR] [--train-args "..."] [--heldout 2000]
                                      [--params JSON]

``--heldout N`` also reads N fresh captchas of another seed with the trained model: 104
validation captchas (520 characters) measure CER in steps of 0.19%, too coarse to tell recipes
apart, and the best checkpoint is chosen on them; it ends with the most frequent confusions.
``--params`` sets captcha generator parameters for both sets (``ocr synth captcha --param``),
for example other fonts to stand in for captchas unlike our look-alikes.

Target (issue 3, on the real set): CER <= 0.5% and sequence accuracy >= 97% within 30 minutes on
2 CPU cores.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def write_pngs(folder: str, n: int, seed: int, params: dict) -> int:
    from ocrcore.synth import make_generator

    os.makedirs(folder, exist_ok=True)
    gen = make_generator("captcha", params)
    written, i = 0, 0
    while written < n:
        s = gen(seed, i)
        i += 1
        path = os.path.join(folder, f"{s.text}.png")
        if os.path.exists(path):  # file names are the labels: a repeated label cannot be stored twice
            continue
        s.image.convert("L").save(path)
        written += 1
    return written


def confusions(predictions: str, top: int = 8) -> str:
    """The most frequent character edits (reference -> prediction) in a predictions file."""
    from collections import Counter

    from rapidfuzz.distance import Levenshtein

    c: Counter = Counter()
    with open(predictions) as f:
        for line in f:
            d = json.loads(line)
            ref, hyp = d["reference"], d["prediction"]
            for op in Levenshtein.editops(ref, hyp):
                a = ref[op.src_pos] if op.tag != "insert" else ""
                b = hyp[op.dest_pos] if op.tag != "delete" else ""
                c[f"{a or '-'}->{b or '-'}"] += 1
    return f"{sum(c.values())} edits; most frequent: " + ", ".join(f"{k} {v}" for k, v in c.most_common(top))


def step(name: str, cmd: list[str]) -> float:
    print(f"$ {' '.join(shlex.quote(c) for c in cmd)}", flush=True)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    dt = time.perf_counter() - t0
    print(f"[{name}: {dt:.1f} s]", flush=True)
    return dt


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1040)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--work", default="")
    ap.add_argument("--train-args", default="", help="extra arguments for ocr train")
    ap.add_argument("--heldout", type=int, default=0, help="also evaluate on this many fresh captchas")
    ap.add_argument("--params", default="{}", help="captcha generator parameters as JSON")
    args = ap.parse_args()
    params = json.loads(args.params)
    work = args.work or tempfile.mkdtemp(prefix="captcha-cli-")
    ocr = os.path.join(os.path.dirname(sys.executable), "ocr")
    pngs, ds, model = (os.path.join(work, d) for d in ("pngs", "dataset", "model"))
    print(f"{write_pngs(pngs, args.n, args.seed, params)} captchas in {pngs}")
    t_import = step("import", [ocr, "import", pngs, ds, "--labels", "filename"])
    t_train = step("train", [ocr, "train", "--data", ds, "--out", model, "--val-fraction", "0.1", "--split-seed", "0",
                             *shlex.split(args.train_args)])
    t_eval = step("eval", [ocr, "eval", "--model", model, "--data", ds, "--split", "val",
                           "--predictions", os.path.join(work, "val-predictions.jsonl")])
    print(f"import {t_import:.0f} s, train {t_train:.0f} s ({t_train / 60:.1f} min), eval {t_eval:.0f} s; work dir {work}")
    if args.heldout:
        held_pngs, held_ds = os.path.join(work, "heldout-pngs"), os.path.join(work, "heldout")
        print(f"{write_pngs(held_pngs, args.heldout, args.seed + 7, params)} held-out captchas (seed {args.seed + 7})")
        step("import held-out", [ocr, "import", held_pngs, held_ds, "--labels", "filename"])
        step("eval held-out", [ocr, "eval", "--model", model, "--data", held_ds,
                               "--predictions", os.path.join(work, "heldout-predictions.jsonl")])
        print("held-out:", confusions(os.path.join(work, "heldout-predictions.jsonl")))


if __name__ == "__main__":
    main()

"""Line finding of two versions of the segmenter on the same synthetic pages, side by side.

    python bench/compare_segmentation.py --ref 44f2132 [--set 77:0:100:'{"dpi": 300}' ...] [-v]

``--ref``: a git commit whose ``ocrcore/preprocess/segment.py`` is loaded beside the working
tree's (``git show``, imported as a module of its own; the rest of the package is shared). Each
``--set`` is ``SEED:FIRST:STOP:PARAMS`` (pages params as JSON); by default the sets of the
regression check in bench/RESULTS.md. Every page is binarized once and segmented by both; found lines are
matched one-to-one to true lines at IoU >= 0.5 (as ``bench_preprocess.py``). Prints per set the
lines found and matched, precision, recall and pages in reading order for both, and (``-v``)
each page where the two differ.
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

DEFAULT_SETS = [
    '77:0:100:{"dpi": 300}', '1:0:40:{"dpi": 200}', '77:0:30:{"dpi": 300, "tables": 1.0}',
    '77:0:30:{"dpi": 300, "min_leading": 2.0, "max_leading": 2.4}', '3:0:20:{"dpi": 300, "figures": 1.0}',
    '5:0:30:{"dpi": 150, "degrade": 1.0}', '5150:0:60:{"dpi": 150}', '77:0:48:{"dpi": 300, "furniture": 1.0}',
]


def load_ref(commit: str):
    """``segment.py`` as it was at ``commit``, as a module named ``segment_ref``."""
    root = os.path.join(os.path.dirname(__file__), "..")
    src = subprocess.run(["git", "-C", root, "show", f"{commit}:ocrcore/preprocess/segment.py"],
                         check=True, capture_output=True, text=True).stdout
    path = os.path.join(tempfile.mkdtemp(), "segment_ref.py")
    with open(path, "w") as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location("segment_ref", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["segment_ref"] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", required=True, help="git commit of the segmenter to compare with")
    ap.add_argument("--set", action="append", dest="sets", help="SEED:FIRST:STOP:PARAMS (repeatable)")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    from bench_preprocess import match_lines, order_ok

    from ocrcore.preprocess.binarize import binarize
    from ocrcore.synth import make_generator

    versions = {"ref": load_ref(args.ref), "now": importlib.import_module("ocrcore.preprocess.segment")}
    print(f"{'set':52s} {'version':7s} {'found':>6s} {'true':>6s} {'matched':>7s} {'P':>7s} {'R':>7s} {'order':>7s}")
    for spec in args.sets or DEFAULT_SETS:
        seed, first, stop, params = spec.split(":", 3)
        gen = make_generator("pages", json.loads(params))
        tot = {k: [0, 0, 0] for k in versions}
        n_true = n_pages = 0
        for i in range(int(first), int(stop)):
            sample = gen(int(seed), i)
            truth = [ln.bbox for ln in sample.page.lines]
            res = binarize(sample.image)
            got = {}
            for name, mod in versions.items():
                found = [ln.bbox for ln in mod.segment(res)]
                m = match_lines(found, truth)
                got[name] = (len(found), len(m), bool(order_ok(m)))
                t = tot[name]
                t[0] += len(found)
                t[1] += len(m)
                t[2] += got[name][2]
            n_true += len(truth)
            n_pages += 1
            if args.verbose and got["ref"] != got["now"]:
                print(f"  page {i}: true {len(truth)}, ref (found, matched, in order) {got['ref']}, now {got['now']}")
        label = f"seed {seed}, pages {first}-{int(stop) - 1}, {params}"
        for name, (found, matched, ok) in tot.items():
            print(f"{label:52s} {name:7s} {found:6d} {n_true:6d} {matched:7d} {matched / max(found, 1):7.4f} "
                  f"{matched / max(n_true, 1):7.4f} {ok:3d}/{n_pages:<3d}")


if __name__ == "__main__":
    main()

"""Benchmark: binarize + segment on synthetic pages with known ground truth, Tesseract beside it.

    python bench/bench_preprocess.py --pages 50 --dpi 300

Prints the mean absolute skew error (degrees), line detection precision and recall (a found line
matches a true line one-to-one at IoU >= 0.5), the fraction of pages whose matched lines come out
in ground-truth reading order, and seconds per page for binarize and for segment, on one core
(process CPU time, so other jobs on a shared machine do not inflate it; wall time printed too).

Tesseract (when ``libtesseract.so.5`` is present, ``--tesseract`` > 0 pages): its layout analysis
only, with no recognition: ``TessBaseAPIAnalyseLayout`` through the C API (ctypes), page
segmentation mode 3 (PSM_AUTO, the CLI default), text-line boxes and their iteration order, one
thread (``OMP_THREAD_LIMIT=1``). The CLI has no layout-only mode (``--psm 2`` is "not
implemented" and every other mode runs recognition), hence the C API. Its time includes its own
binarization (Otsu) and deskew estimate, so compare it with binarize + segment together.
"""
from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_THREAD_LIMIT"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import ctypes  # noqa: E402
import ctypes.util  # noqa: E402
import math  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ocrcore.preprocess import binarize, segment  # noqa: E402


def match_lines(found: list, truth: list, thr: float = 0.5) -> dict[int, int]:
    """One-to-one greedy matching by IoU (best pairs first); returns {found index: truth index}."""
    if not found or not truth:
        return {}
    f = np.asarray(found, dtype=np.float64)[:, None, :]
    t = np.asarray(truth, dtype=np.float64)[None, :, :]
    iw = np.clip(np.minimum(f[..., 2], t[..., 2]) - np.maximum(f[..., 0], t[..., 0]), 0, None)
    ih = np.clip(np.minimum(f[..., 3], t[..., 3]) - np.maximum(f[..., 1], t[..., 1]), 0, None)
    inter = iw * ih
    af = (f[..., 2] - f[..., 0]) * (f[..., 3] - f[..., 1])
    at = (t[..., 2] - t[..., 0]) * (t[..., 3] - t[..., 1])
    iou = inter / np.maximum(af + at - inter, 1e-9)
    pairs = np.argwhere(iou >= thr)
    pairs = pairs[np.argsort(-iou[pairs[:, 0], pairs[:, 1]], kind="stable")]
    used_f, used_t, out = set(), set(), {}
    for i, j in pairs:
        if i not in used_f and j not in used_t:
            used_f.add(int(i))
            used_t.add(int(j))
            out[int(i)] = int(j)
    return out


def in_figures(found: list, figs: list) -> int:
    """How many found line boxes have their centre inside a figure (a picture holds no text)."""
    n = 0
    for b in found:
        cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
        n += any(f[0] < cx < f[2] and f[1] < cy < f[3] for f in figs)
    return n


def order_ok(matches: dict[int, int]) -> bool:
    """Matched found lines, taken in found order, have increasing truth indices."""
    seq = [matches[i] for i in sorted(matches)]
    return all(a < b for a, b in zip(seq, seq[1:]))


class TesseractLayout:
    """Tesseract's layout analysis (no OCR) through the C API; None-safe when unavailable."""

    RIL_TEXTLINE = 2
    PSM_AUTO = 3

    def __init__(self):
        name = ctypes.util.find_library("tesseract") or "libtesseract.so.5"
        lib = ctypes.CDLL(name)
        vp, ip = ctypes.c_void_p, ctypes.POINTER(ctypes.c_int)
        lib.TessBaseAPICreate.restype = vp
        lib.TessBaseAPIInit3.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p]
        lib.TessBaseAPISetPageSegMode.argtypes = [vp, ctypes.c_int]
        lib.TessBaseAPISetImage.argtypes = [vp, ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.TessBaseAPIAnalyseLayout.argtypes = [vp]
        lib.TessBaseAPIAnalyseLayout.restype = vp
        lib.TessPageIteratorBoundingBox.argtypes = [vp, ctypes.c_int, ip, ip, ip, ip]
        lib.TessPageIteratorNext.argtypes = [vp, ctypes.c_int]
        lib.TessPageIteratorDelete.argtypes = [vp]
        lib.TessPageIteratorOrientation.argtypes = [vp, ip, ip, ip, ctypes.POINTER(ctypes.c_float)]
        lib.TessBaseAPIClear.argtypes = [vp]
        lib.TessBaseAPIEnd.argtypes = [vp]
        lib.TessBaseAPIDelete.argtypes = [vp]
        self.lib = lib
        self.api = lib.TessBaseAPICreate()
        if lib.TessBaseAPIInit3(self.api, None, b"eng") != 0:
            raise RuntimeError("TessBaseAPIInit3 failed (no eng.traineddata?)")
        lib.TessBaseAPISetPageSegMode(self.api, self.PSM_AUTO)
        lib.TessBaseAPISetVariable.argtypes = [vp, ctypes.c_char_p, ctypes.c_char_p]
        lib.TessBaseAPISetVariable(self.api, b"debug_file", b"/dev/null")

    def set_dpi(self, dpi: int) -> None:
        self.lib.TessBaseAPISetVariable(self.api, b"user_defined_dpi", str(int(dpi)).encode())

    def lines(self, gray_u8: np.ndarray) -> tuple[list, float]:
        """Text-line boxes in Tesseract's order, and its deskew angle in degrees (our sign)."""
        lib, api = self.lib, self.api
        a = np.ascontiguousarray(gray_u8, dtype=np.uint8)
        h, w = a.shape
        lib.TessBaseAPISetImage(api, a.tobytes(), w, h, 1, w)
        it = lib.TessBaseAPIAnalyseLayout(api)
        boxes, angle = [], float("nan")
        if it:
            o, d, t = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
            f = ctypes.c_float()
            lib.TessPageIteratorOrientation(it, ctypes.byref(o), ctypes.byref(d), ctypes.byref(t), ctypes.byref(f))
            angle = -math.degrees(f.value)
            vals = [ctypes.c_int() for _ in range(4)]
            while True:
                if lib.TessPageIteratorBoundingBox(it, self.RIL_TEXTLINE, *[ctypes.byref(v) for v in vals]):
                    boxes.append(tuple(v.value for v in vals))
                if not lib.TessPageIteratorNext(it, self.RIL_TEXTLINE):
                    break
            lib.TessPageIteratorDelete(it)
        lib.TessBaseAPIClear(api)
        return boxes, angle

    def close(self):
        self.lib.TessBaseAPIEnd(self.api)
        self.lib.TessBaseAPIDelete(self.api)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--dpi", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--columns", default="random", help="1, 2 or random")
    ap.add_argument("--max-skew", type=float, default=2.0)
    ap.add_argument("--degrade", type=float, default=0.5)
    ap.add_argument("--figures", type=float, default=0.0,
                    help="share of pages holding a photo or halftone; lines found inside one are counted")
    ap.add_argument("--tesseract", type=int, default=10, help="pages also given to Tesseract's layout step (0 = off)")
    ap.add_argument("--verbose", "-v", action="store_true", help="one line per page")
    args = ap.parse_args(argv)

    from ocrcore.synth import make_generator

    params = {"dpi": args.dpi, "columns": args.columns if args.columns == "random" else int(args.columns),
              "max_skew": args.max_skew, "degrade": args.degrade, "figures": args.figures}
    gen = make_generator("pages", params)
    tess = None
    if args.tesseract > 0:
        try:
            tess = TesseractLayout()
        except (OSError, RuntimeError, AttributeError) as e:
            print(f"tesseract layout unavailable: {e}")
        else:
            tess.set_dpi(args.dpi)

    from ocrcore.preprocess.binarize import to_gray_u8

    skew_err, t_bin, t_seg, w_bin, w_seg = [], [], [], [], []
    n_found = n_true = n_match = 0
    pages_ok = 0
    tq = {"found": 0, "true": 0, "match": 0, "ok": 0, "pages": 0, "time": [], "skew": [], "in_fig": 0}
    n_figs = n_in_fig = 0
    t_gen = 0.0
    for i in range(args.pages):
        t0 = time.perf_counter()
        sample = gen(args.seed, i)
        t_gen += time.perf_counter() - t0
        truth = [ln.bbox for ln in sample.page.lines]
        img = sample.image
        # CPU time of this (single-threaded) process: other jobs on a shared machine do not count.
        c0, w0 = time.process_time(), time.perf_counter()
        res = binarize(img, max_skew=max(3.0, args.max_skew + 1.0))
        c1, w1 = time.process_time(), time.perf_counter()
        lines = segment(res)
        c2, w2 = time.process_time(), time.perf_counter()
        t_bin.append(c1 - c0)
        t_seg.append(c2 - c1)
        w_bin.append(w1 - w0)
        w_seg.append(w2 - w1)
        true_angle = float(sample.meta.get("skew_deg", 0.0))
        skew_err.append(abs(res.angle - true_angle))
        found = [ln.bbox for ln in lines]
        m = match_lines(found, truth)
        ok = order_ok(m)
        n_found += len(found)
        n_true += len(truth)
        n_match += len(m)
        pages_ok += ok
        figs = [f["bbox"] for f in sample.meta.get("figures", [])]
        n_figs += len(figs)
        n_in_fig += in_figures(found, figs)
        msg = (f"page {i:3d} cols={sample.meta.get('columns')} skew={true_angle:+.3f} est={res.angle:+.3f} "
               f"true={len(truth)} found={len(found)} matched={len(m)} order={'ok' if ok else 'BAD'} "
               f"bin={t_bin[-1]:.3f}s seg={t_seg[-1]:.3f}s")
        if tess is not None and i < args.tesseract:
            g8 = to_gray_u8(img)
            t0 = time.process_time()
            tb, ta = tess.lines(g8)
            tq["time"].append(time.process_time() - t0)
            tm = match_lines(tb, truth)
            tq["found"] += len(tb)
            tq["true"] += len(truth)
            tq["match"] += len(tm)
            tq["ok"] += order_ok(tm)
            tq["pages"] += 1
            tq["skew"].append(abs(ta - true_angle))
            tq["in_fig"] += in_figures(tb, figs)
            msg += f" | tess found={len(tb)} matched={len(tm)} order={'ok' if order_ok(tm) else 'BAD'} {tq['time'][-1]:.2f}s"
        if args.verbose:
            print(msg, flush=True)

    n = args.pages
    print(f"\n{n} synthetic pages, dpi={args.dpi}, columns={args.columns}, max_skew={args.max_skew}, "
          f"degrade={args.degrade}, seed={args.seed} (generation {t_gen / max(n, 1):.2f} s/page, not counted)")
    print(f"ocrcore  skew MAE {np.mean(skew_err):.4f} deg (max {np.max(skew_err):.4f})  "
          f"P {n_match / max(n_found, 1):.4f}  R {n_match / max(n_true, 1):.4f}  "
          f"order ok {pages_ok / max(n, 1):.3f}" + (f"  lines inside the {n_figs} figures: {n_in_fig}" if n_figs else ""))
    print(f"ocrcore  CPU s/page: binarize {np.mean(t_bin):.3f}  segment {np.mean(t_seg):.3f}  "
          f"total {np.mean(t_bin) + np.mean(t_seg):.3f} (median {np.median(np.add(t_bin, t_seg)):.3f}, "
          f"max {np.max(np.add(t_bin, t_seg)):.3f});  wall s/page: binarize {np.mean(w_bin):.3f}  "
          f"segment {np.mean(w_seg):.3f}")
    if tq["pages"]:
        print(f"tesseract layout-only (AnalyseLayout, PSM_AUTO, 1 thread) on the first {tq['pages']} pages: "
              f"skew MAE {np.nanmean(tq['skew']):.4f} deg  P {tq['match'] / max(tq['found'], 1):.4f}  "
              f"R {tq['match'] / max(tq['true'], 1):.4f}  order ok {tq['ok'] / tq['pages']:.3f}  "
              f"{np.mean(tq['time']):.3f} CPU s/page" + (f"  lines inside figures: {tq['in_fig']}" if n_figs else ""))
    if tess is not None:
        tess.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Acceptance run of bulk recognition: a mixed 500-page archive with bad members, on S3.

Builds, on a real HTTP S3 endpoint (moto's threaded server, started here), pages as plain files,
a tar, a zip, a multi-page TIFF and a PDF (synthetic pages, ``--pages`` in all) plus 10 bad
members: zero-byte files, truncated PNGs, text files named .png, decompression bombs and unsafe
tar member names. Then runs ``ocr recognize`` through the command line, exactly as a user would
(2 Dask workers, the shipped model, a local Prefect server), and checks:

- every good page appears exactly once in the results and every bad member exactly once in the
  errors table, with the expected error type; no page id appears twice;
- results and errors read back with pyarrow;
- every page has an hOCR file, and every hOCR file passes hocr-tools' ``hocr-check``.

Exits non-zero on any failed check.

    python bench/acceptance_archive.py [--pages 500] [--dpi 150] [--workers 2] [--shard-size 20]
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

BUCKET = "acceptance"


def page_png(i: int, dpi: int) -> bytes:
    from ocrcore.imageio import encode_png
    from ocrcore.synth import generate

    return encode_png(generate("pages", 5150, i, {"dpi": dpi}).image)


def bomb_png() -> bytes:
    """A small PNG whose header claims 40000 x 40000 pixels (CRC fixed so only the size is wrong)."""
    import struct
    import zlib

    from PIL import Image

    buf = io.BytesIO()
    Image.new("L", (4, 4), 255).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    data[16:24] = struct.pack(">II", 40000, 40000)
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(data[12:29])) & 0xFFFFFFFF)
    return bytes(data)


def build(fs, root: str, n: int, dpi: int) -> tuple[dict, dict]:
    """Upload the archive; return ``{page_id: None}`` for good pages and ``{name: error_type}`` for bad ones."""
    from PIL import Image

    t0 = time.perf_counter()
    with ProcessPoolExecutor(2) as ex:
        pngs = list(ex.map(page_png, range(n), [dpi] * n, chunksize=8))
    print(f"generated {n} pages at {dpi} dpi in {time.perf_counter() - t0:.0f} s", flush=True)
    n_tif, n_pdf = max(2, n // 10), max(2, n // 10)
    n_tar, n_zip = n // 5, n // 5
    n_files = n - n_tif - n_pdf - n_tar - n_zip
    it = iter(range(n))
    good: dict[str, None] = {}
    u = f"s3://{BUCKET}/{root}"

    def put(name: str, data: bytes) -> None:
        with fs.open(f"{BUCKET}/{root}/{name}", "wb") as f:
            f.write(data)

    for _ in range(n_files):
        i = next(it)
        folder = "box-a" if i % 2 else "box-b"
        put(f"{folder}/page-{i:04d}.png", pngs[i])
        good[f"{u}/{folder}/page-{i:04d}.png#1"] = None
    bad = {"box-a/zero.png": "empty_file", "box-b/zero-2.png": "empty_file",
           "box-a/truncated.png": "truncated_image", "box-b/notes.png": "not_an_image",
           "box-a/bomb.png": "decompression_bomb"}
    put("box-a/zero.png", b"")
    put("box-b/zero-2.png", b"")
    put("box-a/truncated.png", pngs[0][: len(pngs[0]) // 3])
    put("box-b/notes.png", b"meeting notes, saved with the wrong extension\n" * 20)
    put("box-a/bomb.png", bomb_png())

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        def add(name: str, data: bytes) -> None:
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data))

        for _ in range(n_tar):
            i = next(it)
            add(f"scans/{i:04d}.png", pngs[i])
            good[f"{u}/batch.tar!/scans/{i:04d}.png#1"] = None
        add("../escape.png", pngs[1])
        add("/etc/absolute.png", pngs[2])
        add("scans/readme.png", b"not a picture at all")
    put("batch.tar", buf.getvalue())
    bad.update({"batch.tar!/../escape.png": "unsafe_member", "batch.tar!//etc/absolute.png": "unsafe_member",
                "batch.tar!/scans/readme.png": "not_an_image"})

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for _ in range(n_zip):
            i = next(it)
            zf.writestr(f"z/{i:04d}.png", pngs[i])
            good[f"{u}/batch.zip!/z/{i:04d}.png#1"] = None
        zf.writestr("z/bomb.png", bomb_png())
        zf.writestr("z/cut.png", pngs[3][: len(pngs[3]) // 2])
    put("batch.zip", buf.getvalue())
    bad.update({"batch.zip!/z/bomb.png": "decompression_bomb", "batch.zip!/z/cut.png": "truncated_image"})

    frames = [Image.open(io.BytesIO(pngs[next(it)])) for _ in range(n_tif)]
    buf = io.BytesIO()
    frames[0].save(buf, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate")
    put("bound.tif", buf.getvalue())
    good.update({f"{u}/bound.tif#{k + 1}": None for k in range(n_tif)})

    frames = [Image.open(io.BytesIO(pngs[next(it)])).convert("L") for _ in range(n_pdf)]
    buf = io.BytesIO()
    frames[0].save(buf, format="PDF", save_all=True, append_images=frames[1:], resolution=float(dpi))
    put("report.pdf", buf.getvalue())
    good.update({f"{u}/report.pdf#{k + 1}": None for k in range(n_pdf)})
    assert len(good) == n
    return good, bad


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pages", type=int, default=500)
    ap.add_argument("--dpi", type=int, default=150)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--shard-size", type=int, default=20)
    args = ap.parse_args()

    import pyarrow.parquet as pq
    import s3fs
    from moto.server import ThreadedMotoServer

    import logging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's per-request access log
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://{host}:{port}", AWS_ACCESS_KEY_ID="acceptance",
               AWS_SECRET_ACCESS_KEY="acceptance-secret", AWS_DEFAULT_REGION="us-east-1")
    os.environ.update(env)
    fs = s3fs.S3FileSystem(endpoint_url=env["AWS_ENDPOINT_URL"], key="acceptance", secret="acceptance-secret")
    fs.mkdir(BUCKET)
    failures: list[str] = []
    tmp = tempfile.mkdtemp(prefix="acceptance-")
    try:
        good, bad = build(fs, "scans", args.pages, args.dpi)
        out = f"s3://{BUCKET}/results"
        cmd = [sys.executable, "-m", "ocrcore.cli", "recognize", f"s3://{BUCKET}/scans", "--out", out,
               "--workers", str(args.workers), "--shard-size", str(args.shard_size)]
        print("$ " + " ".join(cmd[2:]), flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
        wall = time.perf_counter() - t0
        print(proc.stdout[-1500:])
        if proc.returncode != 0:
            print(proc.stderr[-4000:])
            failures.append(f"ocr recognize exited {proc.returncode}")
            raise SystemExit(1)
        rows, errors = [], []
        for name in sorted(fs.glob(f"{BUCKET}/results/part-*.parquet")):
            with fs.open(name, "rb") as f:
                rows += pq.read_table(f, columns=["page_id", "lines"]).to_pylist()
        for name in sorted(fs.glob(f"{BUCKET}/results/errors/part-*.parquet")):
            with fs.open(name, "rb") as f:
                errors += pq.read_table(f).to_pylist()
        ids = [r["page_id"] for r in rows] + [e["page_id"] for e in errors]
        if len(ids) != len(set(ids)):
            failures.append(f"{len(ids) - len(set(ids))} page ids appear more than once")
        missing = set(good) - {r["page_id"] for r in rows}
        if missing:
            failures.append(f"{len(missing)} good pages missing from the results, e.g. {sorted(missing)[:3]}")
        extra = [e for e in errors if e["page_id"] in good]
        if extra:
            failures.append(f"{len(extra)} good pages in the errors table, e.g. {extra[:2]}")
        u = f"s3://{BUCKET}/scans/"
        for name, etype in bad.items():
            hits = [e for e in errors if e["page_id"].startswith(u + name)]
            if len(hits) != 1 or hits[0]["error_type"] != etype:
                failures.append(f"bad member {name}: expected one {etype} error, got {[(h['page_id'], h['error_type']) for h in hits]}")
        unexpected = [e for e in errors if not any(e["page_id"].startswith(u + n) for n in bad)]
        if unexpected:
            failures.append(f"{len(unexpected)} unexpected errors, e.g. {unexpected[:2]}")
        hocr = sorted(fs.glob(f"{BUCKET}/results/hocr/*"))
        if len(hocr) != len(rows):
            failures.append(f"{len(hocr)} hOCR files for {len(rows)} result rows")
        checker = shutil.which("hocr-check") or os.path.join(os.path.dirname(sys.executable), "hocr-check")
        bad_hocr = 0
        for k, name in enumerate(hocr):
            local = os.path.join(tmp, f"{k:05d}.hocr")
            fs.get(name, local)
            r = subprocess.run([checker, local], capture_output=True, text=True)
            if r.returncode != 0 or "ERROR" in (r.stdout + r.stderr).upper():
                bad_hocr += 1
                if bad_hocr <= 3:
                    print(f"hocr-check failed on {name}: {(r.stdout + r.stderr)[:500]}")
        if bad_hocr:
            failures.append(f"{bad_hocr} hOCR files fail hocr-check")
        n_lines = sum(len(r["lines"] or []) for r in rows)
        by_type: dict[str, int] = {}
        for e in errors:
            by_type[e["error_type"]] = by_type.get(e["error_type"], 0) + 1
        print(f"{len(good)} good pages + {len(bad)} bad members; results {len(rows)} pages ({n_lines} lines), "
              f"errors {len(errors)} {by_type}; {len(hocr)} hOCR files checked by hocr-check")
        print(f"ocr recognize wall time {wall:.0f} s (includes cluster and server start): "
              f"{len(rows) / wall:.2f} pages/s with {args.workers} workers")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        server.stop()
    for f in failures:
        print("FAIL:", f)
    print("ACCEPTANCE " + ("FAILED" if failures else "PASSED"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

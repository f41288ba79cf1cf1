"""``ocr segment`` (one page, for a person to look at) and ``ocr preprocess`` (the flow)."""
from __future__ import annotations


def cmd_segment(args) -> int:
    from PIL import ImageDraw

    from ocrcore import storage
    from ocrcore.imageio import decode_image, square_pixels, unsquare
    from ocrcore.preprocess.scan import analyse_scan

    img = decode_image(storage.read_bytes(args.image), name=args.image)
    square, sx, sy = square_pixels(img)
    to_given = unsquare(sx, sy, *img.size) if square is not img else (lambda boxes: list(boxes))
    scan = analyse_scan(square, single=args.single_line)
    resampled = f" (pixels not square: analysed at {square.width}x{square.height})" if square is not img else ""
    print(f"{args.image}: {img.width}x{img.height}{resampled}, {len(scan.lines)} lines")
    part_boxes = to_given([p.box for p in scan.parts])
    line_boxes = to_given([ln.bbox for ln in scan.lines])
    for p, box in zip(scan.parts, part_boxes):
        b = p.as_given
        n = sum(pl.part is p for pl in scan.lines)
        bent = f", flattened (lines bent by {p.flattened.warp.bend:.0f} px)" if p.flattened is not None else ""
        back = ", its back page showing through (taken out)" if p.shows_through else ""
        print(f"  {p.kind:5s} bbox {' '.join(map(str, box))}  skew {b.angle:+.2f} deg, inverted {b.inverted}, "
              f"{n} lines{bent}{back}")
    for k, (ln, box) in enumerate(zip(scan.lines, line_boxes)):
        print(f"{k:4d}  column {ln.column}  bbox {' '.join(map(str, box))}  ({ln.part.kind})")
    if args.overlay:
        over = img.convert("RGB")
        d = ImageDraw.Draw(over)
        for p, box in zip(scan.parts, part_boxes):
            if p.kind in ("left", "right", "bar"):
                d.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(0, 160, 0), width=3)
        for k, box in enumerate(line_boxes):
            d.rectangle([box[0], box[1], box[2] - 1, box[3] - 1], outline=(220, 0, 0), width=2)
            d.text((box[0] + 2, box[1] + 1), str(k), fill=(0, 0, 220))
        import io

        buf = io.BytesIO()
        over.save(buf, format="PNG")
        storage.write_bytes_atomic(args.overlay, buf.getvalue())
        print(f"overlay written to {args.overlay}")
    return 0


def cmd_preprocess(args) -> int:
    from ocrcore.cli import _prefect_env, _run_flow, _storage_options

    if args.shard_size <= 0:
        raise ValueError(f"--shard-size must be positive, got {args.shard_size}")
    opts = _storage_options(args)
    from ocrcore import storage

    storage.preflight_writable(args.out, opts)
    _prefect_env(args)
    from flows.preprocess import run_preprocess

    return _run_flow("preprocess", "page", run_preprocess, input=args.input, out=args.out, shard_size=args.shard_size,
                     single_line=args.single_line, save_binarized=args.save_binarized, workers=args.workers,
                     scheduler=args.scheduler, storage_options=opts)


def register(sub) -> None:
    from ocrcore.cli import _cluster_args

    s = sub.add_parser("segment", help="binarize, deskew and segment one scan (two facing pages and reversed bars read apart); print its lines")
    s.add_argument("image", help="image path or URL")
    s.add_argument("--overlay", help="write a PNG with the found line boxes drawn on the page")
    s.add_argument("--single-line", action="store_true", help="the input is one line (no segmentation)")
    s.set_defaults(func=cmd_segment)

    p = sub.add_parser("preprocess", help="binarize and segment every page of an archive into a line dataset")
    p.add_argument("input", help="folder, prefix, glob, tar, zip, TIFF or PDF (path or URL)")
    p.add_argument("--out", required=True, help="output URL")
    p.add_argument("--shard-size", type=int, default=50, help="pages per shard (one Prefect task each)")
    p.add_argument("--single-line", action="store_true", help="inputs are single lines (captchas, line images)")
    p.add_argument("--save-binarized", action="store_true", help="also write binarized pages as PNG")
    _cluster_args(p)
    p.set_defaults(func=cmd_preprocess)

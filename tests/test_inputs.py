"""Input enumeration: every page and every bad input appears exactly once, with a stable id."""
from __future__ import annotations

import io
import struct
import tarfile
import threading
import zipfile
import zlib

import numpy as np
import pytest
from PIL import Image

from ocrcore import inputs, storage
from ocrcore.inputs import Source, iter_pages, iter_source_pages, list_page_ids, list_sources


def png(w=40, h=30, color=0, fmt="PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("L", (w, h), color).save(buf, format=fmt)
    return buf.getvalue()


def bomb_png(w=30000, h=30000) -> bytes:
    """A tiny PNG whose header claims w x h pixels (CRC fixed so only the size is wrong)."""
    data = bytearray(png(4, 4))
    ihdr = 8 + 8  # signature, then length + type of IHDR
    data[ihdr : ihdr + 8] = struct.pack(">II", w, h)
    crc = zlib.crc32(bytes(data[12 : ihdr + 13])) & 0xFFFFFFFF
    data[ihdr + 13 : ihdr + 17] = struct.pack(">I", crc)
    return bytes(data)


def tiff(frames=3) -> bytes:
    buf = io.BytesIO()
    imgs = [Image.new("L", (30 + i, 20), 255 - i) for i in range(frames)]
    imgs[0].save(buf, format="TIFF", save_all=True, append_images=imgs[1:])
    return buf.getvalue()


def pdf(pages=2) -> bytes:
    buf = io.BytesIO()
    imgs = [Image.new("L", (72, 36 + 10 * i), 255) for i in range(pages)]
    imgs[0].save(buf, format="PDF", save_all=True, append_images=imgs[1:], resolution=72)
    return buf.getvalue()


def tar_bytes(members, mode="w") -> bytes:
    """members: list of (name, bytes | 'symlink' | 'dir')."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.GNU_FORMAT) as tf:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            if data == "symlink":
                ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tf.addfile(ti)
            elif data == "dir":
                ti.type = tarfile.DIRTYPE
                tf.addfile(ti)
            else:
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def zip_bytes(members) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


TAR_MEMBERS = [
    ("dir", "dir"),
    ("dir/x.png", png(20, 10)),
    ("./dir/y.jpg", png(25, 12, fmt="JPEG")),
    ("dir/README.txt", b"hello, not an image\n"),
    ("../evil.png", png()),
    ("/abs.png", png()),
    ("dir/link.png", "symlink"),
    ("dir/multi.tif", tiff(2)),
    ("dir/x.png", png(21, 10)),  # the same name twice: both are pages, the second is x.png@2
    ("dir/inner.zip", zip_bytes([("i.png", png())])),
]
ZIP_MEMBERS = [
    ("a/b/z.png", png(22, 11)),
    ("../evil.png", png()),
    ("/abs.png", png()),
    ("a/notes.txt", b"text"),
    ("a/doc.pdf", pdf(2)),
]


def tar_expect(uri):
    return {
        f"{uri}!/dir/x.png#1": None,
        f"{uri}!/dir/y.jpg#1": None,
        f"{uri}!/dir/README.txt#1": "not_an_image",
        f"{uri}!/../evil.png#1": "unsafe_member",
        f"{uri}!//abs.png#1": "unsafe_member",
        f"{uri}!/dir/link.png#1": "unsafe_member",
        f"{uri}!/dir/multi.tif#1": None,
        f"{uri}!/dir/multi.tif#2": None,
        f"{uri}!/dir/x.png@2#1": None,
        f"{uri}!/dir/inner.zip#1": "nested_archive",
    }


def zip_expect(uri):
    return {
        f"{uri}!/a/b/z.png#1": None,
        f"{uri}!/../evil.png#1": "unsafe_member",
        f"{uri}!//abs.png#1": "unsafe_member",
        f"{uri}!/a/notes.txt#1": "not_an_image",
        f"{uri}!/a/doc.pdf#1": None,
        f"{uri}!/a/doc.pdf#2": None,
    }


def outcome(pages):
    """page_id -> error_type (None for a decoded page); fails on a duplicate id."""
    out = {}
    for p in pages:
        assert p.page_id not in out, f"duplicate page id {p.page_id}"
        assert (p.image is None) != (p.error_type is None), p
        if p.image is not None:
            assert p.image.size[0] > 0
        else:
            assert p.message
        out[p.page_id] = p.error_type
    return out


@pytest.fixture
def scan_dir(tmp_path):
    d = tmp_path / "scans"
    (d / "sub").mkdir(parents=True)
    files = {
        "a.png": png(),
        "b.jpg": png(fmt="JPEG"),
        "sub/c.png": png(10, 10, 128),
        "multi.tif": tiff(3),
        "trunc.png": png(200, 200, 50)[:60],
        "empty.png": b"",
        "text.png": b"this is plain text, named .png\n" * 3,
        "bomb.png": bomb_png(),
        "doc.pdf": pdf(2),
        "arch.tar": tar_bytes(TAR_MEMBERS),
        "arch.tar.gz": tar_bytes([("g/one.png", png())], mode="w:gz"),
        "arch.zip": zip_bytes(ZIP_MEMBERS),
        "trunc.tar": tar_bytes([("p1.png", png()), ("p2.png", png(300, 300, 9)), ("p3.png", png())])[:1536],
        "trunc.zip": zip_bytes([("q.png", png())])[:-30],
        "empty.tar": tar_bytes([("only-a-dir", "dir")]),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return d


def folder_expect(d):
    u = str(d)
    exp = {
        f"{u}/a.png#1": None,
        f"{u}/b.jpg#1": None,
        f"{u}/sub/c.png#1": None,
        f"{u}/multi.tif#1": None,
        f"{u}/multi.tif#2": None,
        f"{u}/multi.tif#3": None,
        f"{u}/trunc.png#1": "truncated_image",
        f"{u}/empty.png#1": "empty_file",
        f"{u}/text.png#1": "not_an_image",
        f"{u}/bomb.png#1": "decompression_bomb",
        f"{u}/doc.pdf#1": None,
        f"{u}/doc.pdf#2": None,
        f"{u}/arch.tar.gz!/g/one.png#1": None,
        f"{u}/trunc.tar!/p1.png#1": None,
        f"{u}/trunc.tar#0": "truncated_archive",
        f"{u}/trunc.zip!/q.png#1": None,
        f"{u}/trunc.zip#0": "truncated_archive",
        f"{u}/empty.tar#0": "empty_archive",
    }
    exp.update(tar_expect(f"{u}/arch.tar"))
    exp.update(zip_expect(f"{u}/arch.zip"))
    return exp


def test_folder_every_page_and_error_exactly_once(scan_dir):
    pages = list(iter_pages(str(scan_dir)))
    assert outcome(pages) == folder_expect(scan_dir)
    # stable: a second listing gives the same ids in the same order
    assert [p.page_id for p in iter_pages(str(scan_dir))] == [p.page_id for p in pages]


def test_page_fields_and_images(scan_dir):
    by_id = {p.page_id: p for p in iter_pages(str(scan_dir))}
    u = str(scan_dir)
    tif2 = by_id[f"{u}/multi.tif#2"]
    assert (tif2.member, tif2.page_no, tif2.source_uri) == (None, 2, f"{u}/multi.tif")
    assert [by_id[f"{u}/multi.tif#{i}"].image.size for i in (1, 2, 3)] == [(30, 20), (31, 20), (32, 20)]
    member = by_id[f"{u}/arch.tar!/dir/y.jpg#1"]
    assert member.member == "dir/y.jpg" and member.source_uri == f"{u}/arch.tar"
    dup = by_id[f"{u}/arch.tar!/dir/x.png@2#1"]
    assert dup.member == "dir/x.png" and dup.image.size == (21, 10)
    # PDF pages rendered at pdf_dpi (200): a 72x36 pt page -> 200x100 px
    assert by_id[f"{u}/doc.pdf#1"].image.size == (200, 100)
    err = by_id[f"{u}/bomb.png#1"].error_row()
    assert err["stage"] == "input" and err["error_type"] == "decompression_bomb" and "900000000" in err["message"]


def test_list_sources_sorted_kinds_and_glob(scan_dir):
    srcs = list_sources(str(scan_dir))
    assert [s.url for s in srcs] == sorted(s.url for s in srcs)
    kinds = {s.url.rsplit("/", 1)[1]: s.kind for s in srcs}
    assert kinds["arch.tar"] == kinds["arch.tar.gz"] == "tar" and kinds["arch.zip"] == "zip"
    assert kinds["doc.pdf"] == kinds["a.png"] == "file"
    globbed = [s.url.rsplit("/", 1)[1] for s in list_sources(f"{scan_dir}/*.png")]
    assert globbed == ["a.png", "bomb.png", "empty.png", "text.png", "trunc.png"]
    assert [s.url for s in list_sources(f"{scan_dir}/a.png")] == [f"{scan_dir}/a.png"]
    with pytest.raises(storage.StorageError, match="no input"):
        list_sources(f"{scan_dir}/missing")


def test_list_page_ids_match_without_decoding(scan_dir):
    for src in list_sources(str(scan_dir)):
        assert list_page_ids(src) == [p.page_id for p in iter_source_pages(src)], src.url


def test_want_selects_pages_without_decoding_the_rest(scan_dir):
    src = Source(f"{scan_dir}/doc.pdf", "file")
    got = list(iter_source_pages(src, want=lambda pid: pid.endswith("#2")))
    assert [p.page_id for p in got] == [f"{scan_dir}/doc.pdf#2"]
    tar = Source(f"{scan_dir}/arch.tar", "tar")
    got = list(iter_source_pages(tar, want=lambda pid: "multi.tif" in pid))
    assert [p.page_no for p in got] == [1, 2]


def test_caps_pdf_pages_pixels_and_member_size(scan_dir):
    u = str(scan_dir)
    got = outcome(iter_source_pages(f"{u}/doc.pdf", max_pdf_pages=1))
    assert got == {f"{u}/doc.pdf#1": None, f"{u}/doc.pdf#2": "too_many_pages"}
    got = outcome(iter_source_pages(f"{u}/doc.pdf", max_pixels=22_000))  # 200x100 ok, 200x128 not
    assert got == {f"{u}/doc.pdf#1": None, f"{u}/doc.pdf#2": "decompression_bomb"}
    got = outcome(iter_source_pages(f"{u}/multi.tif", max_pixels=620))  # frame 3 is 32x20 = 640
    assert got == {f"{u}/multi.tif#1": None, f"{u}/multi.tif#2": None, f"{u}/multi.tif#3": "decompression_bomb"}
    got = outcome(iter_source_pages(f"{u}/arch.zip", max_bytes=200))
    assert got[f"{u}/arch.zip!/a/b/z.png#1"] is None
    assert got[f"{u}/arch.zip!/a/doc.pdf#1"] == "member_too_large"
    assert outcome(iter_source_pages(f"{u}/a.png", max_bytes=10)) == {f"{u}/a.png#1": "file_too_large"}


def test_zip_bomb_declared_size_lies(tmp_path):
    """A member whose header understates its size is never inflated beyond what it declared."""
    payload = b"\0" * 100_000
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.png", payload)
    data = bytearray(buf.getvalue())
    # patch the declared uncompressed size in the central directory to 10 bytes
    cd = data.rfind(b"PK\x01\x02")
    data[cd + 24 : cd + 28] = struct.pack("<I", 10)
    (tmp_path / "bomb.zip").write_bytes(bytes(data))
    got = outcome(iter_source_pages(str(tmp_path / "bomb.zip"), max_bytes=1000))
    assert list(got.values()) == ["corrupt_member"]  # zipfile stops at the declared size; CRC fails
    # declared honestly but above the cap: refused before any byte is inflated
    with zipfile.ZipFile(tmp_path / "honest.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("big.png", payload)
    got = outcome(iter_source_pages(str(tmp_path / "honest.zip"), max_bytes=1000))
    assert list(got.values()) == ["member_too_large"]


def test_truncated_tar_mid_member_and_gzip(tmp_path):
    full = tar_bytes([("p1.png", png()), ("p2.png", png(300, 300, 9)), ("p3.png", png())], mode="w")
    (tmp_path / "cut.tar").write_bytes(full[: 3 * 512 + 50])  # inside p2's data
    gz = tar_bytes([("p1.png", png()), ("p2.png", png(64, 64, 3))], mode="w:gz")
    (tmp_path / "cut.tgz").write_bytes(gz[: len(gz) // 2])
    got = outcome(iter_pages(str(tmp_path)))
    assert got[f"{tmp_path}/cut.tar#0"] == "truncated_archive"
    assert got[f"{tmp_path}/cut.tar!/p1.png#1"] is None
    assert got[f"{tmp_path}/cut.tgz#0"] == "truncated_archive"
    assert (tmp_path / "cut.tar").exists() and sorted(p.name for p in tmp_path.iterdir()) == ["cut.tar", "cut.tgz"]


def test_truncated_zip_keeps_members_before_the_cut(tmp_path):
    members = [("m1.png", png(11, 11)), ("m2.txt", b"x" * 50), ("m3.png", png(300, 300, 7)), ("m4.png", png())]
    full = zip_bytes(members)
    cut = full.index(b"m3.png") + 40  # inside m3's data
    (tmp_path / "cut.zip").write_bytes(full[:cut])
    u = f"{tmp_path}/cut.zip"
    got = outcome(iter_source_pages(u))
    assert got == {f"{u}!/m1.png#1": None, f"{u}!/m2.txt#1": "not_an_image", f"{u}#0": "truncated_archive"}
    assert list_page_ids(u) == list(got)


def test_corrupt_archives(tmp_path):
    (tmp_path / "junk.tar").write_bytes(b"not a tar at all" * 100)
    (tmp_path / "junk.zip").write_bytes(b"not a zip at all" * 100)
    (tmp_path / "empty.zip").write_bytes(b"")
    got = outcome(iter_pages(str(tmp_path)))
    assert got == {
        f"{tmp_path}/junk.tar#0": "corrupt_archive",
        f"{tmp_path}/junk.zip#0": "corrupt_archive",
        f"{tmp_path}/empty.zip#0": "empty_file",
    }


def test_pdf_rendering_is_thread_safe(scan_dir):
    src = f"{scan_dir}/doc.pdf"
    results, errors = [], []

    def work():
        try:
            results.append([p.image.size for p in iter_source_pages(src, pdf_dpi=72)])
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and results == [[(72, 36), (72, 46)]] * 4
    assert not inputs._PDFIUM_LOCK.locked()


def test_abandoned_generator_releases_pdfium(scan_dir):
    gen = iter_source_pages(f"{scan_dir}/doc.pdf")
    next(gen)
    gen.close()
    assert not inputs._PDFIUM_LOCK.locked()


def test_same_archives_on_s3(s3_bucket, scan_dir):
    fs, _ = storage.get_fs(s3_bucket)
    for name in ("arch.tar", "arch.zip", "a.png", "multi.tif"):
        storage.write_bytes_atomic(f"{s3_bucket}/scans/{name}", (scan_dir / name).read_bytes())
    storage.write_bytes_atomic(f"{s3_bucket}/other/ignored.png", png())
    first = list(iter_pages(f"{s3_bucket}/scans"))
    exp = {f"{s3_bucket}/scans/a.png#1": None}
    exp.update({f"{s3_bucket}/scans/multi.tif#{i}": None for i in (1, 2, 3)})
    exp.update(tar_expect(f"{s3_bucket}/scans/arch.tar"))
    exp.update(zip_expect(f"{s3_bucket}/scans/arch.zip"))
    assert outcome(first) == exp
    assert [p.page_id for p in iter_pages(f"{s3_bucket}/scans/")] == [p.page_id for p in first]
    srcs = list_sources(f"{s3_bucket}/scans/*.tar")
    assert [(s.url, s.kind, s.size) for s in srcs] == [
        (f"{s3_bucket}/scans/arch.tar", "tar", (scan_dir / "arch.tar").stat().st_size)
    ]


def test_credentials_never_in_page_ids():
    src = Source("s3://user:secret@bucket/x.png", "file", size=0)
    (p,) = list(iter_source_pages(src))
    assert p.error_type == "empty_file" and "secret" not in p.page_id + p.message + p.source_uri


def test_empty_archives_without_known_size(tmp_path):
    for name in ("e.zip", "e.tar"):
        (tmp_path / name).write_bytes(b"")
        (p,) = list(iter_source_pages(str(tmp_path / name)))  # a plain URL: size unknown
        assert (p.page_id, p.error_type) == (f"{tmp_path}/{name}#0", "empty_file")


def test_member_name_collisions_stay_unique(tmp_path):
    (tmp_path / "d.tar").write_bytes(tar_bytes([("x.png", png()), ("x.png", png()), ("x.png@2", png())]))
    ids = [p.page_id for p in iter_source_pages(str(tmp_path / "d.tar"))]
    u = f"{tmp_path}/d.tar"
    assert ids == [f"{u}!/x.png#1", f"{u}!/x.png@2#1", f"{u}!/x.png@2@2#1"]


def test_listing_streams_lazily_and_vanished_files_are_reported():
    """Sources are opened only when reached: files removed after listing become missing_file."""
    import uuid

    base = f"memory://scans-{uuid.uuid4().hex[:8]}"
    for i in range(5):
        storage.write_bytes_atomic(f"{base}/p{i}.png", png(8 + i, 8))
    gen = iter_pages(base)
    first = next(gen)
    assert first.page_id == f"{base}/p0.png#1" and first.image.size == (8, 8)
    for i in (2, 3):
        storage.remove(f"{base}/p{i}.png")
    rest = outcome(gen)
    assert rest == {
        f"{base}/p1.png#1": None,
        f"{base}/p2.png#1": "missing_file",
        f"{base}/p3.png#1": "missing_file",
        f"{base}/p4.png#1": None,
    }


def test_shard_pages_report_pages_gone_since_planning(scan_dir):
    tif = f"{scan_dir}/multi.tif"
    planned = list_page_ids(tif) + [f"{tif}#9"]  # page 9 was "listed" but the file no longer has it
    got = list(inputs.iter_shard_pages([(tif, planned[1:])]))
    assert [p.page_id for p in got] == planned[1:]
    assert [p.error_type for p in got][-1] == "page_missing" and all(p.ok for p in got[:-1])
    gone = f"{scan_dir}/nowhere.png"
    (p,) = inputs.iter_shard_pages([(gone, [f"{gone}#1"])])  # a whole file gone: one error, same id
    assert (p.page_id, p.error_type) == (f"{gone}#1", "missing_file")


# How each EXIF orientation says a stored image must be turned to be seen upright (EXIF 2.3,
# tag 274), written as the Pillow transpose that makes the STORED image from the upright one.
_STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,  # mirrored
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,  # mirrored about the main diagonal
    6: Image.Transpose.ROTATE_90,  # stored turned left; viewers turn it 90 degrees clockwise
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,  # stored turned right
}


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "WEBP"])
def test_exif_orientation_gives_upright_pages(tmp_path, fmt):
    """Phone photos and some scanners store pages sideways with an orientation tag; every page
    must come out as viewers show it (read as stored, a sideways page is noise)."""
    upright = Image.new("L", (40, 24), 255)
    upright.paste(0, (0, 0, 12, 8))  # a dark block in the top-left corner tells the orientation
    for o, method in _STORED_FROM_UPRIGHT.items():
        stored = upright if method is None else upright.transpose(method)
        exif = Image.Exif()
        exif[0x0112] = o
        stored.save(tmp_path / f"o{o}.{fmt.lower()}", fmt, exif=exif, **({"quality": 95} if fmt != "PNG" else {}))
    pages = {p.page_id.rsplit("/", 1)[1]: p for p in iter_pages(str(tmp_path))}
    assert len(pages) == 8 and all(p.image is not None for p in pages.values())
    want = np.asarray(upright, dtype=np.int16)
    for o in _STORED_FROM_UPRIGHT:
        got = np.asarray(pages[f"o{o}.{fmt.lower()}#1"].image.convert("L"), dtype=np.int16)
        assert got.shape == want.shape, (o, got.shape)
        assert np.abs(got - want).mean() < 6, o  # lossy formats blur the block's edge a little


def test_exif_orientation_outside_the_spec_leaves_the_image_as_stored():
    from ocrcore.imageio import decode_image

    img = Image.new("L", (40, 24), 255)
    exif = Image.Exif()
    exif[0x0112] = 9
    buf = io.BytesIO()
    img.save(buf, "PNG", exif=exif)
    assert decode_image(buf.getvalue()).size == (40, 24)


def test_resolution_tags_give_the_pixel_aspect(tmp_path):
    """A fax in standard mode is 204 x 98 dpi: its pixels are twice as tall as wide. The tags
    survive decoding (also of a multi-page TIFF's frames), and square or implausible ones read
    as square."""
    from ocrcore.imageio import pixel_aspect, square_pixels, unsquare

    fax = Image.new("1", (60, 20), 1)
    fax.paste(0, (10, 5, 50, 15))
    fax.save(tmp_path / "fax.tif", "TIFF", compression="group4", dpi=(204, 98), save_all=True,
             append_images=[fax.copy()])
    pages = list(iter_pages(str(tmp_path / "fax.tif")))
    assert len(pages) == 2 and all(abs(pixel_aspect(p.image) - 204 / 98) < 1e-6 for p in pages)
    square, sx, sy = square_pixels(pages[1].image)
    assert square.size == (60, 42) and (sx, sy) == (1.0, 42 / 20)
    assert pixel_aspect(square) == 1.0 and square_pixels(square)[0] is square  # square now: not again
    assert unsquare(sx, sy, 60, 20)([(10, 10, 50, 32), (0, 40, 60, 42)]) == [(10, 4, 50, 16), (0, 19, 60, 20)]
    block = np.asarray(square.convert("L")) < 128  # the block is as tall as wide as printed
    rows, cols = np.flatnonzero(block.any(axis=1)), np.flatnonzero(block.any(axis=0))
    assert cols.size == 40 and abs(rows.size - 21) <= 2
    for info, want in (({"dpi": (300, 300)}, 1.0), ({"dpi": (300.0, 299.0)}, 1.0), ({"aspect": (1, 2)}, 0.5),
                       ({"dpi": (0, 100)}, 1.0), ({"dpi": (1000, 10)}, 1.0), ({"resolution": (8, 4)}, 2.0),
                       ({"jfif_unit": 0, "jfif_density": (2, 1)}, 2.0), ({}, 1.0), ({"dpi": "bad"}, 1.0)):
        img = Image.new("L", (10, 10), 255)
        img.info.update(info)
        assert pixel_aspect(img) == want, info
    plain = Image.new("L", (10, 10), 255)
    assert square_pixels(plain)[0] is plain
    exif = Image.Exif()
    exif[0x0112] = 6  # stored turned: shown a quarter turn round, so rows become columns
    Image.new("L", (40, 20), 255).save(tmp_path / "turned.jpg", "JPEG", dpi=(200, 100), exif=exif)
    (turned,) = iter_pages(str(tmp_path / "turned.jpg"))
    assert turned.image.size == (20, 40) and pixel_aspect(turned.image) == 0.5
    wide = Image.new("RGBA", (10, 10), (255, 255, 255, 0))
    wide.info["aspect"] = (1, 2)  # pixels twice as wide as tall: the columns are doubled
    got, sx, sy = square_pixels(wide, max_pixels=1000)
    assert got.size == (20, 10) and got.mode == "L" and (sx, sy) == (2.0, 1.0)
    got, sx, sy = square_pixels(wide, max_pixels=150)  # too many pixels: the rows are halved instead
    assert got.size == (10, 5) and (sx, sy) == (1.0, 0.5)

"""Enumerate the pages of an input location: folders, prefixes, globs, tar, zip, TIFF, PDF.

Why a module of its own: every page the system reads must show up exactly once, either as an
image or as an error, whatever a user's bucket holds. The rules live here, in plain functions the
flows shard over without decoding anything.

Two steps, so a flow can plan shards cheaply and decode on the workers:

* :func:`list_sources` / :func:`iter_sources` list the files under a folder, prefix or glob
  (sorted by URL; names and sizes only, nothing is read);
* :func:`iter_source_pages` opens ONE source and yields a :class:`PageInput` per page, lazily;
  :func:`iter_pages` chains both.

Page ids (stable, built only from names, never from listing order or time)::

    <source_uri>#<page_no>                 a page of a plain file     /scans/a.png#1, s3://b/d.pdf#2
    <source_uri>!/<member>#<page_no>       a page of an archive member s3://b/a.tar!/dir/x.png#1
    <source_uri>#0                         the archive itself (archive-level errors only)

``source_uri`` is the listed URL with credentials redacted (local files: absolute paths).
``member`` is the name stored in the archive with a leading ``./`` removed, otherwise verbatim
(unsafe names included, so the error says what was refused); the k-th repeat (k >= 2) of the same
name inside one archive gets ``@k`` appended in the id. Page numbers start at 1 (TIFF frame,
PDF page); a single image is page 1 even when it cannot be decoded, so a file's id does not change
when it breaks or is repaired. Page 0 is reserved for errors about a whole archive
(``truncated_archive``, ``corrupt_archive``, ``empty_archive``, ...).

Every listed file is an input (hidden files too): every page yields one :class:`PageInput`,
every unreadable input or member one error :class:`PageInput`; directory entries are not inputs.
Data problems become error pages with a stable ``error_type``; infrastructure problems (network,
endpoint) raise :class:`~ocrcore.storage.StorageError` so the caller can retry the whole source.

Error types: ``empty_file``, ``not_an_image``, ``truncated_image``, ``corrupt_image``,
``decompression_bomb`` (from :mod:`ocrcore.imageio`), ``file_too_large``, ``missing_file``,
``permission_denied``, ``unsafe_member``, ``member_too_large``, ``encrypted_member``,
``corrupt_member``, ``nested_archive``, ``truncated_archive``, ``corrupt_archive``,
``empty_archive``, ``corrupt_pdf``, ``encrypted_pdf``, ``pdf_render_error``, ``too_many_pages``.
"""
from __future__ import annotations

import io
import lzma
import math
import posixpath
import re
import struct
import tarfile
import threading
import zipfile
import zlib
from dataclasses import dataclass
from typing import Callable, Iterator, Optional

from PIL import Image

from ocrcore import storage
from ocrcore.imageio import DEFAULT_MAX_PIXELS, ImageError, check_pixels, decode_image, image_errors

DEFAULT_MAX_PDF_PAGES = 2000
DEFAULT_PDF_DPI = 200
# Largest single file or archive member read into memory (images, PDFs); bigger ones are refused.
DEFAULT_MAX_BYTES = 512 * 2**20

TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz")
ZIP_SUFFIXES = (".zip",)

# pdfium is not thread-safe: every call into it (open, render, close) holds this lock. It is never
# held across a ``yield``, so an abandoned generator cannot block other threads.
_PDFIUM_LOCK = threading.Lock()

_TIFF_MAGIC = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
_DRIVE_RE = re.compile(r"^[A-Za-z]:")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Source:
    """One listed input file: ``url`` opens it (may hold credentials), ``kind`` says how."""

    url: str
    kind: str  # "file" (image, multi-page TIFF or PDF, sniffed on read), "tar" or "zip"
    size: Optional[int] = None

    @property
    def source_uri(self) -> str:
        """The URL as it appears in page ids and result rows (credentials redacted)."""
        return storage.redact(self.url)


@dataclass
class PageInput:
    """One page to recognise (``image``) or one input that could not be read (``error_type``)."""

    page_id: str
    source_uri: str
    member: Optional[str]
    page_no: int
    image: Optional[Image.Image] = None
    error_type: Optional[str] = None
    message: Optional[str] = None

    @property
    def ok(self) -> bool:
        return self.error_type is None

    def error_row(self, stage: str = "input") -> dict:
        """A row of the errors table (``datasets.ERRORS_SCHEMA``)."""
        return {
            "page_id": self.page_id,
            "source_uri": self.source_uri,
            "stage": stage,
            "error_type": self.error_type,
            "message": self.message,
        }


@dataclass(frozen=True)
class _Limits:
    max_pixels: int
    max_pdf_pages: int
    pdf_dpi: float
    max_bytes: int


def make_page_id(source_uri: str, member: Optional[str], page_no: int) -> str:
    """The page id format documented in the module docstring."""
    base = source_uri if member is None else f"{source_uri}!/{member}"
    return f"{base}#{int(page_no)}"


def source_kind(url: str) -> str:
    """``tar``, ``zip`` or ``file`` from the name (content decides between image, TIFF, PDF)."""
    low = url.lower()
    if low.endswith(TAR_SUFFIXES):
        return "tar"
    if low.endswith(ZIP_SUFFIXES):
        return "zip"
    return "file"


def is_unsafe_member_name(name: str) -> bool:
    """Absolute paths, drive letters, ``..`` components, NULs and empty names are refused."""
    if not name or "\x00" in name:
        return True
    if name.startswith(("/", "\\")) or _DRIVE_RE.match(name):
        return True
    parts = re.split(r"[\\/]", name)
    return any(p == ".." for p in parts)


# --------------------------------------------------------------------------- listing


def iter_sources(url: str, storage_options: Optional[dict] = None) -> Iterator[Source]:
    """Files under a folder/prefix (recursively), matching a glob, or the one file named, by URL.

    Only names and sizes are listed; nothing is read. Raises StorageError when a non-glob
    location does not exist (a typo should not look like an empty input).
    """
    url = str(url)
    fs, path = storage.get_fs(url, storage_options)
    proto = storage.protocol_of(url)
    try:
        if any(c in path for c in "*?["):
            found = fs.glob(path, detail=True)
        else:
            try:
                info = fs.info(path)
            except FileNotFoundError:
                raise storage.StorageError(f"no input at {storage.redact(url)}: no such file, folder or prefix") from None
            found = {path: info} if info.get("type") == "file" else fs.find(path, detail=True)
    except storage.StorageError:
        raise
    except Exception as e:  # network, permissions
        raise storage.StorageError(f"cannot list {storage.redact(url)}: {type(e).__name__}: {e}") from None
    for p in sorted(found):
        info = found[p]
        if info.get("type") == "directory" or posixpath.basename(p).startswith(".tmp-"):
            continue
        if proto == "file":
            full = p
        elif proto == "memory" and not url.startswith("memory:///"):
            full = "memory://" + p.lstrip("/")
        else:
            full = fs.unstrip_protocol(p)
        size = info.get("size")
        yield Source(full, source_kind(full), int(size) if size is not None else None)


def list_sources(url: str, storage_options: Optional[dict] = None) -> list[Source]:
    """:func:`iter_sources` as a list (names only, so cheap to hold for planning)."""
    return list(iter_sources(url, storage_options))


# --------------------------------------------------------------------------- pages


def iter_pages(
    url: str,
    storage_options: Optional[dict] = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES,
    pdf_dpi: float = DEFAULT_PDF_DPI,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[PageInput]:
    """Every page of every source under ``url``, in listing order, decoded lazily."""
    for src in iter_sources(url, storage_options):
        yield from iter_source_pages(
            src, storage_options, max_pixels=max_pixels, max_pdf_pages=max_pdf_pages,
            pdf_dpi=pdf_dpi, max_bytes=max_bytes,
        )


def iter_source_pages(
    source: Source | str,
    storage_options: Optional[dict] = None,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES,
    pdf_dpi: float = DEFAULT_PDF_DPI,
    max_bytes: int = DEFAULT_MAX_BYTES,
    want: Optional[Callable[[str], bool]] = None,
) -> Iterator[PageInput]:
    """Open one source and yield its pages; a bad member never stops the rest.

    ``want(page_id) -> bool`` selects pages (sharding inside a large archive, incremental runs):
    unwanted pages are neither decoded nor yielded, errors included.
    """
    src = _as_source(source)
    limits = _Limits(int(max_pixels), int(max_pdf_pages), float(pdf_dpi), int(max_bytes))
    yield from _source_pages(src, storage_options, limits, True, want)


def iter_shard_pages(
    items: list[tuple[str, list[str]]],
    storage_options: Optional[dict] = None,
    **limits,
) -> Iterator[PageInput]:
    """Every page listed in a shard's ``(source, page_ids)`` items, each exactly once.

    A page listed when the run was planned but absent when read again (the source changed in
    between) comes back as a ``page_missing`` error, so no page is ever silently lost. A source
    that cannot be read at all raises ``RuntimeError`` (the whole shard is retried).
    """
    for source, ids in items:
        wanted, seen = set(ids), set()
        try:
            for p in iter_source_pages(source, storage_options, want=wanted.__contains__, **limits):
                seen.add(p.page_id)
                yield p
        except storage.StorageError as e:
            raise RuntimeError(f"reading {storage.redact(source)} failed: {e}") from None
        for pid in sorted(wanted - seen):
            yield PageInput(page_id=pid, source_uri=storage.redact(source), member=None, page_no=0,
                            error_type="page_missing", message=f"{pid} was listed but not found when read again")


def list_page_ids(
    source: Source | str,
    storage_options: Optional[dict] = None,
    *,
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> list[str]:
    """The ids :func:`iter_source_pages` yields for this source, without decoding pixels.

    Archives are still read through (a stream has no index) and TIFF/PDF headers parsed; use it
    to plan or to diff against existing output. A decode failure never changes a page's id, so
    the two agree.
    """
    src = _as_source(source)
    limits = _Limits(DEFAULT_MAX_PIXELS, int(max_pdf_pages), DEFAULT_PDF_DPI, int(max_bytes))
    return [p.page_id for p in _source_pages(src, storage_options, limits, False, None)]


def _as_source(source: Source | str) -> Source:
    if isinstance(source, Source):
        return source
    return Source(str(source), source_kind(str(source)))


class _Emitter:
    """Builds PageInputs of one source, applying ``want`` and unique member keys."""

    def __init__(self, src: Source, want: Optional[Callable[[str], bool]]):
        self.uri = src.source_uri
        self.want = want
        self._seen: dict[str, int] = {}
        self._keys: set[str] = set()

    def member_key(self, name: str) -> str:
        """``name``, or ``name@k`` for its k-th occurrence (k >= 2), never a key used before."""
        n = self._seen.get(name, 0) + 1
        key = name if n == 1 else f"{name}@{n}"
        while key in self._keys:
            n += 1
            key = f"{name}@{n}"
        self._seen[name] = n
        self._keys.add(key)
        return key

    @property
    def has_members(self) -> bool:
        return bool(self._keys)

    def wanted(self, key: Optional[str], page_no: int) -> bool:
        return self.want is None or bool(self.want(make_page_id(self.uri, key, page_no)))

    def page(self, key: Optional[str], member: Optional[str], page_no: int, image=None) -> PageInput:
        return PageInput(make_page_id(self.uri, key, page_no), self.uri, member, page_no, image=image)

    def error(self, key: Optional[str], member: Optional[str], page_no: int, error_type: str, message: str) -> PageInput:
        return PageInput(
            make_page_id(self.uri, key, page_no), self.uri, member, page_no,
            error_type=error_type, message=message,
        )


def _source_pages(
    src: Source, storage_options: Optional[dict], limits: _Limits, decode: bool,
    want: Optional[Callable[[str], bool]],
) -> Iterator[PageInput]:
    em = _Emitter(src, want)
    archive = src.kind in ("tar", "zip")
    page_no = 0 if archive else 1

    def fail(error_type: str, message: str) -> Iterator[PageInput]:
        if em.wanted(None, page_no):
            yield em.error(None, None, page_no, error_type, f"{src.source_uri}: {message}")

    if src.size is not None and src.size > limits.max_bytes and src.kind == "file":
        yield from fail("file_too_large", f"{src.size} bytes exceeds the limit of {limits.max_bytes}")
        return
    if src.size == 0:
        yield from fail("empty_file", "file is empty (0 bytes)")
        return
    fs, path = storage.get_fs(src.url, storage_options)
    try:
        if src.kind == "tar":
            with fs.open(path, "rb") as f:
                yield from _tar_pages(f, src, em, limits, decode)
            return
        if src.kind == "zip":
            with fs.open(path, "rb") as f:
                yield from _zip_pages(f, src, em, limits, decode)
            return
        with fs.open(path, "rb") as f:
            data = f.read(limits.max_bytes + 1)
    except FileNotFoundError:
        yield from fail("missing_file", "file disappeared after listing")
        return
    except PermissionError as e:
        yield from fail("permission_denied", f"not allowed to read: {e}")
        return
    except storage.StorageError:
        raise
    except OSError as e:  # network or endpoint trouble: the caller retries the source
        raise storage.StorageError(f"cannot read {src.source_uri}: {type(e).__name__}: {e}") from None
    if len(data) > limits.max_bytes:
        yield from fail("file_too_large", f"more than {limits.max_bytes} bytes")
        return
    yield from _bytes_pages(data, em, None, None, src.source_uri, limits, decode)


# --------------------------------------------------------------------------- one blob -> pages


def _bytes_pages(
    data: bytes, em: _Emitter, key: Optional[str], member: Optional[str], name: str,
    limits: _Limits, decode: bool,
) -> Iterator[PageInput]:
    """Pages of one file or member: PDF and TIFF by content, anything else as one image."""
    head = data[:1024]
    if b"%PDF-" in head:
        yield from _pdf_pages(data, em, key, member, name, limits, decode)
    elif data[:4] in _TIFF_MAGIC:
        yield from _tiff_pages(data, em, key, member, name, limits, decode)
    elif em.wanted(key, 1):
        if member is not None and member.lower().endswith(TAR_SUFFIXES + ZIP_SUFFIXES):
            yield em.error(key, member, 1, "nested_archive", f"{name}: archives inside archives are not read")
        elif not decode:
            yield em.page(key, member, 1)
        else:
            try:
                yield em.page(key, member, 1, decode_image(data, name=name, max_pixels=limits.max_pixels))
            except ImageError as e:
                yield em.error(key, member, 1, e.error_type, str(e))


def _tiff_pages(
    data: bytes, em: _Emitter, key: Optional[str], member: Optional[str], name: str,
    limits: _Limits, decode: bool,
) -> Iterator[PageInput]:
    """Every frame of a (multi-page) TIFF; a frame that cannot be reached ends the file."""
    try:
        with image_errors(name):
            img = Image.open(io.BytesIO(data))
    except ImageError as e:
        if em.wanted(key, 1):
            yield em.error(key, member, 1, e.error_type, str(e))
        return
    try:
        with image_errors(name):
            n: Optional[int] = int(getattr(img, "n_frames", 1))
    except ImageError:
        n = None  # broken IFD chain: read frames until one cannot be reached
    i = 0
    while n is None or i < n:
        page_no = i + 1
        fname = f"{name} frame {page_no}"
        try:
            with image_errors(fname):
                img.seek(i)
        except ImageError as e:
            if n is None and i > 0 and "no more images" in str(e).lower():
                return
            if em.wanted(key, page_no):
                yield em.error(key, member, page_no, e.error_type, f"{e} (frames from {page_no} on unreadable)")
            return
        if em.wanted(key, page_no):
            if not decode:
                yield em.page(key, member, page_no)
            else:
                try:
                    with image_errors(fname):
                        w, h = img.size
                        check_pixels(w, h, name=fname, max_pixels=limits.max_pixels)
                        img.load()
                        frame = img.copy() if (n is None or n > 1) else img
                    yield em.page(key, member, page_no, frame)
                except ImageError as e:
                    yield em.error(key, member, page_no, e.error_type, str(e))
        i += 1


def _pdf_pages(
    data: bytes, em: _Emitter, key: Optional[str], member: Optional[str], name: str,
    limits: _Limits, decode: bool,
) -> Iterator[PageInput]:
    """PDF pages rendered at ``pdf_dpi`` under the pdfium lock, with page-count and pixel caps."""
    import pypdfium2 as pdfium  # imported lazily: only PDF inputs need it

    scale = limits.pdf_dpi / 72.0
    try:
        with _PDFIUM_LOCK:
            doc = pdfium.PdfDocument(data)
            n = len(doc)
    except pdfium.PdfiumError as e:
        if em.wanted(key, 1):
            kind = "encrypted_pdf" if "password" in str(e).lower() else "corrupt_pdf"
            yield em.error(key, member, 1, kind, f"{name}: cannot open PDF: {e}")
        return
    try:
        if n == 0 and em.wanted(key, 1):
            yield em.error(key, member, 1, "corrupt_pdf", f"{name}: PDF has no pages")
        for i in range(min(n, limits.max_pdf_pages)):
            page_no = i + 1
            if not em.wanted(key, page_no):
                continue
            if not decode:
                yield em.page(key, member, page_no)
                continue
            pname = f"{name} page {page_no}"
            try:
                with _PDFIUM_LOCK:
                    page = doc[i]
                    try:
                        w_pt, h_pt = page.get_size()
                        w, h = math.ceil(w_pt * scale), math.ceil(h_pt * scale)
                        check_pixels(w, h, name=pname, max_pixels=limits.max_pixels)
                        bitmap = page.render(scale=scale)
                        try:
                            img = bitmap.to_pil()
                            if img.mode in ("RGBA", "RGBX", "L"):
                                img = img.copy()  # those modes share pdfium's buffer
                        finally:
                            bitmap.close()
                    finally:
                        page.close()
            except ImageError as e:
                yield em.error(key, member, page_no, e.error_type, str(e))
                continue
            except pdfium.PdfiumError as e:
                yield em.error(key, member, page_no, "pdf_render_error", f"{pname}: {e}")
                continue
            yield em.page(key, member, page_no, img)
        if n > limits.max_pdf_pages and em.wanted(key, limits.max_pdf_pages + 1):
            yield em.error(
                key, member, limits.max_pdf_pages + 1, "too_many_pages",
                f"{name}: {n} pages exceed the limit of {limits.max_pdf_pages}; "
                f"pages {limits.max_pdf_pages + 1}..{n} were not read",
            )
    finally:
        with _PDFIUM_LOCK:
            doc.close()


# --------------------------------------------------------------------------- archives


class _TrackingTarInfo(tarfile.TarInfo):
    """Records how a tar stream ended: at its end-of-archive marker or cut short."""

    @classmethod
    def fromtarfile(cls, tf):  # noqa: D401 - tarfile hook
        try:
            return super().fromtarfile(tf)
        except tarfile.EOFHeaderError:
            tf._ocr_end = "marker"
            raise
        except (tarfile.EmptyHeaderError, tarfile.TruncatedHeaderError):
            tf._ocr_end = "cut"
            raise


_ARCHIVE_READ_ERRORS = (tarfile.ReadError, EOFError, zlib.error, zipfile.BadZipFile)


def _member_name(raw: str) -> str:
    return raw[2:] if raw.startswith("./") and len(raw) > 2 else raw


def _tar_pages(f, src: Source, em: _Emitter, limits: _Limits, decode: bool) -> Iterator[PageInput]:
    """Stream a tar (plain or compressed) member by member; nothing touches the disk."""
    uri = src.source_uri
    try:
        tf = tarfile.open(fileobj=f, mode="r|*", tarinfo=_TrackingTarInfo)
    except tarfile.ReadError as e:
        kind = "empty_file" if "empty file" in str(e) else "corrupt_archive"
        if em.wanted(None, 0):
            yield em.error(None, None, 0, kind, f"{uri}: not a readable tar archive: {e}")
        return
    current = None
    try:
        while True:
            m = tf.next()
            if m is None:
                break
            if m.isdir():
                continue
            name = _member_name(m.name)
            key = em.member_key(name)
            label = f"{uri}!/{name}"
            if m.issym() or m.islnk() or not m.isfile() or is_unsafe_member_name(name):
                what = "link" if (m.issym() or m.islnk()) else "unsafe path" if m.isfile() else "special file"
                if em.wanted(key, 1):
                    yield em.error(key, name, 1, "unsafe_member", f"{label}: refused ({what})")
                continue
            if m.size > limits.max_bytes:
                if em.wanted(key, 1):
                    yield em.error(key, name, 1, "member_too_large", f"{label}: {m.size} bytes exceeds the limit of {limits.max_bytes}")
                continue
            current = name
            data = tf.extractfile(m).read()
            current = None
            yield from _bytes_pages(data, em, key, name, label, limits, decode)
    except _ARCHIVE_READ_ERRORS as e:
        where = f" while reading member {current!r}" if current else ""
        if em.wanted(None, 0):
            yield em.error(None, None, 0, "truncated_archive", f"{uri}: archive ends early{where}: {e}; pages before it were read")
        return
    if getattr(tf, "_ocr_end", None) != "marker":
        if em.wanted(None, 0):
            yield em.error(None, None, 0, "truncated_archive", f"{uri}: no end-of-archive marker (file cut short); pages before it were read")
        return
    if not em.has_members and em.wanted(None, 0):
        yield em.error(None, None, 0, "empty_archive", f"{uri}: archive holds no files")


def _zip_pages(f, src: Source, em: _Emitter, limits: _Limits, decode: bool) -> Iterator[PageInput]:
    """Read a zip through a seekable file object; members capped by declared AND actual size.

    A zip cut short has lost its central directory (it sits at the end): its members are then
    recovered from their local headers, in order, up to the cut, followed by ``truncated_archive``.
    """
    uri = src.source_uri
    try:
        zf = zipfile.ZipFile(f)
    except (zipfile.BadZipFile, EOFError, ValueError) as e:
        f.seek(0)
        head = f.read(4)
        if head != b"PK\x03\x04":
            if em.wanted(None, 0):
                if head:
                    yield em.error(None, None, 0, "corrupt_archive", f"{uri}: not a readable zip archive ({e})")
                else:
                    yield em.error(None, None, 0, "empty_file", f"{uri}: file is empty (0 bytes)")
            return
        f.seek(0)
        recovered = yield from _zip_salvage(f, uri, em, limits, decode)
        if em.wanted(None, 0):
            yield em.error(
                None, None, 0, "truncated_archive",
                f"{uri}: zip central directory missing ({e}), file cut short? "
                f"{recovered} member(s) before the cut were read from their local headers",
            )
        return
    with zf:
        infos = [i for i in zf.infolist() if not i.is_dir()]
        if not infos and em.wanted(None, 0):
            yield em.error(None, None, 0, "empty_archive", f"{uri}: archive holds no files")
        for info in infos:
            name = _member_name(info.filename)
            key = em.member_key(name)
            label = f"{uri}!/{name}"
            mode = (info.external_attr >> 16) & 0o170000
            refused = _refuse_member(name, mode not in (0, 0o100000), bool(info.flag_bits & 0x1), info.file_size, limits)
            if refused:
                if em.wanted(key, 1):
                    yield em.error(key, name, 1, refused[0], f"{label}: {refused[1]}")
                continue
            try:
                with zf.open(info) as mf:
                    data = mf.read(limits.max_bytes + 1)
            except (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, NotImplementedError, ValueError) as e:
                if em.wanted(key, 1):
                    yield em.error(key, name, 1, "corrupt_member", f"{label}: cannot decompress: {type(e).__name__}: {e}")
                continue
            if len(data) > limits.max_bytes:
                if em.wanted(key, 1):
                    yield em.error(key, name, 1, "member_too_large", f"{label}: more than {limits.max_bytes} bytes (declared {info.file_size})")
                continue
            yield from _bytes_pages(data, em, key, name, label, limits, decode)


def _refuse_member(name: str, special: bool, encrypted: bool, size: int, limits: _Limits) -> Optional[tuple[str, str]]:
    """``(error_type, reason)`` when a zip member must not be read, else None."""
    if is_unsafe_member_name(name):
        return "unsafe_member", "refused (unsafe path)"
    if special:
        return "unsafe_member", "refused (link or special file)"
    if encrypted:
        return "encrypted_member", "member is encrypted"
    if size > limits.max_bytes:
        return "member_too_large", f"declared {size} bytes exceeds the limit of {limits.max_bytes}"
    return None


_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")


def _zip_salvage(f, uri: str, em: _Emitter, limits: _Limits, decode: bool):
    """Members of a zip without central directory, read from local headers until the cut.

    Only entries whose local header states their sizes (the usual case for files zipped on disk)
    can be walked; the walk stops at the first one that does not, at the cut, or at the (partial)
    central directory. Returns how many members were read.
    """
    count = 0
    while True:
        hdr = f.read(_LOCAL_HEADER.size)
        if len(hdr) < _LOCAL_HEADER.size or hdr[:4] != b"PK\x03\x04":
            return count
        _, _, flags, method, _, _, crc, csize, usize, nlen, xlen = _LOCAL_HEADER.unpack(hdr)
        raw = f.read(nlen)
        f.read(xlen)
        if len(raw) < nlen or flags & 0x8 or 0xFFFFFFFF in (csize, usize):
            return count  # cut inside the header, sizes only in a data descriptor, or zip64
        name = _member_name(raw.decode("utf-8" if flags & 0x800 else "cp437"))
        payload = f.read(csize) if csize <= limits.max_bytes else None
        if payload is not None and len(payload) < csize:
            return count  # the cut falls inside this member's data
        if payload is None:
            f.seek(csize, 1)
        if name.endswith("/"):
            continue
        count += 1
        key = em.member_key(name)
        label = f"{uri}!/{name}"
        refused = _refuse_member(name, False, bool(flags & 0x1), max(usize, csize), limits)
        if refused:
            if em.wanted(key, 1):
                yield em.error(key, name, 1, refused[0], f"{label}: {refused[1]}")
            continue
        try:
            if method == 0:
                data = payload
            elif method == 8:
                d = zlib.decompressobj(-15)
                data = d.decompress(payload, limits.max_bytes + 1)
            else:
                raise NotImplementedError(f"compression method {method}")
            if len(data) > limits.max_bytes:
                raise _TooLarge()
            if zlib.crc32(data) & 0xFFFFFFFF != crc:
                raise zipfile.BadZipFile("CRC-32 mismatch")
        except _TooLarge:
            if em.wanted(key, 1):
                yield em.error(key, name, 1, "member_too_large", f"{label}: more than {limits.max_bytes} bytes")
            continue
        except (zlib.error, zipfile.BadZipFile, NotImplementedError) as e:
            if em.wanted(key, 1):
                yield em.error(key, name, 1, "corrupt_member", f"{label}: cannot decompress: {type(e).__name__}: {e}")
            continue
        yield from _bytes_pages(data, em, key, name, label, limits, decode)


class _TooLarge(Exception):
    pass

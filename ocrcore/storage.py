"""Storage behind fsspec URLs: plain paths, ``file://``, ``s3://``, ``memory://``.

Why a module of its own: every path a user gives goes through here, so S3 settings, atomic
whole-object writes and friendly errors live in one place.

* S3 settings come from explicit ``storage_options`` or the standard environment variables
  (``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_S3``, ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
  ``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``); botocore reads the credentials itself, we only
  add the endpoint. Credentials are never logged: :func:`redact` strips them from URLs and
  :func:`describe_options` masks them.
* Whole objects are written atomically: the bytes are built in memory and written with one PUT
  (S3, memory) or to a temporary file renamed into place (local disk). A crash never leaves a
  half object that looks whole. (In fsspec an exception inside ``with fs.open(p, "wb")`` still
  uploads a truncated object, so we never stream writes of committed files.)
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import tempfile
from typing import Any, Iterator, Optional

import fsspec
from fsspec.core import url_to_fs

SECRET_KEYS = ("secret", "password", "token", "key")
_UMASK = os.umask(0)
os.umask(_UMASK)


class StorageError(RuntimeError):
    """A storage URL that cannot be used, with a message saying what to do."""


def redact(url: str) -> str:
    """URL without embedded credentials (``s3://user:pass@bucket`` -> ``s3://***@bucket``)."""
    return re.sub(r"^([a-zA-Z0-9+.-]+://)[^/@]+@", r"\1***@", str(url))


def describe_options(options: Optional[dict]) -> dict:
    """Storage options safe to log: values of secret-looking keys are masked."""
    out: dict = {}
    for k, v in (options or {}).items():
        if isinstance(v, dict):
            out[k] = describe_options(v)
        elif any(s in k.lower() for s in SECRET_KEYS) and k.lower() not in ("key_prefix",):
            out[k] = "***"
        else:
            out[k] = v
    return out


def protocol_of(url: str) -> str:
    """``s3``, ``memory``, ``file``, ... (plain paths are ``file``)."""
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://", str(url))
    return m.group(1).lower() if m else "file"


def _s3_defaults(options: dict) -> dict:
    opts = dict(options)
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    client_kwargs = dict(opts.get("client_kwargs") or {})
    if endpoint and "endpoint_url" not in opts and "endpoint_url" not in client_kwargs:
        opts["endpoint_url"] = endpoint
    region = os.environ.get("AWS_DEFAULT_REGION") or os.environ.get("AWS_REGION")
    if region and "region_name" not in client_kwargs:
        client_kwargs["region_name"] = region
    if client_kwargs:
        opts["client_kwargs"] = client_kwargs
    # Fail in seconds, not minutes, when an endpoint is unreachable.
    config_kwargs = dict(opts.get("config_kwargs") or {})
    config_kwargs.setdefault("connect_timeout", 5)
    config_kwargs.setdefault("retries", {"max_attempts": 3, "mode": "standard"})
    opts["config_kwargs"] = config_kwargs
    return opts


def get_fs(url: str, storage_options: Optional[dict] = None) -> tuple[fsspec.AbstractFileSystem, str]:
    """Filesystem and path for a URL, with S3 defaults from the environment.

    Raises :class:`StorageError` for an unknown protocol or a missing driver.
    """
    url = str(url)
    options = dict(storage_options or {})
    proto = protocol_of(url)
    if proto in ("s3", "s3a"):
        options = _s3_defaults(options)
    try:
        fs, path = url_to_fs(url, **options)
    except ValueError as e:
        known = ", ".join(sorted(p for p in ("file", "s3", "memory", "gcs", "abfs", "http") ))
        raise StorageError(
            f"cannot use storage URL {redact(url)!r}: {e}. Use a local path or one of: {known}"
        ) from None
    except ImportError as e:
        raise StorageError(f"storage URL {redact(url)!r} needs a driver that is not installed: {e}") from None
    return fs, path


def join(url: str, *parts: str) -> str:
    """Join URL parts with '/' (works for local paths and every fsspec protocol)."""
    url = str(url)
    out = url.rstrip("/") if len(url) > 1 else url
    for p in parts:
        p = str(p).strip("/")
        if p:
            out = f"{out}/{p}"
    return out


def _wrap(url: str, op: str, e: BaseException) -> StorageError:
    hint = ""
    text = f"{type(e).__name__}: {e}"
    if protocol_of(url) in ("s3", "s3a"):
        hint = (
            " Check AWS_ENDPOINT_URL, the bucket name and credentials (AWS_ACCESS_KEY_ID/"
            "AWS_SECRET_ACCESS_KEY) or pass storage options."
        )
    return StorageError(f"cannot {op} {redact(url)}: {text}.{hint}")


def exists(url: str, storage_options: Optional[dict] = None) -> bool:
    fs, path = get_fs(url, storage_options)
    try:
        return bool(fs.exists(path))
    except Exception as e:  # network, permissions
        raise _wrap(url, "check", e) from None


def read_bytes(url: str, storage_options: Optional[dict] = None) -> bytes:
    fs, path = get_fs(url, storage_options)
    try:
        return fs.cat_file(path)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise _wrap(url, "read", e) from None


def write_bytes_atomic(url: str, data: bytes, storage_options: Optional[dict] = None) -> None:
    """Write a whole object in one step: temp file + rename locally, one PUT elsewhere."""
    fs, path = get_fs(url, storage_options)
    try:
        if protocol_of(url) == "file":
            d = os.path.dirname(path) or "."
            os.makedirs(d, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=d)
            try:
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
                os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file normal permissions
                os.replace(tmp, path)
            except BaseException:
                if os.path.exists(tmp):
                    os.unlink(tmp)
                raise
        else:
            fs.pipe_file(path, bytes(data))
    except Exception as e:
        raise _wrap(url, "write", e) from None


def write_json_atomic(url: str, obj: Any, storage_options: Optional[dict] = None) -> None:
    write_bytes_atomic(url, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode(), storage_options)


def read_json(url: str, storage_options: Optional[dict] = None) -> Any:
    return json.loads(read_bytes(url, storage_options))


def remove(url: str, storage_options: Optional[dict] = None) -> None:
    """Remove one object if it exists."""
    fs, path = get_fs(url, storage_options)
    try:
        if fs.exists(path):
            fs.rm_file(path)
    except Exception as e:
        raise _wrap(url, "remove", e) from None


def list_files(url: str, storage_options: Optional[dict] = None, *, pattern: str = "**") -> Iterator[str]:
    """Full URLs of files under a prefix (recursively, sorted), or matching a glob URL.

    ``url`` may itself contain glob characters (``s3://b/scans/*.png``); otherwise every file
    below it is listed.
    """
    fs, path = get_fs(url, storage_options)
    proto = protocol_of(url)
    try:
        if any(c in path for c in "*?["):
            found = fs.glob(path)
        elif fs.isfile(path):
            found = [path]
        else:
            found = fs.find(path)
    except Exception as e:
        raise _wrap(url, "list", e) from None
    for p in sorted(found):
        if posixpath.basename(p).startswith(".tmp-"):
            continue
        if proto == "file":
            yield p
        elif proto == "memory" and not str(url).startswith("memory:///"):
            yield "memory://" + p.lstrip("/")
        else:
            yield fs.unstrip_protocol(p)


def preflight_writable(url: str, storage_options: Optional[dict] = None) -> None:
    """Fail early, with a clear message, when an output location cannot be written.

    Writes and removes a tiny probe object under ``url``; this catches unknown protocols,
    unreachable endpoints, missing buckets and missing permissions before any work is planned.
    """
    probe = join(url, ".ocr-write-probe")
    fs, _ = get_fs(url, storage_options)
    try:
        write_bytes_atomic(probe, b"ok", storage_options)
        remove(probe, storage_options)
    except StorageError as e:
        raise StorageError(f"output location is not writable: {e}") from None


def relative_to(url: str, base: str) -> str:
    """Path of ``url`` relative to the prefix ``base`` (the base name when ``base`` is a glob or file)."""
    def strip(u: str) -> str:
        u = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", str(u)) if protocol_of(u) != "file" or "://" in str(u) else str(u)
        return os.path.abspath(u) if protocol_of(url) == "file" else u
    b = strip(base).rstrip("/")
    u = strip(url)
    if any(c in b for c in "*?[") or not u.startswith(b + "/"):
        return posixpath.basename(u)
    return u[len(b) + 1 :]

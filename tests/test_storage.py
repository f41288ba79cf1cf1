import json

import pytest

from ocrcore import storage


def test_local_atomic_write_and_read(tmp_path):
    url = str(tmp_path / "a" / "b.bin")
    storage.write_bytes_atomic(url, b"hello")
    assert storage.read_bytes(url) == b"hello"
    assert storage.exists(url)
    # no temp files are left behind
    assert [p.name for p in (tmp_path / "a").iterdir()] == ["b.bin"]


def test_file_url_and_memory(tmp_path):
    storage.write_json_atomic(f"file://{tmp_path}/m.json", {"a": 1})
    assert json.loads((tmp_path / "m.json").read_text()) == {"a": 1}
    storage.write_bytes_atomic("memory://bucket/x/y.bin", b"1")
    assert storage.read_bytes("memory://bucket/x/y.bin") == b"1"
    assert list(storage.list_files("memory://bucket/x")) == ["memory://bucket/x/y.bin"]


def test_failed_local_write_leaves_no_object(tmp_path, monkeypatch):
    url = str(tmp_path / "f.bin")

    class Boom(bytes):
        def __len__(self):
            raise RuntimeError("boom")

    import os

    real_replace = os.replace

    def failing_replace(a, b):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(storage.StorageError, match="disk full"):
        storage.write_bytes_atomic(url, b"data")
    monkeypatch.setattr(os, "replace", real_replace)
    assert list(tmp_path.iterdir()) == []


def test_s3_roundtrip_over_http(s3_bucket):
    url = f"{s3_bucket}/prefix/obj.json"
    storage.write_json_atomic(url, {"k": [1, 2]})
    assert storage.read_json(url) == {"k": [1, 2]}
    assert storage.exists(url)
    assert list(storage.list_files(f"{s3_bucket}/prefix")) == [url]
    assert list(storage.list_files(f"{s3_bucket}/prefix/*.json")) == [url]
    storage.preflight_writable(f"{s3_bucket}/out")


def test_unknown_protocol_is_clear():
    with pytest.raises(storage.StorageError, match="cannot use storage URL"):
        storage.get_fs("nosuchproto://x/y")


def test_missing_bucket_is_clear(s3_env):
    with pytest.raises(storage.StorageError, match="not writable"):
        storage.preflight_writable("s3://bucket-that-does-not-exist-123/x")


def test_unreachable_endpoint_is_clear(monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "k")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s")
    with pytest.raises(storage.StorageError) as ei:
        storage.preflight_writable("s3://somebucket/x", {"config_kwargs": {"connect_timeout": 1, "retries": {"max_attempts": 1}}})
    assert "AWS_ENDPOINT_URL" in str(ei.value)


def test_credentials_never_in_messages():
    assert storage.redact("s3://AKIA:SECRET@bucket/x") == "s3://***@bucket/x"
    opts = storage.describe_options({"key": "AKIA", "secret": "S", "client_kwargs": {"aws_session_token": "T"}, "anon": False})
    assert "AKIA" not in json.dumps(opts) and "S" not in opts.values() and opts["anon"] is False
    assert opts["client_kwargs"]["aws_session_token"] == "***"


def test_join_and_relative():
    assert storage.join("s3://b/p/", "x", "/y") == "s3://b/p/x/y"
    assert storage.relative_to("s3://b/p/q/a.png", "s3://b/p") == "q/a.png"
    assert storage.relative_to("/data/x/a.png", "/data/x/") == "a.png"


def test_local_files_get_normal_permissions(tmp_path):
    import os
    import stat

    url = str(tmp_path / "p.bin")
    storage.write_bytes_atomic(url, b"x")
    mode = stat.S_IMODE(os.stat(url).st_mode)
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask

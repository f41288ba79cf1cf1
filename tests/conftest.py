"""Shared fixtures: a real HTTP S3 endpoint (moto's threaded server) and a real Prefect API.

Both are session-scoped and started only when a test asks for them.
"""
from __future__ import annotations

import os
import uuid

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(scope="session")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch):
    """AWS_* variables pointing at the moto endpoint, as a user would set them."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return s3_endpoint


@pytest.fixture
def s3_bucket(s3_env):
    """A fresh, empty bucket; returns ``s3://name``."""
    import s3fs

    name = f"test-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(endpoint_url=s3_env, key="testing", secret="testing-secret")
    fs.mkdir(name)
    return f"s3://{name}"


@pytest.fixture(scope="session")
def prefect_api():
    """One real Prefect API server (the test harness) for the whole session."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        url = PREFECT_API_URL.value()
        old = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = url  # Dask worker processes inherit it
        yield url
        if old is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = old


def kill_when(p, ready, timeout: float = 240) -> None:
    """SIGKILL the process ``p`` (started with ``start_new_session=True``) once ``ready()`` holds,
    then assert that nothing of its session is left running a few seconds later: the Dask
    workers of a killed ``ocr`` command must go with it (any left are killed, and the test fails)."""
    import signal
    import subprocess
    import time

    deadline = time.time() + timeout
    while time.time() < deadline and p.poll() is None and not ready():
        time.sleep(0.02)
    assert p.poll() is None, "the run ended before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    left = ""
    for _ in range(60):
        left = subprocess.run(["ps", "-o", "pid=,args=", "-s", str(p.pid)], capture_output=True, text=True).stdout
        if not left.strip():
            return
        time.sleep(0.5)
    os.killpg(p.pid, signal.SIGKILL)
    raise AssertionError(f"processes left behind by the killed run:\n{left}")

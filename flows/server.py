"""Find or start the Prefect API server the flows report to.

Order: ``PREFECT_API_URL`` if set and healthy; else a server this tool started earlier (its URL in
``~/.cache/ocr/prefect-server.json``); else start ``prefect server start`` in the background on
127.0.0.1, wait until it answers, and remember it. The server outlives the command so a person can
look at the runs in the UI afterwards; ``ocr server stop`` ends it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Optional

STATE = Path(os.environ.get("OCR_STATE_DIR", Path.home() / ".cache" / "ocr")) / "prefect-server.json"


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as r:
            return r.status == 200
    except Exception:
        return False


def _free_port(preferred: int = 4200) -> int:
    for port in (preferred, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return s.getsockname()[1]
            except OSError:
                continue
    raise RuntimeError("no free port for the Prefect server")


def _use(api_url: str) -> str:
    os.environ["PREFECT_API_URL"] = api_url
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    return api_url


def ensure_api(*, start: bool = True, port: int = 4200, timeout: float = 120.0, quiet: bool = False) -> Optional[str]:
    """Return a healthy Prefect API URL, starting a local server if needed (and allowed)."""
    env_url = os.environ.get("PREFECT_API_URL")
    if env_url:
        if healthy(env_url, timeout=5):
            return _use(env_url)
        raise RuntimeError(
            f"PREFECT_API_URL={env_url} does not answer; start that server or unset the variable "
            "to let `ocr` start a local one"
        )
    if STATE.exists():
        try:
            url = json.loads(STATE.read_text())["api_url"]
            if healthy(url):
                return _use(url)
        except (ValueError, KeyError, OSError):
            pass
    if not start:
        return None
    port = _free_port(port)
    STATE.parent.mkdir(parents=True, exist_ok=True)
    log = open(STATE.parent / "prefect-server.log", "ab")
    env = dict(os.environ, PREFECT_SERVER_ANALYTICS_ENABLED="false", PREFECT_UI_ENABLED=os.environ.get("PREFECT_UI_ENABLED", "true"))
    env.pop("PREFECT_API_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Prefect server exited at start (code {proc.returncode}); see {STATE.parent / 'prefect-server.log'}")
        if healthy(url):
            STATE.write_text(json.dumps({"api_url": url, "pid": proc.pid}))
            if not quiet:
                print(f"Started a local Prefect server: UI at http://127.0.0.1:{port} (stop it with `ocr server stop`)", file=sys.stderr)
            return _use(url)
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"the Prefect server did not answer within {timeout:.0f} s; see {STATE.parent / 'prefect-server.log'}")


def stop_server() -> bool:
    """Stop the server this tool started; True if one was running."""
    if not STATE.exists():
        return False
    try:
        pid = json.loads(STATE.read_text())["pid"]
        os.killpg(pid, signal.SIGTERM)
        stopped = True
    except (ProcessLookupError, ValueError, KeyError, PermissionError):
        stopped = False
    STATE.unlink(missing_ok=True)
    return stopped


def ui_url(api_url: str) -> str:
    return api_url[: -len("/api")] if api_url.endswith("/api") else api_url

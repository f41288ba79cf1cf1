"""What the flows show in the Prefect UI: progress, summary tables, reports, and a local hook.

The hook lets the command line draw a progress bar from the same events the UI gets, without
making callbacks flow parameters.
"""
from __future__ import annotations

import contextlib
import contextvars
from typing import Callable, Iterator, Optional
from uuid import UUID

from prefect.artifacts import (  # noqa: F401  (re-exported for the flows)
    create_markdown_artifact,
    create_progress_artifact,
    create_table_artifact,
    update_progress_artifact,
)

_hook: contextvars.ContextVar[Optional[Callable[[dict], None]]] = contextvars.ContextVar("ocr_progress_hook", default=None)


@contextlib.contextmanager
def progress_hook(callback: Callable[[dict], None]) -> Iterator[None]:
    """Send progress events (dicts with ``done``, ``total``, ``items``...) to ``callback``."""
    token = _hook.set(callback)
    try:
        yield
    finally:
        _hook.reset(token)


def hook_active() -> bool:
    """True when a local progress callback (the command line's bar) is listening."""
    return _hook.get() is not None


def emit(event: dict) -> None:
    """Send one progress event to the local callback, if any."""
    cb = _hook.get()
    if cb is not None:
        cb(event)


class Progress:
    """A Prefect progress artifact plus the local hook, updated as shards finish."""

    def __init__(self, total: int, key: str, description: str, done: int = 0):
        self.total = max(total, 1)
        self.done = done
        self.artifact_id: Optional[UUID] = create_progress_artifact(
            progress=100.0 * done / self.total, key=key, description=description
        )
        self._emit({"event": "start", "done": done, "total": total})

    def _emit(self, event: dict) -> None:
        emit(event)

    def advance(self, n: int = 1, **info) -> None:
        self.done += n
        if self.artifact_id is not None:
            update_progress_artifact(self.artifact_id, progress=min(100.0, 100.0 * self.done / self.total))
        self._emit({"event": "advance", "n": n, "done": self.done, "total": self.total, **info})


def artifact_key(text: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    out = "".join(c if c.isalnum() else "-" for c in text.lower())
    while "--" in out:
        out = out.replace("--", "-")
    return out.strip("-")[:100] or "ocr"


def table(rows: list[dict], key: str, description: str) -> None:
    if rows:
        create_table_artifact(table=rows, key=artifact_key(key), description=description)


def markdown(text: str, key: str, description: str) -> None:
    create_markdown_artifact(markdown=text, key=artifact_key(key), description=description)


def link_for(url: str) -> str:
    """A clickable link for a storage URL (local paths as file:// links)."""
    import os

    if "://" in url:
        return url
    return "file://" + os.path.abspath(url)


def gather_shards(futures: dict, progress: Progress, log, *, units: Callable = lambda shard, result: shard.size) -> list[dict]:
    """Wait for shard futures as they finish, advancing ``progress``; every failure is logged,
    the other shards go on, and a RuntimeError naming the failed shards is raised at the end."""
    from prefect.futures import as_completed

    results, failed = [], []
    for fut in as_completed(list(futures)):
        shard = futures[fut]
        try:
            r = fut.result()
        except Exception as e:
            log.error("shard %s failed: %s", shard.name, e)
            failed.append(f"{shard.name}: {type(e).__name__}: {e}")
            continue
        results.append(r)
        progress.advance(units(shard, r), shard=shard.name)
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(futures)} shards failed; rerun to retry them: " + "; ".join(failed[:5]))
    return results

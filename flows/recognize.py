"""Recognize flow: image archives -> Parquet results with nested boxes, errors table, hOCR files.

Output prefix: ``part-N.parquet`` (one row per page), ``errors/part-N.parquet`` (one row per page
that failed, with stage and error type), ``hocr/<page>.html``, ``_manifest.json`` (written with the
plan, completed with counts at the end) and ``_SUCCESS`` last. In a shard the errors file and the
hOCR files are written first and the result part last, so the result part marks the shard
committed. Every input page lands exactly once in results or errors.

``run_id`` is derived from the input, the model and the parameters, not from the Prefect flow
run, so a resumed run writes the same bytes as an undisturbed one. A rerun resumes only into an
output whose manifest names the same input, model and parameters and the same pages for each
shard it already holds (:func:`flows.pages.check_resumable`); anything else is refused.
"""
from __future__ import annotations

import hashlib
import json
import os
import resource
import threading
import time
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE

from flows import artifacts
from flows.cluster import make_task_runner, runner_from_env
from flows.pages import check_resumable, committed, plan_input
from ocrcore import storage
from ocrcore.recognize import MIN_LINE_CONFIDENCE, check_min_line_confidence
from ocrcore.sharding import PageShard, plan_page_shards, shard_name

_MODELS: dict = {}
_MODELS_LOCK = threading.Lock()


def _recognizer(model: Optional[str], storage_options: Optional[dict], precision: str = "auto"):
    """The model, loaded once per worker process (not per shard)."""
    key = (model or "<default>", precision)
    with _MODELS_LOCK:
        if key not in _MODELS:
            from ocrcore.model.predict import Recognizer

            threads = int(os.environ.get("OCR_TORCH_THREADS", "1"))
            _MODELS[key] = Recognizer.load(model, storage_options=storage_options, num_threads=threads,
                                           precision=precision)
            from ocrcore.recognize import settle_gc

            settle_gc()  # a worker recognises page after page: keep the collector's pauses short
        return _MODELS[key]


def _previous_model(out: str, storage_options: Optional[dict]) -> Optional[str]:
    """The model id the output's manifest records (None without a readable manifest)."""
    try:
        return storage.read_json(storage.join(out, "_manifest.json"), storage_options).get("model")
    except (FileNotFoundError, ValueError, AttributeError):
        return None


def model_id(model: Optional[str], storage_options: Optional[dict] = None) -> str:
    """``name@hash`` of a model directory (the shipped one when None); a shipped model goes by
    its name ("default" for the default one, as when None)."""
    from ocrcore.model.checkpoint import model_urls
    from ocrcore.model.predict import SHIPPED_NAMES, resolve_model_url

    url = resolve_model_url(model)
    h = hashlib.sha256()
    for u in model_urls(url, storage_options):
        h.update(storage.read_bytes(u, storage_options))
    if model is None or model == "shipped":
        name = "default"
    else:
        name = model if model in SHIPPED_NAMES else url.rstrip("/").rsplit("/", 1)[-1]
    return f"{name}@{h.hexdigest()[:12]}"


@task(name="recognize-shard", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def recognize_shard(shard: dict, out: str, model: Optional[str], model_name: str, run_id: str,
                    single_line: bool = False, write_hocr: bool = True, storage_options: Optional[dict] = None,
                    precision: str = "auto", orient: bool = True,
                    min_line_confidence: float = MIN_LINE_CONFIDENCE) -> dict:
    """Recognise every page of one shard and write its part files."""
    from ocrcore.datasets import errors_to_parquet_bytes
    from ocrcore.inputs import iter_shard_pages
    from ocrcore.recognize import PageRecognizer
    from ocrcore.serialize.hocr import hocr_file_name, page_to_hocr
    from ocrcore.serialize.parquet import pages_to_parquet_bytes

    s = PageShard.from_dict(shard)
    t0 = time.perf_counter()
    reader = PageRecognizer(_recognizer(model, storage_options, precision), single_line=single_line, model_name=model_name,
                            orient=orient, min_line_confidence=min_line_confidence)
    pages, errors, emptied = [], [], 0
    for p in iter_shard_pages(s.items, storage_options):
        if not p.ok:
            errors.append(p.error_row("input"))
            continue
        try:
            dropped = reader.dropped_lines
            page = reader(p.image, page_id=p.page_id, source_uri=p.source_uri, page_no=p.page_no, run_id=run_id)
            dropped = reader.dropped_lines - dropped
        except Exception as e:  # one bad page never stops the shard
            errors.append({"page_id": p.page_id, "source_uri": p.source_uri, "stage": "recognize",
                           "error_type": type(e).__name__, "message": str(e)[:2000]})
            continue
        pages.append(page)
        if dropped and not page.lines:  # in the results with no text: say so, never silently
            emptied += 1
            get_run_logger().warning("%s: all %d lines were read below the confidence floor %g and left out, so its "
                                     "text is empty (a picture, or text this model cannot read); "
                                     "--min-line-confidence 0 keeps them", p.page_id, dropped, min_line_confidence)
        if reader.last_check is not None and reader.last_check.turn:
            get_run_logger().info("%s: read turned %d degrees clockwise", p.page_id, reader.last_check.turn)
        if write_hocr:
            storage.write_bytes_atomic(storage.join(out, "hocr", hocr_file_name(p.page_id)),
                                       page_to_hocr(page).encode("utf-8"), storage_options)
    storage.write_bytes_atomic(storage.join(out, "errors", s.name), errors_to_parquet_bytes(errors), storage_options)
    storage.write_bytes_atomic(storage.join(out, s.name), pages_to_parquet_bytes(pages), storage_options)
    n_lines = sum(len(pg.lines) for pg in pages)
    n_chars = sum(len(c.text) for pg in pages for ln in pg.lines for w in ln.words for c in w.chars)
    conf = [pg.confidence for pg in pages]
    by_type: dict[str, int] = {}
    for e in errors:
        by_type[e["error_type"]] = by_type.get(e["error_type"], 0) + 1
    return {"shard": s.name, "pages": len(pages), "turned": sum(v for k, v in reader.turns.items() if k), "lines": n_lines,
            "lines_dropped": reader.dropped_lines, "pages_emptied": emptied, "chars": n_chars, "errors": len(errors),
            "errors_by_type": by_type, "confidence_sum": float(sum(conf)), "seconds": round(time.perf_counter() - t0, 3),
            "worker_max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def done_page_ids(out: str, storage_options: Optional[dict] = None) -> set[str]:
    """Page ids already in the output's results or errors (for incremental runs)."""
    import pyarrow.parquet as pq

    ids: set[str] = set()
    for base in (out, storage.join(out, "errors")):
        for name in sorted(committed(base, "", storage_options)):
            if name.startswith("part-") and name.endswith(".parquet"):
                fs, path = storage.get_fs(storage.join(base, name), storage_options)
                with fs.open(path, "rb") as f:
                    ids.update(pq.read_table(f, columns=["page_id"]).column("page_id").to_pylist())
    return ids


@flow(name="recognize-archive", log_prints=True, task_runner=runner_from_env())
def recognize_archive(input: str, out: str, model: Optional[str] = None, shard_size: int = 50,
                      single_line: bool = False, incremental: bool = False, write_hocr: bool = True,
                      storage_options: Optional[dict] = None, precision: str = "auto", orient: bool = True,
                      min_line_confidence: float = MIN_LINE_CONFIDENCE) -> dict:
    """Recognise every page under ``input`` into ``out``; resumable by shard, optionally incremental.

    ``model``: a model URL, or ``shipped`` (the default, when None) or ``shipped-fast`` (its
    distilled student: half the recognition time in fp32, 0.76x in bf16 on a CPU with AMX, a
    little more error). ``precision``: the recognizer's arithmetic (``auto``: bf16 on CPUs with
    AMX or AVX512-BF16, see :func:`ocrcore.model.predict.resolve_precision`). ``orient``: read pages given upside down
    or sideways the right way up (:mod:`ocrcore.orientation`); boxes stay on the page as given.
    ``min_line_confidence``: lines of a page read below it are left out as not text (the dots of
    a halftone, a photo's grain; :data:`ocrcore.recognize.MIN_LINE_CONFIDENCE`), counted in the
    summary; 0 keeps every line.
    """
    log = get_run_logger()
    from ocrcore.model.predict import check_precision

    check_precision(precision)
    min_line_confidence = check_min_line_confidence(min_line_confidence)
    storage.preflight_writable(out, storage_options)
    mid = model_id(model, storage_options)
    params = {"shard_size": shard_size, "single_line": single_line, "write_hocr": write_hocr, "precision": precision,
              "orient": orient, "min_line_confidence": min_line_confidence}
    run_id = hashlib.sha256(json.dumps([storage.redact(input), mid, params], sort_keys=True).encode()).hexdigest()[:16]
    plan = plan_input(input, shard_size, storage_options)
    present = committed(out, "", storage_options)
    if incremental and present:
        have = done_page_ids(out, storage_options)
        new = [(src, pid) for s in plan for src, ids in s.items for pid in ids if pid not in have]
        first = 1 + max((int(n[5:10]) for n in present if n.startswith("part-") and n.endswith(".parquet")), default=-1)
        plan = [PageShard(s.index + first, shard_name(s.index + first), s.items) for s in plan_page_shards(new, shard_size)]
        log.info("incremental: %d pages already in the output, %d new", len(have), len(new))
        before = _previous_model(out, storage_options)
        if new and before and before != mid:
            log.warning("incremental: %s holds pages read by %s; the new ones (%d) are read by %s (each row's "
                        "`model` column says which)", storage.redact(out), before, len(new), mid)
    ident = {"kind": "recognize", "input": storage.redact(input), "model": mid, "params": params}
    if not incremental:  # an incremental plan names only new shards, after those present
        check_resumable(out, plan, present, ident, storage_options,
                        hint="or pass incremental (--incremental) to add only the pages it does not hold yet")
    todo = [s for s in plan if s.name not in present]
    total = sum(s.size for s in plan)
    manifest_url = storage.join(out, "_manifest.json")
    manifest = {**ident, "run_id": run_id, "shards": [s.to_dict() for s in plan], "pages": total}
    if todo:
        storage.remove(storage.join(out, "_SUCCESS"), storage_options)
        storage.write_json_atomic(manifest_url, manifest, storage_options)
    elif storage.exists(storage.join(out, "_SUCCESS"), storage_options):
        log.info("output at %s is complete; nothing to do", storage.redact(out))
        return {"pages": total, "shards": len(plan), "written": 0, "skipped": len(plan), "out": out, "run_id": run_id}
    log.info("%d pages in %d shards (%d to do), model %s", total, len(plan), len(todo), mid)
    t0 = time.perf_counter()
    progress = artifacts.Progress(total, key="recognize-progress", description="pages recognised",
                                  done=sum(s.size for s in plan if s.name in present))
    futs = {recognize_shard.submit(s.to_dict(), out, model, mid, run_id, single_line, write_hocr, storage_options,
                                   precision, orient, min_line_confidence): s
            for s in todo}
    results = artifacts.gather_shards(futs, progress, log)
    for r in results:
        if r["errors"]:
            log.warning("shard %s: %d pages failed: %s", r["shard"], r["errors"], r["errors_by_type"])
    wall = time.perf_counter() - t0
    pages = sum(r["pages"] for r in results)
    errors: dict[str, int] = {}
    for r in results:
        for k, v in r["errors_by_type"].items():
            errors[k] = errors.get(k, 0) + v
    summary = {"pages": total, "shards": len(plan), "written": len(results), "skipped": len(plan) - len(todo),
               "recognised": pages, "turned": sum(r.get("turned", 0) for r in results),
               "lines": sum(r["lines"] for r in results), "lines_dropped": sum(r.get("lines_dropped", 0) for r in results),
               "pages_emptied": sum(r.get("pages_emptied", 0) for r in results),
               "chars": sum(r["chars"] for r in results),
               "errors": sum(errors.values()), "errors_by_type": errors,
               "mean_confidence": (sum(r["confidence_sum"] for r in results) / pages) if pages else None,
               "seconds": round(wall, 2), "pages_per_s": round(pages / wall, 3) if wall else None,
               "worker_max_rss_mb": max((r["worker_max_rss_mb"] for r in results), default=None),
               "out": out, "run_id": run_id, "model": mid}
    storage.write_json_atomic(manifest_url, manifest, storage_options)
    storage.write_bytes_atomic(storage.join(out, "_SUCCESS"), b"", storage_options)
    artifacts.table(sorted(({k: v for k, v in r.items() if k != "errors_by_type"} for r in results), key=lambda r: r["shard"]),
                    key="recognize-shards", description="shards recognised in this run")
    err_rows = "".join(f"| {k} | {v} |\n" for k, v in sorted(errors.items())) or "| (none) | 0 |\n"
    mc = summary["mean_confidence"]
    artifacts.markdown(
        f"# Recognition\n\n| | |\n|---|---|\n| pages (this run) | {pages} of {total} |\n| lines | {summary['lines']} |\n"
        f"| lines left out (confidence below {min_line_confidence:g}) | {summary['lines_dropped']} |\n"
        f"| pages left with no text by that | {summary['pages_emptied']} |\n"
        f"| characters | {summary['chars']} |\n| pages read turned upright | {summary['turned']} |\n| mean confidence | {'-' if mc is None else f'{mc:.3f}'} |\n"
        f"| pages/s | {summary['pages_per_s']} |\n| model | `{mid}` |\n"
        f"| output | [{storage.redact(out)}]({artifacts.link_for(out)}) |\n\n## Errors by type\n\n| type | pages |\n|---|---|\n{err_rows}",
        key="recognize-summary", description="recognition summary")
    return summary


def run_recognize(input: str, out: str, *, model: Optional[str] = None, shard_size: int = 50, single_line: bool = False,
                  incremental: bool = False, write_hocr: bool = True, workers: Optional[int] = None,
                  scheduler: Optional[str] = None, storage_options: Optional[dict] = None,
                  precision: str = "auto", orient: bool = True,
                  min_line_confidence: float = MIN_LINE_CONFIDENCE) -> dict:
    runner = make_task_runner(workers=workers, scheduler=scheduler)
    return recognize_archive.with_options(task_runner=runner)(
        input=input, out=out, model=model, shard_size=shard_size, single_line=single_line, incremental=incremental,
        write_hocr=write_hocr, storage_options=storage_options, precision=precision, orient=orient,
        min_line_confidence=min_line_confidence)

"""Preprocess flow: page archives -> binarized pages (optional) + a line dataset, in shards on Dask.

Output under ``out``: ``lines/part-N.parquet`` (the dataset format plus page id, line number, box
in original page coordinates and column), ``pages/part-N.parquet`` (one row per page: size, skew,
line count, and the parts read as pages: the page, or two facing pages, and any reversed-out bars),
``errors/part-N.parquet`` (one row per page that failed), optional
``binarized/<page>.png``, and ``_SUCCESS`` last. ``pages/`` is written last in a shard, so its
presence marks the shard committed. ``_manifest.json`` (the run's input and parameters, and the
pages of each shard) is written before the first shard, so a rerun resumes only the same run.
"""
from __future__ import annotations

import hashlib
import time
from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE

from flows import artifacts
from flows.cluster import make_task_runner, runner_from_env
from flows.pages import check_resumable, committed, plan_input
from ocrcore import storage
from ocrcore.datasets import errors_to_parquet_bytes, rows_to_parquet_bytes, table_to_parquet_bytes
from ocrcore.sharding import PageShard


def _safe_name(page_id: str) -> str:
    tail = "".join(c if c.isalnum() or c in "-_." else "_" for c in page_id.rsplit("/", 1)[-1])[-60:]
    return f"{tail}-{hashlib.sha1(page_id.encode()).hexdigest()[:10]}"


@task(name="preprocess-shard", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE)
def preprocess_shard(shard: dict, out: str, single_line: bool = False, save_binarized: bool = False,
                     storage_options: Optional[dict] = None) -> dict:
    """Binarize and segment every page of one shard; write its three part files."""
    import pyarrow as pa

    from ocrcore.imageio import square_pixels, unsquare
    from ocrcore.inputs import iter_shard_pages
    from ocrcore.preprocess.rows import PAGES_SCHEMA, binarized_png, line_rows, page_row
    from ocrcore.preprocess.scan import analyse_scan

    s = PageShard.from_dict(shard)
    t0 = time.perf_counter()
    lines, pages, errors = [], [], []
    for p in iter_shard_pages(s.items, storage_options):
        if not p.ok:
            errors.append(p.error_row("input"))
            continue
        try:
            image, sx, sy = square_pixels(p.image)  # a fax's tall pixels made square
            to_given = unsquare(sx, sy, *p.image.size) if image is not p.image else None
            scan = analyse_scan(image, single=single_line)
            lines.extend(line_rows(p.page_id, scan, to_given))
            pages.append(page_row(p.page_id, p.source_uri, p.page_no, p.image, scan, to_given))
            if save_binarized:
                storage.write_bytes_atomic(storage.join(out, "binarized", _safe_name(p.page_id) + ".png"),
                                           binarized_png(scan), storage_options)
        except Exception as e:  # one bad page never stops the shard
            errors.append({"page_id": p.page_id, "source_uri": p.source_uri, "stage": "preprocess",
                           "error_type": type(e).__name__, "message": str(e)[:2000]})
    storage.write_bytes_atomic(storage.join(out, "errors", s.name), errors_to_parquet_bytes(errors), storage_options)
    storage.write_bytes_atomic(storage.join(out, "lines", s.name), rows_to_parquet_bytes(lines) if lines else
                               table_to_parquet_bytes(pa.Table.from_pylist([], schema=_line_schema())), storage_options)
    storage.write_bytes_atomic(storage.join(out, "pages", s.name),
                               table_to_parquet_bytes(pa.Table.from_pylist(pages, schema=PAGES_SCHEMA)), storage_options)
    return {"shard": s.name, "pages": len(pages), "lines": len(lines), "errors": len(errors),
            "seconds": round(time.perf_counter() - t0, 3)}


def _line_schema():
    from ocrcore.datasets import dataset_schema

    return dataset_schema(with_layout=True)


@flow(name="preprocess-pages", log_prints=True, task_runner=runner_from_env())
def preprocess_archive(input: str, out: str, shard_size: int = 50, single_line: bool = False,
                       save_binarized: bool = False, storage_options: Optional[dict] = None) -> dict:
    """Binarize, deskew and segment every page under ``input``; resumable by shard."""
    log = get_run_logger()
    plan = plan_input(input, shard_size, storage_options)
    storage.preflight_writable(out, storage_options)
    done = committed(out, "pages", storage_options)
    # output_format 2: page rows list the scan's parts, and spreads and bars are read; 3: a page
    # whose back shows through is binarized without it, its crops cleaned, its parts say so (an
    # output of the code before is not resumed with shards of another layout and schema)
    ident = {"kind": "preprocess", "input": storage.redact(input), "shard_size": shard_size,
             "single_line": single_line, "save_binarized": save_binarized, "output_format": 3}
    check_resumable(out, plan, done, ident, storage_options)
    todo = [s for s in plan if s.name not in done]
    total = sum(s.size for s in plan)
    manifest = {**ident, "shards": [s.to_dict() for s in plan], "pages": total}
    log.info("%d pages in %d shards, %d shards already committed", total, len(plan), len(plan) - len(todo))
    if not todo and storage.exists(storage.join(out, "_SUCCESS"), storage_options):
        return {"pages": total, "shards": len(plan), "written": 0, "skipped": len(plan), "out": out}
    # before any shard, so every committed shard has a manifest saying what it holds
    storage.remove(storage.join(out, "_SUCCESS"), storage_options)
    storage.write_json_atomic(storage.join(out, "_manifest.json"), manifest, storage_options)
    t0 = time.perf_counter()
    progress = artifacts.Progress(total, key="preprocess-progress", description="pages preprocessed",
                                  done=sum(s.size for s in plan if s.name in done))
    futs = {preprocess_shard.submit(s.to_dict(), out, single_line, save_binarized, storage_options): s for s in todo}
    results = artifacts.gather_shards(futs, progress, log)
    wall = time.perf_counter() - t0
    summary = {"pages": total, "shards": len(plan), "written": len(results), "skipped": len(plan) - len(todo),
               "lines": sum(r["lines"] for r in results), "errors": sum(r["errors"] for r in results),
               "seconds": round(wall, 2), "out": out}
    storage.write_bytes_atomic(storage.join(out, "_SUCCESS"), b"", storage_options)
    artifacts.table(sorted(results, key=lambda r: r["shard"]), key="preprocess-shards", description="shards written")
    artifacts.markdown(
        f"# Preprocessing\n\n| | |\n|---|---|\n| pages | {total} |\n| lines found (this run) | {summary['lines']} |\n"
        f"| pages with errors (this run) | {summary['errors']} |\n| wall time | {wall:.1f} s |\n"
        f"| pages/s | {sum(r['pages'] for r in results) / wall if wall else 0:.2f} |\n"
        f"| output | [{storage.redact(out)}]({artifacts.link_for(out)}) |\n",
        key="preprocess-summary", description="preprocessing summary")
    return summary


def run_preprocess(input: str, out: str, *, shard_size: int = 50, single_line: bool = False, save_binarized: bool = False,
                   workers: Optional[int] = None, scheduler: Optional[str] = None,
                   storage_options: Optional[dict] = None) -> dict:
    runner = make_task_runner(workers=workers, scheduler=scheduler)
    return preprocess_archive.with_options(task_runner=runner)(
        input=input, out=out, shard_size=shard_size, single_line=single_line, save_binarized=save_binarized,
        storage_options=storage_options)

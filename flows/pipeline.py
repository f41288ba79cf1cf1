"""End-to-end pipeline: synthetic data -> training -> recognition of an archive -> scored report.

Each stage is its own flow run as a subflow (the same flows users deploy), so the Prefect UI shows
the whole chain with each stage's artifacts. Recognition uses the shipped model unless asked to use
the model trained here (a short fine-tune on embedded defaults is a demonstration, not a model).
"""
from __future__ import annotations

from typing import Optional

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE as NO_CACHE

from flows import artifacts
from flows.cluster import make_task_runner
from flows.recognize import recognize_archive
from flows.synth import generate_dataset
from flows.train import train_model
from ocrcore import storage


@task(name="export-page-archive", cache_policy=NO_CACHE)
def export_archive(dataset: str, tar_url: str, storage_options: Optional[dict] = None) -> int:
    from ocrcore.synth.export import dataset_to_tar

    return dataset_to_tar(dataset, tar_url, storage_options)


@task(name="score-pages", cache_policy=NO_CACHE)
def score_results(truth: str, results: str, storage_options: Optional[dict] = None) -> dict:
    """Page CER/WER and box IoU of the recognised archive against the synthetic truth."""
    from ocrcore.datasets import iter_records
    from ocrcore.pagescore import score_pages, truth_page
    from ocrcore.serialize.parquet import iter_pages

    found = {p.page_id.rsplit("!/", 1)[-1].rsplit("#", 1)[0][: -len(".png")]: p for p in iter_pages(results)}
    pairs = [(truth_page(r), found[r["id"]]) for r in iter_records(truth, columns=["id", "width", "height", "lines"],
                                                                     storage_options=storage_options) if r["id"] in found]
    return score_pages(pairs).summary()


@flow(name="ocr-pipeline", log_prints=True)
def pipeline(out: str = "data/pipeline", train_lines: int = 2000, train_steps: int = 150, pages: int = 8,
             page_dpi: int = 200, seed: int = 0, workers: Optional[int] = None, use_trained: bool = False,
             storage_options: Optional[dict] = None) -> dict:
    log = get_run_logger()
    from ocrcore.model.predict import DEFAULT_MODEL_DIR

    shipped = (DEFAULT_MODEL_DIR / "model.json").is_file()
    j = lambda *p: storage.join(out, *p)  # noqa: E731
    generate_dataset.with_options(task_runner=make_task_runner(workers=workers))(
        kind="lines", count=train_lines, out=j("train-lines"), seed=seed, shard_size=max(100, train_lines // 8),
        storage_options=storage_options)
    config = {"max_steps": train_steps, "batch_size": 32, "val_every": max(1, train_steps // 3), "seed": seed}
    if not shipped:
        config["arch"] = "crnn_small"
    import os

    config["num_threads"] = os.cpu_count() or 1
    trained = train_model.with_options(task_runner=make_task_runner(workers=1))(
        data=j("train-lines"), out=j("model"), config=config, init=str(DEFAULT_MODEL_DIR) if shipped else None,
        storage_options=storage_options)
    generate_dataset.with_options(task_runner=make_task_runner(workers=workers))(
        kind="pages", count=pages, out=j("truth-pages"), seed=seed + 1, shard_size=max(1, pages // 4),
        params={"dpi": page_dpi}, storage_options=storage_options)
    n = export_archive(j("truth-pages"), j("archive", "pages.tar"), storage_options)
    model = j("model") if (use_trained or not shipped) else None
    rec = recognize_archive.with_options(task_runner=make_task_runner(workers=workers))(
        input=j("archive"), out=j("results"), model=model, shard_size=max(1, n // 4), storage_options=storage_options)
    score = score_results(j("truth-pages"), j("results"), storage_options)
    fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
    artifacts.markdown(
        f"# OCR pipeline\n\n| stage | result |\n|---|---|\n| synthetic lines | {train_lines} at `{j('train-lines')}` |\n"
        f"| training | {trained['step']} steps, best CER {100 * trained['best_metrics'].get('cer', float('nan')):.2f}% on validation, `{j('model')}` |\n"
        f"| recognition model | {'trained here' if model else 'shipped default'} |\n"
        f"| archive | {n} synthetic pages at {page_dpi} dpi |\n| recognition | {rec.get('recognised', 0)} pages, {rec.get('pages_per_s')} pages/s |\n"
        f"| page CER | {100 * score['cer']:.2f}% |\n| page WER | {100 * score['wer']:.2f}% |\n"
        f"| char box IoU | {fmt(score['char_iou'])} |\n| word box IoU | {fmt(score['word_iou'])} |\n",
        key="pipeline-report", description="end-to-end pipeline report")
    log.info("pipeline done: %s", score)
    return {"train": trained, "recognize": rec, "score": score}

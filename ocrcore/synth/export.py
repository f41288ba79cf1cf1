"""Export a synthetic page dataset as an image archive, the way users hand scans to the system.

The end-to-end pipeline and the recognition benchmarks recognise this archive and compare the
results with the dataset's ground truth, matched by member name (``<id>.png``).
"""
from __future__ import annotations

import io
import tarfile
from typing import Optional

from ocrcore import storage
from ocrcore.datasets import iter_records


def dataset_to_tar(dataset_url: str, tar_url: str, storage_options: Optional[dict] = None) -> int:
    """Write every image of a dataset into one tar (built in memory, one PUT); returns the count."""
    buf = io.BytesIO()
    n = 0
    with tarfile.open(fileobj=buf, mode="w") as tf:
        for row in iter_records(dataset_url, columns=["id", "image"], storage_options=storage_options):
            data = row["image"]["bytes"]
            info = tarfile.TarInfo(f"{row['id']}.png")
            info.size = len(data)
            info.mtime = 0  # deterministic archive bytes
            tf.addfile(info, io.BytesIO(data))
            n += 1
    storage.write_bytes_atomic(tar_url, buf.getvalue(), storage_options)
    return n

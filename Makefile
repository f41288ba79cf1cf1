# Set-up, tests, the main job and benchmarks. Everything the project needs is installed here.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
OCR := $(VENV)/bin/ocr
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: setup test test-fast demo bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml scripts/system-deps.sh
	scripts/system-deps.sh
	$(PYTHON) -m venv $(VENV)
	# The CPU wheel of torch first: an unpinned torch would pull several GB of CUDA packages.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e ".[test]"
	touch $@

test: setup
	$(PY) -m pytest

# The main job on embedded defaults: local disk, a local Dask cluster, a local Prefect server.
# The end-to-end pipeline: synthetic lines -> a short fine-tune of the shipped model -> bulk
# recognition of synthetic pages (Parquet + hOCR) -> a score against their ground truth.
demo: setup
	$(OCR) pipeline --out data/demo

bench: setup
	scripts/system-deps.sh --bench
	$(PY) bench/bench_synth.py

clean:
	rm -rf $(VENV) data/demo

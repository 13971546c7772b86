# Champions Workbook — the two commands of the README are `make report` and `make test`.
# Both bootstrap .venv from requirements.lock on first use (Python 3.11 needed).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := data/demo/TRUTH.json
# Deterministic kernels: see docs in analysis.report.runner.KERNEL_ENV
export TZ := UTC
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export MPLBACKEND := module://matplotlib_inline.backend_inline

.PHONY: report test lint unit nbval lab demo install refresh-notebooks benchmarks clean-reports format

# With WORKBOOK_MIRROR set (a folder or URL mirroring the official sources) the official
# data is fetched first (idempotent); `workbook report` then uses it (dataset: auto).
report: $(STAMP) $(DEMO)
	@if [ -n "$${WORKBOOK_MIRROR:-}" ]; then $(BIN)/workbook data fetch; fi
	$(BIN)/workbook report
	@echo "Open: $(CURDIR)/reports/index.html"

test: $(STAMP) $(DEMO) lint unit nbval

install: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 11), "Python 3.11 is required (found %s); set PYTHON=/path/to/python3.11" % sys.version.split()[0]'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name workbook --display-name "Champions Workbook" >/dev/null
	@touch $(STAMP)

# The demo is regenerated when its generator changes (same seed → same bytes).
DEMO_SOURCES := $(wildcard src/analysis/demo/*.py)
$(DEMO): $(DEMO_SOURCES) | $(STAMP)
	$(BIN)/workbook demo --seed 1

demo: $(STAMP)
	$(BIN)/workbook demo --seed 1

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks validation notebooks
	$(BIN)/ruff format --check src tests benchmarks validation

unit: $(STAMP) $(DEMO)
	$(BIN)/python -m pytest -q -n 2 tests

# Re-executes every report notebook on the demo data and compares the stored outputs of
# its key-figure cells (tag nbval-check-output); see tests/sanitize.cfg for what is masked.
nbval: $(STAMP) $(DEMO)
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	  --nbval-sanitize-with tests/sanitize.cfg -n 2 --dist loadscope notebooks/[0-9]*.ipynb

# After an intended change of results: re-run the notebooks on the demo data and store
# the new key-figure outputs (all other outputs are stripped).
refresh-notebooks: $(STAMP) $(DEMO)
	$(BIN)/python -m analysis.report.golden refresh notebooks/[0-9]*.ipynb

lab: $(STAMP) $(DEMO)
	@echo "Start with notebooks/explore/00_start_here.ipynb (kernel: Champions Workbook)"
	$(BIN)/jupyter lab --notebook-dir=notebooks

# Quick versions (minutes); the full-size runs are in the README (report_scale --n 400
# takes about an hour on two cores, crm_ingest writes 1.4 GB of CSV).
benchmarks: $(STAMP) $(DEMO)
	$(BIN)/python benchmarks/read_official.py
	$(BIN)/python benchmarks/report_build.py
	$(BIN)/python benchmarks/report_scale.py --n 40

format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks validation
	$(BIN)/ruff check --fix src tests benchmarks validation

clean-reports:
	rm -rf reports/*/ reports/index.html reports/index.json reports/.staging reports/.lock

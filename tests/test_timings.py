"""Whole-study timing: cache hit/miss counts (edgeiqa.cachestats) and the timing table
(edgeiqa.timings) that `make reproduce` fills from each executed notebook."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import nbformat
import numpy as np
import pytest
from PIL import Image

from edgeiqa import cachestats, edges, timings
from edgeiqa.baselines.cache import cached_features
from edgeiqa.data import synthetic


@pytest.fixture()
def counts(tmp_path, monkeypatch):
    """Fresh counts, a cache in tmp_path, and no exit log (the counts stay in this process)."""
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv(cachestats.ENV_VAR, raising=False)
    cachestats.reset()
    yield
    cachestats.reset()


def _png(path, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(path)
    return path


def test_edge_map_counts_a_miss_then_a_hit(tmp_path, counts):
    image = _png(tmp_path / "a.png")
    edges.edge_map(image)
    assert cachestats.snapshot() == {"edges": {"hits": 0, "misses": 1}}
    edges.edge_map(image)
    edges.edge_map(image)
    assert cachestats.snapshot() == {"edges": {"hits": 2, "misses": 1}}
    edges.edge_map(image, cache=False)  # no cache lookup, nothing counted
    assert cachestats.snapshot()["edges"] == {"hits": 2, "misses": 1}


def test_baseline_features_and_synthetic_build_are_counted(tmp_path, counts):
    image = _png(tmp_path / "a.png")
    for _ in range(2):
        cached_features("toy", image, "v1", lambda: np.zeros(3))
    kw = {"n_contents": 2, "n_levels": 1, "max_side": 32, "progress": False}
    synthetic.load(**kw)
    synthetic.load(**kw)
    assert cachestats.snapshot() == {
        "baselines/toy": {"hits": 1, "misses": 1},
        "synthetic": {"hits": 1, "misses": 1},
    }


def test_log_is_written_at_exit_and_added_to(tmp_path):
    log = tmp_path / "logs" / "nb.json"
    code = (
        "from edgeiqa import cachestats\n"
        "cachestats.record('edges', True)\n"
        "cachestats.record('edges', False)\n"
        "cachestats.record('synthetic', True)\n"
    )
    env = {**os.environ, cachestats.ENV_VAR: str(log)}
    for _ in range(2):  # a second process sharing the log adds its counts
        subprocess.run([sys.executable, "-c", code], env=env, check=True, cwd=tmp_path)
    assert json.loads(log.read_text()) == {
        "edges": {"hits": 2, "misses": 2},
        "synthetic": {"hits": 2, "misses": 0},
    }
    assert sorted(p.name for p in log.parent.iterdir()) == ["nb.json"]  # no temp file left


def _executed_notebook(folder, name, duration=12.34, start="2026-11-26T18:29:00.819432+00:00"):
    """A notebook as papermill leaves it (metadata modelled on results/05_regression.ipynb)."""
    nb = nbformat.v4.new_notebook()
    params = nbformat.v4.new_code_cell('datasets = "auto"\nprofile = "full"')
    params.metadata["tags"] = ["parameters"]
    injected = nbformat.v4.new_code_cell(f'profile = "quick"\nresults_dir = "{folder}"')
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# title"),
        params,
        injected,
        nbformat.v4.new_code_cell("x = 1"),
    ]
    nb.metadata["papermill"] = {
        "default_parameters": {},
        "duration": duration,
        "end_time": "2026-11-26T18:33:17.858996+00:00",
        "environment_variables": {},
        "exception": None,
        "input_path": f"notebooks/{name}.ipynb",
        "output_path": str(folder / f"{name}.ipynb"),
        "parameters": {"profile": "quick", "results_dir": str(folder)},
        "start_time": start,
        "version": "2.7.0",
    }
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path


def _read(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_record_writes_the_documented_columns_without_paths(tmp_path):
    nb = _executed_notebook(tmp_path, "05_regression")
    log = tmp_path / "05_regression.json"
    log.write_text(json.dumps({"edges": {"hits": 7, "misses": 2}, "baselines/brisque": {}}))
    out = tmp_path / "benchmarks" / "study_timings.csv"
    assert (
        timings.main(
            ["record", "--notebook", str(nb), "--cache-log", str(log), "--profile", "quick"]
            + ["--out", str(out)]
        )
        == 0
    )
    (row,) = _read(out)
    assert list(row) == [
        *timings.FIXED_COLUMNS,
        "baselines/brisque_hits",
        "baselines/brisque_misses",
        "edges_hits",
        "edges_misses",
    ]
    assert row == {
        "notebook": "05_regression",
        "profile": "quick",
        "datasets": "auto",  # default of the parameters cell: papermill did not pass one
        "started": "2026-11-26T18:29:00+00:00",
        "wall_s": "12.3",
        "cells": "3",
        "cpu_count": str(os.cpu_count()),
        "baselines/brisque_hits": "0",
        "baselines/brisque_misses": "0",
        "edges_hits": "7",
        "edges_misses": "2",
    }
    text = out.read_text()
    assert str(tmp_path) not in text and "/tmp" not in text
    assert not any(v.startswith("/") for v in row.values())


def test_record_upserts_by_notebook_and_profile(tmp_path, capsys):
    out = tmp_path / "study_timings.csv"
    log = tmp_path / "b.json"
    log.write_text(json.dumps({"edges": {"hits": 1, "misses": 1}}))
    b = _executed_notebook(tmp_path, "02_b", duration=5.0)
    a = _executed_notebook(tmp_path, "01_a", duration=3.0)
    timings.record(b, log, "full", out)
    timings.record(a, tmp_path / "missing.json", "full", out)  # no log: zeros
    timings.record(a, None, "quick", out)
    b = _executed_notebook(tmp_path, "02_b", duration=99.96, start="2026-11-27T08:00:00+01:00")
    timings.record(b, None, "full", out)
    rows = _read(out)
    assert [(r["notebook"], r["profile"], r["wall_s"]) for r in rows] == [
        ("01_a", "full", "3.0"),
        ("01_a", "quick", "3.0"),
        ("02_b", "full", "100.0"),
    ]
    assert rows[2]["started"] == "2026-11-27T07:00:00+00:00"  # to UTC
    assert [r["edges_hits"] for r in rows] == ["0", "0", "0"]  # b's row was replaced
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".csv" or "tmp" in p.name) == [
        "study_timings.csv"
    ]
    timings.main(["summary", str(out)])
    printed = capsys.readouterr().out
    assert "01_a" in printed and "0/0" in printed
    assert "total wall time (full): 103.0 s" in printed
    assert "total wall time (quick): 3.0 s" in printed


def test_datasets_passed_by_papermill_win_and_lists_are_joined(tmp_path):
    nb_path = _executed_notebook(tmp_path, "03_c")
    nb = json.loads(nb_path.read_text())
    nb["metadata"]["papermill"]["parameters"]["datasets"] = ["synthetic", "live_subset"]
    nb_path.write_text(json.dumps(nb))
    assert timings.notebook_row(nb_path, None, "full")["datasets"] == "synthetic+live_subset"


def test_a_notebook_not_run_by_papermill_is_refused(tmp_path):
    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(), path)
    with pytest.raises(ValueError, match="papermill"):
        timings.notebook_row(path, None, "full")

"""Shared fixtures: the data beside the project, temporary results, notebook execution."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()

# Like the Makefile: the data beside the checkout is the data root unless one is set.
if SHARED_DATA.is_dir():
    os.environ.setdefault("EDGEIQA_DATA", str(SHARED_DATA))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``; tests that need it are skipped, with the reason, where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent: real label files and LIVE subset not available")
    return SHARED_DATA


@pytest.fixture(scope="session")
def calibration() -> Path:
    """``../shared/calibration`` (TID2013 pairs with official metric values); tests that need it
    are skipped, with the reason, where it is absent."""
    from edgeiqa.baselines.calibration import calibration_root

    path = calibration_root()
    if not (path / "tid2013" / "official_values.csv").is_file():
        pytest.skip(f"{path} is absent: no calibration values of the reference implementations")
    return path


@pytest.fixture(autouse=True)
def _isolated_results(tmp_path_factory, monkeypatch):
    """No test writes into the committed results/: point EDGEIQA_RESULTS at a temp folder."""
    monkeypatch.setenv("EDGEIQA_RESULTS", str(tmp_path_factory.mktemp("results")))


@pytest.fixture(scope="session")
def session_cache(tmp_path_factory) -> Path:
    """One cache per test session, so synthetic builds and edge maps are reused across tests."""
    path = tmp_path_factory.mktemp("cache")
    os.environ["EDGEIQA_CACHE"] = str(path)
    return path


def execute_notebook(name: str, results: Path, **parameters) -> Path:
    """Run ``notebooks/<name>.ipynb`` with papermill on the quick profile into ``results``.

    Returns the executed notebook's path. The notebook's own parameters cell sets the defaults;
    ``profile='quick'`` and ``results_dir`` are always passed.
    """
    import papermill as pm

    results.mkdir(parents=True, exist_ok=True)
    out = results / f"{name}.ipynb"
    pm.execute_notebook(
        str(REPO / "notebooks" / f"{name}.ipynb"),
        str(out),
        parameters={"profile": "quick", "results_dir": str(results), **parameters},
        cwd=str(REPO / "notebooks"),
        kernel_name="python3",
        progress_bar=False,
    )
    return out

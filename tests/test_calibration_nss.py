"""BRISQUE and NIQE against their authors' release code on the TID2013 calibration pairs
(``../shared/calibration``, :mod:`edgeiqa.baselines.calibration`), with the table's tolerances."""

from __future__ import annotations

import pytest

from edgeiqa.baselines import brisque_published, niqe
from edgeiqa.baselines import calibration as calibration_lib


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))  # features computed afresh


def _report(table) -> str:
    return table[["metric", "image", "official", "ours", "difference", "allowed"]].to_string()


def test_brisque_agrees_with_the_authors_release(calibration):
    table = calibration_lib.calibrate(
        {"brisque": lambda distorted, _ref: brisque_published.published_score(distorted)},
        calibration,
    )
    print(_report(table))
    assert len(table) == 2 and table["agrees"].all(), _report(table)


def test_niqe_with_the_authors_pristine_model_agrees_with_their_release(calibration):
    table = calibration_lib.calibrate(
        {"niqe": lambda distorted, _ref: niqe.authors_niqe(distorted)}, calibration
    )
    print(_report(table))
    assert len(table) == 2 and table["agrees"].all(), _report(table)


def test_a_pool_fitted_niqe_is_not_the_authors(calibration):
    # fitted on the two calibration references alone: a different pristine model, a different
    # scale (why the pool-fitted row carries its own name)
    table = calibration_lib.official_values(calibration)
    refs = sorted(set(table["reference_path"]))
    model = niqe.fit_niqe(refs, patch_size=niqe.DEFAULT_PATCH_SIZE)
    table = calibration_lib.calibrate(
        {"niqe": lambda distorted, _ref: niqe.niqe_scores(model, [distorted])[0]}, calibration
    )
    assert not table["agrees"].all(), _report(table)

"""Notebook 05 (regression) on the quick profile: executed once, then its outputs are checked."""

import json

import numpy as np
import pandas as pd
import pytest
from conftest import SHARED_DATA, execute_notebook

from edgeiqa import metrics
from edgeiqa.experiments.regression import PREDICTION_COLUMNS

pytestmark = pytest.mark.notebook

# the LIVE subset runs where the shared data is present; the synthetic set always does
DATASETS = ["synthetic", "live_subset"] if SHARED_DATA.is_dir() else ["synthetic"]


@pytest.fixture(scope="module")
def nb05(tmp_path_factory, session_cache):
    results = tmp_path_factory.mktemp("nb05")
    execute_notebook(
        "05_regression",
        results,
        datasets=DATASETS,
        data_root=str(SHARED_DATA) if SHARED_DATA.is_dir() else "",
        include_official=False,
    )
    return results


def test_summary_has_every_column_with_values_in_range(nb05):
    summary = pd.read_csv(nb05 / "tables" / "regression_summary.csv")
    assert set(summary["dataset"]) == set(DATASETS)
    for col in ("dataset", "protocol", "method", "architecture", "distortion", "srocc_ci_low"):
        assert col in summary
    assert "srocc_ci_high" in summary and "n_splits" in summary
    for metric in metrics.METRICS:
        for stat in ("median", "q25", "q75"):
            assert f"{metric}_{stat}" in summary, f"{metric}_{stat}"
    # one row per (dataset, protocol, method, distortion), with ALL for every run
    keys = ["dataset", "protocol", "method", "distortion"]
    assert not summary.duplicated(keys).any()
    runs = summary.groupby(["dataset", "protocol", "method"])["distortion"]
    assert runs.apply(lambda d: "ALL" in set(d)).all()
    for metric in ("srocc", "krocc", "plcc", "plcc_logistic"):
        values = summary[[f"{metric}_median", f"{metric}_q25", f"{metric}_q75"]].stack().dropna()
        assert values.between(-1 - 1e-9, 1 + 1e-9).all(), metric
    for metric in ("rmse", "rmse_logistic"):
        assert summary[f"{metric}_median"].dropna().between(0, 100).all()
    ci = summary.dropna(subset=["srocc_ci_low", "srocc_ci_high"])
    assert (ci["srocc_ci_low"] <= ci["srocc_ci_high"] + 1e-12).all()
    assert ci["srocc_ci_low"].between(-1, 1).all() and ci["srocc_ci_high"].between(-1, 1).all()
    quartiles = summary.dropna(subset=["srocc_median"])
    assert (quartiles["srocc_q25"] <= quartiles["srocc_median"] + 1e-12).all()
    assert (quartiles["srocc_median"] <= quartiles["srocc_q75"] + 1e-12).all()
    synth = summary[summary["dataset"] == "synthetic"]
    assert set(synth["protocol"]) == {"content", "image"}
    # quick profile: 2 repeats (a type may be missing from a small image-level test split)
    assert (synth.loc[synth["distortion"] == "ALL", "n_splits"] == 2).all()
    assert synth["n_splits"].between(1, 2).all()


def test_predictions_follow_the_api_and_splits_are_content_disjoint(nb05):
    for dataset in DATASETS:
        preds = pd.read_csv(nb05 / "tables" / f"regression_predictions_{dataset}.csv")
        assert list(preds.columns) == PREDICTION_COLUMNS
        assert preds["predicted"].between(0, 100).all() and preds["quality"].between(0, 100).all()
        assert not preds.duplicated(["protocol", "repeat", "method", "image"]).any()
        for protocol in ("content", "loco"):
            part = preds[preds["protocol"] == protocol]
            if part.empty:
                continue
            # every test split's contents are absent from its training images: the test images
            # of a split are all the images of the split's test contents
            records = preds.drop_duplicates("image")
            for (_, _), split in part.groupby(["method", "repeat"]):
                contents = set(split["content"])
                assert set(split["image"]) == set(records[records["content"].isin(contents)].image)
    splits = pd.read_csv(nb05 / "splits" / "synthetic_content.csv")
    synth = pd.read_csv(nb05 / "tables" / "regression_predictions_synthetic.csv")
    for repeat, part in splits.groupby("repeat"):
        train = set(part.loc[part["subset"] == "train", "content"])
        test = set(part.loc[part["subset"] == "test", "image"])
        assert train and not train & set(part.loc[part["subset"] == "test", "content"])
        used = synth[(synth["protocol"] == "content") & (synth["repeat"] == repeat)]
        assert set(used["image"]) == test  # the notebook tested exactly the written split


def test_live_subset_transfer_and_paper_split(nb05):
    if "live_subset" not in DATASETS:
        pytest.skip("shared data absent: the LIVE subset was not run")
    summary = pd.read_csv(nb05 / "tables" / "regression_summary.csv")
    live = summary[summary["dataset"] == "live_subset"]
    assert set(live["protocol"]) == {"loco", "image"}
    loco_methods = set(live.loc[live["protocol"] == "loco", "method"])
    assert len(loco_methods) == 3 and any("fine-tune" in m for m in loco_methods)
    n_contents = pd.read_csv(SHARED_DATA / "live_subset" / "labels.csv")["ref"].nunique()
    loco = live[live["protocol"] == "loco"]
    # one fold per content; a type absent from a content is tested in fewer folds
    assert (loco.loc[loco["distortion"] == "ALL", "n_splits"] == n_contents).all()
    assert loco["n_splits"].between(1, n_contents).all()
    effect = pd.read_csv(nb05 / "tables" / "regression_content_sharing.csv")
    assert {"difference", "difference_pooled"} <= set(effect.columns)
    assert set(effect["disjoint_protocol"]) <= {"content", "loco"}


def test_checkpoints_and_figures(nb05):
    jsons = sorted((nb05 / "models").glob("regression_*.json"))
    assert jsons
    for path in jsons:
        meta = json.loads(path.read_text())
        for key in ("dataset", "split", "seed", "epochs", "metrics"):
            assert key in meta, (path.name, key)
        assert meta["epochs"] == 2  # quick profile
        assert path.with_suffix(".pt").is_file()
    figures = {p.name for p in (nb05 / "figures").glob("*.png")}
    for dataset in DATASETS:
        assert f"regression_bars_srocc_{dataset}.png" in figures
    assert "regression_scatter_synthetic_content_scratch.png" in figures
    timings = pd.read_csv(nb05 / "tables" / "regression_timings.csv")
    assert np.isfinite(timings["seconds"]).all()

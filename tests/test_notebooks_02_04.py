"""Notebooks 02-04 on the quick profile: each executed once, then its tables and figures checked."""

import os
from pathlib import Path

import pandas as pd
import pytest
from conftest import execute_notebook

from edgeiqa.experiments import claims

DATASETS = ["synthetic", "live_subset"]


@pytest.fixture(scope="module")
def nb02(tmp_path_factory, session_cache, shared_data):
    results = tmp_path_factory.mktemp("nb02")
    execute_notebook("02_sobel_edge_maps", results, datasets=DATASETS, include_official=False)
    return results


@pytest.fixture(scope="module")
def nb03(tmp_path_factory, session_cache, shared_data):
    results = tmp_path_factory.mktemp("nb03")
    execute_notebook("03_classification_models", results, datasets=DATASETS, include_official=False)
    return results


@pytest.fixture(scope="module")
def nb04(tmp_path_factory, session_cache, shared_data):
    results = tmp_path_factory.mktemp("nb04")
    execute_notebook("04_majority_vote", results, datasets=DATASETS, include_official=False)
    return results


def _figures(results):
    return {p.name for p in (results / "figures").glob("*.png")}


def test_02_edge_statistics(nb02):
    stats = pd.read_csv(nb02 / "tables" / "edge_statistics.csv")
    assert set(stats["dataset"]) == set(DATASETS)
    live_subset = pd.read_csv(Path(os.environ["EDGEIQA_DATA"]) / "live_subset" / "labels.csv")
    assert len(stats) == 60 + len(live_subset)
    for col in ("mean_magnitude", "std_magnitude", "p95_magnitude", "edge_density"):
        assert stats[col].between(0, 1).all(), col
    assert stats["mean_magnitude_vs_ref"].gt(0).all()
    corr = pd.read_csv(nb02 / "tables" / "edge_statistics_correlation.csv")
    assert set(corr["dataset"]) == set(DATASETS)
    assert corr["srocc"].dropna().between(-1, 1).all()
    assert {"ALL", "gblur", "jpeg", "wn"} <= set(corr["distortion"])
    norm = pd.read_csv(nb02 / "tables" / "edge_normalisation_comparison.csv")
    assert set(norm["normalisation"]) == {"fixed", "per_image_max"}
    sizes = pd.read_csv(nb02 / "tables" / "edge_size_comparison.csv")
    assert set(sizes["max_side"]) == {64, 128, 256, 0} and "dataset" in sizes
    assert set(sizes["shrink_order"]) == {"after", "before", "native"}
    for name in DATASETS:
        assert {
            f"edges_cuts_{name}.png",
            f"edges_ladder_{name}.png",
            f"edges_mean_magnitude_vs_quality_{name}.png",
            f"edges_mean_magnitude_vs_ref_vs_quality_{name}.png",
        } <= _figures(nb02)


def _check_summary(summary, methods):
    assert set(summary["dataset"]) == set(DATASETS)
    assert set(summary["protocol"]) == {"content", "image"}
    assert set(summary["method"]) == set(methods)
    assert "variant" not in summary
    by_method = summary.drop_duplicates("method").set_index("method")["architecture"]
    assert by_method.to_dict() == methods
    for col in ("accuracy", "weighted_precision", "weighted_recall", "weighted_f1"):
        assert summary[f"{col}_mean"].between(0, 1).all(), col
    assert summary["majority_baseline_mean"].between(0, 1).all()


def test_03_tables_figures_models(nb03):
    methods = {
        "CNN_Full_img (whole)": "CNN_Full_img",
        "CNN_2x (halves)": "CNN_2x",
        "CNN_4x (quarters)": "CNN_4x",
    }
    summary = pd.read_csv(nb03 / "tables" / "classification_summary.csv")
    _check_summary(summary, methods)
    metrics = pd.read_csv(nb03 / "tables" / "classification_metrics.csv")
    assert metrics["accuracy"].between(0, 1).all() and "dataset" in metrics
    # the claims table finds the per-split table by its architecture column
    found = claims.find_classification_tables(nb03)
    assert set(found["table"]) == {"classification_metrics.csv"}
    assert set(found["architecture"]) == {"CNN_Full_img", "CNN_2x", "CNN_4x"}
    preds = pd.read_csv(nb03 / "tables" / "classification_predictions.csv")
    assert preds["predicted_class"].between(0, 3).all()
    comparison = pd.read_csv(nb03 / "tables" / "classification_paper_comparison.csv")
    paper = comparison[comparison["source"] == "as reported by the paper"]
    assert paper.set_index("method").loc["CNN_Full_img", "accuracy"] == pytest.approx(0.7945)
    per_class = pd.read_csv(nb03 / "tables" / "classification_per_class.csv")
    assert set(per_class["class_name"]) == {"bad", "poor", "fair", "good"}
    confusion = pd.read_csv(nb03 / "tables" / "classification_confusion.csv")
    assert confusion["count"].sum() == len(preds)
    for name in DATASETS:
        assert {
            f"classification_confusion_{name}.png",
            f"classification_metrics_{name}.png",
        } <= _figures(nb03)
    models = {p.name for p in (nb03 / "models").glob("*.pt")}
    assert "classification_synthetic_CNN_2x_halves_content.pt" in models
    assert len(models) == 3 * 2 * len(DATASETS)


def test_04_tables_figures(nb04):
    methods = {
        "CNN_Full_img (whole)": "CNN_Full_img",
        "CNN_1_Mvote (patch 16, vote)": "CNN_1_Mvote",
        "CNN_1_Mvote (patch 32, vote)": "CNN_1_Mvote",
    }
    summary = pd.read_csv(nb04 / "tables" / "mvote_summary.csv")
    _check_summary(summary, methods)
    comparison = pd.read_csv(nb04 / "tables" / "mvote_paper_comparison.csv")
    paper = comparison[comparison["source"] == "as reported by the paper"].set_index("method")
    assert paper.loc["CNN_1_Mvote", "accuracy"] == pytest.approx(0.824)
    assert paper.loc["CNN_1_Mvote", "weighted_f1"] == pytest.approx(0.820)
    ours = comparison[comparison["source"] == "ours (mean over repeats)"]
    assert set(ours["method"]) == set(methods)  # every patch size meets the paper's CNN_1_Mvote
    decisions = pd.read_csv(nb04 / "tables" / "mvote_decision_comparison.csv")
    assert set(decisions["decision"]) == {"majority vote", "mean probability"}
    assert decisions["accuracy"].between(0, 1).all() and "dataset" in decisions
    for name in DATASETS:
        assert {
            f"mvote_accuracy_vs_patch_size_{name}.png",
            f"mvote_confusion_{name}.png",
        } <= _figures(nb04)
    models = {p.name for p in (nb04 / "models").glob("*.pt")}
    assert models and all(m.startswith("mvote_") for m in models)

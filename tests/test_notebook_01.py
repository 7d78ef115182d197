"""Notebook 01 on the quick profile: executed once, then its outputs are checked."""

import pandas as pd
import pytest
from conftest import SHARED_DATA, execute_notebook


@pytest.fixture(scope="module")
def nb01(tmp_path_factory, session_cache, shared_data):
    results = tmp_path_factory.mktemp("nb01")
    execute_notebook("01_data_exploration", results, datasets=["synthetic", "live_subset"])
    return results


def test_counts_table(nb01):
    counts = pd.read_csv(nb01 / "tables" / "data_counts.csv")
    assert set(counts["dataset"]) == {"synthetic", "live_subset"}
    live_all = counts[(counts["dataset"] == "live_subset") & (counts["distortion"] == "ALL")]
    labels = pd.read_csv(SHARED_DATA / "live_subset" / "labels.csv")
    assert live_all["images"].item() == len(labels)
    per_type = counts[counts["dataset"] == "live_subset"].set_index("distortion")["images"]
    expected = labels["type"].replace({"fastfading": "ff"}).value_counts()
    assert per_type.drop("ALL").sort_index().to_dict() == expected.sort_index().to_dict()
    synth = counts[counts["dataset"] == "synthetic"].set_index("distortion")["images"]
    assert synth["ALL"] == 60 and (synth.drop("ALL") == 12).all()
    assert counts["quality_min"].ge(0).all() and counts["quality_max"].le(100).all()


def test_class_balance_sums_to_one(nb01):
    balance = pd.read_csv(nb01 / "tables" / "data_class_balance.csv")
    assert balance.groupby("dataset")["share"].sum().round(6).eq(1).all()
    assert balance["quality_class"].between(0, 3).all()


def test_splits_written_and_content_disjoint(nb01):
    for dataset in ("synthetic", "live_subset"):
        table = pd.read_csv(nb01 / "splits" / f"{dataset}_content.csv")
        for _, part in table.groupby("repeat"):
            train = set(part.loc[part["subset"] == "train", "content"])
            test = set(part.loc[part["subset"] == "test", "content"])
            assert test and not train & test
    summary = pd.read_csv(nb01 / "tables" / "splits_summary.csv")
    content_rows = summary[summary["protocol"].str.startswith("content")]
    assert (content_rows["contents_in_both"] == 0).all()
    image_rows = summary[summary["protocol"].str.startswith("paper")]
    assert (image_rows["contents_in_both"] > 0).all()


def test_label_model_and_figures(nb01):
    curves = pd.read_csv(nb01 / "tables" / "synthetic_label_model_curves.csv")
    assert set(curves["distortion"]) == {"jpeg", "wn", "gblur"}
    assert curves["srocc"].gt(0.8).all()
    figures = {p.name for p in (nb01 / "figures").glob("*.png")}
    assert {
        "data_scores_synthetic.png",
        "data_scores_live_subset.png",
        "data_examples_synthetic.png",
        "data_class_balance.png",
        "synthetic_label_model.png",
    } <= figures


def test_official_label_statistics(nb01):
    counts = pd.read_csv(nb01 / "tables" / "official_label_counts.csv")
    totals = counts[counts["distortion"] == "ALL"].set_index("dataset")["images"]
    assert totals["live (labels only)"] == 779
    assert totals["csiq (labels only)"] == 866
    assert counts["quality_min"].ge(0).all() and counts["quality_max"].le(100).all()

"""Classification experiments: methods, metrics tables, paper comparison, and a tiny real run."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import f1_score

from edgeiqa.config import get_profile
from edgeiqa.data import load_dataset
from edgeiqa.edges import EdgeParams, edge_maps
from edgeiqa.experiments import classification as clf
from edgeiqa.train import TrainConfig, load_checkpoint, predict


def test_paper_methods_follow_our_reading_of_2x_and_4x():
    methods = clf.paper_methods()
    assert [(m.variant, m.parts) for m in methods] == [
        ("CNN_Full_img", 1),
        ("CNN_2x", 2),
        ("CNN_4x", 4),
    ]
    assert [m.label for m in methods] == [
        "CNN_Full_img (whole)",
        "CNN_2x (halves)",
        "CNN_4x (quarters)",
    ]


def test_method_cuts():
    edge = np.zeros((40, 64), dtype=np.float32)
    halves = clf.Method("CNN_2x", parts=2)
    assert [p.shape for p in halves.cut(edge)] == [(40, 32), (40, 32)]
    assert len(halves.cut_test(edge)) == 2
    whole_test = clf.Method("CNN_2x", parts=2, test_on="whole")
    assert [p.shape for p in whole_test.cut_test(edge)] == [(40, 64)]
    patches = clf.Method("CNN_1_Mvote", patch_size=16)
    assert len(patches.cut(edge)) == 2 * 4 and len(patches.cut_test(edge)) == 8
    assert patches.label == "CNN_1_Mvote (patch 16, vote)"
    assert patches.slug == "CNN_1_Mvote_patch_16_vote"


def test_bad_methods_are_rejected():
    with pytest.raises(ValueError, match="variant"):
        clf.Method("CNN_8x")
    with pytest.raises(ValueError, match="parts"):
        clf.Method("CNN_2x", parts=3)
    with pytest.raises(ValueError, match="test_on"):
        clf.Method("CNN_2x", parts=2, test_on="centre")


def _predictions():
    # two repeats of one method; true and predicted classes chosen by hand
    true = [0, 0, 1, 2, 3, 3, 1, 2]
    pred = [0, 1, 1, 2, 3, 2, 1, 1]
    return pd.DataFrame(
        {
            "dataset": "toy",
            "protocol": "content",
            "method": "m",
            "variant": "CNN_Full_img",
            "parts": 1,
            "patch_size": 0,
            "test_on": "pieces",
            "repeat": [0] * 4 + [1] * 4,
            "true_class": true,
            "predicted_class": pred,
            "predicted_class_mean": pred,
            "train_majority_class": [0] * 4 + [1] * 4,
        }
    )


def test_metrics_match_sklearn_and_baseline():
    preds = _predictions()
    metrics = clf.metrics_table(preds)
    assert len(metrics) == 2 and metrics["n_test"].tolist() == [4, 4]
    first = metrics.iloc[0]
    assert first["accuracy"] == pytest.approx(3 / 4)
    assert first["weighted_f1"] == pytest.approx(
        f1_score([0, 0, 1, 2], [0, 1, 1, 2], average="weighted")
    )
    assert first["majority_baseline"] == pytest.approx(2 / 4)
    assert metrics.iloc[1]["majority_baseline"] == pytest.approx(1 / 4)
    summary = clf.summary_table(metrics)
    assert summary["n_repeats"].item() == 2
    assert summary["accuracy_mean"].item() == pytest.approx((3 / 4 + 2 / 4) / 2)
    assert summary["accuracy_min"].item() == pytest.approx(2 / 4)


def test_per_class_and_confusion_tables():
    preds = _predictions()
    counts = clf.confusion(preds)
    assert counts.sum() == 8 and np.trace(counts) == 5
    assert counts[3, 2] == 1 and counts[2, 1] == 1
    table = clf.confusion_table(preds)
    assert len(table) == 16
    rates = table.groupby("true_class")["row_rate"].sum()
    assert np.allclose(rates, 1.0)
    per_class = clf.per_class_table(preds)
    assert per_class["support"].tolist() == [2, 2, 2, 2]
    assert per_class.set_index("class")["recall"].tolist() == [0.5, 1.0, 0.5, 0.5]


def test_paper_comparison_labels_the_paper_rows():
    summary = clf.summary_table(clf.metrics_table(_predictions()))
    table = clf.paper_comparison(summary)
    paper = table[table["source"] == "as reported by the paper"]
    assert paper["method"].tolist() == ["CNN_Full_img"]  # only methods we ran
    assert paper["accuracy"].item() == pytest.approx(0.7945)
    assert paper[["weighted_precision", "weighted_recall", "weighted_f1"]].values.tolist() == [
        [0.785, 0.780, 0.778]
    ]
    assert set(table["dataset"]) == {"live", "toy"}
    assert (clf.PAPER_REPORTED.set_index("method").loc["CNN_1_Mvote", "accuracy"]) == 0.824


def test_repeats_for_profile():
    assert clf.repeats_for(get_profile("quick")) == 1
    assert clf.repeats_for(get_profile("full")) == 3
    assert clf.repeats_for(get_profile("full", classification_max_repeats=0)) == 10
    assert clf.repeats_for(get_profile("full"), get_profile("full").mvote_max_repeats) == 2


@pytest.fixture(scope="module")
def quick_synthetic(session_cache):
    return load_dataset("synthetic", profile="quick", seed=0)


def test_tiny_run_beats_the_majority_class(quick_synthetic, tmp_path):
    torch.set_num_threads(1)
    params = EdgeParams(max_side=64)
    config = TrainConfig(epochs=30, batch_size=8, progress=False, channels_last=True)
    run = clf.run_classification(
        quick_synthetic,
        [clf.Method("CNN_Full_img")],
        protocols=["image"],
        n_repeats=4,
        seed=0,
        test_fraction=0.3,
        edge_params=params,
        train_config=config,
        results=tmp_path,
        progress=False,
    )
    preds = run.predictions
    assert len(preds) == 4 * 18 and preds["dataset"].eq("synthetic").all()
    probs = preds[[f"prob_{c}" for c in range(clf.N_CLASSES)]].to_numpy()
    assert np.allclose(probs.sum(axis=1), 1.0, atol=1e-5)
    accuracy = (preds["true_class"] == preds["predicted_class"]).mean()
    chance = (preds["true_class"] == preds["train_majority_class"]).mean()
    assert accuracy > chance

    # the checkpoint of repeat 0 reloads to the same test predictions
    (relative,) = run.runs.loc[run.runs["repeat"] == 0, "checkpoint"]
    path = tmp_path / relative
    model, meta = load_checkpoint(path)
    assert meta["dataset"] == "synthetic" and meta["protocol"] == "image"
    assert meta["task"] == "classification" and meta["epochs"] == 30
    assert 0 <= meta["metrics"]["accuracy"] <= 1
    assert path.parent == tmp_path / "models"
    saved = json.loads(path.with_suffix(".json").read_text())
    assert saved["input_scale"] == pytest.approx(meta["input_scale"])
    rep0 = preds[preds["repeat"] == 0]
    test_rows = quick_synthetic.set_index("image").loc[rep0["image"]]
    maps = edge_maps(test_rows.reset_index(), params, progress=False)
    # the checkpoint carries the input scale: raw maps in, the same probabilities out
    assert float(model.input_scale) == pytest.approx(meta["input_scale"])
    again = predict(model, maps, "classification")
    assert np.allclose(again, rep0[[f"prob_{c}" for c in range(4)]].to_numpy(), atol=1e-5)


def test_patch_vote_run_and_decisions(quick_synthetic):
    torch.set_num_threads(1)
    run = clf.run_classification(
        quick_synthetic,
        [clf.Method("CNN_1_Mvote", patch_size=32, batch_size=32)],
        protocols=["content"],
        n_repeats=1,
        edge_params=EdgeParams(max_side=64),
        train_config=TrainConfig(epochs=1, batch_size=8, progress=False),
        progress=False,
    )
    preds = run.predictions
    assert (preds["n_pieces"] >= 2).all()
    assert run.runs["n_train_pieces"].item() > run.runs["n_train_images"].item()
    decisions = clf.decision_comparison(preds)
    assert set(decisions["decision"]) == {"majority vote", "mean probability"}
    assert decisions["accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match="one dataset"):
        clf.run_classification(
            pd.concat([quick_synthetic, quick_synthetic.assign(dataset="x")]),
            [clf.Method("CNN_Full_img")],
        )

"""Classification experiments: classifiers, settings, metrics tables, paper comparison, and a
tiny real run."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.metrics import f1_score

from edgeiqa import paper as paper_lib
from edgeiqa import splits as splits_lib
from edgeiqa.config import get_profile
from edgeiqa.data import load_dataset
from edgeiqa.edges import EdgeParams, edge_maps
from edgeiqa.experiments import classification as clf
from edgeiqa.experiments import classification_tables as tables
from edgeiqa.reporting import dataset_label
from edgeiqa.train import TrainConfig, load_checkpoint, predict


def test_paper_classifiers_follow_our_reading_of_2x_and_4x():
    classifiers = clf.paper_classifiers()
    assert [(c.architecture, c.parts) for c in classifiers] == [
        ("CNN_Full_img", 1),
        ("CNN_2x", 2),
        ("CNN_4x", 4),
    ]
    assert [c.label for c in classifiers] == [
        "CNN_Full_img (whole)",
        "CNN_2x (halves)",
        "CNN_4x (quarters)",
    ]
    overridden = clf.paper_classifiers(["CNN_2x"], parts={"CNN_2x": 4}, test_on="whole")
    assert overridden == [clf.Classifier("CNN_2x", parts=4, test_on="whole")]
    assert overridden[0].label == "CNN_2x (quarters, test whole)"


def test_vote_classifiers():
    classifiers = clf.vote_classifiers([16, 32], batch_size=64)
    assert [c.label for c in classifiers] == [
        "CNN_Full_img (whole)",
        "CNN_1_Mvote (patch 16, vote)",
        "CNN_1_Mvote (patch 32, vote)",
    ]
    assert [c.batch_size for c in classifiers] == [0, 64, 64]
    assert [c.architecture for c in clf.vote_classifiers([32], full_image=False)] == ["CNN_1_Mvote"]


def test_classifier_cuts():
    edge = np.zeros((40, 64), dtype=np.float32)
    halves = clf.Classifier("CNN_2x", parts=2)
    assert [p.shape for p in halves.cut(edge)] == [(40, 32), (40, 32)]
    assert len(halves.cut_test(edge)) == 2
    whole_test = clf.Classifier("CNN_2x", parts=2, test_on="whole")
    assert [p.shape for p in whole_test.cut_test(edge)] == [(40, 64)]
    patches = clf.Classifier("CNN_1_Mvote", patch_size=16)
    assert len(patches.cut(edge)) == 2 * 4 and len(patches.cut_test(edge)) == 8
    assert patches.label == "CNN_1_Mvote (patch 16, vote)"
    assert patches.slug == "CNN_1_Mvote_patch_16_vote"


def test_bad_classifiers_are_rejected():
    with pytest.raises(ValueError, match="architecture"):
        clf.Classifier("CNN_8x")
    with pytest.raises(ValueError, match="parts"):
        clf.Classifier("CNN_2x", parts=3)
    with pytest.raises(ValueError, match="test_on"):
        clf.Classifier("CNN_2x", parts=2, test_on="centre")


def _predictions():
    # two repeats of one classifier; true and predicted classes chosen by hand
    true = [0, 0, 1, 2, 3, 3, 1, 2]
    pred = [0, 1, 1, 2, 3, 2, 1, 1]
    return pd.DataFrame(
        {
            "dataset": "toy",
            "protocol": "content",
            "method": "m",
            "architecture": "CNN_Full_img",
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
    metrics = tables.metrics_table(preds)
    assert len(metrics) == 2 and metrics["n_test"].tolist() == [4, 4]
    first = metrics.iloc[0]
    assert first["accuracy"] == pytest.approx(3 / 4)
    assert first["weighted_f1"] == pytest.approx(
        f1_score([0, 0, 1, 2], [0, 1, 1, 2], average="weighted")
    )
    assert first["majority_baseline"] == pytest.approx(2 / 4)
    assert metrics.iloc[1]["majority_baseline"] == pytest.approx(1 / 4)
    summary = tables.summary_table(metrics)
    assert summary["n_repeats"].item() == 2
    assert summary["accuracy_mean"].item() == pytest.approx((3 / 4 + 2 / 4) / 2)
    assert summary["accuracy_min"].item() == pytest.approx(2 / 4)


def test_per_class_and_confusion_tables():
    preds = _predictions()
    counts = tables.confusion(preds)
    assert counts.sum() == 8 and np.trace(counts) == 5
    assert counts[3, 2] == 1 and counts[2, 1] == 1
    table = tables.confusion_table(preds)
    assert len(table) == 16
    rates = table.groupby("true_class")["row_rate"].sum()
    assert np.allclose(rates, 1.0)
    per_class = tables.per_class_table(preds)
    assert per_class["support"].tolist() == [2, 2, 2, 2]
    assert per_class.set_index("class")["recall"].tolist() == [0.5, 1.0, 0.5, 0.5]


def test_paper_comparison_labels_the_paper_rows():
    summary = tables.summary_table(tables.metrics_table(_predictions()))
    table = tables.paper_comparison(summary)
    paper = table[table["source"] == "as reported by the paper"]
    assert paper["method"].tolist() == ["CNN_Full_img"]  # only methods we ran
    assert paper["accuracy"].item() == pytest.approx(0.7945)
    assert paper[["weighted_precision", "weighted_recall", "weighted_f1"]].values.tolist() == [
        [0.785, 0.780, 0.778]
    ]
    assert set(table["dataset"]) == {"live", "toy"}
    ours = table[table["source"] == "ours (mean over repeats)"]
    assert ours["method"].tolist() == ["m"] and ours["accuracy"].item() == pytest.approx(5 / 8)
    # matched by the architecture column, never by the display label
    vote = _predictions().assign(method="CNN_1_Mvote (patch 16, vote)", architecture="CNN_1_Mvote")
    table = tables.paper_comparison(tables.summary_table(tables.metrics_table(vote)))
    paper_rows = table[table["source"] == "as reported by the paper"]
    assert paper_rows["method"].tolist() == ["CNN_1_Mvote"]
    assert paper_rows["accuracy"].item() == 0.824
    assert paper_lib.classification_figures()["CNN_1_Mvote"]["accuracy"] == 0.824
    relabelled = _predictions().assign(method="CNN_1_Mvote (patch 16, vote)")
    table = tables.paper_comparison(tables.summary_table(tables.metrics_table(relabelled)))
    assert table.loc[table["source"] == "as reported by the paper", "method"].tolist() == [
        "CNN_Full_img"
    ]


def test_repeats_for_profile():
    assert clf.repeats_for(get_profile("quick")) == 1
    assert clf.repeats_for(get_profile("full")) == 3
    assert clf.repeats_for(get_profile("full", classification_max_repeats=0)) == 10
    assert clf.repeats_for(get_profile("full"), get_profile("full").mvote_max_repeats) == 2


def test_settings_from_profile_take_the_profile_where_none(shared_data):
    quick = clf.ClassificationSettings.from_profile(
        "quick", datasets=["synthetic", "live_subset"], include_official=False
    )
    assert quick.profile == get_profile("quick")
    assert quick.datasets == ("synthetic", "live_subset")
    assert quick.classifiers == tuple(clf.paper_classifiers())
    assert quick.protocols == ("content", "image")
    assert quick.n_repeats == 1 and quick.test_fraction == 0.2
    assert quick.edge_params == EdgeParams(max_side=64)
    assert quick.train_config == TrainConfig(
        epochs=2, batch_size=8, lr=1e-3, val_fraction=0.1, seed=0, channels_last=True
    )
    assert quick.save_models and quick.checkpoint_prefix == "classification"
    assert quick.describe().splitlines() == [
        "profile: quick; 1 repeat(s) per protocol; 2 epochs",
        f"edge maps: {EdgeParams(max_side=64)}",
        "methods: CNN_Full_img (whole), CNN_2x (halves), CNN_4x (quarters)",
        f"datasets: synthetic = {dataset_label('synthetic')}, "
        f"live_subset = {dataset_label('live_subset')}",
    ]
    full = get_profile("full")
    mvote = clf.ClassificationSettings.from_profile(
        "full",
        datasets=["synthetic"],
        include_official=False,
        classifiers=clf.vote_classifiers(full.mvote_patch_sizes, 64),
        max_repeats=full.mvote_max_repeats,
        epochs=3,
        edge_max_side=96,
        lr=0.01,
        val_fraction=0.0,
        seed=5,
        save_models=False,
        checkpoint_prefix="mvote",
    )
    assert mvote.n_repeats == 2 and mvote.seed == 5 and mvote.profile.name == "full"
    assert mvote.profile.epochs == 3 and mvote.edge_params.max_side == 96
    assert (mvote.train_config.epochs, mvote.train_config.batch_size) == (3, 16)
    assert (mvote.train_config.lr, mvote.train_config.val_fraction) == (0.01, 0.0)
    assert mvote.train_config.seed == 5
    assert [c.patch_size for c in mvote.classifiers] == [0, 32, 64]
    assert not mvote.save_models and mvote.checkpoint_prefix == "mvote"
    explicit = clf.ClassificationSettings.from_profile(
        "full", datasets=["synthetic"], include_official=False, n_repeats=7
    )
    assert explicit.n_repeats == 7
    with_official = clf.ClassificationSettings.from_profile(
        "quick", datasets=["live_subset"], include_official=True
    )
    assert with_official.datasets[0] == "live_subset"
    assert "synthetic" not in with_official.datasets


@pytest.fixture(scope="module")
def quick_synthetic(session_cache):
    return load_dataset("synthetic", profile="quick", seed=0)


def test_tiny_run_beats_the_majority_class(quick_synthetic, tmp_path):
    torch.set_num_threads(1)
    params = EdgeParams(max_side=64)
    config = TrainConfig(epochs=30, batch_size=8, progress=False, channels_last=True)
    run = clf.run_classification(
        quick_synthetic,
        [clf.Classifier("CNN_Full_img")],
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
    assert list(preds.columns[:8]) == [
        "dataset",
        "protocol",
        "repeat",
        "method",
        "architecture",
        "parts",
        "patch_size",
        "test_on",
    ]
    assert preds["architecture"].eq("CNN_Full_img").all()
    assert preds["method"].eq("CNN_Full_img (whole)").all()
    # the test images of every repeat are those of splits.protocol_splits
    splits = splits_lib.protocol_splits(quick_synthetic, "image", 4, 0, 0.3)
    for split in splits:
        tested = preds.loc[preds["repeat"] == split.repeat, "image"].tolist()
        assert tested == quick_synthetic["image"].iloc[split.test].tolist()
    probs = preds[[f"prob_{c}" for c in range(tables.N_CLASSES)]].to_numpy()
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
    assert meta["architecture"] == "CNN_Full_img" and "variant" not in meta
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


def test_run_settings_runs_every_dataset_as_run_classification(quick_synthetic, tmp_path):
    torch.set_num_threads(1)
    settings = clf.ClassificationSettings.from_profile(
        "quick",
        datasets=["synthetic"],
        include_official=False,
        classifiers=[clf.Classifier("CNN_Full_img")],
        protocols=["content"],
        epochs=1,
        checkpoint_prefix="test",
    )
    run = clf.run_settings(settings, tmp_path, progress=False)
    direct = clf.run_classification(
        quick_synthetic,
        settings.classifiers,
        ["content"],
        1,
        0,
        0.2,
        EdgeParams(max_side=64),
        TrainConfig(epochs=1, batch_size=8, lr=1e-3, val_fraction=0.1, seed=0),
        progress=False,
        save_models=False,
    )
    pd.testing.assert_frame_equal(run.predictions, direct.predictions)
    pd.testing.assert_frame_equal(run.histories, direct.histories)
    assert run.runs.drop(columns=["train_seconds", "checkpoint"]).equals(
        direct.runs.drop(columns=["train_seconds", "checkpoint"])
    )
    assert run.runs["checkpoint"].tolist() == [
        "models/test_synthetic_CNN_Full_img_whole_content.pt"
    ]


def test_patch_vote_run_and_decisions(quick_synthetic):
    torch.set_num_threads(1)
    run = clf.run_classification(
        quick_synthetic,
        [clf.Classifier("CNN_1_Mvote", patch_size=32, batch_size=32)],
        protocols=["content"],
        n_repeats=1,
        edge_params=EdgeParams(max_side=64),
        train_config=TrainConfig(epochs=1, batch_size=8, progress=False),
        progress=False,
    )
    preds = run.predictions
    assert (preds["n_pieces"] >= 2).all()
    assert run.runs["n_train_pieces"].item() > run.runs["n_train_images"].item()
    decisions = tables.decision_comparison(preds)
    assert set(decisions["decision"]) == {"majority vote", "mean probability"}
    assert decisions["accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match="one dataset"):
        clf.run_classification(
            pd.concat([quick_synthetic, quick_synthetic.assign(dataset="x")]),
            [clf.Classifier("CNN_Full_img")],
        )

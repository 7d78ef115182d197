"""The regression experiment on tiny generated data: splits, predictions, tables, checkpoints."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from edgeiqa import config, edge_cnn, metrics
from edgeiqa import splits as splits_lib
from edgeiqa.errors import DataError
from edgeiqa.experiments import regression as reg
from edgeiqa.experiments import regression_tables as reg_tables
from edgeiqa.experiments import study as study_lib
from edgeiqa.train import load_checkpoint

torch.set_num_threads(1)

TINY = dict(epochs=1, finetune_epochs=1, batch_size=4, n_repeats=2, n_boot=50, progress=False)


def fake_records(n_contents: int = 4, per_content: int = 6, dataset: str = "fake") -> pd.DataFrame:
    """Records without image files (for the functions that take edge maps directly)."""
    rng = np.random.default_rng(0)
    rows = []
    for c in range(n_contents):
        for i in range(per_content):
            rows.append(
                {
                    "dataset": dataset,
                    "image": f"c{c}/img{i}.png",
                    "content": f"c{c}",
                    "distortion": ("jpeg", "wn", "gblur")[i % 3],
                    "quality": float(rng.uniform(5, 95)),
                }
            )
    return pd.DataFrame(rows)


def fake_inputs(records: pd.DataFrame, side: int = 24) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    # edge strength tied to quality, so the model has something to learn
    return [(rng.random((side, side + 4)) * q / 100).astype(np.float32) for q in records["quality"]]


def write_image_dataset(folder, dataset: str, n_contents: int = 3) -> pd.DataFrame:
    """Small PNG images of ``n_contents`` contents x 2 distortions x 2 levels, with records."""
    rng = np.random.default_rng(2)
    rows = []
    for c in range(n_contents):
        base = rng.random((40, 48))
        for dist in ("wn", "gblur"):
            for level in (1, 2):
                noisy = np.clip(base + rng.normal(0, 0.1 * level, base.shape), 0, 1)
                path = folder / f"c{c}_{dist}_{level}.png"
                Image.fromarray((noisy * 255).astype(np.uint8)).save(path)
                rows.append(
                    {
                        "dataset": dataset,
                        "image": path.name,
                        "image_path": str(path),
                        "content": f"c{c}",
                        "distortion": dist,
                        "quality": 90.0 - 30 * level + c,
                    }
                )
    return pd.DataFrame(rows)


def test_settings_from_profile_and_validation():
    quick = config.get_profile("quick")
    settings = edge_cnn.RegressionSettings.from_profile(quick, epochs=3)
    assert settings.epochs == 3 and settings.finetune_epochs == quick.epochs
    assert settings.n_repeats == quick.n_repeats
    assert settings.edge_max_side == quick.regression_edge_max_side
    assert settings.edge_params.max_side == quick.regression_edge_max_side
    full = edge_cnn.RegressionSettings.from_profile(config.get_profile("full"))
    assert (full.epochs, full.n_repeats) == (40, 10)
    with pytest.raises(ValueError, match="unknown model"):
        edge_cnn.RegressionSettings(model_name="CNN_nope")
    with pytest.raises(ValueError, match="parts"):
        edge_cnn.RegressionSettings(parts=3)


def test_method_labels():
    assert edge_cnn.method_label("CNN_Full_img") == "CNN_Full_img (regression)"
    assert "fine-tune" in edge_cnn.method_label("CNN_Full_img", "finetune")
    with pytest.raises(ValueError, match="regime"):
        edge_cnn.method_label("CNN_Full_img", "bogus")


def test_restrict_to_paper_distortions():
    records = fake_records()
    records.loc[0, "distortion"] = "contrast"
    kept = study_lib.restrict_to_paper_distortions(records)
    assert len(kept) == len(records) - 1 and "contrast" not in set(kept["distortion"])
    with pytest.raises(ValueError, match="paper's distortions"):
        study_lib.restrict_to_paper_distortions(records.assign(distortion="contrast"))


@pytest.mark.parametrize("protocol", ["content", "loco"])
def test_disjoint_protocols_never_share_contents(protocol):
    records = fake_records(n_contents=5)
    settings = edge_cnn.RegressionSettings(n_repeats=4, progress=False)
    folds = splits_lib.protocol_splits(records, protocol, settings.n_repeats, settings.seed)
    assert len(folds) == (4 if protocol == "content" else 5)
    for fold in folds:
        train, test = fold.train, fold.test
        assert not set(records["content"].iloc[train]) & set(records["content"].iloc[test])
        assert len(set(train) | set(test)) == len(records)
    if protocol == "loco":
        tested = np.concatenate([fold.test for fold in folds])
        assert sorted(tested) == list(range(len(records)))


def test_image_protocol_shares_contents_and_unknown_protocol_fails():
    records = fake_records(n_contents=4, per_content=10)
    settings = edge_cnn.RegressionSettings(n_repeats=2, progress=False)
    shared = [
        set(records["content"].iloc[train]) & set(records["content"].iloc[test])
        for _, train, test in splits_lib.iter_splits(records, "image", settings.n_repeats)
    ]
    assert all(shared)
    with pytest.raises(ValueError, match="unknown protocol"):
        splits_lib.protocol_splits(records, "nope", settings.n_repeats)


def test_run_protocol_predictions_and_transfer_variants():
    records = fake_records()
    inputs = fake_inputs(records)
    settings = edge_cnn.RegressionSettings(**TINY)
    run = reg.run_protocol(records, inputs, "content", settings)
    preds = run.predictions
    assert list(preds.columns) == reg.PREDICTION_COLUMNS
    assert set(preds["repeat"]) == {0, 1}
    assert preds["predicted"].between(0, 100).all()
    for _, part in preds.groupby("repeat"):
        assert not part["image"].duplicated().any()
    assert run.model is not None and run.last_split["repeat"] == 1
    assert not set(run.last_split["train_contents"]) & set(run.last_split["test_contents"])

    with pytest.raises(ValueError, match="pretrained"):
        reg.run_protocol(records, inputs, "loco", settings, regime="finetune")
    pretrained = reg.pretrain_on(records, inputs, settings)
    fixed = reg.run_protocol(records, inputs, "loco", settings, "synthetic_only", pretrained)
    assert fixed.model is None
    # the fixed model's predictions are the pretrained model's on every fold
    expected = edge_cnn.predict_quality(pretrained, inputs, settings)
    by_image = dict(zip(records["image"], expected, strict=True))
    # float32 outputs of batches of other sizes: equal to float32 precision, not bit for bit
    np.testing.assert_allclose(
        fixed.predictions["predicted"], fixed.predictions["image"].map(by_image), rtol=1e-5
    )
    tuned = reg.run_protocol(records, inputs, "loco", settings, "finetune", pretrained)
    assert tuned.predictions["method"].iloc[0] == edge_cnn.method_label("CNN_Full_img", "finetune")
    assert not np.allclose(tuned.predictions["predicted"], fixed.predictions["predicted"])


def test_parts_predict_mean_of_pieces():
    records = fake_records(n_contents=2, per_content=3)
    inputs = fake_inputs(records, side=40)
    settings = edge_cnn.RegressionSettings(**{**TINY, "parts": 2})
    model = reg.pretrain_on(records, inputs, settings)
    whole = edge_cnn.predict_quality(model, inputs, settings)
    assert whole.shape == (len(records),) and np.all((whole >= 0) & (whole <= 100))
    edge = inputs[0]  # 40 x 44: halves are left/right
    halves = edge_cnn.predict_quality(
        model, [edge[:, :22], edge[:, 22:44]], replace(settings, parts=1)
    )
    assert whole[0] == pytest.approx(halves.mean(), rel=1e-5)


def hand_predictions() -> pd.DataFrame:
    rng = np.random.default_rng(4)
    records = fake_records(n_contents=4, per_content=9)
    frames = []
    for protocol in ("content", "image"):
        for repeat in range(3):
            part = records.sample(12, random_state=repeat).copy()
            part["protocol"], part["repeat"], part["method"] = protocol, repeat, "M (regression)"
            noise = 5 if protocol == "image" else 25
            part["predicted"] = np.clip(part["quality"] + rng.normal(0, noise, len(part)), 0, 100)
            frames.append(part[reg.PREDICTION_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def test_split_metrics_summary_and_pooled():
    preds = hand_predictions()
    per_split = reg_tables.split_metrics(preds, {"M (regression)": "M"}, n_boot=100)
    assert len(per_split) == 2 * 3 * 4  # protocols x repeats x (3 types + ALL)
    one = per_split[(per_split["protocol"] == "image") & (per_split["repeat"] == 1)]
    one_all = one.set_index("distortion").loc["ALL"]
    part = preds[(preds["protocol"] == "image") & (preds["repeat"] == 1)]
    assert one_all["srocc"] == pytest.approx(metrics.srocc(part["quality"], part["predicted"]))

    summary = reg_tables.summarise(per_split)
    assert len(summary) == 2 * 4
    for col in reg_tables.SUMMARY_KEYS + ["srocc_ci_low", "srocc_ci_high", "n_splits"]:
        assert col in summary
    for metric in metrics.METRICS:
        for stat in ("median", "q25", "q75"):
            assert f"{metric}_{stat}" in summary
    row = summary[(summary["protocol"] == "image") & (summary["distortion"] == "ALL")].iloc[0]
    values = per_split[(per_split["protocol"] == "image") & (per_split["distortion"] == "ALL")]
    assert row["srocc_median"] == pytest.approx(values["srocc"].median())
    assert row["srocc_q25"] <= row["srocc_median"] <= row["srocc_q75"]
    assert row["architecture"] == "M" and row["n_splits"] == 3

    pooled = reg_tables.pooled_metrics(preds, {"M (regression)": "M"}, n_boot=100)
    image_all = pooled[(pooled["protocol"] == "image") & (pooled["distortion"] == "ALL")].iloc[0]
    assert image_all["n"] == preds[preds["protocol"] == "image"]["image"].nunique()
    effect = reg_tables.content_sharing_effect(summary, pooled)
    effect_all = effect.set_index("distortion").loc["ALL"]
    assert effect_all["disjoint_protocol"] == "content"
    assert effect_all["difference"] == pytest.approx(
        effect_all["srocc_image"] - effect_all["srocc_disjoint"]
    )
    # less noise under "image" in this hand-made table, so the difference is positive
    assert effect_all["difference_pooled"] > 0

    pivot = reg_tables.summary_pivot(summary)
    assert list(pivot.columns)[-1] == "ALL" and "CI" in pivot.iloc[0]["ALL"]


def test_planned_image_passes_counts():
    records = {"synthetic": fake_records(n_contents=5, dataset="synthetic")}
    records["live_subset"] = fake_records(n_contents=4, dataset="live_subset")
    settings = edge_cnn.RegressionSettings(n_repeats=3, epochs=2, finetune_epochs=1)
    plan = reg_tables.planned_image_passes(records, settings)
    plan = plan.set_index(["dataset", "protocol", "regime"])
    assert plan.loc[("live_subset", "loco", "scratch"), "trainings"] == 4
    assert plan.loc[("live_subset", "loco", "scratch"), "passes"] == 4 * 18 * 2
    assert plan.loc[("live_subset", "loco", "finetune"), "passes"] == 4 * 18 * 1
    assert plan.loc[("synthetic", "content", "scratch"), "passes"] == 3 * 24 * 2
    assert plan.loc[("synthetic", "all images", "pretrain"), "passes"] == 30 * 2


def test_run_study_writes_tables_and_loadable_checkpoints(tmp_path, session_cache):
    images = tmp_path / "images"
    images.mkdir()
    records = {
        "synthetic": write_image_dataset(images, "synthetic", n_contents=3),
        "live_subset": write_image_dataset(images, "live_subset", n_contents=3).assign(
            image=lambda d: "live_" + d["image"]
        ),
    }
    settings = edge_cnn.RegressionSettings(**{**TINY, "edge_max_side": 32})
    results = tmp_path / "results"
    study = reg.run_study(records, settings, results, profile="quick")

    for name in records:
        table = pd.read_csv(results / "tables" / f"regression_predictions_{name}.csv")
        assert list(table.columns) == reg.PREDICTION_COLUMNS
    assert set(study.predictions["live_subset"]["protocol"]) == {"loco", "image"}
    assert study.predictions["live_subset"]["method"].nunique() >= 3
    summary = pd.read_csv(results / "tables" / "regression_summary.csv")
    assert set(summary["dataset"]) == {"synthetic", "live_subset"}
    for extra in ("per_split", "pooled", "content_sharing", "timings"):
        assert (results / "tables" / f"regression_{extra}.csv").is_file()
    # the hand-off to notebook 06: what ran, read back exactly
    handed = study_lib.read_study_settings(results)
    assert handed.datasets == ("synthetic", "live_subset") and handed.profile == "quick"
    assert handed.regression == replace(settings, progress=False)
    assert set(study.runs["regime"]) == {"scratch", "finetune", "synthetic_only"}
    splits_file = pd.read_csv(results / "splits" / "synthetic_content.csv")
    for _, part in splits_file.groupby("repeat"):
        train = set(part.loc[part["subset"] == "train", "content"])
        assert not train & set(part.loc[part["subset"] == "test", "content"])

    names = {p.stem for p in study.checkpoints}
    assert "regression_live_subset_loco_finetune" in names
    assert "regression_synthetic_pretrain" in names
    path = results / "models" / "regression_synthetic_content_scratch.pt"
    model, meta = load_checkpoint(path)
    for key in ("dataset", "split", "seed", "epochs", "metrics", "edge_params"):
        assert key in meta
    assert meta["split"]["protocol"] == "content" and meta["epochs"] == 1
    assert "ALL" in meta["metrics"] and meta["edge_params"]["max_side"] == 32
    assert json.loads(path.with_suffix(".json").read_text())["dataset"] == "synthetic"
    # strict JSON, readable outside Python: undefined metrics (2 test images of a type, say)
    # are null, never NaN
    for meta_path in (results / "models").glob("*.json"):
        json.loads(meta_path.read_text(), parse_constant=pytest.fail)
    with torch.no_grad():
        assert 0 <= float(model(torch.rand(1, 1, 32, 27))) <= 1


def test_missing_requested_dataset_is_an_error(tmp_path):
    with pytest.raises(DataError, match="live_subset"):
        study_lib.load_study_datasets(["live_subset"], "quick", data_root=tmp_path)


def test_missing_or_broken_study_settings_are_one_line_errors(tmp_path):
    with pytest.raises(DataError, match="run notebook 05_regression first"):
        study_lib.read_study_settings(tmp_path)
    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / study_lib.SETTINGS_FILE).write_text('{"datasets": ["x"]}')
    with pytest.raises(DataError, match="unreadable settings") as info:
        study_lib.read_study_settings(tmp_path)
    assert "\n" not in str(info.value)


def test_study_settings_never_guess_the_synthetic_profile():
    handed = study_lib.StudySettings(("synthetic",), None, False, edge_cnn.RegressionSettings())
    with pytest.raises(DataError, match="no profile recorded"):
        handed.load_records(progress=False)


def test_same_seed_profile_and_threads_give_identical_csvs(tmp_path):
    """Determinism on the CPU: a training run repeated with the same seed, settings and thread
    count writes byte-identical prediction CSVs (the fast path included: channels-last, the
    precision "auto" resolves to on this CPU, micro-batches)."""
    records = fake_records()
    inputs = fake_inputs(records)
    settings = edge_cnn.RegressionSettings(**TINY)
    written = []
    for attempt in range(2):
        run = reg.run_protocol(records, inputs, "content", settings)
        path = tmp_path / f"predictions_{attempt}.csv"
        run.predictions.to_csv(path, index=False)
        written.append(path.read_bytes())
    assert written[0] == written[1]
    other = reg.run_protocol(records, inputs, "content", replace(settings, seed=settings.seed + 7))
    assert not other.predictions["predicted"].equals(run.predictions["predicted"])

"""Baselines on notebook 05's splits, the comparison tables and the paired bootstrap.

The CNN's predictions used here come from the regression experiment itself
(:func:`edgeiqa.experiments.regression.run_protocol` on quick settings), never from a hand-made
table.
"""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from edgeiqa import edge_cnn
from edgeiqa import splits as splits_lib
from edgeiqa.baselines.cnniqa import CNNIQAConfig
from edgeiqa.config import get_profile
from edgeiqa.data import load_dataset
from edgeiqa.edge_cnn import EdgeCNNRegression
from edgeiqa.errors import DataError
from edgeiqa.experiments import claims as claims_lib
from edgeiqa.experiments import comparison as cmp
from edgeiqa.experiments import gate as gate_lib
from edgeiqa.experiments import regression as reg
from edgeiqa.experiments import runner, significance
from edgeiqa.experiments import table3 as table3_lib

SEED = 0
FAST = (
    "PSNR",
    "SSIM",
    "BRISQUE (SVR, retrained)",
    "BRISQUE (published model)",
    "NIQE",
    "NIQE (pristine pool fitted here)",
)


@pytest.fixture(scope="module")
def synthetic(session_cache):
    return load_dataset("synthetic", profile="quick", seed=SEED, progress=False)


@pytest.fixture(scope="module")
def reg_settings():
    profile = get_profile("quick")
    return edge_cnn.RegressionSettings.from_profile(profile, epochs=1, progress=False, seed=SEED)


@pytest.fixture(scope="module")
def ours(synthetic, reg_settings):
    inputs = edge_cnn.edge_inputs(synthetic, reg_settings)
    runs = [reg.run_protocol(synthetic, inputs, p, reg_settings) for p in ("content", "image")]
    return pd.concat([r.predictions for r in runs], ignore_index=True)


@pytest.fixture(scope="module")
def settings():
    return cmp.BaselineSettings(
        names=(*FAST, "CNNIQA (retrained)"),
        cnniqa=CNNIQAConfig(epochs=1, max_patches=2),
        cnniqa_max_repeats=1,
        progress=False,
    )


@pytest.fixture(scope="module")
def splits(synthetic, ours):
    return cmp.splits_of(synthetic, ours)


@pytest.fixture(scope="module")
def baselines(synthetic, splits, settings):
    return runner.predict_splits(synthetic, splits, settings.methods())


def test_missing_predictions_say_run_notebook_05(tmp_path):
    with pytest.raises(DataError, match="run notebook 05_regression first") as info:
        cmp.load_regression_predictions(tmp_path, "synthetic")
    assert "\n" not in str(info.value)


def test_splits_are_taken_from_notebook_05s_test_images(synthetic, ours, splits, reg_settings):
    keys = [(s.protocol, s.repeat) for s in splits]
    assert keys == [("content", 0), ("content", 1), ("image", 0), ("image", 1)]
    for split in splits:
        listed = ours[(ours["protocol"] == split.protocol) & (ours["repeat"] == split.repeat)]
        assert set(synthetic["image"].iloc[split.test]) == set(listed["image"])
        # the training images are the complement, and the same ones notebook 05 trained on
        assert len(split.train) + len(split.test) == len(synthetic)
        again = splits_lib.protocol_splits(
            synthetic, split.protocol, 2, SEED, reg_settings.test_fraction
        )[split.repeat]
        np.testing.assert_array_equal(split.train, again.train)
    stranger = ours.assign(image=ours["image"].where(ours.index > 0, "nowhere.png"))
    with pytest.raises(DataError, match="nowhere.png") as info:
        cmp.splits_of(synthetic, stranger)
    assert "\n" not in str(info.value)


def test_baselines_predict_exactly_the_same_test_images(baselines, ours):
    assert list(baselines.columns) == runner.PREDICTION_COLUMNS + runner.EXTRA_COLUMNS
    keys = ["protocol", "repeat", "image"]
    ours_keys = set(map(tuple, ours[keys].to_numpy()))
    for method in FAST:
        part = baselines[baselines["method"] == method]
        got = set(map(tuple, part[keys].to_numpy()))
        assert np.all(np.isfinite(part["predicted"])), method
        if method != "NIQE (pristine pool fitted here)":
            assert got == ours_keys, method
            continue
        # the pool-fitted NIQE only where a pristine reference without test content exists:
        # every content-disjoint split; not the image-level splits here (all contents tested)
        assert got <= ours_keys
        content_keys = {k for k in ours_keys if k[0] == "content"}
        assert content_keys <= got
    cnn = baselines[baselines["method"] == "CNNIQA (retrained)"]
    assert set(cnn["repeat"]) == {0}  # cnniqa_max_repeats=1
    assert not baselines["trained_on_test"].any()  # synthetic images: no LIVE overlap
    fr_rows = baselines[baselines["method"] == "PSNR"]
    assert (fr_rows["method_kind"] == "FR").all()
    assert fr_rows["mapping"].str.startswith("linear").all()


def test_niqe_is_skipped_only_without_pristine_images(synthetic, splits):
    table = cmp.niqe_pristine_table(synthetic, splits)
    assert (table.loc[table["protocol"] == "content", "n_pristine"] == 3).all()
    with_other = cmp.niqe_pristine_table(synthetic, splits, other_references=["/x/ref.png"])
    assert (with_other["n_pristine"] >= 1).all()


def test_summary_and_table3_layout(baselines, ours):
    preds = pd.concat([ours, baselines], ignore_index=True)
    summary = runner.summarise(runner.per_split_metrics(preds), preds)
    assert summary["source"].str.startswith("computed here on synthetic").all()
    table = table3_lib.table3(summary, "synthetic", "content")
    metrics = {m for m, _ in table.columns if m}
    assert metrics == {"SROCC", "KROCC", "PLCC"}
    for metric in ("SROCC", "KROCC", "PLCC"):
        assert list(table[metric].columns) == table3_lib.TABLE3_COLUMNS
    assert table.index[0] == "CNN_Full_img (regression)"
    assert set(FAST) <= set(table.index)
    cell = table.loc["PSNR", ("SROCC", "ALL")]
    assert "[" in cell and "]" in cell
    long = table3_lib.table3_long(summary)
    assert {"dataset", "source", "metric", "column", "median", "q25", "q75"} <= set(long.columns)
    headers = [h for h, _ in table3_lib.table3_blocks(summary)]
    assert any("content protocol, median of 2 splits [IQR]" in h for h in headers)
    reported = table3_lib.reported_table()
    assert reported.loc["paper's CNN (regression)", ("SROCC", "ALL")] == "0.947"
    assert "DeepQA" in reported.index  # listed by the paper, its number not quoted
    flagged = table3_lib.display_name("BRISQUE (published model)", True)
    assert flagged.endswith("images]") and table3_lib.display_name("PSNR", False) == "PSNR"


def test_paired_bootstrap_detects_a_real_difference():
    rng = np.random.default_rng(0)
    rows = []
    for repeat in range(3):
        quality = rng.uniform(0, 100, 40)
        for method, predicted in (
            ("good", quality + rng.normal(0, 5, 40)),
            ("same", quality + rng.normal(0, 5, 40)),
            ("random", rng.uniform(0, 100, 40)),
        ):
            rows.append(
                pd.DataFrame(
                    {
                        "dataset": "synthetic",
                        "protocol": "content",
                        "repeat": repeat,
                        "method": method,
                        "image": [f"i{k}" for k in range(40)],
                        "content": "c",
                        "distortion": np.where(np.arange(40) < 20, "jpeg", "wn"),
                        "quality": quality,
                        "predicted": predicted,
                    }
                )
            )
    preds = pd.concat(rows, ignore_index=True)
    better = significance.paired_bootstrap(preds, "good", "random", n_boot=300)
    row = better[better["distortion"] == "ALL"].iloc[0]
    assert row["ci_low"] > 0 and row["verdict"] == "good significantly better"
    assert set(better["distortion"]) == {"ALL", "JPEG", "WN"}
    itself = significance.paired_bootstrap(preds, "good", "good", n_boot=100)
    assert (itself["difference"] == 0).all()
    assert (itself["verdict"] == "no significant difference").all()
    close = significance.paired_bootstrap(preds, "good", "same", n_boot=300)
    assert close.loc[close["distortion"] == "ALL", "verdict"].iloc[0] == "no significant difference"


def test_claims_table_with_and_without_classification(baselines, ours, tmp_path):
    preds = pd.concat([ours, baselines], ignore_index=True)
    summary = runner.summarise(runner.per_split_metrics(preds), preds)
    methods = list(ours["method"].unique())
    claims = claims_lib.claims_table(
        summary, methods, claims_lib.find_classification_tables(tmp_path)
    )
    assert {"claim", "paper_value", "measured", "difference", "verdict", "dataset"} <= set(claims)
    cls = claims[claims["claim"].str.startswith(("CNN_Full_img acc", "CNN_1_Mvote"))]
    assert (cls["verdict"] == "not measured in this run (notebooks 03/04 tables absent)").all()
    table3_rows = claims[claims["claim"] == "Table 3 SROCC ALL"]
    assert set(table3_rows["protocol"]) == {"content", "image"}
    assert table3_rows["verdict"].str.contains("synthetic, not LIVE").all()
    # a per-split classification table in notebooks 03/04's format (reader fixture)
    (tmp_path / "tables").mkdir()
    pd.DataFrame(
        {
            "dataset": "synthetic",
            "protocol": "content",
            "method": "CNN_Full_img (whole)",
            "architecture": "CNN_Full_img",
            "repeat": [0, 1],
            "accuracy": [0.70, 0.90],
            "weighted_precision": [0.7, 0.8],
            "weighted_recall": [0.7, 0.8],
            "weighted_f1": [0.7, 0.8],
        }
    ).to_csv(tmp_path / "tables" / "classification_metrics.csv", index=False)
    found = claims_lib.find_classification_tables(tmp_path)
    claims = claims_lib.claims_table(summary, methods, found)
    acc = claims[claims["claim"] == "CNN_Full_img accuracy"].iloc[0]
    assert acc["measured"] == pytest.approx(0.80)
    assert acc["difference"] == pytest.approx(0.80 - 0.7945)
    assert acc["verdict"].startswith("consistent")  # 0.7945 lies in the IQR [0.75, 0.85]
    f1 = claims[claims["claim"] == "CNN_Full_img weighted f1"].iloc[0]
    assert f1["verdict"].startswith("not reproduced")  # 0.778 above the IQR [0.725, 0.775]
    vote = claims[claims["claim"] == "CNN_1_Mvote accuracy"].iloc[0]
    assert vote["verdict"].startswith("not measured in this run")


def test_cross_dataset_both_directions(synthetic, settings, reg_settings, shared_data):
    live = load_dataset("live_subset", root=shared_data)
    small = replace(settings, names=("BRISQUE (published model)", "NIQE")).methods()
    forward = runner.cross_dataset_predictions(
        synthetic, live, [*small, EdgeCNNRegression(reg_settings)]
    )
    assert set(forward["dataset"]) == {"live_subset"}
    assert set(forward["train_dataset"]) == {"synthetic"}
    assert set(forward["method"]) == {m.name for m in small} | {"CNN_Full_img (regression)"}
    assert len(forward) == 3 * len(live)
    published = forward[forward["method"] == "BRISQUE (published model)"]
    assert published["trained_on_test"].all()  # LIVE images: flagged
    assert set(forward["content"]) == set(live["content"])
    back = runner.cross_dataset_predictions(live, synthetic, small)
    assert not back["trained_on_test"].any()
    table = table3_lib.cross_dataset_table(pd.concat([forward, back]), n_boot=50)
    assert set(table["protocol"]) == {
        "cross: synthetic -> live_subset",
        "cross: live_subset -> synthetic",
    }
    assert {"srocc", "srocc_ci_low", "srocc_ci_high", "krocc", "plcc_logistic"} <= set(table)
    assert "ALL" in set(table["column"])


def test_cross_dataset_refuses_datasets_with_common_images(settings):
    live = pd.DataFrame({"dataset": ["live"], "image": ["a"]})
    subset = pd.DataFrame({"dataset": ["live_subset"], "image": ["a"]})
    with pytest.raises(ValueError, match="without common images"):
        runner.cross_dataset_predictions(subset, live, settings.methods())
    with pytest.raises(ValueError, match="without common images"):
        runner.cross_dataset_predictions(live, live, settings.methods())
    assert runner.shares_images("live", "live_subset")
    assert not runner.shares_images("live", "csiq")


def test_no_significance_claim_against_a_baseline_that_failed_its_gate():
    """A broken trained baseline is reported as failed and no claim is made against it."""
    from edgeiqa.methods import Method

    rng = np.random.default_rng(0)
    rows = []
    for repeat in range(2):
        for content in ("c0", "c1"):
            for distortion in ("jpeg", "wn"):
                for level in range(4):
                    quality = 90.0 - 20 * level + rng.normal(0, 1)
                    rows.append(
                        dict(
                            dataset="synthetic",
                            protocol="content",
                            repeat=repeat,
                            image=f"{content}_{distortion}_{level}",
                            content=content,
                            distortion=distortion,
                            quality=quality,
                        )
                    )
    truth = pd.DataFrame(rows)

    class Good(Method):
        name, kind = "good", "trained"

    class Broken(Method):
        name, kind = "broken", "trained"

    class Metric(Method):
        name, kind = "metric", "full-reference"

    class Ours(Method):
        name, kind = "ours", "trained"

    def predicted(name, values):
        return truth.assign(method=name, predicted=values)

    frames = [
        predicted("ours", truth["quality"] + rng.normal(0, 5, len(truth))),
        predicted("good", truth["quality"] + rng.normal(0, 3, len(truth))),
        predicted("broken", -truth["quality"]),  # ranks every type backwards
        predicted("metric", truth["quality"]),
    ]
    predictions = {"synthetic": pd.concat(frames, ignore_index=True)}
    methods = [Good(), Broken(), Metric()]
    gate = gate_lib.gate_status_table(predictions["synthetic"], methods).set_index("method")
    assert gate["status"].to_dict() == {"good": "passed", "broken": "failed", "metric": "not gated"}
    assert "not ranked within contents" in gate.loc["broken", "reason"]
    no_synthetic = predictions["synthetic"].assign(dataset="live_subset")
    assert gate_lib.gate_status_table(no_synthetic, [Good()])["status"].tolist() == ["not run"]

    boot = significance.compare_all(predictions["synthetic"], ["ours"], ["good", "broken"], 100)
    held = significance.withhold_claims(boot, gate["status"].to_dict())
    broken = held[held["baseline"] == "broken"]
    assert broken["verdict"].eq("no claim: broken failed its sanity gate").all()
    assert not held.loc[held["baseline"] == "good", "verdict"].str.startswith("no claim").any()
    # a published model on its own training images: no claim either, whatever its gate
    seen = significance.withhold_claims(boot, {}, {("synthetic", "good")})
    good = seen[seen["baseline"] == "good"]
    assert good["verdict"].eq("no claim: good was trained on these test images").all()

"""The method interface and the runner: a method written outside the package (as a reader would
in a notebook cell) goes through the same runner as the study's own and reaches every table."""

import numpy as np
import pandas as pd
import pytest

from edgeiqa import splits as splits_lib
from edgeiqa.experiments import runner, significance
from edgeiqa.experiments import table3 as table3_lib
from edgeiqa.methods import LinearMap, Method, SkipSplit, check_method


def records(n_contents: int = 5, per_content: int = 8) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    rows = []
    for c in range(n_contents):
        for i in range(per_content):
            rows.append(
                {
                    "dataset": "toy",
                    "image": f"c{c}/img{i}.png",
                    "image_path": f"/nowhere/c{c}/img{i}.png",
                    "ref_path": f"/nowhere/c{c}/ref.png",
                    "content": f"c{c}",
                    "distortion": ("jpeg", "wn")[i % 2],
                    "quality": float(rng.uniform(5, 95)),
                }
            )
    return pd.DataFrame(rows)


class Oracle(Method):
    """Knows the score up to noise (defined here, outside the package, like a notebook cell)."""

    name, kind = "noisy oracle", "trained"

    def fit(self, train, context=None):
        self.fitted_on = set(train["image"])

    def predict(self, test, context=None):
        assert not self.fitted_on & set(test["image"])  # the runner never leaks test images
        noise = np.random.default_rng(context.repeat).normal(0, 5, len(test))
        return test["quality"].to_numpy() + noise


class Constant(Method):
    name, kind = "training mean", "trained"

    def fit(self, train, context=None):
        self.mean = train["quality"].mean()

    def predict(self, test, context=None):
        return np.full(len(test), self.mean)


class Blurry(Oracle):
    name = "very noisy oracle"

    def predict(self, test, context=None):
        noise = np.random.default_rng(100 + context.repeat).normal(0, 60, len(test))
        return test["quality"].to_numpy() + noise


class NeedsTwoRepeats(Constant):
    name = "skips odd repeats"

    def fit(self, train, context=None):
        if context.repeat % 2:
            raise SkipSplit
        super().fit(train, context)


def test_a_method_defined_outside_the_package_reaches_table3_and_significance():
    recs = records()
    splits = splits_lib.protocol_splits(recs, "content", n_repeats=3, seed=1)
    preds = runner.predict_splits(recs, splits, [Oracle(), Blurry(), NeedsTwoRepeats()])
    assert list(preds.columns) == runner.PREDICTION_COLUMNS + runner.EXTRA_COLUMNS
    assert set(preds["method"]) == {"noisy oracle", "very noisy oracle", "skips odd repeats"}
    assert set(preds.loc[preds["method"] == "skips odd repeats", "repeat"]) == {0, 2}
    # every method predicted exactly each split's test images
    for split in splits:
        part = preds[(preds["repeat"] == split.repeat) & (preds["method"] == "noisy oracle")]
        assert list(part["image"]) == list(recs["image"].iloc[split.test])

    result = runner.evaluate(preds, ours=["noisy oracle"], n_boot=200, seed=0)
    assert result.others == ["very noisy oracle", "skips odd repeats"]
    table = table3_lib.table3(result.summary, "toy", "content")
    assert list(table.index) == ["noisy oracle", "very noisy oracle", "skips odd repeats"]
    assert table.loc["skips odd repeats", ("", "splits")] == 2
    oracle = result.summary[
        (result.summary["method"] == "noisy oracle") & (result.summary["column"] == "ALL")
    ]
    assert oracle["srocc_median"].iloc[0] > 0.9
    verdicts = significance.verdict_table(result.bootstrap)
    row = verdicts.loc[("toy", "content", "noisy oracle", "very noisy oracle")]
    assert row["ALL"] == "noisy oracle significantly better"


def test_the_runner_refuses_what_is_not_a_method():
    with pytest.raises(TypeError, match="has no predict"):
        check_method(type("NoPredict", (), {"name": "x", "kind": "trained", "fit": None})())
    bad = Constant()
    bad.kind = "magic"
    with pytest.raises(TypeError, match="kind 'magic'"):
        check_method(bad)


def test_a_wrong_number_of_predictions_is_one_line():
    class Short(Constant):
        name = "short"

        def predict(self, test, context=None):
            return np.zeros(len(test) - 1)

    recs = records()
    splits = splits_lib.protocol_splits(recs, "loco")
    with pytest.raises(ValueError, match="short: predicted 7 values for 8 test images"):
        runner.predict_splits(recs, splits, [Short()])


def test_linear_map_is_monotone_and_flags_constant_scores():
    mapped = LinearMap.fit(np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0]))
    pred = mapped(np.array([4.0, 0.0]))
    np.testing.assert_allclose(pred.quality, [40.0, 0.0], atol=1e-9)
    assert pred.mapping.startswith("linear")
    flat = LinearMap.fit(np.array([5.0, 5.0]), np.array([10.0, 30.0]))(np.array([1.0]))
    assert flat.quality[0] == 20.0 and flat.mapping.startswith("constant")


def _with_files(table: pd.DataFrame, folder, offset: int) -> pd.DataFrame:
    """``table`` with a distinct small image written for each record."""
    from PIL import Image

    table = table.copy()
    paths = []
    for i in range(len(table)):
        path = folder / f"{offset + i}.png"
        Image.fromarray(np.full((8, 8, 3), offset + i, dtype=np.uint8)).save(path)
        paths.append(str(path))
    table["image_path"] = paths
    return table


def test_cross_dataset_keeps_each_datasets_contents_apart(tmp_path):
    a = _with_files(records(3, 4), tmp_path, 0)
    # same content names in another dataset
    b = _with_files(records(3, 4).assign(dataset="other"), tmp_path, 100)
    seen = {}

    class Spy(Constant):
        name = "spy"

        def fit(self, train, context=None):
            seen["train"] = set(train["content"])
            seen["test"] = context.test_contents
            super().fit(train, context)

    out = runner.cross_dataset_predictions(a, b, [Spy()])
    assert not seen["train"] & seen["test"]  # prefixed per dataset, so they cannot collide
    assert set(out["content"]) == set(b["content"])  # reported under their own names
    assert set(out["protocol"]) == {"cross: toy -> other"}
    (tmp_path / "copy").mkdir()
    same_pixels = _with_files(records(1, 2).assign(dataset="copy"), tmp_path / "copy", 0)
    with pytest.raises(ValueError, match="2 test image.*pixel-identical"):
        runner.cross_dataset_predictions(a, same_pixels, [Spy()])


def test_a_live_image_loaded_under_another_name_is_flagged_as_seen(shared_data, tmp_path):
    """A model trained on LIVE has seen every LIVE image, whatever folder it is read from."""
    import shutil

    from edgeiqa.data.registry import load_dataset

    live = load_dataset("live_subset", shared_data).head(4).reset_index(drop=True)
    copied = live.copy()
    copied["dataset"] = "my_photos"
    copied["image"] = [f"photo{i}.png" for i in range(len(copied))]
    copied["image_path"] = [str(tmp_path / name) for name in copied["image"]]
    for src, dst in zip(live["image_path"], copied["image_path"], strict=True):
        shutil.copyfile(src, dst)
    # one image of the user's own, not from LIVE: the pixels of a LIVE image, altered
    from PIL import Image

    own = np.asarray(Image.open(copied["image_path"].iloc[-1])).copy()
    own[0, 0] = 255 - own[0, 0]
    Image.fromarray(own).save(copied["image_path"].iloc[-1])
    copied["content"] = "mine"

    class TrainedOnLive(Constant):
        name, trained_on = "published on LIVE", ("live", "live_subset")

    split = splits_lib.Split("cross", 0, np.arange(len(live)), np.arange(len(live), 2 * len(live)))
    both = pd.concat([live, copied], ignore_index=True)
    out = runner.predict_splits(both, [split], [TrainedOnLive(), Constant()])
    flagged = out.set_index(["method", "image"])["trained_on_test"]
    assert list(flagged["published on LIVE"]) == [True, True, True, False]
    assert not flagged["training mean"].any()  # trained here only: nothing seen before

"""Tests for edgeiqa.train: learning beats chance, seeds reproduce, validation stays in-group,
checkpoints round-trip. Inputs are tiny synthetic edge maps whose intensity encodes the class."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from scipy import stats

from edgeiqa.models import build_model
from edgeiqa.train import (
    TrainConfig,
    bf16_supported,
    fit,
    load_checkpoint,
    predict,
    save_checkpoint,
    split_validation,
)

torch.set_num_threads(1)

FAST = TrainConfig(epochs=5, batch_size=8, lr=3e-3, progress=False)


def synthetic(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Edge maps in two orientations whose brightness grows with the class (0..3)."""
    rng = np.random.default_rng(seed)
    inputs, classes = [], []
    for i in range(n):
        shape = [(16, 24), (24, 16)][(i // 4) % 2]
        inputs.append((rng.random(shape) * (0.25 + 0.25 * (i % 4))).astype(np.float32))
        classes.append(i % 4)
    groups = np.arange(n) // 8
    return inputs, np.array(classes), groups


@pytest.fixture(scope="module")
def train_data():
    return synthetic(96, seed=0)


@pytest.fixture(scope="module")
def test_data():
    return synthetic(48, seed=1)


def test_classification_beats_chance(train_data, test_data):
    inputs, classes, groups = train_data
    result = fit(build_model("CNN_Full_img"), inputs, classes, "classification", FAST, groups)
    probabilities = predict(result.model, test_data[0], "classification")
    assert probabilities.shape == (48, 4)
    assert np.allclose(probabilities.sum(1), 1, atol=1e-5)
    assert (probabilities.argmax(1) == test_data[1]).mean() >= 0.5  # chance is 0.25
    history = result.history
    assert list(history.columns) == ["epoch", "train_loss", "val_loss", "val_metric"]
    assert len(history) == FAST.epochs
    assert history["train_loss"].iloc[-1] < history["train_loss"].iloc[0]
    assert result.best_epoch == int(history.loc[history["val_loss"].idxmin(), "epoch"])


def test_regression_learns_a_monotone_score(train_data, test_data):
    inputs, classes, _ = train_data
    targets = classes / 4 + 0.1
    config = TrainConfig(epochs=5, batch_size=8, lr=3e-3, progress=False, loss="l1")
    result = fit(build_model("CNN_Full_img", "regression"), inputs, targets, "regression", config)
    predicted = predict(result.model, test_data[0], "regression")
    assert predicted.shape == (48,)
    assert predicted.min() >= 0 and predicted.max() <= 1
    assert stats.spearmanr(predicted, test_data[1]).statistic > 0.8


def test_same_seed_gives_identical_numbers_and_other_seed_differs(train_data):
    inputs, classes, groups = train_data
    config = TrainConfig(epochs=2, batch_size=8, lr=3e-3, progress=False, seed=7)
    runs = [
        fit(build_model("CNN_1_Mvote", seed=1), inputs, classes, "classification", cfg, groups)
        for cfg in (config, config, TrainConfig(**{**config.__dict__, "seed": 8}))
    ]
    first, second, other = (run.model.state_dict() for run in runs)
    assert all(torch.equal(first[k], second[k]) for k in first)
    assert runs[0].history.equals(runs[1].history)
    assert np.array_equal(
        predict(runs[0].model, inputs, "classification"),
        predict(runs[1].model, inputs, "classification"),
    )
    assert not all(torch.equal(first[k], other[k]) for k in first)


def test_fit_leaves_the_callers_rng_and_determinism_setting_alone(train_data):
    inputs, classes, _ = train_data
    state = torch.random.get_rng_state()
    deterministic = torch.are_deterministic_algorithms_enabled()
    config = TrainConfig(epochs=1, batch_size=16, progress=False)
    fit(build_model("CNN_Full_img"), inputs, classes, "classification", config)
    assert torch.equal(torch.random.get_rng_state(), state)
    assert torch.are_deterministic_algorithms_enabled() == deterministic


def test_validation_keeps_groups_whole():
    groups = np.repeat(np.arange(10), [3, 5, 2, 4, 4, 6, 1, 3, 2, 5])
    train, val = split_validation(len(groups), 0.2, seed=0, groups=groups)
    assert len(train) + len(val) == len(groups)
    assert not set(groups[train]) & set(groups[val])
    assert len(val) >= 0.2 * len(groups)
    again = split_validation(len(groups), 0.2, seed=0, groups=groups)
    assert np.array_equal(val, again[1])
    _, no_val = split_validation(20, 0.0, seed=0)
    assert len(no_val) == 0
    with pytest.raises(ValueError, match="group"):
        split_validation(4, 0.25, seed=0, groups=["a"] * 4)


def test_without_validation_the_last_epoch_is_kept(train_data):
    inputs, classes, _ = train_data
    config = TrainConfig(epochs=2, batch_size=16, progress=False, val_fraction=0.0)
    result = fit(build_model("CNN_Full_img"), inputs, classes, "classification", config)
    assert result.best_epoch == 2
    assert result.history["val_loss"].isna().all()


def test_predict_keeps_input_order_across_mixed_sizes():
    model = build_model("CNN_4x").eval()
    rng = np.random.default_rng(0)
    inputs = [rng.random(shape).astype(np.float32) for shape in [(20, 30), (30, 20)] * 3]
    together = predict(model, inputs, "classification", batch_size=2)
    one_by_one = np.concatenate([predict(model, [x], "classification") for x in inputs])
    assert np.allclose(together, one_by_one, atol=1e-6)


def test_speed_options_run_and_agree(train_data):
    inputs, classes, _ = train_data
    config = TrainConfig(epochs=1, batch_size=16, progress=False, channels_last=True)
    model = fit(build_model("CNN_2x"), inputs, classes, "classification", config).model
    plain = predict(model, inputs[:8], "classification", channels_last=False, precision="fp32")
    fp32 = predict(model, inputs[:8], "classification", precision="fp32")
    assert np.allclose(fp32, plain, atol=1e-5)
    if bf16_supported(torch.device("cpu")):
        fast = predict(model, inputs[:8], "classification", precision="bf16")
        assert np.abs(fast - plain).max() < 0.1
        config = TrainConfig(epochs=1, batch_size=16, progress=False, precision="bf16")
        fit(build_model("CNN_2x"), inputs, classes, "classification", config)
    else:
        with pytest.raises(ValueError, match="no native bfloat16"):
            predict(model, inputs[:8], "classification", precision="bf16")


def test_checkpoint_round_trip(tmp_path, train_data):
    inputs, classes, _ = train_data
    config = TrainConfig(epochs=1, batch_size=16, progress=False)
    model = fit(
        build_model("CNN_4x", "regression"), inputs, classes / 4, "regression", config
    ).model
    meta = {"dataset": "synthetic", "seed": np.int64(0), "metrics": {"srocc": np.float32(0.5)}}
    pt = save_checkpoint(model, tmp_path / "models" / "cnn4x.pt", meta)
    assert pt == tmp_path / "models" / "cnn4x.pt"
    record = json.loads((tmp_path / "models" / "cnn4x.json").read_text())
    assert record["dataset"] == "synthetic" and record["model_args"]["name"] == "CNN_4x"
    loaded, loaded_meta = load_checkpoint(tmp_path / "models" / "cnn4x")
    assert loaded_meta == record
    assert loaded.task == "regression" and loaded.name == "CNN_4x"
    assert np.array_equal(
        predict(loaded, inputs, "regression"), predict(model, inputs, "regression")
    )
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing")


def test_bad_input_is_reported(train_data):
    inputs, classes, _ = train_data
    model = build_model("CNN_Full_img")
    with pytest.raises(ValueError, match="input 0"):
        fit(model, [np.zeros((2, 3, 4))], np.array([0]), "classification", FAST)
    with pytest.raises(ValueError, match="class indices"):
        fit(model, inputs, classes + 1, "classification", FAST)
    with pytest.raises(ValueError, match="0-1"):
        fit(build_model("CNN_Full_img", "regression"), inputs, classes * 25.0, "regression", FAST)
    with pytest.raises(ValueError, match="built for"):
        predict(model, inputs, "regression")
    with pytest.raises(ValueError, match="shape"):
        fit(model, inputs, classes[:-1], "classification", FAST)


def test_input_scale_is_set_from_training_pixels_and_checkpointed(tmp_path):
    from edgeiqa.models import build_model
    from edgeiqa.train import TrainConfig, fit, input_scale, load_checkpoint, save_checkpoint

    rng = np.random.default_rng(0)
    maps = [rng.random((32, 32)).astype(np.float32) * 0.1 for _ in range(8)]
    expected = 1.0 / np.concatenate([m.ravel() for m in maps]).std()
    assert input_scale(maps) == pytest.approx(expected, rel=1e-6)
    assert input_scale([np.zeros((4, 4))]) == 1.0
    model = build_model("CNN_Full_img", task="regression")
    cfg = TrainConfig(epochs=1, batch_size=4, val_fraction=0.0, progress=False)
    result = fit(model, maps, np.linspace(0, 1, 8), "regression", cfg)
    assert float(result.model.input_scale) == pytest.approx(expected, rel=1e-5)
    path = save_checkpoint(result.model, tmp_path / "m", {"dataset": "test"})
    loaded, _ = load_checkpoint(path)
    assert float(loaded.input_scale) == pytest.approx(expected, rel=1e-5)


def test_micro_batches_give_the_recipes_batch(train_data):
    """A batch computed in several passes (gradients accumulated) trains the same weights as
    the batch in one pass: the pixel budget is a speed setting, not part of the recipe."""
    inputs, classes, _ = train_data
    weights = []
    for budget in (16 * 24, 8 * 16 * 24):  # one map per pass, then the whole batch of 8
        config = TrainConfig(
            epochs=2, batch_size=8, progress=False, precision="fp32", pixel_budget=budget
        )
        model = fit(build_model("CNN_Full_img", seed=3), inputs, classes, "classification", config)
        weights.append(torch.cat([p.detach().flatten() for p in model.model.parameters()]))
    # float32 sums in a different order: agreement to rounding, not bit for bit
    assert torch.allclose(weights[0], weights[1], rtol=1e-4, atol=1e-5)


def test_crops_train_on_windows_and_predict_whole_maps(train_data):
    inputs, classes, _ = train_data
    config = TrainConfig(epochs=2, batch_size=8, progress=False, crop=12, val_fraction=0.0)
    first = fit(build_model("CNN_Full_img", seed=0), inputs, classes, "classification", config)
    again = fit(build_model("CNN_Full_img", seed=0), inputs, classes, "classification", config)
    whole = predict(first.model, inputs[:4], "classification")
    assert whole.shape == (4, 4)
    assert np.array_equal(whole, predict(again.model, inputs[:4], "classification"))
    uncropped = fit(
        build_model("CNN_Full_img", seed=0),
        inputs,
        classes,
        "classification",
        TrainConfig(epochs=2, batch_size=8, progress=False, val_fraction=0.0),
    )
    assert not np.allclose(whole, predict(uncropped.model, inputs[:4], "classification"))
    with pytest.raises(ValueError, match="crop"):
        fit(
            build_model("CNN_Full_img"),
            inputs,
            classes,
            "classification",
            TrainConfig(epochs=1, crop=-1, progress=False),
        )


def test_runtime_settings(monkeypatch):
    from edgeiqa import runtime

    assert runtime.micro_batch((512, 768)) == 1
    assert runtime.micro_batch((64, 96)) == 64
    assert runtime.micro_batch((2000, 3000)) == 1
    assert runtime.resolve_precision("fp32", torch.device("cpu")) == "fp32"
    auto = runtime.resolve_precision("auto", torch.device("cpu"))
    assert auto == ("bf16" if bf16_supported(torch.device("cpu")) else "fp32")
    with pytest.raises(ValueError, match="precision"):
        runtime.resolve_precision("fp16", torch.device("cpu"))
    monkeypatch.setenv("EDGEIQA_THREADS", "two")
    with pytest.raises(ValueError, match="EDGEIQA_THREADS"):
        runtime.set_threads()
    before = torch.get_num_threads()
    monkeypatch.setenv("EDGEIQA_THREADS", str(before))
    assert runtime.set_threads() == before


@pytest.mark.parametrize("damage", ["empty", "garbage", "foreign-object", "bad-card"])
def test_unreadable_checkpoint_is_a_one_line_error(tmp_path, damage):
    import pathlib

    path = tmp_path / f"{damage}.pt"
    if damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif damage == "foreign-object":
        torch.save({"x": pathlib.PurePosixPath("/")}, path)
    else:
        good = save_checkpoint(build_model("CNN_Full_img"), tmp_path / "good", {"a": 1})
        saved = torch.load(good, weights_only=True)
        saved["meta_json"] = "{not json"
        torch.save(saved, path)
    with pytest.raises(ValueError, match="not a readable edgeiqa checkpoint") as info:
        load_checkpoint(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    assert "weights_only" not in message  # never the advice to unpickle untrusted code

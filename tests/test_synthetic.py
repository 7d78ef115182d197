import json

import numpy as np
import pytest

from edgeiqa.data import calibration, load_dataset, synthetic
from edgeiqa.distortions import LEVELS


def test_calibrated_dmos_increases_with_level_for_every_type():
    calib = calibration.load_calibration()
    for dist, strengths in LEVELS.items():
        dmos = [calibration.predicted_dmos(dist, s, i, calib) for i, s in enumerate(strengths)]
        assert all(a < b for a, b in zip(dmos, dmos[1:], strict=False)), (dist, dmos)


def test_stored_calibration_matches_a_fresh_fit(shared_data):
    stored = calibration.load_calibration()
    fresh = calibration.fit_calibration(shared_data)
    for dist, params in fresh["curves"].items():
        for key in ("lo", "hi", "c", "w"):
            assert params[key] == pytest.approx(stored["curves"][dist][key], rel=1e-4, abs=1e-3)
    for dist, quantiles in fresh["level_quantiles"].items():
        assert quantiles == pytest.approx(stored["level_quantiles"][dist])


def test_jpeg_quality_factor_is_recovered_exactly(shared_data):
    from edgeiqa.data.images import read_rgb

    subset = shared_data / "live_subset" / "images"
    # LIVE's jpeg/img96 is monarch coded at IJG quality 94 (found by re-encoding)
    q = calibration.recover_jpeg_quality(
        read_rgb(subset / "refimgs" / "monarch.png"), read_rgb(subset / "jpeg" / "img96.png")
    )
    assert q == 94


def test_quick_build_records(session_cache):
    df = load_dataset("synthetic", profile="quick", seed=0, progress=False)
    assert len(df) == 4 * 5 * 3
    assert set(df["distortion"]) == {"jpeg", "jp2k", "wn", "gblur", "ff"}
    assert df["quality"].between(0, 100).all()
    assert df["level"].isin([1, 3, 5]).all()
    assert (
        df["label_grounding"].str.contains("less grounded") == df["distortion"].isin(["jp2k", "ff"])
    ).all()
    # worse level, worse quality, for every content and type
    mean_q = df.groupby(["distortion", "level"])["quality"].mean().unstack()
    assert (mean_q.diff(axis=1).iloc[:, 1:] < 0).all().all()
    assert any(df["content"] == "grace_hopper")  # a portrait content is in the quick set


def test_builds_are_identical_for_the_same_seed(tmp_path):
    kw = dict(contents=["astronaut", "coins"], n_levels=2, max_side=64, progress=False)
    a = synthetic.build(tmp_path / "a", seed=5, **kw)
    b = synthetic.build(tmp_path / "b", seed=5, **kw)
    synthetic.build(tmp_path / "c", seed=6, **kw)
    assert a.equals(b)
    for name in a["image"]:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    noisy = "wn/astronaut_L1.png"
    assert (tmp_path / "a" / noisy).read_bytes() != (tmp_path / "c" / noisy).read_bytes()


def test_cache_key_follows_parameters(session_cache):
    first = load_dataset("synthetic", profile="quick", seed=0, progress=False)
    again = load_dataset("synthetic", profile="quick", seed=0, progress=False)
    other = load_dataset("synthetic", profile="quick", seed=1, progress=False)
    assert first["image_path"].tolist() == again["image_path"].tolist()
    assert first["image_path"].iloc[0] != other["image_path"].iloc[0]
    params = json.loads((session_cache / "synthetic").glob("*/params.json").__next__().read_text())
    assert params["version"] == synthetic.BUILD_VERSION


def test_pristine_images_are_downscaled_never_upscaled():
    img = synthetic.pristine_image("coins", max_side=1000)
    assert img.shape[:2] == (303, 384)
    small = synthetic.pristine_image("grace_hopper", max_side=100)
    assert max(small.shape[:2]) == 100 and small.shape[0] > small.shape[1]
    assert small.dtype == np.uint8 and small.shape[2] == 3


def test_bad_sizes_are_errors():
    with pytest.raises(ValueError, match="n_levels"):
        synthetic.level_indices(6)
    with pytest.raises(ValueError, match="n_contents"):
        load_dataset("synthetic", profile="quick", n_contents=1)

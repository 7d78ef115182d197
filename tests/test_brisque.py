"""BRISQUE: the NSS fits, MATLAB grey and resize, the 36 features, the retrained SVR and the
authors' published model (its files, header check and scores)."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage, stats
from skimage import data

from edgeiqa.baselines import brisque, brisque_published, nss
from edgeiqa.data.images import rgb_to_grey


def _camera() -> np.ndarray:
    return data.camera().astype(np.float64)  # 512 x 512 natural photograph, grey on 0-255


def test_ggd_and_aggd_fits_recover_known_shapes():
    rng = np.random.default_rng(0)
    gauss = rng.normal(0, 2.0, 200_000)
    alpha, var = nss.fit_ggd(gauss)
    assert alpha == pytest.approx(2.0, abs=0.05) and var == pytest.approx(4.0, rel=0.02)
    laplace = rng.laplace(0, 1.0, 200_000)
    assert nss.fit_ggd(laplace)[0] == pytest.approx(1.0, abs=0.05)
    sample = stats.gennorm.rvs(0.8, size=200_000, random_state=1)
    assert nss.fit_aggd(sample)[0] == pytest.approx(0.8, abs=0.05)
    # asymmetric: a wider right side gives a larger right std and a positive mean
    skewed = np.where(gauss < 0, gauss, 3 * gauss)
    alpha, left, right = nss.fit_aggd(skewed)
    assert right > 2.5 * left and nss.aggd_mean(alpha, left, right) > 0


def test_degenerate_input_stays_finite():
    assert nss.fit_ggd(np.zeros(100)) == (nss.DEGENERATE_SHAPE, 0.0)
    assert nss.fit_aggd(np.zeros(100)) == (nss.DEGENERATE_SHAPE, 0.0, 0.0)
    assert nss.fit_aggd(np.abs(np.arange(1.0, 10.0)))[1] == 0.0  # no negative samples


@pytest.mark.parametrize("kind", ["flat", "noise", "natural"])
def test_features_have_length_36_and_are_finite(kind):
    rng = np.random.default_rng(0)
    image = {
        "flat": np.full((96, 128), 128.0),
        "noise": rng.uniform(0, 255, (96, 128)),
        "natural": _camera()[:200, :240],
    }[kind]
    feats = brisque.brisque_features(image)
    assert feats.shape == (brisque.N_FEATURES,) == (36,)
    assert len(brisque.FEATURE_NAMES) == 36
    assert np.all(np.isfinite(feats))
    assert brisque.brisque_features(image.round().astype(np.uint8)).shape == (36,)


def test_features_follow_known_nss_behaviour():
    camera = _camera()
    sharp = brisque.brisque_features(camera)
    blurred = brisque.brisque_features(ndimage.gaussian_filter(camera, 3))
    noisy = brisque.brisque_features(
        np.clip(camera + np.random.default_rng(0).normal(0, 25.0, camera.shape), 0, 255)
    )
    shape = brisque.FEATURE_NAMES.index("s1_mscn_shape")
    # blur makes MSCN coefficients heavier-tailed (smaller GGD shape), white noise lighter-tailed
    # (Mittal et al. 2012, Fig. 3)
    assert blurred[shape] < sharp[shape] < noisy[shape]


def test_matlab_grey_rounds_like_rgb2gray_on_uint8():
    rgb = np.array([[[255, 255, 255], [0, 0, 0], [10, 20, 30], [1, 0, 0]]], dtype=np.uint8)
    grey = rgb_to_grey(rgb)
    assert grey.dtype == np.float64 and grey.shape == (1, 4)
    # 10 * 0.2989 + 20 * 0.5870 + 30 * 0.1140 = 18.13 -> 18; 0.2989 -> 0
    assert grey.tolist() == [[255.0, 0.0, 18.0, 0.0]]
    with pytest.raises(ValueError, match="uint8"):
        rgb_to_grey(rgb.astype(np.float64))


def test_imresize_half_follows_matlab():
    # MATLAB imresize(I, 0.5): ceil(size / 2), a constant stays constant, and away from the
    # borders a linear ramp is sampled at the output pixel centres 2k - 0.5 (1-based)
    assert nss.imresize_half(np.full((7, 10), 3.0)).shape == (4, 5)
    np.testing.assert_allclose(nss.imresize_half(np.full((7, 10), 3.0)), 3.0)
    ramp = np.tile(np.arange(1.0, 41.0), (40, 1))
    half = nss.imresize_half(ramp)
    np.testing.assert_allclose(half[5, 3:-3], 2 * np.arange(4, 18) - 0.5, atol=1e-12)
    # the mirrored borders are checked by the calibration (tests/test_calibration_nss.py)


def _blur_set(n_contents=5, sigmas=(0.0, 1.0, 2.0, 3.0), size=96):
    images, quality, groups = [], [], []
    for c in range(n_contents):
        base = data.camera()[c * 80 : c * 80 + size, c * 60 : c * 60 + size].astype(float)
        for s in sigmas:
            images.append(ndimage.gaussian_filter(base, s) if s else base)
            quality.append(90.0 - 25.0 * s)
            groups.append(f"c{c}")
    return images, np.array(quality), np.array(groups)


def test_retrained_svr_scores_a_blurrier_image_worse():
    images, quality, groups = _blur_set()
    x = np.vstack([brisque.brisque_features(im) for im in images])
    train = groups != "c4"
    search = brisque.fit_svr(x[train], quality[train], groups[train])
    assert set(search.best_params_) == {"svr__C", "svr__gamma"}
    predicted = search.predict(x[~train])  # held-out content, sharp .. blurriest
    assert predicted[0] > predicted[-1]
    assert stats.spearmanr(predicted, quality[~train]).statistic > 0.7


def test_svr_needs_two_contents_and_finite_features():
    x = np.zeros((4, 36))
    with pytest.raises(ValueError, match="at least 2 training contents"):
        brisque.fit_svr(x, np.arange(4.0), ["a"] * 4)
    x[0, 0] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        brisque.fit_svr(x, np.arange(4.0), ["a", "a", "b", "b"])


def test_published_model_scores_a_blurrier_image_worse():
    rgb = data.astronaut()
    blurred = np.stack([ndimage.gaussian_filter(rgb[..., k], 3) for k in range(3)], axis=2)
    sharp_score = brisque_published.score_features(brisque.brisque_features(rgb_to_grey(rgb)))
    blur_score = brisque_published.score_features(brisque.brisque_features(rgb_to_grey(blurred)))
    assert np.isfinite(sharp_score) and np.isfinite(blur_score)
    assert blur_score > sharp_score  # DMOS scale: higher = worse


def test_published_model_flags_live_images():
    from edgeiqa.data.identity import seen_in_training

    records = pd.DataFrame({"dataset": ["live", "live_subset", "synthetic", "csiq"]})
    trained_on = brisque_published.PublishedBrisque().trained_on
    assert trained_on == ("live", "live_subset")
    # by name here (no images); by pixels in tests/test_runner.py
    flags = seen_in_training(records.assign(image_path=""), trained_on, root="/nonexistent")
    assert flags.tolist() == [True, True, False, False]


def test_authors_model_header_and_ranges():
    model = brisque_published.load_model()
    assert model.support_vectors.shape == (774, 36) and model.coef.shape == (774,)
    assert model.rho == -153.591 and model.gamma == 0.05
    assert model.target_range == (-1.0, 1.0)
    assert model.feature_min[0] == 0.338 and model.feature_max[0] == 10.0  # allrange, row 1
    assert model.feature_min[-1] == 0.001118 and model.feature_max[-1] == 0.370399


def _copy_model(tmp_path, edit=None):
    source = brisque_published.package_dir()
    text = (source / "allmodel").read_text()
    (tmp_path / "allmodel").write_text(edit(text) if edit else text)
    (tmp_path / "brisque.py").write_text((source / "brisque.py").read_text())
    return tmp_path


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("rho -153.591", "rho -155.845"),  # the old brisque 0.2.0 model
        lambda t: t.replace("total_sv 774", "total_sv 770"),
        lambda t: t[: len(t) // 2],  # truncated: fewer support vectors than the header says
        lambda t: t.replace("\nSV\n", "\n"),  # no SV section
    ],
)
def test_a_model_other_than_the_authors_is_refused(tmp_path, edit):
    folder = _copy_model(tmp_path, edit)
    with pytest.raises(ValueError, match="allmodel: not the BRISQUE authors' allmodel"):
        brisque_published.load_model(str(folder))


def test_an_intact_copy_loads_and_scores_the_same(tmp_path):
    folder = _copy_model(tmp_path)
    x = brisque.brisque_features(_camera())
    copy = brisque_published.load_model(str(folder))
    assert brisque_published.score_features(x, copy) == brisque_published.score_features(x)


def test_missing_ranges_are_refused(tmp_path):
    folder = _copy_model(tmp_path)
    (folder / "brisque.py").write_text("class BRISQUE:\n    pass\n")
    with pytest.raises(ValueError, match="brisque.py: no _scaler"):
        brisque_published.read_ranges(folder / "brisque.py")


def test_retrained_svr_and_authors_model_share_the_feature_function(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "astronaut.png"
    Image.fromarray(data.astronaut()[:200, :240]).save(path)
    expected = brisque.brisque_features(rgb_to_grey(data.astronaut()[:200, :240]))
    np.testing.assert_array_equal(brisque.image_features(path), expected)
    svr = brisque.BrisqueSVR(progress=False)
    np.testing.assert_array_equal(svr._x(pd.DataFrame({"image_path": [str(path)]}))[0], expected)
    assert brisque_published.published_score(path) == brisque_published.score_features(expected)

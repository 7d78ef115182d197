"""BRISQUE: the NSS fits, the 36 features, the retrained SVR and the published model."""

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage, stats
from skimage import data

from edgeiqa.baselines import brisque, brisque_published, nss


def _camera() -> np.ndarray:
    return data.camera().astype(np.float64) / 255.0  # 512 x 512 natural photograph, 0-1


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
        "flat": np.full((96, 128), 0.5),
        "noise": rng.uniform(0, 1, (96, 128)),
        "natural": _camera()[:200, :240],
    }[kind]
    feats = brisque.brisque_features(image)
    assert feats.shape == (brisque.N_FEATURES,) == (36,)
    assert len(brisque.FEATURE_NAMES) == 36
    assert np.all(np.isfinite(feats))
    assert brisque.brisque_features((image * 255).round().astype(np.uint8)).shape == (36,)


def test_features_follow_known_nss_behaviour():
    camera = _camera()
    sharp = brisque.brisque_features(camera)
    blurred = brisque.brisque_features(ndimage.gaussian_filter(camera, 3))
    noisy = brisque.brisque_features(
        np.clip(camera + np.random.default_rng(0).normal(0, 0.1, camera.shape), 0, 1)
    )
    shape = brisque.FEATURE_NAMES.index("s1_mscn_shape")
    # blur makes MSCN coefficients heavier-tailed (smaller GGD shape), white noise lighter-tailed
    # (Mittal et al. 2012, Fig. 3)
    assert blurred[shape] < sharp[shape] < noisy[shape]


def test_features_match_the_published_package_at_full_scale():
    # our implementation of the authors' code against the brisque package's own code path
    rgb = data.astronaut()[:256, :256]
    package = brisque_published.package_features(rgb)
    grey = rgb.astype(np.float64) @ np.array([0.2125, 0.7154, 0.0721]) / 255.0  # rgb2gray
    ours = brisque.brisque_features(grey)
    np.testing.assert_allclose(ours[:18], package[:18], rtol=0.05, atol=0.005)


def _blur_set(n_contents=5, sigmas=(0.0, 1.0, 2.0, 3.0), size=96):
    images, quality, groups = [], [], []
    for c in range(n_contents):
        base = data.camera()[c * 80 : c * 80 + size, c * 60 : c * 60 + size] / 255.0
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
    sharp_score = brisque_published.score_features(brisque_published.package_features(rgb))
    blur_score = brisque_published.score_features(brisque_published.package_features(blurred))
    assert np.isfinite(sharp_score) and np.isfinite(blur_score)
    assert blur_score > sharp_score  # DMOS scale: higher = worse


def test_published_model_flags_live_images():
    records = pd.DataFrame({"dataset": ["live", "live_subset", "synthetic", "csiq"]})
    flags = brisque_published.overlaps_training_data(records)
    assert flags.tolist() == [True, True, False, False]

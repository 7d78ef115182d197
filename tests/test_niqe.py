"""NIQE: patch features, the pristine model, and its score on blur and noise."""

import numpy as np
import pandas as pd
import pytest
import scipy.io
from PIL import Image
from scipy import ndimage
from skimage import data

from edgeiqa.baselines import niqe


def _save(path, grey255):
    rgb = np.repeat(np.clip(grey255, 0, 255).round().astype(np.uint8)[..., None], 3, 2)
    Image.fromarray(rgb).save(path)
    return str(path)


def test_patch_features_shape_and_sharpness():
    image = data.camera().astype(float)
    feats, sharp = niqe.patch_features(image, patch_size=64)
    assert feats.shape == (64, niqe.N_FEATURES) == (64, 36)  # 8 x 8 patches of 512 x 512
    assert sharp.shape == (64,) and np.all(sharp >= 0)
    assert np.all(np.isfinite(feats))
    flat_feats, flat_sharp = niqe.patch_features(np.full((96, 96), 128.0), patch_size=32)
    assert np.all(np.isfinite(flat_feats)) and np.all(flat_sharp < 1e-3)  # float rounding
    with pytest.raises(ValueError, match="smaller than one"):
        niqe.patch_features(np.zeros((40, 40)), patch_size=48)
    with pytest.raises(ValueError, match="even"):
        niqe.patch_features(image, patch_size=33)


def test_blurrier_and_noisier_images_get_worse_scores(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    pristine = [
        _save(tmp_path / "p1.png", data.camera()[:256, :256]),
        _save(tmp_path / "p2.png", data.camera()[256:, 256:]),
        _save(tmp_path / "p3.png", data.astronaut()[:256, 256:].mean(axis=2)),
    ]
    model = niqe.fit_niqe(pristine, patch_size=32)
    assert model.n_images == 3 and 2 <= model.n_patches <= 3 * 64
    assert model.mean.shape == (36,) and model.cov.shape == (36, 36)
    test = data.camera()[:256, 256:].astype(float)  # unseen part of the scene
    noise = np.random.default_rng(0).normal(0, 20.0, test.shape)
    paths = [
        _save(tmp_path / "t0.png", test),
        _save(tmp_path / "t1.png", ndimage.gaussian_filter(test, 1.5)),
        _save(tmp_path / "t2.png", ndimage.gaussian_filter(test, 4.0)),
        _save(tmp_path / "t3.png", test + noise),
    ]
    scores = niqe.niqe_scores(model, paths)
    assert np.all(np.isfinite(scores)) and np.all(scores >= 0)
    assert scores[0] < scores[1] < scores[2]  # higher = worse
    assert scores[0] < scores[3]


def test_fit_needs_pristine_images():
    with pytest.raises(ValueError, match="at least one pristine"):
        niqe.fit_niqe([])


def test_choose_patch_size(tmp_path):
    big = _save(tmp_path / "big.png", np.zeros((200, 300)))
    small = _save(tmp_path / "small.png", np.zeros((100, 130)))
    assert niqe.choose_patch_size(pd.DataFrame({"image_path": [big]})) == 96
    assert niqe.choose_patch_size(pd.DataFrame({"image_path": [big, small]})) == 48
    tiny = _save(tmp_path / "tiny.png", np.zeros((40, 40)))
    with pytest.raises(ValueError, match="too small"):
        niqe.choose_patch_size(pd.DataFrame({"image_path": [tiny], "dataset": ["x"]}))


def test_pristine_pool_excludes_test_contents():
    records = pd.DataFrame(
        {
            "content": ["a", "a", "b", "c"],
            "ref_path": ["/r/a.png", "/r/a.png", "/r/b.png", "/r/c.png"],
        }
    )
    test = np.array([2])  # content b is tested
    train = records.drop(index=test)
    tested = set(records["content"].iloc[test])
    paths = niqe.pristine_references(train, tested, other_references=["/o/x.png"])
    assert paths == ["/o/x.png", "/r/a.png", "/r/c.png"]


def test_authors_model_file_round_trip(tmp_path, monkeypatch):
    # a model saved in the layout of the authors' modelparameters.mat scores as the model itself
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    pristine = [_save(tmp_path / "p.png", data.camera())]
    model = niqe.fit_niqe(pristine, patch_size=96)
    mat = tmp_path / "modelparameters.mat"
    scipy.io.savemat(mat, {"mu_prisparam": model.mean[None, :], "cov_prisparam": model.cov})
    loaded = niqe.load_pristine_model(mat)
    assert loaded.patch_size == 96
    test = [_save(tmp_path / "t.png", ndimage.gaussian_filter(data.camera().astype(float), 2))]
    np.testing.assert_allclose(niqe.niqe_scores(loaded, test), niqe.niqe_scores(model, test))
    method = niqe.AuthorsNIQE(model_path=str(mat))
    assert method.kind == "opinion-unaware" and method.trained_on == ()
    np.testing.assert_allclose(
        method.scores(pd.DataFrame({"image_path": test})), niqe.niqe_scores(model, test)
    )
    scipy.io.savemat(tmp_path / "other.mat", {"pop_mu": model.mean[None, :]})
    with pytest.raises(ValueError, match="other.mat: no 'mu_prisparam'"):
        niqe.load_pristine_model(tmp_path / "other.mat")

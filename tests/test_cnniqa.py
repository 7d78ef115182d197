"""CNNIQA (Kang et al. 2014): normalisation by hand, patches, architecture, a tiny training."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from scipy import ndimage
from skimage import data

from edgeiqa import config
from edgeiqa.baselines import cnniqa


def naive_lcn(image: np.ndarray, window: int = 3, c: float = 1.0) -> np.ndarray:
    """Eq. 1 of the paper pixel by pixel: mean and (population) standard deviation of the
    ``window x window`` neighbourhood, borders mirrored (``d c b a | a b c d``)."""
    r = window // 2
    padded = np.pad(image, r, mode="symmetric")
    out = np.empty_like(image, dtype=np.float64)
    for i in range(image.shape[0]):
        for j in range(image.shape[1]):
            block = padded[i : i + window, j : j + window]
            out[i, j] = (image[i, j] - block.mean()) / (block.std() + c)
    return out


def test_lcn_of_one_bright_pixel_by_hand():
    image = np.zeros((5, 5))
    image[2, 2] = 1.0
    lcn = cnniqa.local_contrast_normalise(image)
    assert lcn.shape == (5, 5) and lcn.dtype == np.float32
    sigma = np.sqrt(1 / 9 - 1 / 81)  # 3x3 window holding one 1 and eight 0s
    assert lcn[2, 2] == pytest.approx((1 - 1 / 9) / (sigma + 1), abs=1e-6)  # 0.6763
    assert lcn[2, 1] == pytest.approx((0 - 1 / 9) / (sigma + 1), abs=1e-6)  # -0.0845
    assert lcn[0, 0] == 0.0 and lcn[4, 4] == 0.0  # windows that do not reach the pixel
    # on the 0-255 scale C = 1 is small beside sigma: close to a full divisive normalisation
    full = cnniqa.local_contrast_normalise(image, data_range=255.0)
    assert full[2, 2] == pytest.approx((255 - 255 / 9) / (255 * sigma + 1), abs=1e-5)  # 2.79


def test_lcn_matches_the_equation_pixel_by_pixel():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (9, 11))
    np.testing.assert_allclose(cnniqa.local_contrast_normalise(image), naive_lcn(image), atol=1e-6)
    np.testing.assert_allclose(
        cnniqa.local_contrast_normalise(image, window=7, c=0.5),
        naive_lcn(image, 7, 0.5),
        atol=1e-6,
    )
    # uint8 input is read on 0-255 and put on the same 0-1 scale
    as_uint8 = (image * 255).round().astype(np.uint8)
    np.testing.assert_allclose(
        cnniqa.local_contrast_normalise(as_uint8),
        cnniqa.local_contrast_normalise(as_uint8 / 255.0),
        atol=1e-6,
    )
    assert np.allclose(cnniqa.local_contrast_normalise(np.full((8, 8), 0.3)), 0)
    with pytest.raises(ValueError, match="2-D"):
        cnniqa.local_contrast_normalise(np.zeros((4, 4, 3)))


def test_lcn_keeps_the_size_of_the_local_contrast():
    # with C = 1 on 0-1 luminance, stronger noise stays stronger after normalisation (the
    # property that lets the network rank white noise); on 0-255 it is nearly divided away
    rng = np.random.default_rng(1)
    weak, strong = (0.5 + s * rng.standard_normal((64, 64)) for s in (0.02, 0.2))
    ratio = (
        cnniqa.local_contrast_normalise(strong).std() / cnniqa.local_contrast_normalise(weak).std()
    )
    assert ratio > 5
    ratio_255 = (
        cnniqa.local_contrast_normalise(strong, data_range=255.0).std()
        / cnniqa.local_contrast_normalise(weak, data_range=255.0).std()
    )
    assert ratio_255 < 1.2


def test_non_overlapping_patches():
    image = np.arange(70 * 100, dtype=np.float32).reshape(70, 100)
    patches = cnniqa.patches(image)
    assert patches.shape == (2 * 3, 32, 32)  # remainders are dropped
    np.testing.assert_array_equal(patches[1], image[0:32, 32:64])
    np.testing.assert_array_equal(patches[3], image[32:64, 0:32])
    with pytest.raises(ValueError, match="smaller than one"):
        cnniqa.patches(np.zeros((20, 50)))


@pytest.mark.parametrize(
    "shape, count",
    [((512, 768), 16 * 24), ((171, 256), 5 * 8), ((256, 218), 8 * 6), ((32, 32), 1)],
    ids=["LIVE 768x512", "quick landscape", "quick portrait", "one patch"],
)
def test_patch_counts(shape, count):
    assert len(cnniqa.patches(np.zeros(shape, np.float32))) == count


def test_image_patches_are_cut_from_the_file_and_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "camera.png"
    Image.fromarray(data.camera()[:100, :70]).save(path)
    first = cnniqa.image_patches(path)
    assert first.shape == (3 * 2, 32, 32) and first.dtype == np.float32
    expected = cnniqa.local_contrast_normalise(data.camera()[:100, :70])[:32, 32:64]
    np.testing.assert_allclose(first[1], expected, atol=1e-6)
    cached = list((tmp_path / "cache" / "baselines" / "cnniqa").glob("*.npy"))
    assert len(cached) == 1
    np.testing.assert_array_equal(cnniqa.image_patches(path), first)


def test_architecture_matches_the_paper():
    model = cnniqa.CNNIQA()
    assert model.conv.out_channels == 50 and model.conv.kernel_size == (7, 7)
    assert model.fc1.in_features == 100  # max and min pooling of 50 maps
    assert model.fc1.out_features == model.fc2.out_features == 800
    model.eval()
    out = model(torch.zeros(5, 1, 32, 32))
    assert out.shape == (5,)
    # global max and min pooling: a patch's score ignores where a feature occurs
    x = torch.zeros(1, 1, 32, 32)
    x[0, 0, 8:12, 8:12] = 1.0  # every 7x7 window touching the blob lies inside the patch
    shifted = torch.roll(x, shifts=(8, 10), dims=(2, 3))
    assert torch.allclose(model(x), model(shifted), atol=1e-6)


def test_pooling_is_global_max_and_min():
    torch.manual_seed(0)
    model = cnniqa.CNNIQA().eval()
    x = torch.randn(3, 1, 32, 32)
    maps = model.conv(x).flatten(2)
    pooled = torch.cat([maps.amax(2), maps.amin(2)], 1)
    expected = model.out(torch.relu(model.fc2(torch.relu(model.fc1(pooled))))).squeeze(1)
    torch.testing.assert_close(model(x), expected)


def test_profiles_train_far_beyond_the_broken_recipe():
    # 1-5 epochs on 4-8 patches per image gave SROCC 0.08 on the LIVE subset
    for name in ("quick", "full"):
        prof = config.get_profile(name)
        assert prof.cnniqa_epochs >= 20
        assert prof.cnniqa_patches == 0 or prof.cnniqa_patches >= 48


def _blur_records(folder):
    rows = []
    camera = data.camera() / 255.0
    for c in range(6):
        base = camera[(c % 3) * 150 : (c % 3) * 150 + 128, (c // 3) * 200 : (c // 3) * 200 + 128]
        for sigma in (0, 1, 2, 3):
            image = ndimage.gaussian_filter(base, sigma) if sigma else base
            path = folder / f"c{c}_s{sigma}.png"
            Image.fromarray((np.clip(image, 0, 1) * 255).round().astype(np.uint8)).save(path)
            rows.append(
                {
                    "image": path.name,
                    "image_path": str(path),
                    "content": f"c{c}",
                    "quality": 90.0 - 25.0 * sigma,
                }
            )
    return pd.DataFrame(rows)


def test_training_ranks_a_blurrier_image_worse(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    torch.set_num_threads(1)
    records = _blur_records(tmp_path)
    train, test = records[records["content"] != "c5"], records[records["content"] == "c5"]
    config_ = cnniqa.CNNIQAConfig(epochs=6, batch_size=32, seed=0)
    result = cnniqa.fit_cnniqa(train, config_)
    assert len(result.history) == 6 and 1 <= result.best_epoch <= 6
    assert result.history["val_loss"].notna().all()  # a validation content was carved out
    scores = cnniqa.predict_cnniqa(result.model, test["image_path"].tolist())
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    assert scores[0] > scores[1] > scores[3]  # sharp > mild blur > strong blur
    again = cnniqa.predict_cnniqa(
        cnniqa.fit_cnniqa(train, config_).model, test["image_path"].tolist()
    )
    np.testing.assert_allclose(scores, again, rtol=1e-5)  # seeded: reproducible
    # a patch cap draws a seeded subset of each training image's 16 patches
    inputs, targets, groups = cnniqa._training_patches(
        train, cnniqa.CNNIQAConfig(max_patches=5, seed=1)
    )
    assert len(inputs) == len(targets) == len(groups) == 5 * len(train)
    all_inputs, _, _ = cnniqa._training_patches(train, cnniqa.CNNIQAConfig())
    assert len(all_inputs) == 16 * len(train)

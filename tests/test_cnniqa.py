"""CNNIQA (Kang et al. 2014): normalisation, patches, architecture, and a tiny training."""

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from scipy import ndimage
from skimage import data

from edgeiqa.baselines import cnniqa


def test_local_contrast_normalisation():
    rng = np.random.default_rng(0)
    image = rng.uniform(0, 1, (64, 80))
    lcn = cnniqa.local_contrast_normalise(image)
    assert lcn.shape == image.shape and lcn.dtype == np.float32
    assert abs(float(lcn.mean())) < 0.1
    flat = cnniqa.local_contrast_normalise(np.full((40, 40), 0.3))
    assert np.allclose(flat, 0)  # no contrast, no signal (C = 1 avoids division by zero)
    # invariant to a brightness offset (mean subtracted locally)
    assert np.allclose(
        cnniqa.local_contrast_normalise(image * 0.5 + 0.2)[5:-5, 5:-5],
        cnniqa.local_contrast_normalise(image * 0.5)[5:-5, 5:-5],
        atol=1e-4,
    )


def test_non_overlapping_patches():
    image = np.arange(70 * 100, dtype=np.float32).reshape(70, 100)
    patches = cnniqa.patches(image)
    assert patches.shape == (2 * 3, 32, 32)  # remainders are dropped
    np.testing.assert_array_equal(patches[1], image[0:32, 32:64])
    np.testing.assert_array_equal(patches[3], image[32:64, 0:32])
    with pytest.raises(ValueError, match="smaller than one"):
        cnniqa.patches(np.zeros((20, 50)))


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
    config = cnniqa.CNNIQAConfig(epochs=5, max_patches=16, batch_size=32, seed=0)
    result = cnniqa.fit_cnniqa(train, config)
    assert len(result.history) == 5 and 1 <= result.best_epoch <= 5
    scores = cnniqa.predict_cnniqa(result.model, test["image_path"].tolist())
    assert scores.shape == (4,) and np.all(np.isfinite(scores))
    assert scores[0] > scores[1] > scores[3]  # sharp > mild blur > strong blur
    again = cnniqa.predict_cnniqa(
        cnniqa.fit_cnniqa(train, config).model, test["image_path"].tolist()
    )
    np.testing.assert_allclose(scores, again, rtol=1e-5)  # seeded: reproducible

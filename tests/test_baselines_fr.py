"""Full-reference baselines: best value on identical images, monotone in blur, file handling."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy import ndimage

from edgeiqa.baselines import fr


def _texture(shape=(200, 240), seed=0) -> np.ndarray:
    """A smooth random texture on 0-255 with structure at several scales."""
    rng = np.random.default_rng(seed)
    image = sum(ndimage.gaussian_filter(rng.normal(size=shape), s) * s for s in (1.0, 3.0, 8.0))
    image = (image - image.min()) / np.ptp(image)
    return 20.0 + 215.0 * image


def test_identical_images_get_the_best_value():
    image = _texture()
    assert fr.psnr(image, image) == float("inf")
    assert fr.ssim(image, image) == pytest.approx(1.0)
    assert fr.ms_ssim(image, image) == pytest.approx(1.0, abs=1e-6)


def test_blurrier_image_gets_a_worse_score():
    ref = _texture()
    mild, strong = (ndimage.gaussian_filter(ref, s) for s in (1.0, 3.0))
    for metric in (fr.psnr, fr.ssim, fr.ms_ssim):
        assert metric(ref, mild) > metric(ref, strong), metric.__name__
    assert fr.ssim(ref, strong) < 0.95


def test_ssim_prescaling_matches_the_authors_rule():
    # f = round(min(H, W) / 256): 512-pixel images are halved by 2x2 block means
    image = np.arange(512 * 600, dtype=float).reshape(512, 600)
    small = fr.ssim_downsample(image)
    assert small.shape == (256, 300)
    assert small[3, 4] == pytest.approx(image[6:8, 8:10].mean())
    tiny = np.ones((100, 90))
    assert fr.ssim_downsample(tiny) is tiny  # f = 0 -> 1: untouched


def test_msssim_window_shrinks_only_for_small_images():
    assert fr.msssim_window((512, 768)) == 11
    assert fr.msssim_window((161, 300)) == 11
    win = fr.msssim_window((120, 300))
    assert win % 2 == 1 and (win - 1) * 16 < 120
    with pytest.raises(ValueError, match="too small"):
        fr.msssim_window((30, 30))
    small = _texture((120, 130))
    assert fr.ms_ssim(small, small) == pytest.approx(1.0, abs=1e-6)


def test_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match="equal 2-D grey or H x W x 3 RGB shapes"):
        fr.psnr(np.zeros((10, 10)), np.zeros((10, 11)))


def test_fr_table_on_files(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    ref = _texture((180, 200)).astype(np.uint8)
    paths = {}
    for name, sigma in (("ref", 0), ("blur1", 1.0), ("blur3", 3.0)):
        img = ref if sigma == 0 else ndimage.gaussian_filter(ref.astype(float), sigma)
        rgb = np.repeat(np.clip(img, 0, 255).astype(np.uint8)[..., None], 3, axis=2)
        paths[name] = tmp_path / f"{name}.png"
        Image.fromarray(rgb).save(paths[name])
    records = pd.DataFrame(
        {
            "image": ["blur1", "blur3"],
            "image_path": [str(paths["blur1"]), str(paths["blur3"])],
            "ref_path": [str(paths["ref"])] * 2,
        }
    )
    table = fr.fr_table(records, progress=False)
    assert list(table.columns) == ["image", "psnr", "ssim", "ms_ssim"]
    assert (table.iloc[0, 1:] > table.iloc[1, 1:]).all()
    again = fr.fr_table(records, progress=False)  # from the cache
    pd.testing.assert_frame_equal(table, again)
    missing = records.assign(ref_path="")
    with pytest.raises(ValueError, match="no reference"):
        fr.fr_table(missing, progress=False)


def test_psnr_on_rgb_reads_the_colour_error_that_luma_hides():
    ref = np.repeat(_texture((64, 80))[..., None], 3, axis=2)
    shifted = ref.copy()
    shifted[..., 0] += 20.0  # red up, blue down by the amount that keeps luma nearly fixed
    shifted[..., 2] -= 20.0 * 0.299 / 0.114
    luma = np.array([0.299, 0.587, 0.114])
    assert fr.psnr(ref, shifted) < 30.0
    assert fr.psnr(ref @ luma, shifted @ luma) > 60.0


def test_full_reference_metrics_agree_with_the_reference_implementations(calibration):
    from edgeiqa.baselines.calibration import calibrate

    def scorer(metric):
        return lambda distorted, reference: fr.score_files(metric, distorted, reference)

    table = calibrate({m: scorer(m) for m in fr.FR_METRICS}, calibration)
    assert len(table) == 2 * len(fr.FR_METRICS)
    failed = table.loc[~table["agrees"], ["metric", "image", "ours", "official", "allowed"]]
    assert failed.empty, failed.to_string()
    # the downsampled SSIM is a different convention: it misses the full-size reference value
    i03 = table[(table["metric"] == "ssim") & (table["image"] == "I03")].iloc[0]
    downsampled = fr.score_files("ssim_downsampled", i03["distorted_path"], i03["reference_path"])
    assert abs(downsampled - i03["official"]) > i03["allowed"]

import numpy as np
import pytest
import skimage.data

from edgeiqa import distortions


@pytest.fixture(scope="module")
def image():
    # 256 x 256: JPEG 2000 at the lowest rates needs some pixels before the codestream
    # header stops dominating (the quick profile's images are as large)
    return skimage.data.astronaut()[::2, ::2].copy()


def _psnr(a, b):
    mse = np.mean((a.astype(float) - b.astype(float)) ** 2)
    return 10 * np.log10(255**2 / mse)


@pytest.mark.parametrize("name", list(distortions.LEVELS))
def test_each_level_is_worse_than_the_last(image, name):
    psnrs = [
        _psnr(image, distortions.apply(name, image, s, np.random.default_rng(0)))
        for s in distortions.LEVELS[name]
    ]
    assert all(a > b for a, b in zip(psnrs, psnrs[1:], strict=False)), psnrs


@pytest.mark.parametrize("name", list(distortions.LEVELS))
def test_output_shape_dtype_and_determinism(image, name):
    s = distortions.LEVELS[name][2]
    a = distortions.apply(name, image, s, np.random.default_rng(7))
    b = distortions.apply(name, image, s, np.random.default_rng(7))
    assert a.shape == image.shape and a.dtype == np.uint8
    assert np.array_equal(a, b)


def test_random_distortions_need_a_generator(image):
    with pytest.raises(ValueError, match="seeded"):
        distortions.wn(image, 0.1)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError, match="uint8"):
        distortions.jpeg(np.zeros((8, 8)), 50)
    with pytest.raises(ValueError, match="unknown distortion"):
        distortions.apply("pixelate", np.zeros((8, 8, 3), np.uint8), 1)

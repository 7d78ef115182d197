"""Reading images: the documented mode conversions and one-line errors for bad files."""

from __future__ import annotations

import numpy as np
import pytest
from fixtures import write_image
from PIL import Image

from edgeiqa.data.images import read_luminance, read_rgb, rgb_to_luminance
from edgeiqa.errors import DataError


def _check_rgb(arr: np.ndarray, shape: tuple[int, int]) -> None:
    assert arr.dtype == np.uint8 and arr.shape == (*shape, 3)


@pytest.mark.parametrize("suffix", [".png", ".bmp"])
def test_rgb_roundtrip(tmp_path, suffix):
    path = write_image(tmp_path / f"a{suffix}", seed=3)
    arr = read_rgb(path)
    _check_rgb(arr, (12, 16))
    np.testing.assert_array_equal(arr, np.asarray(Image.open(path).convert("RGB")))


def test_grayscale_is_replicated(tmp_path):
    gray = np.arange(12 * 16, dtype=np.uint8).reshape(12, 16)
    Image.fromarray(gray, "L").save(tmp_path / "g.png")
    arr = read_rgb(tmp_path / "g.png")
    _check_rgb(arr, (12, 16))
    for c in range(3):
        np.testing.assert_array_equal(arr[..., c], gray)
    # luminance of a gray image is the gray value itself
    np.testing.assert_allclose(read_luminance(tmp_path / "g.png"), gray / 255.0, atol=1e-6)


def test_bilevel_image(tmp_path):
    bits = np.zeros((12, 16), dtype=bool)
    bits[:, 8:] = True
    Image.fromarray(bits).convert("1").save(tmp_path / "b.png")
    arr = read_rgb(tmp_path / "b.png")
    _check_rgb(arr, (12, 16))
    assert set(np.unique(arr)) == {0, 255}
    assert (arr[:, 8:] == 255).all() and (arr[:, :8] == 0).all()


def test_rgba_is_composited_over_white(tmp_path):
    rgba = np.zeros((12, 16, 4), dtype=np.uint8)
    rgba[..., 0] = 200  # red 200
    rgba[:, :4, 3] = 255  # opaque
    rgba[:, 4:8, 3] = 0  # transparent -> white
    rgba[:, 8:, 3] = 128  # half -> between red 200 and white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    arr = read_rgb(tmp_path / "a.png")
    _check_rgb(arr, (12, 16))
    assert (arr[:, :4] == [200, 0, 0]).all()
    assert (arr[:, 4:8] == 255).all()
    half = arr[0, 10].astype(int)
    expected = np.round(np.array([200, 0, 0]) * 128 / 255 + 255 * (1 - 128 / 255))
    np.testing.assert_allclose(half, expected, atol=1)


def test_gray_alpha_is_composited_over_white(tmp_path):
    la = np.zeros((12, 16, 2), dtype=np.uint8)
    la[..., 0] = 50
    la[:, 8:, 1] = 255
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    arr = read_rgb(tmp_path / "la.png")
    _check_rgb(arr, (12, 16))
    assert (arr[:, 8:] == 50).all() and (arr[:, :8] == 255).all()


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (16, 12), 0)
    img.putpalette([10, 20, 30, 40, 50, 60] + [0] * 762)
    img.paste(1, (8, 0, 16, 12))
    img.info["transparency"] = 0
    img.save(tmp_path / "p.png", transparency=0)
    arr = read_rgb(tmp_path / "p.png")
    _check_rgb(arr, (12, 16))
    assert (arr[:, :8] == 255).all()  # transparent index -> white
    assert (arr[:, 8:] == [40, 50, 60]).all()


def test_16bit_is_rescaled(tmp_path):
    values = np.zeros((12, 16), dtype=np.uint16)
    values[:, :4] = 65535
    values[:, 4:8] = 257 * 100
    values[:, 8:12] = 1000  # 1000 / 257 = 3.89 -> 4
    Image.fromarray(values).save(tmp_path / "w.png")
    assert Image.open(tmp_path / "w.png").mode.startswith("I")
    arr = read_rgb(tmp_path / "w.png")
    _check_rgb(arr, (12, 16))
    assert (arr[:, :4] == 255).all() and (arr[:, 4:8] == 100).all()
    assert (arr[:, 8:12] == 4).all() and (arr[:, 12:] == 0).all()


def test_luminance_is_bt601(tmp_path):
    rgb = np.zeros((12, 16, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    Image.fromarray(rgb).save(tmp_path / "r.png")
    lum = read_luminance(tmp_path / "r.png")
    assert lum.dtype == np.float32 and lum.shape == (12, 16)
    np.testing.assert_allclose(lum, 0.299, atol=1e-6)
    np.testing.assert_allclose(rgb_to_luminance(np.full((1, 1, 3), 255)), 1.0, atol=1e-6)


def test_missing_image(tmp_path):
    with pytest.raises(DataError, match="missing image") as exc:
        read_rgb(tmp_path / "nope.png")
    assert str(tmp_path / "nope.png") in str(exc.value)


@pytest.mark.parametrize("suffix", [".png", ".bmp"])
def test_truncated_image(tmp_path, suffix):
    path = write_image(tmp_path / f"t{suffix}")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as exc:
        read_rgb(path)
    message = str(exc.value)
    assert "\n" not in message and str(path) in message and "truncated" in message


def test_not_an_image(tmp_path):
    path = tmp_path / "x.png"
    path.write_text("this is text, not a PNG")
    with pytest.raises(DataError, match="not a readable image") as exc:
        read_rgb(path)
    assert str(path) in str(exc.value) and "\n" not in str(exc.value)


def test_directory_is_not_an_image(tmp_path):
    (tmp_path / "d.png").mkdir()
    with pytest.raises(DataError, match="missing image"):
        read_rgb(tmp_path / "d.png")

"""Sobel edge maps: filter behaviour, normalisation, resizing, caching and the paper's cutting."""

import itertools
import os

import numpy as np
import pandas as pd
import pytest
from PIL import Image
from scipy.ndimage import gaussian_filter

from edgeiqa import edges
from edgeiqa.edges import EdgeParams


def _write_png(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(array, dtype=np.uint8)).save(path)
    return str(path)


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_sobel_max_is_the_largest_magnitude_of_any_binary_patch():
    # |gradient| is convex in the pixel values, so its maximum over [0,1]^9 sits on a vertex
    best = 0.0
    for bits in itertools.product((0.0, 1.0), repeat=9):
        patch = np.array(bits).reshape(3, 3)
        best = max(best, float(edges.sobel_magnitude(patch)[1, 1]))
    assert best == pytest.approx(edges.SOBEL_MAX, rel=1e-6)


def test_flat_image_has_no_edges():
    flat = np.full((20, 30), 0.7, dtype=np.float32)
    assert np.all(edges.sobel_magnitude(flat) == 0)
    for norm in edges.NORMALISATIONS:
        out = edges.compute_edge_map(flat, EdgeParams(max_side=0, normalisation=norm))
        assert out.dtype == np.float32 and np.all(out == 0)


def test_vertical_step_edge():
    step = np.zeros((16, 16), dtype=np.float32)
    step[:, 8:] = 1.0
    mag = edges.sobel_magnitude(step)
    # a unit step gives the full horizontal response 4 on both columns beside it, 0 elsewhere
    assert np.allclose(mag[:, 7:9], 4.0)
    assert np.allclose(mag[:, :6], 0) and np.allclose(mag[:, 10:], 0)
    fixed = edges.compute_edge_map(step, EdgeParams(max_side=0))
    assert fixed.max() == pytest.approx(4.0 / edges.SOBEL_MAX)
    per_image = edges.compute_edge_map(step, EdgeParams(max_side=0, normalisation="per_image_max"))
    assert per_image.max() == pytest.approx(1.0)


def test_fixed_scale_keeps_contrast_per_image_max_removes_it():
    step = np.zeros((16, 16), dtype=np.float32)
    step[:, 8:] = 1.0
    fixed = EdgeParams(max_side=0)
    per_image = EdgeParams(max_side=0, normalisation="per_image_max")
    low, high = 0.25 * step, step
    assert edges.compute_edge_map(low, fixed).max() == pytest.approx(
        0.25 * edges.compute_edge_map(high, fixed).max()
    )
    assert np.allclose(
        edges.compute_edge_map(low, per_image), edges.compute_edge_map(high, per_image)
    )


def test_shrink_bounds_longer_side_and_keeps_aspect():
    lum = np.random.default_rng(0).random((90, 300)).astype(np.float32)
    out = edges.shrink(lum, 100)
    assert out.shape == (30, 100)
    assert edges.shrink(lum, 0).shape == lum.shape
    assert edges.shrink(lum, 400).shape == lum.shape
    portrait = edges.shrink(lum.T, 60)
    assert portrait.shape == (60, 18)


def test_bad_params_are_rejected():
    with pytest.raises(ValueError, match="normalisation"):
        EdgeParams(normalisation="minmax")
    with pytest.raises(ValueError, match="max_side"):
        EdgeParams(max_side=-1)
    with pytest.raises(ValueError, match="2-D"):
        edges.sobel_magnitude(np.zeros((4, 4, 3)))


def test_halves_follow_orientation():
    landscape = np.arange(6 * 10).reshape(6, 10)
    left, right = edges.split_edge_map(landscape, 2)
    assert left.shape == right.shape == (6, 5)
    assert np.array_equal(np.hstack([left, right]), landscape)

    portrait = landscape.T  # 10 x 6
    top, bottom = edges.split_edge_map(portrait, 2)
    assert top.shape == bottom.shape == (5, 6)
    assert np.array_equal(np.vstack([top, bottom]), portrait)

    square = np.arange(64).reshape(8, 8)
    a, b = edges.split_edge_map(square, 2)
    assert np.array_equal(a, square[:, :4]) and np.array_equal(b, square[:, 4:])


def test_odd_side_drops_last_column_so_halves_match():
    odd = np.arange(4 * 7).reshape(4, 7)
    left, right = edges.split_edge_map(odd, 2)
    assert left.shape == right.shape == (4, 3)
    assert np.array_equal(right, odd[:, 3:6])


def test_quarters_order_and_shapes():
    edge = np.arange(6 * 8).reshape(6, 8)
    tl, tr, bl, br = edges.split_edge_map(edge, 4)
    assert all(p.shape == (3, 4) for p in (tl, tr, bl, br))
    assert np.array_equal(np.block([[tl, tr], [bl, br]]), edge)
    (whole,) = edges.split_edge_map(edge, 1)
    assert np.array_equal(whole, edge)
    with pytest.raises(ValueError, match="parts"):
        edges.split_edge_map(edge, 3)


def test_cut_patches_counts_and_small_maps():
    edge = np.zeros((50, 70))
    patches = edges.cut_patches(edge, 16)
    assert len(patches) == 3 * 4 and all(p.shape == (16, 16) for p in patches)
    small = edges.cut_patches(np.zeros((10, 40)), 16)
    assert len(small) == 2 and all(p.shape == (10, 16) for p in small)
    with pytest.raises(ValueError):
        edges.cut_patches(edge, 0)


def test_enlarge_repeats_targets_and_groups():
    inputs = [np.zeros((4, 8)), np.ones((8, 4)), np.full((6, 6), 2.0)]
    pieces, targets, groups, parent = edges.enlarge(inputs, [0, 1, 2], ["a", "b", "c"], 4)
    assert len(pieces) == 12
    assert parent.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert targets.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert groups.tolist() == ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    assert all(np.all(p == 2.0) for p in pieces[8:])
    with pytest.raises(ValueError, match="length"):
        edges.enlarge(inputs, [0, 1], ["a", "b", "c"], 2)


def test_cache_hit_returns_identical_array_and_keys_differ(tmp_path, cache):
    rng = np.random.default_rng(1)
    path = _write_png(tmp_path / "img.png", rng.integers(0, 256, (40, 60, 3)))
    params = EdgeParams(max_side=32)
    first = edges.edge_map(path, params)
    cached = edges.cache_path(path, params)
    assert cached.is_file() and str(cached).startswith(str(cache / "edges" / params.key))
    second = edges.edge_map(path, params)
    assert np.array_equal(first, second)
    assert np.array_equal(first, edges.edge_map(path, params, cache=False))
    assert first.shape == (21, 32)

    other = EdgeParams(max_side=32, normalisation="per_image_max")
    assert other.key != params.key and EdgeParams(max_side=0).key != params.key
    assert edges.cache_path(path, other) != cached
    assert not np.array_equal(edges.edge_map(path, other), first)


def test_rewritten_file_gets_a_new_cache_entry(tmp_path, cache):
    path = _write_png(tmp_path / "img.png", np.zeros((20, 20, 3)))
    params = EdgeParams(max_side=0)
    before = edges.cache_path(path, params)
    assert np.all(edges.edge_map(path, params) == 0)
    stripes = np.zeros((20, 20, 3))
    stripes[:, ::4] = 255
    _write_png(tmp_path / "img.png", stripes)
    os.utime(path, ns=(1, 10**18))  # a different mtime even on coarse file-system clocks
    assert edges.cache_path(path, params) != before
    assert edges.edge_map(path, params).max() > 0


def test_missing_image_is_one_line_error(tmp_path, cache):
    from edgeiqa.errors import DataError

    with pytest.raises(DataError, match="missing image"):
        edges.edge_map(tmp_path / "nope.png")


def test_statistics_table_and_correlation(tmp_path, cache):
    rng = np.random.default_rng(2)
    ref = rng.integers(0, 256, (32, 48, 3)).astype(float)
    ref_path = _write_png(tmp_path / "ref.png", ref)
    rows = []
    for level, sigma in enumerate((1.0, 2.0, 4.0), start=1):
        blurred = np.stack([gaussian_filter(ref[..., c], sigma) for c in range(3)], -1)
        rows.append(
            {
                "dataset": "toy",
                "image": f"blur{level}.png",
                "image_path": _write_png(tmp_path / f"blur{level}.png", blurred),
                "ref_path": ref_path,
                "content": "c1",
                "distortion": "gblur",
                "level": float(level),
                "quality": 90.0 - 30 * level,
                "quality_class": 3 - level,
            }
        )
    table = edges.edge_statistics_table(pd.DataFrame(rows), EdgeParams(max_side=0), progress=False)
    assert list(table["dataset"]) == ["toy"] * 3
    assert set(edges.EDGE_STATISTICS) <= set(table.columns)
    # blur lowers the mean gradient, below the reference's
    assert table["mean_magnitude"].is_monotonic_decreasing
    assert (table["mean_magnitude_vs_ref"] < 1).all()
    corr = edges.edge_statistics_correlation(table)
    row = corr[(corr["distortion"] == "gblur") & (corr["statistic"] == "mean_magnitude")]
    assert row["srocc"].item() == pytest.approx(1.0)
    assert set(corr["distortion"]) == {"ALL", "gblur"}


def test_shrink_after_sobel_keeps_noise_evidence():
    rng = np.random.default_rng(3)
    noisy = np.clip(0.5 + 0.2 * rng.standard_normal((256, 256)), 0, 1).astype(np.float32)
    after = edges.compute_edge_map(noisy, EdgeParams(max_side=64, shrink_order="after"))
    before = edges.compute_edge_map(noisy, EdgeParams(max_side=64, shrink_order="before"))
    native = edges.compute_edge_map(noisy, EdgeParams(max_side=0))
    assert after.shape == before.shape == (64, 64)
    # shrinking the magnitude map keeps its mean; shrinking the image first averages noise away
    assert after.mean() == pytest.approx(native.mean(), rel=0.05)
    assert before.mean() < 0.6 * after.mean()


def test_shrink_order_is_validated_and_in_the_key():
    with pytest.raises(ValueError, match="shrink_order"):
        EdgeParams(shrink_order="during")
    keys = {EdgeParams(shrink_order=o).key for o in edges.SHRINK_ORDERS}
    assert len(keys) == len(edges.SHRINK_ORDERS)


def test_sobel_matches_scipy_reflect_sobel():
    """The torch convolution computes scipy.ndimage.sobel's magnitude (reflect borders) to float32
    rounding, on odd shapes and single rows or columns too."""
    from scipy import ndimage

    rng = np.random.default_rng(5)
    for shape in [(64, 97), (5, 7), (1, 9), (9, 1), (1, 1)]:
        lum = rng.random(shape)
        expected = np.hypot(
            ndimage.sobel(lum, axis=1, mode="reflect"), ndimage.sobel(lum, axis=0, mode="reflect")
        )
        got = edges.sobel_magnitude(lum)
        assert got.dtype == np.float32 and got.shape == shape
        assert np.abs(got - expected).max() < 1e-5


@pytest.mark.parametrize(
    "damage",
    ["zero-byte", "wrong-shape", "nan", "float64"],
)
def test_damaged_cache_entry_is_rebuilt_with_a_notice(tmp_path, cache, capsys, damage):
    rng = np.random.default_rng(2)
    path = _write_png(tmp_path / "img.png", rng.integers(0, 256, (40, 60, 3)))
    params = EdgeParams(max_side=32)
    good = edges.edge_map(path, params)
    target = edges.cache_path(path, params)
    if damage == "zero-byte":
        target.write_bytes(b"")
    elif damage == "wrong-shape":
        np.save(target, good[:10])
    elif damage == "nan":
        np.save(target, np.full_like(good, np.nan))
    else:
        np.save(target, good.astype(np.float64))
    capsys.readouterr()
    rebuilt = edges.edge_map(path, params)
    assert np.array_equal(rebuilt, good)
    notice = capsys.readouterr().err.strip().splitlines()
    assert len(notice) == 1 and str(target) in notice[0] and "rebuilt" in notice[0]
    # the entry is whole again: the next call is a silent hit
    assert np.array_equal(edges.edge_map(path, params), good)
    assert capsys.readouterr().err == ""


def test_unwritable_cache_is_a_one_line_error(tmp_path, monkeypatch):
    from edgeiqa.errors import DataError

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("EDGEIQA_CACHE", str(blocker))
    path = _write_png(tmp_path / "img.png", np.zeros((20, 30, 3)))
    with pytest.raises(DataError, match="edge-map cache not writable") as info:
        edges.edge_map(path, EdgeParams(max_side=16))
    assert "\n" not in str(info.value) and "EDGEIQA_CACHE" in str(info.value)

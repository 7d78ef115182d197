"""Tests for edgeiqa.models: every variant takes any size/orientation, SPP has a fixed length."""

from __future__ import annotations

import pytest
import torch

from edgeiqa.models import PAPER_VARIANTS, EdgeCNN, SpatialPyramidPooling, build_model

torch.set_num_threads(1)

VARIANTS = sorted(PAPER_VARIANTS)


@pytest.mark.parametrize("levels", [(1, 2, 4), (1, 3), (2,)])
@pytest.mark.parametrize("size", [(1, 1), (3, 5), (17, 9), (64, 96), (96, 64)])
def test_spp_output_size_is_independent_of_input_size(levels, size):
    spp = SpatialPyramidPooling(levels)
    out = spp(torch.rand(2, 5, *size))
    assert out.shape == (2, 5 * sum(level * level for level in levels))
    assert spp.output_size(5) == out.shape[1]


def test_spp_level_one_is_the_global_max_and_avg_mode_the_mean():
    x = torch.rand(3, 2, 10, 7)
    assert torch.equal(SpatialPyramidPooling((1,))(x), x.amax(dim=(2, 3)))
    assert torch.allclose(SpatialPyramidPooling((1,), mode="avg")(x), x.mean(dim=(2, 3)))


def test_spp_rejects_bad_settings():
    with pytest.raises(ValueError, match="levels"):
        SpatialPyramidPooling((0, 2))
    with pytest.raises(ValueError, match="mode"):
        SpatialPyramidPooling(mode="median")


@pytest.mark.parametrize("name", VARIANTS)
@pytest.mark.parametrize("size", [(64, 96), (96, 64), (128, 128), (5, 7)])
def test_variants_accept_sizes_and_orientations(name, size):
    classifier = build_model(name, "classification", n_classes=4)
    regressor = build_model(name, "regression")
    with torch.no_grad():
        assert classifier.eval()(torch.rand(2, 1, *size)).shape == (2, 4)
        assert regressor.eval()(torch.rand(2, 1, *size)).shape == (2,)


@pytest.mark.parametrize("name", VARIANTS)
def test_variants_take_a_live_sized_image(name):
    model = build_model(name).eval()
    with torch.inference_mode():
        assert model(torch.rand(1, 1, 512, 768)).shape == (1, 4)


def test_variants_follow_table_2():
    assert PAPER_VARIANTS["CNN_Full_img"]["conv_channels"] == (16, 16)
    assert PAPER_VARIANTS["CNN_2x"]["conv_channels"] == (32, 32)
    assert PAPER_VARIANTS["CNN_4x"]["conv_channels"] == (16, 16, 16)
    for name in VARIANTS:
        model = build_model(name)
        convs = [m for m in model.features if isinstance(m, torch.nn.Conv2d)]
        assert [c.out_channels for c in convs] == list(PAPER_VARIANTS[name]["conv_channels"])
        assert all(c.kernel_size == (3, 3) for c in convs)
        linears = [m for m in model.head if isinstance(m, torch.nn.Linear)]
        assert len(linears) == 4
        has_dropout = any(isinstance(m, torch.nn.Dropout) for m in model.head)
        assert has_dropout == (name == "CNN_1_Mvote")
        assert PAPER_VARIANTS[name]["reading"]


def test_regression_output_is_in_unit_interval_even_for_extreme_inputs():
    model = build_model("CNN_Full_img", "regression").eval()
    with torch.no_grad():
        out = torch.cat([model(torch.rand(4, 1, 32, 48) * scale) for scale in (0, 1, 1e3, -1e3)])
    assert out.dtype == torch.float32
    assert bool(((out >= 0) & (out <= 1)).all())


def test_small_inputs_are_padded_to_min_side_with_zeros():
    model = build_model("CNN_4x").eval()
    assert model.min_side == 4 * 2**3
    small = torch.rand(1, 1, 10, 20)
    padded = torch.zeros(1, 1, 32, 32)
    padded[..., 11:21, 6:26] = small
    with torch.no_grad():
        assert torch.allclose(model(small), model(padded))


def test_pooling_placement_is_a_constructor_argument():
    naive = build_model("CNN_Full_img", pool_after_conv=False)
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in naive.features)
    assert naive.min_side == 4
    pooled = build_model("CNN_Full_img")
    assert sum(isinstance(m, torch.nn.MaxPool2d) for m in pooled.features) == 2
    with torch.no_grad():
        assert naive(torch.rand(1, 1, 40, 30)).shape == (1, 4)


def test_seed_fixes_initial_weights_without_touching_global_rng():
    state = torch.random.get_rng_state()
    a, b = build_model("CNN_2x", seed=3), build_model("CNN_2x", seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)
    c = build_model("CNN_2x", seed=4)
    assert all(torch.equal(pa, pb) for pa, pb in zip(a.parameters(), b.parameters(), strict=True))
    assert not all(
        torch.equal(pa, pc) for pa, pc in zip(a.parameters(), c.parameters(), strict=True)
    )


def test_channels_last_gives_the_same_output():
    model = build_model("CNN_4x").eval()
    x = torch.rand(2, 1, 40, 56)
    with torch.no_grad():
        reference = model(x)
        model.to(memory_format=torch.channels_last)
        fast = model(x.contiguous(memory_format=torch.channels_last))
    assert torch.allclose(reference, fast, atol=1e-5)


def test_bad_arguments_are_reported():
    with pytest.raises(ValueError, match="unknown model"):
        build_model("CNN_8x")
    with pytest.raises(ValueError, match="task"):
        build_model("CNN_2x", task="ranking")
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        build_model("CNN_2x")(torch.rand(2, 3, 32, 32))
    with pytest.raises(ValueError, match="fc_widths"):
        EdgeCNN(fc_widths=(8, 8))

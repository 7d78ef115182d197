"""Small CNNs on Sobel edge maps for no-reference image quality, after the "deep fake score"
paper's Table 2 (CNN_Full_img, CNN_2x, CNN_4x and the majority-vote CNN_1_Mvote), with spatial
pyramid pooling (He, Zhang, Ren and Sun, 2015, "Spatial Pyramid Pooling in Deep Convolutional
Networks for Visual Recognition") so that any image size and orientation gives a fixed-length
feature vector.

Architecture of every variant (what the paper states, plus our documented choices):

- input: a single-channel edge map ``(N, 1, H, W)``; all images in a batch share one size;
- ``len(conv_channels)`` stacked 3x3 convolutions (padding 1) with ReLU (paper);
- ``pool_after_conv`` (our choice, default on): a 2x2 max-pool after each convolution. The paper
  does not say where pooling happens besides SPP; without it a 768x512 LIVE image keeps full
  resolution through every convolution, which costs 4-16x more compute. The pool is applied
  before the ReLU (conv -> pool -> ReLU), which equals conv -> ReLU -> pool because max-pooling
  and ReLU commute, at a quarter of the ReLU cost. The benchmark ``benchmarks/bench_training.py``
  compares both placements;
- spatial pyramid pooling, levels ``(1, 2, 4)`` by default (max pooling), giving
  ``C * (1 + 4 + 16)`` features whatever the input size (paper: SPP);
- 4 fully connected layers (paper), widths ``256-128-64-n_outputs`` (our choice: the paper gives no
  widths; a halving funnel keeps the head small next to the SPP vector), ReLU between them;
- dropout (CNN_1_Mvote only, as we read "more filters and dropout"): applied to the input of every
  fully connected layer;
- head: ``task="classification"`` returns logits ``(N, n_classes)``; ``task="regression"`` returns a
  sigmoid output ``(N,)`` in 0-1, read as quality/100.

Minimum input size: each 2x2 pool halves the map, and the finest SPP level needs at least
``max(levels)`` cells per side to pool distinct regions, so inputs smaller than
:attr:`EdgeCNN.min_side` (``max(levels) * 2**n_pools``, e.g. 16 for CNN_Full_img, 32 for CNN_4x)
are zero-padded (symmetrically, to that size) in :meth:`EdgeCNN.forward`. Zero is "no edge" in a
Sobel map, so padding adds no structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

TASKS = ("classification", "regression")

#: The paper's Table 2 variants. ``conv_channels`` is the conv stack, ``dropout`` the dropout
#: probability before each fully connected layer, ``parts`` how each training edge map is split
#: (1 whole, 2 halves by orientation, 4 quarters: our reading of "2x"/"4x" as the data enlargement
#: each variant was trained with; notebooks may override it). ``reading`` documents our reading.
PAPER_VARIANTS: dict[str, dict[str, Any]] = {
    "CNN_Full_img": {
        "conv_channels": (16, 16),
        "dropout": 0.0,
        "parts": 1,
        "reading": "Table 2: 2 stacked conv layers of 16 filters, 3x3, SPP, 4 FC layers; trained "
        "on whole edge maps.",
    },
    "CNN_2x": {
        "conv_channels": (32, 32),
        "dropout": 0.0,
        "parts": 2,
        "reading": "Table 2: 2 conv layers of 32 filters; '2x' read as trained on edge maps split "
        "in halves (left/right for landscape, top/bottom for portrait), doubling the data.",
    },
    "CNN_4x": {
        "conv_channels": (16, 16, 16),
        "dropout": 0.0,
        "parts": 4,
        "reading": "Table 2: 3 conv layers of 16 filters; '4x' read as trained on quarters of the "
        "edge maps, quadrupling the data.",
    },
    "CNN_1_Mvote": {
        "conv_channels": (32, 64),
        "dropout": 0.5,
        "parts": 4,
        "reading": "Paper: 'more filters and dropout', patches classified and majority-voted. "
        "We read it as 2 conv layers of 32 and 64 filters (more than CNN_Full_img's 16) with "
        "dropout 0.5 before every fully connected layer; the paper gives neither number.",
    },
}

DEFAULT_FC_WIDTHS = (256, 128, 64)


class SpatialPyramidPooling(nn.Module):
    """Pools a feature map over ``l x l`` grids for each level ``l`` and concatenates the results.

    ``(N, C, H, W) -> (N, C * sum(l * l for l in levels))``, independent of ``H`` and ``W``.
    Uses adaptive pooling, so the bins of each level tile the map exactly.

    Args:
        levels: grid sizes, e.g. ``(1, 2, 4)``.
        mode: ``"max"`` (He et al.) or ``"avg"``.
    """

    def __init__(self, levels: Sequence[int] = (1, 2, 4), mode: str = "max") -> None:
        super().__init__()
        levels = tuple(int(level) for level in levels)
        if not levels or min(levels) < 1:
            raise ValueError(f"SPP levels must be positive integers, got {levels!r}")
        if mode not in ("max", "avg"):
            raise ValueError(f"SPP mode must be 'max' or 'avg', got {mode!r}")
        self.levels = levels
        self.mode = mode

    def output_size(self, channels: int) -> int:
        """Length of the pooled vector for ``channels`` input channels."""
        return channels * sum(level * level for level in self.levels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pool = F.adaptive_max_pool2d if self.mode == "max" else F.adaptive_avg_pool2d
        # flatten(1) follows the logical (C, l, l) order, so channels-last inputs give the same
        # vector as contiguous ones
        return torch.cat([pool(x, level).flatten(1) for level in self.levels], dim=1)

    def extra_repr(self) -> str:
        return f"levels={self.levels}, mode={self.mode!r}"


class EdgeCNN(nn.Module):
    """Conv stack (3x3, ReLU, optional 2x2 max-pool) -> SPP -> 4 fully connected layers.

    Args:
        conv_channels: filters of each conv layer, e.g. ``(16, 16)``.
        task: ``"classification"`` (logits) or ``"regression"`` (sigmoid output in 0-1).
        n_classes: number of classes (classification only).
        spp_levels: SPP grid sizes.
        fc_widths: widths of the 3 hidden fully connected layers (the 4th is the output).
        dropout: dropout probability on the input of every fully connected layer (0 = none).
        pool_after_conv: 2x2 max-pool after each conv layer (see the module docstring).
        spp_mode: ``"max"`` or ``"avg"``.
        name: variant name, kept for checkpoints and reports.
    """

    def __init__(
        self,
        conv_channels: Sequence[int] = (16, 16),
        task: str = "classification",
        n_classes: int = 4,
        spp_levels: Sequence[int] = (1, 2, 4),
        fc_widths: Sequence[int] = DEFAULT_FC_WIDTHS,
        dropout: float = 0.0,
        pool_after_conv: bool = True,
        spp_mode: str = "max",
        name: str = "EdgeCNN",
    ) -> None:
        super().__init__()
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        if task == "classification" and n_classes < 2:
            raise ValueError(f"classification needs n_classes >= 2, got {n_classes}")
        if len(fc_widths) != 3:
            raise ValueError(f"fc_widths gives the 3 hidden FC widths, got {tuple(fc_widths)}")
        if not conv_channels:
            raise ValueError("conv_channels must name at least one conv layer")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.init_kwargs: dict[str, Any] = {
            "conv_channels": [int(c) for c in conv_channels],
            "task": task,
            "n_classes": int(n_classes),
            "spp_levels": [int(level) for level in spp_levels],
            "fc_widths": [int(w) for w in fc_widths],
            "dropout": float(dropout),
            "pool_after_conv": bool(pool_after_conv),
            "spp_mode": spp_mode,
            "name": name,
        }
        self.name = name
        self.task = task
        self.n_outputs = int(n_classes) if task == "classification" else 1

        layers: list[nn.Module] = []
        in_channels = 1
        for out_channels in conv_channels:
            layers.append(nn.Conv2d(in_channels, out_channels, 3, padding=1))
            if pool_after_conv:
                # max-pool and ReLU commute (both monotone), so pooling first computes the same
                # function while ReLU and its backward run on a quarter of the pixels
                layers.append(nn.MaxPool2d(2))
            layers.append(nn.ReLU(inplace=True))
            in_channels = out_channels
        self.features = nn.Sequential(*layers)
        self.spp = SpatialPyramidPooling(spp_levels, spp_mode)

        head: list[nn.Module] = []
        widths = [self.spp.output_size(in_channels), *fc_widths, self.n_outputs]
        for i in range(4):
            if dropout > 0:
                head.append(nn.Dropout(dropout))
            head.append(nn.Linear(widths[i], widths[i + 1]))
            if i < 3:
                head.append(nn.ReLU(inplace=True))
        self.head = nn.Sequential(*head)
        # One global factor applied to every input map: Sobel maps on the fixed scale are small
        # (mean about 0.1) and the 4 fully connected layers barely train on them; train.fit sets
        # it to 1 / std of the training pixels. A buffer, so checkpoints carry it and predict
        # applies it without any caller having to remember.
        self.register_buffer("input_scale", torch.tensor(1.0))
        n_pools = len(conv_channels) if pool_after_conv else 0
        #: inputs with a side below this are zero-padded up to it (module docstring)
        self.min_side = max(self.spp.levels) * 2**n_pools

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 1:
            raise ValueError(
                f"{self.name}: expected edge maps of shape (N, 1, H, W), got {tuple(x.shape)}"
            )
        height, width = x.shape[-2:]
        if height < self.min_side or width < self.min_side:
            pad_h = max(0, self.min_side - height)
            pad_w = max(0, self.min_side - width)
            x = F.pad(x, (pad_w // 2, pad_w - pad_w // 2, pad_h // 2, pad_h - pad_h // 2))
        features = self.spp(self.features(x * self.input_scale))
        # The convolutions may run under bfloat16 autocast (edgeiqa.runtime); the small head
        # runs in fp32 so the score keeps float32 resolution instead of bf16's 8-bit mantissa.
        with torch.autocast(x.device.type, enabled=False):
            out = self.head(features.float())
        if self.task == "regression":
            return torch.sigmoid(out).squeeze(1)
        return out


def build_model(
    name: str,
    task: str = "classification",
    n_classes: int = 4,
    spp_levels: tuple[int, ...] = (1, 2, 4),
    *,
    seed: int | None = 0,
    **overrides: Any,
) -> EdgeCNN:
    """One of the paper's variants (:data:`PAPER_VARIANTS`) with freshly initialised weights.

    Args:
        name: ``"CNN_Full_img"``, ``"CNN_2x"``, ``"CNN_4x"`` or ``"CNN_1_Mvote"``.
        task: ``"classification"`` (logits ``(N, n_classes)``) or ``"regression"`` (``(N,)`` in
            0-1 = quality/100).
        n_classes: classes of the classification head.
        spp_levels: SPP grid sizes.
        seed: seeds the weight initialisation (without touching the global torch RNG), so the
            same seed gives the same initial weights; ``None`` draws from the global RNG.
        **overrides: any other :class:`EdgeCNN` argument, e.g. ``pool_after_conv=False``,
            ``dropout=0.2``, ``conv_channels=(8, 8)``.

    Returns:
        The model, in training mode, on the CPU.
    """
    if name not in PAPER_VARIANTS:
        raise ValueError(f"unknown model {name!r}; choose one of {sorted(PAPER_VARIANTS)}")
    variant = PAPER_VARIANTS[name]
    kwargs: dict[str, Any] = {
        "conv_channels": variant["conv_channels"],
        "dropout": variant["dropout"],
        **overrides,
        "task": task,
        "n_classes": n_classes,
        "spp_levels": spp_levels,
        "name": name,
    }
    if seed is None:
        return EdgeCNN(**kwargs)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return EdgeCNN(**kwargs)

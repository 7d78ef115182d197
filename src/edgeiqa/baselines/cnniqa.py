"""CNNIQA: Kang, Ye, Li and Doermann (2014), "Convolutional Neural Networks for No-Reference
Image Quality Assessment", CVPR 2014, pp. 1733-1740 -- the closest published CNN peer of the
"deep fake score" paper's edge-map CNNs, retrained here on the very same splits.

What the paper describes, and what we do:

- input: grey-level image, locally contrast normalised (LCN),
  ``(I - mu) / (sigma + C)`` with mean and standard deviation over a small window
  (paper: P = Q = 3, C = 1). We read P x Q as a 3x3 uniform window, on luminance 0-255 with
  C = 1, applied to the whole image (reflected borders) before cutting patches;
- non-overlapping 32x32 patches, each labelled with its image's score (paper);
- one 7x7 convolution with 50 kernels, then a global max pooling and a global min pooling of
  each feature map (100 values), two fully connected layers of 800 nodes with ReLU, one linear
  output (paper), dropout 0.5 before the second fully connected layer and the output (paper:
  dropout; the placement is our reading);
- loss: mean absolute error (paper: L1), targets quality/100;
- image score: the mean of its patch predictions (paper).

Departures, for a 2-core CPU budget: Adam instead of SGD with momentum; each training image
contributes at most ``max_patches`` patches (a fixed random subset, seeded), not all of them;
few epochs (the notebook's profile sets them). Training reuses :func:`edgeiqa.train.fit`
(best-validation weights, validation carved by content) and :func:`edgeiqa.train.predict`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch
from scipy import ndimage
from torch import nn
from tqdm.auto import tqdm

from edgeiqa import train
from edgeiqa.baselines.cache import cached_features
from edgeiqa.data.images import read_luminance
from edgeiqa.methods import Method, SplitContext

PATCH_SIZE = 32
LCN_WINDOW = 3
LCN_C = 1.0
PATCH_VERSION = "cnniqa-lcn-v1"


def local_contrast_normalise(luminance: np.ndarray) -> np.ndarray:
    """Kang et al.'s local normalisation of a luminance image.

    Args:
        luminance: 2-D luminance on 0-1 (float) or uint8 on 0-255.
    Returns:
        float32 array ``(I - mu) / (sigma + 1)`` on the 0-255 scale, same shape.
    """
    image = np.asarray(luminance)
    image = image.astype(np.float64) * (1.0 if image.dtype == np.uint8 else 255.0)
    mu = ndimage.uniform_filter(image, size=LCN_WINDOW, mode="reflect")
    sq = ndimage.uniform_filter(image * image, size=LCN_WINDOW, mode="reflect")
    sigma = np.sqrt(np.maximum(sq - mu * mu, 0.0))
    return ((image - mu) / (sigma + LCN_C)).astype(np.float32)


def patches(normalised: np.ndarray, size: int = PATCH_SIZE) -> np.ndarray:
    """All non-overlapping ``size x size`` patches (row-major), shape ``(n, size, size)``."""
    rows, cols = normalised.shape[0] // size, normalised.shape[1] // size
    if rows == 0 or cols == 0:
        raise ValueError(f"image of shape {normalised.shape} is smaller than one {size}px patch")
    cropped = normalised[: rows * size, : cols * size]
    return cropped.reshape(rows, size, cols, size).transpose(0, 2, 1, 3).reshape(-1, size, size)


def image_patches(image_path: str | os.PathLike) -> np.ndarray:
    """LCN patches of an image file, cached under ``cache_dir()/baselines/cnniqa``."""

    def compute() -> np.ndarray:
        return patches(local_contrast_normalise(read_luminance(image_path)))

    return cached_features("cnniqa", image_path, PATCH_VERSION, compute)


class CNNIQA(nn.Module):
    """Kang et al.'s network: conv 7x7x50 -> global max & min pooling -> FC 800 -> FC 800 -> 1."""

    def __init__(
        self, n_kernels: int = 50, kernel_size: int = 7, fc_width: int = 800, dropout: float = 0.5
    ) -> None:
        super().__init__()
        self.name = "CNNIQA"
        self.task = "regression"
        self.n_outputs = 1
        self.conv = nn.Conv2d(1, n_kernels, kernel_size)
        self.fc1 = nn.Linear(2 * n_kernels, fc_width)
        self.fc2 = nn.Linear(fc_width, fc_width)
        self.out = nn.Linear(fc_width, 1)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(N, 1, 32, 32)`` patches -> ``(N,)`` quality/100 (linear output)."""
        h = self.conv(x).flatten(2)
        h = torch.cat([h.amax(dim=2), h.amin(dim=2)], dim=1)
        h = torch.relu(self.fc1(h))
        h = torch.relu(self.fc2(self.dropout(h)))
        return self.out(self.dropout(h)).squeeze(1)


@dataclass
class CNNIQAConfig:
    """Training settings (see the module docstring for what departs from the paper).

    Attributes:
        epochs: passes over the sampled training patches.
        max_patches: patches drawn (without replacement, seeded) per training image.
        batch_size: patches per batch.
        lr: Adam learning rate.
        val_fraction: share of training contents held out for best-epoch selection.
        seed: seeds the patch draw, initialisation, batches and validation carve-out.
        progress: show progress bars.
    """

    epochs: int = 20
    max_patches: int = 64
    batch_size: int = 128
    lr: float = 1e-3
    val_fraction: float = 0.15
    seed: int = 0
    progress: bool = False


def _training_patches(
    records: pd.DataFrame, config: CNNIQAConfig
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    rng = np.random.default_rng([config.seed, 7])
    inputs, targets, groups = [], [], []
    rows = zip(records["image_path"], records["quality"], records["content"], strict=True)
    for path, quality, content in tqdm(
        list(rows), desc="CNNIQA patches", disable=not config.progress
    ):
        all_patches = image_patches(path)
        take = rng.permutation(len(all_patches))[: config.max_patches]
        inputs += list(all_patches[np.sort(take)])
        targets += [float(quality) / 100.0] * len(take)
        groups += [content] * len(take)
    return inputs, np.clip(np.asarray(targets), 0.0, 1.0), np.asarray(groups)


def fit_cnniqa(records: pd.DataFrame, config: CNNIQAConfig | None = None) -> train.TrainResult:
    """Train CNNIQA on the training records (``image_path``, ``quality``, ``content``).

    Args:
        records: training split only.
        config: :class:`CNNIQAConfig` (defaults when None).
    Returns:
        :class:`edgeiqa.train.TrainResult` (model with best-validation weights, history).
    """
    config = config or CNNIQAConfig()
    inputs, targets, groups = _training_patches(records, config)
    n_contents = len(np.unique(groups))
    val_fraction = config.val_fraction if n_contents >= 3 else 0.0
    with torch.random.fork_rng():  # seeded initialisation without touching the caller's RNG
        torch.manual_seed(config.seed)
        model = CNNIQA()
    train_config = train.TrainConfig(
        epochs=config.epochs,
        batch_size=config.batch_size,
        lr=config.lr,
        val_fraction=val_fraction,
        seed=config.seed,
        progress=config.progress,
        loss="l1",
    )
    return train.fit(model, inputs, targets, "regression", train_config, groups=groups)


def predict_cnniqa(
    model: nn.Module, image_paths: Sequence[str], progress: bool = False
) -> np.ndarray:
    """Image scores (quality on 0-100): the mean of the model's predictions over all patches."""
    scores = []
    for path in tqdm(list(image_paths), desc="CNNIQA predict", disable=not progress):
        per_patch = train.predict(model, list(image_patches(path)), "regression", batch_size=512)
        scores.append(100.0 * float(np.mean(per_patch)))
    return np.asarray(scores)


@dataclass
class CNNIQAMethod(Method):
    """CNNIQA retrained on each training split (seed ``config.seed + repeat``), as a
    :class:`~edgeiqa.methods.Method`.

    Attributes:
        config: training settings.
        max_repeats: retrained on repeats ``0 .. max_repeats - 1`` of each protocol only (the CPU
            budget; 0: every repeat).
    """

    name: str = "CNNIQA (retrained)"
    kind: str = "trained"
    config: CNNIQAConfig = field(default_factory=CNNIQAConfig)
    max_repeats: int = 0

    def fit(self, train: pd.DataFrame, context: SplitContext | None = None) -> None:
        repeat = context.repeat if context is not None else 0
        config = replace(self.config, seed=self.config.seed + repeat)
        self.model = fit_cnniqa(train, config).model

    def predict(self, test: pd.DataFrame, context: SplitContext | None = None) -> np.ndarray:
        return predict_cnniqa(self.model, test["image_path"].tolist())

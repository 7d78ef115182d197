"""NIQE: Mittal, Soundararajan and Bovik (2013), "Making a 'Completely Blind' Image Quality
Analyzer", IEEE Signal Processing Letters 20(3):209-212.

Opinion-unaware: no human score is used. A multivariate Gaussian (MVG) is fitted to NSS features
of sharp patches of pristine images; an image's quality is the distance between that model and
an MVG fitted to its own patches, ``sqrt((mu_p - mu_d)^T pinv((S_p + S_d) / 2) (mu_p - mu_d))``
(higher = worse). Procedure as in the authors' ``estimatemodelparam.m``/``computequality.m``:

- luminance on 0-255, cropped to whole patches; MSCN with a 7x7 Gaussian (sigma 7/6) and
  replicated borders; patches of ``P x P`` at scale 1 and ``P/2 x P/2`` at half size;
- per patch and scale, 18 features: AGGD shape and mean spread ``(beta_l + beta_r) / 2`` of the
  MSCN coefficients, and AGGD shape, mean, ``beta_l``, ``beta_r`` of the 4 neighbour products
  (36 per patch);
- pristine patches kept only where the mean local standard deviation (sharpness) exceeds 0.75 of
  the image's sharpest patch; test images use every patch.

Departures, each forced by our data: the authors fitted the model to 125 pristine photographs
(their ``modelparameters.mat``), which we do not have, so :func:`fit_niqe` is fitted on whichever
pristine references a run may use (the experiment documents them: references whose content has
no image in the test split). ``P`` defaults to the authors' 96; the experiment lowers it for
small images (see :func:`choose_patch_size`). A test image with a single patch has no covariance;
its covariance is taken as zero (the pristine covariance alone then sets the metric).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import gamma
from tqdm.auto import tqdm

from edgeiqa.baselines import nss
from edgeiqa.baselines.cache import cached_features
from edgeiqa.data.images import read_rgb, rgb_to_luminance
from edgeiqa.methods import LinearMap, Method, Prediction, SkipSplit, SplitContext

DEFAULT_PATCH_SIZE = 96
SHARPNESS_THRESHOLD = 0.75
N_FEATURES = 36
FEATURE_VERSION = "niqe-v1"


def _aggd_beta(alpha: float, std: float) -> float:
    return float(std * np.sqrt(gamma(1.0 / alpha) / gamma(3.0 / alpha)))


def block_features(coefficients: np.ndarray) -> list[float]:
    """The 18 NIQE features of one block of MSCN coefficients (authors' ``computefeature.m``)."""
    alpha, left, right = nss.fit_aggd(coefficients)
    feats = [alpha, (_aggd_beta(alpha, left) + _aggd_beta(alpha, right)) / 2.0]
    for pair in nss.pair_products(coefficients):
        a, left, right = nss.fit_aggd(pair)
        beta_l, beta_r = _aggd_beta(a, left), _aggd_beta(a, right)
        feats += [a, (beta_r - beta_l) * gamma(2.0 / a) / gamma(1.0 / a), beta_l, beta_r]
    return feats


def _blocks(image: np.ndarray, size: int) -> list[np.ndarray]:
    rows, cols = image.shape[0] // size, image.shape[1] // size
    # column-major block order, as MATLAB's blkproc + reshape; order does not affect the MVG
    return [
        image[r * size : (r + 1) * size, c * size : (c + 1) * size]
        for c in range(cols)
        for r in range(rows)
    ]


def patch_features(
    luminance: np.ndarray, patch_size: int = DEFAULT_PATCH_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """NIQE features and sharpness of every ``patch_size`` patch of an image.

    Args:
        luminance: 2-D luminance, float on 0-1 or uint8 on 0-255.
        patch_size: even patch side at full scale.
    Returns:
        ``(features (n_patches, 36), sharpness (n_patches,))``.
    """
    if patch_size < 8 or patch_size % 2:
        raise ValueError(f"NIQE patch size must be even and >= 8, got {patch_size}")
    image = np.asarray(luminance)
    image = image.astype(np.float64) * (1.0 if image.dtype == np.uint8 else 255.0)
    rows, cols = image.shape[0] // patch_size, image.shape[1] // patch_size
    if rows == 0 or cols == 0:
        raise ValueError(f"image of shape {image.shape} is smaller than one {patch_size}px patch")
    image = image[: rows * patch_size, : cols * patch_size]
    per_scale = []
    sharpness = None
    for scale in (1, 2):
        coeffs, sigma = nss.mscn(image, padding="nearest")
        size = patch_size // scale
        per_scale.append([block_features(b) for b in _blocks(coeffs, size)])
        if scale == 1:
            sharpness = np.array([b.mean() for b in _blocks(sigma, size)])
        image = nss.imresize_half(image)
    return np.hstack([np.asarray(f) for f in per_scale]), sharpness


def image_patch_features(
    image_path: str | os.PathLike, patch_size: int = DEFAULT_PATCH_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`patch_features` of an image file, cached under ``cache_dir()/baselines/niqe``."""

    def compute() -> np.ndarray:
        feats, sharp = patch_features(rgb_to_luminance(read_rgb(image_path)), patch_size)
        return np.column_stack([feats, sharp])

    table = cached_features("niqe", image_path, f"{FEATURE_VERSION}|p{patch_size}", compute)
    return table[:, :N_FEATURES], table[:, N_FEATURES]


@dataclass(frozen=True)
class NIQEModel:
    """The pristine MVG: mean and covariance of the selected pristine patch features."""

    mean: np.ndarray
    cov: np.ndarray
    patch_size: int
    n_images: int
    n_patches: int


def fit_niqe(
    pristine_paths: Sequence[str | os.PathLike],
    patch_size: int = DEFAULT_PATCH_SIZE,
    sharpness_threshold: float = SHARPNESS_THRESHOLD,
    progress: bool = False,
) -> NIQEModel:
    """Fit the pristine MVG to the sharp patches of ``pristine_paths``.

    Args:
        pristine_paths: undistorted images (duplicates are used once).
        patch_size: patch side (must match the one used to score).
        sharpness_threshold: keep patches sharper than this fraction of each image's sharpest.
        progress: show a progress bar.
    Returns:
        The fitted :class:`NIQEModel`.
    """
    paths = list(dict.fromkeys(str(p) for p in pristine_paths))
    if not paths:
        raise ValueError("NIQE needs at least one pristine image to fit its model")
    kept = []
    for path in tqdm(paths, desc="NIQE pristine", disable=not progress):
        feats, sharp = image_patch_features(path, patch_size)
        kept.append(feats[sharp > sharpness_threshold * sharp.max()] if sharp.max() > 0 else feats)
    feats = np.vstack(kept)
    if len(feats) < 2:
        raise ValueError(
            f"NIQE pristine model from {len(paths)} image(s) has {len(feats)} patch(es); need >= 2"
        )
    return NIQEModel(
        mean=feats.mean(axis=0),
        cov=np.cov(feats, rowvar=False),
        patch_size=patch_size,
        n_images=len(paths),
        n_patches=len(feats),
    )


def niqe_distance(model: NIQEModel, features: np.ndarray) -> float:
    """NIQE quality (higher = worse) of an image given its patch features ``(n, 36)``."""
    features = np.atleast_2d(features)
    cov = np.cov(features, rowvar=False) if len(features) > 1 else np.zeros_like(model.cov)
    diff = model.mean - features.mean(axis=0)
    return float(np.sqrt(max(diff @ np.linalg.pinv((model.cov + cov) / 2.0) @ diff, 0.0)))


def niqe_scores(model: NIQEModel, image_paths: Sequence[str], progress: bool = False) -> np.ndarray:
    """NIQE score of each image file under ``model`` (higher = worse)."""
    return np.array(
        [
            niqe_distance(model, image_patch_features(p, model.patch_size)[0])
            for p in tqdm(list(image_paths), desc="NIQE", disable=not progress)
        ]
    )


def choose_patch_size(records: pd.DataFrame, sizes: Sequence[int] = (96, 64, 48, 32)) -> int:
    """Largest patch size in ``sizes`` that gives every image at least 2x2 patches.

    The authors' 96 for LIVE-sized images; smaller for the reduced synthetic images.
    """
    from PIL import Image

    sides = []
    for path in records["image_path"]:
        with Image.open(path) as img:
            sides.append(min(img.size))
    smallest = min(sides)
    for size in sizes:
        if smallest >= 2 * size:
            return size
    raise ValueError(f"{records['dataset'].iloc[0]}: images too small for NIQE ({smallest}px)")


def pristine_references(
    train: pd.DataFrame, test_contents: Iterable[str], other_references: Iterable[str] = ()
) -> list[str]:
    """Pristine images NIQE may be fitted on for one split: the references of the training
    records whose content has no image in the test split, plus ``other_references`` (other
    datasets'), sorted and without duplicates."""
    own = train.loc[~train["content"].astype(str).isin(set(test_contents)), "ref_path"]
    paths = [p for p in own.astype(str) if p]
    return sorted(set(paths) | {str(p) for p in other_references if str(p)})


@dataclass
class NIQEMethod(Method):
    """NIQE as a :class:`~edgeiqa.methods.Method`: opinion-unaware, its pristine model fitted
    per split on :func:`pristine_references` (no reference of a tested content); its distances
    are put on 0-100 by a line fitted on the training split. A split that leaves no pristine
    image is skipped.

    Attributes:
        patch_size: patch side (None: :func:`choose_patch_size` over each dataset's images).
    """

    name: str = "NIQE"
    kind: str = "opinion-unaware"
    patch_size: int | None = None
    _patch: int = DEFAULT_PATCH_SIZE

    def prepare(self, records: pd.DataFrame) -> None:
        self._patch = self.patch_size or choose_patch_size(records)

    def fit(self, train: pd.DataFrame, context: SplitContext | None = None) -> None:
        test_contents = context.test_contents if context is not None else ()
        others = context.other_references if context is not None else ()
        pristine = pristine_references(train, test_contents, others)
        if not pristine:
            raise SkipSplit  # every content is tested and no other dataset: nothing pristine
        self.model = fit_niqe(pristine, self._patch)
        raw = niqe_scores(self.model, train["image_path"].tolist())
        self._map = LinearMap.fit(raw, train["quality"].to_numpy(float))

    def predict(self, test: pd.DataFrame, context: SplitContext | None = None) -> Prediction:
        return self._map(niqe_scores(self.model, test["image_path"].tolist()))

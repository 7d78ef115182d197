"""BRISQUE: Mittal, Moorthy and Bovik (2012), "No-Reference Image Quality Assessment in the
Spatial Domain", IEEE Trans. Image Processing 21(12):4695-4708.

36 features per image, computed as the authors' release code does (``brisquescore.m``,
``brisque_feature.m``): the grey image is MATLAB's ``rgb2gray`` of the 8-bit RGB image, as double on
0-255 (:func:`edgeiqa.data.images.rgb_to_grey`), at its native size; MSCN coefficients with a 7x7
Gaussian (sigma 7/6) applied by ``filter2(..., 'same')`` (zero padding), ``C = 1``; at each of 2
scales (the image, then MATLAB's ``imresize(I, 0.5)`` of it), the shape and variance of a GGD fitted
to the MSCN coefficients (2) and, for each of the 4 circularly shifted neighbour products
(horizontal, vertical, two diagonals), the AGGD shape, mean, left and right variance (16). See
:mod:`edgeiqa.baselines.nss` for the fits. The same features feed the authors' LIVE-trained model
(:mod:`edgeiqa.baselines.brisque_published`) and the SVR retrained here, so the two rows of the
comparison differ only in the regressor.

Retrained regression: an RBF support vector regressor (scikit-learn) on features scaled to
[-1, 1] (the authors used LIBSVM's ``svm-scale`` the same way), trained on the training split only.
``C`` and ``gamma`` are chosen by grid search with :class:`~sklearn.model_selection.GroupKFold` over
the training contents, so no content is used to both fit and score a setting, and the test split is
never seen. Departure: the scaling ranges are the training split's own (the authors' ``allrange``
is from all of LIVE, which would leak test images into the scaling).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.model_selection import GridSearchCV, GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler
from sklearn.svm import SVR
from tqdm.auto import tqdm

from edgeiqa.baselines import nss
from edgeiqa.baselines.cache import cached_features
from edgeiqa.data.images import read_rgb, rgb_to_grey
from edgeiqa.methods import Method, SplitContext, unseen

N_FEATURES = 36
# v2: MATLAB rgb2gray and MATLAB imresize (v1: BT.601 luma, Pillow resize)
FEATURE_VERSION = "brisque-v2"

_PAIR_NAMES = ("h", "v", "d1", "d2")
FEATURE_NAMES: list[str] = [
    name
    for scale in (1, 2)
    for name in (
        [f"s{scale}_mscn_shape", f"s{scale}_mscn_var"]
        + [
            f"s{scale}_{pair}_{stat}"
            for pair in _PAIR_NAMES
            for stat in ("shape", "mean", "left_var", "right_var")
        ]
    )
]
"""Names of the 36 features in the order the authors' code returns them."""

DEFAULT_PARAM_GRID: dict[str, list[float]] = {
    "svr__C": [2.0**k for k in (0, 3, 6, 9)],
    "svr__gamma": [2.0**k for k in (-8, -5, -2, 1)],
}
"""Grid searched inside the training split: powers of 2, as LIBSVM's ``grid.py`` searches, on a
coarse 4 x 4 grid (the CPU budget; pass ``param_grid`` for a finer one)."""


def scale_features(grey255: np.ndarray) -> list[float]:
    """The 18 BRISQUE features of one scale (grey on 0-255)."""
    coeffs, _ = nss.mscn(grey255, padding="constant")  # filter2(..., 'same'): zero padding
    alpha, var = nss.fit_ggd(coeffs)
    feats = [alpha, var]
    for pair in nss.pair_products(coeffs):
        a, left, right = nss.fit_aggd(pair)
        feats += [a, nss.aggd_mean(a, left, right), left**2, right**2]
    return feats


def brisque_features(grey255: np.ndarray) -> np.ndarray:
    """The 36 BRISQUE features of a grey image.

    Args:
        grey255: 2-D grey image on 0-255 (any dtype; :func:`edgeiqa.data.images.rgb_to_grey`
            of an RGB image gives the authors' grey).
    Returns:
        float64 array of length 36, ordered as :data:`FEATURE_NAMES`.
    """
    image = np.asarray(grey255, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"expected a 2-D grey image, got shape {image.shape}")
    if min(image.shape) < 8:
        raise ValueError(f"image of shape {image.shape} is too small for BRISQUE (min side 8)")
    feats = scale_features(image) + scale_features(nss.imresize_half(image))
    return np.asarray(feats, dtype=np.float64)


def image_features(image_path: str | os.PathLike) -> np.ndarray:
    """BRISQUE features of an image file (MATLAB grey of its RGB), cached under
    ``cache_dir()/baselines/brisque``. Both the authors' model and :class:`BrisqueSVR` use it."""

    def compute() -> np.ndarray:
        return brisque_features(rgb_to_grey(read_rgb(image_path)))

    return cached_features("brisque", image_path, FEATURE_VERSION, compute)


def feature_matrix(records: pd.DataFrame, progress: bool = True) -> np.ndarray:
    """``(len(records), 36)`` features of every record's ``image_path`` (cached per image)."""
    paths = records["image_path"].tolist()
    rows = [image_features(p) for p in tqdm(paths, desc="BRISQUE features", disable=not progress)]
    return np.vstack(rows) if rows else np.empty((0, N_FEATURES))


def fit_svr(
    features: np.ndarray,
    quality: Sequence[float] | np.ndarray,
    groups: Sequence | np.ndarray,
    param_grid: Mapping[str, Sequence[float]] | None = None,
    n_splits: int = 5,
) -> GridSearchCV:
    """Fit BRISQUE's SVR on one training split, choosing ``C``/``gamma`` by grouped CV.

    Args:
        features: ``(N, 36)`` training features.
        quality: training targets (quality on 0-100, higher better).
        groups: content id of each training image; CV folds never split a content.
        param_grid: grid over the pipeline's ``svr__*`` parameters (default
            :data:`DEFAULT_PARAM_GRID`).
        n_splits: CV folds (capped by the number of distinct contents).
    Returns:
        The fitted :class:`GridSearchCV`; ``predict`` uses the refit best model,
        ``best_params_`` holds the chosen setting.
    """
    features = np.asarray(features, dtype=np.float64)
    quality = np.asarray(quality, dtype=np.float64)
    groups = np.asarray(groups)
    n_groups = len(np.unique(groups))
    if n_groups < 2:
        raise ValueError(
            f"BRISQUE SVR needs at least 2 training contents for grouped CV, got {n_groups}"
        )
    if not np.all(np.isfinite(features)):
        raise ValueError("BRISQUE features contain non-finite values")
    search = GridSearchCV(
        make_svr(),
        dict(param_grid or DEFAULT_PARAM_GRID),
        cv=GroupKFold(n_splits=min(n_splits, n_groups)),
        scoring="neg_mean_squared_error",
        n_jobs=1,
    )
    search.fit(features, quality, groups=groups)
    return search


def make_svr() -> Pipeline:
    """Unfitted pipeline: scale each feature to [-1, 1], then an RBF epsilon-SVR."""
    return make_pipeline(MinMaxScaler(feature_range=(-1, 1)), SVR(kernel="rbf"))


@dataclass
class BrisqueSVR(Method):
    """BRISQUE features + RBF SVR retrained on each training split (``C``/``gamma`` by grouped
    CV by content inside it), as a :class:`~edgeiqa.methods.Method`.

    Attributes:
        param_grid: the SVR grid (None: the module default).
        progress: progress bars while computing features.
    """

    name: str = "BRISQUE (SVR, retrained)"
    kind: str = "trained"
    param_grid: dict | None = None
    progress: bool = True
    _features: dict = field(default_factory=dict, init=False, repr=False)

    def prepare(self, records: pd.DataFrame) -> None:
        new = unseen(records, self._features)
        if len(new):
            x = feature_matrix(new, progress=self.progress)
            self._features.update(zip(new["image_path"].astype(str), x, strict=True))

    def _x(self, records: pd.DataFrame) -> np.ndarray:
        self.prepare(records)
        return np.vstack([self._features[p] for p in records["image_path"].astype(str)])

    def fit(self, train: pd.DataFrame, context: SplitContext | None = None) -> None:
        self._search = fit_svr(
            self._x(train), train["quality"].to_numpy(float), train["content"], self.param_grid
        )

    def predict(self, test: pd.DataFrame, context: SplitContext | None = None) -> np.ndarray:
        return self._search.predict(self._x(test))

"""The published BRISQUE model (Mittal, Moorthy and Bovik, 2012, IEEE TIP 21(12)) as shipped by
the ``brisque`` package (PyPI ``brisque`` 0.2.0: ``brisque/models/svm.txt``, a LIBSVM epsilon-SVR
with an RBF kernel, and ``normalize.pickle``, the per-feature [-1, 1] scaling ranges).

Not retrained here. Its output is on LIVE's DMOS scale (about 0-100, higher = WORSE).

Training data: the shipped SVR and ranges are, by their header and values, the authors'
released "all of LIVE" model, i.e. trained on every distorted image of LIVE Release 2. It has
therefore seen every LIVE image (and the LIVE subset's images) it is tested on here;
:func:`overlaps_training_data` flags such records, and the comparison tables label its LIVE rows
accordingly. We could not check the package's training data in a source beyond the model files.

numpy 2 workaround: ``BRISQUE.score`` raises ``TypeError: only 0-dimensional arrays can be
converted to Python scalars`` because its AGGD fit returns one-element arrays where scalars are
meant. :func:`published_score` runs the package's own feature code path unchanged (grey
conversion with ``skimage.color.rgb2gray``, its MSCN/AGGD features at the native size and at half
size by ``cv2.resize(..., INTER_CUBIC)``), turns each feature into the scalar it stands for, then
calls the package's own scaling and LIBSVM prediction. So the scores are those the package would
give if the bug were fixed. (Our own :mod:`edgeiqa.baselines.brisque` features match the package's
at the first scale; they differ at the second because we halve the image with antialiasing as the
authors' MATLAB code does, so they are not fed to this model.)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from edgeiqa.baselines.cache import cached_features
from edgeiqa.data.images import read_rgb
from edgeiqa.methods import ScoreMethod

TRAINED_ON = ("live", "live_subset")
"""Datasets whose images are in the published model's training data (all of LIVE R2)."""

PACKAGE_VERSION_KEY = "brisque-0.2.0-shipped-svm"


@lru_cache(maxsize=1)
def _model():
    # imported lazily: the package pulls in cv2 and libsvm, which only this baseline needs
    from brisque import BRISQUE

    return BRISQUE(url=False)


def package_features(rgb: np.ndarray) -> np.ndarray:
    """The package's 36 BRISQUE features of an RGB image, as float64 scalars.

    Args:
        rgb: ``H x W x 3`` uint8 image (or a 2-D grey image).
    Returns:
        float64 array of length 36 in the package's (= the authors') order.
    """
    import cv2
    import skimage.color

    model = _model()
    image = np.asarray(rgb)
    grey = skimage.color.rgb2gray(image) if image.ndim == 3 else image.astype(np.float64) / 255.0
    first = model.calculate_brisque_features(grey, kernel_size=7, sigma=7 / 6)
    half = cv2.resize(grey, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_CUBIC)
    second = model.calculate_brisque_features(half, kernel_size=7, sigma=7 / 6)
    # each entry is a scalar or a one-element array (the numpy 2 TypeError); take its value
    return np.array([np.asarray(v, dtype=np.float64).item() for v in (*first, *second)])


def score_features(features: np.ndarray) -> float:
    """The shipped SVR's prediction (LIVE DMOS scale, higher = worse) for package features."""
    return float(_model().calculate_image_quality_score(np.asarray(features, dtype=np.float64)))


def published_score(image_path: str | os.PathLike) -> float:
    """Published-BRISQUE score of an image file (features cached per image)."""

    def compute() -> np.ndarray:
        return package_features(read_rgb(image_path))

    return score_features(
        cached_features("brisque_package", image_path, PACKAGE_VERSION_KEY, compute)
    )


def published_scores(records: pd.DataFrame, progress: bool = True) -> np.ndarray:
    """Published-BRISQUE score of every record's ``image_path`` (higher = worse)."""
    paths = records["image_path"].tolist()
    return np.array(
        [published_score(p) for p in tqdm(paths, desc="published BRISQUE", disable=not progress)]
    )


def overlaps_training_data(records: pd.DataFrame) -> np.ndarray:
    """True for each record whose image is in the published model's training data (LIVE R2)."""
    return records["dataset"].isin(TRAINED_ON).to_numpy()


@dataclass
class PublishedBrisque(ScoreMethod):
    """The published BRISQUE model as a :class:`~edgeiqa.methods.Method`: not retrained here;
    its scores are put on 0-100 by a line fitted on the training split. It was trained on all of
    LIVE (:data:`TRAINED_ON`), so its predictions on LIVE images are flagged
    ``trained_on_test``."""

    name: str = "BRISQUE (published model)"
    kind: str = "trained"
    trained_on: tuple[str, ...] = TRAINED_ON
    progress: bool = True

    def scores(self, records: pd.DataFrame) -> np.ndarray:
        return published_scores(records, progress=self.progress)

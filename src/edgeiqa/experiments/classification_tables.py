"""Tables of the classification notebooks 03 and 04: metrics per split, summaries over repeats,
per-class figures, confusion counts, the paper's reported figures beside ours, and the two
decisions of the patch-vote classifiers.

Rebuilds the classification experiment of :data:`edgeiqa.paper.CITATION`; the runs themselves
are made by :mod:`edgeiqa.experiments.classification`, whose prediction table
(:attr:`~edgeiqa.experiments.classification.ClassificationRun.predictions`) every function here
reads. The paper's figures come from :mod:`edgeiqa.paper` only.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

from edgeiqa import paper
from edgeiqa.data.schema import QUALITY_CLASS_NAMES

N_CLASSES = len(QUALITY_CLASS_NAMES)
METRIC_COLUMNS: tuple[str, ...] = (*paper.CLASSIFICATION_METRICS, "majority_baseline")
"""The metrics of every split: the paper's four, and the majority-class baseline."""

SPLIT_KEYS: list[str] = [
    "dataset",
    "protocol",
    "method",
    "architecture",
    "parts",
    "patch_size",
    "test_on",
]
"""What identifies one classifier's runs on one dataset and protocol (``method``: its label)."""

_POOL_KEYS = ["dataset", "protocol", "method"]


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


def metrics_table(predictions: pd.DataFrame, column: str = "predicted_class") -> pd.DataFrame:
    """One row per (dataset, protocol, method, repeat) with :func:`split_metrics` and ``n_test``.

    Args:
        predictions: :attr:`ClassificationRun.predictions` (one or several runs).
        column: the predicted-class column (``predicted_class_mean`` for the mean-probability
            decision of patch classifiers).
    Returns:
        DataFrame ``dataset, protocol, method, architecture, parts, patch_size, test_on, repeat,
        n_test, accuracy, weighted_precision, weighted_recall, weighted_f1, majority_baseline``.
    """
    rows = []
    for key, part in predictions.groupby([*SPLIT_KEYS, "repeat"], sort=False):
        rows.append(
            {
                **dict(zip([*SPLIT_KEYS, "repeat"], key, strict=True)),
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
        One row per (dataset, protocol, method): the :data:`SPLIT_KEYS`, ``n_repeats,
        n_test_mean`` and ``<metric>_mean, <metric>_std, <metric>_min, <metric>_max``.
    """
    grouped = metrics.groupby(SPLIT_KEYS, sort=False)
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
    for key, part in predictions.groupby(_POOL_KEYS, sort=False):
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
                    **dict(zip(_POOL_KEYS, key, strict=True)),
                    "class": c,
                    "class_name": QUALITY_CLASS_NAMES[c],
                    "precision": float(p[c]),
                    "recall": float(r[c]),
                    "f1": float(f[c]),
                    "support": int(s[c]),
                }
            )
    return pd.DataFrame(rows)


def confusion(predictions: pd.DataFrame, column: str = "predicted_class") -> np.ndarray:
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
    for key, part in predictions.groupby(_POOL_KEYS, sort=False):
        counts = confusion(part, column)
        totals = counts.sum(axis=1)
        for t in range(N_CLASSES):
            for p in range(N_CLASSES):
                rows.append(
                    {
                        **dict(zip(_POOL_KEYS, key, strict=True)),
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
    """Our mean figures beside the paper's reported ones (:data:`edgeiqa.paper.CLASSIFICATION`),
    for the architectures both have.

    Args:
        summary: :func:`summary_table` output.
    Returns:
        DataFrame ``dataset, source, protocol, method, n_repeats, accuracy, weighted_precision,
        weighted_recall, weighted_f1`` with the paper's rows labelled ``source = "as reported by
        the paper"``, ``dataset = "live"``, protocol ``"image (paper, one split)"`` and
        ``method`` = the architecture; ours have ``source = "ours (mean over repeats)"``. Rows
        are matched by the ``architecture`` column (so every patch size of CNN_1_Mvote meets
        the paper's CNN_1_Mvote row).
    """
    names = list(paper.CLASSIFICATION_METRICS)
    reported = paper.CLASSIFICATION
    theirs = reported[reported["architecture"].isin(summary["architecture"])]
    theirs = theirs.rename(columns={"architecture": "method"})
    theirs.insert(0, "dataset", "live")
    theirs.insert(1, "source", paper.SOURCE)
    theirs.insert(2, "protocol", "image (paper, one split)")
    theirs.insert(4, "n_repeats", 1)
    ours = summary[summary["architecture"].isin(reported["architecture"])].copy()
    ours = ours.rename(columns={f"{n}_mean": n for n in names})
    ours["source"] = "ours (mean over repeats)"
    columns = ["dataset", "source", "protocol", "method", "n_repeats", *names]
    return pd.concat([theirs[columns], ours[columns]], ignore_index=True)


def decision_comparison(predictions: pd.DataFrame) -> pd.DataFrame:
    """Per-split metrics of patch classifiers under both decisions: majority vote and the argmax
    of the mean patch probability (same trained models, same test images).

    Args:
        predictions: :attr:`ClassificationRun.predictions`.
    Returns:
        :func:`metrics_table` rows of the patch classifiers with a ``decision`` column
        (``majority vote`` | ``mean probability``).
    """
    patches = predictions[predictions["patch_size"] > 0]
    if patches.empty:
        raise ValueError("no patch (majority-vote) classifier in the predictions")
    parts = []
    for decision, column in (
        ("majority vote", "predicted_class"),
        ("mean probability", "predicted_class_mean"),
    ):
        table = metrics_table(patches, column)
        table.insert(3, "decision", decision)
        parts.append(table)
    return pd.concat(parts, ignore_index=True)

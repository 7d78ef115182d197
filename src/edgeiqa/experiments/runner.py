"""The runner: any list of methods (:mod:`edgeiqa.methods`) on any protocol's splits.

:func:`predict_splits` fits every method on each split's training records and predicts its test
records; :func:`cross_dataset_predictions` does the same with one dataset as training set and
another as test set. :func:`evaluate` turns the predictions into the per-split metrics, their
medians over splits (the numbers behind Table 3, :mod:`edgeiqa.experiments.table3`) and the
paired significance tests (:mod:`edgeiqa.experiments.significance`). A method defined in a
notebook cell goes through exactly the same code as the study's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from edgeiqa import metrics as metrics_lib
from edgeiqa.data.identity import digests, seen_in_training
from edgeiqa.data.schema import DISTORTION_LABELS
from edgeiqa.experiments import significance
from edgeiqa.methods import Method, Prediction, SkipSplit, SplitContext, as_prediction, check_method
from edgeiqa.paper import TABLE3_METRICS
from edgeiqa.reporting import dataset_label
from edgeiqa.splits import Split

PREDICTION_COLUMNS: list[str] = [
    "dataset",
    "protocol",
    "repeat",
    "method",
    "image",
    "content",
    "distortion",
    "quality",
    "predicted",
]
"""One row per (split, method, test image): the prediction table every experiment writes and
notebook 06 reads from notebook 05 (API.md)."""

EXTRA_COLUMNS: list[str] = ["raw_prediction", "method_kind", "trained_on_test", "mapping"]
"""What :func:`predict_splits` adds: the method's own score, ``FR`` (needs the reference) or
``NR``, whether the method was trained on the test image before this study, and how the raw
score was mapped to 0-100."""

SHARED_IMAGES: tuple[frozenset[str], ...] = (frozenset({"live", "live_subset"}),)
"""Dataset pairs that hold the same images (the LIVE subset is part of LIVE): never crossed."""


def shares_images(a: str, b: str) -> bool:
    """Whether datasets ``a`` and ``b`` hold the same images (see :data:`SHARED_IMAGES`)."""
    return frozenset({a, b}) in SHARED_IMAGES


def _rows(test: pd.DataFrame, split: Split, method: Method, pred: Prediction) -> pd.DataFrame:
    part = test[["dataset", "image", "content", "distortion", "quality"]].copy()
    part.insert(1, "protocol", split.protocol)
    part.insert(2, "repeat", split.repeat)
    part.insert(3, "method", method.name)
    part["predicted"] = pred.quality
    part["raw_prediction"] = pred.raw
    part["method_kind"] = "FR" if method.kind == "full-reference" else "NR"
    # by image identity, so a LIVE image loaded under another name is flagged too
    part["trained_on_test"] = seen_in_training(test, method.trained_on)
    part["mapping"] = pred.mapping
    return part[PREDICTION_COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


def predict_splits(
    records: pd.DataFrame,
    splits: Sequence[Split],
    methods: Sequence[Method],
    other_references: Sequence[str] = (),
    progress: bool = False,
    desc: str | None = None,
) -> pd.DataFrame:
    """Fit every method on each split's training records and predict its test records.

    Each method's ``prepare`` sees all records once first; then, split by split (in the order
    given) and method by method, ``fit`` gets ``records.iloc[split.train]`` and ``predict``
    ``records.iloc[split.test]``, both with the split's :class:`~edgeiqa.methods.SplitContext`.
    A method skips splits beyond its ``max_repeats`` and splits where ``fit`` raises
    :class:`~edgeiqa.methods.SkipSplit`.

    Args:
        records: one dataset's record table (or, for cross-dataset runs, two concatenated).
        splits: the splits (:func:`edgeiqa.splits.protocol_splits` or
            :func:`edgeiqa.splits.splits_from_test_images`).
        methods: the methods.
        other_references: pristine images of other datasets an opinion-unaware method may use.
        progress: a progress bar over splits.
        desc: its label.
    Returns:
        Rows in :data:`PREDICTION_COLUMNS` + :data:`EXTRA_COLUMNS`.
    """
    methods = [check_method(m) for m in methods]
    for method in methods:
        method.prepare(records)
    # the test dataset: the only one, or the second of a cross-dataset table (train first)
    dataset = str(records["dataset"].iloc[-1])
    frames = []
    for split in tqdm(splits, desc=desc or f"methods on {dataset}", disable=not progress):
        train, test = records.iloc[split.train], records.iloc[split.test]
        context = SplitContext(
            dataset=dataset,
            protocol=split.protocol,
            repeat=split.repeat,
            test_contents=frozenset(test["content"].astype(str)),
            other_references=tuple(other_references),
        )
        for method in methods:
            if method.max_repeats and split.repeat >= method.max_repeats:
                continue
            try:
                method.fit(train, context)
            except SkipSplit:
                continue
            pred = as_prediction(method.predict(test, context), len(test), method.name)
            frames.append(_rows(test, split, method, pred))
    if not frames:
        return pd.DataFrame(columns=PREDICTION_COLUMNS + EXTRA_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def cross_dataset_predictions(
    train_records: pd.DataFrame,
    test_records: pd.DataFrame,
    methods: Sequence[Method],
    progress: bool = False,
) -> pd.DataFrame:
    """Train on all of one dataset, test on every image of another (no split), every method.

    Methods learn (and map their scores) on ``train_records`` only; an opinion-unaware method's
    pristine set is ``train_records``' references (no other dataset is offered).

    Returns:
        Rows in :data:`PREDICTION_COLUMNS` + :data:`EXTRA_COLUMNS` + ``train_dataset``, with
        ``dataset`` = the test dataset and ``protocol = "cross: <train> -> <test>"``.
    """
    train_name = str(train_records["dataset"].iloc[0])
    test_name = str(test_records["dataset"].iloc[0])
    if train_name == test_name or shares_images(train_name, test_name):
        raise ValueError(
            f"cross-dataset needs two datasets without common images, got {train_name} and "
            f"{test_name}"
        )
    common = set(digests(train_records["image_path"])) & set(digests(test_records["image_path"]))
    if common:
        raise ValueError(
            f"cross-dataset {train_name} -> {test_name}: {len(common)} test image(s) are pixel-"
            f"identical to training images (same images under other names)"
        )
    both = pd.concat([train_records, test_records], ignore_index=True)
    # one table of two datasets: content ids (CV groups, pristine exclusion) must not collide
    original = both["content"].astype(str)
    both["content"] = both["dataset"].astype(str) + ":" + original
    split = Split(
        f"cross: {train_name} -> {test_name}",
        0,
        np.arange(len(train_records)),
        np.arange(len(train_records), len(both)),
    )
    out = predict_splits(both, [split], methods, progress=progress)
    out["content"] = out["content"].map(dict(zip(both["content"], original, strict=True)))
    out["train_dataset"] = train_name
    return out


# ----------------------------------------------------------------------------- evaluation


def per_split_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """Metrics of every (dataset, protocol, method, repeat) per distortion and ALL.

    Returns:
        Columns ``dataset, protocol, method, repeat, distortion, n`` and the metrics of
        :data:`edgeiqa.metrics.METRICS` (``distortion`` keeps the normalised names + ``ALL``).
    """
    keys = ["dataset", "protocol", "method", "repeat"]
    frames = []
    for key, part in predictions.groupby(keys, sort=False):
        table = metrics_lib.correlation_table(part)
        for i, col in enumerate(keys):
            table.insert(i, col, key[i])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def summarise(per_split: pd.DataFrame, predictions: pd.DataFrame | None = None) -> pd.DataFrame:
    """Median and inter-quartile range over splits per (dataset, protocol, method, distortion),
    with the paper's column label (``BLUR``...``ALL``) and a ``source`` string saying what the
    numbers are ("computed here on <dataset>, <protocol> protocol, median of N splits [IQR]").

    Args:
        per_split: :func:`per_split_metrics` output.
        predictions: the predictions behind it; adds ``trained_on_test`` (any of a method's test
            images of that dataset was in its training data before this study).
    """
    keys = ["dataset", "protocol", "method", "distortion"]
    out = metrics_lib.aggregate_repeats(per_split, keys, tuple(TABLE3_METRICS.values()))
    out["column"] = out["distortion"].map(lambda d: DISTORTION_LABELS.get(d, d))
    out["source"] = [
        f"computed here on {dataset_label(d)}, {p} protocol, median of {n} splits [IQR]"
        for d, p, n in zip(out["dataset"], out["protocol"], out["n_splits"], strict=True)
    ]
    if predictions is not None and "trained_on_test" in predictions:
        flags = predictions.groupby(["dataset", "method"])["trained_on_test"].any()
        index = pd.MultiIndex.from_frame(out[["dataset", "method"]])
        out["trained_on_test"] = flags.reindex(index).fillna(False).astype(bool).to_numpy()
    else:
        out["trained_on_test"] = False
    return out


@dataclass
class Evaluation:
    """What :func:`evaluate` computed from a prediction table.

    Attributes:
        predictions: the rows evaluated.
        per_split: :func:`per_split_metrics`.
        summary: :func:`summarise` (median and IQR over splits).
        bootstrap: :func:`edgeiqa.experiments.significance.compare_all` (every method of
            ``ours`` against every other method, paired on the same test images).
        ours: the methods under test (the paper's), in table order.
        others: the methods they are compared with, in table order.
    """

    predictions: pd.DataFrame
    per_split: pd.DataFrame
    summary: pd.DataFrame
    bootstrap: pd.DataFrame
    ours: list[str]
    others: list[str]


def evaluate(
    predictions: pd.DataFrame,
    ours: Sequence[str],
    others: Sequence[str] | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Evaluation:
    """Per-split metrics, medians over splits and paired significance tests of ``predictions``.

    Args:
        predictions: rows of :func:`predict_splits` (any number of datasets and methods).
        ours: the methods under test (each is compared with every method of ``others``).
        others: the methods to compare with (None: every other method, in order of appearance).
        n_boot: bootstrap draws of the paired comparison.
        seed: seed of the draws.
    """
    if others is None:
        others = [m for m in dict.fromkeys(predictions["method"]) if m not in set(ours)]
    per_split = per_split_metrics(predictions)
    summary = summarise(per_split, predictions)
    boot = significance.compare_all(predictions, ours, others, n_boot=n_boot, seed=seed)
    return Evaluation(predictions, per_split, summary, boot, list(ours), list(others))

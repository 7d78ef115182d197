"""Tables of the regression study (notebook 05): metrics per split, medians over splits, pooled
metrics, the effect of sharing contents, the paper's Table 3 beside ours, and the training cost.

Rebuilds the regression experiment of :data:`edgeiqa.paper.CITATION` (its Table 3); the runs
themselves are made by :mod:`edgeiqa.experiments.regression`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from edgeiqa import metrics as metrics_lib
from edgeiqa import paper
from edgeiqa import splits as splits_lib
from edgeiqa.edge_cnn import TASK, RegressionSettings
from edgeiqa.experiments.regression import DEFAULT_PROTOCOLS
from edgeiqa.models import build_model

SUMMARY_KEYS: list[str] = ["dataset", "protocol", "method", "architecture", "distortion"]
"""One row of :func:`summarise` per these keys."""


def split_metrics(
    predictions: pd.DataFrame,
    architectures: Mapping[str, str],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """All metrics per split and distortion (+ ALL) with a bootstrap SROCC interval.

    Args:
        predictions: rows in :data:`PREDICTION_COLUMNS` (several datasets/protocols allowed).
        architectures: the architecture of every method in ``predictions`` (method -> name).
        n_boot: bootstrap resamples per (split, distortion).
        seed: bootstrap seed.
        level: interval coverage.
    Returns:
        One row per (dataset, protocol, method, repeat, distortion): ``architecture``, ``n``,
        the metrics of :data:`edgeiqa.metrics.METRICS`, ``logistic_fit``, ``srocc_ci_low``,
        ``srocc_ci_high``.
    """
    keys = ["dataset", "protocol", "method", "repeat"]
    frames = []
    for key, part in predictions.groupby(keys, sort=False):
        table = metrics_lib.correlation_table(part, n_boot=n_boot, seed=seed, level=level)
        for col, value in zip(keys, key, strict=True):
            table.insert(keys.index(col), col, value)
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out.insert(3, "architecture", out["method"].map(architectures))
    return out


def summarise(per_split: pd.DataFrame) -> pd.DataFrame:
    """Median and inter-quartile range over splits, one row per (dataset, protocol, method,
    architecture, distortion).

    Columns: ``n_splits``, ``n_defined`` (splits where SROCC is defined), ``n_test_median``
    (test images per split), ``<metric>_median/_q25/_q75`` for every metric, and
    ``srocc_ci_low``/``srocc_ci_high``: the median over splits of each split's bootstrap bounds
    (a typical single-split interval, the uncertainty the paper's single split carries);
    ``logistic_fallbacks`` counts splits where the logistic mapping fell back (see
    :func:`edgeiqa.metrics.fit_logistic`).
    """
    out = metrics_lib.aggregate_repeats(per_split, SUMMARY_KEYS, metrics_lib.METRICS)
    grouped = per_split.groupby(SUMMARY_KEYS, sort=False, dropna=False)
    extra = pd.DataFrame(
        {
            "n_test_median": grouped["n"].median(),
            "srocc_ci_low": grouped["srocc_ci_low"].median(),
            "srocc_ci_high": grouped["srocc_ci_high"].median(),
            "logistic_fallbacks": grouped["logistic_fit"].agg(
                lambda s: int((~s.isin(["logistic5"])).sum())
            ),
        }
    ).reset_index()
    out = out.merge(extra, on=SUMMARY_KEYS, how="left")
    out.insert(len(SUMMARY_KEYS), "protocol_name", out["protocol"].map(splits_lib.PROTOCOL_NAMES))
    return out


def pooled_metrics(
    predictions: pd.DataFrame,
    architectures: Mapping[str, str],
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Metrics over the test predictions of all splits pooled, one prediction per image.

    A test split of the ``content`` protocol holds few contents, and a LOCO fold one, so its
    SROCC ranks images mostly *within* a scene, which is easier than ranking across scenes as
    the ``image`` protocol's test split must. Pooling puts every tested image of every content
    into one ranking for every protocol, so the protocols are compared on equal footing.
    An image tested in several splits gets the mean of its predictions (LOCO: exactly one).

    Args:
        predictions: rows in :data:`PREDICTION_COLUMNS`.
        architectures: the architecture of every method in ``predictions``.
        n_boot: bootstrap resamples for the SROCC interval (images resampled).
        seed: bootstrap seed.
        level: interval coverage.
    Returns:
        One row per (dataset, protocol, method, architecture, distortion): ``n`` (images), the
        metrics,
        ``logistic_fit``, ``srocc_ci_low``, ``srocc_ci_high``, ``n_splits``.
    """
    keys = ["dataset", "protocol", "method"]
    frames = []
    for key, part in predictions.groupby(keys, sort=False):
        per_image = part.groupby("image", sort=False).agg(
            distortion=("distortion", "first"),
            quality=("quality", "first"),
            predicted=("predicted", "mean"),
        )
        table = metrics_lib.correlation_table(per_image, n_boot=n_boot, seed=seed, level=level)
        for i, (col, value) in enumerate(zip(keys, key, strict=True)):
            table.insert(i, col, value)
        table["n_splits"] = part["repeat"].nunique()
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out.insert(3, "architecture", out["method"].map(architectures))
    return out


def content_sharing_effect(
    summary: pd.DataFrame, pooled: pd.DataFrame | None = None, metric: str = "srocc"
) -> pd.DataFrame:
    """How much the paper's image-level split flatters a model: ``image`` minus the
    content-disjoint protocol (``content`` or ``loco``) of the same dataset, method, distortion.

    Args:
        summary: :func:`summarise` output (medians over splits).
        pooled: :func:`pooled_metrics` output; adds the pooled comparison, where both
            protocols rank all contents together (see :func:`pooled_metrics`).
        metric: which metric.
    Returns:
        Columns ``dataset, method, distortion, disjoint_protocol, <metric>_image,
        <metric>_disjoint, difference`` (medians over splits) and, with ``pooled``,
        ``<metric>_image_pooled, <metric>_disjoint_pooled, difference_pooled``.
    """
    keys = ["dataset", "method", "distortion"]

    def compare(table: pd.DataFrame, column: str, suffix: str) -> pd.DataFrame:
        image = table[table["protocol"] == "image"][keys + [column]]
        disjoint = table[table["protocol"].isin(["content", "loco"])][keys + ["protocol", column]]
        merged = image.merge(disjoint, on=keys, suffixes=("_image", "_disjoint"))
        merged = merged.rename(
            columns={
                f"{column}_image": f"{metric}_image{suffix}",
                f"{column}_disjoint": f"{metric}_disjoint{suffix}",
                "protocol": "disjoint_protocol",
            }
        )
        merged[f"difference{suffix}"] = (
            merged[f"{metric}_image{suffix}"] - merged[f"{metric}_disjoint{suffix}"]
        )
        return merged

    out = compare(summary, f"{metric}_median", "")
    if pooled is not None:
        out = out.merge(
            compare(pooled, metric, "_pooled"), on=keys + ["disjoint_protocol"], how="left"
        )
    return out


def planned_image_passes(
    records_by_dataset: dict[str, pd.DataFrame],
    settings: RegressionSettings,
    transfer: bool = True,
) -> pd.DataFrame:
    """Training cost of :func:`run_study` in image passes (forward + backward of one edge map),
    the number that sets the runtime (cost per pass grows with the edge-map area).

    Args:
        records_by_dataset: the record tables :func:`run_study` will get.
        settings: run settings.
        transfer: whether the synthetic -> LIVE-subset transfer runs.
    Returns:
        One row per training job: dataset, protocol, regime, trainings, images (mean training
        images per training), epochs, passes.
    """
    rows = []
    do_transfer = transfer and {"synthetic", "live_subset"} <= set(records_by_dataset)
    for dataset, records in records_by_dataset.items():
        for protocol in DEFAULT_PROTOCOLS.get(dataset, ("content", "image")):
            splits = splits_lib.protocol_splits(
                records, protocol, settings.n_repeats, settings.seed, settings.test_fraction
            )
            sizes = [len(s.train) for s in splits]
            regimes = ["scratch"]
            if do_transfer and dataset == "live_subset" and protocol == "loco":
                regimes.append("finetune")
            for regime in regimes:
                epochs = settings.finetune_epochs if regime == "finetune" else settings.epochs
                rows.append((dataset, protocol, regime, len(sizes), np.mean(sizes), epochs))
    if do_transfer:
        n = len(records_by_dataset["synthetic"])
        rows.append(("synthetic", "all images", "pretrain", 1, n, settings.epochs))
    out = pd.DataFrame(
        rows, columns=["dataset", "protocol", "regime", "trainings", "images", "epochs"]
    )
    out["passes"] = (out["trainings"] * out["images"] * out["epochs"] * settings.parts).round()
    return out


def estimate_pass_seconds(
    settings: RegressionSettings,
    sides: Sequence[int] = (64, 96, 128, 256),
    aspect: float = 2 / 3,
    batch: int | None = None,
    n_batches: int = 3,
) -> pd.DataFrame:
    """Measured seconds per image pass (forward + backward) of the model at several edge-map
    sizes, on this machine now; with :func:`planned_image_passes` it predicts the runtime.

    Args:
        settings: which model.
        sides: longer sides to time.
        aspect: short side / long side (LIVE: 512/768).
        batch: images per timed batch (None: ``settings.batch_size``).
        n_batches: timed batches per size (after one warm-up batch).
    Returns:
        Columns ``edge_max_side, seconds_per_pass``.
    """
    import torch

    batch = batch or settings.batch_size
    rows = []
    for side in sides:
        model = build_model(settings.model_name, task=TASK, seed=0)
        optimiser = torch.optim.Adam(model.parameters())
        x = torch.rand(batch, 1, max(1, round(side * aspect)), side)
        y = torch.rand(batch)
        start = time.perf_counter()
        for i in range(n_batches + 1):
            if i == 1:  # the first batch warms up allocations and is not counted
                start = time.perf_counter()
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        seconds = (time.perf_counter() - start) / (n_batches * batch)
        rows.append({"edge_max_side": side, "seconds_per_pass": seconds})
    return pd.DataFrame(rows)


def summary_pivot(summary: pd.DataFrame, metric: str = "srocc", digits: int = 3) -> pd.DataFrame:
    """Readable table: one row per (dataset, protocol, method), one column per distortion,
    cells ``median [q25, q75]`` and, for SROCC, the bootstrap interval ``(CI low, high)``."""

    def cell(row: pd.Series) -> str:
        med, lo, hi = (row[f"{metric}_{k}"] for k in ("median", "q25", "q75"))
        if pd.isna(med):
            return "n/a"
        text = f"{med:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
        if metric == "srocc" and pd.notna(row["srocc_ci_low"]):
            text += f" (CI {row['srocc_ci_low']:.2f}, {row['srocc_ci_high']:.2f})"
        return text

    table = summary.assign(cell=summary.apply(cell, axis=1))
    order = [d for d in dict.fromkeys(table["distortion"]) if d != "ALL"]
    order = sorted(order) + ["ALL"]
    pivot = table.pivot_table(
        index=["dataset", "protocol", "method"],
        columns="distortion",
        values="cell",
        aggfunc="first",
    )
    return pivot.reindex(columns=[d for d in order if d in pivot.columns]).fillna("")


def paper_comparison(summary: pd.DataFrame, pooled: pd.DataFrame | None = None) -> pd.DataFrame:
    """The paper's Table 3 SROCC (as reported by the paper, full LIVE, one split) beside our
    SROCC of every (dataset, protocol, method) run on real LIVE images.

    Args:
        summary: :func:`summarise` output (medians over splits are shown).
        pooled: optional :func:`pooled_metrics` output (adds one ``pooled`` column per run).
    Returns:
        One row per distortion of the paper's table; column ``paper (as reported, LIVE)`` and
        one column ``<dataset> | <protocol> | <method>`` per run (``... | pooled`` likewise).
    """
    out = paper.TABLE3_SROCC.set_index("distortion")[["srocc"]].rename(
        columns={"srocc": "paper (as reported, LIVE)"}
    )
    keys = ["dataset", "protocol", "method"]
    for table, column, tag in ((summary, "srocc_median", "median"), (pooled, "srocc", "pooled")):
        if table is None:
            continue
        real = table[table["dataset"].isin(["live", "live_subset"])]
        for (dataset, protocol, method), part in real.groupby(keys, sort=False):
            values = part.set_index("distortion")[column].reindex(out.index)
            out[f"{dataset} | {protocol} | {method} | {tag}"] = values
    return out.reset_index()

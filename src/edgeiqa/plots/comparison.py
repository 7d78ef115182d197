"""Figures of notebook 06 (baselines computed here vs the edge-map CNN)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from edgeiqa.experiments.table3 import TABLE3_COLUMNS, TABLE3_METRICS, display_name
from edgeiqa.reporting import dataset_label


def per_distortion_comparison(
    summary: pd.DataFrame, dataset: str, protocol: str, metric: str = "SROCC"
) -> plt.Figure:
    """Grouped bars: one group per distortion (BLUR..ALL), one bar per method, the median over
    splits with inter-quartile range whiskers.

    Args:
        summary: :func:`edgeiqa.experiments.runner.summarise` output.
        dataset, protocol: the block to draw.
        metric: ``SROCC``, ``KROCC`` or ``PLCC``.
    Returns:
        The figure (title names the dataset and protocol).
    """
    col = TABLE3_METRICS[metric]
    part = summary[(summary["dataset"] == dataset) & (summary["protocol"] == protocol)]
    if part.empty:
        raise ValueError(f"no computed results for {dataset} / {protocol}")
    columns = [c for c in TABLE3_COLUMNS if c in set(part["column"])]
    methods = list(dict.fromkeys(part["method"]))
    width = 0.8 / len(methods)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(columns) + 2), 4.2))
    colours = sns.color_palette("tab10", len(methods))
    x = np.arange(len(columns))
    for i, method in enumerate(methods):
        rows = part[part["method"] == method].set_index("column").reindex(columns)
        med = rows[f"{col}_median"].to_numpy(float)
        err = np.vstack(
            [med - rows[f"{col}_q25"].to_numpy(float), rows[f"{col}_q75"].to_numpy(float) - med]
        )
        n = int(rows["n_splits"].max()) if rows["n_splits"].notna().any() else 0
        ax.bar(
            x + (i - (len(methods) - 1) / 2) * width,
            med,
            width,
            yerr=np.nan_to_num(err),
            capsize=2,
            color=colours[i],
            label=f"{display_name(method, bool(rows['trained_on_test'].any()))} (n={n})",
        )
    ax.set_xticks(x, columns)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set_ylim(min(-0.05, float(np.nanmin(part[f"{col}_q25"])) - 0.05), 1.05)
    ax.set_ylabel(f"{metric} (median over splits, IQR)")
    ax.set_title(
        f"{metric} per distortion, computed here: {dataset_label(dataset)}, {protocol} protocol",
        fontsize=10,
    )
    ax.legend(fontsize=7, ncol=2, loc="lower left", bbox_to_anchor=(0, 1.08, 1, 0.2), mode="expand")
    fig.tight_layout()
    return fig


def bootstrap_differences(boot: pd.DataFrame, dataset: str, protocol: str, ours: str) -> plt.Figure:
    """SROCC difference (ours - baseline) with its paired-bootstrap 95% interval, one panel per
    distortion column; a whisker clear of 0 is a significant difference.

    Args:
        boot: :func:`edgeiqa.experiments.comparison.compare_all` output.
        dataset, protocol, ours: the block and the ours method to draw.
    Returns:
        The figure.
    """
    part = boot[
        (boot["dataset"] == dataset) & (boot["protocol"] == protocol) & (boot["ours"] == ours)
    ]
    if part.empty:
        raise ValueError(f"no bootstrap comparison for {ours} on {dataset} / {protocol}")
    columns = [c for c in TABLE3_COLUMNS if c in set(part["distortion"])]
    baselines = list(dict.fromkeys(part["baseline"]))
    fig, axes = plt.subplots(
        1,
        len(columns),
        figsize=(2.3 * len(columns) + 2, 0.35 * len(baselines) + 1.8),
        sharey=True,
        squeeze=False,
    )
    y = np.arange(len(baselines))
    for ax, column in zip(axes[0], columns, strict=True):
        rows = part[part["distortion"] == column].set_index("baseline").reindex(baselines)
        diff = rows["difference"].to_numpy(float)
        lo, hi = rows["ci_low"].to_numpy(float), rows["ci_high"].to_numpy(float)
        significant = (lo > 0) | (hi < 0)
        ax.errorbar(
            diff,
            y,
            xerr=np.nan_to_num(np.vstack([diff - lo, hi - diff])),
            fmt="none",
            ecolor="0.4",
            capsize=2,
        )
        ax.scatter(diff, y, c=np.where(significant, "tab:red", "tab:gray"), zorder=3, s=18)
        ax.axvline(0, color="0.2", lw=0.8)
        ax.set_title(column, fontsize=9)
        ax.set_xlabel("SROCC difference", fontsize=8)
    axes[0][0].set_yticks(y, baselines, fontsize=8)
    axes[0][0].invert_yaxis()
    fig.suptitle(
        f"{ours} minus baseline (paired bootstrap 95% CI; red = significant): "
        f"{dataset_label(dataset)}, {protocol} protocol",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def cross_dataset_bars(table: pd.DataFrame) -> plt.Figure:
    """Cross-dataset SROCC over all images (ALL) with bootstrap 95% intervals, one panel per
    (train -> test) pair; hatched bars were trained on the test images (published BRISQUE on
    LIVE).

    Args:
        table: :func:`edgeiqa.experiments.comparison.cross_dataset_table` output.
    Returns:
        The figure.
    """
    part = table[table["column"] == "ALL"]
    pairs = list(dict.fromkeys(part["protocol"]))
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.5 * len(pairs), 3.8), squeeze=False)
    for ax, pair in zip(axes[0], pairs, strict=True):
        rows = part[part["protocol"] == pair]
        x = np.arange(len(rows))
        srocc = rows["srocc"].to_numpy(float)
        err = np.vstack(
            [srocc - rows["srocc_ci_low"].to_numpy(float), rows["srocc_ci_high"] - srocc]
        )
        bars = ax.bar(x, srocc, yerr=np.nan_to_num(err), capsize=2, color="tab:blue")
        for bar, leak in zip(bars, rows["trained_on_test"], strict=True):
            if leak:
                bar.set_hatch("//")
                bar.set_facecolor("0.75")
        ax.set_xticks(x, rows["method"], rotation=40, ha="right", fontsize=7)
        ax.axhline(0, color="0.3", lw=0.8)
        ax.set_ylim(min(-0.05, float(np.nanmin(rows["srocc_ci_low"])) - 0.05), 1.05)
        test = dataset_label(rows["dataset"].iloc[0])
        train = dataset_label(rows["train_dataset"].iloc[0])
        ax.set_title(f"train: {train}\ntest: {test}", fontsize=8)
        ax.set_ylabel("SROCC, all test images (95% CI)")
    fig.suptitle("Cross-dataset generalisation (hatched: trained on the test images)", fontsize=10)
    fig.tight_layout()
    return fig


def comparison_figures(result) -> dict[str, tuple[plt.Figure, str]]:
    """Every figure of notebook 06, keyed by file name, with the dataset its caption names.

    Args:
        result: :class:`edgeiqa.experiments.comparison.ComparisonResult`.
    Returns:
        ``{name: (figure, dataset)}``: per (dataset, protocol) the per-distortion SROCC bars and
        the bootstrap differences of the first ours method; the cross-dataset bars (captioned
        with the real dataset when one takes part).
    """
    figures = {}
    blocks = result.summary[["dataset", "protocol"]].drop_duplicates().itertuples(index=False)
    ours = result.ours_methods[0] if result.ours_methods else None
    for dataset, protocol in blocks:
        slug = f"{dataset}_{protocol}"
        figures[f"comparison_per_distortion_{slug}"] = (
            per_distortion_comparison(result.summary, dataset, protocol),
            dataset,
        )
        has_boot = (
            ours is not None
            and not result.bootstrap.empty
            and (
                (result.bootstrap["dataset"] == dataset)
                & (result.bootstrap["protocol"] == protocol)
                & (result.bootstrap["ours"] == ours)
            ).any()
        )
        if has_boot:
            figures[f"comparison_bootstrap_{slug}"] = (
                bootstrap_differences(result.bootstrap, dataset, protocol, ours),
                dataset,
            )
    if not result.cross.empty:
        names = set(result.cross["dataset"]) | set(result.cross["train_dataset"])
        real = [n for n in ("live", "live_subset") if n in names]
        caption_dataset = real[0] if real else sorted(names)[0]
        figures["comparison_cross_dataset"] = (cross_dataset_bars(result.cross), caption_dataset)
    return figures

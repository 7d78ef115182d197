"""Figures of notebook 01 (data exploration)."""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from edgeiqa.data.images import read_rgb
from edgeiqa.reporting import dataset_label


def score_distributions(records: pd.DataFrame) -> plt.Figure:
    """Quality (0-100, higher = better) per distortion type: strip plot over a box plot."""
    dataset = records["dataset"].iloc[0]
    order = sorted(records["distortion"].unique())
    fig, ax = plt.subplots(figsize=(1.2 * len(order) + 3, 3.6))
    sns.boxplot(
        data=records, x="distortion", y="quality", order=order, color="0.9", ax=ax, showfliers=False
    )
    sns.stripplot(data=records, x="distortion", y="quality", order=order, size=3, alpha=0.6, ax=ax)
    ax.set_ylim(-2, 102)
    ax.set_ylabel("quality (0-100, higher = better)")
    ax.set_title(f"Score distribution per distortion: {dataset_label(dataset)}")
    return fig


def class_balance_bars(balance: pd.DataFrame) -> plt.Figure:
    """Images per quality class, one panel per dataset."""
    datasets = list(balance["dataset"].unique())
    fig, axes = plt.subplots(1, len(datasets), figsize=(4 * len(datasets), 3.2), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = balance[balance["dataset"] == dataset]
        ax.bar(part["class_name"], part["images"], color=sns.color_palette("RdYlGn", len(part)))
        ax.set_title(dataset_label(dataset), fontsize=9)
        ax.set_ylabel("images")
        ax.tick_params(axis="x", labelrotation=30, labelsize=7)
    fig.suptitle("Class balance of the 4 quality bins")
    fig.tight_layout()
    return fig


def example_grid(series: pd.DataFrame, max_per_row: int = 5) -> plt.Figure:
    """One row per distortion: the content's images from best to worst quality."""
    dataset = series["dataset"].iloc[0]
    dists = list(series["distortion"].unique())
    fig, axes = plt.subplots(
        len(dists), max_per_row, figsize=(2.2 * max_per_row, 2.0 * len(dists)), squeeze=False
    )
    for row, dist in zip(axes, dists, strict=True):
        part = series[series["distortion"] == dist].head(max_per_row)
        for ax in row:
            ax.axis("off")
        for ax, rec in zip(row, part.itertuples(), strict=False):
            ax.imshow(read_rgb(rec.image_path))
            ax.set_title(f"{dist}  q={rec.quality:.0f}", fontsize=8)
    fig.suptitle(
        f"{series['content'].iloc[0]}: increasing distortion, {dataset_label(dataset)}", fontsize=10
    )
    fig.tight_layout()
    return fig


def calibration_curves(live_subset: pd.DataFrame, calib: dict) -> plt.Figure:
    """Real LIVE-subset DMOS against distortion strength, with the fitted synthetic-label curve.

    ``live_subset`` needs a ``strength`` column (the strength the curve was fitted on).
    """
    import numpy as np

    from edgeiqa.data.calibration import logistic4

    dists = list(calib["curves"])
    fig, axes = plt.subplots(1, len(dists), figsize=(4 * len(dists), 3.3), squeeze=False)
    for ax, dist in zip(axes[0], dists, strict=True):
        p = calib["curves"][dist]
        part = live_subset[live_subset["distortion"] == dist]
        ax.scatter(part["strength"], part["raw_score"], s=14, label="LIVE subset (official DMOS)")
        xs = np.geomspace(part["strength"].min() * 0.7, part["strength"].max() * 1.3, 200)
        ax.plot(
            xs,
            logistic4(np.log(xs), p["lo"], p["hi"], p["c"], p["w"]),
            "k-",
            label=f"fit (RMSE {p['rmse']:.1f}, n={p['n']})",
        )
        ax.set_xscale("log")
        ax.set_xlabel(p["strength"])
        ax.set_ylabel("DMOS (higher = worse)")
        ax.set_title(dist)
        ax.legend(fontsize=7)
    fig.suptitle("Synthetic-label model: DMOS against distortion strength, fitted on real LIVE")
    fig.tight_layout()
    return fig

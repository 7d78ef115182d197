"""Figures of notebooks 03 and 04 (the "deep fake score" paper's 4-class quality classifiers):
confusion matrices drawn like the paper's Figures 4 and 5, metric bars beside the paper's
reported figures, and majority-vote accuracy against patch size."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from edgeiqa import paper as paper_lib
from edgeiqa.data.schema import QUALITY_CLASS_NAMES
from edgeiqa.experiments.classification_tables import confusion
from edgeiqa.reporting import dataset_label

PROTOCOL_LABELS = {"content": "content-disjoint", "image": "image-level (paper)"}


def confusion_heatmap(
    counts: np.ndarray,
    class_names: tuple[str, ...] | list[str] = QUALITY_CLASS_NAMES,
    title: str = "",
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Annotated confusion heat map: colour = row-normalised rate, text = count and rate.

    Rows are true classes, columns predicted classes, both named; a row with no images is left
    blank (its rate is undefined).

    Args:
        counts: ``(C, C)`` confusion counts.
        class_names: names of the classes, worst first.
        title: axes title.
        ax: axes to draw on (a new figure when None).
    Returns:
        the axes.
    """
    counts = np.asarray(counts)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.6))
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = np.where(totals > 0, counts / totals, np.nan)
    ax.imshow(rates, cmap="Blues", vmin=0, vmax=1)
    n = counts.shape[0]
    for t in range(n):
        for p in range(n):
            if np.isnan(rates[t, p]):
                continue
            colour = "white" if rates[t, p] > 0.6 else "black"
            ax.text(p, t, f"{counts[t, p]}\n{rates[t, p]:.0%}", ha="center", va="center",
                    fontsize=8, color=colour)  # fmt: skip
    ax.set_xticks(range(n), class_names[:n], fontsize=8)
    ax.set_yticks(range(n), class_names[:n], fontsize=8)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title, fontsize=9)
    return ax


def confusion_grid(predictions: pd.DataFrame, column: str = "predicted_class") -> plt.Figure:
    """Confusion heat maps of one dataset: rows = protocols, columns = methods (all repeats).

    Args:
        predictions: :attr:`ClassificationRun.predictions` rows of one dataset.
        column: the predicted-class column.
    Returns:
        the figure.
    """
    dataset = str(predictions["dataset"].iloc[0])
    protocols = list(dict.fromkeys(predictions["protocol"]))
    methods = list(dict.fromkeys(predictions["method"]))
    fig, axes = plt.subplots(
        len(protocols),
        len(methods),
        figsize=(3.6 * len(methods), 3.4 * len(protocols) + 0.6),
        squeeze=False,
    )
    for i, protocol in enumerate(protocols):
        for j, method in enumerate(methods):
            part = predictions[
                (predictions["protocol"] == protocol) & (predictions["method"] == method)
            ]
            n_rep = part["repeat"].nunique()
            confusion_heatmap(
                confusion(part, column),
                title=f"{method}\n{PROTOCOL_LABELS.get(protocol, protocol)}, {n_rep} repeat(s)",
                ax=axes[i, j],
            )
    fig.suptitle(f"{dataset_label(dataset)}: confusion matrices (test images of all repeats)")
    fig.tight_layout()
    return fig


def metric_bars(
    summary: pd.DataFrame,
    metrics: tuple[str, ...] = ("accuracy", "weighted_f1"),
) -> plt.Figure:
    """Mean metrics per method and protocol (error bar: min-max over repeats), with the
    majority-class baseline and the paper's reported figure where it reports one.

    Args:
        summary: :func:`edgeiqa.experiments.classification_tables.summary_table` rows of one
            dataset.
        metrics: metric names to draw, one panel each.
    Returns:
        the figure.
    """
    dataset = str(summary["dataset"].iloc[0])
    methods = list(dict.fromkeys(summary["method"]))
    protocols = list(dict.fromkeys(summary["protocol"]))
    paper = paper_lib.CLASSIFICATION.set_index("architecture")
    fig, axes = plt.subplots(1, len(metrics), figsize=(1.6 * len(methods) * len(metrics) + 2, 3.8),
                             squeeze=False)  # fmt: skip
    width = 0.8 / len(protocols)
    x = np.arange(len(methods))
    for ax, metric in zip(axes[0], metrics, strict=True):
        for k, protocol in enumerate(protocols):
            sub = summary[summary["protocol"] == protocol].set_index("method").reindex(methods)
            mean = sub[f"{metric}_mean"].to_numpy()
            err = np.vstack([mean - sub[f"{metric}_min"], sub[f"{metric}_max"] - mean])
            ax.bar(x + (k - (len(protocols) - 1) / 2) * width, mean, width, yerr=err, capsize=3,
                   label=PROTOCOL_LABELS.get(protocol, protocol))  # fmt: skip
            if metric == "accuracy":
                base = sub["majority_baseline_mean"].to_numpy()
                ax.scatter(x + (k - (len(protocols) - 1) / 2) * width, base, marker="_", s=300,
                           color="black", zorder=3,
                           label="majority-class rate" if k == 0 else None)  # fmt: skip
        by_method = summary.drop_duplicates("method").set_index("method").reindex(methods)
        for i, architecture in enumerate(by_method["architecture"]):
            if architecture in paper.index and metric in paper.columns:
                ax.hlines(paper.loc[architecture, metric], i - 0.45, i + 0.45, colors="red",
                          linestyles="--",
                          label="as reported by the paper (LIVE)" if i == 0 else None)  # fmt: skip
        ax.set_xticks(x, methods, rotation=20, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_ylabel(metric.replace("_", " "))
        ax.grid(axis="y", alpha=0.3)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[0, 1:]:
        h, lab = ax.get_legend_handles_labels()
        for hh, ll in zip(h, lab, strict=True):
            if ll not in labels:
                handles.append(hh)
                labels.append(ll)
    axes[0, -1].legend(handles, labels, fontsize=7, loc="upper right")
    fig.suptitle(f"{dataset_label(dataset)}: classification, mean over repeats (bars: min-max)")
    fig.tight_layout()
    return fig


def accuracy_vs_patch_size(summary: pd.DataFrame, metric: str = "accuracy") -> plt.Figure:
    """Majority-vote accuracy against patch size per protocol, with the full-image model of the
    same splits, the majority-class rate and the paper's reported CNN_1_Mvote figure as
    horizontal references.

    Args:
        summary: :func:`summary_table` rows of one dataset, holding patch methods
            (``patch_size`` > 0) and optionally whole-image methods (``patch_size`` 0).
        metric: metric to draw.
    Returns:
        the figure.
    """
    dataset = str(summary["dataset"].iloc[0])
    fig, ax = plt.subplots(figsize=(8.5, 3.8))
    colours = plt.get_cmap("tab10")
    for k, protocol in enumerate(dict.fromkeys(summary["protocol"])):
        sub = summary[summary["protocol"] == protocol]
        patches = sub[sub["patch_size"] > 0].sort_values("patch_size")
        label = PROTOCOL_LABELS.get(protocol, protocol)
        ax.errorbar(
            patches["patch_size"],
            patches[f"{metric}_mean"],
            yerr=[
                patches[f"{metric}_mean"] - patches[f"{metric}_min"],
                patches[f"{metric}_max"] - patches[f"{metric}_mean"],
            ],
            marker="o",
            capsize=3,
            color=colours(k),
            label=f"CNN_1_Mvote, {label}",
        )
        for _, row in sub[sub["patch_size"] == 0].iterrows():
            ax.axhline(row[f"{metric}_mean"], color=colours(k), ls=":",
                       label=f"{row['method']}, {label}")  # fmt: skip
        if metric == "accuracy":
            ax.axhline(sub["majority_baseline_mean"].mean(), color=colours(k), ls="-.", lw=0.8,
                       alpha=0.7, label=f"majority-class rate, {label}")  # fmt: skip
    paper = paper_lib.CLASSIFICATION.set_index("architecture")
    if metric in paper.columns:
        ax.axhline(paper.loc["CNN_1_Mvote", metric], color="red", ls="--",
                   label="CNN_1_Mvote as reported by the paper (LIVE)")  # fmt: skip
    sizes = sorted(summary.loc[summary["patch_size"] > 0, "patch_size"].unique())
    ax.set_xticks(sizes)
    ax.set_xlabel("patch side (pixels of the edge map)")
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    ax.set_title(f"{dataset_label(dataset)}: majority vote vs patch size", fontsize=10)
    fig.tight_layout()
    return fig

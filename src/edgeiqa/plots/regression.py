"""Figures of notebook 05 (regression of the quality score): predicted against true quality
with the fitted VQEG logistic (Sheikh et al., 2006), and per-distortion bars with intervals."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from edgeiqa.data.schema import DISTORTION_LABELS
from edgeiqa.metrics import fit_logistic, srocc
from edgeiqa.reporting import dataset_label


def _label(distortion: str) -> str:
    return DISTORTION_LABELS.get(distortion, distortion)


def _order(distortions) -> list[str]:
    return sorted(d for d in set(distortions) if d != "ALL") + (
        ["ALL"] if "ALL" in set(distortions) else []
    )


def predicted_vs_true(
    predictions: pd.DataFrame, protocol: str, method: str, max_cols: int = 3
) -> plt.Figure:
    """True against predicted quality, one panel per distortion and one for ALL.

    As in VQEG-style scatter plots, the prediction is on the x axis and the human score on the
    y axis, so the fitted mapping quality = f(prediction) is drawn as a curve.

    Test predictions of every split of ``(protocol, method)`` are pooled (an image tested in
    several splits appears once per split); each panel shows the 5-parameter logistic fitted
    to its points (a fallback fit is named in the legend) and the pooled SROCC.

    Args:
        predictions: prediction table of one dataset (:data:`PREDICTION_COLUMNS`).
        protocol: protocol to show.
        method: method to show.
        max_cols: panels per row.
    Returns:
        The figure.
    """
    part = predictions[(predictions["protocol"] == protocol) & (predictions["method"] == method)]
    if part.empty:
        raise ValueError(f"no predictions for protocol {protocol!r} and method {method!r}")
    dataset = part["dataset"].iloc[0]
    panels = _order(part["distortion"]) + ["ALL"]
    n_cols = min(max_cols, len(panels))
    n_rows = int(np.ceil(len(panels) / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(3.3 * n_cols, 3.1 * n_rows), squeeze=False)
    palette = dict(zip(_order(part["distortion"]), sns.color_palette("tab10"), strict=False))
    for ax, panel in zip(axes.flat, panels, strict=False):
        sub = part if panel == "ALL" else part[part["distortion"] == panel]
        colours = [palette[d] for d in sub["distortion"]]
        ax.scatter(sub["predicted"], sub["quality"], s=12, c=colours, alpha=0.7, linewidths=0)
        ax.plot([0, 100], [0, 100], color="0.7", lw=0.8, ls=":", label="identity")
        if len(sub) >= 2 and sub["predicted"].nunique() > 1:
            fit = fit_logistic(sub["predicted"], sub["quality"], increasing=True)
            grid = np.linspace(sub["predicted"].min(), sub["predicted"].max(), 200)
            name = "logistic fit" if not fit.is_fallback else f"{fit.method} fit (fallback)"
            ax.plot(grid, fit(grid), color="k", lw=1.2, label=name)
            rho = srocc(sub["quality"], sub["predicted"])
            ax.set_title(f"{_label(panel)}  (n={len(sub)}, SROCC={rho:.3f})", fontsize=9)
        else:
            ax.set_title(f"{_label(panel)}  (n={len(sub)})", fontsize=9)
        # x zoomed to the predictions: an under-trained model predicts a narrow band, and the
        # fitted curve would be invisible on the full 0-100 axis (the tick labels show the band)
        low, high = float(part["predicted"].min()), float(part["predicted"].max())
        pad = max(1.0, 0.05 * (high - low))
        ax.set_xlim(max(-2.0, low - pad), min(102.0, high + pad))
        ax.set_ylim(-2, 102)
        ax.set_xlabel("predicted quality (0-100)")
        ax.set_ylabel("true quality (0-100)")
        ax.legend(fontsize=6, loc="upper left")
    for ax in list(axes.flat)[len(panels) :]:
        ax.axis("off")
    n_splits = part["repeat"].nunique()
    fig.suptitle(
        f"{method}, {protocol} protocol ({n_splits} test splits pooled)\n{dataset_label(dataset)}",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def distortion_bars(
    summary: pd.DataFrame,
    dataset: str,
    metric: str = "srocc",
    reference: pd.DataFrame | None = None,
) -> plt.Figure:
    """Median ``metric`` per distortion for every (protocol, method) of one dataset.

    Bars are medians over splits; thick error bars the inter-quartile range over splits; for
    SROCC, thin error bars with caps the bootstrap 95% interval (median over splits of each
    split's bounds).

    Args:
        summary: :func:`edgeiqa.experiments.regression.summarise` output.
        dataset: which dataset to show.
        metric: a metric of :data:`edgeiqa.metrics.METRICS`.
        reference: optional ``distortion, srocc`` values drawn as black diamonds (the paper's
            numbers, as reported by the paper; its ``source`` column is the legend label).
    Returns:
        The figure.
    """
    part = summary[summary["dataset"] == dataset].copy()
    if part.empty:
        raise ValueError(f"no summary rows for dataset {dataset!r}")
    part["run"] = part["protocol"] + ": " + part["method"]
    runs = list(dict.fromkeys(part["run"]))
    order = _order(part["distortion"])
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(1.3 * len(order) + 3.5, 3.8))
    x = np.arange(len(order))
    for i, (run, colour) in enumerate(zip(runs, sns.color_palette("tab10"), strict=False)):
        rows = part[part["run"] == run].set_index("distortion").reindex(order)
        pos = x - 0.4 + width * (i + 0.5)
        med = rows[f"{metric}_median"].to_numpy(dtype=float)
        ax.bar(pos, med, width * 0.9, color=colour, label=run, alpha=0.85)
        iqr = np.vstack([med - rows[f"{metric}_q25"], rows[f"{metric}_q75"] - med])
        ax.errorbar(pos, med, yerr=np.abs(iqr), fmt="none", ecolor="k", elinewidth=3, alpha=0.5)
        if metric == "srocc":
            ci = np.vstack([med - rows["srocc_ci_low"], rows["srocc_ci_high"] - med])
            ax.errorbar(
                pos, med, yerr=np.abs(ci), fmt="none", ecolor="k", elinewidth=0.8, capsize=2
            )
    if reference is not None and metric in reference:
        ref = reference.set_index("distortion").reindex(order)
        label = reference["source"].iloc[0] if "source" in reference else "reference"
        ax.scatter(x, ref[metric], marker="D", color="k", zorder=5, s=25, label=label)
    ax.set_xticks(x, [_label(d) for d in order])
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_ylabel(f"{metric} (median over splits)")
    if metric in ("srocc", "krocc", "plcc", "plcc_logistic"):
        ax.set_ylim(min(-0.1, np.nanmin(part[f"{metric}_q25"]) - 0.05), 1.05)
    ax.legend(fontsize=6, loc="upper left", bbox_to_anchor=(1.01, 1))
    ax.set_title(
        f"{metric.upper()} per distortion: {dataset_label(dataset)}\n"
        "thick bars: IQR over splits; thin bars: bootstrap 95% interval"
        + (" (median of splits)" if metric == "srocc" else ""),
        fontsize=9,
    )
    fig.tight_layout()
    return fig

"""Figures of notebook 02 (Sobel edge maps, the input of the "deep fake score" paper's CNNs):
one content through every distortion and level, and edge statistics against quality."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from edgeiqa.data.images import read_rgb
from edgeiqa.data.schema import DISTORTION_LABELS, QUALITY_CLASS_NAMES
from edgeiqa.edges import EdgeParams, edge_map, shrink, split_edge_map
from edgeiqa.reporting import dataset_label


def _label(distortion: str) -> str:
    return DISTORTION_LABELS.get(distortion, distortion)


def _thumbnail(path: str, max_side: int) -> np.ndarray:
    rgb = read_rgb(path)
    if max_side and max(rgb.shape[:2]) > max_side:
        channels = [shrink(rgb[..., c] / 255.0, max_side) for c in range(3)]
        rgb = np.clip(np.stack(channels, axis=-1), 0, 1)
    return rgb


def distortion_ladder(
    records: pd.DataFrame,
    content: str,
    params: EdgeParams | None = None,
    max_columns: int = 5,
) -> plt.Figure:
    """One content through every distortion (rows) and level (columns), image beside edge map.

    The first row is the pristine reference. Within a distortion the images are ordered from the
    best to the worst quality (by ``level`` where the dataset grades them, else by quality); with
    more than ``max_columns`` images, evenly spaced ones are shown. All edge maps share one
    colour scale (0 to the 99.5th percentile of the shown maps), so that strength is comparable.

    Args:
        records: record table of one dataset.
        content: the content id to show.
        params: edge-map parameters (also the thumbnail size; default :class:`EdgeParams`).
        max_columns: images per distortion at most.
    Returns:
        the figure.
    """
    params = params or EdgeParams()
    part = records[records["content"] == content]
    if part.empty:
        raise ValueError(f"content {content!r} not in the records")
    dataset = str(part["dataset"].iloc[0])
    rows: list[tuple[str, list[tuple[str, str]]]] = []
    ref = str(part["ref_path"].iloc[0])
    if ref:
        rows.append(("reference", [(ref, "pristine")]))
    for distortion, sub in part.groupby("distortion"):
        graded = sub["level"].notna().all()
        sub = sub.sort_values("level" if graded else "quality", ascending=graded)
        if len(sub) > max_columns:
            sub = sub.iloc[np.unique(np.linspace(0, len(sub) - 1, max_columns).round().astype(int))]
        cells = []
        for _, r in sub.iterrows():
            level = f"L{int(r['level'])}, " if graded else ""
            name = QUALITY_CLASS_NAMES[int(r["quality_class"])]
            cells.append((r["image_path"], f"{level}q={r['quality']:.0f} ({name})"))
        rows.append((_label(distortion), cells))
    n_cols = max(len(cells) for _, cells in rows)
    maps = {p: edge_map(p, params) for _, cells in rows for p, _ in cells}
    vmax = float(np.percentile(np.concatenate([m.ravel() for m in maps.values()]), 99.5)) or 1.0
    fig, axes = plt.subplots(
        len(rows), 2 * n_cols, figsize=(2.0 * 2 * n_cols, 1.7 * len(rows)), squeeze=False
    )
    for ax in axes.ravel():
        ax.axis("off")
    for i, (row_name, cells) in enumerate(rows):
        for j, (path, title) in enumerate(cells):
            axes[i, 2 * j].imshow(_thumbnail(path, params.max_side))
            axes[i, 2 * j].set_title(title, fontsize=7)
            axes[i, 2 * j + 1].imshow(maps[path], cmap="gray", vmin=0, vmax=vmax)
            axes[i, 2 * j + 1].set_title("edge map", fontsize=7)
        axes[i, 0].text(
            -0.1, 0.5, row_name, transform=axes[i, 0].transAxes, rotation=90,
            ha="right", va="center", fontsize=9, fontweight="bold",
        )  # fmt: skip
    fig.suptitle(
        f"{dataset_label(dataset)}: content '{content}', image and Sobel edge map "
        f"(max side {params.max_side or 'native'}, {params.normalisation} scale, "
        f"shown 0-{vmax:.2f})",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def statistics_vs_quality(
    table: pd.DataFrame,
    statistic: str = "mean_magnitude",
) -> plt.Figure:
    """An edge statistic against quality, one panel per distortion, one line per content.

    Args:
        table: :func:`edgeiqa.edges.edge_statistics_table` output of one dataset.
        statistic: a column of ``table`` (e.g. ``mean_magnitude`` or ``mean_magnitude_vs_ref``).
    Returns:
        the figure.
    """
    if statistic not in table:
        raise ValueError(f"no column {statistic!r} in the edge statistics table")
    dataset = str(table["dataset"].iloc[0])
    distortions = sorted(table["distortion"].unique())
    contents = sorted(table["content"].unique())
    colours = plt.get_cmap("tab20")(np.linspace(0, 1, max(len(contents), 2)))
    fig, axes = plt.subplots(
        1, len(distortions), figsize=(3.0 * len(distortions), 3.0), sharey=True, squeeze=False
    )
    for ax, distortion in zip(axes[0], distortions, strict=True):
        sub = table[table["distortion"] == distortion]
        for colour, content in zip(colours, contents, strict=False):
            line = sub[sub["content"] == content].sort_values("quality")
            if len(line):
                ax.plot(line["quality"], line[statistic], "o-", ms=3, lw=1, color=colour,
                        label=content)  # fmt: skip
        ax.set_title(_label(distortion))
        ax.set_xlabel("quality (0-100, higher = better)")
        ax.grid(alpha=0.3)
    axes[0, 0].set_ylabel(statistic.replace("_", " "))
    if len(contents) <= 12:
        axes[0, -1].legend(fontsize=6, loc="best")
    fig.suptitle(f"{dataset_label(dataset)}: {statistic.replace('_', ' ')} against quality")
    fig.tight_layout()
    return fig


def cuts_figure(maps: dict[str, np.ndarray], dataset: str) -> plt.Figure:
    """Edge maps beside their halves and quarters (:func:`edgeiqa.edges.split_edge_map`).

    Args:
        maps: title -> edge map (e.g. one landscape and one portrait image).
        dataset: dataset name for the title.
    Returns:
        the figure: one row per map; whole map, 2 halves, 4 quarters.
    """
    fig, axes = plt.subplots(len(maps), 7, figsize=(14, 2.2 * len(maps)), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for i, (title, edge) in enumerate(maps.items()):
        vmax = float(np.percentile(edge, 99.5)) or 1.0
        pieces = [("whole", edge)]
        pieces += [(f"half {k + 1}", p) for k, p in enumerate(split_edge_map(edge, 2))]
        pieces += [(f"quarter {k + 1}", p) for k, p in enumerate(split_edge_map(edge, 4))]
        for j, (name, piece) in enumerate(pieces):
            axes[i, j].imshow(piece, cmap="gray", vmin=0, vmax=vmax)
            axes[i, j].set_title(f"{name} {piece.shape[1]}x{piece.shape[0]}", fontsize=7)
        axes[i, 0].text(-0.1, 0.5, title, transform=axes[i, 0].transAxes, rotation=90,
                        ha="right", va="center", fontsize=8)  # fmt: skip
    fig.suptitle(
        f"{dataset_label(dataset)}: halves follow orientation (left/right for landscape and "
        "square, top/bottom for portrait); quarters"
    )
    fig.tight_layout()
    return fig

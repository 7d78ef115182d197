"""Summaries of a record table for the data-exploration notebook."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from edgeiqa.data.schema import QUALITY_CLASS_EDGES, QUALITY_CLASS_NAMES, quality_classes


def class_names(edges: Sequence[float] = QUALITY_CLASS_EDGES) -> list[str]:
    """Readable class labels such as ``0: bad [0, 25)``."""
    names = QUALITY_CLASS_NAMES if len(edges) - 1 == len(QUALITY_CLASS_NAMES) else None
    labels = []
    for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:], strict=True)):
        closing = "]" if i == len(edges) - 2 else ")"
        prefix = f"{i}: {names[i]} " if names else f"{i}: "
        labels.append(f"{prefix}[{lo:g}, {hi:g}{closing}")
    return labels


def distortion_counts(records: pd.DataFrame) -> pd.DataFrame:
    """Images, contents and quality statistics per (dataset, distortion), plus an ALL row."""

    def summary(part: pd.DataFrame) -> pd.Series:
        q = part["quality"]
        return pd.Series(
            {
                "images": len(part),
                "contents": part["content"].nunique(),
                "quality_mean": q.mean(),
                "quality_std": q.std(ddof=1) if len(q) > 1 else float("nan"),
                "quality_min": q.min(),
                "quality_max": q.max(),
            }
        )

    rows = []
    for dataset, part in records.groupby("dataset", sort=False):
        for dist, sub in part.groupby("distortion"):
            rows.append({"dataset": dataset, "distortion": dist, **summary(sub)})
        rows.append({"dataset": dataset, "distortion": "ALL", **summary(part)})
    out = pd.DataFrame(rows)
    out["images"] = out["images"].astype(int)
    out["contents"] = out["contents"].astype(int)
    return out


def class_balance(
    records: pd.DataFrame, edges: Sequence[float] = QUALITY_CLASS_EDGES
) -> pd.DataFrame:
    """Images per quality class and dataset, with the share of each class."""
    names = class_names(edges)
    counts = records.groupby(["dataset", "quality_class"]).size().rename("images").reset_index()
    full = pd.MultiIndex.from_product(
        [records["dataset"].unique(), range(len(names))], names=["dataset", "quality_class"]
    )
    counts = counts.set_index(["dataset", "quality_class"]).reindex(full, fill_value=0)
    counts = counts.reset_index()
    counts["class_name"] = [names[c] for c in counts["quality_class"]]
    counts["share"] = counts["images"] / counts.groupby("dataset")["images"].transform("sum")
    return counts


def example_series(records: pd.DataFrame, content: str | None = None) -> pd.DataFrame:
    """For one content, each distortion's images ordered from best to worst quality."""
    if content is None:
        # the content with most rated images shows the most levels
        content = records["content"].value_counts().idxmax()
    part = records[records["content"] == content]
    if part.empty:
        raise ValueError(f"content {content!r} not in the dataset")
    return part.sort_values(["distortion", "quality"], ascending=[True, False])


__all__ = ["class_balance", "class_names", "distortion_counts", "example_series", "quality_classes"]

"""The one record every dataset loader returns.

A record table (pandas DataFrame) has one row per rated image and these columns:

==============  ===========================================================================
dataset         registry name of the dataset (``live``, ``synthetic``, ...)
image           the image's name inside the dataset (unique, e.g. ``jpeg/img43.bmp``)
image_path      absolute path of the image file
ref_path        absolute path of its pristine reference image ("" when unknown)
content         reference (content) id; splits never put one content on both sides
distortion      normalised type: ``jpeg``, ``jp2k``, ``wn``, ``gblur``, ``ff``; other types
                keep the dataset's own (lower-case) name
level           graded distortion level when the dataset defines one (1 = mildest), else NaN
raw_score       the dataset's score exactly as published
raw_scale       what the raw score is: its name, range and direction
quality         score on 0-100 where higher is better (mapping documented per dataset)
quality_class   the paper's 4-class label from ``quality`` (0 = worst ... 3 = best)
==============  ===========================================================================

The paper cuts the 0-100 scale into 4 classes; we read that as equal-width bins (edges 0, 25,
50, 75, 100). ``QUALITY_CLASS_EDGES`` is the default and every function takes other edges.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from edgeiqa.errors import DataError

COLUMNS: list[str] = [
    "dataset",
    "image",
    "image_path",
    "ref_path",
    "content",
    "distortion",
    "level",
    "raw_score",
    "raw_scale",
    "quality",
    "quality_class",
]

PAPER_DISTORTIONS: list[str] = ["gblur", "jpeg", "wn", "jp2k", "ff"]
"""The paper's (LIVE's) five distortion types under their normalised names."""

DISTORTION_LABELS: dict[str, str] = {
    "gblur": "BLUR",
    "jpeg": "JPEG",
    "wn": "WN",
    "jp2k": "JP2K",
    "ff": "FF",
}
"""Column headings the paper uses for each normalised type."""

QUALITY_CLASS_EDGES: tuple[float, ...] = (0.0, 25.0, 50.0, 75.0, 100.0)
QUALITY_CLASS_NAMES: tuple[str, ...] = ("bad", "poor", "fair", "good")


def quality_classes(
    quality: Sequence[float] | np.ndarray | pd.Series,
    edges: Sequence[float] = QUALITY_CLASS_EDGES,
) -> np.ndarray:
    """Class index of each quality value for bins ``[e0, e1), [e1, e2), ..., [e_{n-1}, e_n]``.

    Values below the first edge fall in class 0 and above the last in the top class, so a
    quality clipped to 0-100 always gets a label.

    Args:
        quality: scores on 0-100, higher is better.
        edges: increasing bin edges; ``len(edges) - 1`` classes.
    Returns:
        int64 array of class indices, 0 = worst.
    """
    edges = np.asarray(edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 3 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"class edges must be increasing with at least 3 values, got {edges}")
    q = np.asarray(quality, dtype=float)
    return np.clip(np.searchsorted(edges[1:-1], q, side="right"), 0, len(edges) - 2).astype(
        np.int64
    )


def finalise_records(
    df: pd.DataFrame,
    dataset: str,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
) -> pd.DataFrame:
    """Add ``dataset`` and ``quality_class``, fill optional columns, order and check the table.

    Loaders build ``image, image_path, ref_path, content, distortion, level, raw_score,
    raw_scale, quality`` and call this last, so every dataset leaves through the same checks.
    """
    df = df.copy()
    df["dataset"] = dataset
    for col, default in (("ref_path", ""), ("level", np.nan)):
        if col not in df:
            df[col] = default
    missing = [c for c in COLUMNS if c not in df and c != "quality_class"]
    if missing:
        raise DataError(f"{dataset}: loader produced no column(s) {missing}")
    df["quality"] = df["quality"].astype(float)
    if df["quality"].isna().any():
        bad = df.loc[df["quality"].isna(), "image"].iloc[0]
        raise DataError(f"{dataset}: {bad}: score is missing or not a number")
    df["quality_class"] = quality_classes(df["quality"], class_edges)
    df["level"] = df["level"].astype(float)
    df["distortion"] = df["distortion"].astype(str)
    df["content"] = df["content"].astype(str)
    if df["image"].duplicated().any():
        dup = df.loc[df["image"].duplicated(), "image"].iloc[0]
        raise DataError(f"{dataset}: image {dup} appears more than once in the labels")
    return df[COLUMNS + [c for c in df.columns if c not in COLUMNS]].reset_index(drop=True)


def dmos100_to_quality(dmos: np.ndarray | pd.Series) -> np.ndarray:
    """LIVE-style DMOS (about 0-100, higher = worse; realigned values run slightly past both
    ends) to quality 0-100, higher = better: ``clip(100 - dmos, 0, 100)``."""
    return np.clip(100.0 - np.asarray(dmos, dtype=float), 0.0, 100.0)

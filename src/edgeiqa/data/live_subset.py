"""The real LIVE Release 2 subset shipped beside the project (``<data root>/live_subset``).

Layout: ``images/refimgs/<ref>.png``, ``images/<type>/imgN.png`` (lossless copies of LIVE's
BMPs) and ``labels.csv`` with the official realigned DMOS. Raw score: realigned DMOS, about
0-100, higher = worse; ``quality = clip(100 - DMOS, 0, 100)`` as for full LIVE.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.data.labelfiles import Problems, parse_scores, read_strict_csv
from edgeiqa.data.schema import QUALITY_CLASS_EDGES, dmos100_to_quality, finalise_records
from edgeiqa.errors import DataError

REQUIRED = ["image", "type", "ref", "dmos"]
TYPE_NAMES = {"jpeg": "jpeg", "wn": "wn", "gblur": "gblur", "jp2k": "jp2k", "fastfading": "ff"}


def load(
    folder: str | Path,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    variant: str = "live_subset",
    check_files: bool = True,
) -> pd.DataFrame:
    """Record table of the subset; every listed image and reference must exist."""
    folder = Path(folder)
    labels_path = folder / "labels.csv"
    if not labels_path.is_file():
        raise DataError(f"{labels_path}: label file missing")
    labels = read_strict_csv(labels_path)
    missing = [c for c in REQUIRED if c not in labels]
    if missing:
        raise DataError(f"{labels_path}: missing column(s) {missing}")
    # the first non-numeric DMOS is a one-line error naming its line (the header is line 1)
    labels["dmos"] = parse_scores(
        list(labels["dmos"]),
        list(labels["image"]),
        labels_path,
        Problems(),
        rows=range(2, len(labels) + 2),
        what="dmos",
    )
    images = folder / "images"
    df = pd.DataFrame(
        {
            "image": labels["image"],
            "image_path": [str(images / p) for p in labels["image"]],
            "ref_path": [str(images / p) for p in labels["ref"]],
            "content": [Path(p).stem for p in labels["ref"]],
            "distortion": labels["type"].map(lambda t: TYPE_NAMES.get(t, str(t).lower())),
            "raw_score": labels["dmos"].astype(float),
            "raw_scale": "LIVE realigned DMOS (about 0-100, higher = worse)",
            "quality": dmos100_to_quality(labels["dmos"]),
        }
    )
    for extra in ("dmos_std", "strength_measure", "strength_value", "match"):
        if extra in labels:
            df[extra] = labels[extra]
    for numeric in ("dmos_std", "strength_value"):  # descriptive columns: a blank stays NaN
        if numeric in df:
            df[numeric] = pd.to_numeric(df[numeric].replace("", np.nan), errors="coerce")
    if check_files:
        for path in list(df["image_path"]) + sorted(set(df["ref_path"])):
            if not Path(path).is_file():
                raise DataError(f"{path}: missing image listed in {labels_path}")
    return finalise_records(df, variant, class_edges)

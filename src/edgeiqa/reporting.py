"""Saving tables and figures so that each one says which dataset it came from."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

DATASET_LABELS: dict[str, str] = {
    "synthetic": "synthetic (embedded; not LIVE)",
    "live_subset": "LIVE subset (real LIVE R2 images)",
    "live": "LIVE Release 2 (official)",
    "csiq": "CSIQ (official)",
    "tid2008": "TID2008 (official)",
    "tid2013": "TID2013 (official)",
    "kadid10k": "KADID-10k (official)",
}

LIVE_ACKNOWLEDGEMENT = (
    "LIVE images and DMOS: Copyright (c) 2005 The University of Texas at Austin; "
    "H.R. Sheikh, Z. Wang, L. Cormack, A.C. Bovik, LIVE Image Quality Assessment Database "
    "Release 2, http://live.ece.utexas.edu/research/quality"
)


def dataset_label(name: str) -> str:
    """Human-readable name that says what kind of data a result stands on."""
    return DATASET_LABELS.get(name, name)


def caption(dataset: str) -> str:
    """Text to put under a figure: the dataset, plus LIVE's required acknowledgement."""
    text = f"Dataset: {dataset_label(dataset)}"
    if dataset in ("live", "live_subset"):
        text += f". {LIVE_ACKNOWLEDGEMENT}"
    return text


def save_table(df: pd.DataFrame, name: str, results: str | os.PathLike) -> Path:
    """Write ``<results>/tables/<name>.csv``; the table must carry a ``dataset`` column."""
    if "dataset" not in df.columns:
        raise ValueError(f"table {name!r} has no 'dataset' column; every table names its data")
    out = Path(results) / "tables" / f"{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    return out


def save_figure(fig, name: str, results: str | os.PathLike, dataset: str | None = None) -> Path:
    """Write ``<results>/figures/<name>.png`` (150 dpi); with ``dataset``, add its caption."""
    if dataset is not None:
        # below the axes (negative y) so it never covers tick labels; bbox "tight" keeps it
        fig.text(0.5, -0.01, caption(dataset), ha="center", va="top", fontsize=7, wrap=True)
    out = Path(results) / "figures" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=150, bbox_inches="tight")
    return out

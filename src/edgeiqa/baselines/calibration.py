"""Calibration of the baselines against their reference implementations.

``../shared/calibration/tid2013`` holds TID2013 reference/distorted pairs (Ponomarenko et al.,
"Image database TID2013: Peculiarities, results and perspectives", Signal Processing: Image
Communication 30, 2015) and, in ``official_values.csv``, what each metric's reference
implementation outputs on them (the IQA-PyTorch project's calibration table). A metric agrees with
its reference when ``|ours - official| <= atol + rtol * |official|`` with the row's tolerances.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.config import REPO_ROOT

CALIBRATION_DATASET = "TID2013 calibration pairs"
CALIBRATION_COLUMNS = ["metric", "image", "official", "tolerance_atol", "tolerance_rtol"]


def calibration_root() -> Path:
    """``EDGEIQA_CALIBRATION`` if set, else ``../shared/calibration`` beside the checkout."""
    value = os.environ.get("EDGEIQA_CALIBRATION", "").strip()
    return (
        Path(value).expanduser().resolve() if value else REPO_ROOT.parent / "shared" / "calibration"
    )


def official_values(root: str | os.PathLike | None = None) -> pd.DataFrame:
    """The official values table of the TID2013 calibration pairs, with each pair's paths.

    Returns:
        One row per (metric, image): ``dataset, metric, image, official, tolerance_atol,
        tolerance_rtol, reference_implementation, reference_path, distorted_path``.
    Raises:
        FileNotFoundError: the table is absent (one line naming it).
        ValueError: a column is missing.
    """
    folder = Path(root) if root is not None else calibration_root()
    table_path = folder / "tid2013" / "official_values.csv"
    if not table_path.is_file():
        raise FileNotFoundError(f"{table_path}: calibration table not found")
    table = pd.read_csv(table_path)
    missing = [c for c in CALIBRATION_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"{table_path}: missing column(s) {missing}")
    table.insert(0, "dataset", CALIBRATION_DATASET)
    table["reference_path"] = [
        str(folder / "tid2013" / "reference" / f"{i}.bmp") for i in table["image"]
    ]
    table["distorted_path"] = [
        str(folder / "tid2013" / "distorted" / f"{i}.bmp") for i in table["image"]
    ]
    return table


def within_tolerance(ours: float, official: float, atol: float, rtol: float) -> bool:
    """The calibration rule: ``|ours - official| <= atol + rtol * |official|``."""
    return bool(abs(ours - official) <= atol + rtol * abs(official))


def calibrate(
    scorers: dict[str, Callable[[str, str], float]], root: str | os.PathLike | None = None
) -> pd.DataFrame:
    """Score every calibration pair with each metric of ``scorers`` and compare.

    Args:
        scorers: metric name (the table's ``metric``) -> ``f(distorted_path, reference_path)``;
            no-reference metrics ignore the second argument.
        root: calibration folder (default :func:`calibration_root`).
    Returns:
        The rows of :func:`official_values` for those metrics, with ``ours``, ``difference``,
        ``allowed`` (the tolerance) and ``agrees``.
    """
    table = official_values(root)
    table = table[table["metric"].isin(list(scorers))].reset_index(drop=True)
    ours = [
        float(scorers[m](d, r))
        for m, d, r in zip(
            table["metric"], table["distorted_path"], table["reference_path"], strict=True
        )
    ]
    table["ours"] = ours
    table["difference"] = table["ours"] - table["official"]
    table["allowed"] = table["tolerance_atol"] + table["tolerance_rtol"] * table["official"].abs()
    table["agrees"] = np.abs(table["difference"]) <= table["allowed"]
    return table

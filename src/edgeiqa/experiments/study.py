"""Which datasets a regression study runs on, and the settings notebook 05 hands to notebook 06.

Notebook 05 writes :class:`StudySettings` next to its predictions
(``<results>/tables/regression_settings.json``); notebook 06 reads them instead of repeating 05's
parameters, so its rows always belong to the model 05 ran.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd

from edgeiqa.data.registry import (
    DATASETS,
    available_datasets,
    load_dataset,
    parse_dataset_spec,
)
from edgeiqa.data.schema import PAPER_DISTORTIONS
from edgeiqa.edge_cnn import RegressionSettings
from edgeiqa.errors import DataError

OFFICIAL_DATASETS: tuple[str, ...] = ("live", "csiq", "tid2008")
"""Official releases run with the same code when present (restricted to the paper's types)."""


def restrict_to_paper_distortions(records: pd.DataFrame) -> pd.DataFrame:
    """Rows whose distortion is one of the paper's five LIVE types (TID2008/CSIQ have more).

    Raises:
        ValueError: when none is left (so a wrong dataset is not reported as empty results).
    """
    kept = records[records["distortion"].isin(PAPER_DISTORTIONS)].reset_index(drop=True)
    if kept.empty:
        name = records["dataset"].iloc[0] if len(records) else "records"
        raise ValueError(
            f"{name}: no image with one of the paper's distortions {PAPER_DISTORTIONS}"
        )
    return kept


SETTINGS_FILE = "regression_settings.json"
"""The study-wide settings notebook 05 ran with, written next to its predictions in
``<results>/tables/`` and read by notebook 06 (:func:`read_study_settings`)."""


@dataclass(frozen=True)
class StudySettings:
    """What notebook 05 ran, as notebook 06 needs it: the datasets actually run (official
    releases included), the profile that sized the synthetic set, the data root when one was
    given (None: ``EDGEIQA_DATA``) and the model's settings (``regression.seed`` seeds splits,
    the synthetic build and training)."""

    datasets: tuple[str, ...]
    profile: str | None
    transfer: bool
    regression: RegressionSettings
    data_root: str | None = None

    @property
    def seed(self) -> int:
        return self.regression.seed

    def load_records(self, progress: bool = True) -> dict[str, pd.DataFrame]:
        """The record tables notebook 05 ran on (same datasets, profile, seed and data root).

        Raises:
            DataError: the synthetic set is among them but no profile was recorded to size it.
        """
        if "synthetic" in self.datasets and not self.profile:
            raise DataError(
                f"{SETTINGS_FILE}: no profile recorded for the synthetic set; rerun notebook "
                "05_regression with a profile"
            )
        return load_study_datasets(
            list(self.datasets),
            self.profile or "",
            seed=self.seed,
            data_root=self.data_root,
            include_official=False,
            progress=progress,
        )


def write_study_settings(results: str | os.PathLike, study: StudySettings) -> Path:
    """Write ``<results>/tables/regression_settings.json``."""
    out = Path(results) / "tables" / SETTINGS_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    data = {**asdict(study), "datasets": list(study.datasets)}
    out.write_text(json.dumps(data, indent=2) + "\n")
    return out


def read_study_settings(results: str | os.PathLike) -> StudySettings:
    """Notebook 05's :class:`StudySettings`; a missing or malformed file is a one-line
    :class:`~edgeiqa.errors.DataError` telling the reader to run notebook 05 first."""
    path = Path(results) / "tables" / SETTINGS_FILE
    if not path.is_file():
        raise DataError(f"{path}: missing; run notebook 05_regression first (same results folder)")
    try:
        data = json.loads(path.read_text())
        regression = RegressionSettings(**{**data["regression"], "progress": False})
        return StudySettings(
            tuple(data["datasets"]),
            data["profile"],
            bool(data["transfer"]),
            regression,
            data.get("data_root"),
        )
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise DataError(
            f"{path}: unreadable settings ({err}); rerun notebook 05_regression"
        ) from None


def load_study_datasets(
    datasets: str | Sequence[str],
    synthetic_profile: str,
    seed: int = 0,
    data_root: str | os.PathLike | None = None,
    include_official: bool = True,
    progress: bool = True,
) -> dict[str, pd.DataFrame]:
    """Record tables of the study's datasets.

    Args:
        datasets: ``"auto"`` (the synthetic set, plus the LIVE subset when it is under the data
            root) or a list of names; a listed dataset that is missing raises
            :class:`~edgeiqa.errors.DataError` (never replaced by another).
        synthetic_profile: profile that sizes the synthetic set.
        seed: synthetic build seed.
        data_root: data root (None: ``EDGEIQA_DATA``).
        include_official: also run every release of :data:`OFFICIAL_DATASETS` found under the
            data root whose loader exists, restricted to the paper's distortion types.
        progress: progress bars while building the synthetic set.
    Returns:
        Record tables keyed by dataset name, in run order.
    """
    found = available_datasets(data_root)
    spec = parse_dataset_spec(datasets)  # papermill hands a list parameter over as a string
    if spec == "auto":
        names = ["synthetic"] + (["live_subset"] if "live_subset" in found else [])
    else:
        names = list(dict.fromkeys(spec))
    if include_official:
        for name in OFFICIAL_DATASETS:
            loader = importlib.util.find_spec(f"edgeiqa.data.{DATASETS[name].module}")
            if name in found and loader is not None and name not in names:
                names.append(name)
    out = {}
    for name in names:
        if name == "synthetic":
            out[name] = load_dataset(name, profile=synthetic_profile, seed=seed, progress=progress)
        else:
            out[name] = load_dataset(name, root=data_root)
        if name in OFFICIAL_DATASETS:
            out[name] = restrict_to_paper_distortions(out[name])
    return out

"""The seed paper, and every number it reports: the one place the study quotes it from.

The paper (called "the paper" throughout) predicts what it calls a "deep fake score" -- in the
field's words a perceptual image quality score (DMOS/MOS), i.e. no-reference image quality
assessment -- with small CNNs on Sobel edge maps (CNN_Full_img, CNN_2x, CNN_4x, and the patch
majority vote CNN_1_Mvote), trained on one random 80/20 split of LIVE.

Everything the paper reports that this study tests is defined here and nowhere else:

- :data:`TABLE3_SROCC`: its regression SROCC per LIVE distortion (Table 3);
- :data:`CLASSIFICATION`: its 4-class accuracy and weighted precision/recall/F1;
- :data:`PEERS`: the competitors its Table 3 lists, each with whether and from where a number is
  quoted (none is: no source could be checked, so none is put beside a computed number).

The modules that rebuild the paper's experiments (:mod:`edgeiqa.experiments.classification`,
:mod:`edgeiqa.experiments.regression`, :mod:`edgeiqa.experiments.comparison`) cite
:data:`CITATION` in their opening docstrings; :mod:`edgeiqa.experiments.claims` builds the claims
table from this module.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from edgeiqa.data.schema import DISTORTION_LABELS


@dataclass(frozen=True)
class Citation:
    """How the study names the paper. Fields the study was not given are ``None`` rather than
    guessed; ``short`` is what tables and prose call it."""

    short: str
    title: str | None
    authors: str | None
    venue: str | None
    note: str


CITATION = Citation(
    short='the "deep fake score" paper',
    title=None,
    authors=None,
    venue=None,
    note=(
        "Small CNNs (2-3 conv layers of 16/32 3x3 filters, spatial pyramid pooling, 4 fully "
        "connected layers) on Sobel edge maps split in halves and quarters; 4-class quality "
        "classification and regression of the quality score on LIVE (one random 80/20 split, 40 "
        "epochs). Its title, authors and venue were not given to this study, so none is quoted."
    ),
)
"""The seed paper as this study knows it."""

PROTOCOL = "LIVE, one random 80/20 split over images"
"""How the paper measured every number below (as we read it: contents shared across the split)."""

SOURCE = "as reported by the paper"
"""The ``source`` of every quoted number, kept apart from anything computed here."""

TABLE3_SROCC: pd.DataFrame = pd.DataFrame(
    [
        {"distortion": "ALL", "srocc": 0.947},
        {"distortion": "gblur", "srocc": 0.972},
        {"distortion": "jpeg", "srocc": 0.979},
        {"distortion": "wn", "srocc": 0.944},
        {"distortion": "jp2k", "srocc": 0.984},
    ]
).assign(dataset="live", source=f"{SOURCE} (Table 3, LIVE, one 80/20 split)")
"""SROCC of the paper's regression model per LIVE distortion (distortion keys as in
:data:`edgeiqa.data.schema.PAPER_DISTORTIONS`, plus ``ALL``). Its FF value and its KROCC/PLCC
rows are not given to us."""

CLASSIFICATION: pd.DataFrame = pd.DataFrame(
    [
        {
            "architecture": "CNN_Full_img",
            "accuracy": 0.7945,
            "weighted_precision": 0.785,
            "weighted_recall": 0.780,
            "weighted_f1": 0.778,
        },
        {
            "architecture": "CNN_1_Mvote",
            "accuracy": 0.824,
            "weighted_precision": 0.812,
            "weighted_recall": 0.829,
            "weighted_f1": 0.820,
        },
    ]
)
"""4-class figures as reported by the paper (LIVE, one random 80/20 split), keyed by
architecture. Only these two architectures' figures are given to us; its CNN_2x/CNN_4x numbers
are not."""

CLASSIFICATION_METRICS: tuple[str, ...] = (
    "accuracy",
    "weighted_precision",
    "weighted_recall",
    "weighted_f1",
)
"""The classification figures the paper reports, in its order."""

TABLE3_COLUMNS: list[str] = ["BLUR", "JPEG", "WN", "JP2K", "FF", "ALL"]
"""The paper's Table 3 columns, in its order."""

TABLE3_METRICS: dict[str, str] = {"SROCC": "srocc", "KROCC": "krocc", "PLCC": "plcc_logistic"}
"""The paper's Table 3 metrics and the study's columns for them (PLCC after the 5-parameter
logistic, as the field reports it)."""

PEERS: pd.DataFrame = pd.DataFrame(
    {
        "method": ["DeepQA", "BLIINDS", "CURVELET", "M1", "SSIM", "BRISQUE", "OG-IQA"],
        "quoted": False,
        "source": "",
        "reason": "listed in the paper's Table 3; value not quoted: no source could be checked",
    }
)
"""The competitors the paper's Table 3 lists. A peer's number is quoted only with a checked
``source``; none is, so the study computes its own baselines instead (notebook 06)."""


def table3_reported() -> pd.DataFrame:
    """The paper's Table 3 SROCC in the layout of the computed Table 3, one row per column.

    Returns:
        Columns ``method, metric, column, value, dataset, source, checked, note`` (``column``:
        the paper's label, ``BLUR``..``ALL``).
    """
    return pd.DataFrame(
        {
            "method": "paper's CNN (regression)",
            "metric": "SROCC",
            "column": TABLE3_SROCC["distortion"].map(lambda d: DISTORTION_LABELS.get(d, d)),
            "value": TABLE3_SROCC["srocc"],
        }
    ).assign(
        dataset="live",
        source="as reported by the paper (Table 3; LIVE, one random 80/20 split)",
        checked=True,
        note="the paper's FF value and its KROCC/PLCC are not given to us",
    )


def classification_figures() -> dict[str, dict[str, float]]:
    """:data:`CLASSIFICATION` as ``{architecture: {metric: value}}``."""
    return CLASSIFICATION.set_index("architecture")[list(CLASSIFICATION_METRICS)].to_dict("index")

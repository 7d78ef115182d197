"""The claims table: every number :data:`edgeiqa.paper.CITATION` reports, beside the study's
measured counterpart, the difference and a one-line verdict.

Regression claims (its Table 3 SROCC) are matched with the paper's CNN on every dataset and
protocol computed here; classification claims (accuracy, weighted P/R/F1 of CNN_Full_img and
CNN_1_Mvote) with notebooks 03/04's per-split tables, found in the results folder by their
columns. The reported numbers come from :mod:`edgeiqa.paper` only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa import paper


def find_classification_tables(results: str | os.PathLike) -> pd.DataFrame:
    """Per-split classification metrics written by notebooks 03/04, if any.

    Any ``<results>/tables/*.csv`` with the columns ``dataset, protocol, method, architecture,
    repeat`` and the four metrics of :data:`edgeiqa.paper.CLASSIFICATION_METRICS` is read
    (per-split tables; summaries without ``repeat`` are ignored). Returns an empty frame when
    there is none.
    """
    folder = Path(results) / "tables"
    need = {"dataset", "protocol", "method", "architecture", "repeat"}
    need |= set(paper.CLASSIFICATION_METRICS)
    frames = []
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        try:
            head = pd.read_csv(path, nrows=0)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
            continue
        if need <= set(head.columns):
            frames.append(pd.read_csv(path).assign(table=path.name))
    if not frames:
        return pd.DataFrame()
    out = pd.concat(frames, ignore_index=True)
    return out.drop_duplicates(subset=["dataset", "protocol", "method", "repeat"])


def _claim_verdict(paper: float, median: float, q25: float, q75: float, dataset: str) -> str:
    if pd.isna(median):
        return "not measured in this run"
    where = f"on {dataset}" + (" (synthetic, not LIVE)" if dataset == "synthetic" else "")
    if q25 <= paper <= q75:
        return f"consistent {where}: the reported value lies within our IQR"
    if median > paper:
        return f"higher than reported {where} (median +{median - paper:.3f})"
    return f"not reproduced {where}: median lower by {paper - median:.3f}"


def claims_table(
    summary: pd.DataFrame,
    ours_methods: Sequence[str],
    classification: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every number the paper reports beside our measured counterpart.

    Regression (Table 3 SROCC) is matched to each ours method's median SROCC on every computed
    (dataset, protocol); classification (accuracy, weighted P/R/F1 of CNN_Full_img and
    CNN_1_Mvote) to the medians over splits of notebooks 03/04's tables when present.

    Returns:
        Columns ``claim, paper_value, source, dataset, protocol, method, n_splits, measured,
        q25, q75, difference, verdict``; claims without a counterpart get one row
        "not measured in this run".
    """
    rows = []
    source = paper.SOURCE
    ours = summary[summary["method"].isin(ours_methods)]
    for rec in paper.table3_reported().itertuples(index=False):
        claim = f"Table 3 SROCC {rec.column}"
        match = ours[ours["column"] == rec.column]
        if match.empty:
            rows.append(
                {
                    "claim": claim,
                    "paper_value": rec.value,
                    "source": source,
                    "verdict": "not measured in this run (no such images or no predictions)",
                }
            )
        for r in match.itertuples(index=False):
            rows.append(
                {
                    "claim": claim,
                    "paper_value": rec.value,
                    "source": source,
                    "dataset": r.dataset,
                    "protocol": r.protocol,
                    "method": r.method,
                    "n_splits": r.n_splits,
                    "measured": r.srocc_median,
                    "q25": r.srocc_q25,
                    "q75": r.srocc_q75,
                    "verdict": _claim_verdict(
                        rec.value, r.srocc_median, r.srocc_q25, r.srocc_q75, r.dataset
                    ),
                }
            )
    cls = classification if classification is not None else pd.DataFrame()
    for architecture, figures in paper.classification_figures().items():
        part = cls[cls["architecture"] == architecture] if not cls.empty else cls
        for metric, value in figures.items():
            claim = f"{architecture} {metric.replace('weighted_', 'weighted ')}"
            if part.empty:
                rows.append(
                    {
                        "claim": claim,
                        "paper_value": value,
                        "source": source,
                        "verdict": "not measured in this run (notebooks 03/04 tables absent)",
                    }
                )
                continue
            for (dataset, protocol, method), g in part.groupby(
                ["dataset", "protocol", "method"], sort=False
            ):
                med, q25, q75 = (
                    g[metric].median(),
                    g[metric].quantile(0.25),
                    g[metric].quantile(0.75),
                )
                rows.append(
                    {
                        "claim": claim,
                        "paper_value": value,
                        "source": source,
                        "dataset": dataset,
                        "protocol": protocol,
                        "method": method,
                        "n_splits": len(g),
                        "measured": med,
                        "q25": q25,
                        "q75": q75,
                        "verdict": _claim_verdict(value, med, q25, q75, dataset),
                    }
                )
    out = pd.DataFrame(rows)
    for col in ("dataset", "protocol", "method", "n_splits", "measured", "q25", "q75"):
        if col not in out:
            out[col] = np.nan
    out["dataset"] = out["dataset"].fillna("none")
    out["difference"] = out["measured"] - out["paper_value"]
    return out[
        [
            "claim",
            "paper_value",
            "source",
            "dataset",
            "protocol",
            "method",
            "n_splits",
            "measured",
            "q25",
            "q75",
            "difference",
            "verdict",
        ]
    ]

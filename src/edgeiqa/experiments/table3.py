"""The paper's Table 3 (SROCC/KROCC/PLCC per LIVE distortion), rebuilt from computed results.

Every block is computed here, on the test images of the study's splits (median over splits
[IQR]); the numbers quoted from :data:`edgeiqa.paper.CITATION` are kept in their own table
(:func:`reported_table`) and never mixed with computed ones. Cross-dataset results get the same
per-distortion layout (:func:`cross_dataset_table`).
"""

from __future__ import annotations

import pandas as pd

from edgeiqa import metrics as metrics_lib
from edgeiqa import paper
from edgeiqa.data.schema import DISTORTION_LABELS
from edgeiqa.paper import TABLE3_COLUMNS, TABLE3_METRICS
from edgeiqa.reporting import dataset_label

__all__ = ["TABLE3_COLUMNS", "TABLE3_METRICS"]


def table3(summary: pd.DataFrame, dataset: str, protocol: str, digits: int = 3) -> pd.DataFrame:
    """The paper's Table 3 layout for one (dataset, protocol): rows = methods, columns =
    (metric, BLUR..ALL), cells ``median [q25, q75]``; a type absent from the dataset is "".

    Returns:
        DataFrame indexed by method with a (metric, distortion) column MultiIndex.
    """
    part = summary[(summary["dataset"] == dataset) & (summary["protocol"] == protocol)]
    if part.empty:
        raise ValueError(f"no computed results for {dataset} / {protocol}")
    blocks = {}
    for label, metric in TABLE3_METRICS.items():
        cells = part.apply(
            lambda r, m=metric: (
                "n/a"
                if pd.isna(r[f"{m}_median"])
                else f"{r[f'{m}_median']:.{digits}f} [{r[f'{m}_q25']:.{digits}f}, "
                f"{r[f'{m}_q75']:.{digits}f}]"
            ),
            axis=1,
        )
        wide = part.assign(cell=cells).pivot_table(
            index="method", columns="column", values="cell", aggfunc="first"
        )
        # object first: an all-missing column is float64, which cannot hold ""
        blocks[label] = wide.reindex(columns=TABLE3_COLUMNS).astype(object).fillna("")
    out = pd.concat(blocks, axis=1)
    n_splits = part.groupby("method")["n_splits"].max()
    out.insert(0, ("", "splits"), n_splits.reindex(out.index))
    out = out.reindex(list(dict.fromkeys(part["method"])))
    flagged = part.groupby("method")["trained_on_test"].any()
    return out.rename(index=lambda m: display_name(m, bool(flagged.get(m, False))))


def table3_blocks(summary: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    """Every (dataset, protocol) block of :func:`table3` with its header, "Computed here on
    <dataset>, <protocol> protocol, median of N splits [IQR]" (N: the most splits of a row)."""
    out = []
    for (dataset, protocol), part in summary.groupby(["dataset", "protocol"], sort=False):
        header = (
            f"Computed here on {dataset_label(dataset)}, {protocol} protocol, median of "
            f"{int(part['n_splits'].max())} splits [IQR]"
        )
        out.append((header, table3(summary, dataset, protocol)))
    return out


def display_name(method: str, trained_on_test: bool) -> str:
    """Method name for tables and legends; flags a method that was trained on the test images
    before this study (the published BRISQUE model on LIVE), whose scores there are not a test
    result."""
    return f"{method} [trained on these test images]" if trained_on_test else method


def table3_long(summary: pd.DataFrame) -> pd.DataFrame:
    """Numeric Table 3 (computed here) in long form for the CSV: ``dataset, source, protocol,
    method, metric, column, median, q25, q75, n_splits``."""
    keys = ["dataset", "source", "protocol", "method", "column", "n_splits"]
    rows = []
    for label, metric in TABLE3_METRICS.items():
        stats = {f"{metric}_{s}": s for s in ("median", "q25", "q75")}
        part = summary[keys + list(stats)].rename(columns=stats)
        part.insert(4, "metric", label)
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def reported_table() -> pd.DataFrame:
    """Quoted numbers in the Table 3 layout: rows = methods, columns = (metric, BLUR..ALL),
    plus one row per competitor the paper lists but whose numbers we could not check."""
    reported = paper.table3_reported()
    wide = reported.pivot_table(
        index="method", columns="column", values="value", aggfunc="first"
    ).reindex(columns=TABLE3_COLUMNS)
    wide = wide.map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    wide.columns = pd.MultiIndex.from_product([["SROCC"], wide.columns])
    wide.insert(0, ("", "source"), reported.groupby("method")["source"].first())
    peers = paper.PEERS[~paper.PEERS["quoted"]]
    unchecked = pd.DataFrame(
        {("", "source"): "listed by the paper; value not quoted (no source could be checked)"},
        index=peers["method"],
    )
    return pd.concat([wide, unchecked]).fillna("")


def cross_dataset_pivot(table: pd.DataFrame, metric: str = "srocc") -> pd.DataFrame:
    """:func:`cross_dataset_table` as rows (pair, method, trained_on_test) x columns BLUR..ALL."""
    wide = table.pivot_table(
        index=["protocol", "method", "trained_on_test"],
        columns="column",
        values=metric,
        aggfunc="first",
        sort=False,
    )
    return wide.reindex(columns=[c for c in TABLE3_COLUMNS if c in wide.columns])


def cross_dataset_table(
    predictions: pd.DataFrame, n_boot: int = 1000, seed: int = 0
) -> pd.DataFrame:
    """SROCC/KROCC/PLCC per distortion of cross-dataset predictions, with a bootstrap 95%
    interval for SROCC (one train/test pair, so the interval is over test images only).

    Returns:
        Columns ``dataset, train_dataset, protocol, method, distortion, column, n, srocc,
        srocc_ci_low, srocc_ci_high, krocc, plcc_logistic, trained_on_test``.
    """
    frames = []
    keys = ["dataset", "train_dataset", "protocol", "method"]
    for key, part in predictions.groupby(keys, sort=False):
        table = metrics_lib.correlation_table(part, n_boot=n_boot, seed=seed)
        for i, col in enumerate(keys):
            table.insert(i, col, key[i])
        table["trained_on_test"] = bool(part["trained_on_test"].any())
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out["column"] = out["distortion"].map(lambda d: DISTORTION_LABELS.get(d, d))
    return out[
        keys
        + [
            "distortion",
            "column",
            "n",
            "srocc",
            "srocc_ci_low",
            "srocc_ci_high",
            "krocc",
            "plcc_logistic",
            "trained_on_test",
        ]
    ]

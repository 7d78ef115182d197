"""Is one method better than another on the same test images? A paired bootstrap of SROCC.

For each (dataset, protocol) and distortion (+ ALL): in every split both methods predicted, the
test images are resampled with replacement (one draw shared by both methods), the SROCC
difference is computed per split and averaged over splits. "Significantly better" means the 95%
percentile interval of that mean difference excludes 0. It measures the uncertainty from the
finite test sets given the trained models, not from retraining (Efron and Tibshirani 1993, the
percentile bootstrap; pairing as in the IQA literature's significance tests on shared test sets).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pandas as pd

from edgeiqa.data.schema import DISTORTION_LABELS
from edgeiqa.metrics import srocc_rows
from edgeiqa.paper import TABLE3_COLUMNS


def paired_bootstrap(
    predictions: pd.DataFrame,
    ours: str,
    baseline: str,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Paired bootstrap of the SROCC difference ``ours - baseline`` on the same test images.

    For each (dataset, protocol) and distortion (+ ALL): in every split both methods predicted,
    test images are resampled with replacement (one draw shared by both methods), the SROCC
    difference is computed per split, and averaged over splits. Repeated over ``n_boot`` draws,
    this gives a percentile interval of the mean difference.

    Args:
        predictions: rows of both methods (API.md columns).
        ours, baseline: method names.
        n_boot: bootstrap draws.
        seed: seed of the draws.
        level: interval coverage.
    Returns:
        One row per (dataset, protocol, distortion): ``ours, baseline, n_splits, n_images``
        (test images per split, median), ``srocc_ours``, ``srocc_baseline`` (means over splits),
        ``difference``, ``ci_low``, ``ci_high``, ``p_value`` (two-sided bootstrap), ``verdict``.
    """
    keys = ["dataset", "protocol", "repeat", "image"]
    a = predictions[predictions["method"] == ours]
    b = predictions[predictions["method"] == baseline]
    both = a.merge(b[keys + ["predicted"]], on=keys, suffixes=("_ours", "_base"))
    rng = np.random.default_rng(seed)
    rows = []
    for (dataset, protocol), part in both.groupby(["dataset", "protocol"], sort=False):
        groups = [("ALL", part)] + [
            (DISTORTION_LABELS.get(d, d), g) for d, g in part.groupby("distortion", sort=True)
        ]
        for label, group in groups:
            point, boots, sizes = [], [], []
            for _, split in group.groupby("repeat", sort=True):
                t = split["quality"].to_numpy(float)
                po = split["predicted_ours"].to_numpy(float)
                pb = split["predicted_base"].to_numpy(float)
                if len(t) < 3:
                    continue
                sizes.append(len(t))
                point.append((srocc_rows(t[None], po[None])[0], srocc_rows(t[None], pb[None])[0]))
                idx = rng.integers(0, len(t), size=(n_boot, len(t)))
                boots.append(srocc_rows(t[idx], po[idx]) - srocc_rows(t[idx], pb[idx]))
            row = {
                "dataset": dataset,
                "protocol": protocol,
                "distortion": label,
                "ours": ours,
                "baseline": baseline,
                "n_splits": len(point),
                "n_images": float(np.median(sizes)) if sizes else 0.0,
            }
            if point:
                pts = np.asarray(point, dtype=float)
                with warnings.catch_warnings():
                    # all-NaN draws, or a method constant on every split: NaN is the answer
                    warnings.simplefilter("ignore", RuntimeWarning)
                    mean_diff = np.nanmean(np.vstack(boots), axis=0)
                    srocc_ours, srocc_base = np.nanmean(pts[:, 0]), np.nanmean(pts[:, 1])
                mean_diff = mean_diff[np.isfinite(mean_diff)]
                row.update(
                    srocc_ours=srocc_ours,
                    srocc_baseline=srocc_base,
                    difference=srocc_ours - srocc_base,
                )
                if mean_diff.size:
                    alpha = (1 - level) / 2
                    low, high = np.quantile(mean_diff, [alpha, 1 - alpha])
                    p = 2 * min(np.mean(mean_diff <= 0), np.mean(mean_diff >= 0))
                    row.update(ci_low=low, ci_high=high, p_value=min(1.0, p))
            rows.append(row)
    out = pd.DataFrame(rows)
    for col in ("srocc_ours", "srocc_baseline", "difference", "ci_low", "ci_high", "p_value"):
        if col not in out:
            out[col] = np.nan
    out["verdict"] = [
        _verdict(lo, hi, o, b)
        for lo, hi, o, b in zip(
            out["ci_low"], out["ci_high"], out["ours"], out["baseline"], strict=True
        )
    ]
    return out


def _verdict(low: float, high: float, ours: str, baseline: str) -> str:
    if pd.isna(low):
        return "undefined (too few images or constant scores)"
    if low > 0:
        return f"{ours} significantly better"
    if high < 0:
        return f"{baseline} significantly better"
    return "no significant difference"


def withhold_claims(
    boot: pd.DataFrame,
    gate_status: dict[str, str],
    seen: set[tuple[str, str]] = frozenset(),
) -> pd.DataFrame:
    """:func:`paired_bootstrap` rows with no claim against a baseline that has not passed its
    sanity gate (:mod:`edgeiqa.experiments.gate`), nor against one that was trained on the test
    images (a published model on its own training set): the verdict becomes "no claim: ..." and
    the ``baseline_gate`` column gives the gate's status. The interval itself is kept.

    Args:
        boot: :func:`compare_all` output.
        gate_status: baseline name -> ``"passed"``, ``"failed"``, ``"not run"`` or
            ``"not gated"`` (not trained here: full-reference, opinion-unaware or published
            models, which are checked against their reference implementations instead). A name
            not given is ``"not gated"``.
        seen: (dataset, baseline) pairs where the baseline had seen the test images before this
            study (``trained_on_test``).
    """
    out = boot.copy()
    if out.empty:
        out["baseline_gate"] = pd.Series(dtype=str)
        return out
    out["baseline_gate"] = out["baseline"].map(lambda b: gate_status.get(b, "not gated"))
    blocked = out["baseline_gate"].isin(["failed", "not run"])
    out.loc[blocked, "verdict"] = [
        f"no claim: {b} {'failed its sanity gate' if g == 'failed' else 'was not gated'}"
        for b, g in zip(
            out.loc[blocked, "baseline"], out.loc[blocked, "baseline_gate"], strict=True
        )
    ]
    trained_on_test = [(d, b) in seen for d, b in zip(out["dataset"], out["baseline"], strict=True)]
    out.loc[trained_on_test, "verdict"] = [
        f"no claim: {b} was trained on these test images"
        for b in out.loc[trained_on_test, "baseline"]
    ]
    return out


def verdict_table(boot: pd.DataFrame) -> pd.DataFrame:
    """:func:`paired_bootstrap` verdicts, one row per (dataset, protocol, ours, baseline), one
    column per distortion (BLUR..ALL)."""
    wide = boot.pivot_table(
        index=["dataset", "protocol", "ours", "baseline"],
        columns="distortion",
        values="verdict",
        aggfunc="first",
        sort=False,
    )
    return wide.reindex(columns=[c for c in TABLE3_COLUMNS if c in wide.columns])


def compare_all(
    predictions: pd.DataFrame,
    ours_methods: Sequence[str],
    baselines: Sequence[str],
    n_boot: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """:func:`paired_bootstrap` of every ours method against every baseline."""
    frames = [
        paired_bootstrap(predictions, o, b, n_boot=n_boot, seed=seed)
        for o in ours_methods
        for b in baselines
    ]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

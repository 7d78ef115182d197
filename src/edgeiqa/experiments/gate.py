"""A sanity gate for trained baselines: does a method rank quality on the synthetic set at all?

A retrained baseline that scores SROCC 0.08 where its paper reports about 0.95 (CNNIQA on LIVE,
Kang et al., CVPR 2014) is a broken baseline, and comparing the paper's models with it would prove
nothing. Before a method takes part in significance claims it must pass this gate, run on the
embedded synthetic set (:mod:`edgeiqa.data.synthetic`: natural photographs, the paper's five
distortion types at graded levels, so within one content and type, quality falls monotonically
with the level) under the content-disjoint protocol (:func:`edgeiqa.splits.protocol_splits`,
``"content"``), through the study's one runner (:func:`edgeiqa.experiments.runner.predict_splits`).

The rule (:class:`GateRule`), both parts required:

1. **ALL**: the median over splits of the SROCC between prediction and quality over *all* test
   images of a split is at least ``min_srocc`` (0.85 on the full profile: the synthetic set is
   easy for a working method, its labels follow the distortion levels; 0.6 on the quick
   profile's tiny set: the profiles' ``gate_min_srocc``, :class:`edgeiqa.config.Profile`.
   CNNIQA at the quick settings measured 0.80-0.83 over seeds 0-2 there, so 0.6 keeps a margin
   while still failing constant, random and reversed methods);
2. **within contents, per type**: for each distortion type, the Spearman correlation between
   prediction and quality among the test images of one content and that type (one content's
   graded levels) is computed for every test content of every split; the median of those values
   must be above ``min_within`` (default 0: the type is ranked the right way round in most
   contents). This catches a method whose pooled SROCC is carried by the other types while it
   ranks one type backwards (CNNIQA's version 1 ranked white noise backwards in every LIVE
   content). A group whose
   predictions are all equal ranks nothing and counts as 0, as does a split whose predictions are
   constant overall; a group whose quality is constant is left out.

The median (not the mean) makes the rule robust to one odd content; the strict ``>`` makes a
coin-flip ranking (median 0) fail. A method that fails is kept in the tables but reported as
failed; :func:`failed_methods` gives the names a later step excludes from significance claims.

Two ways in: :func:`run_gate` fits and predicts the given methods itself; :func:`gate_table`
judges predictions already made (notebook 06's comparison table: its synthetic content-disjoint
rows are the gate's splits, so no method is trained twice).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from edgeiqa import config
from edgeiqa import metrics as metrics_lib
from edgeiqa.data.registry import load_dataset
from edgeiqa.experiments.runner import predict_splits
from edgeiqa.methods import Method
from edgeiqa.splits import Split, protocol_splits

DEFAULT_MIN_SROCC = 0.85
"""Minimum median SROCC over all test images (ALL) of the synthetic content-disjoint splits."""
DEFAULT_MIN_WITHIN = 0.0
"""Each type's median within-(content, type) SROCC must be above this."""
GATE_DATASET = "synthetic"
GATE_PROTOCOL = "content"


@dataclass(frozen=True)
class GateRule:
    """The thresholds of the gate (see the module docstring).

    Attributes:
        min_srocc: the median ALL SROCC over splits must be at least this.
        min_within: every type's median within-(content, type) SROCC must be above this.
    """

    min_srocc: float = DEFAULT_MIN_SROCC
    min_within: float = DEFAULT_MIN_WITHIN


@dataclass(frozen=True)
class GateResult:
    """One method's verdict.

    Attributes:
        method: the method's name.
        n_splits: splits its predictions came from.
        srocc_all: median over splits of the SROCC over all test images of a split.
        within: per distortion type, the median within-(content, type) SROCC over test contents
            and splits.
        passed: both parts of the rule hold.
        reason: why it passed or failed, in one line.
        rule: the thresholds applied.
        wall_s: seconds spent fitting and predicting (NaN when not timed here).
    """

    method: str
    n_splits: int
    srocc_all: float
    within: dict[str, float]
    passed: bool
    reason: str
    rule: GateRule = field(default_factory=GateRule)
    wall_s: float = float("nan")

    def row(self) -> dict[str, object]:
        """The result as one row of :func:`gate_table` (``within_<type>`` columns)."""
        out: dict[str, object] = {
            "method": self.method,
            "dataset": GATE_DATASET,
            "protocol": GATE_PROTOCOL,
            "n_splits": self.n_splits,
            "srocc_all": self.srocc_all,
        }
        out.update({f"within_{t}": v for t, v in sorted(self.within.items())})
        out.update(passed=self.passed, reason=self.reason, **asdict(self.rule))
        out["wall_s"] = self.wall_s
        return out


def gate_records(profile: str = "quick", seed: int = 0, progress: bool = False) -> pd.DataFrame:
    """The synthetic set sized by ``profile`` (built into the cache on first use), as notebook
    05 loads it (:func:`edgeiqa.experiments.study.load_study_datasets`)."""
    return load_dataset(GATE_DATASET, profile=profile, seed=seed, progress=progress)


def gate_splits(
    records: pd.DataFrame, profile: str = "quick", seed: int = 0, n_splits: int | None = None
) -> list[Split]:
    """The content-disjoint splits of the gate: the profile's ``n_repeats`` and
    ``test_fraction`` (``n_splits`` overrides the count), the same splits notebook 05 draws."""
    prof = config.get_profile(profile)
    return protocol_splits(
        records,
        GATE_PROTOCOL,
        n_repeats=n_splits or prof.n_repeats,
        seed=seed,
        test_fraction=prof.test_fraction,
    )


def split_srocc(predictions: pd.DataFrame) -> pd.DataFrame:
    """SROCC over all test images of each (method, protocol, repeat); NaN when constant.

    Returns:
        Columns ``method, protocol, repeat, n, srocc``.
    """
    rows = [
        {
            "method": m,
            "protocol": p,
            "repeat": r,
            "n": len(part),
            "srocc": metrics_lib.srocc(part["quality"], part["predicted"]),
        }
        for (m, p, r), part in predictions.groupby(["method", "protocol", "repeat"], sort=False)
    ]
    return pd.DataFrame(rows, columns=["method", "protocol", "repeat", "n", "srocc"])


def within_content_srocc(predictions: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of prediction and quality within each (split, content, type).

    Groups of fewer than 2 images or of constant quality are left out; a group with constant
    predictions gets 0 (it ranks nothing).

    Returns:
        Columns ``method, protocol, repeat, content, distortion, n, srocc``.
    """
    keys = ["method", "protocol", "repeat", "content", "distortion"]
    rows = []
    for key, part in predictions.groupby(keys, sort=True):
        quality = part["quality"].to_numpy(float)
        if len(part) < 2 or np.ptp(quality) == 0:
            continue
        value = metrics_lib.srocc(quality, part["predicted"].to_numpy(float))
        rows.append({**dict(zip(keys, key, strict=True)), "n": len(part), "srocc": value})
    table = pd.DataFrame(rows, columns=[*keys, "n", "srocc"])
    table["srocc"] = table["srocc"].fillna(0.0)
    return table


def judge(
    predictions: pd.DataFrame, rule: GateRule | None = None, wall_s: float = float("nan")
) -> GateResult:
    """The gate's verdict on one method's predictions (rows of
    :func:`~edgeiqa.experiments.runner.predict_splits` on the synthetic content splits).

    Args:
        predictions: one method's rows (``method, protocol, repeat, content, distortion,
            quality, predicted``).
        rule: the thresholds (default :class:`GateRule`).
        wall_s: seconds the method took, recorded as given.
    Returns:
        :class:`GateResult`.
    """
    rule = rule or GateRule()
    names = predictions["method"].unique()
    if len(names) != 1:
        raise ValueError(f"judge() needs one method's predictions, got {list(names)}")
    per_split = split_srocc(predictions)
    all_undefined = bool(per_split["srocc"].isna().all())
    srocc_all = float(per_split["srocc"].fillna(0.0).median())
    within_rows = within_content_srocc(predictions)
    within = {
        str(t): float(v) for t, v in within_rows.groupby("distortion")["srocc"].median().items()
    }
    problems = []
    if all_undefined:
        problems.append("constant predictions on every split (SROCC undefined, counted as 0)")
    elif not srocc_all >= rule.min_srocc:
        problems.append(f"median SROCC over all test images {srocc_all:.3f} < {rule.min_srocc}")
    wrong = {t: v for t, v in within.items() if not v > rule.min_within}
    if wrong:
        listed = ", ".join(f"{t} {v:+.2f}" for t, v in sorted(wrong.items()))
        problems.append(
            f"not ranked within contents (median within-(content, type) SROCC <= "
            f"{rule.min_within}): {listed}"
        )
    passed = not problems
    if passed:
        reason = (
            f"median SROCC {srocc_all:.3f} >= {rule.min_srocc}; every type ranked within "
            f"contents (lowest: {min(within, key=within.get)} {min(within.values()):+.2f})"
            if within
            else f"median SROCC {srocc_all:.3f} >= {rule.min_srocc}"
        )
    else:
        reason = "; ".join(problems)
    return GateResult(
        method=str(names[0]),
        n_splits=len(per_split),
        srocc_all=srocc_all,
        within=within,
        passed=passed,
        reason=reason,
        rule=rule,
        wall_s=wall_s,
    )


def gate_table(
    predictions: pd.DataFrame,
    min_srocc: float = DEFAULT_MIN_SROCC,
    min_within: float = DEFAULT_MIN_WITHIN,
    wall_s: dict[str, float] | None = None,
    methods: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The gate's verdict on every method of a prediction table, one row per method.

    Only the synthetic set's content-disjoint rows count: where ``dataset``/``protocol`` columns
    exist, other rows are dropped first, so notebook 06's whole comparison table can be passed
    (no retraining: the gate then judges the splits the methods were trained on there).

    Args:
        predictions: rows of :func:`~edgeiqa.experiments.runner.predict_splits`.
        min_srocc: see :class:`GateRule`.
        min_within: see :class:`GateRule`.
        wall_s: seconds per method, recorded in the ``wall_s`` column.
        methods: judge only these methods (None: every method present).
    Returns:
        Columns ``method, dataset, protocol, n_splits, srocc_all, within_<type>...,
        passed, reason, min_srocc, min_within, wall_s`` in the methods' order of appearance.
    Raises:
        ValueError: no synthetic content-disjoint row (of the chosen methods) is left.
    """
    keep = np.ones(len(predictions), dtype=bool)
    if "dataset" in predictions:
        keep &= (predictions["dataset"] == GATE_DATASET).to_numpy()
    if "protocol" in predictions:
        keep &= (predictions["protocol"] == GATE_PROTOCOL).to_numpy()
    if methods is not None:
        keep &= predictions["method"].isin(list(methods)).to_numpy()
    rows_kept = predictions[keep]
    if rows_kept.empty:
        raise ValueError(
            f"gate_table: no prediction on the {GATE_DATASET} set's {GATE_PROTOCOL!r} splits"
            + (f" for {list(methods)}" if methods is not None else "")
        )
    rule = GateRule(min_srocc, min_within)
    wall_s = wall_s or {}
    rows = [
        judge(part, rule, wall_s.get(name, float("nan"))).row()
        for name, part in rows_kept.groupby("method", sort=False)
    ]
    return pd.DataFrame(rows)


def gated(method: Method) -> bool:
    """Whether a method must pass the gate: it is trained here (kind ``trained`` and no
    published training data). Full-reference and opinion-unaware metrics and published models
    are checked against their reference implementations instead."""
    return method.kind == "trained" and not method.trained_on


def gate_status_table(
    predictions: pd.DataFrame,
    methods: Sequence[Method],
    min_srocc: float = DEFAULT_MIN_SROCC,
) -> pd.DataFrame:
    """The gate of every method, judged by :func:`gate_table` on predictions already made
    (notebook 06's, no extra training), with a status for the methods it does not judge.

    Returns:
        One row per method, in ``methods`` order: ``method, dataset, status`` (``passed``,
        ``failed``; ``not run``: no synthetic content-disjoint prediction of it; ``not gated``:
        see :func:`gated`), ``reason`` and the gate's figures (``n_splits, srocc_all,
        within_<type>``...).
    """
    names = [m.name for m in methods if gated(m)]
    try:
        judged = gate_table(predictions, min_srocc, methods=names).set_index("method")
    except ValueError:  # none of them has a synthetic content-disjoint prediction
        judged = pd.DataFrame()
    rows = []
    for method in methods:
        row: dict[str, object] = {"method": method.name, "dataset": GATE_DATASET}
        if not gated(method):
            why = (
                f"published model (trained on {', '.join(method.trained_on)} before this study)"
                if method.trained_on
                else f"{method.kind}: nothing trained on human scores here"
            )
            row.update(status="not gated", reason=why)
        elif method.name not in judged.index:
            row.update(
                status="not run", reason="no synthetic content-disjoint predictions in this run"
            )
        else:
            verdict = judged.loc[method.name].drop("wall_s").to_dict()  # time: not measured here
            passed = verdict.pop("passed")
            row.update(verdict)
            row["status"] = "passed" if passed else "failed"
        rows.append(row)
    table = pd.DataFrame(rows)
    first = ["method", "dataset", "status", "reason"]
    return table[first + [c for c in table.columns if c not in first]]


def run_gate(
    methods: Sequence[Method],
    profile: str = "quick",
    seed: int = 0,
    n_splits: int | None = None,
    min_srocc: float | None = None,
    min_within: float = DEFAULT_MIN_WITHIN,
    records: pd.DataFrame | None = None,
    progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fit and predict every method on the synthetic content-disjoint splits and judge it.

    Args:
        methods: the methods (each fitted on each split's training records, as in the study).
        profile: sizes the synthetic set and the splits (:func:`gate_records`,
            :func:`gate_splits`).
        seed: synthetic build and split seed (notebook 05's ``seed`` gives its splits).
        n_splits: number of content splits (None: the profile's ``n_repeats``); a method's own
            ``max_repeats`` is not applied here: the gate runs every method on every split.
        min_srocc: see :class:`GateRule` (None: the profile's ``gate_min_srocc``).
        min_within: see :class:`GateRule`.
        records: the synthetic records to use instead of :func:`gate_records` (for tests).
        progress: progress bars.
    Returns:
        ``(gate table, predictions)``: :func:`gate_table` with each method's wall time, and
        the prediction rows behind it.
    """
    records = gate_records(profile, seed, progress) if records is None else records
    splits = gate_splits(records, profile, seed, n_splits)
    frames, wall_s = [], {}
    for method in methods:
        limit, method.max_repeats = method.max_repeats, 0
        start = time.perf_counter()
        try:
            frames.append(predict_splits(records, splits, [method], progress=progress))
        finally:
            method.max_repeats = limit
        wall_s[method.name] = time.perf_counter() - start
    predictions = pd.concat(frames, ignore_index=True)
    if min_srocc is None:
        min_srocc = config.get_profile(profile).gate_min_srocc
    return gate_table(predictions, min_srocc, min_within, wall_s), predictions


def failed_methods(table: pd.DataFrame) -> set[str]:
    """Names of the methods that failed the gate (rows of :func:`gate_table` with
    ``passed`` false): a later step excludes them from significance claims."""
    return set(table.loc[~table["passed"].astype(bool), "method"].astype(str))


__all__ = [
    "DEFAULT_MIN_SROCC",
    "DEFAULT_MIN_WITHIN",
    "GateResult",
    "GateRule",
    "failed_methods",
    "gate_status_table",
    "gated",
    "gate_records",
    "gate_splits",
    "gate_table",
    "judge",
    "run_gate",
    "split_srocc",
    "within_content_srocc",
]

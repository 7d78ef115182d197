"""How well predicted quality agrees with human scores: the IQA field's standard metrics.

- SROCC and KROCC (rank order; :func:`scipy.stats.spearmanr`, :func:`scipy.stats.kendalltau`)
  measure prediction monotonicity and need no mapping.
- PLCC and RMSE (linearity and accuracy) are reported twice: raw, and after the monotonic
  5-parameter logistic mapping of the VQEG FR-TV Phase I report (2000) in the form used by
  H.R. Sheikh, M.F. Sabir, A.C. Bovik, "A statistical evaluation of recent full reference image
  quality assessment algorithms", IEEE TIP 15(11), 2006::

      f(x) = b1 * (0.5 - 1 / (1 + exp(b2 * (x - b3)))) + b4 * x + b5

  fitted by least squares (:func:`scipy.optimize.curve_fit`) on the test predictions themselves,
  as the field does, with bounds that keep it monotonic (increasing by default: predictions
  and scores are both quality); :func:`fit_logistic` documents the bounds, initial values and
  fallbacks.
- VQEG's reporting convention: the mapping is fitted **once** per method and test split, on all
  of its test predictions, and per-type PLCC and RMSE are computed on those mapped predictions.
  Fitting five parameters to each type's handful of points would make nearly every method read
  PLCC 1.000 per type, so :func:`correlation_table` never does that.
- :func:`correlation_table` gives all of them per distortion type and for ALL types pooled,
  :func:`bootstrap_ci` a percentile bootstrap interval (paired resampling of test images), and
  :func:`aggregate_repeats` the median and inter-quartile range over repeated splits.

Degenerate inputs never crash a table: a correlation of a constant vector is NaN (undefined),
and the logistic mapping falls back to a linear or constant fit that is flagged in its output.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

METRICS: tuple[str, ...] = ("srocc", "krocc", "plcc", "plcc_logistic", "rmse", "rmse_logistic")
"""Metric columns of :func:`correlation_table`, in this order."""

MIN_LOGISTIC_POINTS = 5
"""The 5-parameter logistic needs at least as many points as parameters; fewer fall back."""

LOGISTIC_MAXFEV = 2000
"""Function-evaluation budget of the bounded ``curve_fit`` (trust-region reflective solver);
typical fits converge in well under 100 evaluations, and a hopeless one stops within half a
second. Non-convergence falls back to a linear fit (flagged)."""

ArrayLike = Sequence[float] | np.ndarray | pd.Series


def _pair(y_true: ArrayLike, y_pred: ArrayLike, min_points: int = 2) -> tuple[np.ndarray, ...]:
    t = np.asarray(y_true, dtype=float).ravel()
    p = np.asarray(y_pred, dtype=float).ravel()
    if t.shape != p.shape:
        raise ValueError(f"y_true and y_pred differ in length: {t.size} vs {p.size}")
    if t.size < min_points:
        raise ValueError(f"need at least {min_points} points, got {t.size}")
    if not (np.all(np.isfinite(t)) and np.all(np.isfinite(p))):
        raise ValueError("y_true and y_pred must be finite (found NaN or inf)")
    return t, p


def _is_constant(x: np.ndarray) -> bool:
    return bool(np.ptp(x) == 0)


def srocc(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Spearman rank-order correlation; NaN when either side is constant.

    Args:
        y_true: human scores (any direction; only ranks matter).
        y_pred: predicted scores, same length, at least 2 points.
    Returns:
        The correlation in [-1, 1], or NaN where it is undefined.
    """
    t, p = _pair(y_true, y_pred)
    if _is_constant(t) or _is_constant(p):
        return float("nan")
    return float(stats.spearmanr(t, p).statistic)


def krocc(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Kendall rank-order correlation (tau-b, which handles ties); NaN when a side is constant.

    Args:
        y_true: human scores.
        y_pred: predicted scores, same length, at least 2 points.
    Returns:
        Kendall's tau-b in [-1, 1], or NaN where it is undefined.
    """
    t, p = _pair(y_true, y_pred)
    if _is_constant(t) or _is_constant(p):
        return float("nan")
    return float(stats.kendalltau(t, p).statistic)


def plcc(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Pearson linear correlation of the raw values; NaN when either side is constant.

    Args:
        y_true: human scores.
        y_pred: predicted scores (or mapped predictions), same length, at least 2 points.
    Returns:
        The correlation in [-1, 1], or NaN where it is undefined.
    """
    t, p = _pair(y_true, y_pred)
    if _is_constant(t) or _is_constant(p):
        return float("nan")
    return float(stats.pearsonr(t, p).statistic)


def rmse(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Root mean squared error, in the units of ``y_true``.

    Args:
        y_true: human scores.
        y_pred: predictions on the same scale, same length, at least 1 point.
    Returns:
        ``sqrt(mean((y_true - y_pred)**2))``.
    """
    t, p = _pair(y_true, y_pred, min_points=1)
    return float(np.sqrt(np.mean((t - p) ** 2)))


def logistic5(x: np.ndarray, b1: float, b2: float, b3: float, b4: float, b5: float) -> np.ndarray:
    """The VQEG / Sheikh et al. (2006) 5-parameter logistic with a linear term."""
    # exp argument clipped so that extreme slopes during the search do not overflow
    return b1 * (0.5 - 1.0 / (1.0 + np.exp(np.clip(b2 * (x - b3), -50, 50)))) + b4 * x + b5


def _logistic5_jacobian(
    x: np.ndarray, b1: float, b2: float, b3: float, b4: float, b5: float
) -> np.ndarray:
    # analytic derivatives: without them the bounded solver spends most of its budget on
    # finite differences, and hopeless fits took ~0.6 s each
    e = np.exp(np.clip(b2 * (x - b3), -50, 50))
    s = 1.0 / (1.0 + e)
    ds = e * s * s  # d/du of -1/(1+e^u)
    return np.stack([0.5 - s, b1 * ds * (x - b3), -b1 * ds * b2, x, np.ones_like(x)], axis=1)


@dataclass(frozen=True)
class LogisticFit:
    """A fitted mapping from predictions to the human-score scale; call it on predictions.

    Attributes:
        method: ``"logistic5"`` (the 5-parameter fit converged), ``"linear"`` (fallback: fewer
            than :data:`MIN_LOGISTIC_POINTS` points, or ``curve_fit`` did not converge) or
            ``"constant"`` (fallback: the predictions are constant, so the best mapping is the
            mean human score).
        params: ``(b1..b5)`` for logistic5 on standardised predictions, ``(slope, intercept)``
            for linear, ``(mean,)`` for constant.
        x_mean, x_std: standardisation of the predictions used by the fit.
        reason: why a fallback was used ("" for logistic5).
    """

    method: str
    params: tuple[float, ...]
    x_mean: float
    x_std: float
    reason: str = ""

    @property
    def is_fallback(self) -> bool:
        return self.method != "logistic5"

    def __call__(self, y_pred: ArrayLike) -> np.ndarray:
        x = np.asarray(y_pred, dtype=float)
        if self.method == "constant":
            return np.full_like(x, self.params[0], dtype=float)
        z = (x - self.x_mean) / self.x_std
        if self.method == "linear":
            return self.params[0] * z + self.params[1]
        return logistic5(z, *self.params)


def fit_logistic(
    y_pred: ArrayLike,
    y_true: ArrayLike,
    increasing: bool | None = None,
    maxfev: int = LOGISTIC_MAXFEV,
) -> LogisticFit:
    """Fit the monotonic 5-parameter logistic mapping predictions onto human scores.

    VQEG asks for a *monotonic* mapping, but the 5-parameter form with its free linear term can
    bend back on itself (a cubic-like wiggle) when predictions are poor. So the fit is bounded
    to one direction: for an increasing mapping ``b1, b2, b4 >= 0`` (then
    ``f'(x) = b1 * b2 * s(x) * (1 - s(x)) + b4 >= 0`` with ``s`` the sigmoid), for a decreasing
    one ``b1 >= 0, b2 <= 0, b4 <= 0``. ``curve_fit`` therefore uses its bounded trust-region
    reflective solver.

    The predictions are standardised first (z = (x - mean) / std) so that the initial values
    do not depend on the prediction scale: ``b1 = max(y) - min(y)`` (the logistic spans the
    score range), ``b2 = +1`` or ``-1`` (the direction; a slope of about one std per std),
    ``b3 = 0`` (centred on the mean prediction), ``b4 = 0`` (no linear term), ``b5 = mean(y)``.

    Fallbacks, never silent (``method`` and ``reason`` say which): constant predictions give a
    constant mapping; fewer than 5 points, or no convergence within ``maxfev`` evaluations, give
    a least-squares line, itself replaced by the constant mean when its slope runs against the
    required direction.

    Args:
        y_pred: predictions (any scale), at least 1 point.
        y_true: human scores, same length.
        increasing: direction of the mapping; None takes the sign of the Pearson correlation
            (e.g. decreasing for DMOS against a quality prediction).
        maxfev: function-evaluation budget.
    Returns:
        A callable :class:`LogisticFit`.
    """
    t, p = _pair(y_true, y_pred, min_points=1)
    if _is_constant(p):
        return LogisticFit("constant", (float(t.mean()),), float(p.mean()), 1.0, "constant input")
    mean, std = float(p.mean()), float(p.std())
    z = (p - mean) / std
    if increasing is None:
        increasing = _is_constant(t) or bool(np.corrcoef(z, t)[0, 1] >= 0)
    sign = 1.0 if increasing else -1.0
    if t.size < MIN_LOGISTIC_POINTS:
        return _linear_fit(z, t, mean, std, sign, f"{t.size} < {MIN_LOGISTIC_POINTS} points")
    p0 = [float(np.ptp(t)) or 1.0, sign, 0.0, 0.0, float(t.mean())]
    inf = np.inf
    if increasing:
        bounds = ([0, 0, -inf, 0, -inf], [inf, inf, inf, inf, inf])
    else:
        bounds = ([0, -inf, -inf, -inf, -inf], [inf, 0, inf, 0, inf])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optimize.OptimizeWarning)
            params, _ = optimize.curve_fit(
                logistic5,
                z,
                t,
                p0=p0,
                bounds=bounds,
                method="trf",
                jac=_logistic5_jacobian,
                maxfev=maxfev,
            )
    except (RuntimeError, ValueError) as exc:
        reason = f"logistic fit failed: {str(exc).splitlines()[0]}"
        return _linear_fit(z, t, mean, std, sign, reason)
    if not np.all(np.isfinite(params)):
        return _linear_fit(z, t, mean, std, sign, "logistic fit gave non-finite parameters")
    return LogisticFit("logistic5", tuple(float(v) for v in params), mean, std)


def _linear_fit(
    z: np.ndarray, t: np.ndarray, mean: float, std: float, sign: float, reason: str
) -> LogisticFit:
    if z.size < 2:
        return LogisticFit("constant", (float(t.mean()),), mean, std, reason)
    slope, intercept = np.polyfit(z, t, 1)
    if slope * sign < 0:
        reason += "; line against the mapping's direction"
        return LogisticFit("constant", (float(t.mean()),), mean, std, reason)
    return LogisticFit("linear", (float(slope), float(intercept)), mean, std, reason)


def all_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    increasing: bool | None = True,
    mapping: LogisticFit | None = None,
) -> dict[str, float | str | int]:
    """Every metric of :data:`METRICS` for one set of predictions, plus the mapping used.

    Args:
        y_true: human scores.
        y_pred: predictions on the same scale (for the raw RMSE/PLCC), same length.
        increasing: direction of the logistic mapping (:func:`fit_logistic`). True (default):
            predictions and scores both grow with quality, so an anti-correlated model is not
            rescued by a decreasing mapping; None: direction from the data.
        mapping: a mapping already fitted on a larger set (VQEG: all test predictions of the
            split) to apply here; None fits one on these points.
    Returns:
        Dict with ``n``, each metric of :data:`METRICS` (NaN where undefined, e.g. fewer than 2
        points or a constant side) and ``logistic_fit`` (the :class:`LogisticFit` method).
    """
    t, p = _pair(y_true, y_pred, min_points=1)
    out: dict[str, float | str | int] = {"n": int(t.size)}
    if t.size < 2:
        out.update({m: float("nan") for m in METRICS})
        out["rmse"] = rmse(t, p)
        out["logistic_fit"] = "none"
        return out
    if mapping is None:
        mapping = fit_logistic(p, t, increasing=increasing)
    mapped = mapping(p)
    out.update(
        srocc=srocc(t, p),
        krocc=krocc(t, p),
        plcc=plcc(t, p),
        plcc_logistic=plcc(t, mapped),
        rmse=rmse(t, p),
        rmse_logistic=rmse(t, mapped),
        logistic_fit=mapping.method,
    )
    return out


def srocc_rows(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """SROCC of each row pair of two (B, n) arrays at once (ranks, then Pearson of ranks)."""
    rt = stats.rankdata(t, axis=1)
    rp = stats.rankdata(p, axis=1)
    rt -= rt.mean(axis=1, keepdims=True)
    rp -= rp.mean(axis=1, keepdims=True)
    denom = np.sqrt((rt**2).sum(axis=1) * (rp**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rt * rp).sum(axis=1) / denom, np.nan)


def bootstrap_ci(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    stat: Callable[[np.ndarray, np.ndarray], float] = srocc,
    n_boot: int = 1000,
    seed: int = 0,
    level: float = 0.95,
) -> tuple[float, float]:
    """Percentile bootstrap interval of ``stat`` over test images (pairs resampled together).

    Resamples where the statistic is undefined (e.g. all drawn images have the same score) are
    left out of the percentiles; if none is defined the interval is ``(nan, nan)``. SROCC uses a
    vectorised path that gives the same values as :func:`srocc`.

    Args:
        y_true: human scores of one test split (or one distortion of it).
        y_pred: predictions, same length, at least 2 points.
        stat: statistic ``stat(y_true, y_pred) -> float``.
        n_boot: number of bootstrap resamples.
        seed: seed of the resampling.
        level: coverage of the interval, e.g. 0.95.
    Returns:
        ``(low, high)`` percentiles of the bootstrap distribution.
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be positive, got {n_boot}")
    t, p = _pair(y_true, y_pred)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, t.size, size=(n_boot, t.size))
    if stat is srocc:
        values = srocc_rows(t[idx], p[idx])
    else:
        values = np.array([stat(t[i], p[i]) for i in idx], dtype=float)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return float("nan"), float("nan")
    alpha = (1 - level) / 2
    low, high = np.quantile(values, [alpha, 1 - alpha])
    return float(low), float(high)


def correlation_table(
    df: pd.DataFrame,
    true_col: str = "quality",
    pred_col: str = "predicted",
    by: str = "distortion",
    n_boot: int = 0,
    seed: int = 0,
    level: float = 0.95,
    all_label: str = "ALL",
    increasing: bool | None = True,
) -> pd.DataFrame:
    """Metrics per value of ``by`` (e.g. each distortion type) and for all rows pooled.

    The logistic mapping is fitted once, on all rows (one method's predictions on one test
    split), and applied to every group: per-type ``plcc_logistic``/``rmse_logistic`` are on
    those mapped predictions (VQEG's convention; see the module docstring).

    Args:
        df: one row per test image with columns ``true_col``, ``pred_col`` and ``by``.
        true_col: human scores column.
        pred_col: predictions column (same scale as ``true_col``).
        by: grouping column; its groups come in sorted order, then ``all_label``.
        n_boot: bootstrap resamples for the SROCC interval (0: no interval columns).
        seed: bootstrap seed.
        level: interval coverage.
        all_label: name of the pooled row.
        increasing: direction of the logistic mapping (see :func:`all_metrics`).
    Returns:
        DataFrame with columns ``by, n, srocc, krocc, plcc, plcc_logistic, rmse, rmse_logistic,
        logistic_fit`` (+ ``srocc_ci_low, srocc_ci_high`` when ``n_boot > 0``).
    """
    missing = [c for c in (true_col, pred_col, by) if c not in df]
    if missing:
        raise ValueError(f"correlation_table: missing column(s) {missing}")
    if df.empty:
        raise ValueError("correlation_table: no rows")
    groups = [(str(k), g) for k, g in df.groupby(by, sort=True)] + [(all_label, df)]
    mapping = None
    if len(df) >= 2:
        t, p = _pair(df[true_col], df[pred_col], min_points=1)
        mapping = fit_logistic(p, t, increasing=increasing)
    rows = []
    for name, group in groups:
        row: dict[str, object] = {by: name}
        row.update(all_metrics(group[true_col], group[pred_col], increasing, mapping))
        if n_boot:
            if len(group) >= 2:
                low, high = bootstrap_ci(
                    group[true_col], group[pred_col], srocc, n_boot, seed, level
                )
            else:
                low, high = float("nan"), float("nan")
            row.update(srocc_ci_low=low, srocc_ci_high=high)
        rows.append(row)
    return pd.DataFrame(rows)


def aggregate_repeats(
    table: pd.DataFrame,
    group_cols: Sequence[str],
    value_cols: Sequence[str] = METRICS,
) -> pd.DataFrame:
    """Median and inter-quartile range of each value column over repeats (splits/folds).

    NaN values (metrics undefined on a split) are ignored; ``n_splits`` counts the rows of each
    group and ``n_defined`` those where SROCC (or the first value column) is defined.

    Args:
        table: one row per (group, repeat).
        group_cols: columns identifying a group, e.g. dataset, protocol, method, distortion.
        value_cols: numeric columns to summarise.
    Returns:
        One row per group: ``<col>_median, <col>_q25, <col>_q75`` for each value column.
    """
    missing = [c for c in [*group_cols, *value_cols] if c not in table]
    if missing:
        raise ValueError(f"aggregate_repeats: missing column(s) {missing}")
    grouped = table.groupby(list(group_cols), sort=False, dropna=False)
    out = grouped.size().rename("n_splits").to_frame()
    out["n_defined"] = grouped[value_cols[0]].count()
    for col in value_cols:
        out[f"{col}_median"] = grouped[col].median()
        out[f"{col}_q25"] = grouped[col].quantile(0.25)
        out[f"{col}_q75"] = grouped[col].quantile(0.75)
    return out.reset_index()

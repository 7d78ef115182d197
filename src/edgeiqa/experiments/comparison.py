"""Baselines computed here, on the same test images as the edge-map CNN, and the "deep fake
score" paper's comparison tables rebuilt (its Table 3: SROCC/KROCC/PLCC per LIVE distortion).

The paper compares its CNN with numbers copied from other papers (DeepQA, BLIINDS, CURVELET, M1,
SSIM, BRISQUE, OG-IQA), measured on other splits. Here every baseline is run in the same session
on exactly the test images of each split of notebook 05's predictions
(``<results>/tables/regression_predictions_<dataset>.csv``): the splits are recomputed with
:mod:`edgeiqa.splits` (same seed, test fraction and repeats) and checked image by image against
that file, so "same split" is verified, not assumed.

Baselines (:data:`BASELINES`):

- full-reference PSNR, SSIM, MS-SSIM (:mod:`edgeiqa.baselines.fr`): no training;
- BRISQUE features + RBF SVR retrained on each training split, ``C``/``gamma`` by grouped CV
  inside it (:mod:`edgeiqa.baselines.brisque`);
- the published BRISQUE model (:mod:`edgeiqa.baselines.brisque_published`), not retrained; it
  was trained on all of LIVE, so its rows on LIVE images carry ``trained_on_test = True``;
- NIQE (:mod:`edgeiqa.baselines.niqe`), opinion-unaware, its pristine model fitted per split on
  the reference images of the contents that have no image in the test split, plus the
  references of the run's other datasets (:func:`niqe_pristine_paths`); a split that leaves no
  such image (image-level split of a single dataset) gets no NIQE rows;
- CNNIQA (:mod:`edgeiqa.cnniqa`) retrained per split (on the first ``cnniqa_max_repeats``
  repeats of each protocol only: the CPU budget; the tables give each row's number of splits).

Scores that are not on the 0-100 quality scale (PSNR, SSIM, MS-SSIM, published BRISQUE, NIQE)
are put on it by a least-squares line fitted on the TRAINING split's images only (monotone, so
ranks are kept; ``raw_prediction`` keeps the score itself). SROCC/KROCC do not depend on that
mapping; PLCC in the tables is ``plcc_logistic`` (the 5-parameter logistic fitted on the test
predictions, Sheikh et al. 2006, as the field reports it), which an affine pre-map leaves
unchanged.

Statistics: :func:`paired_bootstrap` resamples test images (the same draw for both methods) in
every split and averages the SROCC difference over splits; "significantly better" means the 95%
interval of that mean difference excludes 0. It measures uncertainty from the finite test sets
given the trained models, not from retraining.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats
from tqdm.auto import tqdm

from edgeiqa import metrics as metrics_lib
from edgeiqa import splits as splits_lib
from edgeiqa.baselines import brisque, brisque_published, fr, niqe
from edgeiqa.cnniqa import CNNIQAConfig, fit_cnniqa, predict_cnniqa
from edgeiqa.data.schema import DISTORTION_LABELS
from edgeiqa.errors import DataError
from edgeiqa.experiments.classification import PAPER_REPORTED
from edgeiqa.experiments.regression import PAPER_TABLE3, PREDICTION_COLUMNS
from edgeiqa.reporting import dataset_label, save_table

EXTRA_COLUMNS: list[str] = ["raw_prediction", "method_kind", "trained_on_test", "mapping"]

TABLE3_COLUMNS: list[str] = ["BLUR", "JPEG", "WN", "JP2K", "FF", "ALL"]
TABLE3_METRICS: dict[str, str] = {"SROCC": "srocc", "KROCC": "krocc", "PLCC": "plcc_logistic"}
PSNR_CAP_DB = 100.0  # an image identical to its reference has infinite PSNR; ranked as best


@dataclass(frozen=True)
class Baseline:
    """A baseline method: ``kind`` FR (needs the reference) or NR; how it is trained."""

    name: str
    kind: str
    training: str


BASELINES: dict[str, Baseline] = {
    b.name: b
    for b in (
        Baseline("PSNR", "FR", "none (linear map to 0-100 fitted on the training split)"),
        Baseline("SSIM", "FR", "none (linear map to 0-100 fitted on the training split)"),
        Baseline("MS-SSIM", "FR", "none (linear map to 0-100 fitted on the training split)"),
        Baseline("BRISQUE (SVR, retrained)", "NR", "SVR on the training split, grouped CV"),
        Baseline(
            "BRISQUE (published model)",
            "NR",
            "pre-trained by its authors on all of LIVE (linear map on the training split)",
        ),
        Baseline("NIQE", "NR", "opinion-unaware: pristine references without test content"),
        Baseline("CNNIQA (retrained)", "NR", "CNN trained on the training split"),
    )
}
FR_COLUMNS = {"PSNR": "psnr", "SSIM": "ssim", "MS-SSIM": "ms_ssim"}


@dataclass
class BaselineSettings:
    """What the baselines run with.

    Attributes:
        methods: names of :data:`BASELINES` to run.
        cnniqa: CNNIQA training settings.
        cnniqa_max_repeats: CNNIQA is retrained on repeats ``0 .. cnniqa_max_repeats - 1`` of
            each protocol only (0: all).
        niqe_patch_size: NIQE patch side (None: :func:`edgeiqa.baselines.niqe.choose_patch_size`
            over all images of the run).
        svr_param_grid: BRISQUE SVR grid (None: the module default).
        progress: progress bars.
    """

    methods: Sequence[str] = tuple(BASELINES)
    cnniqa: CNNIQAConfig = field(default_factory=CNNIQAConfig)
    cnniqa_max_repeats: int = 0
    niqe_patch_size: int | None = None
    svr_param_grid: dict | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        unknown = [m for m in self.methods if m not in BASELINES]
        if unknown:
            raise ValueError(f"unknown baseline(s) {unknown}; choose from {list(BASELINES)}")


# ----------------------------------------------------------------------------- hand-off


def predictions_path(results: str | os.PathLike, dataset: str) -> Path:
    """Where notebook 05 writes the regression predictions of ``dataset``."""
    return Path(results) / "tables" / f"regression_predictions_{dataset}.csv"


def load_regression_predictions(results: str | os.PathLike, dataset: str) -> pd.DataFrame:
    """Notebook 05's prediction table of ``dataset``; a missing or malformed file is a one-line
    :class:`~edgeiqa.errors.DataError` that tells the reader to run notebook 05 first."""
    path = predictions_path(results, dataset)
    if not path.is_file():
        raise DataError(
            f"{path}: missing; run notebook 05_regression first (same results folder, profile "
            "and seed) to produce the CNN's regression predictions"
        )
    table = pd.read_csv(path)
    missing = [c for c in PREDICTION_COLUMNS if c not in table]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; rerun notebook 05_regression")
    if table.empty:
        raise DataError(f"{path}: no rows; rerun notebook 05_regression")
    table["content"] = table["content"].astype(str)
    return table


def split_indices_like(
    records: pd.DataFrame,
    predictions: pd.DataFrame,
    seed: int,
    test_fraction: float,
) -> dict[tuple[str, int], tuple[np.ndarray, np.ndarray]]:
    """The (train, test) indices of every (protocol, repeat) in ``predictions``, recomputed with
    :mod:`edgeiqa.splits` and checked against the test images the predictions list.

    ``content``/``image`` come from :func:`edgeiqa.splits.split_indices` (``seed``,
    ``test_fraction``), ``loco`` folds from :func:`edgeiqa.splits.leave_one_content_out` in
    sorted content order. Other protocols (e.g. fine-tuning variants) are not re-splittable and
    are skipped.

    Raises:
        DataError: a listed image is not in ``records``, or a split's test images differ from
            the recomputed ones (notebook 05 was run with another seed/test fraction/profile).
    """
    dataset = records["dataset"].iloc[0]
    unknown = set(predictions["image"]) - set(records["image"])
    if unknown:
        raise DataError(
            f"regression_predictions_{dataset}.csv: image {sorted(unknown)[0]} is not in the "
            f"{dataset} records; run notebooks 05 and 06 with the same profile and seed"
        )
    loco = list(splits_lib.leave_one_content_out(records))
    out = {}
    keys = predictions[["protocol", "repeat"]].drop_duplicates().itertuples(index=False)
    for protocol, repeat in sorted(keys):
        repeat = int(repeat)
        if protocol in splits_lib.PROTOCOLS:
            train, test = splits_lib.split_indices(
                records, protocol, repeat, seed=seed, test_fraction=test_fraction
            )
        elif protocol == "loco" and repeat < len(loco):
            _, train, test = loco[repeat]
        else:
            continue
        listed = set(
            predictions.loc[
                (predictions["protocol"] == protocol) & (predictions["repeat"] == repeat), "image"
            ]
        )
        if listed != set(records["image"].iloc[test]):
            raise DataError(
                f"regression_predictions_{dataset}.csv: test images of {protocol} repeat {repeat} "
                f"differ from edgeiqa.splits with seed={seed}, test_fraction={test_fraction}; "
                "run notebooks 05 and 06 with the same profile and seed"
            )
        out[(protocol, repeat)] = (train, test)
    return out


# ----------------------------------------------------------------------------- baselines


@dataclass
class ScoreCache:
    """Per-image scores that do not depend on the split, computed once per dataset."""

    fr: pd.DataFrame | None = None
    brisque_features: np.ndarray | None = None
    published: np.ndarray | None = None


def precompute_scores(records: pd.DataFrame, settings: BaselineSettings) -> ScoreCache:
    """FR metrics, BRISQUE features and published-BRISQUE scores of every record (cached on
    disk per image, so repeated runs are fast)."""
    cache = ScoreCache()
    methods = set(settings.methods)
    if methods & set(FR_COLUMNS):
        table = fr.fr_table(records, progress=settings.progress)
        cache.fr = table.replace(np.inf, PSNR_CAP_DB)
    if "BRISQUE (SVR, retrained)" in methods:
        cache.brisque_features = brisque.feature_matrix(records, progress=settings.progress)
    if "BRISQUE (published model)" in methods:
        cache.published = brisque_published.published_scores(records, progress=settings.progress)
    return cache


def niqe_pristine_paths(
    records: pd.DataFrame, test: np.ndarray, other_references: Iterable[str] = ()
) -> list[str]:
    """Pristine images NIQE may be fitted on for one split: the references of ``records``'
    contents with no image in the test split, plus ``other_references`` (other datasets')."""
    test_contents = set(records["content"].iloc[test])
    own = records.loc[~records["content"].isin(test_contents), "ref_path"]
    paths = [p for p in own.astype(str) if p]
    return sorted(set(paths) | {str(p) for p in other_references if str(p)})


def _mapped(
    raw: np.ndarray, train: np.ndarray, test: np.ndarray, quality: np.ndarray
) -> tuple[np.ndarray, str]:
    """Raw scores of the test images put on the 0-100 scale by a least-squares line fitted on
    the training images (a strictly monotone map: ranks, hence SROCC/KROCC, are unchanged, and
    the test-set logistic behind ``plcc_logistic`` standardises its input, so it is unaffected)."""
    x, y = raw[train], quality[train]
    if len(x) < 2 or np.ptp(x) == 0:
        return np.full(len(test), float(np.mean(y))), "constant (training scores constant)"
    slope, intercept = np.polyfit(x, y, 1)
    return slope * raw[test] + intercept, "linear (fitted on the training split)"


def _rows(
    records: pd.DataFrame,
    test: np.ndarray,
    protocol: str,
    repeat: int,
    method: str,
    predicted: np.ndarray,
    raw: np.ndarray,
    trained_on_test: np.ndarray | bool,
    mapping: str,
) -> pd.DataFrame:
    part = records.iloc[test][["dataset", "image", "content", "distortion", "quality"]].copy()
    part.insert(1, "protocol", protocol)
    part.insert(2, "repeat", repeat)
    part.insert(3, "method", method)
    part["predicted"] = np.asarray(predicted, dtype=float)
    part["raw_prediction"] = np.asarray(raw, dtype=float)
    part["method_kind"] = BASELINES[method].kind
    part["trained_on_test"] = trained_on_test
    part["mapping"] = mapping
    return part[PREDICTION_COLUMNS + EXTRA_COLUMNS].reset_index(drop=True)


def baseline_split_predictions(
    records: pd.DataFrame,
    train: np.ndarray,
    test: np.ndarray,
    protocol: str,
    repeat: int,
    settings: BaselineSettings,
    scores: ScoreCache,
    other_references: Sequence[str] = (),
    niqe_patch_size: int = niqe.DEFAULT_PATCH_SIZE,
) -> pd.DataFrame:
    """Every baseline's predictions for the test images of one split.

    Args:
        records: one dataset's record table.
        train, test: positional indices of the split.
        protocol, repeat: the split's labels.
        settings: which baselines and how.
        scores: :func:`precompute_scores` of ``records``.
        other_references: pristine images of other datasets NIQE may use.
        niqe_patch_size: NIQE patch side.
    Returns:
        Rows in :data:`PREDICTION_COLUMNS` + :data:`EXTRA_COLUMNS`.
    """
    quality = records["quality"].to_numpy(dtype=float)
    frames = []
    for method in settings.methods:
        if method in FR_COLUMNS:
            raw = scores.fr[FR_COLUMNS[method]].to_numpy(dtype=float)
            predicted, mapping = _mapped(raw, train, test, quality)
            frames.append(
                _rows(records, test, protocol, repeat, method, predicted, raw[test], False, mapping)
            )
        elif method == "BRISQUE (SVR, retrained)":
            x = scores.brisque_features
            search = brisque.fit_svr(
                x[train], quality[train], records["content"].iloc[train], settings.svr_param_grid
            )
            predicted = search.predict(x[test])
            frames.append(
                _rows(records, test, protocol, repeat, method, predicted, predicted, False, "none")
            )
        elif method == "BRISQUE (published model)":
            raw = scores.published
            predicted, mapping = _mapped(raw, train, test, quality)
            flag = brisque_published.overlaps_training_data(records.iloc[test])
            frames.append(
                _rows(records, test, protocol, repeat, method, predicted, raw[test], flag, mapping)
            )
        elif method == "NIQE":
            pristine = niqe_pristine_paths(records, test, other_references)
            if not pristine:
                continue  # every content is tested and no other dataset: no pristine image left
            model = niqe.fit_niqe(pristine, niqe_patch_size)
            raw = niqe.niqe_scores(model, records["image_path"].tolist())
            predicted, mapping = _mapped(raw, train, test, quality)
            frames.append(
                _rows(records, test, protocol, repeat, method, predicted, raw[test], False, mapping)
            )
        elif method == "CNNIQA (retrained)":
            if settings.cnniqa_max_repeats and repeat >= settings.cnniqa_max_repeats:
                continue
            config = replace(settings.cnniqa, seed=settings.cnniqa.seed + repeat)
            result = fit_cnniqa(records.iloc[train], config)
            predicted = predict_cnniqa(result.model, records["image_path"].iloc[test].tolist())
            frames.append(
                _rows(records, test, protocol, repeat, method, predicted, predicted, False, "none")
            )
    if not frames:
        return pd.DataFrame(columns=PREDICTION_COLUMNS + EXTRA_COLUMNS)
    return pd.concat(frames, ignore_index=True)


def run_baselines(
    records: pd.DataFrame,
    ours: pd.DataFrame,
    seed: int,
    test_fraction: float,
    settings: BaselineSettings,
    other_references: Sequence[str] = (),
) -> pd.DataFrame:
    """Baseline predictions on every re-splittable (protocol, repeat) of ``ours``.

    Args:
        records: the dataset's record table (as notebook 05 loaded it).
        ours: notebook 05's predictions for that dataset.
        seed, test_fraction: the split settings notebook 05 used (checked).
        settings: baseline settings.
        other_references: pristine images of other datasets (for NIQE).
    Returns:
        The ``comparison_predictions_<dataset>`` table.
    """
    splits = split_indices_like(records, ours, seed, test_fraction)
    if not splits:
        raise DataError(
            f"regression_predictions_{records['dataset'].iloc[0]}.csv has no content/image/loco "
            "split to compare on"
        )
    scores = precompute_scores(records, settings)
    patch = settings.niqe_patch_size
    if "NIQE" in settings.methods and patch is None:
        patch = niqe.choose_patch_size(records)
    frames = []
    for (protocol, repeat), (train, test) in tqdm(
        splits.items(),
        desc=f"baselines {records['dataset'].iloc[0]}",
        disable=not settings.progress,
    ):
        frames.append(
            baseline_split_predictions(
                records,
                train,
                test,
                protocol,
                repeat,
                settings,
                scores,
                other_references,
                patch or niqe.DEFAULT_PATCH_SIZE,
            )
        )
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- tables


def per_split_metrics(predictions: pd.DataFrame) -> pd.DataFrame:
    """Metrics of every (dataset, protocol, method, repeat) per distortion and ALL.

    Returns:
        Columns ``dataset, protocol, method, repeat, distortion, n`` and the metrics of
        :data:`edgeiqa.metrics.METRICS` (``distortion`` keeps the normalised names + ``ALL``).
    """
    keys = ["dataset", "protocol", "method", "repeat"]
    frames = []
    for key, part in predictions.groupby(keys, sort=False):
        table = metrics_lib.correlation_table(part)
        for i, col in enumerate(keys):
            table.insert(i, col, key[i])
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def summarise(per_split: pd.DataFrame) -> pd.DataFrame:
    """Median and inter-quartile range over splits per (dataset, protocol, method, distortion),
    with the paper's column label (``BLUR``...``ALL``) and a ``source`` string saying what the
    numbers are ("computed here on <dataset>, <protocol>, median of N splits [IQR]")."""
    keys = ["dataset", "protocol", "method", "distortion"]
    out = metrics_lib.aggregate_repeats(per_split, keys, tuple(TABLE3_METRICS.values()))
    out["column"] = out["distortion"].map(lambda d: DISTORTION_LABELS.get(d, d))
    out["source"] = [
        f"computed here on {dataset_label(d)}, {p} protocol, median of {n} splits [IQR]"
        for d, p, n in zip(out["dataset"], out["protocol"], out["n_splits"], strict=True)
    ]
    return out


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
        blocks[label] = wide.reindex(columns=TABLE3_COLUMNS).fillna("")
    out = pd.concat(blocks, axis=1)
    n_splits = part.groupby("method")["n_splits"].max()
    out.insert(0, ("", "splits"), n_splits.reindex(out.index))
    out = out.reindex(list(dict.fromkeys(part["method"])))
    return out.rename(index=lambda m: display_name(m, dataset))


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


def display_name(method: str, dataset: str) -> str:
    """Method name for tables and legends; flags the published BRISQUE model on the data it was
    trained on (all of LIVE), whose scores there are not a test result."""
    if method == "BRISQUE (published model)" and dataset in brisque_published.TRAINED_ON:
        return f"{method} [trained on these test images]"
    return method


def table3_long(summary: pd.DataFrame) -> pd.DataFrame:
    """Numeric Table 3 (computed here) in long form for the CSV: ``dataset, source, protocol,
    method, metric, column, median, q25, q75, n_splits``."""
    rows = []
    for label, metric in TABLE3_METRICS.items():
        part = summary[
            [
                "dataset",
                "source",
                "protocol",
                "method",
                "column",
                "n_splits",
                f"{metric}_median",
                f"{metric}_q25",
                f"{metric}_q75",
            ]
        ].copy()
        part.columns = [
            "dataset",
            "source",
            "protocol",
            "method",
            "column",
            "n_splits",
            "median",
            "q25",
            "q75",
        ]
        part.insert(4, "metric", label)
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


REPORTED: pd.DataFrame = pd.DataFrame(
    [
        {"method": "paper's CNN (regression)", "metric": "SROCC", "column": col, "value": v}
        for col, v in zip(
            PAPER_TABLE3["distortion"].map(lambda d: DISTORTION_LABELS.get(d, d)),
            PAPER_TABLE3["srocc"],
            strict=True,
        )
    ]
).assign(
    dataset="live",
    source="as reported by the paper (Table 3; LIVE, one random 80/20 split)",
    checked=True,
    note="the paper's FF value and its KROCC/PLCC are not given to us",
)
"""Quoted numbers, kept apart from anything computed here. Only the paper's own SROCC is
quoted: the paper's competitor rows (DeepQA, BLIINDS, CURVELET, M1, SSIM, BRISQUE, OG-IQA) and
the original papers' LIVE tables could not be checked against a source in this study, so no
competitor number is quoted (see :data:`UNQUOTED`)."""

UNQUOTED: pd.DataFrame = pd.DataFrame(
    {
        "method": ["DeepQA", "BLIINDS", "CURVELET", "M1", "SSIM", "BRISQUE", "OG-IQA"],
        "reason": "listed in the paper's Table 3; value not quoted: no source could be checked",
    }
)


def reported_table() -> pd.DataFrame:
    """Quoted numbers in the Table 3 layout: rows = methods, columns = (metric, BLUR..ALL),
    plus one row per competitor the paper lists but whose numbers we could not check."""
    wide = REPORTED.pivot_table(
        index="method", columns="column", values="value", aggfunc="first"
    ).reindex(columns=TABLE3_COLUMNS)
    wide = wide.map(lambda v: "" if pd.isna(v) else f"{v:.3f}")
    wide.columns = pd.MultiIndex.from_product([["SROCC"], wide.columns])
    wide.insert(0, ("", "source"), REPORTED.groupby("method")["source"].first())
    unchecked = pd.DataFrame(
        {("", "source"): "listed by the paper; value not quoted (no source could be checked)"},
        index=UNQUOTED["method"],
    )
    return pd.concat([wide, unchecked]).fillna("")


# ----------------------------------------------------------------------------- statistics


def _rank_rows(x: np.ndarray) -> np.ndarray:
    ranks = stats.rankdata(x, axis=1)
    return ranks - ranks.mean(axis=1, keepdims=True)


def _srocc_rows(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    rt, rp = _rank_rows(truth), _rank_rows(pred)
    denom = np.sqrt((rt**2).sum(axis=1) * (rp**2).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, (rt * rp).sum(axis=1) / denom, np.nan)


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
                point.append((_srocc_rows(t[None], po[None])[0], _srocc_rows(t[None], pb[None])[0]))
                idx = rng.integers(0, len(t), size=(n_boot, len(t)))
                boots.append(_srocc_rows(t[idx], po[idx]) - _srocc_rows(t[idx], pb[idx]))
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
                    warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN draws
                    mean_diff = np.nanmean(np.vstack(boots), axis=0)
                mean_diff = mean_diff[np.isfinite(mean_diff)]
                srocc_ours, srocc_base = np.nanmean(pts[:, 0]), np.nanmean(pts[:, 1])
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


# ----------------------------------------------------------------------------- claims


PAPER_CLASSIFICATION: dict[str, dict[str, float]] = PAPER_REPORTED.set_index("method").to_dict(
    "index"
)
"""Classification figures as reported by the paper (LIVE, one 80/20 split, 4 classes)."""

CLASSIFICATION_METRICS = ("accuracy", "weighted_precision", "weighted_recall", "weighted_f1")


def find_classification_tables(results: str | os.PathLike) -> pd.DataFrame:
    """Per-split classification metrics written by notebooks 03/04, if any.

    Any ``<results>/tables/*.csv`` with the columns ``dataset, protocol, method, repeat`` and the
    four metrics of :data:`CLASSIFICATION_METRICS` is read (per-split tables; summaries without
    ``repeat`` are ignored). Returns an empty frame when there is none.
    """
    folder = Path(results) / "tables"
    need = {"dataset", "protocol", "method", "repeat", *CLASSIFICATION_METRICS}
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
    if "variant" not in out:
        out["variant"] = out["method"].str.split(" ").str[0]
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
    source = "as reported by the paper"
    ours = summary[summary["method"].isin(ours_methods)]
    for rec in REPORTED.itertuples(index=False):
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
    for variant, figures in PAPER_CLASSIFICATION.items():
        part = cls[cls["variant"] == variant] if not cls.empty else cls
        for metric, value in figures.items():
            claim = f"{variant} {metric.replace('weighted_', 'weighted ')}"
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


# ----------------------------------------------------------------------------- cross-dataset

SHARED_IMAGES: tuple[frozenset[str], ...] = (frozenset({"live", "live_subset"}),)
"""Dataset pairs that hold the same images (the LIVE subset is part of LIVE): never crossed."""


def shares_images(a: str, b: str) -> bool:
    """Whether datasets ``a`` and ``b`` hold the same images (see :data:`SHARED_IMAGES`)."""
    return frozenset({a, b}) in SHARED_IMAGES


FitPredict = Callable[[pd.DataFrame, pd.DataFrame], np.ndarray]
"""``fit_predict(train_records, test_records) -> predicted quality (0-100) of test_records``."""


def cross_dataset_predictions(
    train_records: pd.DataFrame,
    test_records: pd.DataFrame,
    settings: BaselineSettings,
    extra_methods: dict[str, FitPredict] | None = None,
) -> pd.DataFrame:
    """Train on one dataset, test on every image of another (no split), for every baseline and
    every ``extra_methods`` entry (e.g. the edge-map CNN).

    Trained baselines (BRISQUE SVR, CNNIQA) learn on ``train_records``; score-to-quality
    mappings are fitted on ``train_records``; NIQE's pristine model uses ``train_records``'
    references only.

    Returns:
        Rows in :data:`PREDICTION_COLUMNS` + :data:`EXTRA_COLUMNS` + ``train_dataset``, with
        ``dataset`` = the test dataset and ``protocol = "cross: <train> -> <test>"``.
    """
    train_name = train_records["dataset"].iloc[0]
    test_name = test_records["dataset"].iloc[0]
    if train_name == test_name or shares_images(train_name, test_name):
        raise ValueError(
            f"cross-dataset needs two datasets without common images, got {train_name} and "
            f"{test_name}"
        )
    both = pd.concat([train_records, test_records], ignore_index=True)
    protocol = f"cross: {train_name} -> {test_name}"
    train = np.arange(len(train_records))
    test = np.arange(len(train_records), len(both))
    scores = precompute_scores(both, settings)
    methods = [m for m in settings.methods if m != "NIQE"]
    local = replace(settings, methods=methods, cnniqa_max_repeats=0)
    # images of both sets in one table: the dataset column must follow each row, and CV
    # groups/content ids must not collide across datasets
    both = both.assign(content=both["dataset"] + ":" + both["content"].astype(str))
    frames = [baseline_split_predictions(both, train, test, protocol, 0, local, scores)]
    if "NIQE" in settings.methods:
        patch = settings.niqe_patch_size or niqe.choose_patch_size(both)
        model = niqe.fit_niqe(sorted(set(train_records["ref_path"].astype(str)) - {""}), patch)
        raw = niqe.niqe_scores(model, both["image_path"].tolist())
        predicted, mapping = _mapped(raw, train, test, both["quality"].to_numpy(float))
        frames.append(_rows(both, test, protocol, 0, "NIQE", predicted, raw[test], False, mapping))
    out = pd.concat(frames, ignore_index=True)
    for name, fit_predict in (extra_methods or {}).items():
        predicted = np.asarray(fit_predict(train_records, test_records), dtype=float)
        part = test_records[["dataset", "image", "content", "distortion", "quality"]].copy()
        part.insert(1, "protocol", protocol)
        part.insert(2, "repeat", 0)
        part.insert(3, "method", name)
        part["predicted"] = predicted
        part["raw_prediction"] = predicted
        part["method_kind"] = "NR"
        part["trained_on_test"] = False
        part["mapping"] = "none"
        out = pd.concat([out, part[PREDICTION_COLUMNS + EXTRA_COLUMNS]], ignore_index=True)
    out["content"] = out["content"].astype(str).str.split(":", n=1).str[-1]
    out["train_dataset"] = train_name
    return out


def edge_cnn_fit_predict(settings) -> FitPredict:
    """The edge-map CNN of notebook 05 as a :data:`FitPredict` for cross-dataset runs.

    Args:
        settings: :class:`edgeiqa.experiments.regression.RegressionSettings` (model, epochs,
            edge-map size; the model is seeded with ``settings.seed``).
    Returns:
        ``fit_predict(train_records, test_records)``: trains on all of ``train_records`` with
        :func:`~edgeiqa.experiments.regression.train_regressor`, predicts ``test_records``.
    """
    from edgeiqa.experiments import regression

    def fit_predict(train_records: pd.DataFrame, test_records: pd.DataFrame) -> np.ndarray:
        model = regression.train_regressor(
            regression.edge_inputs(train_records, settings),
            train_records["quality"].to_numpy(float),
            train_records["content"].to_numpy(),
            settings,
            seed=settings.seed,
        ).model
        return regression.predict_quality(
            model, regression.edge_inputs(test_records, settings), settings
        )

    return fit_predict


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


# ----------------------------------------------------------------------------- the whole run


def niqe_pristine_table(
    records: pd.DataFrame,
    splits: dict[tuple[str, int], tuple[np.ndarray, np.ndarray]],
    other_references: Sequence[str] = (),
) -> pd.DataFrame:
    """Which pristine images NIQE was fitted on in each split (documentation table).

    Returns:
        Columns ``dataset, protocol, repeat, n_pristine, pristine`` (file names, ``;``-joined;
        ``n_pristine = 0``: NIQE was not computed on that split).
    """
    rows = []
    for (protocol, repeat), (_, test) in splits.items():
        paths = niqe_pristine_paths(records, test, other_references)
        rows.append(
            {
                "dataset": records["dataset"].iloc[0],
                "protocol": protocol,
                "repeat": repeat,
                "n_pristine": len(paths),
                "pristine": ";".join(f"{Path(p).parent.name}/{Path(p).name}" for p in paths),
            }
        )
    return pd.DataFrame(rows)


@dataclass
class ComparisonResult:
    """What :func:`run_comparison` produced (tables also written under ``results``).

    Attributes:
        predictions: per dataset, notebook 05's rows and the baselines' rows together.
        per_split: :func:`per_split_metrics` of all of them.
        summary: :func:`summarise` (median and IQR over splits).
        bootstrap: :func:`compare_all` (every ours method vs every baseline).
        claims: :func:`claims_table`.
        cross: :func:`cross_dataset_table` (empty when fewer than two datasets).
        niqe_pristine: :func:`niqe_pristine_table` of every dataset.
        ours_methods: the methods read from notebook 05's tables.
        tables: written CSV paths by name.
    """

    predictions: dict[str, pd.DataFrame]
    per_split: pd.DataFrame
    summary: pd.DataFrame
    bootstrap: pd.DataFrame
    claims: pd.DataFrame
    cross: pd.DataFrame
    niqe_pristine: pd.DataFrame
    ours_methods: list[str]
    tables: dict[str, Path] = field(default_factory=dict)


def run_comparison(
    records_by_dataset: dict[str, pd.DataFrame],
    results: str | os.PathLike,
    seed: int,
    test_fraction: float,
    settings: BaselineSettings,
    n_boot: int = 1000,
    cross_pairs: Sequence[tuple[str, str]] | None = None,
    ours_fit_predict: dict[str, FitPredict] | None = None,
) -> ComparisonResult:
    """Baselines on notebook 05's splits, the comparison tables, cross-dataset runs.

    Args:
        records_by_dataset: record tables as notebook 05 loaded them
            (:func:`edgeiqa.experiments.regression.load_study_datasets`).
        results: results folder holding notebook 05's predictions; tables are written there.
        seed, test_fraction: notebook 05's split settings (checked against its predictions).
        settings: baseline settings.
        n_boot: bootstrap draws of the paired comparison and the cross-dataset intervals.
        cross_pairs: (train, test) dataset pairs; None: every ordered pair of the datasets that
            share no image (LIVE and the LIVE subset are not crossed).
        ours_fit_predict: name -> :data:`FitPredict` of the edge-map CNN for cross-dataset runs.
    Returns:
        :class:`ComparisonResult`. Written to ``<results>/tables/``:
        ``comparison_predictions_<dataset>.csv`` (baselines, API.md format + extras),
        ``comparison_per_split.csv``, ``comparison_table3.csv`` (computed here, long form),
        ``comparison_reported.csv`` (quoted numbers only), ``comparison_bootstrap.csv``,
        ``comparison_claims.csv``, ``comparison_cross_dataset.csv`` (+ its predictions) and
        ``comparison_niqe_pristine.csv``.
    """
    results = Path(results)
    ours_tables = {n: load_regression_predictions(results, n) for n in records_by_dataset}
    references = {
        n: sorted(set(r["ref_path"].astype(str)) - {""}) for n, r in records_by_dataset.items()
    }
    predictions, pristine, tables = {}, [], {}
    for name, records in records_by_dataset.items():
        others = [p for n, refs in references.items() if n != name for p in refs]
        ours = ours_tables[name]
        base = run_baselines(records, ours, seed, test_fraction, settings, others)
        tables[f"predictions_{name}"] = save_table(base, f"comparison_predictions_{name}", results)
        splits = split_indices_like(records, ours, seed, test_fraction)
        pristine.append(niqe_pristine_table(records, splits, others))
        keep = ours[ours.set_index(["protocol", "repeat"]).index.isin(list(splits))]
        predictions[name] = pd.concat([keep, base], ignore_index=True)
    ours_methods = list(dict.fromkeys(m for t in ours_tables.values() for m in t["method"]))
    everything = pd.concat(predictions.values(), ignore_index=True)
    per_split = per_split_metrics(everything)
    summary = summarise(per_split)
    boot = compare_all(everything, ours_methods, list(settings.methods), n_boot=n_boot, seed=seed)
    claims = claims_table(summary, ours_methods, find_classification_tables(results))

    names = list(records_by_dataset)
    pairs = (
        cross_pairs
        if cross_pairs is not None
        else [(a, b) for a in names for b in names if a != b and not shares_images(a, b)]
    )
    cross_frames = [
        cross_dataset_predictions(
            records_by_dataset[a], records_by_dataset[b], settings, ours_fit_predict
        )
        for a, b in pairs
    ]
    cross_predictions = pd.concat(cross_frames, ignore_index=True) if cross_frames else None
    cross = (
        cross_dataset_table(cross_predictions, n_boot=n_boot, seed=seed)
        if cross_predictions is not None
        else pd.DataFrame()
    )
    niqe_table = pd.concat(pristine, ignore_index=True)
    reported = REPORTED.copy()
    tables.update(
        per_split=save_table(per_split, "comparison_per_split", results),
        table3=save_table(table3_long(summary), "comparison_table3", results),
        reported=save_table(reported, "comparison_reported", results),
        bootstrap=save_table(boot, "comparison_bootstrap", results),
        claims=save_table(claims, "comparison_claims", results),
        niqe_pristine=save_table(niqe_table, "comparison_niqe_pristine", results),
    )
    if cross_predictions is not None:
        tables["cross"] = save_table(cross, "comparison_cross_dataset", results)
        tables["cross_predictions"] = save_table(
            cross_predictions, "comparison_cross_dataset_predictions", results
        )
    return ComparisonResult(
        predictions, per_split, summary, boot, claims, cross, niqe_table, ours_methods, tables
    )

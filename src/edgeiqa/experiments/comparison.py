"""Notebook 06: the paper's CNN beside baselines computed here, on the same test images, and
the comparison tables of :data:`edgeiqa.paper.CITATION` rebuilt (its Table 3: SROCC/KROCC/PLCC
per LIVE distortion).

The paper compares its CNN with numbers copied from other papers, measured on other splits. Here
every method runs in the same session on exactly the test images of each split of notebook 05's
predictions (``<results>/tables/regression_predictions_<dataset>.csv``): each split's test images
are read from that file and its training images are their complement
(:func:`edgeiqa.splits.splits_from_test_images`); nothing is re-derived from a seed. Notebook 05's
datasets, profile and model settings are read from the settings file it wrote
(:func:`edgeiqa.experiments.study.read_study_settings`), so the cross-dataset CNN is 05's model.

Every method is an :class:`edgeiqa.methods.Method` (:data:`BASELINES`, plus any the reader adds,
see :func:`run_comparison`), evaluated by :mod:`edgeiqa.experiments.runner`:

- full-reference PSNR (RGB), SSIM and MS-SSIM (grey) (:mod:`edgeiqa.baselines.fr`): no training;
- the authors' BRISQUE features + RBF SVR retrained on each training split
  (:mod:`edgeiqa.baselines.brisque`);
- the authors' BRISQUE model (:mod:`edgeiqa.baselines.brisque_published`), not retrained; it
  was trained on all of LIVE, so its rows on LIVE images (recognised by their pixels, whatever
  dataset they were loaded as) carry ``trained_on_test = True``;
- NIQE (:mod:`edgeiqa.baselines.niqe`), opinion-unaware, with its authors' pristine model; and a
  second NIQE whose pristine model is fitted here per split on the references of contents with
  no test image plus the run's other datasets' references;
- CNNIQA (:mod:`edgeiqa.baselines.cnniqa`) retrained per split (first ``cnniqa_max_repeats``
  repeats of each protocol only: the CPU budget; the tables give each row's number of splits).

Scores not on the 0-100 quality scale are put on it by a line fitted on the TRAINING split only
(:class:`edgeiqa.methods.LinearMap`; ``raw_prediction`` keeps the score itself). PLCC in the
tables is ``plcc_logistic`` (the 5-parameter logistic fitted once per method and split on all its
test predictions, Sheikh et al. 2006; per-type PLCC on those mapped predictions, VQEG's
convention). Significance: :mod:`edgeiqa.experiments.significance`; claims:
:mod:`edgeiqa.experiments.claims`; tables: :mod:`edgeiqa.experiments.table3`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from edgeiqa import splits as splits_lib
from edgeiqa.baselines.brisque import BrisqueSVR
from edgeiqa.baselines.brisque_published import PublishedBrisque
from edgeiqa.baselines.cnniqa import CNNIQAConfig, CNNIQAMethod
from edgeiqa.baselines.fr import fr_methods
from edgeiqa.baselines.niqe import AuthorsNIQE, NIQEMethod, pristine_references
from edgeiqa.edge_cnn import EdgeCNNRegression, RegressionSettings
from edgeiqa.errors import DataError
from edgeiqa.experiments import claims as claims_lib
from edgeiqa.experiments import gate as gate_lib
from edgeiqa.experiments import runner, significance
from edgeiqa.experiments import table3 as table3_lib
from edgeiqa.methods import Method
from edgeiqa.paper import table3_reported
from edgeiqa.reporting import save_table

BASELINES: dict[str, str] = {
    "PSNR": "none (linear map to 0-100 fitted on the training split)",
    "SSIM": "none (linear map to 0-100 fitted on the training split)",
    "MS-SSIM": "none (linear map to 0-100 fitted on the training split)",
    "BRISQUE (SVR, retrained)": "SVR on the training split, grouped CV",
    "BRISQUE (published model)": "the authors' SVR, pre-trained by them on all of LIVE (linear "
    "map on the training split)",
    "NIQE": "opinion-unaware: the authors' pristine model (linear map on the training split)",
    "NIQE (pristine pool fitted here)": "opinion-unaware: pristine references without test content",
    "CNNIQA (retrained)": "CNN trained on the training split",
}
"""The study's baselines by name, in table order, with how each is trained."""


@dataclass
class BaselineSettings:
    """Which baselines run and how (:meth:`methods` builds them).

    Attributes:
        names: names of :data:`BASELINES` to run.
        cnniqa: CNNIQA training settings.
        cnniqa_max_repeats: CNNIQA is retrained on repeats ``0 .. cnniqa_max_repeats - 1`` of
            each protocol only (0: all).
        niqe_patch_size: NIQE patch side (None: chosen per dataset from its image sizes).
        svr_param_grid: BRISQUE SVR grid (None: the module default).
        progress: progress bars.
    """

    names: Sequence[str] = tuple(BASELINES)
    cnniqa: CNNIQAConfig = field(default_factory=CNNIQAConfig)
    cnniqa_max_repeats: int = 0
    niqe_patch_size: int | None = None
    svr_param_grid: dict | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        unknown = [m for m in self.names if m not in BASELINES]
        if unknown:
            raise ValueError(f"unknown baseline(s) {unknown}; choose from {list(BASELINES)}")

    def methods(self) -> list[Method]:
        """The baselines as :class:`~edgeiqa.methods.Method` objects, in :attr:`names` order."""
        built: dict[str, Method] = {m.name: m for m in fr_methods(progress=self.progress)}
        built["BRISQUE (SVR, retrained)"] = BrisqueSVR(
            param_grid=self.svr_param_grid, progress=self.progress
        )
        built["BRISQUE (published model)"] = PublishedBrisque(progress=self.progress)
        built["NIQE"] = AuthorsNIQE()
        built["NIQE (pristine pool fitted here)"] = NIQEMethod(patch_size=self.niqe_patch_size)
        built["CNNIQA (retrained)"] = CNNIQAMethod(
            config=self.cnniqa, max_repeats=self.cnniqa_max_repeats
        )
        return [built[name] for name in self.names]


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
            f"{path}: missing; run notebook 05_regression first (same results folder) to "
            "produce the CNN's regression predictions"
        )
    table = pd.read_csv(path)
    missing = [c for c in runner.PREDICTION_COLUMNS if c not in table]
    if missing:
        raise DataError(f"{path}: missing column(s) {missing}; rerun notebook 05_regression")
    if table.empty:
        raise DataError(f"{path}: no rows; rerun notebook 05_regression")
    table["content"] = table["content"].astype(str)
    return table


def splits_of(records: pd.DataFrame, predictions: pd.DataFrame) -> list[splits_lib.Split]:
    """The splits behind notebook 05's predictions of one dataset (test images as listed,
    training images their complement); a listed image missing from ``records`` is a one-line
    :class:`~edgeiqa.errors.DataError`."""
    dataset = records["dataset"].iloc[0]
    try:
        return splits_lib.splits_from_test_images(records, predictions)
    except ValueError as err:
        raise DataError(
            f"regression_predictions_{dataset}.csv: {err} of {dataset}; rerun notebooks 05 and 06 "
            "on the same data"
        ) from None


def niqe_pristine_table(
    records: pd.DataFrame,
    splits: Sequence[splits_lib.Split],
    other_references: Sequence[str] = (),
) -> pd.DataFrame:
    """Which pristine images the pool-fitted NIQE was fitted on in each split (documentation
    table; the "NIQE" row uses its authors' fixed model).

    Returns:
        Columns ``dataset, protocol, repeat, n_pristine, pristine`` (file names, ``;``-joined;
        ``n_pristine = 0``: the pool-fitted NIQE was not computed on that split).
    """
    rows = []
    for split in splits:
        test_contents = set(records["content"].iloc[split.test].astype(str))
        paths = pristine_references(records.iloc[split.train], test_contents, other_references)
        rows.append(
            {
                "dataset": records["dataset"].iloc[0],
                "protocol": split.protocol,
                "repeat": split.repeat,
                "n_pristine": len(paths),
                "pristine": ";".join(f"{Path(p).parent.name}/{Path(p).name}" for p in paths),
            }
        )
    return pd.DataFrame(rows)


# ----------------------------------------------------------------------------- the whole run


@dataclass
class ComparisonResult:
    """What :func:`run_comparison` produced (tables also written under ``results``).

    Attributes:
        predictions: per dataset, notebook 05's rows and every other method's rows together.
        per_split: :func:`edgeiqa.experiments.runner.per_split_metrics` of all of them.
        summary: :func:`edgeiqa.experiments.runner.summarise` (median and IQR over splits).
        bootstrap: paired bootstrap of every ours method vs every other method.
        claims: :func:`edgeiqa.experiments.claims.claims_table`.
        cross: :func:`edgeiqa.experiments.table3.cross_dataset_table` (empty when fewer than
            two datasets).
        niqe_pristine: :func:`niqe_pristine_table` of every dataset.
        gate: :func:`edgeiqa.experiments.gate.gate_status_table`: every method's sanity gate.
        ours_methods: the methods read from notebook 05's tables.
        other_methods: the methods computed here, in table order.
        tables: written CSV paths by name.
    """

    predictions: dict[str, pd.DataFrame]
    per_split: pd.DataFrame
    summary: pd.DataFrame
    bootstrap: pd.DataFrame
    claims: pd.DataFrame
    cross: pd.DataFrame
    niqe_pristine: pd.DataFrame
    gate: pd.DataFrame
    ours_methods: list[str]
    other_methods: list[str]
    tables: dict[str, Path] = field(default_factory=dict)


def run_comparison(
    records_by_dataset: dict[str, pd.DataFrame],
    results: str | os.PathLike,
    methods: Sequence[Method],
    cnn_settings: RegressionSettings | None = None,
    n_boot: int = 1000,
    seed: int = 0,
    cross_pairs: Sequence[tuple[str, str]] | None = None,
    gate_min_srocc: float = gate_lib.DEFAULT_MIN_SROCC,
    progress: bool = False,
) -> ComparisonResult:
    """Every method on notebook 05's splits, the comparison tables, cross-dataset runs.

    Args:
        records_by_dataset: record tables as notebook 05 loaded them
            (:func:`edgeiqa.experiments.study.load_study_datasets` with 05's settings).
        results: results folder holding notebook 05's predictions; tables are written there.
        methods: the methods to compare with notebook 05's CNN: :meth:`BaselineSettings.methods`
            and any :class:`~edgeiqa.methods.Method` a reader defines.
        cnn_settings: notebook 05's model settings; with them the CNN is also trained for the
            cross-dataset rows (None: no CNN in the cross-dataset table).
        n_boot: bootstrap draws of the paired comparison and the cross-dataset intervals.
        seed: seed of those draws.
        cross_pairs: (train, test) dataset pairs; None: every ordered pair of the datasets that
            share no image (LIVE and the LIVE subset are not crossed).
        gate_min_srocc: the sanity gate's ALL threshold
            (:class:`edgeiqa.experiments.gate.GateRule`); baselines trained here that fail it
            get no significance claim.
        progress: progress bars over splits.
    Returns:
        :class:`ComparisonResult`. Written to ``<results>/tables/``:
        ``comparison_predictions_<dataset>.csv`` (the methods computed here, API.md format +
        extras), ``comparison_per_split.csv``, ``comparison_table3.csv`` (computed here, long
        form), ``comparison_reported.csv`` (quoted numbers only), ``comparison_bootstrap.csv``,
        ``comparison_claims.csv``, ``comparison_cross_dataset.csv`` (+ its predictions),
        ``comparison_niqe_pristine.csv`` and ``comparison_gate.csv``.
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
        splits = splits_of(records, ours)
        if not splits:
            raise DataError(f"regression_predictions_{name}.csv has no split to compare on")
        computed = runner.predict_splits(
            records, splits, methods, others, progress=progress, desc=f"methods on {name}"
        )
        tables[f"predictions_{name}"] = save_table(
            computed, f"comparison_predictions_{name}", results
        )
        pristine.append(niqe_pristine_table(records, splits, others))
        predictions[name] = pd.concat([ours, computed], ignore_index=True)
    ours_methods = list(dict.fromkeys(m for t in ours_tables.values() for m in t["method"]))
    other_methods = [m.name for m in methods]
    everything = pd.concat(predictions.values(), ignore_index=True)
    evaluation = runner.evaluate(everything, ours_methods, other_methods, n_boot=n_boot, seed=seed)
    gate = gate_lib.gate_status_table(everything, methods, gate_min_srocc)
    status = dict(zip(gate["method"], gate["status"], strict=True))
    # notebook 05's rows have no such column (trained here): NaN there means not flagged
    flagged = everything[everything["trained_on_test"].eq(True)]
    seen = set(map(tuple, flagged[["dataset", "method"]].drop_duplicates().to_numpy()))
    bootstrap = significance.withhold_claims(evaluation.bootstrap, status, seen)
    claims = claims_lib.claims_table(
        evaluation.summary, ours_methods, claims_lib.find_classification_tables(results)
    )

    names = list(records_by_dataset)
    pairs = (
        cross_pairs
        if cross_pairs is not None
        else [(a, b) for a in names for b in names if a != b and not runner.shares_images(a, b)]
    )
    cross_methods = list(methods)
    if cnn_settings is not None:
        cross_methods.append(EdgeCNNRegression(cnn_settings))
    cross_frames = [
        runner.cross_dataset_predictions(
            records_by_dataset[a], records_by_dataset[b], cross_methods, progress=progress
        )
        for a, b in pairs
    ]
    cross_predictions = pd.concat(cross_frames, ignore_index=True) if cross_frames else None
    cross = (
        table3_lib.cross_dataset_table(cross_predictions, n_boot=n_boot, seed=seed)
        if cross_predictions is not None
        else pd.DataFrame()
    )
    niqe_table = pd.concat(pristine, ignore_index=True)
    tables.update(
        per_split=save_table(evaluation.per_split, "comparison_per_split", results),
        table3=save_table(table3_lib.table3_long(evaluation.summary), "comparison_table3", results),
        reported=save_table(table3_reported(), "comparison_reported", results),
        bootstrap=save_table(bootstrap, "comparison_bootstrap", results),
        gate=save_table(gate, "comparison_gate", results),
        claims=save_table(claims, "comparison_claims", results),
        niqe_pristine=save_table(niqe_table, "comparison_niqe_pristine", results),
    )
    if cross_predictions is not None:
        tables["cross"] = save_table(cross, "comparison_cross_dataset", results)
        tables["cross_predictions"] = save_table(
            cross_predictions, "comparison_cross_dataset_predictions", results
        )
    return ComparisonResult(
        predictions,
        evaluation.per_split,
        evaluation.summary,
        bootstrap,
        claims,
        cross,
        niqe_table,
        gate,
        ours_methods,
        other_methods,
        tables,
    )

"""Regression of the quality score from Sobel edge maps: the Table 3 experiment (SROCC/KROCC/
PLCC per LIVE distortion type) of :data:`edgeiqa.paper.CITATION`, measured under a stricter
protocol. Its tables are built by :mod:`edgeiqa.experiments.regression_tables`.

The paper's model (as described): edge maps -> 2 conv layers of 16 filters (3x3) -> spatial
pyramid pooling -> fully connected layers -> one output in 0-1 read as quality/100
(``models.build_model("CNN_Full_img", task="regression")``), trained on 80% of LIVE for 40
epochs and tested on the other 20%. Choices where the paper is silent (each a field of
:class:`RegressionSettings`):

- **Whole edge maps** (``parts=1``): the regression model is the paper's "Full_img" model.
  ``parts=2``/``4`` trains on halves/quarters that inherit the image's score and predicts an
  image as the mean of its pieces.
- **No validation carve-out** (``val_fraction=0``): the paper trains a fixed number of epochs on
  its 80%; the last epoch's weights are tested. On 4-content sets a content-wise validation
  split would also cost a third of the training contents. Any ``val_fraction > 0`` carves a
  content-disjoint validation set from the training split only (best epoch kept).
- **Loss and optimiser**: mean squared error on the 0-1 output, Adam (lr ``1e-3``), batch 16
  (:mod:`edgeiqa.train`).
- **Edge-map size** ``edge_max_side``: images are shrunk before Sobel (:mod:`edgeiqa.edges`); the
  size is set by the CPU budget of 10 repeats x 40 epochs (notebook 05 explains the numbers).

Protocols (each split's test images are never seen in training):

- ``content``: content-disjoint 80/20, repeated ``n_repeats`` times (:mod:`edgeiqa.splits`);
- ``image``: the paper's random 80/20 over images, same number of repeats, beside it, so that
  the effect of sharing contents between train and test is measured;
- ``loco``: leave-one-content-out folds for sets with few contents (the LIVE subset).

All of them come from :func:`edgeiqa.splits.protocol_splits`. The model is a method
(:class:`EdgeCNNRegression`, :mod:`edgeiqa.methods`) evaluated by
:func:`edgeiqa.experiments.runner.predict_splits`, so notebook 06 can run it like any baseline.

Training regimes (:data:`REGIMES`; "regime" is how a model is trained, "architecture" which
network): transfer on the LIVE subset: a model trained on all synthetic images is (a) tested as
it is on each LOCO fold ("synthetic only"), and (b) fine-tuned on each fold's training contents
("synthetic pretrain + fine-tune"), against (c) the same model trained on the fold alone.

Every split gets all metrics of :mod:`edgeiqa.metrics` per distortion and ALL, with a bootstrap
95% interval for SROCC; :func:`~edgeiqa.experiments.regression_tables.summarise` gives median
and inter-quartile range over splits.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa import metrics as metrics_lib
from edgeiqa import splits as splits_lib
from edgeiqa.edge_cnn import (
    REGIMES,
    TASK,
    EdgeCNNRegression,
    RegressionSettings,
    edge_inputs,
    method_label,
    train_regressor,
)
from edgeiqa.experiments import runner
from edgeiqa.experiments.runner import PREDICTION_COLUMNS
from edgeiqa.experiments.study import StudySettings, write_study_settings
from edgeiqa.models import EdgeCNN
from edgeiqa.reporting import save_table
from edgeiqa.train import save_checkpoint

DEFAULT_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "synthetic": ("content", "image"),
    "live_subset": ("loco", "image"),
}
"""Protocols per dataset; any other dataset gets ``("content", "image")``."""


@dataclass
class ProtocolRun:
    """Predictions of every split of one (dataset, protocol, method), and the last split's model.

    Attributes:
        predictions: rows in :data:`PREDICTION_COLUMNS`.
        model: the model trained on the last split (the one checkpointed), None for a fixed model.
        last_split: description of that split (repeat, train/test contents, sizes).
        seconds: wall time of the run.
        regime: the training regime.
    """

    predictions: pd.DataFrame
    model: EdgeCNN | None
    last_split: dict = field(default_factory=dict)
    seconds: float = 0.0
    regime: str = "scratch"


def run_protocol(
    records: pd.DataFrame,
    inputs: Sequence[np.ndarray],
    protocol: str,
    settings: RegressionSettings,
    regime: str = "scratch",
    pretrained: EdgeCNN | None = None,
) -> ProtocolRun:
    """Train and test :class:`EdgeCNNRegression` on every split of ``protocol``.

    Args:
        records: record table (one dataset).
        inputs: edge maps of ``records``, same order.
        protocol: ``content``, ``image`` or ``loco``.
        settings: run settings.
        regime: ``scratch``, ``finetune`` or ``synthetic_only`` (:class:`EdgeCNNRegression`).
        pretrained: the synthetic model for ``finetune``/``synthetic_only``.
    Returns:
        :class:`ProtocolRun`.
    """
    method = EdgeCNNRegression(settings, regime, pretrained)
    method.use_inputs(records, inputs)
    splits = splits_lib.protocol_splits(
        records, protocol, settings.n_repeats, settings.seed, settings.test_fraction
    )
    start = time.perf_counter()
    predictions = runner.predict_splits(
        records,
        splits,
        [method],
        progress=settings.progress,
        desc=f"{records['dataset'].iloc[0]} {protocol} {regime}",
    )
    contents = records["content"].to_numpy()
    last = splits[-1]
    return ProtocolRun(
        predictions=predictions[PREDICTION_COLUMNS],
        model=None if regime == "synthetic_only" else method.model,
        last_split={
            "protocol": protocol,
            "repeat": last.repeat,
            "train_contents": sorted(set(contents[last.train])),
            "test_contents": sorted(set(contents[last.test])),
            "n_train": len(last.train),
            "n_test": len(last.test),
        },
        seconds=time.perf_counter() - start,
        regime=regime,
    )


def pretrain_on(
    records: pd.DataFrame, inputs: Sequence[np.ndarray], settings: RegressionSettings
) -> EdgeCNN:
    """The model trained on every image of ``records`` (the synthetic set, for transfer)."""
    return train_regressor(
        inputs,
        records["quality"].to_numpy(dtype=float),
        records["content"].to_numpy(),
        settings,
        seed=settings.seed,
    ).model


def _checkpoint_meta(
    dataset: str,
    run: ProtocolRun,
    settings: RegressionSettings,
    per_split: pd.DataFrame,
) -> dict:
    split = run.last_split
    regime = run.regime
    rows = per_split[
        (per_split["dataset"] == dataset)
        & (per_split["protocol"] == split["protocol"])
        & (per_split["method"] == method_label(settings.model_name, regime))
        & (per_split["repeat"] == split["repeat"])
    ]
    metric_cols = ["n", *metrics_lib.METRICS, "srocc_ci_low", "srocc_ci_high"]
    return {
        "dataset": dataset,
        "task": TASK,
        "model_name": settings.model_name,
        "method": method_label(settings.model_name, regime),
        "regime": regime,
        "split": split,
        "seed": settings.seed + split["repeat"],
        "epochs": settings.finetune_epochs if regime == "finetune" else settings.epochs,
        "edge_params": asdict(settings.edge_params),
        "parts": settings.parts,
        "output": "sigmoid in 0-1 = quality/100 (quality 0-100, higher = better)",
        "settings": asdict(settings),
        # NaN (a metric undefined on that split) is written as null: NaN is not valid JSON
        "metrics": {
            r["distortion"]: {c: None if pd.isna(r[c]) else r[c] for c in metric_cols}
            for r in rows.to_dict("records")
        },
    }


@dataclass
class StudyResult:
    """What :func:`run_study` produced (all of it also written under ``results``).

    Attributes:
        predictions: one prediction table per dataset.
        per_split: :func:`split_metrics` of every run.
        summary: :func:`summarise` of ``per_split``.
        pooled: :func:`pooled_metrics` of all predictions.
        checkpoints: paths of the saved ``.pt`` files.
        timings: seconds per (dataset, protocol, regime).
        tables: paths of the written tables.
        runs: one row per (dataset, protocol, regime): ``dataset, protocol, regime, method``
            (the keys behind each method label, so nothing parses labels).
    """

    predictions: dict[str, pd.DataFrame]
    per_split: pd.DataFrame
    summary: pd.DataFrame
    pooled: pd.DataFrame
    checkpoints: list[Path]
    timings: pd.DataFrame
    tables: dict[str, Path]
    runs: pd.DataFrame


def run_study(
    records_by_dataset: dict[str, pd.DataFrame],
    settings: RegressionSettings,
    results: str | os.PathLike,
    transfer: bool = True,
    protocols: dict[str, Sequence[str]] | None = None,
    profile: str | None = None,
    data_root: str | os.PathLike | None = None,
) -> StudyResult:
    """Run every protocol on every dataset, the synthetic -> LIVE-subset transfer, and write
    the tables, checkpoints and the study's settings.

    Args:
        records_by_dataset: record tables keyed by dataset name (:func:`load_study_datasets`).
        settings: run settings.
        results: results folder.
        transfer: with both ``synthetic`` and ``live_subset`` present, pretrain on all synthetic
            images and add the "synthetic only" and "fine-tune" methods to the LIVE-subset LOCO.
        protocols: protocols per dataset (default :data:`DEFAULT_PROTOCOLS`, else content+image).
        profile: the profile that sized the synthetic set (recorded for notebook 06).
        data_root: the data root the records were loaded from, when one was given (recorded).
    Returns:
        :class:`StudyResult`. Written: ``tables/regression_predictions_<dataset>.csv``,
        ``tables/regression_per_split.csv``, ``tables/regression_summary.csv``,
        ``tables/regression_pooled.csv``,
        ``tables/regression_content_sharing.csv``, ``tables/regression_timings.csv``,
        ``tables/regression_settings.json`` (:class:`StudySettings`), splits under ``splits/``
        and checkpoints ``models/regression_<dataset>_<protocol>_<regime>`` (the model of each
        run's last split; ``regression_synthetic_pretrain`` for transfer).
    """
    from edgeiqa.experiments import regression_tables as tables_lib

    results = Path(results)
    protocols = {**DEFAULT_PROTOCOLS, **(protocols or {})}
    runs: list[tuple[str, ProtocolRun]] = []  # (dataset, run)
    timings = []
    pretrained = None
    inputs_by_dataset = {
        name: edge_inputs(records, settings) for name, records in records_by_dataset.items()
    }
    if transfer and {"synthetic", "live_subset"} <= set(records_by_dataset):
        start = time.perf_counter()
        pretrained = pretrain_on(
            records_by_dataset["synthetic"], inputs_by_dataset["synthetic"], settings
        )
        timings.append(("synthetic", "all images", "pretrain", time.perf_counter() - start))
    for name, records in records_by_dataset.items():
        for protocol in protocols.get(name, ("content", "image")):
            if protocol in splits_lib.PROTOCOLS:
                splits_lib.write_splits(
                    splits_lib.splits_table(
                        records, protocol, settings.n_repeats, settings.seed, settings.test_fraction
                    ),
                    results,
                )
            regimes = ["scratch"]
            if pretrained is not None and name == "live_subset" and protocol == "loco":
                regimes += ["finetune", "synthetic_only"]
            for regime in regimes:
                run = run_protocol(
                    records, inputs_by_dataset[name], protocol, settings, regime, pretrained
                )
                runs.append((name, run))
                timings.append((name, protocol, regime, run.seconds))

    predictions = {
        name: pd.concat([r.predictions for n, r in runs if n == name], ignore_index=True)
        for name in records_by_dataset
    }
    # every method here is the one architecture of the settings, in some regime
    architectures = {method_label(settings.model_name, r): settings.model_name for r in REGIMES}
    start = time.perf_counter()
    everything = pd.concat(predictions.values(), ignore_index=True)
    per_split = tables_lib.split_metrics(
        everything, architectures, settings.n_boot, settings.seed, settings.level
    )
    summary = tables_lib.summarise(per_split)
    pooled = tables_lib.pooled_metrics(
        everything, architectures, settings.n_boot, settings.seed, settings.level
    )
    timings.append(("all", "metrics + bootstrap", "", time.perf_counter() - start))

    checkpoints = []
    for name, run in runs:
        if run.model is None:
            continue
        meta = _checkpoint_meta(name, run, settings, per_split)
        base = results / "models" / f"regression_{name}_{run.last_split['protocol']}_{run.regime}"
        checkpoints.append(save_checkpoint(run.model, base, meta))
    if pretrained is not None:
        meta = {
            "dataset": "synthetic",
            "task": TASK,
            "model_name": settings.model_name,
            "regime": "pretrain",
            "split": {"protocol": "all images", "n_train": len(records_by_dataset["synthetic"])},
            "seed": settings.seed,
            "epochs": settings.epochs,
            "edge_params": asdict(settings.edge_params),
            "parts": settings.parts,
            "output": "sigmoid in 0-1 = quality/100 (quality 0-100, higher = better)",
            "settings": asdict(settings),
            "metrics": {
                "note": "no held-out synthetic images; its test metrics are the live_subset "
                "'synthetic only' rows of regression_summary.csv"
            },
        }
        base = results / "models" / "regression_synthetic_pretrain"
        checkpoints.append(save_checkpoint(pretrained, base, meta))

    timing_table = pd.DataFrame(timings, columns=["dataset", "protocol", "regime", "seconds"])
    tables = {
        f"predictions_{name}": save_table(table, f"regression_predictions_{name}", results)
        for name, table in predictions.items()
    }
    tables["per_split"] = save_table(per_split, "regression_per_split", results)
    tables["summary"] = save_table(summary, "regression_summary", results)
    tables["pooled"] = save_table(pooled, "regression_pooled", results)
    tables["content_sharing"] = save_table(
        tables_lib.content_sharing_effect(summary, pooled), "regression_content_sharing", results
    )
    tables["timings"] = save_table(timing_table, "regression_timings", results)
    tables["settings"] = write_study_settings(
        results,
        StudySettings(
            tuple(records_by_dataset),
            profile,
            transfer,
            settings,
            str(data_root) if data_root else None,
        ),
    )
    run_table = pd.DataFrame(
        [
            (n, r.last_split["protocol"], r.regime, method_label(settings.model_name, r.regime))
            for n, r in runs
        ],
        columns=["dataset", "protocol", "regime", "method"],
    )
    return StudyResult(
        predictions, per_split, summary, pooled, checkpoints, timing_table, tables, run_table
    )

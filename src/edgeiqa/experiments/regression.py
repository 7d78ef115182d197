"""Regression of the quality score from Sobel edge maps: the "deep fake score" paper's Table 3
experiment (SROCC/KROCC/PLCC per LIVE distortion type), measured under a stricter protocol.

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
- ``loco``: leave-one-content-out folds for sets with few contents (the LIVE subset has 4).

Transfer on the LIVE subset: a model trained on all synthetic images is (a) tested as it is on
each LOCO fold ("synthetic only"), and (b) fine-tuned on each fold's training contents
("synthetic pretrain + fine-tune"), against (c) the same model trained on the fold alone.

Every split gets all metrics of :mod:`edgeiqa.metrics` per distortion and ALL, with a bootstrap
95% interval for SROCC; :func:`summarise` gives median and inter-quartile range over splits.
"""

from __future__ import annotations

import copy
import importlib.util
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from edgeiqa import metrics as metrics_lib
from edgeiqa import splits as splits_lib
from edgeiqa.config import Profile
from edgeiqa.data.registry import DATASETS, available_datasets, load_dataset
from edgeiqa.data.schema import PAPER_DISTORTIONS
from edgeiqa.edges import EdgeParams, edge_maps, enlarge, split_edge_map
from edgeiqa.models import PAPER_VARIANTS, EdgeCNN, build_model
from edgeiqa.reporting import save_table
from edgeiqa.train import TrainConfig, TrainResult, fit, predict, save_checkpoint

TASK = "regression"
PROTOCOL_NAMES: dict[str, str] = {**splits_lib.PROTOCOLS, "loco": "leave-one-content-out"}
OFFICIAL_DATASETS: tuple[str, ...] = ("live", "csiq", "tid2008")
"""Official releases run with the same code when present (restricted to the paper's types)."""

DEFAULT_PROTOCOLS: dict[str, tuple[str, ...]] = {
    "synthetic": ("content", "image"),
    "live_subset": ("loco", "image"),
}
"""Protocols per dataset; any other dataset gets ``("content", "image")``."""

VARIANTS: dict[str, str] = {
    "scratch": "",
    "finetune": "synthetic pretrain + fine-tune",
    "synthetic_only": "synthetic only",
}
"""Training variants: their slug (checkpoint names) and the suffix of the method label."""

PREDICTION_COLUMNS: list[str] = [
    "dataset",
    "protocol",
    "repeat",
    "method",
    "image",
    "content",
    "distortion",
    "quality",
    "predicted",
]
"""The prediction table handed to notebook 06 (API.md)."""

SUMMARY_KEYS: list[str] = ["dataset", "protocol", "method", "model", "distortion"]

PAPER_TABLE3 = pd.DataFrame(
    [
        {"distortion": "ALL", "srocc": 0.947},
        {"distortion": "gblur", "srocc": 0.972},
        {"distortion": "jpeg", "srocc": 0.979},
        {"distortion": "wn", "srocc": 0.944},
        {"distortion": "jp2k", "srocc": 0.984},
    ]
).assign(dataset="live", source="as reported by the paper (Table 3, LIVE, one 80/20 split)")
"""SROCC of the paper's regression model, as reported by the paper (not measured here)."""


@dataclass(frozen=True)
class RegressionSettings:
    """Everything that decides a regression run (recorded in every checkpoint's JSON).

    Attributes:
        model_name: a :data:`edgeiqa.models.PAPER_VARIANTS` name (paper: CNN_Full_img).
        epochs: training epochs from scratch (paper: 40).
        finetune_epochs: epochs when fine-tuning the synthetic model on a LIVE-subset fold.
        batch_size: images per batch.
        lr: Adam learning rate from scratch.
        finetune_lr: learning rate when fine-tuning (10x lower so the pretrained filters are
            adjusted rather than overwritten).
        val_fraction: validation carve-out of each training split (0: fixed epochs, as the paper).
        edge_max_side: longer side of the image before Sobel, in pixels.
        parts: 1 (whole edge maps), 2 or 4 (training on pieces, test on the mean of pieces).
        n_repeats: repeated splits per protocol (content/image).
        test_fraction: share of contents (content) or images (image) in each test split.
        seed: seeds splits, weight initialisation and batch order (per repeat: ``seed + repeat``).
        n_boot: bootstrap resamples for the SROCC intervals.
        level: interval coverage.
        progress: tqdm bars.
    """

    model_name: str = "CNN_Full_img"
    epochs: int = 40
    finetune_epochs: int = 40
    batch_size: int = 16
    lr: float = 1e-3
    finetune_lr: float = 1e-4
    val_fraction: float = 0.0
    edge_max_side: int = 128
    parts: int = 1
    n_repeats: int = 10
    test_fraction: float = 0.2
    seed: int = 0
    n_boot: int = 1000
    level: float = 0.95
    progress: bool = True

    def __post_init__(self) -> None:
        if self.model_name not in PAPER_VARIANTS:
            raise ValueError(
                f"unknown model {self.model_name!r}; choose one of {list(PAPER_VARIANTS)}"
            )
        if self.parts not in (1, 2, 4):
            raise ValueError(f"parts must be 1, 2 or 4, got {self.parts}")
        if min(self.epochs, self.finetune_epochs, self.n_repeats, self.batch_size) < 1:
            raise ValueError("epochs, finetune_epochs, n_repeats and batch_size must be positive")

    @classmethod
    def from_profile(cls, profile: Profile, **overrides: object) -> RegressionSettings:
        """Settings sized by a :class:`~edgeiqa.config.Profile`; non-None overrides win.

        Uses the profile's ``epochs`` (also for fine-tuning), ``batch_size``, ``n_repeats``,
        ``test_fraction`` and ``regression_edge_max_side``.
        """
        base = cls(
            epochs=profile.epochs,
            finetune_epochs=profile.epochs,
            batch_size=profile.batch_size,
            n_repeats=profile.n_repeats,
            test_fraction=profile.test_fraction,
            edge_max_side=profile.regression_edge_max_side,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})

    @property
    def edge_params(self) -> EdgeParams:
        return EdgeParams(max_side=self.edge_max_side)


def method_label(model_name: str, variant: str = "scratch") -> str:
    """Method name used in every table, e.g. ``"CNN_Full_img (regression)"``."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown training variant {variant!r}; choose one of {list(VARIANTS)}")
    suffix = VARIANTS[variant]
    return f"{model_name} (regression{', ' + suffix if suffix else ''})"


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


def edge_inputs(records: pd.DataFrame, settings: RegressionSettings) -> list[np.ndarray]:
    """Cached edge maps of every record at ``settings.edge_max_side`` (record order)."""
    return edge_maps(records, settings.edge_params, progress=settings.progress)


def train_regressor(
    inputs: Sequence[np.ndarray],
    quality: np.ndarray,
    groups: Sequence,
    settings: RegressionSettings,
    seed: int,
    init_state: dict | None = None,
    finetune: bool = False,
) -> TrainResult:
    """Train the regression model on edge maps and their 0-100 quality.

    Args:
        inputs: whole edge maps of the training images.
        quality: their quality on 0-100 (the target is quality/100).
        groups: content id of each image (validation carve-out, pieces inherit it).
        settings: run settings (``epochs``/``lr``, or the fine-tuning ones with ``finetune``).
        seed: weight initialisation and batch order.
        init_state: weights to start from (fine-tuning), else a fresh initialisation.
        finetune: use ``finetune_epochs`` and ``finetune_lr``.
    Returns:
        :class:`~edgeiqa.train.TrainResult`.
    """
    targets = np.clip(np.asarray(quality, dtype=float) / 100.0, 0.0, 1.0).astype(np.float32)
    pieces, targets, groups_out, _ = enlarge(list(inputs), targets, groups, settings.parts)
    model = build_model(settings.model_name, task=TASK, seed=seed)
    if init_state is not None:
        model.load_state_dict(init_state)
    config = TrainConfig(
        epochs=settings.finetune_epochs if finetune else settings.epochs,
        batch_size=settings.batch_size,
        lr=settings.finetune_lr if finetune else settings.lr,
        val_fraction=settings.val_fraction,
        seed=seed,
        progress=False,
    )
    use_groups = groups_out if settings.val_fraction > 0 else None
    return fit(model, pieces, targets, TASK, config, groups=use_groups)


def predict_quality(
    model: EdgeCNN, inputs: Sequence[np.ndarray], settings: RegressionSettings
) -> np.ndarray:
    """Predicted quality on 0-100 of whole edge maps (mean over pieces when ``parts > 1``)."""
    if settings.parts == 1:
        return 100.0 * predict(model, list(inputs), TASK).astype(float)
    pieces, parent = [], []
    for i, edge in enumerate(inputs):
        cut = split_edge_map(edge, settings.parts)
        pieces += cut
        parent += [i] * len(cut)
    out = predict(model, pieces, TASK).astype(float)
    return 100.0 * np.bincount(parent, weights=out) / np.bincount(parent)


def iter_protocol_splits(
    records: pd.DataFrame, protocol: str, settings: RegressionSettings
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """``(repeat, train_idx, test_idx)`` for a protocol; content-disjointness is checked.

    ``loco`` folds are numbered in sorted content order; ``content`` and ``image`` come from
    :func:`edgeiqa.splits.iter_splits` with the settings' seed, repeats and test fraction, so
    notebook 06 recomputes exactly the same test images.
    """
    if protocol == "loco":
        for repeat, (_, train, test) in enumerate(splits_lib.leave_one_content_out(records)):
            splits_lib.check_content_disjoint(records, train, test)
            yield repeat, train, test
        return
    if protocol not in splits_lib.PROTOCOLS:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {list(PROTOCOL_NAMES)}")
    for repeat, train, test in splits_lib.iter_splits(
        records, protocol, settings.n_repeats, settings.seed, settings.test_fraction
    ):
        if protocol == "content":
            splits_lib.check_content_disjoint(records, train, test)
        yield repeat, train, test


def _prediction_rows(
    records: pd.DataFrame,
    test: np.ndarray,
    predicted: np.ndarray,
    protocol: str,
    repeat: int,
    method: str,
) -> pd.DataFrame:
    part = records.iloc[test][["dataset", "image", "content", "distortion", "quality"]].copy()
    part.insert(1, "protocol", protocol)
    part.insert(2, "repeat", repeat)
    part.insert(3, "method", method)
    part["predicted"] = predicted
    return part[PREDICTION_COLUMNS].reset_index(drop=True)


@dataclass
class ProtocolRun:
    """Predictions of every split of one (dataset, protocol, method), and the last split's model.

    Attributes:
        predictions: rows in :data:`PREDICTION_COLUMNS`.
        model: the model trained on the last split (the one checkpointed), None for a fixed model.
        last_split: description of that split (repeat, train/test contents, sizes).
        seconds: wall time of the run.
    """

    predictions: pd.DataFrame
    model: EdgeCNN | None
    last_split: dict = field(default_factory=dict)
    seconds: float = 0.0


def run_protocol(
    records: pd.DataFrame,
    inputs: Sequence[np.ndarray],
    protocol: str,
    settings: RegressionSettings,
    variant: str = "scratch",
    pretrained: EdgeCNN | None = None,
) -> ProtocolRun:
    """Train and test on every split of ``protocol``.

    Args:
        records: record table (one dataset).
        inputs: edge maps of ``records``, same order.
        protocol: ``content``, ``image`` or ``loco``.
        settings: run settings.
        variant: ``scratch`` (fresh weights), ``finetune`` (start from ``pretrained``) or
            ``synthetic_only`` (test ``pretrained`` as it is, no training).
        pretrained: the synthetic model for ``finetune``/``synthetic_only``.
    Returns:
        :class:`ProtocolRun`.
    """
    if variant != "scratch" and pretrained is None:
        raise ValueError(f"variant {variant!r} needs a pretrained model")
    method = method_label(settings.model_name, variant)
    init_state = copy.deepcopy(pretrained.state_dict()) if pretrained is not None else None
    quality = records["quality"].to_numpy(dtype=float)
    contents = records["content"].to_numpy()
    start = time.perf_counter()
    frames, model, last = [], None, {}
    splits = list(iter_protocol_splits(records, protocol, settings))
    dataset = records["dataset"].iloc[0]
    for repeat, train, test in tqdm(
        splits, desc=f"{dataset} {protocol} {variant}", disable=not settings.progress, leave=False
    ):
        if variant == "synthetic_only":
            model = pretrained
        else:
            model = train_regressor(
                [inputs[i] for i in train],
                quality[train],
                contents[train],
                settings,
                seed=settings.seed + repeat,
                init_state=init_state,
                finetune=variant == "finetune",
            ).model
        predicted = predict_quality(model, [inputs[i] for i in test], settings)
        frames.append(_prediction_rows(records, test, predicted, protocol, repeat, method))
        last = {
            "protocol": protocol,
            "repeat": repeat,
            "train_contents": sorted(set(contents[train])),
            "test_contents": sorted(set(contents[test])),
            "n_train": len(train),
            "n_test": len(test),
        }
    return ProtocolRun(
        predictions=pd.concat(frames, ignore_index=True),
        model=None if variant == "synthetic_only" else model,
        last_split=last,
        seconds=time.perf_counter() - start,
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


def split_metrics(
    predictions: pd.DataFrame, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """All metrics per split and distortion (+ ALL) with a bootstrap SROCC interval.

    Args:
        predictions: rows in :data:`PREDICTION_COLUMNS` (several datasets/protocols allowed).
        n_boot: bootstrap resamples per (split, distortion).
        seed: bootstrap seed.
        level: interval coverage.
    Returns:
        One row per (dataset, protocol, method, repeat, distortion): ``n``, the metrics of
        :data:`edgeiqa.metrics.METRICS`, ``logistic_fit``, ``srocc_ci_low``, ``srocc_ci_high``.
    """
    keys = ["dataset", "protocol", "method", "repeat"]
    frames = []
    for key, part in predictions.groupby(keys, sort=False):
        table = metrics_lib.correlation_table(part, n_boot=n_boot, seed=seed, level=level)
        for col, value in zip(keys, key, strict=True):
            table.insert(keys.index(col), col, value)
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out.insert(3, "model", out["method"].str.split(" ").str[0])
    return out


def summarise(per_split: pd.DataFrame) -> pd.DataFrame:
    """Median and inter-quartile range over splits, one row per (dataset, protocol, method,
    model, distortion).

    Columns: ``n_splits``, ``n_defined`` (splits where SROCC is defined), ``n_test_median``
    (test images per split), ``<metric>_median/_q25/_q75`` for every metric, and
    ``srocc_ci_low``/``srocc_ci_high``: the median over splits of each split's bootstrap bounds
    (a typical single-split interval, the uncertainty the paper's single split carries);
    ``logistic_fallbacks`` counts splits where the logistic mapping fell back (see
    :func:`edgeiqa.metrics.fit_logistic`).
    """
    out = metrics_lib.aggregate_repeats(per_split, SUMMARY_KEYS, metrics_lib.METRICS)
    grouped = per_split.groupby(SUMMARY_KEYS, sort=False, dropna=False)
    extra = pd.DataFrame(
        {
            "n_test_median": grouped["n"].median(),
            "srocc_ci_low": grouped["srocc_ci_low"].median(),
            "srocc_ci_high": grouped["srocc_ci_high"].median(),
            "logistic_fallbacks": grouped["logistic_fit"].agg(
                lambda s: int((~s.isin(["logistic5"])).sum())
            ),
        }
    ).reset_index()
    out = out.merge(extra, on=SUMMARY_KEYS, how="left")
    out.insert(len(SUMMARY_KEYS), "protocol_name", out["protocol"].map(PROTOCOL_NAMES))
    return out


def pooled_metrics(
    predictions: pd.DataFrame, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> pd.DataFrame:
    """Metrics over the test predictions of all splits pooled, one prediction per image.

    A test split of the ``content`` protocol holds few contents, and a LOCO fold one, so its
    SROCC ranks images mostly *within* a scene, which is easier than ranking across scenes as
    the ``image`` protocol's test split must. Pooling puts every tested image of every content
    into one ranking for every protocol, so the protocols are compared on equal footing.
    An image tested in several splits gets the mean of its predictions (LOCO: exactly one).

    Args:
        predictions: rows in :data:`PREDICTION_COLUMNS`.
        n_boot: bootstrap resamples for the SROCC interval (images resampled).
        seed: bootstrap seed.
        level: interval coverage.
    Returns:
        One row per (dataset, protocol, method, model, distortion): ``n`` (images), the metrics,
        ``logistic_fit``, ``srocc_ci_low``, ``srocc_ci_high``, ``n_splits``.
    """
    keys = ["dataset", "protocol", "method"]
    frames = []
    for key, part in predictions.groupby(keys, sort=False):
        per_image = part.groupby("image", sort=False).agg(
            distortion=("distortion", "first"),
            quality=("quality", "first"),
            predicted=("predicted", "mean"),
        )
        table = metrics_lib.correlation_table(per_image, n_boot=n_boot, seed=seed, level=level)
        for i, (col, value) in enumerate(zip(keys, key, strict=True)):
            table.insert(i, col, value)
        table["n_splits"] = part["repeat"].nunique()
        frames.append(table)
    out = pd.concat(frames, ignore_index=True)
    out.insert(3, "model", out["method"].str.split(" ").str[0])
    return out


def content_sharing_effect(
    summary: pd.DataFrame, pooled: pd.DataFrame | None = None, metric: str = "srocc"
) -> pd.DataFrame:
    """How much the paper's image-level split flatters a model: ``image`` minus the
    content-disjoint protocol (``content`` or ``loco``) of the same dataset, method, distortion.

    Args:
        summary: :func:`summarise` output (medians over splits).
        pooled: :func:`pooled_metrics` output; adds the pooled comparison, where both
            protocols rank all contents together (see :func:`pooled_metrics`).
        metric: which metric.
    Returns:
        Columns ``dataset, method, distortion, disjoint_protocol, <metric>_image,
        <metric>_disjoint, difference`` (medians over splits) and, with ``pooled``,
        ``<metric>_image_pooled, <metric>_disjoint_pooled, difference_pooled``.
    """
    keys = ["dataset", "method", "distortion"]

    def compare(table: pd.DataFrame, column: str, suffix: str) -> pd.DataFrame:
        image = table[table["protocol"] == "image"][keys + [column]]
        disjoint = table[table["protocol"].isin(["content", "loco"])][keys + ["protocol", column]]
        merged = image.merge(disjoint, on=keys, suffixes=("_image", "_disjoint"))
        merged = merged.rename(
            columns={
                f"{column}_image": f"{metric}_image{suffix}",
                f"{column}_disjoint": f"{metric}_disjoint{suffix}",
                "protocol": "disjoint_protocol",
            }
        )
        merged[f"difference{suffix}"] = (
            merged[f"{metric}_image{suffix}"] - merged[f"{metric}_disjoint{suffix}"]
        )
        return merged

    out = compare(summary, f"{metric}_median", "")
    if pooled is not None:
        out = out.merge(
            compare(pooled, metric, "_pooled"), on=keys + ["disjoint_protocol"], how="left"
        )
    return out


def planned_image_passes(
    records_by_dataset: dict[str, pd.DataFrame],
    settings: RegressionSettings,
    transfer: bool = True,
) -> pd.DataFrame:
    """Training cost of :func:`run_study` in image passes (forward + backward of one edge map),
    the number that sets the runtime (cost per pass grows with the edge-map area).

    Args:
        records_by_dataset: the record tables :func:`run_study` will get.
        settings: run settings.
        transfer: whether the synthetic -> LIVE-subset transfer runs.
    Returns:
        One row per training job: dataset, protocol, variant, trainings, images (mean training
        images per training), epochs, passes.
    """
    rows = []
    do_transfer = transfer and {"synthetic", "live_subset"} <= set(records_by_dataset)
    for dataset, records in records_by_dataset.items():
        for protocol in DEFAULT_PROTOCOLS.get(dataset, ("content", "image")):
            sizes = [
                len(train) for _, train, _ in iter_protocol_splits(records, protocol, settings)
            ]
            variants = ["scratch"]
            if do_transfer and dataset == "live_subset" and protocol == "loco":
                variants.append("finetune")
            for variant in variants:
                epochs = settings.finetune_epochs if variant == "finetune" else settings.epochs
                rows.append((dataset, protocol, variant, len(sizes), np.mean(sizes), epochs))
    if do_transfer:
        n = len(records_by_dataset["synthetic"])
        rows.append(("synthetic", "all images", "pretrain", 1, n, settings.epochs))
    out = pd.DataFrame(
        rows, columns=["dataset", "protocol", "variant", "trainings", "images", "epochs"]
    )
    out["passes"] = (out["trainings"] * out["images"] * out["epochs"] * settings.parts).round()
    return out


def _checkpoint_meta(
    dataset: str,
    run: ProtocolRun,
    variant: str,
    settings: RegressionSettings,
    per_split: pd.DataFrame,
) -> dict:
    split = run.last_split
    rows = per_split[
        (per_split["dataset"] == dataset)
        & (per_split["protocol"] == split["protocol"])
        & (per_split["method"] == method_label(settings.model_name, variant))
        & (per_split["repeat"] == split["repeat"])
    ]
    metric_cols = ["n", *metrics_lib.METRICS, "srocc_ci_low", "srocc_ci_high"]
    return {
        "dataset": dataset,
        "task": TASK,
        "model_name": settings.model_name,
        "method": method_label(settings.model_name, variant),
        "variant": variant,
        "split": split,
        "seed": settings.seed + split["repeat"],
        "epochs": settings.finetune_epochs if variant == "finetune" else settings.epochs,
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
        timings: seconds per (dataset, protocol, variant).
        tables: paths of the written tables.
    """

    predictions: dict[str, pd.DataFrame]
    per_split: pd.DataFrame
    summary: pd.DataFrame
    pooled: pd.DataFrame
    checkpoints: list[Path]
    timings: pd.DataFrame
    tables: dict[str, Path]


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
    if isinstance(datasets, str) and datasets == "auto":
        names = ["synthetic"] + (["live_subset"] if "live_subset" in found else [])
    else:
        names = [datasets] if isinstance(datasets, str) else list(dict.fromkeys(datasets))
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


def run_study(
    records_by_dataset: dict[str, pd.DataFrame],
    settings: RegressionSettings,
    results: str | os.PathLike,
    transfer: bool = True,
    protocols: dict[str, Sequence[str]] | None = None,
) -> StudyResult:
    """Run every protocol on every dataset, the synthetic -> LIVE-subset transfer, and write
    the tables and checkpoints.

    Args:
        records_by_dataset: record tables keyed by dataset name (:func:`load_study_datasets`).
        settings: run settings.
        results: results folder.
        transfer: with both ``synthetic`` and ``live_subset`` present, pretrain on all synthetic
            images and add the "synthetic only" and "fine-tune" methods to the LIVE-subset LOCO.
        protocols: protocols per dataset (default :data:`DEFAULT_PROTOCOLS`, else content+image).
    Returns:
        :class:`StudyResult`. Written: ``tables/regression_predictions_<dataset>.csv``,
        ``tables/regression_per_split.csv``, ``tables/regression_summary.csv``,
        ``tables/regression_pooled.csv``,
        ``tables/regression_content_sharing.csv``, ``tables/regression_timings.csv``, splits
        under ``splits/`` and checkpoints ``models/regression_<dataset>_<protocol>_<variant>``
        (the model of each run's last split; ``regression_synthetic_pretrain`` for transfer).
    """
    results = Path(results)
    protocols = {**DEFAULT_PROTOCOLS, **(protocols or {})}
    runs: list[tuple[str, str, ProtocolRun]] = []  # (dataset, variant, run)
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
            variants = ["scratch"]
            if pretrained is not None and name == "live_subset" and protocol == "loco":
                variants += ["finetune", "synthetic_only"]
            for variant in variants:
                run = run_protocol(
                    records, inputs_by_dataset[name], protocol, settings, variant, pretrained
                )
                runs.append((name, variant, run))
                timings.append((name, protocol, variant, run.seconds))

    predictions = {
        name: pd.concat([r.predictions for n, _, r in runs if n == name], ignore_index=True)
        for name in records_by_dataset
    }
    start = time.perf_counter()
    per_split = split_metrics(
        pd.concat(predictions.values(), ignore_index=True),
        settings.n_boot,
        settings.seed,
        settings.level,
    )
    summary = summarise(per_split)
    pooled = pooled_metrics(
        pd.concat(predictions.values(), ignore_index=True),
        settings.n_boot,
        settings.seed,
        settings.level,
    )
    timings.append(("all", "metrics + bootstrap", "", time.perf_counter() - start))

    checkpoints = []
    for name, variant, run in runs:
        if run.model is None:
            continue
        meta = _checkpoint_meta(name, run, variant, settings, per_split)
        base = results / "models" / f"regression_{name}_{run.last_split['protocol']}_{variant}"
        checkpoints.append(save_checkpoint(run.model, base, meta))
    if pretrained is not None:
        meta = {
            "dataset": "synthetic",
            "task": TASK,
            "model_name": settings.model_name,
            "variant": "pretrain",
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

    timing_table = pd.DataFrame(timings, columns=["dataset", "protocol", "variant", "seconds"])
    tables = {
        f"predictions_{name}": save_table(table, f"regression_predictions_{name}", results)
        for name, table in predictions.items()
    }
    tables["per_split"] = save_table(per_split, "regression_per_split", results)
    tables["summary"] = save_table(summary, "regression_summary", results)
    tables["pooled"] = save_table(pooled, "regression_pooled", results)
    tables["content_sharing"] = save_table(
        content_sharing_effect(summary, pooled), "regression_content_sharing", results
    )
    tables["timings"] = save_table(timing_table, "regression_timings", results)
    return StudyResult(predictions, per_split, summary, pooled, checkpoints, timing_table, tables)


def estimate_pass_seconds(
    settings: RegressionSettings,
    sides: Sequence[int] = (64, 96, 128, 256),
    aspect: float = 2 / 3,
    batch: int | None = None,
    n_batches: int = 3,
) -> pd.DataFrame:
    """Measured seconds per image pass (forward + backward) of the model at several edge-map
    sizes, on this machine now; with :func:`planned_image_passes` it predicts the runtime.

    Args:
        settings: which model.
        sides: longer sides to time.
        aspect: short side / long side (LIVE: 512/768).
        batch: images per timed batch (None: ``settings.batch_size``).
        n_batches: timed batches per size (after one warm-up batch).
    Returns:
        Columns ``edge_max_side, seconds_per_pass``.
    """
    import torch

    batch = batch or settings.batch_size
    rows = []
    for side in sides:
        model = build_model(settings.model_name, task=TASK, seed=0)
        optimiser = torch.optim.Adam(model.parameters())
        x = torch.rand(batch, 1, max(1, round(side * aspect)), side)
        y = torch.rand(batch)
        start = time.perf_counter()
        for i in range(n_batches + 1):
            if i == 1:  # the first batch warms up allocations and is not counted
                start = time.perf_counter()
            loss = torch.nn.functional.mse_loss(model(x), y)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        seconds = (time.perf_counter() - start) / (n_batches * batch)
        rows.append({"edge_max_side": side, "seconds_per_pass": seconds})
    return pd.DataFrame(rows)


def summary_pivot(summary: pd.DataFrame, metric: str = "srocc", digits: int = 3) -> pd.DataFrame:
    """Readable table: one row per (dataset, protocol, method), one column per distortion,
    cells ``median [q25, q75]`` and, for SROCC, the bootstrap interval ``(CI low, high)``."""

    def cell(row: pd.Series) -> str:
        med, lo, hi = (row[f"{metric}_{k}"] for k in ("median", "q25", "q75"))
        if pd.isna(med):
            return "n/a"
        text = f"{med:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"
        if metric == "srocc" and pd.notna(row["srocc_ci_low"]):
            text += f" (CI {row['srocc_ci_low']:.2f}, {row['srocc_ci_high']:.2f})"
        return text

    table = summary.assign(cell=summary.apply(cell, axis=1))
    order = [d for d in dict.fromkeys(table["distortion"]) if d != "ALL"]
    order = sorted(order) + ["ALL"]
    pivot = table.pivot_table(
        index=["dataset", "protocol", "method"],
        columns="distortion",
        values="cell",
        aggfunc="first",
    )
    return pivot.reindex(columns=[d for d in order if d in pivot.columns]).fillna("")


def paper_comparison(summary: pd.DataFrame, pooled: pd.DataFrame | None = None) -> pd.DataFrame:
    """The paper's Table 3 SROCC (as reported by the paper, full LIVE, one split) beside our
    SROCC of every (dataset, protocol, method) run on real LIVE images.

    Args:
        summary: :func:`summarise` output (medians over splits are shown).
        pooled: optional :func:`pooled_metrics` output (adds one ``pooled`` column per run).
    Returns:
        One row per distortion of the paper's table; column ``paper (as reported, LIVE)`` and
        one column ``<dataset> | <protocol> | <method>`` per run (``... | pooled`` likewise).
    """
    out = PAPER_TABLE3.set_index("distortion")[["srocc"]].rename(
        columns={"srocc": "paper (as reported, LIVE)"}
    )
    keys = ["dataset", "protocol", "method"]
    for table, column, tag in ((summary, "srocc_median", "median"), (pooled, "srocc", "pooled")):
        if table is None:
            continue
        real = table[table["dataset"].isin(["live", "live_subset"])]
        for (dataset, protocol, method), part in real.groupby(keys, sort=False):
            values = part.set_index("distortion")[column].reindex(out.index)
            out[f"{dataset} | {protocol} | {method} | {tag}"] = values
    return out.reset_index()

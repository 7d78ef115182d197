"""The 4-class quality classification of :data:`edgeiqa.paper.CITATION`, run over labelled
splits; its tables are built by :mod:`edgeiqa.experiments.classification_tables`.

The paper trains small CNNs on Sobel edge maps (CNN_Full_img, CNN_2x, CNN_4x; Table 2) and a
patch model with majority vote (CNN_1_Mvote) to put each image into one of 4 quality classes
(equal-width bins of the 0-100 scale, :mod:`edgeiqa.data.schema`), and reports accuracy and
weighted precision/recall/F1 on one random 80/20 split of LIVE
(:data:`edgeiqa.paper.CLASSIFICATION`). Here every classifier is trained and tested on repeated
splits of two protocols side by side (:func:`edgeiqa.splits.protocol_splits`): ``content``
(content-disjoint, the field's standard) and ``image`` (the paper's split as we read it,
contents shared between train and test).

A :class:`Classifier` is an architecture (a key of :data:`edgeiqa.models.PAPER_VARIANTS`) and
how the edge maps are cut for it:

- ``parts`` (1, 2, 4): each training edge map is cut into whole / halves / quarters
  (:func:`edgeiqa.edges.split_edge_map`) that inherit its class: our reading of "2x" and "4x"
  as the paper's data enlargement (the architectures also differ in their layers, Table 2).
  At test time ``test_on="pieces"`` (default) cuts the test map the same way and the image's
  class is the argmax of the mean of its pieces' probabilities; ``test_on="whole"`` classifies
  the whole map (spatial pyramid pooling accepts any size).
- ``patch_size`` > 0 (CNN_1_Mvote): training maps are cut into non-overlapping square patches
  (:func:`edgeiqa.edges.cut_patches`) that inherit the image's class; every patch of a test
  image is classified and the image's class is the majority vote (:mod:`edgeiqa.voting`, ties
  documented there). The argmax of the mean patch probability is reported beside it.

Tables name a classifier by ``architecture`` (the key tables are matched on) and by ``method``
(its display label, :attr:`Classifier.label`), never parsing one out of the other.

Validation (best-epoch selection in :func:`edgeiqa.train.fit`) is carved from the training
split only: by content under the ``content`` protocol, by image under ``image``. The test split
is seen once, at the end. The model multiplies every map by one factor computed on the training
split (:func:`edgeiqa.train.input_scale`), part of its weights and so of each checkpoint. Every
split also records the accuracy of always answering the training split's most frequent class
(``majority_baseline``), the bar a classifier must clear.

Notebooks 03 and 04 describe a run by one :class:`ClassificationSettings` and make it with
:func:`run_settings`.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from edgeiqa import splits as splits_lib
from edgeiqa.config import Profile, get_profile
from edgeiqa.data import available_datasets, load_dataset, resolve_datasets
from edgeiqa.data.schema import QUALITY_CLASS_NAMES
from edgeiqa.edges import EdgeParams, cut_patches, edge_maps, split_edge_map
from edgeiqa.experiments.classification_tables import N_CLASSES, split_metrics
from edgeiqa.models import PAPER_VARIANTS, build_model
from edgeiqa.reporting import dataset_label
from edgeiqa.train import TrainConfig, TrainResult, fit, predict, save_checkpoint
from edgeiqa.voting import majority_vote, mean_probabilities

TEST_MODES: tuple[str, ...] = ("pieces", "whole")
PAPER_ARCHITECTURES: tuple[str, ...] = ("CNN_Full_img", "CNN_2x", "CNN_4x")
"""The paper's whole-map classifiers (Table 2), in its order."""


@dataclass(frozen=True)
class Classifier:
    """One quality classifier: an architecture and how it cuts the edge maps.

    Attributes:
        architecture: a key of :data:`edgeiqa.models.PAPER_VARIANTS`.
        parts: pieces per training map (1, 2, 4); ignored when ``patch_size`` > 0.
        patch_size: > 0 trains on square patches of this side (pixels of the edge map) and
            classifies a test image by majority vote of its patches.
        test_on: ``"pieces"`` (cut the test map like the training maps, mean probability) or
            ``"whole"`` (classify the whole test map); patch classifiers always vote.
        batch_size: training batch size in pieces (0: the :class:`TrainConfig`'s). Patch
            classifiers may use larger batches: a patch holds a fraction of an image's area.
    """

    architecture: str
    parts: int = 1
    patch_size: int = 0
    test_on: str = "pieces"
    batch_size: int = 0

    def __post_init__(self) -> None:
        if self.architecture not in PAPER_VARIANTS:
            known = sorted(PAPER_VARIANTS)
            raise ValueError(f"unknown architecture {self.architecture!r}; choose one of {known}")
        if self.parts not in (1, 2, 4):
            raise ValueError(f"parts must be 1, 2 or 4, got {self.parts!r}")
        if self.patch_size < 0:
            raise ValueError(f"patch_size must be >= 0, got {self.patch_size}")
        if self.batch_size < 0:
            raise ValueError(f"batch_size must be >= 0, got {self.batch_size}")
        if self.test_on not in TEST_MODES:
            raise ValueError(f"test_on must be one of {TEST_MODES}, got {self.test_on!r}")

    @property
    def label(self) -> str:
        """Display label (the ``method`` column of tables and figures), e.g. ``CNN_2x (halves)``."""
        if self.patch_size:
            return f"{self.architecture} (patch {self.patch_size}, vote)"
        cut = {1: "whole", 2: "halves", 4: "quarters"}[self.parts]
        suffix = "" if self.parts == 1 or self.test_on == "pieces" else ", test whole"
        return f"{self.architecture} ({cut}{suffix})"

    @property
    def slug(self) -> str:
        """File-name form of :attr:`label`."""
        return re.sub(r"[^A-Za-z0-9]+", "_", self.label).strip("_")

    def cut(self, edge: np.ndarray) -> list[np.ndarray]:
        """The training pieces of one edge map."""
        if self.patch_size:
            return cut_patches(edge, self.patch_size)
        return split_edge_map(edge, self.parts)

    def cut_test(self, edge: np.ndarray) -> list[np.ndarray]:
        """The pieces of one test map the classifier classifies."""
        if self.patch_size or self.test_on == "pieces":
            return self.cut(edge)
        return [edge]


def paper_classifiers(
    architectures: Sequence[str] = PAPER_ARCHITECTURES,
    parts: Mapping[str, int] | None = None,
    test_on: str = "pieces",
) -> list[Classifier]:
    """The paper's whole-map classifiers (default CNN_Full_img, CNN_2x, CNN_4x), each with the
    cut of our reading (``PAPER_VARIANTS[architecture]["parts"]``) unless ``parts`` (architecture
    -> 1, 2 or 4) overrides it, and the given :attr:`Classifier.test_on`."""
    parts = parts or {}
    return [
        Classifier(a, parts=int(parts.get(a, PAPER_VARIANTS[a]["parts"])), test_on=test_on)
        for a in architectures
    ]


def vote_classifiers(
    patch_sizes: Sequence[int], batch_size: int = 0, full_image: bool = True
) -> list[Classifier]:
    """CNN_1_Mvote at every patch side (pixels of the edge map) with ``batch_size`` patches per
    training batch (0: the :class:`TrainConfig`'s), after CNN_Full_img when ``full_image``."""
    out = [Classifier("CNN_Full_img")] if full_image else []
    return out + [
        Classifier("CNN_1_Mvote", patch_size=int(s), batch_size=batch_size) for s in patch_sizes
    ]


@dataclass
class ClassificationRun:
    """What :func:`run_classification` returns.

    Attributes:
        predictions: one row per (classifier, protocol, repeat, test image): ``dataset,
            protocol, repeat, method, architecture, parts, patch_size, test_on, image, content,
            distortion, quality, true_class, predicted_class, predicted_class_mean,
            train_majority_class, n_pieces, prob_0 .. prob_{C-1}`` (``method``: the label;
            ``predicted_class_mean``: argmax of the mean piece probability).
        histories: per-epoch training history of every run (``train.fit``), keyed likewise.
        runs: one row per trained model: keys, ``best_epoch``, ``n_train_images``,
            ``n_test_images``, ``n_train_pieces``, ``input_scale``, ``train_seconds``,
            ``checkpoint`` (``.pt`` path relative to the results folder, or "").
    """

    predictions: pd.DataFrame
    histories: pd.DataFrame
    runs: pd.DataFrame = field(default_factory=pd.DataFrame)


def _pieces(
    classifier: Classifier, maps: Sequence[np.ndarray], test: bool
) -> tuple[list[np.ndarray], np.ndarray]:
    pieces: list[np.ndarray] = []
    parent: list[int] = []
    for i, edge in enumerate(maps):
        cut = classifier.cut_test(edge) if test else classifier.cut(edge)
        pieces.extend(cut)
        parent.extend([i] * len(cut))
    return pieces, np.asarray(parent, dtype=np.int64)


@dataclass
class SplitOutcome:
    """One classifier trained and tested on one split (test images in ``test_idx`` order):
    its decision (majority vote for patch classifiers), the argmax of the mean piece probability,
    that mean probability ``(n, C)``, the :class:`edgeiqa.train.TrainResult`, the numbers of
    training and test pieces, and the model's input scale (:func:`edgeiqa.train.input_scale`)."""

    predicted_class: np.ndarray
    predicted_class_mean: np.ndarray
    probs: np.ndarray
    result: TrainResult
    n_train_pieces: int
    n_test_pieces: int
    input_scale: float


def train_and_predict(
    classifier: Classifier,
    maps: Sequence[np.ndarray],
    classes: np.ndarray,
    groups: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    config: TrainConfig,
) -> SplitOutcome:
    """Train one classifier on ``train_idx`` and classify the images of ``test_idx``.

    ``maps``, ``classes`` and ``groups`` (validation group: content or image id) cover all
    records; ``train_idx``/``test_idx`` are positional. ``config.seed`` also seeds the weight
    initialisation.
    """
    train_maps = [maps[i] for i in train_idx]
    train_pieces, train_parent = _pieces(classifier, train_maps, test=False)
    y_train = np.asarray(classes)[train_idx][train_parent]
    g_train = np.asarray(groups)[train_idx][train_parent]
    model = build_model(
        classifier.architecture, "classification", n_classes=N_CLASSES, seed=config.seed
    )
    result = fit(model, train_pieces, y_train, "classification", config, groups=g_train)
    test_pieces, test_parent = _pieces(classifier, [maps[i] for i in test_idx], test=True)
    piece_probs = predict(
        result.model,
        test_pieces,
        "classification",
        channels_last=config.channels_last,
        precision=config.precision,
    )
    probs = mean_probabilities(piece_probs, test_parent, len(test_idx))
    by_mean = probs.argmax(axis=1)
    if classifier.patch_size:
        predicted = majority_vote(piece_probs, test_parent, len(test_idx))
    else:
        predicted = by_mean
    n_train, n_test = len(train_pieces), len(test_pieces)
    scale = float(result.model.input_scale)
    return SplitOutcome(predicted, by_mean, probs, result, n_train, n_test, scale)


def run_classification(
    records: pd.DataFrame,
    classifiers: Sequence[Classifier],
    protocols: Sequence[str] = ("content", "image"),
    n_repeats: int = 2,
    seed: int = 0,
    test_fraction: float = 0.2,
    edge_params: EdgeParams | None = None,
    train_config: TrainConfig | None = None,
    results: str | os.PathLike | None = None,
    save_models: bool = True,
    progress: bool = True,
    checkpoint_prefix: str = "classification",
) -> ClassificationRun:
    """Train and test every classifier on the splits of each protocol of one dataset.

    The splits come from :func:`edgeiqa.splits.protocol_splits` (``n_repeats`` per protocol,
    content-disjointness checked there), so all classifiers see the same ones. Runs are made
    protocol by protocol, repeat by repeat, classifier by classifier. Repeat ``r`` trains with
    seed ``seed + r`` (weights, batch order, validation carve-out).
    ``train_config.channels_last`` and ``precision`` are used for prediction too.

    Args:
        records: record table of one dataset.
        classifiers: classifiers to run (:func:`paper_classifiers`, :func:`vote_classifiers`).
        protocols: split protocols (``content``, ``image``; ``loco`` validates by content).
        n_repeats: splits per protocol.
        seed: split and training seed.
        test_fraction: share of contents (``content``) or images (``image``) tested.
        edge_params: how edge maps are made (default :class:`EdgeParams`).
        train_config: training settings (default :class:`TrainConfig`); its seed is replaced
            per repeat, its batch size by a classifier's own.
        results, save_models: with both, the model of repeat 0 of every classifier and protocol
            is saved to ``<results>/models/<checkpoint_prefix>_<dataset>_<classifier slug>_
            <protocol>`` (notebooks use their own prefix so as not to overwrite each other's).
        progress: tqdm bars.
    """
    if records["dataset"].nunique() != 1:
        raise ValueError("run_classification takes the records of exactly one dataset")
    if not classifiers:
        raise ValueError("no classifiers given")
    edge_params = edge_params or EdgeParams()
    train_config = train_config or TrainConfig()
    dataset = str(records["dataset"].iloc[0])
    records = records.reset_index(drop=True)
    maps = edge_maps(records, edge_params, progress)
    classes = records["quality_class"].to_numpy(dtype=np.int64)
    jobs = [
        (split, classifier)
        for protocol in protocols
        for split in splits_lib.protocol_splits(records, protocol, n_repeats, seed, test_fraction)
        for classifier in classifiers
    ]
    pred_parts, hist_parts, run_rows = [], [], []
    for split, classifier in tqdm(jobs, desc=f"classification on {dataset}", disable=not progress):
        protocol, repeat, train, test = split.protocol, split.repeat, split.train, split.test
        groups = records["image" if protocol == "image" else "content"].to_numpy()
        batch_size = classifier.batch_size or train_config.batch_size
        config = replace(train_config, seed=seed + repeat, batch_size=batch_size)
        start = time.perf_counter()
        outcome = train_and_predict(classifier, maps, classes, groups, train, test, config)
        result = outcome.result
        seconds = time.perf_counter() - start
        train_majority = int(np.bincount(classes[train], minlength=N_CLASSES).argmax())
        keys = {
            "dataset": dataset,
            "protocol": protocol,
            "repeat": repeat,
            "method": classifier.label,
            "architecture": classifier.architecture,
            "parts": classifier.parts,
            "patch_size": classifier.patch_size,
            "test_on": classifier.test_on,
        }
        rows = records.iloc[test][["image", "content", "distortion", "quality"]].copy()
        for name, value in reversed(keys.items()):
            rows.insert(0, name, value)
        rows["true_class"] = classes[test]
        rows["predicted_class"] = outcome.predicted_class
        rows["predicted_class_mean"] = outcome.predicted_class_mean
        rows["train_majority_class"] = train_majority
        rows["n_pieces"] = outcome.n_test_pieces / len(test)
        for c in range(N_CLASSES):
            rows[f"prob_{c}"] = outcome.probs[:, c]
        pred_parts.append(rows)
        history = result.history.copy()
        for name, value in reversed(keys.items()):
            history.insert(0, name, value)
        hist_parts.append(history)
        checkpoint = ""
        if save_models and results is not None and repeat == 0:
            path = Path(results) / "models"
            path /= f"{checkpoint_prefix}_{dataset}_{classifier.slug}_{protocol}"
            meta = {
                **keys,
                "task": "classification",
                "model": classifier.architecture,
                "seed": config.seed,
                "split_seed": seed,
                "test_fraction": test_fraction,
                "epochs": config.epochs,
                "best_epoch": result.best_epoch,
                "batch_size": config.batch_size,
                "lr": config.lr,
                "edge_params": asdict(edge_params),
                "input_scale": outcome.input_scale,
                "class_names": list(QUALITY_CLASS_NAMES),
                "test_contents": sorted(set(records["content"].iloc[test])),
                "n_train_images": len(train),
                "n_test_images": len(test),
                "metrics": split_metrics(rows),
            }
            saved = Path(save_checkpoint(result.model, path, meta))
            checkpoint = saved.relative_to(Path(results)).as_posix()
        run_rows.append(
            {
                **keys,
                "best_epoch": result.best_epoch,
                "n_train_images": len(train),
                "n_test_images": len(test),
                "n_train_pieces": outcome.n_train_pieces,
                "input_scale": outcome.input_scale,
                "train_seconds": seconds,
                "checkpoint": checkpoint,
            }
        )
    return ClassificationRun(
        predictions=pd.concat(pred_parts, ignore_index=True),
        histories=pd.concat(hist_parts, ignore_index=True),
        runs=pd.DataFrame(run_rows),
    )


def repeats_for(profile: Profile, cap: int | None = None) -> int:
    """Repeats per protocol a classification notebook runs on ``profile``:
    ``min(cap, profile.n_repeats)``, or ``n_repeats`` when the cap is 0 (default cap:
    ``profile.classification_max_repeats``)."""
    cap = profile.classification_max_repeats if cap is None else cap
    return profile.n_repeats if cap <= 0 else min(cap, profile.n_repeats)


@dataclass(frozen=True)
class ClassificationSettings:
    """Everything one classification notebook run needs (notebooks 03 and 04).

    ``profile`` is the run's profile with its overrides (its name sizes the synthetic set);
    ``datasets`` are in run order, official releases included when asked; ``seed`` seeds the
    splits, the synthetic set and training; the other fields are :func:`run_classification`'s.
    """

    profile: Profile
    datasets: tuple[str, ...]
    classifiers: tuple[Classifier, ...]
    protocols: tuple[str, ...]
    n_repeats: int
    seed: int
    edge_params: EdgeParams
    train_config: TrainConfig
    save_models: bool = True
    checkpoint_prefix: str = "classification"

    @property
    def test_fraction(self) -> float:
        """Share of contents or images tested (the profile's)."""
        return self.profile.test_fraction

    @classmethod
    def from_profile(
        cls,
        profile_name: str,
        *,
        datasets: str | Sequence[str] = ("synthetic", "live_subset"),
        include_official: bool = True,
        classifiers: Sequence[Classifier] | None = None,
        protocols: Sequence[str] = ("content", "image"),
        n_repeats: int | None = None,
        max_repeats: int | None = None,
        epochs: int | None = None,
        edge_max_side: int | None = None,
        lr: float = 1e-3,
        val_fraction: float = 0.1,
        seed: int = 0,
        save_models: bool = True,
        checkpoint_prefix: str = "classification",
    ) -> ClassificationSettings:
        """A notebook's parameters made into settings; None takes the profile's value.

        ``datasets`` go through :func:`edgeiqa.data.resolve_datasets` (a listed one that is
        absent fails when loaded); ``include_official`` adds every other dataset found under the
        data root. ``classifiers`` default to :func:`paper_classifiers`. ``n_repeats`` (None or
        0) becomes :func:`repeats_for` the profile, capped by ``max_repeats`` (None: the
        profile's ``classification_max_repeats``; notebook 04 passes ``mvote_max_repeats``).
        ``epochs`` and ``edge_max_side`` override the profile's ``epochs`` and
        ``classification_edge_max_side``.
        """
        prof = get_profile(profile_name, epochs=epochs, classification_edge_max_side=edge_max_side)
        names = resolve_datasets(datasets)
        named = names + ["synthetic", "live_subset"]
        if include_official:
            names += [n for n in available_datasets() if n not in named]
        return cls(
            profile=prof,
            datasets=tuple(names),
            classifiers=tuple(paper_classifiers() if classifiers is None else classifiers),
            protocols=tuple(protocols),
            n_repeats=n_repeats or repeats_for(prof, max_repeats),
            seed=seed,
            edge_params=EdgeParams(max_side=prof.classification_edge_max_side),
            train_config=TrainConfig(
                epochs=prof.epochs,
                batch_size=prof.batch_size,
                lr=lr,
                val_fraction=val_fraction,
                seed=seed,
            ),
            save_models=save_models,
            checkpoint_prefix=checkpoint_prefix,
        )

    def describe(self) -> str:
        """What the run is, in the lines a notebook prints before training."""
        repeats = f"{self.n_repeats} repeat(s) per protocol; {self.train_config.epochs} epochs"
        methods = ", ".join(c.label for c in self.classifiers)
        datasets = ", ".join(f"{n} = {dataset_label(n)}" for n in self.datasets)
        return (
            f"profile: {self.profile.name}; {repeats}\nedge maps: {self.edge_params}\n"
            f"methods: {methods}\ndatasets: {datasets}"
        )


def run_settings(
    settings: ClassificationSettings,
    results: str | os.PathLike | None,
    progress: bool = True,
) -> ClassificationRun:
    """Load every dataset of ``settings`` (the synthetic set built for its profile and seed) and
    run :func:`run_classification` on each in order, checkpoints under ``results``; the runs'
    tables are concatenated, dataset after dataset."""
    s, runs = settings, []
    for name in s.datasets:
        kwargs = {"profile": s.profile.name, "seed": s.seed} if name == "synthetic" else {}
        runs.append(
            run_classification(
                load_dataset(name, **kwargs), s.classifiers, s.protocols, s.n_repeats, s.seed,
                s.test_fraction, s.edge_params, s.train_config, results, s.save_models,
                progress, s.checkpoint_prefix,
            )
        )  # fmt: skip
    tables = [
        pd.concat([getattr(r, name) for r in runs], ignore_index=True)
        for name in ("predictions", "histories", "runs")
    ]
    return ClassificationRun(*tables)

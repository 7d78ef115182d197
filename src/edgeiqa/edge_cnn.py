"""The paper's edge-map CNN as a quality-prediction method (regression of the score).

The architecture (``models.build_model(model_name, task="regression")``: Sobel edge maps, 2-3
conv layers, spatial pyramid pooling, fully connected layers, one sigmoid output read as
quality/100) is the one of :data:`edgeiqa.paper.CITATION`; :class:`RegressionSettings` holds every
choice where the paper is silent (see :mod:`edgeiqa.experiments.regression`), and
:class:`EdgeCNNRegression` puts it behind the :class:`~edgeiqa.methods.Method` interface so every
experiment (notebook 05's protocols, notebook 06's comparison and cross-dataset runs) trains and
predicts it the same way.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from edgeiqa.config import Profile
from edgeiqa.edges import EdgeParams, edge_maps, enlarge, split_edge_map
from edgeiqa.methods import Method, SplitContext
from edgeiqa.models import PAPER_VARIANTS, EdgeCNN, build_model
from edgeiqa.train import TrainConfig, TrainResult, fit, predict

TASK = "regression"


REGIMES: dict[str, str] = {
    "scratch": "",
    "finetune": "synthetic pretrain + fine-tune",
    "synthetic_only": "synthetic only",
}
"""Training regimes: their key (checkpoint and figure names) and the suffix of the method
label."""


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


def method_label(model_name: str, regime: str = "scratch") -> str:
    """Method name used in every table, e.g. ``"CNN_Full_img (regression)"`` (a display label:
    code keeps the architecture and regime as fields, never parses them back out of it)."""
    if regime not in REGIMES:
        raise ValueError(f"unknown training regime {regime!r}; choose one of {list(REGIMES)}")
    suffix = REGIMES[regime]
    return f"{model_name} (regression{', ' + suffix if suffix else ''})"


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


def _record_keys(records: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(records["dataset"].astype(str), records["image"].astype(str), strict=True))


@dataclass
class EdgeCNNRegression(Method):
    """The paper's edge-map CNN regressor as a :class:`~edgeiqa.methods.Method`.

    ``fit`` trains :func:`train_regressor` on the training records' edge maps (seed
    ``settings.seed + repeat``); ``predict`` gives :func:`predict_quality` of the test records.

    Attributes:
        settings: architecture (``model_name``), epochs, edge-map size, pieces, seed.
        regime: ``scratch`` (fresh weights), ``finetune`` (start from ``pretrained``) or
            ``synthetic_only`` (``pretrained`` as it is, nothing trained).
        pretrained: the synthetic model for ``finetune``/``synthetic_only``.
    """

    settings: RegressionSettings = field(default_factory=RegressionSettings)
    regime: str = "scratch"
    pretrained: EdgeCNN | None = None
    kind: str = "trained"
    trained_on: tuple[str, ...] = ()
    model: EdgeCNN | None = field(default=None, init=False, repr=False)
    _inputs: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        method_label(self.settings.model_name, self.regime)  # validates the regime
        if self.regime != "scratch" and self.pretrained is None:
            raise ValueError(f"regime {self.regime!r} needs a pretrained model")
        # fine-tuning starts every split from the same pretrained weights
        self._init_state = (
            copy.deepcopy(self.pretrained.state_dict()) if self.pretrained is not None else None
        )

    @property
    def name(self) -> str:
        return method_label(self.settings.model_name, self.regime)

    @property
    def architecture(self) -> str:
        return self.settings.model_name

    def use_inputs(self, records: pd.DataFrame, inputs: Sequence[np.ndarray]) -> None:
        """Take these edge maps of ``records`` instead of computing them from image files."""
        self._inputs.update(zip(_record_keys(records), inputs, strict=True))

    def prepare(self, records: pd.DataFrame) -> None:
        missing = [k not in self._inputs for k in _record_keys(records)]
        if any(missing):
            self.use_inputs(records[missing], edge_inputs(records[missing], self.settings))

    def _maps(self, records: pd.DataFrame) -> list[np.ndarray]:
        self.prepare(records)
        return [self._inputs[k] for k in _record_keys(records)]

    def fit(self, train: pd.DataFrame, context: SplitContext | None = None) -> None:
        if self.regime == "synthetic_only":
            self.model = self.pretrained
            return
        repeat = context.repeat if context is not None else 0
        self.model = train_regressor(
            self._maps(train),
            train["quality"].to_numpy(dtype=float),
            train["content"].to_numpy(),
            self.settings,
            seed=self.settings.seed + repeat,
            init_state=self._init_state,
            finetune=self.regime == "finetune",
        ).model

    def predict(self, test: pd.DataFrame, context: SplitContext | None = None) -> np.ndarray:
        if self.model is None:
            raise RuntimeError(f"{self.name}: predict() before fit()")
        return predict_quality(self.model, self._maps(test), self.settings)

"""One trainer for the edge-map CNNs of :mod:`edgeiqa.models` (the "deep fake score" paper's
classification and 0-1 regression models), seeded and deterministic on the CPU.

Choices (the paper gives only "40 epochs" and the 80/20 split):

- optimiser Adam (``lr``, ``weight_decay`` in :class:`TrainConfig`);
- classification loss: cross-entropy on logits; regression loss: mean squared error on the
  0-1 sigmoid output (``loss="l1"`` for mean absolute error);
- validation: ``val_fraction`` of the *given* training inputs, carved by ``groups`` (e.g. content
  ids) when given so that no content straddles train and validation; the test split is never
  passed here. The weights of the epoch with the lowest validation loss are restored at the end
  (with ``val_fraction=0`` the last epoch is kept);
- batches: only equal-sized inputs are stacked; inputs are grouped by shape, shuffled within each
  shape, cut into batches, and the batches shuffled across shapes, all from one numpy Generator
  seeded by ``seed``;
- determinism: ``torch.use_deterministic_algorithms`` is switched on for the duration of
  :func:`fit` (warn-only on GPUs, where some pooling kernels have no deterministic version), the
  global torch RNG is forked and seeded so the caller's RNG state is untouched;
- device ``"auto"`` picks a GPU when ``torch.cuda.is_available()``; the same code runs either way;
- speed: :mod:`edgeiqa.runtime` is the one fast path (threads set once, channels-last, bf16
  convolutions where the device has native kernels, micro-batches with gradient accumulation),
  used by every experiment through :func:`fit` and :func:`predict`;
- crops (``crop``): each epoch, every training map larger than ``crop`` pixels on a side is
  replaced by a random ``crop x crop`` window (seeded), so native-resolution maps of different
  sizes batch together; validation and :func:`predict` always see whole maps, which spatial
  pyramid pooling allows. Off by default: it is a recipe choice, not a speed lever.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import stats
from torch import nn
from tqdm.auto import tqdm

from edgeiqa import runtime
from edgeiqa.errors import one_line
from edgeiqa.models import TASKS, EdgeCNN
from edgeiqa.runtime import PIXEL_BUDGET, bf16_supported


@dataclass
class TrainConfig:
    """Settings of one training run.

    Attributes:
        epochs: passes over the training inputs (paper: 40).
        batch_size: images per batch (batches hold equal-sized images only).
        lr: Adam learning rate.
        weight_decay: Adam weight decay.
        val_fraction: share of the training inputs (of groups, when given) held out for
            validation and best-epoch selection; 0 disables validation.
        seed: seeds the batch order, the validation carve-out and dropout.
        device: ``"auto"`` (GPU when available), ``"cpu"`` or ``"cuda"``.
        progress: show a tqdm bar over epochs.
        loss: regression loss, ``"mse"`` or ``"l1"`` (classification always uses cross-entropy).
        channels_last: channels-last memory format for the conv layers (speed option,
            :mod:`edgeiqa.runtime`; same results up to float rounding).
        precision: ``"auto"`` (bf16 convolutions where the device has native bf16 kernels, else
            fp32), ``"fp32"`` or ``"bf16"`` (:func:`edgeiqa.runtime.resolve_precision`).
        pixel_budget: most map pixels per forward/backward pass; larger batches run as
            micro-batches with gradients accumulated (speed option, same optimisation). None:
            the measured budget of :func:`edgeiqa.runtime.pixel_budget`.
        crop: side of the random square training crops (0: whole maps; see the module
            docstring). Changes what the model sees, so it is a recipe setting.
        scale_inputs: set the model's ``input_scale`` to 1 / std of the training pixels
            (:func:`input_scale`) before training; without it the paper's 4 fully connected
            layers stayed near chance for 40 epochs on fixed-scale Sobel maps.
    """

    epochs: int = 40
    batch_size: int = 16
    lr: float = 1e-3
    weight_decay: float = 0.0
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    loss: str = "mse"
    channels_last: bool = True
    precision: str = "auto"
    pixel_budget: int | None = None
    crop: int = 0
    scale_inputs: bool = True


@dataclass
class TrainResult:
    """What :func:`fit` returns.

    Attributes:
        model: the trained model with the best-validation weights, in eval mode.
        history: one row per epoch: epoch, train_loss, val_loss, val_metric (accuracy for
            classification, Spearman SROCC for regression; NaN without validation).
        best_epoch: the epoch (1-based) whose weights were kept.
    """

    model: nn.Module
    history: pd.DataFrame
    best_epoch: int


def resolve_device(device: str = "auto") -> torch.device:
    """``"auto"`` -> ``cuda`` when available, else ``cpu``; anything else is passed to torch."""
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _autocast(device: torch.device, enabled: bool):
    if not enabled:
        return nullcontext()
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16)


@contextmanager
def _deterministic(device: torch.device) -> Iterator[None]:
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    torch.use_deterministic_algorithms(True, warn_only=device.type != "cpu")
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)


def _as_arrays(inputs: Sequence[np.ndarray]) -> list[np.ndarray]:
    arrays = []
    for i, item in enumerate(inputs):
        array = np.asarray(item, dtype=np.float32)
        if array.ndim != 2 or min(array.shape) < 1:
            raise ValueError(f"input {i}: expected a 2-D edge map, got shape {array.shape}")
        if not np.isfinite(array).all():
            raise ValueError(f"input {i}: edge map contains NaN or infinite values")
        arrays.append(array)
    if not arrays:
        raise ValueError("no inputs given")
    return arrays


def _check_targets(targets: np.ndarray, n: int, task: str, n_outputs: int) -> np.ndarray:
    targets = np.asarray(targets)
    if targets.shape != (n,):
        raise ValueError(f"targets: expected shape ({n},) to match the inputs, got {targets.shape}")
    if task == "classification":
        if not np.issubdtype(targets.dtype, np.integer):
            if not np.all(np.equal(np.mod(targets, 1), 0)):
                raise ValueError("targets: classification needs integer class indices")
        targets = targets.astype(np.int64)
        if targets.min() < 0 or targets.max() >= n_outputs:
            raise ValueError(
                f"targets: class indices must be in 0..{n_outputs - 1}, "
                f"got {targets.min()}..{targets.max()}"
            )
        return targets
    targets = targets.astype(np.float32)
    if not np.isfinite(targets).all() or targets.min() < 0 or targets.max() > 1:
        raise ValueError("targets: regression targets must be finite and in 0-1 (quality/100)")
    return targets


def _check_task(model: nn.Module, task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, got {task!r}")
    model_task = getattr(model, "task", task)
    if model_task != task:
        raise ValueError(
            f"model {getattr(model, 'name', '')} was built for {model_task!r}, not {task!r}"
        )


def split_validation(
    n: int, val_fraction: float, seed: int, groups: Sequence | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, validation) carved from ``n`` training inputs.

    With ``groups``, whole groups go to validation (shuffled, then taken until at least
    ``val_fraction`` of the inputs are held out), so no group straddles the two.

    Args:
        n: number of inputs.
        val_fraction: target share held out (0 gives an empty validation set).
        seed: seeds the choice.
        groups: a group label per input (e.g. content id), or None for a per-input choice.

    Returns:
        Sorted train and validation index arrays.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    everything = np.arange(n)
    if val_fraction == 0:
        return everything, everything[:0]
    rng = np.random.default_rng([seed, 1])
    if groups is None:
        n_val = min(n - 1, max(1, round(val_fraction * n)))
        if n_val < 1:
            raise ValueError(f"cannot carve a validation set from {n} input(s); use val_fraction=0")
        val = rng.permutation(n)[:n_val]
    else:
        labels = np.asarray(groups)
        if labels.shape != (n,):
            raise ValueError(f"groups: expected {n} labels to match the inputs, got {labels.shape}")
        unique = np.unique(labels)
        if len(unique) < 2:
            raise ValueError(
                f"cannot carve a group-aware validation set from {len(unique)} group(s); "
                "give more groups or use val_fraction=0"
            )
        chosen: list = []
        held = 0
        for label in rng.permutation(unique):
            if held >= val_fraction * n or len(chosen) == len(unique) - 1:
                break
            chosen.append(label)
            held += int(np.sum(labels == label))
        val = np.flatnonzero(np.isin(labels, chosen))
    val = np.sort(val)
    return np.setdiff1d(everything, val), val


def _batches(
    shapes: list[tuple[int, int]],
    indices: np.ndarray,
    batch_size: int,
    rng: np.random.Generator | None,
) -> list[np.ndarray]:
    """Batches of equal-shaped inputs; shuffled within and across shapes when ``rng`` is given."""
    by_shape: dict[tuple[int, int], list[int]] = defaultdict(list)
    for i in indices:
        by_shape[shapes[i]].append(int(i))
    batches = []
    for shape in sorted(by_shape):
        members = np.asarray(by_shape[shape])
        if rng is not None:
            members = members[rng.permutation(len(members))]
        batches += [members[s : s + batch_size] for s in range(0, len(members), batch_size)]
    if rng is not None:
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return batches


def _crop_windows(
    shapes: list[tuple[int, int]], indices: np.ndarray, crop: int, rng: np.random.Generator
) -> dict[int, tuple[int, int, int, int]]:
    """``{index: (top, left, height, width)}``: a random window of at most ``crop`` per side."""
    windows = {}
    for i in indices:
        height, width = shapes[i]
        h, w = min(crop, height), min(crop, width)
        top = int(rng.integers(0, height - h + 1))
        left = int(rng.integers(0, width - w + 1))
        windows[int(i)] = (top, left, h, w)
    return windows


def _stack(
    arrays: list[np.ndarray],
    batch: np.ndarray,
    device,
    channels_last: bool,
    windows: dict[int, tuple[int, int, int, int]] | None = None,
):
    if windows:
        maps = []
        for i in batch:
            top, left, h, w = windows[int(i)]
            maps.append(arrays[i][top : top + h, left : left + w])
    else:
        maps = [arrays[i] for i in batch]
    x = torch.from_numpy(np.stack(maps))[:, None].to(device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    return x


def input_scale(train_maps: Sequence[np.ndarray]) -> float:
    """``1 / std`` of all training pixels (1.0 when that is 0), the model's input factor.

    Computed on the training inputs only (never validation or test), and applied to training
    and test maps alike, so every image stays on one common scale and 0 stays "no edge".
    """
    total = sum(float(np.asarray(m, dtype=np.float64).sum()) for m in train_maps)
    count = sum(int(np.asarray(m).size) for m in train_maps)
    if count == 0:
        return 1.0
    mean = total / count
    sq = sum(float(((np.asarray(m, dtype=np.float64) - mean) ** 2).sum()) for m in train_maps)
    std = (sq / count) ** 0.5
    return 1.0 / std if std > 0 else 1.0


def _loss(output: torch.Tensor, target: torch.Tensor, task: str, loss: str) -> torch.Tensor:
    if task == "classification":
        return F.cross_entropy(output, target)
    if loss == "l1":
        return F.l1_loss(output, target)
    return F.mse_loss(output, target)


def fit(
    model: nn.Module,
    inputs: Sequence[np.ndarray],
    targets: np.ndarray,
    task: str,
    config: TrainConfig,
    groups: Sequence | None = None,
) -> TrainResult:
    """Train ``model`` on edge maps and keep the best-validation weights.

    Args:
        model: an :class:`~edgeiqa.models.EdgeCNN` (or any module taking ``(N, 1, H, W)``) built
            for ``task``; it is trained in place.
        inputs: 2-D float32 edge maps of any sizes; equal-sized ones are batched together.
        targets: class indices (classification) or floats in 0-1 = quality/100 (regression).
        task: ``"classification"`` or ``"regression"``.
        config: :class:`TrainConfig`.
        groups: a group label per input (e.g. content id) so that the validation split keeps
            groups whole; None splits per input.

    Returns:
        :class:`TrainResult` with the model (best-validation weights, eval mode), the per-epoch
        history and the best epoch.
    """
    _check_task(model, task)
    if config.loss not in ("mse", "l1"):
        raise ValueError(f"TrainConfig.loss must be 'mse' or 'l1', got {config.loss!r}")
    if config.epochs < 1 or config.batch_size < 1:
        raise ValueError("TrainConfig.epochs and batch_size must be positive")
    if config.crop < 0 or (config.pixel_budget is not None and config.pixel_budget < 1):
        raise ValueError("TrainConfig.crop must be >= 0 and pixel_budget positive")
    arrays = _as_arrays(inputs)
    n_outputs = getattr(model, "n_outputs", None) or 1
    y = _check_targets(targets, len(arrays), task, n_outputs)
    device = resolve_device(config.device)
    runtime.ensure_threads()
    precision = runtime.resolve_precision(config.precision, device)
    use_bf16 = precision == "bf16"
    budget = config.pixel_budget or runtime.pixel_budget(precision, training=True)
    channels = _first_channels(model)
    train_idx, val_idx = split_validation(len(arrays), config.val_fraction, config.seed, groups)
    if config.scale_inputs and isinstance(getattr(model, "input_scale", None), torch.Tensor):
        model.input_scale.fill_(input_scale([arrays[i] for i in train_idx]))
    shapes = [a.shape for a in arrays]
    rng = np.random.default_rng([config.seed, 2])
    val_batches = _inference_batches(shapes, val_idx, config.batch_size, PIXEL_BUDGET, channels)
    y_all = torch.from_numpy(y).to(device)

    model.to(device)
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    optimiser = torch.optim.Adam(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    rows = []
    best_loss, best_epoch, best_state = math.inf, config.epochs, None
    cuda_devices = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda_devices), _deterministic(device):
        torch.manual_seed(config.seed)
        bar = tqdm(
            range(1, config.epochs + 1),
            desc=f"fit {getattr(model, 'name', '')}",
            disable=not config.progress,
            leave=False,
        )
        for epoch in bar:
            model.train()
            total, count = 0.0, 0
            windows = _crop_windows(shapes, train_idx, config.crop, rng) if config.crop else None
            epoch_shapes = list(shapes)
            for i, (_, _, h, w) in (windows or {}).items():
                epoch_shapes[i] = (h, w)
            for batch in _batches(epoch_shapes, train_idx, config.batch_size, rng):
                optimiser.zero_grad(set_to_none=True)
                # micro-batches: the recipe's batch, computed in cache-sized passes whose
                # gradients add up to the batch mean's (runtime module docstring)
                for part in _passes(batch, epoch_shapes, budget, channels):
                    x = _stack(arrays, part, device, config.channels_last, windows)
                    target = y_all[torch.from_numpy(part).to(device)]
                    with _autocast(device, use_bf16):
                        output = model(x)
                    loss = _loss(output.float(), target, task, config.loss)
                    (loss * (len(part) / len(batch))).backward()
                    total += float(loss.detach()) * len(part)
                    count += len(part)
                optimiser.step()
            row = {
                "epoch": epoch,
                "train_loss": total / count,
                "val_loss": np.nan,
                "val_metric": np.nan,
            }
            if len(val_idx):
                row.update(_evaluate(model, arrays, y, val_batches, task, config, device, use_bf16))
                if row["val_loss"] < best_loss:
                    best_loss, best_epoch = row["val_loss"], epoch
                    best_state = copy.deepcopy(model.state_dict())
            rows.append(row)
            bar.set_postfix(train=f"{row['train_loss']:.4f}", val=f"{row['val_loss']:.4f}")
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return TrainResult(model=model, history=pd.DataFrame(rows), best_epoch=best_epoch)


def _evaluate(model, arrays, y, batches, task, config, device, use_bf16) -> dict[str, float]:
    model.eval()
    outputs, order = [], []
    with torch.inference_mode(), _autocast(device, use_bf16):
        for batch in batches:
            outputs.append(model(_stack(arrays, batch, device, config.channels_last)).float())
            order.append(batch)
    output = torch.cat(outputs)
    idx = np.concatenate(order)
    target = torch.from_numpy(y[idx]).to(device)
    loss = float(_loss(output, target, task, config.loss))
    if task == "classification":
        metric = float((output.argmax(1) == target).float().mean())
    else:
        predicted = output.cpu().numpy()
        metric = (
            float(stats.spearmanr(y[idx], predicted).statistic)
            if len(idx) > 1 and np.ptp(predicted) > 0 and np.ptp(y[idx]) > 0
            else np.nan
        )
    return {"val_loss": loss, "val_metric": metric}


def _first_channels(model: nn.Module) -> int:
    """Filters of the model's first convolution (sizes its passes; 16 if it has none)."""
    for layer in model.modules():
        if isinstance(layer, nn.Conv2d):
            return int(layer.out_channels)
    return runtime.BUDGET_CHANNELS


def _passes(
    batch: np.ndarray, shapes: list[tuple[int, int]], pixel_budget: int, channels: int
) -> list[np.ndarray]:
    """``batch`` (equal-shaped inputs) cut into consecutive passes within the pixel budget."""
    step = runtime.micro_batch(shapes[batch[0]], pixel_budget, channels)
    return [batch[start : start + step] for start in range(0, len(batch), step)]


def _inference_batches(
    shapes: list[tuple[int, int]],
    indices: np.ndarray,
    batch_size: int,
    pixel_budget: int,
    channels: int = runtime.BUDGET_CHANNELS,
) -> list[np.ndarray]:
    """Batches of equal-shaped inputs in a fixed order, each within the pixel budget."""
    batches = []
    for batch in _batches(shapes, indices, batch_size, None):
        batches += _passes(batch, shapes, pixel_budget, channels)
    return batches


def predict(
    model: nn.Module,
    inputs: Sequence[np.ndarray],
    task: str,
    batch_size: int = 32,
    *,
    channels_last: bool = True,
    precision: str = "auto",
    pixel_budget: int = PIXEL_BUDGET,
) -> np.ndarray:
    """Predictions for edge maps of any sizes, in input order (the fast path of
    :mod:`edgeiqa.runtime`).

    Args:
        model: a trained model for ``task`` (used on whichever device it sits).
        inputs: 2-D float32 edge maps.
        task: ``"classification"`` or ``"regression"``.
        batch_size: most images per forward pass (equal-sized images only).
        channels_last: channels-last memory format for model and inputs (speed option).
        precision: ``"auto"``, ``"fp32"`` or ``"bf16"`` (:class:`TrainConfig`).
        pixel_budget: most map pixels per forward pass.

    Returns:
        Classification: class probabilities ``(N, C)``; regression: ``(N,)`` in 0-1.
    """
    _check_task(model, task)
    arrays = _as_arrays(inputs)
    device = next(model.parameters()).device
    runtime.ensure_threads()
    use_bf16 = runtime.resolve_precision(precision, device) == "bf16"
    outputs: list[np.ndarray | None] = [None] * len(arrays)
    model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    model.eval()
    shapes = [a.shape for a in arrays]
    with torch.inference_mode(), _autocast(device, use_bf16):
        for batch in _inference_batches(
            shapes, np.arange(len(arrays)), batch_size, pixel_budget, _first_channels(model)
        ):
            output = model(_stack(arrays, batch, device, channels_last)).float()
            if task == "classification":
                output = torch.softmax(output, dim=1)
            for i, value in zip(batch, output.cpu().numpy(), strict=True):
                outputs[i] = value
    return np.stack(outputs).astype(np.float32)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def _base_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_suffix("") if path.suffix in (".pt", ".json") else path


def save_checkpoint(model: nn.Module, path: str | Path, meta: dict) -> Path:
    """Write ``<path>.pt`` (weights + the arguments that rebuild the model) and ``<path>.json``.

    Args:
        model: an :class:`~edgeiqa.models.EdgeCNN`.
        path: checkpoint path without suffix (a ``.pt``/``.json`` suffix is dropped).
        meta: what to record beside the weights (dataset, split, seed, epochs, metrics, model
            name, task, ...); must be JSON-serialisable up to numpy scalars/arrays and paths.

    Returns:
        The ``.pt`` path.
    """
    if not isinstance(model, EdgeCNN):
        raise ValueError(f"save_checkpoint needs an EdgeCNN, got {type(model).__name__}")
    base = _base_path(path)
    base.parent.mkdir(parents=True, exist_ok=True)
    meta_json = json.dumps(
        {**meta, "model_args": model.init_kwargs, "torch_version": torch.__version__},
        indent=2,
        default=_json_default,
        sort_keys=True,
    )
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    pt_path = base.with_suffix(".pt")
    torch.save(
        {"state_dict": state, "model_args": model.init_kwargs, "meta_json": meta_json}, pt_path
    )
    base.with_suffix(".json").write_text(meta_json + "\n")
    return pt_path


def load_checkpoint(path: str | Path) -> tuple[nn.Module, dict]:
    """Rebuild the model saved by :func:`save_checkpoint` (on the CPU, eval mode).

    Args:
        path: the ``.pt`` path or the checkpoint path without suffix.

    Returns:
        (model, meta), where meta is the JSON record (including ``model_args``).
    """
    pt_path = _base_path(path).with_suffix(".pt")
    if not pt_path.is_file():
        raise FileNotFoundError(f"{pt_path}: checkpoint not found")
    try:
        saved = torch.load(pt_path, map_location="cpu", weights_only=True)
        model = EdgeCNN(**saved["model_args"])
        model.load_state_dict(saved["state_dict"])
        meta = json.loads(saved["meta_json"])
    except Exception as error:  # noqa: BLE001 - torch.load raises many types for a bad file
        # one line naming the file; never torch's advice to retry with weights_only=False,
        # which would run code from an untrusted file
        detail = None
        if isinstance(error, pickle.UnpicklingError):
            detail = "not a weights file, or it holds objects other than weights"
        elif isinstance(error, EOFError):
            detail = "the file ends early (empty or cut off)"
        reason = one_line(error, detail)
        raise ValueError(f"{pt_path}: not a readable edgeiqa checkpoint ({reason})") from None
    model.eval()
    return model, meta


__all__ = [
    "TrainConfig",
    "TrainResult",
    "bf16_supported",
    "fit",
    "load_checkpoint",
    "predict",
    "resolve_device",
    "save_checkpoint",
    "split_validation",
]

"""How the edge-map CNNs run on this machine: the one fast path of training and inference.

Nothing here changes the recipe (architecture, optimiser, batch size, epochs, data); each lever
only changes how the same arithmetic is laid out, and each was measured against the plain eager
fp32 batch-1 loop by ``benchmarks/bench_training.py`` (its README has the figures):

- **threads**: torch's intra-op thread count is set once per process (:func:`set_threads`), from
  the argument, else ``EDGEIQA_THREADS``, else torch's default (the physical cores). Notebooks and
  the trainer call it; a second call with the same count is a no-op, so no module quietly
  changes the count another one chose.
- **channels-last** memory for the conv layers: oneDNN's native layout on the CPU, where it is
  several times faster than the contiguous layout for these 1-channel-input networks.
- **bfloat16 convolutions** where the device has native bf16 kernels (``precision="auto"``):
  only the conv stack runs under bf16 autocast; spatial pyramid pooling and the fully connected
  layers stay in fp32 (:class:`edgeiqa.models.EdgeCNN` leaves autocast for them), so the score
  keeps float32 resolution and a regression output is not rounded to bf16's 8-bit mantissa.
  ``"fp32"`` switches it off; the benchmark's accuracy check compares both.
- **micro-batches**: a batch whose maps hold more than the pixel budget runs as several
  forward/backward passes whose gradients are accumulated, each pass weighted by its share of the
  batch, so the optimiser sees the recipe's batch (identical up to float rounding when there is
  no dropout); small maps are stacked up to the budget. The budgets were measured at 768x512 on
  the 2-core machine (interleaved, 5 runs of 16 maps): inference is fastest one map per pass
  (:data:`PIXEL_BUDGET`); bf16 training about 25% faster with two maps per pass than one
  (CNN_Full_img 105 against 84 maps/s, CNN_4x 94 against 79) and slower with four
  (:data:`BF16_TRAIN_PIXEL_BUDGET`); fp32 training slower with two maps than one. What fills the
  caches is activations, so a network with a wider first convolution gets proportionally fewer
  pixels per pass (:func:`micro_batch`): CNN_2x (32 filters) trained 2.4x faster than naive with
  two maps per pass and 3.8x with one.
"""

from __future__ import annotations

import os

import torch

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")

PIXEL_BUDGET: int = 768 * 512
"""Most edge-map pixels in one forward pass: one LIVE-sized map (inference, fp32 training)."""

BUDGET_CHANNELS: int = 16
"""First-layer filters the pixel budgets were measured for (CNN_Full_img, CNN_4x)."""

BF16_TRAIN_PIXEL_BUDGET: int = 2 * PIXEL_BUDGET
"""Most pixels in one forward/backward pass of bf16 training (two LIVE-sized maps)."""

_threads_set: int | None = None


def set_threads(threads: int | None = None) -> int:
    """Set torch's intra-op threads once for the process and return the count in use.

    Args:
        threads: the count; ``None`` or 0 reads ``EDGEIQA_THREADS`` and falls back to torch's
            default (the number of physical cores).

    Returns:
        The thread count now in use.
    """
    global _threads_set
    if not threads:
        env = os.environ.get("EDGEIQA_THREADS", "").strip()
        if env:
            try:
                threads = int(env)
            except ValueError:
                raise ValueError(f"EDGEIQA_THREADS={env!r}: not a whole number") from None
    if threads is not None and threads < 0:
        raise ValueError(f"threads must be positive, got {threads}")
    if threads and threads != torch.get_num_threads():
        torch.set_num_threads(threads)
    _threads_set = torch.get_num_threads()
    return _threads_set


def ensure_threads() -> int:
    """:func:`set_threads` with the defaults, unless the process already chose a count."""
    return _threads_set if _threads_set is not None else set_threads()


def bf16_supported(device: torch.device) -> bool:
    """Whether the device has native bfloat16 kernels (on a CPU: avx512_bf16 or AMX)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def resolve_precision(precision: str, device: torch.device) -> str:
    """``"auto"`` -> ``"bf16"`` where the device has native bf16 kernels, else ``"fp32"``;
    ``"bf16"`` asked for on a device without them is an error rather than a slow emulation."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    native = bf16_supported(device)
    if precision == "auto":
        return "bf16" if native else "fp32"
    if precision == "bf16" and not native:
        raise ValueError(f"precision 'bf16': {device} has no native bfloat16 kernels; use 'fp32'")
    return precision


def pixel_budget(precision: str, training: bool) -> int:
    """The measured pixel budget of a pass for a resolved ``precision`` (module docstring)."""
    return BF16_TRAIN_PIXEL_BUDGET if training and precision == "bf16" else PIXEL_BUDGET


def micro_batch(
    shape: tuple[int, ...], pixel_budget: int = PIXEL_BUDGET, channels: int = BUDGET_CHANNELS
) -> int:
    """How many maps of ``shape`` (H, W) go into one pass (at least 1).

    The budget is in pixels of a network whose first convolution has :data:`BUDGET_CHANNELS`
    filters; a wider first layer (``channels``) holds proportionally more activations per pixel,
    so fewer maps go into a pass (CNN_2x, with 32 filters, trains one 768x512 map per pass).
    """
    pixels = int(shape[-2]) * int(shape[-1]) * max(1, channels)
    return max(1, pixel_budget * BUDGET_CHANNELS // max(1, pixels))


__all__ = [
    "BF16_TRAIN_PIXEL_BUDGET",
    "BUDGET_CHANNELS",
    "PIXEL_BUDGET",
    "PRECISIONS",
    "bf16_supported",
    "ensure_threads",
    "micro_batch",
    "pixel_budget",
    "resolve_precision",
    "set_threads",
]

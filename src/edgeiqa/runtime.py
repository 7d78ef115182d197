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
- **micro-batches**: a batch whose maps hold more than :data:`PIXEL_BUDGET` pixels runs as
  several forward/backward passes whose gradients are accumulated, each pass weighted by its
  share of the batch, so the optimiser sees the recipe's batch (identical up to float rounding
  when there is no dropout). One 768x512 map's activations already overflow the L2 cache, and
  larger passes measured slower; small maps are stacked up to the budget.
"""

from __future__ import annotations

import os

import torch

PRECISIONS: tuple[str, ...] = ("auto", "fp32", "bf16")

PIXEL_BUDGET: int = 768 * 512
"""Most edge-map pixels in one forward pass (one LIVE-sized map; see the module docstring)."""

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


def micro_batch(shape: tuple[int, ...], pixel_budget: int = PIXEL_BUDGET) -> int:
    """How many maps of ``shape`` (H, W) go into one forward pass (at least 1)."""
    pixels = int(shape[-2]) * int(shape[-1])
    return max(1, pixel_budget // max(1, pixels))


def describe(device: torch.device | None = None) -> dict[str, object]:
    """The speed settings in use, for benchmark tables and checkpoint cards."""
    device = device or torch.device("cpu")
    return {
        "threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "bf16_native": bf16_supported(device),
        "torch": torch.__version__,
    }


__all__ = [
    "PIXEL_BUDGET",
    "PRECISIONS",
    "bf16_supported",
    "describe",
    "ensure_threads",
    "micro_batch",
    "resolve_precision",
    "set_threads",
]

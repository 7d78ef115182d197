"""Counts of cache hits and misses in this process, for the study's timing table.

A notebook's wall time means little without knowing how much of the work came from caches (a
warm edge-map cache turns minutes into seconds), so the caches call :func:`record` and
``make reproduce`` writes the counts next to each notebook's wall time in
``results/benchmarks/study_timings.csv`` (see :mod:`edgeiqa.timings`).

When the environment variable ``EDGEIQA_CACHE_LOG`` names a file, the counts are written there
as JSON (``{"edges": {"hits": n, "misses": m}, ...}``) when the process exits. Papermill runs a
notebook in a Jupyter kernel that inherits the environment and is shut down gracefully at the
end, so the kernel's exit writes the log (checked with papermill 2.7 / nbclient 0.11). Writing
once at exit rather than on every event keeps the caches' hot path free of file I/O. The
writer adds its counts to those already in the file, under a lock, so that several processes
sharing one log (a notebook that starts helpers) are all counted; the Makefile removes a stale
log before each run.
"""

from __future__ import annotations

import atexit
import json
import os
from collections import defaultdict
from pathlib import Path

from edgeiqa.fileio import locked_folder, write_atomic

ENV_VAR = "EDGEIQA_CACHE_LOG"

_counts: defaultdict[str, dict[str, int]] = defaultdict(lambda: {"hits": 0, "misses": 0})
_registered = False

# A forked child starts with no events of its own (it inherits the exit writer, if registered,
# which then writes only the child's counts), so the parent's events are never counted twice.
os.register_at_fork(after_in_child=_counts.clear)


def record(cache: str, hit: bool) -> None:
    """Count one lookup of ``cache`` (e.g. ``"edges"``): a hit (reused) or a miss (computed)."""
    global _registered
    _counts[cache]["hits" if hit else "misses"] += 1
    if not _registered and os.environ.get(ENV_VAR, "").strip():
        atexit.register(_write_log)
        _registered = True


def snapshot() -> dict[str, dict[str, int]]:
    """A copy of the counts so far: ``{cache: {"hits": n, "misses": m}}``."""
    return {name: dict(c) for name, c in sorted(_counts.items())}


def reset() -> None:
    """Forget the counts so far (tests)."""
    _counts.clear()


def merge(a: dict[str, dict[str, int]], b: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    """Sum of two count tables, per cache and per ``hits`` / ``misses``."""
    out: dict[str, dict[str, int]] = {}
    for table in (a, b):
        for name, c in table.items():
            row = out.setdefault(name, {"hits": 0, "misses": 0})
            row["hits"] += int(c.get("hits", 0))
            row["misses"] += int(c.get("misses", 0))
    return dict(sorted(out.items()))


def write_log(path: str | os.PathLike) -> None:
    """Add this process's counts to the JSON log at ``path`` (created if missing), atomically."""
    target = Path(path)
    # another process sharing the log may be exiting at the same time
    with locked_folder(target.parent):
        try:
            previous = json.loads(target.read_text())
        except (FileNotFoundError, ValueError):
            previous = {}
        counts = merge(previous, snapshot())
        write_atomic(target, lambda fh: json.dump(counts, fh, indent=1), text=True)


def _write_log() -> None:
    path = os.environ.get(ENV_VAR, "").strip()
    if path and _counts:
        write_log(path)

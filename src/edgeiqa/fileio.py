"""Files the study writes while other processes may read them: whole or not at all.

Caches (edge maps, baseline features), the cache-count log and the timing table are written by
notebooks that ``make -j`` may run in parallel and that a user may kill. Every writer goes
through :func:`write_atomic` (a temporary file in the target's folder, renamed over the target,
removed if the write fails), read-modify-write cycles hold :func:`locked_folder`, and cached
arrays are read with :func:`load_npy`, which says what is wrong with a damaged entry instead of
raising, so the caller can rebuild it.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from edgeiqa.errors import DataError


def write_atomic(
    target: str | os.PathLike,
    write: Callable[[IO], None],
    *,
    text: bool = False,
    permissions: int | None = None,
) -> None:
    """Write ``target`` through ``write(file)`` so that readers see the old file or the new one.

    Args:
        target: the file; its folder must exist.
        write: writes the content to the open temporary file.
        text: open the temporary file in text mode (UTF-8, no newline translation).
        permissions: mode bits for the new file (``mkstemp`` makes it private to the owner).
    Raises:
        OSError: the folder is not writable (the temporary file is removed).
    """
    target = Path(target)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=f"{target.suffix}.tmp")
    try:
        if text:
            with os.fdopen(fd, "w", newline="", encoding="utf-8") as fh:
                write(fh)
        else:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
        if permissions is not None:
            os.chmod(tmp, permissions)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # no orphan after a failed or interrupted write
        raise


@contextmanager
def locked_folder(folder: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (created if missing) for a read-modify-write; no lock
    file is left behind."""
    Path(folder).mkdir(parents=True, exist_ok=True)
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def load_npy(path: str | os.PathLike) -> tuple[np.ndarray | None, str | None]:
    """``(array, None)``, or ``(None, what is wrong)`` for an entry that cannot be read (empty,
    cut off, not a ``.npy`` file, or holding pickled objects)."""
    try:
        return np.load(path, allow_pickle=False), None
    except (OSError, ValueError, EOFError) as exc:
        return None, f"unreadable ({type(exc).__name__})"


def save_cache_npy(target: str | os.PathLike, array: np.ndarray, what: str) -> None:
    """Store a cache entry atomically, creating its folder; an unwritable cache is a one-line
    :class:`DataError` naming the folder (``what``: e.g. ``"edge-map"``)."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(target, lambda fh: np.save(fh, array))
    except OSError as exc:
        raise DataError(
            f"{target.parent}: {what} cache not writable ({exc.strerror}); "
            "set EDGEIQA_CACHE to a writable folder"
        ) from None


__all__ = ["load_npy", "locked_folder", "save_cache_npy", "write_atomic"]

"""Per-image cache of baseline features under ``cache_dir()/baselines/<kind>/``.

Features depend only on the image file and the extractor's settings, so the key is a hash of the
file's absolute path, size and modification time plus the extractor's name and settings; an
edited image or a changed setting gets a new entry. Entries are ``.npy`` files and can be deleted
at any time.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from edgeiqa import cachestats, config
from edgeiqa.fileio import load_npy, save_cache_npy


def cache_key(image_path: str | os.PathLike, settings: str) -> str:
    """Hash of the image file's identity and the extractor ``settings`` string."""
    path = Path(image_path).resolve()
    stat = path.stat()
    ident = f"{path}|{stat.st_size}|{stat.st_mtime_ns}|{settings}"
    return hashlib.sha1(ident.encode()).hexdigest()


def cached_features(
    kind: str,
    image_path: str | os.PathLike,
    settings: str,
    compute: Callable[[], np.ndarray],
) -> np.ndarray:
    """Load the cached feature array of ``image_path`` or compute and store it.

    Args:
        kind: extractor name, the cache sub-folder (e.g. ``"brisque"``).
        image_path: the image the features describe (must exist).
        settings: every setting that changes the result, as a string.
        compute: called with no arguments when the entry is missing.
    Returns:
        The feature array.
    """
    folder = config.cache_dir() / "baselines" / kind
    out = folder / f"{cache_key(image_path, settings)}.npy"
    if out.is_file():
        values, problem = load_npy(out)
        if problem is None:
            cachestats.record(f"baselines/{kind}", hit=True)
            return values
        # a damaged entry (a killed write, a disk error) is rebuilt, and said once
        tqdm.write(f"{out}: cached {kind} features {problem}; rebuilt", file=sys.stderr)
    cachestats.record(f"baselines/{kind}", hit=False)
    values = np.asarray(compute())
    save_cache_npy(out, values, "feature")
    return values

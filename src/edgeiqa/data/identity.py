"""Which images are the same image, whatever folder or name they were loaded under.

A published model (the authors' BRISQUE, trained on all of LIVE Release 2) has seen every LIVE
image; its predictions on one are not a test. Flagging by dataset name misses a LIVE image loaded
from another folder (a user's own labelled folder, a copy under another name), so overlap is
decided by **image identity**: the SHA-256 of the decoded RGB pixels and the image size. Pixel
identity, not file bytes, so a lossless re-encoding (LIVE's BMP as the subset's PNG) is the same
image.

What a model was trained on is named by the datasets of its training data
(:attr:`edgeiqa.methods.Method.trained_on`); :func:`training_digests` hashes every image of those
datasets that is present under the data root. Datasets that are absent contribute nothing: we
can only recognise images we have (with only the LIVE subset at hand, a LIVE image outside it
loaded under another name is not recognised; the dataset-name check still catches the LIVE
loaders).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.baselines.cache import cached_features
from edgeiqa.data.images import read_rgb
from edgeiqa.data.registry import DATASETS, load_dataset
from edgeiqa.errors import DataError

DIGEST_VERSION = "pixels-sha256-v1"


def image_digest(image_path: str | os.PathLike) -> str:
    """SHA-256 (hex) of the image's size and decoded 8-bit RGB pixels (cached per file)."""

    def compute() -> np.ndarray:
        rgb = np.ascontiguousarray(read_rgb(image_path))
        digest = hashlib.sha256(f"{rgb.shape}".encode() + rgb.tobytes()).digest()
        return np.frombuffer(digest, dtype=np.uint8).copy()

    return bytes(cached_features("digest", image_path, DIGEST_VERSION, compute)).hex()


def digests(paths: Iterable[str | os.PathLike]) -> list[str]:
    """:func:`image_digest` of each path, in order."""
    return [image_digest(p) for p in paths]


@lru_cache(maxsize=16)
def _dataset_digests(name: str, root: str) -> frozenset[str]:
    try:
        records = load_dataset(name, root)
    except DataError:
        return frozenset()  # not at hand: its images cannot be recognised (module docstring)
    paths = set(records["image_path"].astype(str))
    if "ref_path" in records:
        paths |= {p for p in records["ref_path"].fillna("").astype(str) if p}
    return frozenset(digests(sorted(paths)))


def training_digests(
    datasets: Iterable[str], root: str | os.PathLike | None = None
) -> frozenset[str]:
    """Digests of every image (distorted and reference) of ``datasets`` present under the data
    root. Unknown names and the synthetic set (built here, never anyone's training data) give
    nothing."""
    from edgeiqa import config

    base = str(Path(root) if root is not None else config.data_root())
    names = [n for n in datasets if n in DATASETS and n != "synthetic"]
    return frozenset().union(*(_dataset_digests(n, base) for n in names))


def seen_in_training(
    records: pd.DataFrame, datasets: Iterable[str], root: str | os.PathLike | None = None
) -> np.ndarray:
    """True for each record whose image a model trained on ``datasets`` has seen: its dataset is
    one of them (dataset-and-name identity) or its pixels are those of one of their images."""
    datasets = tuple(datasets)
    if not datasets or records.empty:
        return np.zeros(len(records), dtype=bool)
    by_name = records["dataset"].astype(str).isin(datasets).to_numpy()
    known = training_digests(datasets, root)
    if not known:
        return by_name
    by_pixels = np.array([d in known for d in digests(records["image_path"])], dtype=bool)
    return by_name | by_pixels

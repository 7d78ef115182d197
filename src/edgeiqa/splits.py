"""Train/test splits.

Two protocols, always labelled:

- ``content``: content-disjoint. Reference contents are shuffled and 20% of them (at least one)
  go to test, so no content is on both sides. This is how the field evaluates NR-IQA.
- ``image``: the paper's protocol as we read it: a random 80/20 split over images, so the same
  content (often the same scene at another distortion level) is on both sides.

Splits are a pure function of (image list, protocol, repeat, seed), so every notebook that asks
for them gets the same ones; :func:`write_splits` saves them to ``results/splits/`` for readers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

PROTOCOLS: dict[str, str] = {
    "content": "content-disjoint 80/20",
    "image": "paper protocol: random 80/20 over images (contents shared)",
}


def _rng(seed: int, repeat: int, protocol: str) -> np.random.Generator:
    return np.random.default_rng([seed, repeat, 0 if protocol == "content" else 1])


def split_indices(
    records: pd.DataFrame,
    protocol: str,
    repeat: int,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """Positional (train, test) indices into ``records`` for one repeat of ``protocol``."""
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown split protocol {protocol!r}; choose one of {sorted(PROTOCOLS)}")
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = _rng(seed, repeat, protocol)
    n = len(records)
    if protocol == "content":
        contents = np.array(sorted(records["content"].unique()))
        if len(contents) < 2:
            raise ValueError("a content-disjoint split needs at least 2 contents")
        n_test = min(len(contents) - 1, max(1, int(round(test_fraction * len(contents)))))
        test_contents = rng.permutation(contents)[:n_test]
        is_test = records["content"].isin(test_contents).to_numpy()
    else:
        n_test = min(n - 1, max(1, int(round(test_fraction * n))))
        is_test = np.zeros(n, dtype=bool)
        is_test[rng.permutation(n)[:n_test]] = True
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def iter_splits(
    records: pd.DataFrame,
    protocol: str,
    n_repeats: int,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Yield ``(repeat, train_idx, test_idx)`` for ``n_repeats`` repeats."""
    for repeat in range(n_repeats):
        yield (repeat, *split_indices(records, protocol, repeat, seed, test_fraction))


def leave_one_content_out(records: pd.DataFrame) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Yield ``(content, train_idx, test_idx)`` with each content held out once (small sets)."""
    contents = records["content"].to_numpy()
    for content in sorted(set(contents)):
        is_test = contents == content
        yield content, np.flatnonzero(~is_test), np.flatnonzero(is_test)


def splits_table(
    records: pd.DataFrame,
    protocol: str,
    n_repeats: int,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> pd.DataFrame:
    """Long table ``dataset, protocol, repeat, image, content, subset`` (subset: train/test)."""
    rows = []
    for repeat, train, test in iter_splits(records, protocol, n_repeats, seed, test_fraction):
        for subset, idx in (("train", train), ("test", test)):
            part = records.iloc[idx][["dataset", "image", "content"]].copy()
            part.insert(1, "protocol", protocol)
            part.insert(2, "repeat", repeat)
            part["subset"] = subset
            rows.append(part)
    return pd.concat(rows, ignore_index=True)


def write_splits(table: pd.DataFrame, results: str | os.PathLike) -> Path:
    """Write a :func:`splits_table` to ``<results>/splits/<dataset>_<protocol>.csv``."""
    dataset = table["dataset"].iloc[0]
    protocol = table["protocol"].iloc[0]
    out = Path(results) / "splits" / f"{dataset}_{protocol}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False)
    return out


def check_content_disjoint(records: pd.DataFrame, train: np.ndarray, test: np.ndarray) -> None:
    """Raise ``AssertionError`` if any content appears on both sides of a split."""
    shared = set(records["content"].iloc[train]) & set(records["content"].iloc[test])
    if shared:
        raise AssertionError(f"contents on both sides of the split: {sorted(shared)}")

"""Train/test splits.

Three protocols, always labelled (:data:`PROTOCOL_NAMES`):

- ``content``: content-disjoint. Reference contents are shuffled and 20% of them (at least one)
  go to test, so no content is on both sides. This is how the field evaluates NR-IQA.
- ``image``: the paper's protocol as we read it: a random 80/20 split over images, so the same
  content (often the same scene at another distortion level) is on both sides.
- ``loco``: leave-one-content-out, one fold per content in sorted order (sets with few contents).

:func:`protocol_splits` is the one function every experiment takes its splits from. Splits are a
pure function of (image list, protocol, repeat, seed), so every notebook that asks for them gets
the same ones; :func:`write_splits` saves them to ``results/splits/`` for readers. A notebook that
evaluates another notebook's predictions does not re-derive them: :func:`splits_from_test_images`
takes each split's test images from the predictions and its training images as their complement.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

PROTOCOLS: dict[str, str] = {
    "content": "content-disjoint 80/20",
    "image": "paper protocol: random 80/20 over images (contents shared)",
}
"""The repeated random protocols (``n_repeats`` draws each)."""

PROTOCOL_NAMES: dict[str, str] = {**PROTOCOLS, "loco": "leave-one-content-out"}
"""Every protocol :func:`protocol_splits` knows, with its description."""


@dataclass(frozen=True)
class Split:
    """One train/test split of a record table: positional indices, never overlapping.

    Attributes:
        protocol: a key of :data:`PROTOCOL_NAMES`.
        repeat: the repeat (``content``/``image``) or fold number (``loco``, sorted contents).
        train: positional indices of the training images.
        test: positional indices of the test images.
    """

    protocol: str
    repeat: int
    train: np.ndarray
    test: np.ndarray


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


def protocol_splits(
    records: pd.DataFrame,
    protocol: str,
    n_repeats: int = 1,
    seed: int = 0,
    test_fraction: float = 0.2,
) -> list[Split]:
    """Every split of ``protocol`` on ``records``: the one place experiments take splits from.

    ``content`` and ``image`` give ``n_repeats`` draws of :func:`split_indices`; ``loco`` gives
    one fold per content (``n_repeats``, ``seed`` and ``test_fraction`` do not apply). Content
    disjointness of ``content`` and ``loco`` splits is checked as they are made.

    Raises:
        ValueError: an unknown protocol.
    """
    if protocol == "loco":
        out = [
            Split("loco", repeat, train, test)
            for repeat, (_, train, test) in enumerate(leave_one_content_out(records))
        ]
    elif protocol in PROTOCOLS:
        out = [
            Split(protocol, repeat, train, test)
            for repeat, train, test in iter_splits(
                records, protocol, n_repeats, seed, test_fraction
            )
        ]
    else:
        raise ValueError(f"unknown protocol {protocol!r}; choose one of {list(PROTOCOL_NAMES)}")
    if protocol != "image":
        for split in out:
            check_content_disjoint(records, split.train, split.test)
    return out


def splits_from_test_images(records: pd.DataFrame, predictions: pd.DataFrame) -> list[Split]:
    """The splits behind a prediction table: each (protocol, repeat)'s test images as listed,
    its training images as their complement in ``records``; sorted by (protocol, repeat).

    This is how notebook 06 evaluates baselines on notebook 05's splits without re-deriving them
    from a seed. A content-disjoint protocol (``content``, ``loco``) is checked for disjointness.

    Args:
        records: the dataset's record table (column ``image``).
        predictions: rows with ``protocol, repeat, image``.
    Raises:
        ValueError: a listed image is not in ``records``.
    """
    position = pd.Series(np.arange(len(records)), index=records["image"].to_numpy())
    unknown = sorted(set(predictions["image"]) - set(position.index))
    if unknown:
        raise ValueError(f"image {unknown[0]} is not in the records")
    out = []
    keys = predictions[["protocol", "repeat"]].drop_duplicates().itertuples(index=False)
    for protocol, repeat in sorted(keys):
        listed = predictions.loc[
            (predictions["protocol"] == protocol) & (predictions["repeat"] == repeat), "image"
        ]
        is_test = np.zeros(len(records), dtype=bool)
        is_test[position.loc[listed.unique()].to_numpy()] = True
        split = Split(str(protocol), int(repeat), np.flatnonzero(~is_test), np.flatnonzero(is_test))
        if split.protocol != "image":
            check_content_disjoint(records, split.train, split.test)
        out.append(split)
    return out


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

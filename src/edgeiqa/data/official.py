"""The one path every official loader (LIVE, CSIQ, TID2008/2013, KADID-10k) takes from a
release folder to a record table.

Each release module keeps only what is its own: the names its label file goes by, how that
file is parsed into label rows, its score range and raw-to-quality mapping, and its path rules.
Everything else happens here, in the same order for every release:

1. :func:`label_path` - the label file asked for must exist;
2. the release's parser turns it into rows (``image``, ``ref``, ``content``, ``distortion``,
   ``level`` ..., and the score as published in ``raw`` with its line number in ``row``);
3. :func:`score_rows` - ``raw`` becomes the float ``raw_score``; rows whose score is not a
   number or lies outside the documented range are reported and dropped;
4. :func:`finish_labels` - ``raw_scale`` and ``quality`` are added and repeated images dropped:
   this is what a label-only read returns;
5. :func:`load_records` - finds the label file among the release's candidate names, reads it
   (steps 1-4 through the release's ``read_labels``), resolves every image and reference on
   disk and finalises the record table (:func:`edgeiqa.data.schema.finalise_records`).

LIVE takes steps 1 and 3 inside its own readers (its .mat files are opened by scipy, it
documents no score range and its CSV messages name the file's own paths); steps 2, 4 and 5 are
the same as for the others.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.data.labelfiles import (
    FileIndex,
    Problems,
    drop_duplicates,
    find_label_file,
    parse_scores,
    resolve_images,
)
from edgeiqa.data.schema import finalise_records
from edgeiqa.errors import DataError


def label_path(path: str | Path) -> Path:
    """``path`` as a Path; DataError when no file is there."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: label file missing")
    return path


def score_rows(
    rows: pd.DataFrame,
    path: Path,
    problems: Problems,
    valid: tuple[float, float],
    what: str,
) -> pd.DataFrame:
    """Parse the ``raw`` score of each label row into ``raw_score`` (see
    :func:`edgeiqa.data.labelfiles.parse_scores`).

    Args:
        rows: label rows with ``image``, ``raw`` (the cell as published) and ``row`` (its
            1-based line in the label file, used in messages).
        path: the label file, used in messages.
        problems: where problems go.
        valid: inclusive range the release documents for its score.
        what: name of the score in messages (``MOS``, ``DMOS``).
    Returns:
        the rows whose score parsed, with ``raw_score`` in place of ``raw`` and ``row``.
    """
    rows = rows.copy()
    rows["raw_score"] = parse_scores(
        list(rows["raw"]), list(rows["image"]), path, problems, valid, list(rows["row"]), what
    )
    return rows.loc[rows["raw_score"].notna()].drop(columns=["raw", "row"])


def finish_labels(
    df: pd.DataFrame,
    path: Path,
    problems: Problems,
    raw_scale: str,
    to_quality: Callable[[np.ndarray], np.ndarray],
) -> pd.DataFrame:
    """The label table of a release: ``raw_scale`` and ``quality`` added, repeats dropped.

    The raw-to-quality mapping is applied here, on the label rows, so that label-only reads
    and :func:`load_records` give the same quality.

    Args:
        df: label rows with a float ``raw_score``.
        path: the label file, used in messages.
        problems: where problems (repeated images) go.
        raw_scale: what the raw score is (name, range, direction).
        to_quality: raw scores (float array) to quality on 0-100, higher = better.
    Returns:
        the table, the first row of each image kept, index 0..n-1.
    """
    df = df.assign(raw_scale=raw_scale, quality=to_quality(df["raw_score"].to_numpy(dtype=float)))
    return drop_duplicates(df, path, problems).reset_index(drop=True)


def load_records(
    folder: str | Path,
    label_files: Sequence[str],
    read_labels: Callable[..., pd.DataFrame],
    variant: str,
    class_edges: Sequence[float],
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Record table of an official release folder.

    Args:
        folder: the release folder (label file and images below it).
        label_files: names the label file may have, in order of preference (any case).
        read_labels: the release's label reader, called as ``read_labels(path,
            problems=problems)``; returns the label table with ``image`` and ``ref`` named
            relative to ``folder``.
        variant: dataset name written to the ``dataset`` column.
        class_edges: quality-class bin edges.
        problems: collect problems here and drop those rows instead of raising on the first.
    Returns:
        the record table (:mod:`edgeiqa.data.schema`) plus the release's own columns.
    """
    folder = Path(folder)
    path = find_label_file(folder, label_files)
    labels = read_labels(path, problems=problems)
    df = resolve_images(labels, FileIndex(folder), path, Problems(problems))
    return finalise_records(df.drop(columns="ref"), variant, class_edges)

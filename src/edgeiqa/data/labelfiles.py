"""Pieces every official loader (LIVE, CSIQ, TID, KADID-10k) shares.

- :class:`Problems`: a loader reports each problem in the data through it. By default the first
  problem raises :class:`DataError` (one line, naming the file and the row or image); the check
  CLI passes a list instead, so that every problem of a dataset is collected and the offending
  rows are dropped.
- :class:`FileIndex`: case-insensitive lookup of files under a dataset folder (releases differ
  in case between their label files and their file names, e.g. TID's ``I01_01_1.bmp`` listed
  for ``i01_01_1.bmp`` on disk).
- Label-table helpers: reading a table, checking columns, parsing scores, dropping duplicates,
  resolving images, finding image files that no label row names.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.errors import DataError

IMAGE_SUFFIXES = (".bmp", ".png", ".jpg", ".jpeg", ".tif", ".tiff")


class Problems:
    """Raise on the first problem (``collect=None``) or append every problem to ``collect``."""

    def __init__(self, collect: list[str] | None = None) -> None:
        self.collect = collect

    def __call__(self, message: str) -> None:
        if self.collect is None:
            raise DataError(message)
        self.collect.append(message)


class FileIndex:
    """Every file under ``folder``, looked up by relative path regardless of case."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._files: dict[str, Path] = {}
        for dirpath, _dirs, files in os.walk(self.folder):
            for name in files:
                path = Path(dirpath) / name
                key = path.relative_to(self.folder).as_posix().lower()
                # an exact-case twin wins over a case variant; keep the first otherwise
                self._files.setdefault(key, path)

    def find(self, relative: str) -> Path | None:
        """The file at ``relative`` (``/``-separated, any case), or None."""
        exact = self.folder / relative
        if exact.is_file():
            return exact
        return self._files.get(relative.replace("\\", "/").lower())

    def images(self, under: str = "") -> list[Path]:
        """Image files (by suffix) below the sub-folder ``under`` (any case)."""
        prefix = under.strip("/").lower()
        prefix = prefix + "/" if prefix else ""
        return sorted(
            p
            for k, p in self._files.items()
            if k.startswith(prefix) and p.suffix.lower() in IMAGE_SUFFIXES
        )


def find_label_file(folder: Path, candidates: Sequence[str]) -> Path:
    """The first of ``candidates`` present in ``folder`` (any case); DataError naming all."""
    if not folder.is_dir():
        raise DataError(f"{folder}: dataset folder does not exist")
    present = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for name in candidates:
        if name.lower() in present:
            return present[name.lower()]
    raise DataError(f"{folder}: no label file (expected one of {', '.join(candidates)})")


def read_csv(path: Path) -> pd.DataFrame:
    """A CSV label table with stripped column names; unreadable files are a DataError."""
    try:
        df = pd.read_csv(path, skipinitialspace=True, dtype=str, keep_default_na=False)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise DataError(f"{path}: unreadable label file ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip() for c in df.columns]
    return df.apply(lambda col: col.str.strip())


def read_strict_csv(path: Path) -> pd.DataFrame:
    """A UTF-8 CSV table of strings whose every row has the header's field count.

    ``pandas.read_csv`` reads a row with one field too many (a decimal comma: ``21,9``) by
    shifting the first column into the index, and a latin-1 file as a raw decode error; both
    become one-line :class:`DataError` s naming the file and the line here.
    """
    try:
        text = Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from None
    except OSError as exc:
        raise DataError(f"{path}: unreadable label file ({exc.strerror})") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows or not any(field.strip() for field in rows[0]):
        raise DataError(f"{path}: empty label file (no header)")
    header = [field.strip() for field in rows[0]]
    body = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue  # a blank line
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {number} has {len(row)} fields, the header has {len(header)} "
                "(a decimal comma or a stray separator?)"
            )
        body.append([field.strip() for field in row])
    if not body:
        raise DataError(f"{path}: no label rows below the header")
    return pd.DataFrame(body, columns=header, dtype=str)


def require_columns(df: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{path}: missing column(s) {missing}; found {[str(c) for c in df.columns]}"
        )


def parse_scores(
    values: Sequence[object],
    names: Sequence[str],
    path: Path,
    problems: Problems,
    valid: tuple[float, float] | None = None,
    rows: Sequence[int] | None = None,
    what: str = "score",
) -> np.ndarray:
    """Scores as floats; a non-numeric or out-of-range value is a problem (NaN returned for it).

    Args:
        values: raw cells.
        names: image name of each row, used in messages.
        path: label file, used in messages.
        problems: where problems go.
        valid: inclusive range the dataset documents; values outside it are reported.
        rows: 1-based row/line number of each value in the label file (default: position + 1).
        what: name of the score in messages.
    Returns:
        float array, NaN where the value was reported as a problem.
    """
    out = np.full(len(values), np.nan)
    for i, (value, name) in enumerate(zip(values, names, strict=True)):
        row = rows[i] if rows is not None else i + 1
        try:
            x = float(value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            x = np.nan
        if not np.isfinite(x):
            problems(f"{path}: row {row} ({name}): {what} {value!r} is not a number")
            continue
        if valid is not None and not valid[0] <= x <= valid[1]:
            problems(
                f"{path}: row {row} ({name}): {what} {x:g} is outside the documented range "
                f"{valid[0]:g}-{valid[1]:g}"
            )
            continue
        out[i] = x
    return out


def drop_duplicates(df: pd.DataFrame, path: Path, problems: Problems) -> pd.DataFrame:
    """Keep the first row of each ``image`` (case-insensitive); each repeat is a problem."""
    dup = df["image"].str.lower().duplicated()
    for name in df.loc[dup, "image"]:
        problems(f"{path}: image {name} is listed more than once")
    return df.loc[~dup]


def resolve_images(
    df: pd.DataFrame, index: FileIndex, label_path: Path, problems: Problems
) -> pd.DataFrame:
    """Replace ``image``/``ref`` names by the files on disk, dropping rows whose files are missing.

    ``image`` becomes the on-disk relative path; ``image_path``/``ref_path`` are absolute.
    Missing files are reported as one problem naming the first missing file and the count.
    """
    df = df.copy()
    found = [index.find(p) for p in df["image"]]
    refs = {r: index.find(r) for r in dict.fromkeys(df["ref"])}
    missing = [index.folder / p for p, f in zip(df["image"], found, strict=True) if f is None]
    missing += [index.folder / r for r, f in refs.items() if f is None]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        problems(f"{missing[0]}: missing image listed in {label_path}{more}")
    df["image_path"] = [str(f) if f is not None else "" for f in found]
    df["ref_path"] = [str(refs[r]) if refs[r] is not None else "" for r in df["ref"]]
    keep = (df["image_path"] != "") & (df["ref_path"] != "")
    df = df.loc[keep].copy()
    df["image"] = [Path(p).relative_to(index.folder).as_posix() for p in df["image_path"]]
    return df


def unlabelled_images(
    folder: Path, records: pd.DataFrame, under: Sequence[str], exclude: Iterable[str] = ()
) -> list[Path]:
    """Image files below ``folder/<under>`` that no record (image or reference) names.

    ``exclude`` holds relative paths (any case) known to be unrated, e.g. LIVE's reference copies.
    """
    index = FileIndex(folder)
    named = {str(Path(p).resolve()).lower() for p in records["image_path"]}
    named |= {str(Path(p).resolve()).lower() for p in records["ref_path"] if p}
    skip = {e.lower() for e in exclude}
    out = []
    for sub in under:
        for path in index.images(sub):
            rel = path.relative_to(folder).as_posix().lower()
            if str(path.resolve()).lower() not in named and rel not in skip:
                out.append(path)
    return out

"""LIVE Image Quality Assessment Database, Release 2 (Sheikh, Wang, Cormack & Bovik, LIVE, 2005;
Sheikh, Sabir & Bovik, IEEE TIP 2006): the dataset the paper trains and tests on.

Official layout (folder ``LIVE`` under the data root)::

    refimgs/<name>.bmp                      29 pristine reference images
    jp2k/ jpeg/ wn/ gblur/ fastfading/      imgN.bmp, N = 1.. per folder (227/233/174/174/174)
    dmos_realigned.mat                      dmos_new, dmos_std, orgs: 1 x 982 each
    refnames_all.mat                        refnames_all: 1 x 982 cell of reference file names

The 982 entries run ``jp2k 227 | jpeg 233 | wn 174 | gblur 174 | fastfading 174``; entry k of a
block is ``imgk.bmp`` of that folder. 203 of them (``orgs == 1``) are copies of the references that
were shown among the distorted images during the rating sessions; they are not distorted images
and are excluded, leaving the 779 rated images (jp2k 169, jpeg 175, wn 145, gblur 145,
fastfading 145). The CSV form ``live_dmos.csv`` (``dis_img_path, dis_type, ref_img_path, score``,
paths such as ``LIVE/jp2k/img2.bmp``) lists only the 779 and is accepted too.

Raw score: realigned DMOS (``dmos_new``), about 0-100, **higher = worse**; the realignment puts a
few values slightly outside 0-100 (-2.6 to 111.8). Mapping: ``quality = clip(100 - DMOS, 0, 100)``
(:func:`edgeiqa.data.schema.dmos100_to_quality`). Distortion names: ``fastfading`` -> ``ff``,
the others keep theirs (``jp2k, jpeg, wn, gblur``). ``content`` = the reference's file stem.
LIVE defines no graded levels, so ``level`` is NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io

from edgeiqa.data.labelfiles import (
    Problems,
    find_label_file,
    parse_scores,
    read_csv,
    require_columns,
)
from edgeiqa.data.official import finish_labels, load_records
from edgeiqa.data.schema import QUALITY_CLASS_EDGES, dmos100_to_quality
from edgeiqa.errors import DataError

BLOCKS: tuple[tuple[str, int], ...] = (
    ("jp2k", 227),
    ("jpeg", 233),
    ("wn", 174),
    ("gblur", 174),
    ("fastfading", 174),
)
"""Folders in the order of the 982 entries of the official .mat files, with their sizes."""
N_ENTRIES = sum(n for _, n in BLOCKS)
DISTORTIONS = {"jp2k": "jp2k", "jpeg": "jpeg", "wn": "wn", "gblur": "gblur", "fastfading": "ff"}
FOLDERS = ("refimgs",) + tuple(DISTORTIONS)
LABEL_FILES = ("dmos_realigned.mat", "live_dmos.csv")
RAW_SCALE = "LIVE realigned DMOS (about 0-100, higher = worse)"


def _loadmat(path: Path) -> dict:
    if not path.is_file():
        raise DataError(f"{path}: label file missing")
    try:
        return scipy.io.loadmat(str(path))
    except (ValueError, TypeError, OSError, NotImplementedError) as exc:
        raise DataError(f"{path}: unreadable MATLAB file ({str(exc).splitlines()[0]})") from None


def _vector(mat: dict, name: str, path: Path) -> np.ndarray:
    if name not in mat:
        found = sorted(k for k in mat if not k.startswith("__"))
        raise DataError(f"{path}: no variable {name!r} (found {found})")
    values = np.asarray(mat[name]).ravel()
    if values.size != N_ENTRIES:
        raise DataError(f"{path}: {name} has {values.size} entries, expected {N_ENTRIES}")
    return values


def entry_names() -> list[str]:
    """Image name of each of the 982 entries, in the order of the official .mat files."""
    return [f"{folder}/img{k}.bmp" for folder, n in BLOCKS for k in range(1, n + 1)]


def read_dmos_arrays(path: str | Path) -> pd.DataFrame:
    """All 982 entries of ``dmos_realigned.mat`` (or a file with the same arrays).

    Returns:
        columns ``image`` (``jp2k/img1.bmp`` ...), ``folder``, ``dmos`` (``dmos_new``),
        ``dmos_std`` and ``orgs`` (1 = reference copy; NaN where the file has no ``orgs``).
    """
    path = Path(path)
    mat = _loadmat(path)
    dmos = _vector(mat, "dmos_new", path).astype(float)
    std = _vector(mat, "dmos_std", path).astype(float) if "dmos_std" in mat else np.nan
    orgs = _vector(mat, "orgs", path).astype(float) if "orgs" in mat else np.nan
    return pd.DataFrame(
        {
            "image": entry_names(),
            "folder": [folder for folder, n in BLOCKS for _ in range(n)],
            "dmos": dmos,
            "dmos_std": std,
            "orgs": orgs,
        }
    )


def read_refnames(path: str | Path) -> list[str]:
    """The 982 reference file names of ``refnames_all.mat`` (a cell array or a char matrix)."""
    path = Path(path)
    mat = _loadmat(path)
    if "refnames_all" not in mat:
        raise DataError(f"{path}: no variable 'refnames_all'")
    values = np.asarray(mat["refnames_all"])
    if values.dtype.kind == "U":  # char matrix: loadmat gives one padded string per row
        names = [str(v).strip() for v in values.ravel()]
    else:  # cell array: an object array of 1-element string arrays
        names = [
            str(np.asarray(v).ravel()[0]).strip() if np.size(v) else "" for v in values.ravel()
        ]
    if len(names) != N_ENTRIES:
        raise DataError(f"{path}: refnames_all has {len(names)} entries, expected {N_ENTRIES}")
    return names


def _relative(path: str) -> str:
    """Path inside the LIVE folder: drops leading components such as ``LIVE/`` of the CSV."""
    parts = Path(path.replace("\\", "/")).parts
    for i, part in enumerate(parts):
        if part.lower() in FOLDERS:
            return "/".join(parts[i:])
    return "/".join(parts)


def _label_frame(image, ref, folder, dmos, extra: dict) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "image": list(image),
            "ref": list(ref),
            "content": [Path(r).stem for r in ref],
            "distortion": [DISTORTIONS[f] for f in folder],
            "level": np.nan,
            "raw_score": np.asarray(dmos, dtype=float),
            **extra,
        }
    )
    return df.loc[df["raw_score"].notna()].reset_index(drop=True)


def _read_mat(path: Path, refnames: Path | None, problems: Problems) -> pd.DataFrame:
    arrays = read_dmos_arrays(path)
    if arrays["orgs"].isna().all():
        raise DataError(
            f"{path}: no 'orgs' variable, so reference copies cannot be told from rated images"
        )
    refnames = refnames if refnames is not None else path.with_name("refnames_all.mat")
    names = read_refnames(refnames)
    # names are stored with their .bmp suffix; tolerate copies that dropped it
    arrays["ref"] = ["refimgs/" + (n if not n or Path(n).suffix else n + ".bmp") for n in names]
    rated = arrays.loc[arrays["orgs"] == 0]
    dmos = parse_scores(list(rated["dmos"]), list(rated["image"]), path, problems, what="DMOS")
    empty = rated["ref"] == "refimgs/"
    for name in rated.loc[empty, "image"]:
        problems(f"{refnames}: no reference name for {name}")
    dmos[empty.to_numpy()] = np.nan
    return _label_frame(
        rated["image"], rated["ref"], rated["folder"], dmos, {"dmos_std": list(rated["dmos_std"])}
    )


def _read_csv(path: Path, problems: Problems) -> pd.DataFrame:
    table = read_csv(path)
    require_columns(table, ["dis_img_path", "dis_type", "ref_img_path", "score"], path)
    known = table["dis_type"].str.lower().isin(list(DISTORTIONS))
    for row in np.flatnonzero(~known.to_numpy()):
        problems(
            f"{path}: row {row + 2} ({table['dis_img_path'].iloc[row]}): unknown distortion "
            f"type {table['dis_type'].iloc[row]!r} (known: {', '.join(DISTORTIONS)})"
        )
    table = table.loc[known]
    dmos = parse_scores(
        list(table["score"]),
        list(table["dis_img_path"]),
        path,
        problems,
        rows=[i + 2 for i in table.index],  # header is line 1
        what="DMOS",
    )
    return _label_frame(
        [_relative(p) for p in table["dis_img_path"]],
        [_relative(p) for p in table["ref_img_path"]],
        table["dis_type"].str.lower(),
        dmos,
        {},
    )


def read_labels(
    path: str | Path,
    refnames: str | Path | None = None,
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """The rated images listed by a LIVE label file, without touching any image.

    Args:
        path: ``dmos_realigned.mat`` (needs ``orgs``; reference names from ``refnames``,
            default ``refnames_all.mat`` beside it) or a ``live_dmos.csv``-style CSV.
        refnames: ``refnames_all.mat`` when it is not beside ``path``.
        problems: collect problems here instead of raising on the first.
    Returns:
        one row per rated image: ``image`` (``jp2k/img2.bmp``), ``ref`` (``refimgs/x.bmp``),
        ``content``, ``distortion``, ``level``, ``raw_score`` (DMOS) [, ``dmos_std``].
    """
    path = Path(path)
    report = Problems(problems)
    if path.suffix.lower() == ".mat":
        df = _read_mat(path, Path(refnames) if refnames is not None else None, report)
    else:
        df = _read_csv(path, report)
    # unlike the other releases, each LIVE form parses its own scores (official.score_rows does
    # not fit): LIVE documents no range, the .mat has no line numbers, and CSV messages name
    # the file's own paths (LIVE/jp2k/img2.bmp)
    return finish_labels(df, path, report, RAW_SCALE, dmos100_to_quality)


def label_file(folder: str | Path) -> Path:
    """The label file of a LIVE folder: ``dmos_realigned.mat``, else ``live_dmos.csv``."""
    return find_label_file(Path(folder), LABEL_FILES)


def reference_copies(folder: str | Path) -> list[str]:
    """Relative names of the unrated reference copies (``orgs == 1``) in an official folder."""
    path = label_file(folder)
    if path.suffix.lower() != ".mat":
        return []
    arrays = read_dmos_arrays(path)
    return list(arrays.loc[arrays["orgs"] == 1, "image"])


def load(
    folder: str | Path,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    variant: str = "live",
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Record table of LIVE Release 2 in its official layout (see module docstring).

    Args:
        folder: the LIVE folder (``refimgs/``, ``jp2k/`` ..., label files).
        class_edges: quality-class bin edges.
        variant: dataset name written to the ``dataset`` column.
        problems: collect problems (missing images, bad rows) here and drop those rows,
            instead of raising :class:`DataError` on the first.
    Returns:
        the record table (:mod:`edgeiqa.data.schema`), 779 rows for the full release.
    """
    return load_records(folder, LABEL_FILES, read_labels, variant, class_edges, problems)

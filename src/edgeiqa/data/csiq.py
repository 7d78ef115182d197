"""CSIQ, the Categorical Subjective Image Quality database (Larson & Chandler, Journal of
Electronic Imaging 2010).

Official layout (folder ``CSIQ`` under the data root)::

    src_imgs/<ref>.png                         30 references (512 x 512)
    dst_imgs/<dir>/<ref>.<LABEL>.<level>.png   866 distorted images, levels 1..5 (contrast 1..4)
    csiq.DMOS.xlsx                             the ratings

with ``<dir>/<LABEL>`` = ``awgn/AWGN``, ``jpeg/JPEG``, ``jpeg2000/jpeg2000``, ``fnoise/fnoise``,
``blur/BLUR``, ``contrast/contrast`` (folder case differs between copies of the release; files
are matched regardless of case).

``csiq.DMOS.xlsx``, as we read it: the sheet ``all_by_image`` (else the first sheet that has
one) holds a header row containing the cells ``image, dst_idx, dst_type, dst_lev, dmos_std,
dmos``, preceded by title rows and possibly empty columns, which we skip by searching for the row
that contains both ``image`` and ``dmos``. ``image`` is the reference name (``1600`` is stored as a
number), ``dst_type`` one of ``noise, jpeg, jpeg 2000, fnoise, blur, contrast``, ``dst_lev`` the
level. Empty rows are spreadsheet padding. A CSV with the same columns, or the export
``csiq_dmos.csv`` (``dis_img_path, dis_type, ref_img_path, score``, types ``AWGN, JPEG, JP2K,
Pink_Noise, GBLUR, Contrast Dist.``), is accepted too.

Raw score: DMOS on 0-1, **higher = worse**. Mapping: ``quality = 100 * (1 - DMOS)``.
Distortion names: AWGN/noise -> ``wn``, JPEG -> ``jpeg``, JPEG 2000 -> ``jp2k``, blur ->
``gblur``; pink (1/f) noise keeps CSIQ's ``fnoise`` and contrast decrement ``contrast``.
``content`` = reference name; ``level`` = CSIQ's distortion level (1 = mildest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.data.labelfiles import Problems, find_label_file, read_csv, require_columns
from edgeiqa.data.official import finish_labels, label_path, load_records, score_rows
from edgeiqa.data.schema import QUALITY_CLASS_EDGES
from edgeiqa.errors import DataError

LABEL_FILES = ("csiq.DMOS.xlsx", "csiq_dmos.csv")
RAW_SCALE = "CSIQ DMOS (0-1, higher = worse)"
VALID = (0.0, 1.0)
OFFICIAL_COLUMNS = ("image", "dst_type", "dst_lev", "dmos")

# every spelling of a type (lower case, spaces/underscores/dots removed) -> normalised name
TYPE_ALIASES: dict[str, str] = {
    "noise": "wn",
    "awgn": "wn",
    "wn": "wn",
    "jpeg": "jpeg",
    "jpeg2000": "jp2k",
    "jp2k": "jp2k",
    "blur": "gblur",
    "gblur": "gblur",
    "fnoise": "fnoise",
    "pinknoise": "fnoise",
    "contrast": "contrast",
    "contrastdist": "contrast",
}
# normalised name -> (folder under dst_imgs, label inside the file name)
FILE_NAMES: dict[str, tuple[str, str]] = {
    "wn": ("awgn", "AWGN"),
    "jpeg": ("jpeg", "JPEG"),
    "jp2k": ("jpeg2000", "jpeg2000"),
    "gblur": ("blur", "BLUR"),
    "fnoise": ("fnoise", "fnoise"),
    "contrast": ("contrast", "contrast"),
}


def normalise_type(name: object) -> str | None:
    """Normalised distortion name of a CSIQ type spelling, None when unknown."""
    return TYPE_ALIASES.get(re.sub(r"[\s_.\-]", "", str(name).lower()))


def _to_quality(dmos: np.ndarray) -> np.ndarray:
    """CSIQ DMOS (0-1, higher = worse) to quality 0-100: ``100 * (1 - DMOS)``."""
    return np.clip(100.0 * (1.0 - dmos), 0.0, 100.0)


def _ref_name(value: object) -> str:
    # openpyxl returns 1600 as an int (or 1600.0); the file is src_imgs/1600.png
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return Path(str(value).strip()).stem


def _official_rows(
    rows: list[list[object]], start: int, path: Path, problems: Problems
) -> pd.DataFrame:
    """Label frame from rows with the official columns; ``start`` = line number of rows[0]."""
    header = [str(c).strip().lower() if c is not None else "" for c in rows[0]]
    col = {name: header.index(name) for name in OFFICIAL_COLUMNS + ("dmos_std",) if name in header}
    out = []
    for i, row in enumerate(rows[1:], start=start + 1):
        cells = {k: (row[j] if j < len(row) else None) for k, j in col.items()}
        if all(v is None or str(v).strip() == "" for v in cells.values()):
            continue  # spreadsheet padding
        ref = _ref_name(cells["image"])
        dist = normalise_type(cells["dst_type"])
        if dist is None:
            problems(f"{path}: row {i} ({ref}): unknown dst_type {cells['dst_type']!r}")
            continue
        try:
            level = int(float(str(cells["dst_lev"])))
        except ValueError:
            problems(f"{path}: row {i} ({ref}): dst_lev {cells['dst_lev']!r} is not a number")
            continue
        folder, label = FILE_NAMES[dist]
        out.append(
            {
                "image": f"dst_imgs/{folder}/{ref}.{label}.{level}.png",
                "ref": f"src_imgs/{ref}.png",
                "content": ref,
                "distortion": dist,
                "level": float(level),
                "raw": cells["dmos"],
                "dmos_std": cells.get("dmos_std"),
                "row": i,
            }
        )
    return pd.DataFrame(
        out, columns=["image", "ref", "content", "distortion", "level", "raw", "dmos_std", "row"]
    )


def _read_xlsx(path: Path, problems: Problems) -> pd.DataFrame:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException variants
        raise DataError(f"{path}: unreadable spreadsheet ({str(exc).splitlines()[0]})") from None
    try:
        names = ["all_by_image"] + [n for n in book.sheetnames if n != "all_by_image"]
        for name in names:
            if name not in book.sheetnames:
                continue
            rows = [list(r) for r in book[name].iter_rows(values_only=True)]
            for i, row in enumerate(rows):
                cells = {str(c).strip().lower() for c in row if c is not None}
                if {"image", "dmos"} <= cells:
                    if not set(OFFICIAL_COLUMNS) <= cells:
                        raise DataError(
                            f"{path}: sheet {name!r} row {i + 1} lacks column(s) "
                            f"{sorted(set(OFFICIAL_COLUMNS) - cells)}"
                        )
                    # drop columns that are empty in the header (leading blank columns)
                    keep = [j for j, c in enumerate(row) if c is not None]
                    trimmed = [[r[j] if j < len(r) else None for j in keep] for r in rows[i:]]
                    return _official_rows(trimmed, i + 1, path, problems)
    finally:
        book.close()
    raise DataError(f"{path}: no sheet with a header row containing 'image' and 'dmos'")


_CSV_NAME = re.compile(r"^(?P<ref>.+)\.(?P<label>[^.]+)\.(?P<level>\d+)\.png$", re.IGNORECASE)


def _read_csv(path: Path, problems: Problems) -> pd.DataFrame:
    table = read_csv(path)
    if set(OFFICIAL_COLUMNS) <= set(table.columns):
        rows = [list(table.columns)] + table.to_numpy().tolist()
        return _official_rows(rows, 1, path, problems)
    require_columns(table, ["dis_img_path", "dis_type", "ref_img_path", "score"], path)
    out = []
    for i, r in enumerate(table.itertuples(index=False), start=2):
        image = r.dis_img_path.replace("\\", "/")
        match = _CSV_NAME.match(Path(image).name)
        dist = normalise_type(r.dis_type)
        if dist is None or match is None:
            what = f"unknown dis_type {r.dis_type!r}" if dist is None else "unexpected file name"
            problems(f"{path}: row {i} ({image}): {what}")
            continue
        parts = image.split("/")
        # paths start at the CSIQ folder or above it (CSIQ/dst_imgs/...)
        image = "/".join(parts[parts.index("dst_imgs") :]) if "dst_imgs" in parts else image
        ref = r.ref_img_path.replace("\\", "/").split("/")
        ref = "/".join(ref[ref.index("src_imgs") :]) if "src_imgs" in ref else "/".join(ref)
        out.append(
            {
                "image": image,
                "ref": ref,
                "content": Path(ref).stem,
                "distortion": dist,
                "level": float(match["level"]),
                "raw": r.score,
                "row": i,
            }
        )
    return pd.DataFrame(
        out, columns=["image", "ref", "content", "distortion", "level", "raw", "row"]
    )


def read_labels(path: str | Path, problems: list[str] | None = None) -> pd.DataFrame:
    """The rated images listed by a CSIQ label file (xlsx or CSV), without touching any image.

    Args:
        path: ``csiq.DMOS.xlsx``, a CSV with its columns, or a ``csiq_dmos.csv`` export.
        problems: collect problems here instead of raising on the first.
    Returns:
        one row per image: ``image`` (``dst_imgs/awgn/1600.AWGN.1.png``), ``ref``, ``content``,
        ``distortion``, ``level``, ``raw_score`` (DMOS) [, ``dmos_std``].
    """
    path = label_path(path)
    report = Problems(problems)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = _read_xlsx(path, report)
    else:
        rows = _read_csv(path, report)
    df = score_rows(rows, path, report, VALID, "DMOS")
    return finish_labels(df, path, report, RAW_SCALE, _to_quality)


def label_file(folder: str | Path) -> Path:
    """The label file of a CSIQ folder: ``csiq.DMOS.xlsx``, else ``csiq_dmos.csv``."""
    return find_label_file(Path(folder), LABEL_FILES)


def load(
    folder: str | Path,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    variant: str = "csiq",
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Record table of CSIQ in its official layout (see module docstring).

    Args:
        folder: the CSIQ folder (``src_imgs/``, ``dst_imgs/``, label file).
        class_edges: quality-class bin edges.
        variant: dataset name written to the ``dataset`` column.
        problems: collect problems here and drop those rows instead of raising on the first.
    Returns:
        the record table, 866 rows for the full release.
    """
    return load_records(folder, LABEL_FILES, read_labels, variant, class_edges, problems)

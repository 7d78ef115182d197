"""KADID-10k, the Konstanz Artificially Distorted Image quality Database (Lin, Hosu & Saupe,
QoMEX 2019).

Official layout (folder ``KADID-10k`` under the data root)::

    images/I01.png ... I81.png                 81 references
    images/I01_01_01.png ...                   I<ref>_<type>_<level>.png: 81 x 25 types x 5 levels
    dmos.csv                                   dist_img, ref_img, dmos, var

The CSV form ``kadid10k_dmos.csv`` (``ref_name, dist_name, dmos, std``: the same table with
``var`` renamed) is accepted too; either spread column is kept as ``var``, as published.

Raw score: "DMOS" on 1-5 which, despite its name, is **higher = better** (it is the mean
opinion on a 5-point absolute category scale). Mapping: ``quality = 100 * (DMOS - 1) / 4``.
Types, numbered as in the release's readme, are named in :data:`TYPE_NAMES`: 01 Gaussian blur
-> ``gblur``, 09 JPEG 2000 -> ``jp2k``, 10 JPEG -> ``jpeg``, 11 white noise -> ``wn``; the
others keep a descriptive name of their own. ``content`` = ``I01`` ... ``I81``;
``level`` = KADID's level 1..5 (1 = mildest).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.data.labelfiles import Problems, find_label_file, read_csv
from edgeiqa.data.official import finish_labels, label_path, load_records, score_rows
from edgeiqa.data.schema import QUALITY_CLASS_EDGES
from edgeiqa.errors import DataError

TYPE_NAMES: dict[int, str] = {
    1: "gblur",  # Gaussian blur
    2: "lens_blur",
    3: "motion_blur",
    4: "color_diffusion",
    5: "color_shift",
    6: "color_quantization",
    7: "color_saturation1",
    8: "color_saturation2",
    9: "jp2k",
    10: "jpeg",
    11: "wn",  # white noise
    12: "color_noise",  # white noise in a colour component
    13: "impulse_noise",
    14: "multiplicative_noise",
    15: "denoise",
    16: "brighten",
    17: "darken",
    18: "mean_shift",
    19: "jitter",
    20: "noneccentricity_patch",
    21: "pixelate",
    22: "quantization",
    23: "color_block",
    24: "high_sharpen",
    25: "contrast_change",
}
LEVELS = 5
REFS = 81
VALID = (1.0, 5.0)
RAW_SCALE = "KADID-10k DMOS (1-5, higher = better)"
LABEL_FILES = ("dmos.csv", "kadid10k_dmos.csv")
NAME = re.compile(r"^i(?P<ref>\d{2})_(?P<type>\d{2})_(?P<level>\d{2})\.png$", re.IGNORECASE)
# official column -> the shared CSV's name for it
COLUMN_FORMS = {"dist_img": "dist_name", "ref_img": "ref_name", "dmos": "dmos", "var": "std"}


def _to_quality(dmos: np.ndarray) -> np.ndarray:
    """KADID-10k DMOS (1-5, higher = better) to quality 0-100: ``100 * (DMOS - 1) / 4``."""
    return np.clip(100.0 * (dmos - 1.0) / 4.0, 0.0, 100.0)


def read_labels(path: str | Path, problems: list[str] | None = None) -> pd.DataFrame:
    """The rated images listed by a KADID-10k label file, without touching any image.

    Args:
        path: ``dmos.csv`` (``dist_img, ref_img, dmos, var``) or ``kadid10k_dmos.csv``
            (``ref_name, dist_name, dmos, std``).
        problems: collect problems here instead of raising on the first.
    Returns:
        one row per image: ``image`` (``images/I01_01_01.png``), ``ref`` (``images/I01.png``),
        ``content``, ``distortion``, ``type_id``, ``level``, ``raw_score`` (DMOS), ``var``.
    """
    path = label_path(path)
    report = Problems(problems)
    table = read_csv(path)
    columns = {}
    for official, other in COLUMN_FORMS.items():
        if official in table:
            columns[official] = official
        elif other in table:
            columns[official] = other
        elif official != "var":
            raise DataError(
                f"{path}: missing column {official!r} (or {other!r}); found {list(table.columns)}"
            )
    out = []
    for row, r in enumerate(table.to_dict("records"), start=2):
        name = r[columns["dist_img"]]
        match = NAME.match(name)
        if match is None:
            report(f"{path}: row {row} ({name}): not a KADID file name I<ref>_<type>_<level>.png")
            continue
        ref, kind, level = int(match["ref"]), int(match["type"]), int(match["level"])
        if not (1 <= ref <= REFS and kind in TYPE_NAMES and 1 <= level <= LEVELS):
            report(f"{path}: row {row} ({name}): reference/type/level outside 81/25/5")
            continue
        listed_ref = r[columns["ref_img"]]
        if Path(listed_ref).stem.upper() != f"I{ref:02d}":
            report(f"{path}: row {row} ({name}): reference {listed_ref} does not match the name")
            continue
        out.append(
            {
                "image": f"images/{name}",
                "ref": f"images/{listed_ref}",
                "content": f"I{ref:02d}",
                "distortion": TYPE_NAMES[kind],
                "type_id": kind,
                "level": float(level),
                "raw": r[columns["dmos"]],
                "var": pd.to_numeric(r.get(columns.get("var", ""), np.nan), errors="coerce"),
                "row": row,
            }
        )
    cols = ["image", "ref", "content", "distortion", "type_id", "level", "raw", "var", "row"]
    df = score_rows(pd.DataFrame(out, columns=cols), path, report, VALID, "DMOS")
    return finish_labels(df, path, report, RAW_SCALE, _to_quality)


def label_file(folder: str | Path) -> Path:
    """The label file of a KADID-10k folder: ``dmos.csv``, else ``kadid10k_dmos.csv``."""
    return find_label_file(Path(folder), LABEL_FILES)


def load(
    folder: str | Path,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    variant: str = "kadid10k",
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Record table of KADID-10k in its official layout (see module docstring).

    Args:
        folder: the KADID-10k folder (``images/``, label file).
        class_edges: quality-class bin edges.
        variant: dataset name written to the ``dataset`` column.
        problems: collect problems here and drop those rows instead of raising on the first.
    Returns:
        the record table, 10125 rows for the full release.
    """
    return load_records(folder, LABEL_FILES, read_labels, variant, class_edges, problems)

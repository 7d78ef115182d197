"""TID2008 (Ponomarenko et al., Advances of Modern Radioelectronics 2009) and TID2013
(Ponomarenko et al., Signal Processing: Image Communication 2015), the Tampere Image Databases.

Official layout (folders ``TID2008`` / ``TID2013`` under the data root)::

    reference_images/I01.BMP ... I25.BMP       25 references (I25 is spelled i25.bmp in places)
    distorted_images/i01_01_1.bmp ...          I<ref>_<type>_<level>.bmp
    mos_with_names.txt                         "5.51429 I01_01_1.bmp" per line (CRLF possible)
    mos_std.txt                                (optional) one standard deviation per line

TID2008 has 17 distortion types x 4 levels (1700 images), TID2013 24 types x 5 levels (3000).
Names differ in case between the label file and the disk, so files are matched regardless of
case. The CSV form ``tid2008_mos.csv`` (``ref_name, dist_name, mos, std``) is accepted too.

Raw score: MOS on 0-9, **higher = better**. Mapping: ``quality = 100 * MOS / 9``.
Types are numbered as in the official readme and named in :data:`TYPE_NAMES`: 1 additive
Gaussian noise -> ``wn``, 8 Gaussian blur -> ``gblur``, 10 JPEG -> ``jpeg``, 11 JPEG 2000 ->
``jp2k``; the others keep a descriptive name of their own (JPEG 2000 transmission errors, type
13, is *not* LIVE's fast fading and keeps its own name). ``content`` = ``I01`` ... ``I25``;
``level`` = TID's level index (1 = mildest for most types; for contrast change and mean shift the
levels alternate direction, as in the release).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from edgeiqa.data.labelfiles import Problems, find_label_file, read_csv, require_columns
from edgeiqa.data.official import finish_labels, label_path, load_records, score_rows
from edgeiqa.data.schema import QUALITY_CLASS_EDGES
from edgeiqa.errors import DataError

TYPE_NAMES: dict[int, str] = {
    1: "wn",  # additive Gaussian noise
    2: "color_noise",  # additive noise in colour components stronger than in luminance
    3: "correlated_noise",  # spatially correlated noise
    4: "masked_noise",
    5: "hf_noise",  # high-frequency noise
    6: "impulse_noise",
    7: "quantization_noise",
    8: "gblur",  # Gaussian blur
    9: "denoising",  # image denoising
    10: "jpeg",
    11: "jp2k",
    12: "jpeg_transmission",  # JPEG transmission errors
    13: "jp2k_transmission",  # JPEG 2000 transmission errors
    14: "pattern_noise",  # non-eccentricity pattern noise
    15: "block_distortion",  # local block-wise distortions of different intensity
    16: "mean_shift",  # intensity shift
    17: "contrast",  # contrast change
    # TID2013 only
    18: "saturation",  # change of colour saturation
    19: "multiplicative_noise",  # multiplicative Gaussian noise
    20: "comfort_noise",
    21: "noisy_compression",  # lossy compression of noisy images
    22: "color_quantization",  # image colour quantisation with dither
    23: "chromatic_aberration",
    24: "sparse_sampling",  # sparse sampling and reconstruction
}
VERSIONS: dict[str, dict[str, int]] = {
    "tid2008": {"types": 17, "levels": 4, "refs": 25},
    "tid2013": {"types": 24, "levels": 5, "refs": 25},
}
VALID = (0.0, 9.0)
NAME = re.compile(r"^i(?P<ref>\d{2})_(?P<type>\d{2})_(?P<level>\d)\.bmp$", re.IGNORECASE)


def _version(variant: str) -> dict[str, int]:
    if variant not in VERSIONS:
        raise DataError(f"{variant}: unknown TID variant; known: {', '.join(VERSIONS)}")
    return VERSIONS[variant]


def raw_scale(variant: str) -> str:
    return f"{variant.upper()} MOS (0-9, higher = better)"


def _to_quality(mos: np.ndarray) -> np.ndarray:
    """TID MOS (0-9, higher = better) to quality 0-100: ``100 * MOS / 9``."""
    return np.clip(100.0 * mos / 9.0, 0.0, 100.0)


def _read_txt(path: Path) -> tuple[list[str], list[str], list[int]]:
    try:
        # read_text translates CRLF (universal newlines), so both line ends read alike
        lines = path.read_text(encoding="utf-8", errors="strict").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"{path}: unreadable label file ({exc})") from None
    scores, names, rows = [], [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2:
            raise DataError(f"{path}: line {number}: expected '<mos> <file name>', got {line!r}")
        scores.append(parts[0])
        names.append(parts[1])
        rows.append(number)
    return scores, names, rows


def _read_std(path: Path, n: int) -> list[float] | None:
    """``mos_std.txt`` beside ``mos_with_names.txt`` when it has one value per label line."""
    std_path = path.with_name("mos_std.txt")
    if not std_path.is_file():
        return None
    values = std_path.read_text().split()
    if len(values) != n:
        raise DataError(f"{std_path}: {len(values)} values for {n} lines of {path.name}")
    try:
        return [float(v) for v in values]
    except ValueError as exc:
        raise DataError(f"{std_path}: {exc}") from None


def read_labels(
    path: str | Path, variant: str = "tid2013", problems: list[str] | None = None
) -> pd.DataFrame:
    """The rated images listed by a TID label file, without touching any image.

    Args:
        path: ``mos_with_names.txt`` or a CSV with ``dist_name`` and ``mos`` columns.
        variant: ``tid2008`` or ``tid2013``; type and level numbers are checked against it.
        problems: collect problems here instead of raising on the first.
    Returns:
        one row per image: ``image`` (``distorted_images/I01_01_1.bmp`` as listed), ``ref``,
        ``content`` (``I01``), ``distortion``, ``type_id``, ``level``, ``raw_score`` (MOS)
        [, ``mos_std``].
    """
    path = label_path(path)
    version = _version(variant)
    report = Problems(problems)
    std = None
    if path.suffix.lower() == ".csv":
        table = read_csv(path)
        require_columns(table, ["dist_name", "mos"], path)
        scores, names = list(table["mos"]), list(table["dist_name"])
        rows = list(range(2, len(table) + 2))
        if "std" in table:
            std = list(pd.to_numeric(table["std"], errors="coerce"))
    else:
        scores, names, rows = _read_txt(path)
        std = _read_std(path, len(names))
    out = []
    for i, (name, row) in enumerate(zip(names, rows, strict=True)):
        match = NAME.match(name)
        if match is None:
            report(f"{path}: row {row} ({name}): not a TID file name I<ref>_<type>_<level>.bmp")
            continue
        ref, kind, level = int(match["ref"]), int(match["type"]), int(match["level"])
        if not (
            1 <= ref <= version["refs"]
            and 1 <= kind <= version["types"]
            and 1 <= level <= version["levels"]
        ):
            report(
                f"{path}: row {row} ({name}): reference/type/level outside {variant}'s "
                f"{version['refs']}/{version['types']}/{version['levels']}"
            )
            continue
        out.append(
            {
                "image": f"distorted_images/{name}",
                "ref": f"reference_images/I{ref:02d}.bmp",
                "content": f"I{ref:02d}",
                "distortion": TYPE_NAMES[kind],
                "type_id": kind,
                "level": float(level),
                "raw": scores[i],
                "mos_std": std[i] if std is not None else np.nan,
                "row": row,
            }
        )
    columns = ["image", "ref", "content", "distortion", "type_id", "level", "raw", "mos_std", "row"]
    df = score_rows(pd.DataFrame(out, columns=columns), path, report, VALID, "MOS")
    if df["mos_std"].isna().all():  # no spread published (no mos_std.txt, no std column)
        df = df.drop(columns="mos_std")
    return finish_labels(df, path, report, raw_scale(variant), _to_quality)


def _label_files(variant: str) -> tuple[str, str]:
    """Names the label file of a TID folder goes by, in order of preference."""
    return ("mos_with_names.txt", f"{variant}_mos.csv")


def label_file(folder: str | Path, variant: str = "tid2013") -> Path:
    """``mos_with_names.txt`` of a TID folder, else ``<variant>_mos.csv``."""
    return find_label_file(Path(folder), _label_files(variant))


def load(
    folder: str | Path,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    variant: str = "tid2013",
    problems: list[str] | None = None,
) -> pd.DataFrame:
    """Record table of TID2008 or TID2013 in the official layout (see module docstring).

    Args:
        folder: the TID folder (``reference_images/``, ``distorted_images/``, label file).
        class_edges: quality-class bin edges.
        variant: ``tid2008`` or ``tid2013`` (also written to the ``dataset`` column).
        problems: collect problems here and drop those rows instead of raising on the first.
    Returns:
        the record table: 1700 rows for TID2008, 3000 for TID2013.
    """
    read = functools.partial(read_labels, variant=variant)
    return load_records(folder, _label_files(variant), read, variant, class_edges, problems)

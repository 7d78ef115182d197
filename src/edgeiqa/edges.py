"""Sobel edge maps, the input of every CNN in the "deep fake score" paper, and how they are cut.

The paper feeds its small CNNs the Sobel gradient magnitude of each image instead of the
pixels, and enlarges its training data by cutting each edge map in halves (left/right for a
landscape image, top/bottom for a portrait one) and further into quarters. This module computes
those maps once, caches them, and does the cutting.

Choices (each a parameter of :class:`EdgeParams`, and part of the cache key):

- **Luminance** is BT.601 luma on 0-1 (:func:`edgeiqa.data.images.read_luminance`); the paper
  does not say how colour is reduced, and luma is what a grey-level Sobel filter usually sees.
- **Size**: the paper works at native size; on a 2-core CPU we cannot, so maps are brought to
  a longer side of at most ``max_side`` pixels (``skimage.transform.resize``, bilinear with
  Gaussian anti-aliasing; smaller images are left untouched; ``max_side=0`` keeps the native
  size). By default (``shrink_order="after"``) the Sobel filter runs on the native-size image and
  the *magnitude map* is shrunk, so each pixel of the map is a local mean of native edge strength:
  the evidence of noise, blocking and mild blur survives. Shrinking the image first
  (``"before"``) averages that evidence away; it is offered for comparison.
- **Sobel**: ``scipy.ndimage.sobel`` along both axes (kernel [1, 2, 1] x [-1, 0, 1],
  ``mode="reflect"`` at the borders), magnitude ``hypot(gx, gy)``.
- **Normalisation** ``"fixed"`` (default): the magnitude is divided by :data:`SOBEL_MAX`, the
  largest magnitude a 0-1 image can produce (``sqrt(20)``), so every map lies in [0, 1] on one
  common scale. Contrast and edge strength are themselves evidence of quality (blur lowers
  them, noise raises them), so we keep them comparable across images.
  ``"per_image_max"`` divides each map by its own maximum (a flat map stays all zero); it
  removes that evidence and is offered for comparison only.

Cutting (:func:`split_edge_map`): ``parts=2`` halves left/right when the map is wider than high
*or square*, top/bottom when it is higher than wide; ``parts=4`` gives quarters (top-left,
top-right, bottom-left, bottom-right). An odd dimension that is being cut loses its last
row/column so that all pieces of one image have the same shape (they can then be batched).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy.stats import spearmanr
from skimage.transform import resize
from tqdm.auto import tqdm

from edgeiqa import cachestats, config
from edgeiqa.data.images import read_luminance
from edgeiqa.errors import DataError
from edgeiqa.fileio import load_npy, save_cache_npy

SOBEL_MAX: float = float(np.sqrt(20.0))
"""Largest Sobel gradient magnitude of an image on 0-1 (a corner-like 3x3 patch gives
gx = 3 + d, gy = 3 - d with |d| <= 1, so gx^2 + gy^2 <= 20); checked by brute force in tests."""

NORMALISATIONS: tuple[str, ...] = ("fixed", "per_image_max")
SHRINK_ORDERS: tuple[str, ...] = ("after", "before")
PARTS: tuple[int, ...] = (1, 2, 4)

# Bump when the computation changes so that stale cached maps are never reused.
_ALGORITHM_VERSION = 3  # 3: Sobel in float32


@dataclass(frozen=True)
class EdgeParams:
    """How an edge map is computed (see the module docstring); part of the cache key.

    Attributes:
        max_side: longer side of the edge map, in pixels (0: native size).
        normalisation: ``"fixed"`` (divide by :data:`SOBEL_MAX`) or ``"per_image_max"``.
        shrink_order: ``"after"`` (default): Sobel on the native-size image, then the magnitude
            map is shrunk to ``max_side`` (anti-aliased, so each output pixel is a local mean of
            native edge magnitudes); ``"before"``: the luminance is shrunk first, then Sobel.
            Shrinking the image first averages away exactly the evidence of noise, JPEG
            blocking and mild blur (measured on the synthetic set: at 128 px the mean edge
            magnitude barely moved with distortion level while it moved clearly with "after"),
            so "after" is the default; "before" is kept for comparison.
    """

    max_side: int = 256
    normalisation: str = "fixed"
    shrink_order: str = "after"

    def __post_init__(self) -> None:
        if self.normalisation not in NORMALISATIONS:
            raise ValueError(
                f"unknown edge normalisation {self.normalisation!r}; choose one of {NORMALISATIONS}"
            )
        if self.shrink_order not in SHRINK_ORDERS:
            raise ValueError(
                f"unknown shrink_order {self.shrink_order!r}; choose one of {SHRINK_ORDERS}"
            )
        if int(self.max_side) != self.max_side or self.max_side < 0:
            raise ValueError(f"max_side must be a non-negative integer, got {self.max_side!r}")

    @property
    def key(self) -> str:
        """Folder name under ``cache_dir()/edges`` for maps made with these parameters."""
        side = "native" if self.max_side == 0 else f"side{self.max_side}"
        return f"v{_ALGORITHM_VERSION}_{side}_{self.shrink_order}_{self.normalisation}"


def sobel_magnitude(luminance: np.ndarray) -> np.ndarray:
    """Unnormalised Sobel gradient magnitude of a 2-D image.

    The same separable filters and borders as ``scipy.ndimage.sobel(..., mode="reflect")`` (the
    derivative [-1, 0, 1] along one axis, then the smoothing [1, 2, 1] along the other; for a
    one-pixel border scipy's half-sample reflection repeats the edge pixel), written as float32
    array slices: about 10x faster than two float64 scipy passes at 768x512 (1.4 ms against
    15.6 ms, measured in one run) and within 1e-6 of them (``tests/test_edges.py``), so
    prediction from files is not held back by the edge map (``benchmarks/bench_training.py``,
    file to score). Derivative first keeps a flat image at exactly 0.

    Args:
        luminance: ``H x W`` array (any float range; 0-1 for :data:`SOBEL_MAX` to apply).
    Returns:
        float32 ``H x W`` array ``hypot(sobel_y, sobel_x)``.
    """
    lum = np.asarray(luminance, dtype=np.float32)
    if lum.ndim != 2:
        raise ValueError(f"sobel_magnitude needs a 2-D array, got shape {lum.shape}")
    padded = np.pad(lum, 1, mode="edge")
    down = padded[2:, :] - padded[:-2, :]  # derivative along axis 0, (H, W + 2)
    gy = down[:, :-2] + down[:, 2:]
    gy += 2 * down[:, 1:-1]
    across = padded[:, 2:] - padded[:, :-2]  # derivative along axis 1, (H + 2, W)
    gx = across[:-2] + across[2:]
    gx += 2 * across[1:-1]
    # sqrt(gx^2 + gy^2) in place: np.hypot's overflow guard is not needed for values <= 4
    gx *= gx
    gy *= gy
    gx += gy
    return np.sqrt(gx, out=gx)


def shrunk_shape(shape: tuple[int, ...], max_side: int) -> tuple[int, int]:
    """``(H, W)`` of an image of ``shape`` brought to a longer side of at most ``max_side``."""
    h, w = int(shape[0]), int(shape[1])
    if max_side == 0 or max(h, w) <= max_side:
        return h, w
    scale = max_side / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def shrink(luminance: np.ndarray, max_side: int) -> np.ndarray:
    """``luminance`` resized (aspect kept) so that its longer side is at most ``max_side``.

    Args:
        luminance: ``H x W`` float array.
        max_side: the bound; 0, or an image already within it, returns the input unchanged.
    Returns:
        float32 array.
    """
    shape = shrunk_shape(luminance.shape, max_side)
    if shape == tuple(luminance.shape):
        return np.asarray(luminance, dtype=np.float32)
    out = resize(luminance, shape, order=1, anti_aliasing=True, preserve_range=True)
    return out.astype(np.float32)


def compute_edge_map(luminance: np.ndarray, params: EdgeParams = EdgeParams()) -> np.ndarray:
    """Edge map of a luminance array on 0-1 (no cache): Sobel and shrink, then normalise.

    Args:
        luminance: ``H x W`` float array on 0-1.
        params: size and normalisation.
    Returns:
        float32 map in [0, 1].
    """
    if params.shrink_order == "after":
        magnitude = shrink(sobel_magnitude(luminance), params.max_side)
    else:
        magnitude = sobel_magnitude(shrink(luminance, params.max_side))
    if params.normalisation == "fixed":
        return np.clip(magnitude / SOBEL_MAX, 0.0, 1.0).astype(np.float32)
    peak = float(magnitude.max())
    return (magnitude / peak if peak > 0 else magnitude).astype(np.float32)


def _image_key(path: Path) -> str:
    # path + size + mtime: a re-written file (new synthetic build) gets a new entry without
    # hashing every image's bytes on each lookup
    stat = path.stat()
    text = f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha1(text.encode()).hexdigest()[:24]


def cache_path(image_path: str | os.PathLike, params: EdgeParams = EdgeParams()) -> Path:
    """Where the edge map of ``image_path`` for ``params`` is (or would be) cached."""
    path = Path(image_path)
    if not path.is_file():
        raise DataError(f"{path}: missing image")
    return config.cache_dir() / "edges" / params.key / f"{_image_key(path)}.npy"


def edge_map(
    image_path: str | os.PathLike,
    params: EdgeParams = EdgeParams(),
    cache: bool = True,
) -> np.ndarray:
    """Edge map of an image file, read from / written to ``cache_dir()/edges/<params.key>/``.

    Args:
        image_path: image file (any format :func:`read_luminance` reads).
        params: size and normalisation.
        cache: use the cache (False: always recompute, write nothing).
    Returns:
        float32 ``H x W`` map in [0, 1].
    """
    if not cache:
        return compute_edge_map(read_luminance(image_path), params)
    target = cache_path(image_path, params)
    if target.is_file():
        edge, problem = _load_cached(target, image_path, params)
        if problem is None:
            cachestats.record("edges", hit=True)
            return edge
        # a damaged entry (a killed write, a disk error, an edit) is rebuilt, and said once
        tqdm.write(f"{target}: cached edge map {problem}; rebuilt", file=sys.stderr)
    cachestats.record("edges", hit=False)
    edge = compute_edge_map(read_luminance(image_path), params)
    save_cache_npy(target, edge, "edge-map")
    return edge


def _load_cached(
    target: Path, image_path: str | os.PathLike, params: EdgeParams
) -> tuple[np.ndarray | None, str | None]:
    """The cached map and None, or None and what is wrong with it (it is then rebuilt)."""
    edge, problem = load_npy(target)
    if problem is not None:
        return None, problem
    try:
        with Image.open(image_path) as image:
            width, height = image.size
    except (OSError, ValueError):
        return edge, None  # the image itself is checked when it is read
    expected = shrunk_shape((height, width), params.max_side)
    if edge.dtype != np.float32 or edge.shape != expected:
        return None, f"is {edge.dtype} {edge.shape}, expected float32 {expected}"
    if not np.isfinite(edge).all() or edge.min() < 0 or edge.max() > 1:
        return None, "holds values outside [0, 1] or not finite"
    return edge, None


def edge_maps(
    records: pd.DataFrame,
    params: EdgeParams = EdgeParams(),
    progress: bool = True,
) -> list[np.ndarray]:
    """Edge maps of every record's ``image_path``, in record order (cached).

    Args:
        records: a record table (needs ``image_path``).
        params: size and normalisation.
        progress: show a tqdm bar.
    Returns:
        list of float32 maps.
    """
    paths = records["image_path"].tolist()
    return [
        edge_map(p, params)
        for p in tqdm(paths, desc=f"edge maps ({params.key})", disable=not progress)
    ]


def split_edge_map(edge: np.ndarray, parts: int) -> list[np.ndarray]:
    """Cut an edge map into 1 (whole), 2 (halves by orientation) or 4 (quarters) pieces.

    Args:
        edge: ``H x W`` map.
        parts: 1, 2 or 4.
    Returns:
        list of ``parts`` arrays of equal shape (see module docstring for order and odd sizes).
    """
    if parts not in PARTS:
        raise ValueError(f"parts must be one of {PARTS}, got {parts!r}")
    edge = np.asarray(edge)
    if edge.ndim != 2:
        raise ValueError(f"an edge map is 2-D, got shape {edge.shape}")
    h, w = edge.shape
    if parts == 1:
        return [edge]
    if parts == 2:
        if w >= h:
            half = w // 2
            return [edge[:, :half], edge[:, half : 2 * half]]
        half = h // 2
        return [edge[:half, :], edge[half : 2 * half, :]]
    hh, hw = h // 2, w // 2
    if hh == 0 or hw == 0:
        raise ValueError(f"an edge map of shape {edge.shape} is too small for quarters")
    return [
        edge[:hh, :hw],
        edge[:hh, hw : 2 * hw],
        edge[hh : 2 * hh, :hw],
        edge[hh : 2 * hh, hw : 2 * hw],
    ]


def cut_patches(edge: np.ndarray, size: int) -> list[np.ndarray]:
    """Non-overlapping ``size x size`` patches, row by row; the ragged right/bottom rim is dropped.

    A map smaller than ``size`` on a side yields one patch cropped to ``min(size, side)`` there,
    so every image gives at least one patch.

    Args:
        edge: ``H x W`` map.
        size: patch side in pixels of the edge map (> 0).
    Returns:
        list of patches (views into ``edge``).
    """
    if size <= 0:
        raise ValueError(f"patch size must be positive, got {size}")
    h, w = np.asarray(edge).shape
    ph, pw = min(size, h), min(size, w)
    return [
        edge[r : r + ph, c : c + pw]
        for r in range(0, h - ph + 1, ph)
        for c in range(0, w - pw + 1, pw)
    ]


def enlarge(
    inputs: Sequence[np.ndarray],
    targets: np.ndarray,
    groups: Sequence | np.ndarray,
    parts: int,
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray, np.ndarray]:
    """The paper's data enlargement: every input cut into ``parts`` pieces that inherit its label.

    Args:
        inputs: edge maps.
        targets: one target per input.
        groups: one group id per input (e.g. content, for validation splits).
        parts: 1, 2 or 4 (:func:`split_edge_map`).
    Returns:
        ``(pieces, targets, groups, parent_index)``; ``parent_index[i]`` is the position in
        ``inputs`` of piece ``i``.
    """
    targets = np.asarray(targets)
    groups = np.asarray(groups)
    if not len(inputs) == len(targets) == len(groups):
        raise ValueError(
            f"inputs, targets and groups differ in length: {len(inputs)}, {len(targets)}, "
            f"{len(groups)}"
        )
    pieces: list[np.ndarray] = []
    parent: list[int] = []
    for i, edge in enumerate(inputs):
        cut = split_edge_map(edge, parts)
        pieces.extend(cut)
        parent.extend([i] * len(cut))
    parent_index = np.asarray(parent, dtype=np.int64)
    return pieces, targets[parent_index], groups[parent_index], parent_index


EDGE_STATISTICS: tuple[str, ...] = (
    "mean_magnitude",
    "std_magnitude",
    "p95_magnitude",
    "edge_density",
)
"""Per-map statistics of :func:`edge_statistics` (``edge_density``: share of pixels above
:data:`EDGE_DENSITY_THRESHOLD`)."""

EDGE_DENSITY_THRESHOLD: float = 0.1


def edge_statistics(edge: np.ndarray) -> dict[str, float]:
    """Summary statistics of one edge map (see :data:`EDGE_STATISTICS`)."""
    edge = np.asarray(edge, dtype=np.float64)
    return {
        "mean_magnitude": float(edge.mean()),
        "std_magnitude": float(edge.std()),
        "p95_magnitude": float(np.percentile(edge, 95)),
        "edge_density": float((edge > EDGE_DENSITY_THRESHOLD).mean()),
    }


def edge_statistics_table(
    records: pd.DataFrame,
    params: EdgeParams = EdgeParams(),
    progress: bool = True,
) -> pd.DataFrame:
    """One row per record: its identifying columns, quality, and :func:`edge_statistics`.

    Each statistic also comes as ``<statistic>_vs_ref``, its ratio to the same statistic of the
    image's pristine reference (NaN where the record has no ``ref_path`` or the reference's
    value is 0). Raw statistics mix content with quality (a busy scene has more edges than a
    calm one at any quality); the ratio shows how a distortion moves them for one content.

    Args:
        records: a record table.
        params: edge-map parameters (also written as columns ``max_side``, ``normalisation``).
        progress: show a tqdm bar.
    Returns:
        DataFrame ``dataset, image, content, distortion, level, quality, quality_class,
        max_side, normalisation, <statistics>, <statistics>_vs_ref``.
    """
    maps = edge_maps(records, params, progress)
    stats = pd.DataFrame([edge_statistics(e) for e in maps], columns=list(EDGE_STATISTICS))
    keep = ["dataset", "image", "content", "distortion", "level", "quality", "quality_class"]
    out = records[keep].reset_index(drop=True).copy()
    out["max_side"] = params.max_side
    out["normalisation"] = params.normalisation
    out = pd.concat([out, stats], axis=1)
    ref_paths = records["ref_path"].fillna("").astype(str).tolist()
    ref_stats = {p: edge_statistics(edge_map(p, params)) for p in sorted(set(ref_paths)) if p}
    for stat in EDGE_STATISTICS:
        ref = np.array([ref_stats[p][stat] if p else np.nan for p in ref_paths], dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[f"{stat}_vs_ref"] = np.where(ref > 0, out[stat].to_numpy() / ref, np.nan)
    return out


def edge_statistics_correlation(table: pd.DataFrame) -> pd.DataFrame:
    """Spearman correlation of each edge statistic with quality, per distortion and over all.

    Args:
        table: output of :func:`edge_statistics_table` (one or several datasets).
    Returns:
        DataFrame ``dataset, distortion, statistic, n, srocc`` for every statistic and its
        ``_vs_ref`` ratio (``distortion`` ``ALL`` pools the types; ``srocc`` is NaN with fewer
        than 3 images or a constant column).
    """
    columns = [c for s in EDGE_STATISTICS for c in (s, f"{s}_vs_ref") if c in table]
    rows = []
    for dataset, part in table.groupby("dataset", sort=False):
        groups = [("ALL", part)] + list(part.groupby("distortion"))
        for distortion, sub in groups:
            for stat in columns:
                pair = sub[[stat, "quality"]].dropna()
                ok = len(pair) >= 3 and pair[stat].nunique() > 1 and pair["quality"].nunique() > 1
                rho = float(spearmanr(pair[stat], pair["quality"]).statistic) if ok else np.nan
                rows.append(
                    {
                        "dataset": dataset,
                        "distortion": distortion,
                        "statistic": stat,
                        "n": len(pair),
                        "srocc": rho,
                    }
                )
    return pd.DataFrame(rows)

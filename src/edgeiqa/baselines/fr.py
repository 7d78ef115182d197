"""Full-reference baselines: PSNR, SSIM and MS-SSIM. They need the pristine reference and no
training, so they bound what a no-reference method can be expected to reach.

Conventions, by default those of the reference implementations (so our values agree with their
official outputs on the TID2013 calibration pairs; see :mod:`edgeiqa.baselines.calibration` and
``tests/test_baselines_fr.py``):

- PSNR: on the RGB image, 0-255, mean squared error over all pixels and channels
  (scikit-image ``peak_signal_noise_ratio``). On luma it would read far higher on colour
  distortions that barely change luminance (TID2013 I04: 56 dB on luma, 21 dB on RGB).
- SSIM: Wang, Bovik, Sheikh and Simoncelli (2004), "Image Quality Assessment: From Error
  Visibility to Structural Similarity", IEEE TIP 13(4). scikit-image's ``structural_similarity``
  with the paper's settings (11x11 Gaussian window, sigma 1.5, K1 0.01, K2 0.03, population
  covariances) on the grey image (MATLAB ``rgb2gray``, :func:`~edgeiqa.data.images.rgb_to_grey`)
  at full size, as ``ssim_index.m`` computes it. The authors' later ``ssim.m`` first
  average-filters and subsamples by ``f = max(1, round(min(H, W) / 256))``; that variant is
  ``ssim(..., downsample=True)`` (and ``ssim_downsampled`` in the scoring command), not the
  default, because the published calibration values are without it.
- MS-SSIM: Wang, Simoncelli and Bovik (2003), "Multi-scale structural similarity for image
  quality assessment", Asilomar; the ``pytorch-msssim`` package with its defaults (5 scales,
  11-tap Gaussian window, the paper's weights) on the grey image. That implementation needs a
  shorter side above ``(win - 1) * 16`` = 160 pixels; for smaller images (the quick synthetic set)
  the window is shrunk to the largest odd size that fits, which is recorded by
  :func:`msssim_window`.

Every metric is "higher = better"; identical images give PSNR = inf, SSIM = MS-SSIM = 1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from pytorch_msssim import ms_ssim as _ms_ssim
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity
from tqdm.auto import tqdm

from edgeiqa.baselines.cache import cache_key, cached_features
from edgeiqa.data.images import read_rgb, rgb_to_grey
from edgeiqa.methods import ScoreMethod, unseen

DATA_RANGE = 255.0
FR_METRICS: tuple[str, ...] = ("psnr", "ssim", "ms_ssim")
MSSSIM_DEFAULT_WIN = 11
FR_VERSION = (
    "fr-v2"  # v2: PSNR on RGB, SSIM and MS-SSIM on the MATLAB grey image, SSIM at full size
)
PSNR_CAP_DB = 100.0  # an image identical to its reference has infinite PSNR; ranked as best


def _pair(
    reference: np.ndarray, distorted: np.ndarray, colour: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """The two images as float64, checked to have equal shapes (2-D grey, or H x W x 3 when
    ``colour``)."""
    ref = np.asarray(reference, dtype=np.float64)
    dist = np.asarray(distorted, dtype=np.float64)
    ndims = (2, 3) if colour else (2,)
    if ref.shape != dist.shape or ref.ndim not in ndims:
        kind = "2-D grey or H x W x 3 RGB" if colour else "2-D grey"
        raise ValueError(
            f"reference and distorted images must be equal {kind} shapes, got {ref.shape} "
            f"and {dist.shape}"
        )
    return ref, dist


def psnr(reference: np.ndarray, distorted: np.ndarray) -> float:
    """PSNR in dB of two images on 0-255, RGB (``H x W x 3``, the default convention) or grey
    (2-D); inf when identical."""
    ref, dist = _pair(reference, distorted, colour=True)
    if np.array_equal(ref, dist):
        return float("inf")
    return float(peak_signal_noise_ratio(ref, dist, data_range=DATA_RANGE))


def ssim_downsample(image: np.ndarray) -> np.ndarray:
    """Wang et al.'s pre-scaling for SSIM: ``f x f`` box filter (symmetric borders), keep every
    ``f``-th pixel, with ``f = max(1, round(min(H, W) / 256))``."""
    f = max(1, int(round(min(image.shape) / 256)))
    if f == 1:
        return image
    # MATLAB's imfilter puts an even kernel's centre before the middle: window i .. i+f-1 for f=2
    origin = -1 if f % 2 == 0 else 0
    smoothed = ndimage.uniform_filter(image, size=f, mode="reflect", origin=origin)
    return smoothed[::f, ::f]


def ssim(reference: np.ndarray, distorted: np.ndarray, downsample: bool = False) -> float:
    """SSIM of two grey images on 0-255 with Wang et al.'s (2004) settings.

    Args:
        reference, distorted: equal-shape 2-D grey images on 0-255.
        downsample: apply :func:`ssim_downsample` first (``ssim.m``'s pre-scaling; off by
            default, as in the reference values).
    Returns:
        Mean SSIM (1 for identical images).
    """
    ref, dist = _pair(reference, distorted)
    if downsample:
        ref, dist = ssim_downsample(ref), ssim_downsample(dist)
    return float(
        structural_similarity(
            ref,
            dist,
            data_range=DATA_RANGE,
            gaussian_weights=True,
            sigma=1.5,
            use_sample_covariance=False,
            K1=0.01,
            K2=0.03,
        )
    )


def msssim_window(shape: tuple[int, ...]) -> int:
    """Gaussian window size MS-SSIM uses for an image of ``shape`` (11 unless it is too small)."""
    side = min(shape[-2:])
    if side > (MSSSIM_DEFAULT_WIN - 1) * 16:
        return MSSSIM_DEFAULT_WIN
    win = (side - 1) // 16 + 1  # largest w with (w - 1) * 16 < side
    win -= 1 - win % 2  # odd
    if win < 3:
        raise ValueError(f"image of shape {tuple(shape)} is too small for 5-scale MS-SSIM")
    return win


def ms_ssim(reference: np.ndarray, distorted: np.ndarray) -> float:
    """MS-SSIM (5 scales) of two grey images on 0-255 (1 for identical images)."""
    ref, dist = _pair(reference, distorted)
    x = torch.from_numpy(ref).to(torch.float64)[None, None]
    y = torch.from_numpy(dist).to(torch.float64)[None, None]
    return float(_ms_ssim(x, y, data_range=DATA_RANGE, win_size=msssim_window(ref.shape)).item())


def _read_pair(
    image_path: str | os.PathLike, ref_path: str | os.PathLike
) -> tuple[np.ndarray, np.ndarray]:
    """An image file and its reference as RGB arrays, checked to be the same size."""
    dist, ref = read_rgb(image_path), read_rgb(ref_path)
    if ref.shape != dist.shape:
        raise ValueError(
            f"{image_path}: size {dist.shape[:2]} differs from its reference {ref.shape[:2]}"
        )
    return dist, ref


def fr_scores_of_files(image_path: str | os.PathLike, ref_path: str | os.PathLike) -> dict:
    """PSNR, SSIM and MS-SSIM of an image file against its reference file (cached)."""

    def compute() -> np.ndarray:
        dist, ref = _read_pair(image_path, ref_path)
        grey_ref, grey_dist = rgb_to_grey(ref), rgb_to_grey(dist)
        return np.array([psnr(ref, dist), ssim(grey_ref, grey_dist), ms_ssim(grey_ref, grey_dist)])

    ref_id = cache_key(ref_path, "reference")
    values = cached_features("fr", image_path, f"{FR_VERSION}|{ref_id}", compute)
    return dict(zip(FR_METRICS, (float(v) for v in values), strict=True))


def score_files(metric: str, image_path: str | os.PathLike, ref_path: str | os.PathLike) -> float:
    """One full-reference metric of an image file against its reference file.

    Args:
        metric: one of :data:`FR_METRICS`, or ``ssim_downsampled`` (SSIM after ``ssim.m``'s
            pre-scaling).
    """
    if metric in FR_METRICS:
        return fr_scores_of_files(image_path, ref_path)[metric]
    if metric == "ssim_downsampled":
        dist, ref = _read_pair(image_path, ref_path)
        return ssim(rgb_to_grey(ref), rgb_to_grey(dist), downsample=True)
    raise ValueError(f"unknown full-reference metric {metric!r}; choose from {FR_METRICS}")


def fr_table(records: pd.DataFrame, progress: bool = True) -> pd.DataFrame:
    """One row per record: ``image`` and the three metrics (higher = better).

    Records without a reference (empty ``ref_path``) raise ValueError: FR metrics need one.
    """
    missing = records["ref_path"].fillna("").astype(str).str.len() == 0
    if missing.any():
        raise ValueError(f"{records['image'][missing].iloc[0]}: no reference image for FR metrics")
    rows = []
    pairs = zip(records["image"], records["image_path"], records["ref_path"], strict=True)
    for image, path, ref in tqdm(list(pairs), desc="FR metrics", disable=not progress):
        rows.append({"image": image, **fr_scores_of_files(path, ref)})
    return pd.DataFrame(rows, columns=["image", *FR_METRICS])


@dataclass
class FullReferenceMethod(ScoreMethod):
    """One full-reference metric as a :class:`~edgeiqa.methods.Method`: its score of each
    image against its reference, put on 0-100 by a line fitted on the training split.

    Attributes:
        name: the method's label (``PSNR``, ``SSIM``, ``MS-SSIM``).
        metric: its column of :func:`fr_table` (one of :data:`FR_METRICS`).
        progress: progress bars while scoring.
        shared: per-image rows of :func:`fr_table`, shared by the methods of :func:`fr_methods`
            so that one pass over the images serves all three metrics.
    """

    name: str = "PSNR"
    metric: str = "psnr"
    kind: str = "full-reference"
    progress: bool = True
    shared: dict = field(default_factory=dict, repr=False)

    def scores(self, records: pd.DataFrame) -> np.ndarray:
        new = unseen(records, self.shared)
        if len(new):
            table = fr_table(new, progress=self.progress).replace(np.inf, PSNR_CAP_DB)
            rows = table.to_dict("records")
            self.shared.update(zip(new["image_path"].astype(str), rows, strict=True))
        paths = records["image_path"].astype(str)
        return np.array([self.shared[p][self.metric] for p in paths], dtype=float)


def fr_methods(progress: bool = True) -> list[FullReferenceMethod]:
    """PSNR, SSIM and MS-SSIM as methods, in that order."""
    names = {"psnr": "PSNR", "ssim": "SSIM", "ms_ssim": "MS-SSIM"}
    shared: dict = {}
    return [FullReferenceMethod(names[m], m, progress=progress, shared=shared) for m in FR_METRICS]

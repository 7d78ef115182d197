"""Natural-scene-statistics (NSS) building blocks shared by BRISQUE and NIQE.

Mittal, Moorthy and Bovik (2012), "No-Reference Image Quality Assessment in the Spatial Domain",
IEEE Trans. Image Processing 21(12) (BRISQUE), and Mittal, Soundararajan and Bovik (2013),
"Making a 'Completely Blind' Image Quality Analyzer", IEEE Signal Processing Letters 20(3) (NIQE).

Both work on mean-subtracted contrast-normalised (MSCN) coefficients of the luminance on a 0-255
scale, ``(I - mu) / (sigma + 1)``, with a 7x7 Gaussian window of standard deviation 7/6, and fit
generalised Gaussian (GGD) and asymmetric generalised Gaussian (AGGD) distributions to the MSCN
coefficients and to products of neighbouring coefficients. The fits follow the authors' released
MATLAB code (``estimateggdparam.m``, ``estimateaggdparam.m``): moment matching with the shape
parameter looked up on the grid 0.2:0.001:10.

Two MATLAB conventions of the authors' code are reproduced exactly, because the BRISQUE
calibration on TID2013 (:mod:`edgeiqa.baselines.calibration`) misses without either. The grey image
is MATLAB's ``rgb2gray`` rounded to uint8 (:func:`matlab_grey`); the rounding is what matters
(without it BRISQUE of image I03 moved from 94.64, official 94.64, to 106.55; BT.601 weights
instead of MATLAB's changed it by 0.002). The second scale is MATLAB's
``imresize(I, 0.5)`` (:func:`imresize_half`, a port of its antialiased bicubic kernel with mirrored
borders); Pillow's resize, which renormalises the kernel at the borders instead, moved BRISQUE of
image I04 from -0.108 (official -0.108) to +0.019, outside the tolerance.

Degenerate input (a flat image gives all-zero MSCN coefficients, for which no shape can be
estimated) is mapped to shape 2 (Gaussian) and zero spread, so features stay finite.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from scipy.special import gamma

GAUSSIAN_SIZE = 7
GAUSSIAN_SIGMA = 7.0 / 6.0
MSCN_C = 1.0  # stabilising constant for luminance on 0-255 (the authors' code)
# MATLAB rgb2gray: the first row of inv([1 0.956 0.621; 1 -0.272 -0.647; 1 -1.106 1.703]),
# i.e. the NTSC luma weights 0.2989, 0.5870, 0.1140 as MATLAB stores them
SHAPE_GRID = np.arange(0.2, 10.0 + 1e-9, 0.001)
DEGENERATE_SHAPE = 2.0
# Neighbour offsets (row, col) of the four pairwise products, in the order of the authors' code:
# horizontal, vertical, main diagonal, secondary diagonal (applied with circular shifts).
PAIR_SHIFTS: tuple[tuple[int, int], ...] = ((0, 1), (1, 0), (1, 1), (-1, 1))

# rho(alpha) = Gamma(1/a) Gamma(3/a) / Gamma(2/a)^2 for the GGD; its inverse for the AGGD
_GGD_RHO = gamma(1.0 / SHAPE_GRID) * gamma(3.0 / SHAPE_GRID) / gamma(2.0 / SHAPE_GRID) ** 2
_AGGD_R = 1.0 / _GGD_RHO


def gaussian_window_1d(size: int = GAUSSIAN_SIZE, sigma: float = GAUSSIAN_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian whose outer product equals MATLAB's ``fspecial('gaussian')``."""
    x = np.arange(size) - (size - 1) / 2.0
    g = np.exp(-(x**2) / (2.0 * sigma**2))
    return g / g.sum()


def local_mean_std(image: np.ndarray, padding: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """Gaussian-weighted local mean and standard deviation of a 2-D image.

    Args:
        image: 2-D float array (luminance on 0-255).
        padding: ``"constant"`` (zeros: BRISQUE's ``filter2``) or ``"nearest"`` (NIQE's
            ``imfilter(..., 'replicate')``).
    Returns:
        ``(mu, sigma)``, each the shape of ``image``.
    """
    g = gaussian_window_1d()
    image = np.asarray(image, dtype=np.float64)

    def blur(x: np.ndarray) -> np.ndarray:
        x = ndimage.correlate1d(x, g, axis=0, mode=padding, cval=0.0)
        return ndimage.correlate1d(x, g, axis=1, mode=padding, cval=0.0)

    mu = blur(image)
    sigma = np.sqrt(np.abs(blur(image * image) - mu * mu))
    return mu, sigma


def mscn(image: np.ndarray, padding: str = "constant") -> tuple[np.ndarray, np.ndarray]:
    """MSCN coefficients ``(I - mu) / (sigma + 1)`` and the local ``sigma`` (NIQE's sharpness).

    Args:
        image: 2-D luminance on 0-255.
        padding: see :func:`local_mean_std`.
    Returns:
        ``(coefficients, sigma)``.
    """
    mu, sigma = local_mean_std(image, padding)
    return (np.asarray(image, dtype=np.float64) - mu) / (sigma + MSCN_C), sigma


def pair_products(coefficients: np.ndarray) -> list[np.ndarray]:
    """Products of each MSCN coefficient with its four neighbours (circular shifts, as the
    authors' code does), flattened, in :data:`PAIR_SHIFTS` order."""
    return [
        (coefficients * np.roll(coefficients, shift, axis=(0, 1))).ravel() for shift in PAIR_SHIFTS
    ]


def fit_ggd(values: np.ndarray) -> tuple[float, float]:
    """Zero-mean GGD fit by moment matching.

    Args:
        values: samples (any shape).
    Returns:
        ``(shape alpha, variance sigma^2)``.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    sigma_sq = float(np.mean(x * x))
    e_abs = float(np.mean(np.abs(x)))
    if sigma_sq <= 0 or e_abs <= 0:
        return DEGENERATE_SHAPE, 0.0
    rho = sigma_sq / e_abs**2
    return float(SHAPE_GRID[np.argmin(np.abs(rho - _GGD_RHO))]), sigma_sq


def fit_aggd(values: np.ndarray) -> tuple[float, float, float]:
    """AGGD fit by moment matching (Lasmar, Stitou and Berthoumieu, 2009, as in BRISQUE).

    Args:
        values: samples (any shape).
    Returns:
        ``(shape alpha, left std, right std)``; a side with no samples has std 0.
    """
    x = np.asarray(values, dtype=np.float64).ravel()
    mean_sq = float(np.mean(x * x))
    if mean_sq <= 0:
        return DEGENERATE_SHAPE, 0.0, 0.0
    left, right = x[x < 0], x[x > 0]
    left_std = float(np.sqrt(np.mean(left * left))) if left.size else 0.0
    right_std = float(np.sqrt(np.mean(right * right))) if right.size else 0.0
    if left_std == 0 or right_std == 0:
        # one-sided samples: no asymmetry ratio can be formed; keep the spreads, Gaussian shape
        return DEGENERATE_SHAPE, left_std, right_std
    gamma_hat = left_std / right_std
    r_hat = float(np.mean(np.abs(x))) ** 2 / mean_sq
    r_norm = r_hat * (gamma_hat**3 + 1) * (gamma_hat + 1) / (gamma_hat**2 + 1) ** 2
    alpha = float(SHAPE_GRID[np.argmin((_AGGD_R - r_norm) ** 2)])
    return alpha, left_std, right_std


def aggd_mean(alpha: float, left_std: float, right_std: float) -> float:
    """Mean of an AGGD with the given shape and side standard deviations (BRISQUE's eta)."""
    const = np.sqrt(gamma(1.0 / alpha) / gamma(3.0 / alpha))
    return float((right_std - left_std) * gamma(2.0 / alpha) / gamma(1.0 / alpha) * const)


def _cubic(x: np.ndarray) -> np.ndarray:
    # Keys' cubic convolution kernel with a = -0.5 (MATLAB imresize's "cubic")
    ax = np.abs(x)
    return (1.5 * ax**3 - 2.5 * ax**2 + 1.0) * (ax <= 1) + (
        -0.5 * ax**3 + 2.5 * ax**2 - 4.0 * ax + 2.0
    ) * ((ax > 1) & (ax <= 2))


def _half_contributions(n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights and 0-based source indices of MATLAB ``imresize``'s ``contributions`` for scale
    0.5 along one axis of length ``n_in`` (bicubic, antialiased, mirrored borders)."""
    scale, width = 0.5, 4.0 / 0.5  # antialiasing widens the kernel by 1/scale
    n_out = int(np.ceil(n_in * scale))
    u = np.arange(1, n_out + 1) / scale + 0.5 * (1.0 - 1.0 / scale)  # 1-based input coordinate
    left = np.floor(u - width / 2.0)
    taps = left[:, None] + np.arange(int(np.ceil(width)) + 2)[None, :]
    weights = scale * _cubic(scale * (u[:, None] - taps))
    weights /= weights.sum(axis=1, keepdims=True)
    # out-of-range taps read the mirrored image (MATLAB: aux = [1:n, n:-1:1])
    mirror = np.concatenate([np.arange(n_in), np.arange(n_in - 1, -1, -1)])
    indices = mirror[np.mod(taps - 1, 2 * n_in).astype(int)]
    used = np.any(weights != 0, axis=0)
    return weights[:, used], indices[:, used]


def imresize_half(image: np.ndarray) -> np.ndarray:
    """MATLAB's ``imresize(I, 0.5)`` of a 2-D float image, as the authors' code calls it.

    Bicubic (Keys, a = -0.5) with the kernel widened by 2 for antialiasing, borders mirrored, rows
    resized before columns (MATLAB's order for equal scales), no rounding (double input).

    Args:
        image: 2-D array (any range).
    Returns:
        ``ceil(H/2) x ceil(W/2)`` float64 array.
    """
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2:
        raise ValueError(f"imresize_half expects a 2-D image, got shape {image.shape}")
    w, idx = _half_contributions(image.shape[0])
    image = np.einsum("ij,ijk->ik", w, image[idx])
    w, idx = _half_contributions(image.shape[1])
    return np.einsum("ij,kij->ki", w, image[:, idx])

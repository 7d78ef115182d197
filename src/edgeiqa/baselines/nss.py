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

Degenerate input (a flat image gives all-zero MSCN coefficients, for which no shape can be
estimated) is mapped to shape 2 (Gaussian) and zero spread, so features stay finite.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from scipy import ndimage
from scipy.special import gamma

GAUSSIAN_SIZE = 7
GAUSSIAN_SIGMA = 7.0 / 6.0
MSCN_C = 1.0  # stabilising constant for luminance on 0-255 (the authors' code)
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


def imresize_half(image: np.ndarray) -> np.ndarray:
    """Halve a 2-D float image with antialiased bicubic interpolation.

    MATLAB's ``imresize(I, 0.5)`` (used by the authors) is bicubic (a = -0.5) with an antialiasing
    kernel widened by the scale; Pillow's BICUBIC resampling of a float (``F``) image does the
    same. Borders differ slightly (MATLAB mirrors, Pillow renormalises the kernel). The output
    has ``ceil(H/2) x ceil(W/2)`` pixels, as MATLAB's.
    """
    image = np.asarray(image, dtype=np.float32)
    h, w = image.shape
    out = Image.fromarray(image).resize(
        ((w + 1) // 2, (h + 1) // 2), resample=Image.Resampling.BICUBIC
    )
    return np.asarray(out, dtype=np.float64)

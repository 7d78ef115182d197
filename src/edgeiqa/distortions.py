"""The paper's five distortion types (those of LIVE Release 2) as pure functions.

Each takes an ``H x W x 3`` uint8 RGB image and a strength, and returns a new uint8 RGB image.
LIVE's own generation (Sheikh et al. 2006) is followed where it is described:

- ``jpeg``: Pillow's libjpeg encoder at IJG quality factor ``q`` (LIVE used the same library
  family; the LIVE subset's JPEG images are reproduced bit for bit by Pillow).
- ``jp2k``: Pillow's OpenJPEG encoder at a target bit rate in bits per pixel.
- ``wn``: white Gaussian noise of standard deviation ``sigma`` (on a 0-1 scale) added to each
  RGB channel, then clipped.
- ``gblur``: a circular-symmetric Gaussian kernel of standard deviation ``sigma`` pixels on each
  RGB channel (scikit-image).
- ``ff``: LIVE's "fast fading" images are JPEG 2000 bitstreams at 2.5 bpp sent over a simulated
  Rayleigh fading channel. Pillow cannot decode a corrupted codestream reliably, so we simulate
  the visible effect of lost packets instead: the image is coded at 2.5 bpp, and each 32x32 block
  is, with probability ``loss``, replaced by a very low-rate (0.05 bpp) reconstruction of that
  block, which gives the blurred, ringing, smeared patches that fast-fading images show. This is a
  documented approximation, not LIVE's channel model.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import numpy as np
from PIL import Image
from skimage.filters import gaussian

FF_BASE_BPP = 2.5
FF_LOST_BPP = 0.05
FF_BLOCK = 32


def _check(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"expected an H x W x 3 uint8 image, got {image.dtype} {image.shape}")
    return image


def jpeg(image: np.ndarray, quality: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """JPEG at IJG quality factor ``quality`` (1-95)."""
    buf = io.BytesIO()
    Image.fromarray(_check(image)).save(buf, format="JPEG", quality=int(round(quality)))
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def jp2k(image: np.ndarray, bpp: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """JPEG 2000 at ``bpp`` bits per pixel (compression ratio ``24 / bpp`` for RGB)."""
    image = _check(image)
    buf = io.BytesIO()
    Image.fromarray(image).save(
        buf, format="JPEG2000", quality_mode="rates", quality_layers=[24.0 / bpp], irreversible=True
    )
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def wn(image: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Additive white Gaussian noise, standard deviation ``sigma`` on a 0-1 scale."""
    if rng is None:
        raise ValueError("wn needs a seeded numpy Generator so the noise is reproducible")
    x = _check(image).astype(np.float64) / 255.0
    noisy = x + rng.normal(0.0, sigma, size=x.shape)
    return np.clip(np.round(noisy * 255.0), 0, 255).astype(np.uint8)


def gblur(image: np.ndarray, sigma: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Gaussian blur with standard deviation ``sigma`` pixels."""
    x = _check(image).astype(np.float64) / 255.0
    blurred = gaussian(x, sigma=sigma, channel_axis=-1, mode="reflect", truncate=4.0)
    return np.clip(np.round(blurred * 255.0), 0, 255).astype(np.uint8)


def ff(image: np.ndarray, loss: float, rng: np.random.Generator | None = None) -> np.ndarray:
    """Simulated fast fading: 2.5 bpp JPEG 2000 with a fraction ``loss`` of 32x32 blocks
    replaced by a 0.05 bpp reconstruction (see the module docstring)."""
    if rng is None:
        raise ValueError("ff needs a seeded numpy Generator so the lost blocks are reproducible")
    image = _check(image)
    base = jp2k(image, FF_BASE_BPP)
    lost = jp2k(image, FF_LOST_BPP)
    h, w = image.shape[:2]
    rows, cols = -(-h // FF_BLOCK), -(-w // FF_BLOCK)
    mask_blocks = rng.random((rows, cols)) < loss
    mask = np.kron(mask_blocks, np.ones((FF_BLOCK, FF_BLOCK), dtype=bool))[:h, :w]
    out = base.copy()
    out[mask] = lost[mask]
    return out


DISTORTIONS: dict[str, Callable[..., np.ndarray]] = {
    "jpeg": jpeg,
    "jp2k": jp2k,
    "wn": wn,
    "gblur": gblur,
    "ff": ff,
}

STRENGTH_NAMES: dict[str, str] = {
    "jpeg": "IJG quality factor",
    "jp2k": "bits per pixel",
    "wn": "noise sigma (0-1 scale)",
    "gblur": "Gaussian sigma (pixels)",
    "ff": "fraction of 32x32 blocks lost",
}

LEVELS: dict[str, tuple[float, ...]] = {
    # Five graded strengths per type, mildest first, spanning LIVE Release 2's published ranges
    # (JPEG 0.15-3.3 bpp, JP2K 0.028-3.15 bpp, WN sigma 0.012-2.0, blur sigma 0.42-15 px).
    "jpeg": (70, 30, 12, 6, 2),
    "jp2k": (1.6, 0.6, 0.25, 0.1, 0.04),
    "wn": (0.02, 0.05, 0.12, 0.3, 0.8),
    "gblur": (0.6, 1.2, 2.4, 4.5, 9.0),
    "ff": (0.03, 0.08, 0.16, 0.3, 0.5),
}


def apply(
    name: str, image: np.ndarray, strength: float, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Apply distortion ``name`` at ``strength``."""
    if name not in DISTORTIONS:
        raise ValueError(f"unknown distortion {name!r}; known: {sorted(DISTORTIONS)}")
    return DISTORTIONS[name](image, strength, rng)

"""Score one's own images with a baseline, as its reference implementation would.

``python -m edgeiqa score METHOD IMAGE... [--ref REFERENCE...] [--csv FILE]`` and
:func:`score_images` give, per image, the metric's own score (not mapped to 0-100, not the study's
CNN) with its direction: PSNR, SSIM (full size, or ``ssim_downsampled``), MS-SSIM against a
reference; the authors' BRISQUE and NIQE models without one. Conventions are those of
:mod:`edgeiqa.baselines.fr`, :mod:`edgeiqa.baselines.brisque_published` and
:mod:`edgeiqa.baselines.niqe`.

Images are files, folders (their images, sorted by name) or glob patterns. A full-reference method
pairs the i-th image with the i-th reference. A file that cannot be scored gets a one-line error
(``path: problem``) and the rest are scored.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from edgeiqa.errors import DataError

IMAGE_SUFFIXES = (".png", ".bmp", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
SCORE_COLUMNS = ["path", "method", "score", "direction", "reference", "error"]


@dataclass(frozen=True)
class Scorer:
    """A metric a user can run: ``score(image_path, reference_path | None) -> float``."""

    name: str
    direction: str  # "higher is better" | "higher is worse"
    needs_reference: bool
    score: Callable[[str, str | None], float]
    description: str


def _fr(metric: str) -> Callable[[str, str | None], float]:
    def score(image: str, reference: str | None) -> float:
        from edgeiqa.baselines import fr

        return fr.score_files(metric, image, reference)

    return score


def _brisque(image: str, reference: str | None) -> float:
    from edgeiqa.baselines import brisque_published

    return brisque_published.published_score(image)


def _niqe(image: str, reference: str | None) -> float:
    from edgeiqa.baselines import niqe

    return niqe.authors_niqe(image)


SCORERS: dict[str, Scorer] = {
    s.name: s
    for s in (
        Scorer("psnr", "higher is better", True, _fr("psnr"), "PSNR (dB) on RGB 0-255"),
        Scorer("ssim", "higher is better", True, _fr("ssim"), "SSIM on the grey image"),
        Scorer(
            "ssim_downsampled",
            "higher is better",
            True,
            _fr("ssim_downsampled"),
            "SSIM after ssim.m's pre-scaling",
        ),
        Scorer("ms_ssim", "higher is better", True, _fr("ms_ssim"), "MS-SSIM, 5 scales, grey"),
        Scorer(
            "brisque",
            "higher is worse",
            False,
            _brisque,
            "BRISQUE with its authors' LIVE-trained model",
        ),
        Scorer("niqe", "higher is worse", False, _niqe, "NIQE with its authors' pristine model"),
    )
}
"""The methods of the scoring command, by the name it takes."""


def expand_paths(items: Sequence[str | os.PathLike]) -> list[str]:
    """Files as given; folders as their image files (sorted); anything else as a glob pattern.

    A name that is none of these is kept, so that scoring reports it as missing rather than
    dropping it silently.
    """
    out: list[str] = []
    for item in items:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            out += sorted(
                str(p) for p in path.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
            )
        elif path.exists():
            out.append(text)
        else:
            matches = sorted(glob.glob(text))
            out += matches if matches else [text]
    return out


def score_images(
    method: str,
    images: Sequence[str | os.PathLike],
    references: Sequence[str | os.PathLike] = (),
    progress: bool = True,
) -> pd.DataFrame:
    """Score every image with one method of :data:`SCORERS`.

    Args:
        method: a key of :data:`SCORERS`.
        images: files, folders or glob patterns (see :func:`expand_paths`).
        references: the same for the references of a full-reference method, paired in order.
        progress: a progress bar over images.
    Returns:
        One row per image in :data:`SCORE_COLUMNS`; ``score`` is NaN and ``error`` says why for a
        file that could not be scored.
    Raises:
        ValueError: unknown method, or references missing or not one per image (one line).
    """
    if method not in SCORERS:
        raise ValueError(f"unknown method {method!r}; choose from {', '.join(SCORERS)}")
    scorer = SCORERS[method]
    paths = expand_paths(images)
    refs = expand_paths(references) if references else []
    if scorer.needs_reference and len(refs) != len(paths):
        raise ValueError(
            f"{method} is full-reference: give one --ref per image ({len(paths)} image(s), "
            f"{len(refs)} reference(s))"
        )
    if refs and not scorer.needs_reference:
        raise ValueError(f"{method} is no-reference: it takes no --ref")
    rows = []
    pairs = list(zip(paths, refs or [None] * len(paths), strict=True))
    for path, ref in tqdm(pairs, desc=f"{method}", disable=not progress, unit="image"):
        row = {"path": path, "method": method, "direction": scorer.direction, "reference": ref}
        missing = [p for p in (path, ref) if p is not None and not Path(p).is_file()]
        try:
            if missing:
                raise DataError(f"{missing[0]}: missing image")
            row["score"] = float(scorer.score(path, ref))
            row["error"] = ""
        except (DataError, OSError, ValueError) as exc:
            if isinstance(exc, OSError) and exc.strerror:
                text = f"{exc.filename or path}: {exc.strerror}"
            else:  # DataError and our ValueErrors already name the file
                text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            row["score"] = float("nan")
            row["error"] = text if path in text or (ref and ref in text) else f"{path}: {text}"
        rows.append(row)
    return pd.DataFrame(rows, columns=SCORE_COLUMNS)

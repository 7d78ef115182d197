"""Majority vote over patch predictions: the CNN_1_Mvote variant of the "deep fake score" paper.

The paper cuts each test image into patches, classifies every patch, and gives the image the
class most of its patches received. It does not say how ties are broken; we break them, in
this order:

1. the tied class with the highest **summed probability** over the image's patches (the
   classifier's confidence decides between equally frequent votes);
2. if still tied (exactly equal sums), the **worse** class (lower index, 0 = worst quality):
   when the evidence cannot separate two quality levels we report the more pessimistic one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def vote(patch_probs: np.ndarray) -> int:
    """Class of one image from its patches' class probabilities (majority, documented ties).

    Args:
        patch_probs: ``(P, C)`` probabilities (or any scores) of ``P >= 1`` patches.
    Returns:
        the winning class index.
    """
    probs = np.asarray(patch_probs, dtype=float)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"vote needs a (patches, classes) array with patches, got {probs.shape}")
    n_classes = probs.shape[1]
    counts = np.bincount(probs.argmax(axis=1), minlength=n_classes)
    tied = np.flatnonzero(counts == counts.max())
    if len(tied) == 1:
        return int(tied[0])
    sums = probs[:, tied].sum(axis=0)
    # np.flatnonzero keeps tied classes in increasing order, so argmax picks the worse class
    # among exactly equal sums
    return int(tied[np.argmax(sums)])


def majority_vote(
    patch_probs: np.ndarray,
    parent_index: Sequence[int] | np.ndarray,
    n_images: int | None = None,
) -> np.ndarray:
    """Image classes from the patch probabilities of many images.

    Args:
        patch_probs: ``(P, C)`` probabilities of all patches.
        parent_index: for each patch, the index of its image (0 .. ``n_images - 1``).
        n_images: number of images (default ``max(parent_index) + 1``); every image must have
            at least one patch.
    Returns:
        int64 array of ``n_images`` classes.
    """
    probs = np.asarray(patch_probs, dtype=float)
    parent = np.asarray(parent_index, dtype=np.int64)
    if probs.ndim != 2 or len(parent) != len(probs):
        raise ValueError(f"patch_probs {probs.shape} and parent_index ({len(parent)}) do not match")
    n = int(parent.max()) + 1 if n_images is None else int(n_images)
    order = np.argsort(parent, kind="stable")
    bounds = np.searchsorted(parent[order], np.arange(n + 1))
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        rows = order[bounds[i] : bounds[i + 1]]
        if len(rows) == 0:
            raise ValueError(f"image {i} has no patches to vote")
        out[i] = vote(probs[rows])
    return out


def mean_probabilities(
    patch_probs: np.ndarray,
    parent_index: Sequence[int] | np.ndarray,
    n_images: int | None = None,
) -> np.ndarray:
    """Per-image mean of its pieces' probabilities (how CNN_2x/CNN_4x pieces are combined).

    Args:
        patch_probs: ``(P, C)`` probabilities of all pieces.
        parent_index: for each piece, the index of its image.
        n_images: number of images (default ``max(parent_index) + 1``).
    Returns:
        ``(n_images, C)`` array.
    """
    probs = np.asarray(patch_probs, dtype=float)
    parent = np.asarray(parent_index, dtype=np.int64)
    n = int(parent.max()) + 1 if n_images is None else int(n_images)
    sums = np.zeros((n, probs.shape[1]))
    np.add.at(sums, parent, probs)
    counts = np.bincount(parent, minlength=n)
    if np.any(counts == 0):
        raise ValueError(f"image {int(np.argmin(counts))} has no pieces")
    return sums / counts[:, None]

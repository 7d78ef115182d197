"""The embedded synthetic dataset: what the study runs on when no real dataset is configured.

Pristine natural photographs that installed packages ship (scikit-image, scikit-learn and
matplotlib sample images; see :data:`CONTENTS`) are downscaled so the longer side is at most
``max_side`` (never upscaled; Lanczos), then distorted with the paper's five types at graded
levels (:mod:`edgeiqa.distortions`). Quality labels come from a model calibrated on real human
scores (:mod:`edgeiqa.data.calibration`), never from a metric the study reports as a baseline.

Builds are deterministic (every image's noise comes from a generator seeded by
``(seed, content, type, level)``) and cached under ``<cache>/synthetic/<key>``, where the key
hashes every parameter and the calibration, so a build is redone only when one of them changes.
Results on this set are always labelled "synthetic" and are never LIVE results.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from edgeiqa import cachestats, config
from edgeiqa import distortions as dist_lib
from edgeiqa.data import calibration
from edgeiqa.data.schema import QUALITY_CLASS_EDGES, dmos100_to_quality, finalise_records

BUILD_VERSION = 1  # bump when the generation code changes, so old caches are not reused


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def get() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, name)()

    return get


def _motorcycle() -> np.ndarray:
    import skimage.data

    return skimage.data.stereo_motorcycle()[0]


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def get() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)

    return get


def _grace_hopper() -> np.ndarray:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as f:
        return np.asarray(Image.open(f).convert("RGB"))


# Natural photographs only (no microscopy, text, synthetic or already-blurred images such as
# skimage's motion-blurred "clock"). Ordered so the first four, used by the quick profile, hold
# landscape, portrait (grace_hopper) and square images and both colour and grey content.
CONTENTS: dict[str, Callable[[], np.ndarray]] = {
    "astronaut": _skimage("astronaut"),
    "grace_hopper": _grace_hopper,
    "coffee": _skimage("coffee"),
    "camera": _skimage("camera"),
    "china": _sklearn("china.jpg"),
    "chelsea": _skimage("chelsea"),
    "rocket": _skimage("rocket"),
    "motorcycle": _motorcycle,
    "flower": _sklearn("flower.jpg"),
    "coins": _skimage("coins"),
    "moon": _skimage("moon"),
    "grass": _skimage("grass"),
}


def pristine_image(content: str, max_side: int) -> np.ndarray:
    """The pristine RGB uint8 image of ``content``, longer side at most ``max_side``."""
    if content not in CONTENTS:
        raise ValueError(f"unknown synthetic content {content!r}; known: {list(CONTENTS)}")
    img = np.asarray(CONTENTS[content]())
    if img.ndim == 2:
        img = np.stack([img] * 3, axis=-1)
    img = img[..., :3].astype(np.uint8)
    h, w = img.shape[:2]
    if max_side and max(h, w) > max_side:
        scale = max_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = np.asarray(Image.fromarray(img).resize(size, Image.Resampling.LANCZOS))
    return img


def level_indices(n_levels: int) -> list[int]:
    """Which of the 5 graded levels a build with ``n_levels`` uses (spread over the range)."""
    if not 1 <= n_levels <= calibration.N_LEVELS:
        raise ValueError(f"n_levels must be 1..{calibration.N_LEVELS}, got {n_levels}")
    return sorted({int(i) for i in np.round(np.linspace(0, calibration.N_LEVELS - 1, n_levels))})


def build_key(params: dict) -> str:
    blob = json.dumps(params, sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def _params(contents: Sequence[str], n_levels: int, max_side: int, seed: int) -> dict:
    return {
        "version": BUILD_VERSION,
        "contents": list(contents),
        "levels": level_indices(n_levels),
        "strengths": {k: list(v) for k, v in dist_lib.LEVELS.items()},
        "max_side": int(max_side),
        "seed": int(seed),
        "calibration": calibration.load_calibration(),
    }


def build(
    out_dir: str | Path,
    contents: Sequence[str],
    n_levels: int,
    max_side: int,
    seed: int,
    progress: bool = True,
) -> pd.DataFrame:
    """Write the images into ``out_dir`` and return the label table (not yet finalised)."""
    out_dir = Path(out_dir)
    calib = calibration.load_calibration()
    levels = level_indices(n_levels)
    rows = []
    jobs = [(c, d) for c in contents for d in dist_lib.LEVELS]
    (out_dir / "refimgs").mkdir(parents=True, exist_ok=True)
    refs = {}
    for content in contents:
        refs[content] = pristine_image(content, max_side)
        Image.fromarray(refs[content]).save(out_dir / "refimgs" / f"{content}.png")
    for content, dist in tqdm(jobs, desc="synthetic set", disable=not progress):
        ci, di = list(CONTENTS).index(content), list(dist_lib.LEVELS).index(dist)
        (out_dir / dist).mkdir(exist_ok=True)
        for li in levels:
            strength = dist_lib.LEVELS[dist][li]
            rng = np.random.default_rng([seed, ci, di, li])
            img = dist_lib.apply(dist, refs[content], strength, rng)
            name = f"{dist}/{content}_L{li + 1}.png"
            Image.fromarray(img).save(out_dir / name)
            dmos = calibration.predicted_dmos(dist, strength, li, calib)
            rows.append(
                {
                    "image": name,
                    "ref": f"refimgs/{content}.png",
                    "content": content,
                    "distortion": dist,
                    "level": li + 1,
                    "strength": strength,
                    "strength_measure": dist_lib.STRENGTH_NAMES[dist],
                    "dmos": dmos,
                    "label_grounding": calibration.grounding(dist),
                }
            )
    labels = pd.DataFrame(rows)
    labels.to_csv(out_dir / "labels.csv", index=False)
    return labels


def load(
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    profile: str = "full",
    seed: int = 0,
    n_contents: int | None = None,
    n_levels: int | None = None,
    max_side: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Record table of the synthetic set, building it into the cache first when needed.

    Sizes default to the profile's ``synthetic_*`` fields; any of them can be overridden.
    """
    prof = config.get_profile(profile)
    n_contents = n_contents or prof.synthetic_contents
    n_levels = n_levels or prof.synthetic_levels
    max_side = prof.synthetic_max_side if max_side is None else max_side
    if not 2 <= n_contents <= len(CONTENTS):
        raise ValueError(f"n_contents must be 2..{len(CONTENTS)}, got {n_contents}")
    contents = list(CONTENTS)[:n_contents]
    params = _params(contents, n_levels, max_side, seed)
    folder = config.cache_dir() / "synthetic" / build_key(params)
    built = not (folder / "labels.csv").is_file()
    cachestats.record("synthetic", hit=not built)
    if built:
        # build beside the final folder and rename, so an interrupted build is never reused
        tmp = folder.with_name(f"{folder.name}.tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        build(tmp, contents, n_levels, max_side, seed, progress)
        (tmp / "params.json").write_text(json.dumps(params, indent=1))
        try:
            tmp.rename(folder)
        except OSError:  # another process finished the same build first
            shutil.rmtree(tmp, ignore_errors=True)
    labels = pd.read_csv(folder / "labels.csv")
    df = pd.DataFrame(
        {
            "image": labels["image"],
            "image_path": [str(folder / p) for p in labels["image"]],
            "ref_path": [str(folder / p) for p in labels["ref"]],
            "content": labels["content"],
            "distortion": labels["distortion"],
            "level": labels["level"],
            "raw_score": labels["dmos"],
            "raw_scale": "synthetic DMOS from a model calibrated on LIVE (0-100, higher = worse)",
            "quality": dmos100_to_quality(labels["dmos"]),
            "strength": labels["strength"],
            "strength_measure": labels["strength_measure"],
            "label_grounding": labels["label_grounding"],
        }
    )
    return finalise_records(df, "synthetic", class_edges)

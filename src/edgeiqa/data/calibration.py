"""How the synthetic images get quality labels: a model calibrated on real human scores.

No metric the study reports as a baseline (PSNR, SSIM, BRISQUE, ...) is used. Instead:

- ``jpeg``, ``wn``, ``gblur`` (grounded): on the real LIVE subset, each type's official DMOS is
  fitted against the *distortion strength* that made the image (JPEG: the IJG quality factor,
  recovered exactly by re-encoding the reference with Pillow; WN: noise sigma; blur: Gaussian
  sigma, both as measured in the subset's ``labels.csv``) with a 4-parameter logistic in
  log-strength, ``dmos = lo + (hi - lo) / (1 + exp(-(log s - c) / w))``. The synthetic image's
  DMOS is that curve at the strength used to make it.
- ``jp2k``, ``ff`` (less grounded): the subset has no such images, so no strength-to-DMOS fit is
  possible. Level ``k`` of 5 gets the ``(k - 0.5) / 5`` quantile of the official DMOS of all
  LIVE images of that type (``labels/LIVE/live_dmos.csv``: real human scores, but not of these
  images). Only the ordering of levels and the spread of LIVE's scores are real here; every
  table built on the synthetic set keeps a ``label_grounding`` column saying which rule applied.

The fitted numbers are stored in ``synthetic_calibration.json`` beside this module (a few dozen
numbers, no images or labels), so the synthetic set builds on a machine without the data.
``python -m edgeiqa.data.calibration [--root PATH]`` refits them from the data root and rewrites
the file; a test checks that the stored numbers match a fresh fit.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
from PIL import Image
from scipy.optimize import curve_fit
from scipy.stats import spearmanr

from edgeiqa.data.images import read_rgb
from edgeiqa.errors import DataError

CALIBRATION_FILE = Path(__file__).with_name("synthetic_calibration.json")
GROUNDED = ("jpeg", "wn", "gblur")
QUANTILE_MATCHED = {"jp2k": "jp2k", "ff": "fastfading"}
N_LEVELS = 5


def logistic4(log_s: np.ndarray, lo: float, hi: float, c: float, w: float) -> np.ndarray:
    """4-parameter logistic in log-strength (monotonic; direction set by the sign of ``w``)."""
    return lo + (hi - lo) / (1.0 + np.exp(-(log_s - c) / w))


def recover_jpeg_quality(reference: np.ndarray, image: np.ndarray) -> int:
    """The IJG quality factor whose Pillow re-encoding of ``reference`` equals ``image``."""
    for q in range(1, 101):
        buf = io.BytesIO()
        Image.fromarray(reference).save(buf, format="JPEG", quality=q)
        buf.seek(0)
        if np.array_equal(np.asarray(Image.open(buf).convert("RGB")), image):
            return q
    raise DataError("JPEG image is not a Pillow re-encoding of its reference at any quality")


def fit_strength_curve(strength: np.ndarray, dmos: np.ndarray) -> dict[str, float]:
    """Fit :func:`logistic4` of DMOS on log-strength; returns parameters and fit quality."""
    x = np.log(np.asarray(strength, dtype=float))
    y = np.asarray(dmos, dtype=float)
    direction = 1.0 if spearmanr(x, y).statistic >= 0 else -1.0
    # The sign of w is fixed by the rank correlation and the asymptotes are kept near LIVE's
    # DMOS range: with 16-25 points an unbounded fit drifts to absurd asymptotes (seen for blur).
    lo_b = [-20.0, -20.0, x.min() - 3.0, 0.05]
    hi_b = [120.0, 120.0, x.max() + 3.0, 10.0]
    if direction < 0:
        lo_b[3], hi_b[3] = -10.0, -0.05
    w0 = direction * max(float(np.std(x)) / 2, 0.1)
    p0 = [max(float(y.min()), -19.0), min(float(y.max()), 119.0), float(np.median(x)), w0]
    params, _ = curve_fit(logistic4, x, y, p0=p0, bounds=(lo_b, hi_b), maxfev=20000)
    pred = logistic4(x, *params)
    return {
        "lo": float(params[0]),
        "hi": float(params[1]),
        "c": float(params[2]),
        "w": float(params[3]),
        "n": int(len(y)),
        "rmse": float(np.sqrt(np.mean((pred - y) ** 2))),
        "srocc": float(spearmanr(pred, y).statistic),
    }


def fit_calibration(root: str | Path) -> dict:
    """Fit the whole calibration from ``<root>/live_subset`` and ``<root>/labels/LIVE``."""
    from edgeiqa.data import live_subset

    root = Path(root)
    live_csv = root / "labels" / "LIVE" / "live_dmos.csv"
    if not live_csv.is_file():
        raise DataError(f"{live_csv}: needed to calibrate the synthetic labels, not found")
    records = live_subset.load(root / "live_subset")
    records = records[records["distortion"].isin(GROUNDED)]
    records = records.assign(strength=subset_strengths(records))
    curves = {}
    for dist in GROUNDED:
        part = records[records["distortion"] == dist]
        measure = (
            "IJG quality factor (recovered by re-encoding)"
            if dist == "jpeg"
            else str(part["strength_measure"].iloc[0])
        )
        curves[dist] = {
            "strength": measure,
            **fit_strength_curve(part["strength"].to_numpy(), part["raw_score"].to_numpy()),
        }
    live = pd.read_csv(live_csv)
    probs = (np.arange(N_LEVELS) + 0.5) / N_LEVELS
    quantiles = {
        dist: [float(v) for v in np.quantile(live.loc[live["dis_type"] == t, "score"], probs)]
        for dist, t in QUANTILE_MATCHED.items()
    }
    return {
        "description": "Synthetic DMOS model; see edgeiqa.data.calibration",
        "sources": {
            "curves": "live_subset/labels.csv (official LIVE realigned DMOS)",
            "quantiles": "labels/LIVE/live_dmos.csv (official LIVE realigned DMOS)",
        },
        "curves": curves,
        "level_quantiles": quantiles,
    }


def load_calibration() -> dict:
    """The stored calibration (see module docstring)."""
    return json.loads(CALIBRATION_FILE.read_text())


def predicted_dmos(distortion: str, strength: float, level_index: int, calib: dict) -> float:
    """Synthetic DMOS for an image made with ``strength`` at graded level ``level_index``
    (0-based, out of 5)."""
    if distortion in calib["curves"]:
        p = calib["curves"][distortion]
        return float(logistic4(np.log(strength), p["lo"], p["hi"], p["c"], p["w"]))
    if distortion in calib["level_quantiles"]:
        return float(calib["level_quantiles"][distortion][level_index])
    raise ValueError(f"no calibration for distortion {distortion!r}")


def grounding(distortion: str) -> str:
    if distortion in GROUNDED:
        return "strength fit on LIVE subset DMOS"
    return "LIVE DMOS quantile by level (less grounded)"


def main(argv: list[str] | None = None) -> None:
    from edgeiqa import config

    parser = argparse.ArgumentParser(description="Refit the synthetic dataset's quality model.")
    parser.add_argument("--root", default=None, help="data root (default: EDGEIQA_DATA)")
    parser.add_argument("--out", default=str(CALIBRATION_FILE))
    args = parser.parse_args(argv)
    calib = fit_calibration(args.root or config.data_root())
    Path(args.out).write_text(json.dumps(calib, indent=2) + "\n")
    for dist, p in calib["curves"].items():
        print(f"{dist}: n={p['n']} rmse={p['rmse']:.2f} srocc={p['srocc']:.3f}")
    print(f"wrote {args.out}")


def subset_strengths(records: pd.DataFrame) -> pd.Series:
    """The strength each LIVE-subset image's calibration used (JPEG: recovered quality factor)."""
    out = []
    for rec in records.itertuples():
        if rec.distortion == "jpeg":
            out.append(
                float(recover_jpeg_quality(read_rgb(rec.ref_path), read_rgb(rec.image_path)))
            )
        else:
            out.append(float(rec.strength_value))
    return pd.Series(out, index=records.index, name="strength")


if __name__ == "__main__":
    main()

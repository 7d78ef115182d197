"""``python -m edgeiqa.data check [--root PATH] [--decode]``: what is under the data root.

For every dataset in the registry it prints whether it was found (images + labels, labels only
under ``<root>/labels/<folder>/``, or not found), its counts per distortion, and every problem
found (missing images, label rows that do not parse or repeat, image files no label names and,
with ``--decode``, images that cannot be decoded). Problems are collected, not stopped at.
For the synthetic set it reports the cached builds without building one.

Exit status: 0 when no problem was found (absent datasets are not problems); 1 when any
problem was found (all of them are printed first); 2, with a one-line error, when the root
itself is unusable. A loader that fails in an unexpected way (a malformed value, an encoding, a
damaged file) is a problem of its dataset, reported in one line, never a traceback: the report
goes on to the other datasets.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from tqdm.auto import tqdm

from edgeiqa import config
from edgeiqa.data.images import read_rgb
from edgeiqa.data.labelfiles import unlabelled_images
from edgeiqa.data.registry import DATASETS, load_dataset, load_labels, resolve_root
from edgeiqa.errors import DataError, one_line

# sub-folders holding the rated images, where files without a label row are looked for
DISTORTED_DIRS: dict[str, tuple[str, ...]] = {
    "live_subset": ("images",),
    "live": ("jp2k", "jpeg", "wn", "gblur", "fastfading"),
    "csiq": ("dst_imgs",),
    "tid2008": ("distorted_images",),
    "tid2013": ("distorted_images",),
    "kadid10k": ("images",),
}
MAX_PROBLEMS_SHOWN = 20


def _counts(df: pd.DataFrame) -> str:
    counts = df["distortion"].value_counts().sort_index()
    return ", ".join(f"{k} {v}" for k, v in counts.items())


def _summary(df: pd.DataFrame, what: str) -> str:
    contents = df["content"].nunique()
    return f"{len(df)} {what}, {contents} contents; {_counts(df)}"


def _check_synthetic() -> list[str]:
    try:
        importlib.import_module("edgeiqa.data.synthetic")
    except ImportError as exc:
        return [f"synthetic: builder not available ({exc})"]
    base = config.cache_dir() / "synthetic"
    builds = (
        sorted(p for p in base.glob("*") if (p / "labels.csv").is_file()) if base.is_dir() else []
    )
    if not builds:
        return [f"synthetic: no cached build under {base} (load_dataset('synthetic') builds one)"]
    lines = [f"synthetic: {len(builds)} cached build(s) under {base}"]
    for folder in builds:
        try:
            labels = pd.read_csv(folder / "labels.csv")
            params = json.loads((folder / "params.json").read_text())
            sizes = (
                f"{len(params.get('contents', []))} contents, {len(params.get('levels', []))} "
                f"levels, max side {params.get('max_side')}, seed {params.get('seed')}"
            )
            lines.append(f"  {folder.name}: {sizes}; {len(labels)} images; {_counts(labels)}")
        except (OSError, ValueError, KeyError) as exc:
            lines.append(f"  {folder.name}: unreadable build ({exc})")
    return lines


def _decode_all(df: pd.DataFrame, name: str, problems: list[str]) -> None:
    paths = list(df["image_path"]) + sorted(set(df["ref_path"]) - {""})
    for path in tqdm(paths, desc=f"decoding {name}", leave=False):
        try:
            read_rgb(path)
        except DataError as exc:
            problems.append(str(exc))


def check_dataset(name: str, root: Path, decode: bool = False) -> tuple[list[str], list[str]]:
    """Report lines and problems for one registry dataset under ``root``; never raises for what
    the files hold (an unexpected failure becomes a one-line problem naming the folder)."""
    try:
        return _check_dataset(name, root, decode)
    except Exception as exc:  # noqa: BLE001 - the check's promise: report and go on
        folder = root / (DATASETS[name].folder or name)
        return [f"{name}: found at {folder} but not checkable"], [f"{folder}: {one_line(exc)}"]


def _check_dataset(name: str, root: Path, decode: bool) -> tuple[list[str], list[str]]:
    info = DATASETS[name]
    folder = root / info.folder
    problems: list[str] = []
    if folder.is_dir():
        module = importlib.import_module(f"edgeiqa.data.{info.module}")
        # loaders that take ``problems`` collect them all; others stop at the first
        collect = "problems" in inspect.signature(module.load).parameters
        try:
            df = load_dataset(name, root=root, **({"problems": problems} if collect else {}))
        except DataError as exc:
            return [f"{name}: found at {folder} but not loadable"], problems + [str(exc)]
        lines = [f"{name}: images + labels at {folder}: {_summary(df, 'images')}"]
        exclude: list[str] = []
        if name == "live":
            from edgeiqa.data import live

            exclude = live.reference_copies(folder)
        extra = unlabelled_images(folder, df, DISTORTED_DIRS.get(name, ()), exclude)
        if extra:
            names = [p.relative_to(folder).as_posix() for p in extra]
            more = f" (and {len(names) - 3} more)" if len(names) > 3 else ""
            problems.append(
                f"{folder}: {len(names)} image file(s) without a usable label row: "
                f"{', '.join(names[:3])}{more}"
            )
        if decode:
            _decode_all(df, name, problems)
        return lines, problems
    labels = root / "labels" / info.folder
    if labels.is_dir():
        try:
            path, df = load_labels(name, root, problems=problems)
        except DataError as exc:
            return [f"{name}: labels only at {labels}, not readable"], problems + [str(exc)]
        return [f"{name}: labels only ({path}): {_summary(df, 'rated images')}"], problems
    return [f"{name}: not found (no {folder}, no {labels})"], problems


def check(root: str | Path | None = None, decode: bool = False) -> str:
    """The whole report as text (see module docstring); DataError when the root is unusable."""
    return run_check(root, decode)[0]


def run_check(root: str | Path | None = None, decode: bool = False) -> tuple[str, int]:
    """The report and the number of problems found; DataError when the root is unusable."""
    base = resolve_root(root)
    try:
        next(base.iterdir(), None)
    except OSError as exc:
        raise DataError(f"{base}: data root is not readable ({exc.strerror})") from None
    out = [f"data root: {base}"]
    n_problems = 0
    for name in DATASETS:
        if not DATASETS[name].folder:
            out += _check_synthetic()
            continue
        lines, problems = check_dataset(name, base, decode)
        n_problems += len(problems)
        out += lines
        if problems:
            out.append(f"  {len(problems)} problem(s):")
            out += [f"  - {p}" for p in problems[:MAX_PROBLEMS_SHOWN]]
            if len(problems) > MAX_PROBLEMS_SHOWN:
                out.append(f"  - ... and {len(problems) - MAX_PROBLEMS_SHOWN} more")
        elif not lines[0].startswith(f"{name}: not found"):
            out.append("  no problems found")
    out.append(f"{n_problems} problem(s) in all" if n_problems else "no problems in all")
    return "\n".join(out), n_problems


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m edgeiqa.data", description=__doc__.split("\n")[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("check", help="report the datasets found under the data root")
    p.add_argument("--root", help="data root (default: EDGEIQA_DATA or <repo>/data)")
    p.add_argument("--decode", action="store_true", help="also decode every image (slow)")
    args = parser.parse_args(argv)
    try:
        report, n_problems = run_check(args.root, args.decode)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(report)
    return 1 if n_problems else 0


if __name__ == "__main__":
    sys.exit(main())

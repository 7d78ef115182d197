"""Dataset names, where each lives under the data root, and one entry point to load them."""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from edgeiqa import config
from edgeiqa.data.schema import QUALITY_CLASS_EDGES
from edgeiqa.errors import DataError


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    folder: str  # folder under the data root holding the official release layout
    module: str  # module in edgeiqa.data with ``load(root, class_edges) -> DataFrame``
    description: str


DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo("synthetic", "", "synthetic", "embedded synthetic set"),
        DatasetInfo("live_subset", "live_subset", "live_subset", "real LIVE R2 subset"),
        DatasetInfo("live", "LIVE", "live", "LIVE IQA Release 2"),
        DatasetInfo("csiq", "CSIQ", "csiq", "CSIQ"),
        DatasetInfo("tid2008", "TID2008", "tid", "TID2008"),
        DatasetInfo("tid2013", "TID2013", "tid", "TID2013"),
        DatasetInfo("kadid10k", "KADID-10k", "kadid", "KADID-10k"),
    )
}


def dataset_info(name: str) -> DatasetInfo:
    if name not in DATASETS:
        raise DataError(f"{name}: unknown dataset name; known: {', '.join(DATASETS)}")
    return DATASETS[name]


def resolve_root(root: str | Path | None = None) -> Path:
    """The data root to use; a root that was asked for but does not exist is an error."""
    path = Path(root).expanduser().resolve() if root is not None else config.data_root()
    if not path.is_dir():
        raise DataError(f"{path}: data root does not exist (set EDGEIQA_DATA)")
    return path


def dataset_dir(name: str, root: str | Path | None = None) -> Path:
    """Folder of an official dataset under the data root (not checked for existence)."""
    return resolve_root(root) / dataset_info(name).folder


def _loader(name: str) -> Callable[..., pd.DataFrame]:
    module = importlib.import_module(f"edgeiqa.data.{dataset_info(name).module}")
    return module.load


def load_dataset(
    name: str,
    root: str | Path | None = None,
    class_edges: Sequence[float] = QUALITY_CLASS_EDGES,
    **kwargs: object,
) -> pd.DataFrame:
    """Load one dataset as a record table (see :mod:`edgeiqa.data.schema`).

    Never substitutes another dataset: a dataset that is not present raises :class:`DataError`.
    ``synthetic`` needs no data root; its keyword arguments (profile, seed, ...) pass through.
    """
    info = dataset_info(name)
    if info.name == "synthetic":
        return _loader(name)(class_edges=class_edges, **kwargs)
    folder = dataset_dir(name, root)
    if not folder.is_dir():
        raise DataError(f"{folder}: dataset {name} not found under the data root")
    return _loader(name)(folder, class_edges=class_edges, variant=name, **kwargs)


def available_datasets(root: str | Path | None = None) -> list[str]:
    """Names of the datasets whose folder exists under the data root (synthetic always)."""
    names = ["synthetic"]
    try:
        base = resolve_root(root)
    except DataError:
        return names
    return names + [n for n, i in DATASETS.items() if i.folder and (base / i.folder).is_dir()]


def parse_dataset_spec(spec: str | Sequence[str]) -> str | list[str]:
    """A notebook's ``datasets`` parameter as ``"auto"`` or a list of names.

    Papermill's ``-p datasets '["synthetic", "live_subset"]'`` arrives as a string, so a string
    holding a JSON list is read as that list; ``"synthetic,live_subset"`` is split at the commas;
    any other string is one name.
    """
    if not isinstance(spec, str):
        return [str(name) for name in spec]
    text = spec.strip()
    if text == "auto":
        return "auto"
    if text.startswith("["):
        try:
            names = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"datasets {spec!r}: not a JSON list ({exc.msg})") from None
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise ValueError(f"datasets {spec!r}: expected a list of dataset names")
        return names
    return [name.strip() for name in text.split(",") if name.strip()]


def resolve_datasets(
    spec: str | Sequence[str], root: str | Path | None = None, include_official: bool = True
) -> list[str]:
    """Dataset names a notebook should run on.

    ``"auto"``: the synthetic set plus every dataset found under the data root (official ones
    only with ``include_official``). A name or list of names is taken as asked: each must be a
    known dataset, and loading one that is absent fails rather than running on something else.
    """
    spec = parse_dataset_spec(spec)
    if spec == "auto":
        names = available_datasets(root)
        if not include_official:
            names = [n for n in names if n in ("synthetic", "live_subset")]
        return names
    names = list(spec)
    for name in names:
        dataset_info(name)
    return names


def load_labels(
    name: str, root: str | Path | None = None, problems: list[str] | None = None
) -> tuple[Path, pd.DataFrame]:
    """Human scores of an official dataset from ``<root>/labels/<folder>`` (no images needed).

    Returns the label file used and its table (the record columns without image checks). For
    dataset statistics only: models need the images, through :func:`load_dataset`.
    """
    info = dataset_info(name)
    if not info.folder or info.name == "live_subset":
        raise DataError(f"{name}: has no label-only form; use load_dataset")
    folder = resolve_root(root) / "labels" / info.folder
    if not folder.is_dir():
        raise DataError(f"{folder}: no label files for dataset {name}")
    module = importlib.import_module(f"edgeiqa.data.{info.module}")
    if info.module == "tid":
        path = module.label_file(folder, name)
        return path, module.read_labels(path, name, problems=problems)
    path = module.label_file(folder)
    return path, module.read_labels(path, problems=problems)

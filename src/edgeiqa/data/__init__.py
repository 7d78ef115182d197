"""Datasets: one record schema, loaders for each release, the embedded synthetic set.

``python -m edgeiqa.data check`` reports what is found under the data root.
"""

from edgeiqa.data.registry import (
    DATASETS,
    available_datasets,
    dataset_dir,
    load_dataset,
    load_labels,
    resolve_datasets,
)
from edgeiqa.data.schema import (
    COLUMNS,
    PAPER_DISTORTIONS,
    QUALITY_CLASS_EDGES,
    finalise_records,
    quality_classes,
)

__all__ = [
    "COLUMNS",
    "DATASETS",
    "PAPER_DISTORTIONS",
    "QUALITY_CLASS_EDGES",
    "available_datasets",
    "dataset_dir",
    "finalise_records",
    "load_dataset",
    "load_labels",
    "quality_classes",
    "resolve_datasets",
]

import numpy as np
import pandas as pd
import pytest

from edgeiqa.data.schema import COLUMNS, dmos100_to_quality, finalise_records, quality_classes
from edgeiqa.errors import DataError


def test_quality_classes_equal_width_bins():
    q = [0, 10, 24.99, 25, 49.9, 50, 74.9, 75, 100, -3, 104]
    assert quality_classes(q).tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 0, 3]


def test_quality_classes_custom_edges():
    assert quality_classes([10, 40, 90], edges=(0, 30, 60, 100)).tolist() == [0, 1, 2]


@pytest.mark.parametrize("edges", [(0, 100), (0, 50, 50, 100), (100, 50, 0)])
def test_quality_classes_rejects_bad_edges(edges):
    with pytest.raises(ValueError):
        quality_classes([1.0], edges)


def test_dmos_to_quality_clips_realigned_extremes():
    assert dmos100_to_quality([-2.6, 0, 40, 111.8]).tolist() == [100, 100, 60, 0]


def _raw(**over):
    df = pd.DataFrame(
        {
            "image": ["a.png", "b.png"],
            "image_path": ["/x/a.png", "/x/b.png"],
            "content": ["r1", "r2"],
            "distortion": ["jpeg", "wn"],
            "raw_score": [10.0, 80.0],
            "raw_scale": "test",
            "quality": [90.0, 20.0],
        }
    )
    for k, v in over.items():
        df[k] = v
    return df


def test_finalise_records_orders_columns_and_labels():
    df = finalise_records(_raw(), "demo")
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert df["quality_class"].tolist() == [3, 0]
    assert df["dataset"].unique().tolist() == ["demo"]
    assert df["level"].isna().all()


def test_finalise_records_rejects_duplicates_and_missing_scores():
    with pytest.raises(DataError, match="a.png appears more than once"):
        finalise_records(_raw(image=["a.png", "a.png"]), "demo")
    with pytest.raises(DataError, match="b.png: score is missing"):
        finalise_records(_raw(quality=[1.0, np.nan]), "demo")

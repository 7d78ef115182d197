import numpy as np
import pandas as pd
import pytest

from edgeiqa.splits import (
    check_content_disjoint,
    iter_splits,
    leave_one_content_out,
    split_indices,
    splits_table,
    write_splits,
)


@pytest.fixture()
def records():
    contents = [f"c{i}" for i in range(10) for _ in range(6)]
    return pd.DataFrame(
        {"dataset": "demo", "image": [f"img{i}" for i in range(60)], "content": contents}
    )


def test_content_splits_are_disjoint_and_80_20(records):
    for _, train, test in iter_splits(records, "content", n_repeats=5, seed=3):
        check_content_disjoint(records, train, test)
        assert len(set(records["content"].iloc[test])) == 2
        assert len(train) + len(test) == len(records)
        assert not set(train) & set(test)


def test_image_split_shares_contents(records):
    train, test = split_indices(records, "image", repeat=0, seed=0)
    assert len(test) == 12
    with pytest.raises(AssertionError, match="both sides"):
        check_content_disjoint(records, train, test)


def test_splits_are_deterministic_and_vary_by_repeat(records):
    a = split_indices(records, "content", 0, seed=1)
    b = split_indices(records, "content", 0, seed=1)
    c = split_indices(records, "content", 1, seed=1)
    assert np.array_equal(a[1], b[1])
    assert not np.array_equal(a[1], c[1])


def test_leave_one_content_out_covers_each_content_once(records):
    held = [content for content, train, test in leave_one_content_out(records)]
    assert held == sorted(records["content"].unique())


def test_split_table_written(records, tmp_path):
    table = splits_table(records, "content", n_repeats=2)
    out = write_splits(table, tmp_path)
    assert out.name == "demo_content.csv"
    back = pd.read_csv(out)
    assert set(back["subset"]) == {"train", "test"} and back["repeat"].nunique() == 2


def test_unknown_protocol_is_an_error(records):
    with pytest.raises(ValueError, match="unknown split protocol"):
        split_indices(records, "random", 0)

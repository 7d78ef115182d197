import numpy as np
import pandas as pd
import pytest

from edgeiqa.splits import (
    check_content_disjoint,
    iter_splits,
    leave_one_content_out,
    protocol_splits,
    split_indices,
    splits_from_test_images,
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


def test_protocol_splits_is_the_one_source_for_every_protocol(records):
    content = protocol_splits(records, "content", n_repeats=3, seed=2)
    assert [s.repeat for s in content] == [0, 1, 2]
    for split in content:
        expected = split_indices(records, "content", split.repeat, seed=2)
        np.testing.assert_array_equal(split.train, expected[0])
        np.testing.assert_array_equal(split.test, expected[1])
    loco = protocol_splits(records, "loco")
    assert len(loco) == records["content"].nunique()
    assert [set(records["content"].iloc[s.test]) for s in loco] == [
        {c} for c in sorted(records["content"].unique())
    ]
    with pytest.raises(ValueError, match="unknown protocol"):
        protocol_splits(records, "random")


def test_splits_from_test_images_take_the_complement(records):
    made = protocol_splits(records, "image", n_repeats=2, seed=5) + protocol_splits(records, "loco")
    listed = pd.concat(
        [records.iloc[s.test][["image"]].assign(protocol=s.protocol, repeat=s.repeat) for s in made]
    )
    back = splits_from_test_images(records, listed.sample(frac=1, random_state=0))
    assert [(s.protocol, s.repeat) for s in back] == sorted((s.protocol, s.repeat) for s in made)
    by_key = {(s.protocol, s.repeat): s for s in made}
    for split in back:
        np.testing.assert_array_equal(split.train, by_key[split.protocol, split.repeat].train)
        np.testing.assert_array_equal(split.test, by_key[split.protocol, split.repeat].test)
    with pytest.raises(ValueError, match="not in the records"):
        splits_from_test_images(records, listed.assign(image="missing.png"))

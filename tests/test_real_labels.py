"""The loaders' label readers on the real label files in ``../shared/data/labels/`` and the
real LIVE subset (skipped, with the reason, where ``../shared`` is absent)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io

from edgeiqa.data import csiq, kadid, live, load_dataset, tid
from edgeiqa.errors import DataError

LIVE_COUNTS = {"jp2k": 169, "jpeg": 175, "wn": 145, "gblur": 145, "ff": 145}


@pytest.fixture(scope="module")
def labels(shared_data):
    return shared_data / "labels"


@pytest.fixture(scope="module")
def live_csv(labels):
    return live.read_labels(labels / "LIVE" / "live_dmos.csv")


def test_live_csv(live_csv):
    assert len(live_csv) == 779
    assert live_csv["distortion"].value_counts().to_dict() == LIVE_COUNTS
    assert live_csv["content"].nunique() == 29
    assert live_csv["image"].iloc[0] == "jp2k/img2.bmp"
    assert live_csv["ref"].iloc[0] == "refimgs/studentsculpture.bmp"
    # realigned DMOS runs a little past both ends of 0-100
    assert live_csv["raw_score"].min() < 0 < 100 < live_csv["raw_score"].max()


def test_live_arrays_align_with_csv(labels, live_csv):
    arrays = live.read_dmos_arrays(labels / "LIVE" / "dmos_realigned_arrays.mat")
    assert len(arrays) == 982
    assert arrays.groupby("folder", sort=False).size().to_dict() == dict(live.BLOCKS)
    merged = arrays.merge(live_csv, on="image", how="left", validate="one_to_one")
    rated = merged["raw_score"].notna()
    assert rated.sum() == 779
    np.testing.assert_allclose(merged.loc[rated, "dmos"], merged.loc[rated, "raw_score"], atol=1e-9)
    # in the CSV's order, imgN by imgN: the arrays are read in the official entry order
    assert list(merged.loc[rated, "image"]) == list(live_csv["image"])
    # the 203 entries missing from the CSV are LIVE's reference copies: DMOS 0, spread 0
    copies = merged.loc[~rated]
    assert len(copies) == 203
    assert (copies["dmos"] == 0).all() and (copies["dmos_std"] == 0).all()
    assert (merged.loc[rated, "dmos_std"] > 0).all()


def test_live_arrays_without_orgs_cannot_be_read_as_labels(labels):
    with pytest.raises(DataError, match="no 'orgs' variable"):
        live.read_labels(labels / "LIVE" / "dmos_realigned_arrays.mat")


def test_live_official_mat_form_on_real_values(labels, live_csv, tmp_path):
    """Rebuild dmos_realigned.mat (with orgs) and refnames_all.mat from the real arrays and the
    CSV, then read them back through the official path: the same 779 records."""
    arrays = live.read_dmos_arrays(labels / "LIVE" / "dmos_realigned_arrays.mat")
    refs = dict(zip(live_csv["image"], live_csv["ref"].str.replace("refimgs/", ""), strict=True))
    orgs = (~arrays["image"].isin(refs)).astype(float).to_numpy()
    scipy.io.savemat(
        tmp_path / "dmos_realigned.mat",
        {"dmos_new": arrays["dmos"].to_numpy(), "dmos_std": arrays["dmos_std"], "orgs": orgs},
    )
    names = np.array([refs.get(i, "copy.bmp") for i in arrays["image"]], dtype=object)
    scipy.io.savemat(tmp_path / "refnames_all.mat", {"refnames_all": names[None, :]})
    got = live.read_labels(tmp_path / "dmos_realigned.mat")
    pd.testing.assert_frame_equal(
        got[["image", "ref", "content", "distortion", "raw_score"]],
        live_csv[["image", "ref", "content", "distortion", "raw_score"]],
    )


def test_csiq(labels):
    df = csiq.read_labels(labels / "CSIQ" / "csiq_dmos.csv")
    assert len(df) == 866
    assert df["distortion"].value_counts().to_dict() == {
        "wn": 150,
        "jpeg": 150,
        "jp2k": 150,
        "fnoise": 150,
        "gblur": 150,
        "contrast": 116,
    }
    assert df["content"].nunique() == 30
    assert set(df["level"]) == {1.0, 2.0, 3.0, 4.0, 5.0}
    assert df["raw_score"].between(0, 1).all()
    first = df.iloc[0]
    assert first["image"] == "dst_imgs/AWGN/1600.AWGN.1.png" and first["raw_score"] == 0.061989


@pytest.mark.parametrize(
    ("variant", "path", "n", "types", "levels"),
    [
        ("tid2008", "TID2008/tid2008_mos.csv", 1700, 17, 4),
        ("tid2013", "TID2013/mos_with_names.txt", 3000, 24, 5),
    ],
)
def test_tid(labels, variant, path, n, types, levels):
    df = tid.read_labels(labels / path, variant)
    assert len(df) == n
    assert df["distortion"].nunique() == types
    assert (df["distortion"].value_counts() == 25 * levels).all()
    assert df["level"].max() == levels and df["content"].nunique() == 25
    assert df["raw_score"].between(0, 9).all()
    assert {"wn", "gblur", "jpeg", "jp2k"} <= set(df["distortion"])
    if variant == "tid2013":
        # the official file: CRLF line ends, mixed-case names, std from mos_std.txt
        assert b"\r\n" in (labels / path).read_bytes()
        assert df["image"].iloc[0] == "distorted_images/I01_01_1.bmp"
        assert df["raw_score"].iloc[0] == 5.51429 and df["mos_std"].iloc[0] == 0.13013
        assert df["image"].iloc[1] == "distorted_images/i01_01_2.bmp"


def test_tid2008_rejects_tid2013_labels(labels):
    with pytest.raises(DataError, match="outside tid2008"):
        tid.read_labels(labels / "TID2013" / "mos_with_names.txt", "tid2008")


def test_kadid(labels):
    df = kadid.read_labels(labels / "KADID-10k" / "kadid10k_dmos.csv")
    assert len(df) == 10125
    assert df["distortion"].nunique() == 25 and (df["distortion"].value_counts() == 405).all()
    assert df["content"].nunique() == 81
    assert df["raw_score"].between(1, 5).all()
    assert df.loc[0, "image"] == "images/I01_01_01.png" and df.loc[0, "raw_score"] == 4.57


# ---------------------------------------------------------------- the LIVE subset


def test_live_subset_official_dmos(shared_data, live_csv):
    df = load_dataset("live_subset", root=shared_data)
    labels = pd.read_csv(shared_data / "live_subset" / "labels.csv")
    # the loader follows the label file: every row, its type (LIVE's folder "fastfading" is the
    # study's "ff") and its reference content
    assert len(df) == len(labels)
    types = labels["type"].replace({"fastfading": "ff"}).value_counts().to_dict()
    assert df["distortion"].value_counts().to_dict() == types
    assert df["content"].nunique() == labels["ref"].nunique()
    labels = labels.set_index("image")
    got = df.set_index("image")
    spots = {"gblur/img45.png": 21.6803, "jpeg/img43.png": 41.4791, "wn/img103.png": 22.8849}
    for image, dmos in spots.items():
        assert got.loc[image, "raw_score"] == labels.loc[image, "dmos"] == dmos
        assert got.loc[image, "quality"] == pytest.approx(100 - dmos)
        assert got.loc[image, "content"] == "buildings"
    # every subset DMOS is LIVE's official realigned DMOS of the image of the same name
    full = live_csv.set_index("image")["raw_score"]
    names = [i.replace(".png", ".bmp") for i in df["image"]]
    np.testing.assert_allclose(df["raw_score"], full.loc[names], atol=1e-3)
    assert list(df["content"]) == list(live_csv.set_index("image").loc[names, "content"])

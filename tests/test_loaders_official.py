"""The official loaders (LIVE, CSIQ, TID2008/2013, KADID-10k) on fixtures written in each
release's layout and label format, and their answers to bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.io
from fixtures import live_entries, write_csiq, write_image, write_kadid, write_live, write_tid

from edgeiqa.data import COLUMNS, csiq, kadid, live, load_dataset, tid
from edgeiqa.errors import DataError


def _same_records(df: pd.DataFrame, expected: pd.DataFrame) -> None:
    got = df.set_index("image").loc[list(expected["image"])]
    assert len(df) == len(expected)
    assert list(got["content"]) == list(expected["content"])
    assert list(got["distortion"]) == list(expected["distortion"])
    np.testing.assert_allclose(got["raw_score"], expected["raw_score"])
    if "level" in expected:
        np.testing.assert_array_equal(got["level"], expected["level"])


def _one_line(exc: pytest.ExceptionInfo) -> str:
    message = str(exc.value)
    assert "\n" not in message
    return message


# ---------------------------------------------------------------- LIVE


@pytest.mark.parametrize("refnames_as", ["cell", "char"])
def test_live_official_mat(tmp_path, refnames_as):
    _, expected = write_live(tmp_path / "LIVE", refnames_as=refnames_as)
    df = load_dataset("live", root=tmp_path)
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert (df["dataset"] == "live").all()
    _same_records(df, expected)
    # reference copies (orgs == 1) are not records even where their files exist
    assert "jp2k/img1.bmp" not in set(df["image"])
    assert df["distortion"].value_counts().to_dict() == {
        "jp2k": 3,
        "jpeg": 3,
        "wn": 3,
        "gblur": 3,
        "ff": 3,
    }
    np.testing.assert_allclose(df["quality"], np.clip(100 - df["raw_score"], 0, 100))
    assert df.loc[df["image"] == "jp2k/img4.bmp", "quality"].item() == 0.0  # DMOS 105 clipped
    assert df["level"].isna().all()
    assert all(p.endswith(".bmp") and "refimgs" in p for p in df["ref_path"])
    assert df["raw_scale"].str.contains("higher = worse").all()
    assert {"dmos_std"} <= set(df.columns)


def test_live_csv_form_gives_the_same_records(tmp_path):
    _, expected = write_live(tmp_path / "mat" / "LIVE")
    write_live(tmp_path / "csv" / "LIVE", form="csv")
    a = load_dataset("live", root=tmp_path / "mat")
    b = load_dataset("live", root=tmp_path / "csv")
    _same_records(b, expected)
    pd.testing.assert_frame_equal(
        a[["image", "content", "distortion", "quality", "quality_class"]],
        b[["image", "content", "distortion", "quality", "quality_class"]],
    )


def test_live_reference_copies_listed(tmp_path):
    folder, _ = write_live(tmp_path / "LIVE")
    copies = live.reference_copies(folder)
    assert len(copies) == 982 - 15 and "wn/img1.bmp" in copies


def test_live_mat_without_orgs_is_refused(tmp_path):
    folder, _ = write_live(tmp_path / "LIVE")
    entries = live_entries()
    scipy.io.savemat(folder / "dmos_realigned.mat", {"dmos_new": entries["dmos"].to_numpy()})
    with pytest.raises(DataError, match="orgs") as exc:
        load_dataset("live", root=tmp_path)
    assert "dmos_realigned.mat" in _one_line(exc)


def test_live_mat_with_wrong_length(tmp_path):
    folder, _ = write_live(tmp_path / "LIVE")
    scipy.io.savemat(
        folder / "dmos_realigned.mat",
        {"dmos_new": np.zeros(10), "dmos_std": np.zeros(10), "orgs": np.zeros(10)},
    )
    with pytest.raises(DataError, match="10 entries, expected 982"):
        live.read_labels(folder / "dmos_realigned.mat")


def test_live_corrupt_mat(tmp_path):
    folder, _ = write_live(tmp_path / "LIVE")
    (folder / "dmos_realigned.mat").write_bytes(b"not a mat file at all" * 10)
    with pytest.raises(DataError, match="dmos_realigned.mat") as exc:
        load_dataset("live", root=tmp_path)
    _one_line(exc)


# ---------------------------------------------------------------- CSIQ


@pytest.mark.parametrize("form", ["xlsx", "csv"])
def test_csiq(tmp_path, form):
    _, expected = write_csiq(tmp_path / "CSIQ", form=form)
    df = load_dataset("csiq", root=tmp_path)
    _same_records(df, expected)
    assert set(df["distortion"]) == {"wn", "jpeg", "jp2k", "fnoise", "gblur", "contrast"}
    np.testing.assert_allclose(df["quality"], 100 * (1 - df["raw_score"]))
    assert set(df["content"]) == {"1600", "bridge"}  # 1600 is a number in the xlsx
    assert df["ref_path"].str.endswith(("src_imgs/1600.png", "src_imgs/bridge.png")).all()


def test_csiq_xlsx_and_csv_agree(tmp_path):
    write_csiq(tmp_path / "a" / "CSIQ", form="xlsx")
    write_csiq(tmp_path / "b" / "CSIQ", form="csv")
    a = csiq.read_labels(tmp_path / "a" / "CSIQ" / "csiq.DMOS.xlsx")
    b = csiq.read_labels(tmp_path / "b" / "CSIQ" / "csiq_dmos.csv")
    assert len(a) == len(b) == 24
    np.testing.assert_allclose(a["raw_score"], b["raw_score"])
    assert list(a["distortion"]) == list(b["distortion"])
    # the CSV spells some folders in upper case; loading resolves both to the files on disk
    x = load_dataset("csiq", root=tmp_path / "a")
    y = load_dataset("csiq", root=tmp_path / "b")
    assert list(x["image"]) == list(y["image"])


def test_csiq_xlsx_bad_cell_names_the_row(tmp_path):
    import openpyxl

    folder, _ = write_csiq(tmp_path / "CSIQ")
    book = openpyxl.load_workbook(folder / "csiq.DMOS.xlsx")
    book["all_by_image"]["H4"] = "n/a"  # first data row's dmos (row 3 is the header)
    book.save(folder / "csiq.DMOS.xlsx")
    with pytest.raises(DataError) as exc:
        load_dataset("csiq", root=tmp_path)
    message = _one_line(exc)
    assert (
        "csiq.DMOS.xlsx" in message
        and "row 4 (dst_imgs/awgn/1600.AWGN.1.png)" in message
        and "not a number" in message
    )


def test_csiq_xlsx_without_header(tmp_path):
    import openpyxl

    (tmp_path / "CSIQ").mkdir()
    book = openpyxl.Workbook()
    book.active.append(["something", "else"])
    book.save(tmp_path / "CSIQ" / "csiq.DMOS.xlsx")
    with pytest.raises(DataError, match="no sheet with a header row"):
        load_dataset("csiq", root=tmp_path)


def test_csiq_score_out_of_range(tmp_path):
    folder, _ = write_csiq(tmp_path / "CSIQ", form="csv")
    table = pd.read_csv(folder / "csiq_dmos.csv")
    table.loc[3, "score"] = 45.0  # a 0-100 DMOS in a 0-1 file: the wrong label file
    table.to_csv(folder / "csiq_dmos.csv", index=False)
    with pytest.raises(DataError, match="outside the documented range 0-1") as exc:
        load_dataset("csiq", root=tmp_path)
    assert "row 5" in _one_line(exc)


def test_csiq_unknown_type(tmp_path):
    folder, _ = write_csiq(tmp_path / "CSIQ", form="csv")
    table = pd.read_csv(folder / "csiq_dmos.csv")
    table.loc[0, "dis_type"] = "sharpen"
    table.to_csv(folder / "csiq_dmos.csv", index=False)
    with pytest.raises(DataError, match="unknown dis_type 'sharpen'"):
        load_dataset("csiq", root=tmp_path)


# ---------------------------------------------------------------- TID


@pytest.mark.parametrize("variant", ["tid2008", "tid2013"])
@pytest.mark.parametrize("form", ["txt", "csv"])
def test_tid(tmp_path, variant, form):
    folder, expected = write_tid(tmp_path / variant.upper(), variant, form)
    if form == "txt":
        assert b"\r\n" in (folder / "mos_with_names.txt").read_bytes()
    df = load_dataset(variant, root=tmp_path)
    _same_records(df, expected)
    assert (df["dataset"] == variant).all()
    np.testing.assert_allclose(df["quality"], 100 * df["raw_score"] / 9)
    # upper-case names in the label file, lower-case files on disk, i25.bmp as the reference
    assert df["image"].str.startswith("distorted_images/i").all()
    assert df.loc[df["content"] == "I25", "ref_path"].str.endswith("i25.bmp").all()
    assert set(df["level"]) == {1.0, 2.0}
    if form == "txt":
        assert df["mos_std"].notna().all()


def test_tid_type_outside_variant(tmp_path):
    folder, _ = write_tid(tmp_path / "TID2008", "tid2013")  # type 24 is TID2013 only
    with pytest.raises(DataError, match="outside tid2008") as exc:
        load_dataset("tid2008", root=tmp_path)
    assert "I01_24_1.bmp" in _one_line(exc)


def test_tid_malformed_line(tmp_path):
    folder, _ = write_tid(tmp_path / "TID2013")
    with open(folder / "mos_with_names.txt", "ab") as f:
        f.write(b"4.2\r\n")
    with pytest.raises(DataError, match="line 31: expected"):
        load_dataset("tid2013", root=tmp_path)


def test_tid_std_file_must_match(tmp_path):
    folder, _ = write_tid(tmp_path / "TID2013")
    (folder / "mos_std.txt").write_text("0.1\n0.2\n")
    with pytest.raises(DataError, match="mos_std.txt: 2 values for 30 lines"):
        load_dataset("tid2013", root=tmp_path)


# ---------------------------------------------------------------- KADID-10k


@pytest.mark.parametrize("form", ["official", "shared"])
def test_kadid(tmp_path, form):
    _, expected = write_kadid(tmp_path / "KADID-10k", form)
    df = load_dataset("kadid10k", root=tmp_path)
    _same_records(df, expected)
    np.testing.assert_allclose(df["quality"], 100 * (df["raw_score"] - 1) / 4)
    assert set(df["distortion"]) == {"gblur", "jp2k", "jpeg", "wn", "contrast_change"}
    assert set(df["content"]) == {"I01", "I81"}
    assert (df["var"] == 0.5).all()


def test_kadid_reference_mismatch(tmp_path):
    folder, _ = write_kadid(tmp_path / "KADID-10k")
    table = pd.read_csv(folder / "dmos.csv")
    table.loc[2, "ref_img"] = "I05.png"
    table.to_csv(folder / "dmos.csv", index=False)
    with pytest.raises(DataError, match="row 4 .*I05.png does not match"):
        load_dataset("kadid10k", root=tmp_path)


def test_type_tables_are_complete():
    assert len(tid.TYPE_NAMES) == 24 and len(set(tid.TYPE_NAMES.values())) == 24
    assert len(kadid.TYPE_NAMES) == 25 and len(set(kadid.TYPE_NAMES.values())) == 25
    for table in (tid.TYPE_NAMES, kadid.TYPE_NAMES):
        assert {"wn", "gblur", "jpeg", "jp2k"} <= set(table.values())
        assert "ff" not in table.values()  # no TID/KADID type is LIVE's fast fading


# ---------------------------------------------------------------- bad input, every loader

# dataset -> (fixture writer, a distorted image, a reference image)
WRITERS = {
    "live": (lambda p: write_live(p / "LIVE"), "jpeg/img3.bmp", "refimgs/monarch.bmp"),
    "csiq": (
        lambda p: write_csiq(p / "CSIQ"),
        "dst_imgs/blur/bridge.BLUR.2.png",
        "src_imgs/bridge.png",
    ),
    "tid2013": (
        lambda p: write_tid(p / "TID2013"),
        "distorted_images/i02_10_1.bmp",
        "reference_images/i25.bmp",
    ),
    "kadid10k": (
        lambda p: write_kadid(p / "KADID-10k"),
        "images/I81_10_03.png",
        "images/I81.png",
    ),
}


@pytest.mark.parametrize("name", list(WRITERS))
def test_label_only_read_agrees_with_load(tmp_path, name):
    # every release goes through the one path of edgeiqa.data.official: a label-only read and
    # a load give the same rows, scores and qualities (load only adds the files on disk)
    writer, _, _ = WRITERS[name]
    folder, _ = writer(tmp_path)
    module = {"live": live, "csiq": csiq, "tid2013": tid, "kadid10k": kadid}[name]
    labels = module.read_labels(module.label_file(folder))
    df = load_dataset(name, root=tmp_path)
    assert list(df.columns[: len(COLUMNS)]) == COLUMNS
    assert list(df["image"].str.lower()) == list(labels["image"].str.lower())
    for column in ("content", "distortion", "raw_score", "raw_scale", "quality"):
        assert list(df[column]) == list(labels[column]), column


@pytest.mark.parametrize("name", list(WRITERS))
def test_missing_image_is_named(tmp_path, name):
    writer, victim, _ = WRITERS[name]
    folder, _ = writer(tmp_path)
    (folder / victim).unlink()
    with pytest.raises(DataError) as exc:
        load_dataset(name, root=tmp_path)
    message = _one_line(exc)
    # named as the label file lists it (TID lists I02_10_1.bmp for i02_10_1.bmp)
    assert str(folder / victim).lower() in message.lower() and "missing image" in message


@pytest.mark.parametrize("name", list(WRITERS))
def test_missing_reference_is_named(tmp_path, name):
    writer, _, ref = WRITERS[name]
    folder, _ = writer(tmp_path)
    (folder / ref).unlink()
    with pytest.raises(DataError, match="missing image") as exc:
        load_dataset(name, root=tmp_path)
    assert str(folder / ref).lower() in _one_line(exc).lower()


def test_label_rows_without_images_and_duplicates(tmp_path):
    folder, _ = write_kadid(tmp_path / "KADID-10k")
    table = pd.read_csv(folder / "dmos.csv")
    extra = pd.DataFrame(
        [{"dist_img": "I01_05_02.png", "ref_img": "I01.png", "dmos": 3.0, "var": 0.1}]
    )
    pd.concat([table, extra]).to_csv(folder / "dmos.csv", index=False)
    with pytest.raises(DataError, match="I01_05_02.png: missing image listed in .*dmos.csv"):
        load_dataset("kadid10k", root=tmp_path)
    pd.concat([table, table.iloc[[4]]]).to_csv(folder / "dmos.csv", index=False)
    with pytest.raises(DataError, match=r"dmos.csv: image images/I01_09_03.png is listed more"):
        load_dataset("kadid10k", root=tmp_path)


@pytest.mark.parametrize("name", list(WRITERS))
def test_non_numeric_score_names_file_and_row(tmp_path, name):
    writer, _, _ = WRITERS[name]
    folder, _ = writer(tmp_path)
    if name == "live":
        path = folder / "live_dmos.csv"
        (folder / "dmos_realigned.mat").unlink()
        write_live(folder, form="csv")
        table = pd.read_csv(path)
        table["score"] = table["score"].astype(object)
        table.loc[1, "score"] = "abc"
        table.to_csv(path, index=False)
        row, image = 3, "img3.bmp"
    elif name == "csiq":
        path = folder / "csiq_dmos.csv"
        (folder / "csiq.DMOS.xlsx").unlink()
        write_csiq(folder, form="csv")
        table = pd.read_csv(path)
        table["score"] = table["score"].astype(object)
        table.loc[1, "score"] = "abc"
        table.to_csv(path, index=False)
        row, image = 3, "1600.AWGN.2.png"
    elif name == "tid2013":
        path = folder / "mos_with_names.txt"
        lines = path.read_bytes().split(b"\r\n")
        lines[1] = b"abc " + lines[1].split()[1]
        path.write_bytes(b"\r\n".join(lines))
        row, image = 2, "I01_01_2.bmp"
    else:
        path = folder / "dmos.csv"
        table = pd.read_csv(path)
        table["dmos"] = table["dmos"].astype(object)
        table.loc[1, "dmos"] = "abc"
        table.to_csv(path, index=False)
        row, image = 3, "I01_01_03.png"
    with pytest.raises(DataError) as exc:
        load_dataset(name, root=tmp_path)
    message = _one_line(exc)
    assert str(path) in message and f"row {row}" in message and image in message
    assert "'abc' is not a number" in message


def test_missing_label_file(tmp_path):
    folder, _ = write_kadid(tmp_path / "KADID-10k")
    (folder / "dmos.csv").unlink()
    with pytest.raises(DataError, match="no label file .*dmos.csv"):
        load_dataset("kadid10k", root=tmp_path)


def test_missing_column(tmp_path):
    folder, _ = write_live(tmp_path / "LIVE", form="csv")
    pd.read_csv(folder / "live_dmos.csv").drop(columns="score").to_csv(
        folder / "live_dmos.csv", index=False
    )
    with pytest.raises(DataError, match=r"live_dmos.csv: missing column\(s\) \['score'\]"):
        load_dataset("live", root=tmp_path)


def test_problems_are_collected_not_raised(tmp_path):
    folder, expected = write_kadid(tmp_path / "KADID-10k")
    table = pd.read_csv(folder / "dmos.csv")
    table["dmos"] = table["dmos"].astype(object)
    table.loc[0, "dmos"] = "x"
    table.loc[1, "dmos"] = 7.5
    table.to_csv(folder / "dmos.csv", index=False)
    (folder / "images" / "I81_10_03.png").unlink()
    problems: list[str] = []
    df = load_dataset("kadid10k", root=tmp_path, problems=problems)
    assert len(problems) == 3
    assert len(df) == len(expected) - 3
    assert any("not a number" in p for p in problems)
    assert any("outside the documented range 1-5" in p for p in problems)
    assert any("I81_10_03.png: missing image" in p for p in problems)


def test_unknown_dataset_and_missing_root(tmp_path):
    with pytest.raises(DataError, match="livee: unknown dataset name") as exc:
        load_dataset("livee", root=tmp_path)
    _one_line(exc)
    missing = tmp_path / "no_such_root"
    with pytest.raises(DataError, match="data root does not exist") as exc:
        load_dataset("live", root=missing)
    assert str(missing) in _one_line(exc)


def test_absent_dataset_is_not_substituted(tmp_path):
    write_live(tmp_path / "LIVE")
    write_image(tmp_path / "live_subset" / "x.png")
    with pytest.raises(DataError, match="dataset csiq not found"):
        load_dataset("csiq", root=tmp_path)
    with pytest.raises(DataError, match="dataset tid2008 not found"):
        load_dataset("tid2008", root=tmp_path)


def test_datasets_parameter_as_papermill_hands_it_over():
    """`-p datasets '["synthetic"]'` reaches the notebook as a string: it is read as the list."""
    from edgeiqa.data.registry import parse_dataset_spec, resolve_datasets

    assert parse_dataset_spec('["synthetic", "live_subset"]') == ["synthetic", "live_subset"]
    assert parse_dataset_spec("synthetic, live_subset") == ["synthetic", "live_subset"]
    assert parse_dataset_spec("synthetic") == ["synthetic"]
    assert parse_dataset_spec(" auto ") == "auto"
    assert parse_dataset_spec(("synthetic",)) == ["synthetic"]
    assert resolve_datasets('["synthetic"]') == ["synthetic"]
    with pytest.raises(ValueError, match="not a JSON list"):
        parse_dataset_spec('["synthetic"')
    with pytest.raises(ValueError, match="list of dataset names"):
        parse_dataset_spec("[1, 2]")

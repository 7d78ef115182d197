"""The scoring command: a baseline's own score of one's own images, one line each; a file that
cannot be read is reported on one line and the rest are still scored."""

import shutil

import numpy as np
import pandas as pd
import pytest

from edgeiqa import scoring
from edgeiqa.__main__ import main


@pytest.fixture()
def folder(calibration, tmp_path, monkeypatch):
    """Two TID2013 calibration images and one corrupt file, with their references."""
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    pairs = calibration / "tid2013"
    images, refs = tmp_path / "images", tmp_path / "refs"
    images.mkdir()
    refs.mkdir()
    for name, source in (("a", "I03"), ("c", "I04")):
        shutil.copyfile(pairs / "distorted" / f"{source}.bmp", images / f"{name}.bmp")
        shutil.copyfile(pairs / "reference" / f"{source}.bmp", refs / f"{name}.bmp")
    (images / "b.bmp").write_bytes(b"not an image")
    shutil.copyfile(refs / "c.bmp", refs / "b.bmp")
    return images, refs


def test_score_command_reports_the_corrupt_file_and_scores_the_rest(folder, tmp_path, capsys):
    images, refs = folder
    out_csv = tmp_path / "out" / "psnr.csv"
    status = main(["score", "psnr", str(images), "--ref", str(refs), "--csv", str(out_csv)])
    captured = capsys.readouterr()
    assert status == 1  # one file failed
    lines = captured.out.strip().splitlines()
    assert [line.split("\t")[0] for line in lines] == [str(images / "a.bmp"), str(images / "c.bmp")]
    first = lines[0].split("\t")
    assert first[1] == "psnr" and first[3] == "higher is better"
    assert float(first[2]) == pytest.approx(21.11, abs=0.01 + 0.01 * 21.11)  # official value
    errors = [line for line in captured.err.splitlines() if line.strip() and "%" not in line]
    assert errors == [f"{images / 'b.bmp'}: not a readable image"]
    table = pd.read_csv(out_csv)
    assert list(table["path"]) == [str(images / n) for n in ("a.bmp", "b.bmp", "c.bmp")]
    assert np.isnan(table["score"].iloc[1]) and table["score"].notna().sum() == 2


def test_full_reference_needs_one_reference_per_image(folder, capsys):
    images, _ = folder
    assert main(["score", "ssim", str(images / "a.bmp")]) == 2
    assert "give one --ref per image" in capsys.readouterr().err


def test_glob_patterns_and_missing_names_are_kept(folder):
    images, refs = folder
    table = scoring.score_images(
        "ms_ssim",
        [str(images / "[ac].bmp"), str(images / "gone.png")],
        [str(refs / "a.bmp"), str(refs / "c.bmp"), str(refs / "c.bmp")],
        progress=False,
    )
    assert list(table["path"].map(lambda p: p.rsplit("/", 1)[-1])) == ["a.bmp", "c.bmp", "gone.png"]
    assert table["error"].iloc[2].endswith("gone.png: missing image")
    assert table["score"].iloc[:2].between(0, 1).all()


def test_all_is_well_exit_zero(folder, capsys):
    images, refs = folder
    assert main(["score", "ssim", str(images / "c.bmp"), "--ref", str(refs / "c.bmp")]) == 0
    assert capsys.readouterr().out.count("\n") == 1


@pytest.mark.parametrize("method", ["brisque", "niqe"])
def test_no_reference_methods_score_with_the_authors_models(folder, calibration, method):
    from edgeiqa.baselines.calibration import official_values

    images, _ = folder
    table = scoring.score_images(method, [str(images)], progress=False)
    assert table["direction"].eq("higher is worse").all()
    assert table["error"].iloc[1].endswith("b.bmp: not a readable image")
    official = official_values(calibration).set_index(["metric", "image"])
    for row, image in ((0, "I03"), (2, "I04")):
        ref = official.loc[(method, image)]
        allowed = ref["tolerance_atol"] + ref["tolerance_rtol"] * abs(ref["official"])
        assert abs(table["score"].iloc[row] - ref["official"]) <= allowed
    with pytest.raises(ValueError, match="no-reference"):
        scoring.score_images(method, [str(images)], [str(images)], progress=False)

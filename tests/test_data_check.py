"""``python -m edgeiqa.data check``: what is found, counts per distortion, every problem."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from fixtures import write_root

from edgeiqa.data.__main__ import main


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(["check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def _section(out: str, name: str) -> list[str]:
    """The report lines of one dataset (its line and the indented ones below it)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{name}:"))
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith(" ")), len(lines)
    )
    return lines[start:end]


def test_check_on_shared_root(capsys, shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    code, out, _ = _run(capsys, "--root", str(shared_data))
    assert code == 0
    subset = _section(out, "live_subset")
    labels = pd.read_csv(shared_data / "live_subset" / "labels.csv")
    types = labels["type"].replace({"fastfading": "ff"}).value_counts().sort_index()
    assert "images + labels" in subset[0] and f"{len(labels)} images" in subset[0]
    assert ", ".join(f"{t} {n}" for t, n in types.items()) in subset[0]
    assert subset[1].strip() == "no problems found"
    live = _section(out, "live")[0]
    assert "labels only" in live and "779 rated images" in live
    assert "ff 145, gblur 145, jp2k 169, jpeg 175, wn 145" in live
    assert "866 rated images" in _section(out, "csiq")[0]
    assert "1700 rated images" in _section(out, "tid2008")[0]
    assert "3000 rated images" in _section(out, "tid2013")[0]
    assert "10125 rated images" in _section(out, "kadid10k")[0]
    assert "no cached build" in _section(out, "synthetic")[0]


def test_check_on_fixture_root_reports_every_problem(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    root = write_root(tmp_path / "data")
    # three problems in CSIQ: a missing image, a non-numeric score, a file no label names
    (root / "CSIQ" / "dst_imgs" / "jpeg" / "bridge.JPEG.2.png").unlink()
    (root / "CSIQ" / "dst_imgs" / "jpeg" / "bridge.JPEG.9.png").write_bytes(b"")
    import openpyxl

    book = openpyxl.load_workbook(root / "CSIQ" / "csiq.DMOS.xlsx")
    book["all_by_image"]["H4"] = "n/a"
    book.save(root / "CSIQ" / "csiq.DMOS.xlsx")
    code, out, _ = _run(capsys, "--root", str(root))
    assert code == 1  # problems found: all printed, then a non-zero status
    assert out.rstrip().endswith("3 problem(s) in all")
    live = _section(out, "live")
    # reference copies (orgs == 1) present on disk are not reported as unlabelled
    assert "images + labels" in live[0] and "15 images" in live[0] and "ff 3" in live[0]
    assert live[1].strip() == "no problems found"
    csiq = _section(out, "csiq")
    assert "22 images" in csiq[0] and "jpeg 3" in csiq[0]
    assert csiq[1].strip() == "3 problem(s):"
    text = "\n".join(csiq)
    assert "bridge.JPEG.2.png: missing image" in text
    assert "row 4" in text and "'n/a' is not a number" in text
    # the rejected row's image counts as unlabelled too, beside the stray file
    assert "2 image file(s) without a usable label row" in text
    assert "dst_imgs/awgn/1600.AWGN.1.png" in text and "dst_imgs/jpeg/bridge.JPEG.9.png" in text
    for name, n in (("tid2008", 30), ("tid2013", 30), ("kadid10k", 30)):
        section = _section(out, name)
        assert f"{n} images" in section[0] and section[1].strip() == "no problems found"
    assert "not found" in _section(out, "live_subset")[0]


def test_check_decode_finds_truncated_images(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    root = write_root(tmp_path / "data")
    victim = root / "KADID-10k" / "images" / "I01_10_03.png"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])
    _, out, _ = _run(capsys, "--root", str(root))
    assert _section(out, "kadid10k")[1].strip() == "no problems found"
    _, out, _ = _run(capsys, "--root", str(root), "--decode")
    kadid = "\n".join(_section(out, "kadid10k"))
    assert "1 problem(s)" in kadid and f"{victim}: unreadable or truncated image" in kadid


def test_check_unreadable_label_file_is_a_problem_not_a_crash(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    root = write_root(tmp_path / "data")
    (root / "TID2013" / "mos_with_names.txt").unlink()
    code, out, _ = _run(capsys, "--root", str(root))
    assert code == 1
    tid = _section(out, "tid2013")
    assert "not loadable" in tid[0] and "no label file" in tid[2]


def test_check_reports_cached_synthetic_builds(capsys, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("EDGEIQA_CACHE", str(cache))
    build = cache / "synthetic" / "abc123"
    build.mkdir(parents=True)
    pd.DataFrame({"image": ["jpeg/a_L1.png", "wn/a_L1.png"], "distortion": ["jpeg", "wn"]}).to_csv(
        build / "labels.csv", index=False
    )
    params = {"contents": ["a", "b"], "levels": [0, 4], "max_side": 160, "seed": 0}
    (build / "params.json").write_text(json.dumps(params))
    (cache / "synthetic" / "unfinished.tmp1").mkdir()  # an interrupted build: not listed
    _, out, _ = _run(capsys, "--root", str(tmp_path))
    synthetic = _section(out, "synthetic")
    assert "1 cached build(s)" in synthetic[0]
    assert (
        "abc123: 2 contents, 2 levels, max side 160, seed 0; 2 images; jpeg 1, wn 1"
        in (synthetic[1])
    )


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_check_unusable_root(capsys, tmp_path, kind):
    root = tmp_path / "nothing-here"
    if kind == "file":
        root.write_text("not a folder")
    code, out, err = _run(capsys, "--root", str(root))
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and str(root) in err and "data root does not exist" in err


def test_check_runs_as_a_module(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "edgeiqa.data", "check", "--root", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"EDGEIQA_CACHE": str(tmp_path / "cache"), "PATH": ""},
    )
    assert result.returncode == 0, result.stderr
    assert f"data root: {tmp_path}" in result.stdout
    assert "live: not found" in result.stdout


@pytest.mark.parametrize(
    "content",
    [
        b"",  # an empty file
        b"image,type,ref,dmos\njpeg/img1.png,jpeg,refimgs/a.png,21,9\n",
        "image,type,ref,dmos\njpeg/caf\xe9.png,jpeg,refimgs/a.png,21\n".encode("latin-1"),
    ],
    ids=["empty", "extra-field", "latin-1"],
)
def test_check_never_crashes_on_a_malformed_label_file(capsys, tmp_path, monkeypatch, content):
    """Whatever a label file holds, check reports one line for it and goes on to the others."""
    monkeypatch.setenv("EDGEIQA_CACHE", str(tmp_path / "cache"))
    root = write_root(tmp_path / "data")
    subset = root / "live_subset"
    (subset / "images").mkdir(parents=True, exist_ok=True)
    (subset / "labels.csv").write_bytes(content)
    code, out, _ = _run(capsys, "--root", str(root))
    assert code == 1
    section = _section(out, "live_subset")
    problem_lines = [line for line in section if line.startswith("  - ")]
    assert problem_lines and all("\n" not in line for line in problem_lines)
    assert str(subset) in "\n".join(section)
    # the datasets after it are still checked
    assert "no problems found" in "\n".join(_section(out, "kadid10k"))

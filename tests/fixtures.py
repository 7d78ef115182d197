"""Writers of tiny datasets in each official release layout and label format, for the tests.

Every image is a 16 x 12 RGB picture of seeded noise; the label values are chosen so that each
mapping to ``quality`` can be checked by hand. Each writer returns the dataset folder and a
DataFrame of what it wrote (image name as the loader reports it, content, distortion, level,
raw score), sorted the way the label file lists it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import scipy.io
from PIL import Image

SIZE = (16, 12)  # width, height


def write_image(path: Path, seed: int = 0) -> Path:
    """A small RGB image (PNG or BMP by suffix)."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(SIZE[1], SIZE[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels).save(path)
    return path


# ---------------------------------------------------------------- LIVE Release 2
LIVE_BLOCKS = (("jp2k", 227), ("jpeg", 233), ("wn", 174), ("gblur", 174), ("fastfading", 174))
LIVE_REFS = ("buildings.bmp", "monarch.bmp", "parrots.bmp")
LIVE_RATED = (2, 3, 4)  # imgN rated in every folder; img1 is a reference copy, the rest unused


def live_entries() -> pd.DataFrame:
    """The 982 entries of a fixture ``dmos_realigned.mat``: 3 rated images per folder."""
    rows = []
    for b, (folder, n) in enumerate(LIVE_BLOCKS):
        for k in range(1, n + 1):
            rated = k in LIVE_RATED
            ref = LIVE_REFS[(k + b) % len(LIVE_REFS)]
            # one value per block above 100 (realigned DMOS runs past 100) to test the clip
            dmos = (105.0 if k == 4 and b == 0 else 10.0 * b + 5.0 * k) if rated else 0.0
            rows.append(
                {
                    "image": f"{folder}/img{k}.bmp",
                    "folder": folder,
                    "ref": ref,
                    "orgs": 0 if rated else 1,
                    "dmos": dmos,
                    "dmos_std": 1.5 if rated else 0.0,
                }
            )
    return pd.DataFrame(rows)


def write_live(
    folder: Path, form: str = "mat", refnames_as: str = "cell"
) -> tuple[Path, pd.DataFrame]:
    """LIVE folder with images and ``dmos_realigned.mat`` + ``refnames_all.mat`` (``form='mat'``)
    or ``live_dmos.csv`` (``form='csv'``). ``refnames_as``: MATLAB cell array or char matrix."""
    entries = live_entries()
    for i, ref in enumerate(LIVE_REFS):
        write_image(folder / "refimgs" / ref, seed=100 + i)
    for i, row in entries.iterrows():
        if row["orgs"] == 0 or row["image"].endswith("/img1.bmp"):
            write_image(folder / row["image"], seed=i)
    if form == "mat":
        scipy.io.savemat(
            folder / "dmos_realigned.mat",
            {
                "dmos_new": entries["dmos"].to_numpy()[None, :],
                "dmos_std": entries["dmos_std"].to_numpy()[None, :],
                "orgs": entries["orgs"].to_numpy(dtype=float)[None, :],
            },
        )
        names = list(entries["ref"])
        refnames = np.array(names, dtype=object)[None, :] if refnames_as == "cell" else names
        scipy.io.savemat(folder / "refnames_all.mat", {"refnames_all": refnames})
    else:
        rated = entries.loc[entries["orgs"] == 0]
        pd.DataFrame(
            {
                "dis_img_path": "LIVE/" + rated["image"],
                "dis_type": rated["folder"],
                "ref_img_path": "LIVE/refimgs/" + rated["ref"],
                "score": rated["dmos"],
            }
        ).to_csv(folder / "live_dmos.csv", index=False)
    rated = entries.loc[entries["orgs"] == 0]
    expected = pd.DataFrame(
        {
            "image": rated["image"],
            "content": rated["ref"].str.replace(".bmp", ""),
            "distortion": rated["folder"].replace({"fastfading": "ff"}),
            "raw_score": rated["dmos"],
        }
    ).reset_index(drop=True)
    return folder, expected


# ---------------------------------------------------------------- CSIQ
CSIQ_REFS = (1600, "bridge")
# xlsx dst_type, CSV dis_type, folder, file label, normalised name, levels
CSIQ_TYPES = (
    ("noise", "AWGN", "awgn", "AWGN", "wn", 2),
    ("jpeg", "JPEG", "jpeg", "JPEG", "jpeg", 2),
    ("jpeg 2000", "JP2K", "jpeg2000", "jpeg2000", "jp2k", 2),
    ("fnoise", "Pink_Noise", "fnoise", "fnoise", "fnoise", 2),
    ("blur", "GBLUR", "blur", "BLUR", "gblur", 2),
    ("contrast", "Contrast Dist.", "contrast", "contrast", "contrast", 2),
)


def csiq_rows() -> pd.DataFrame:
    rows = []
    for r, ref in enumerate(CSIQ_REFS):
        for t, (xtype, ctype, folder, label, name, levels) in enumerate(CSIQ_TYPES):
            for level in range(1, levels + 1):
                rows.append(
                    {
                        "ref": ref,
                        "dst_idx": t + 1,
                        "dst_type": xtype,
                        "dis_type": ctype,
                        "dst_lev": level,
                        "dmos_std": 0.05,
                        "dmos": round(0.1 * level + 0.05 * t + 0.01 * r, 4),
                        "image": f"dst_imgs/{folder}/{ref}.{label}.{level}.png",
                        "content": str(ref),
                        "distortion": name,
                    }
                )
    return pd.DataFrame(rows)


def write_csiq(folder: Path, form: str = "xlsx") -> tuple[Path, pd.DataFrame]:
    """CSIQ folder with images and ``csiq.DMOS.xlsx`` (official sheet layout: title rows, two
    empty leading columns, header ``image dst_idx dst_type dst_lev dmos_std dmos``) or the CSV
    export ``csiq_dmos.csv`` (``form='csv'``, upper-case folder names in its paths)."""
    rows = csiq_rows()
    for i, ref in enumerate(CSIQ_REFS):
        write_image(folder / "src_imgs" / f"{ref}.png", seed=200 + i)
    for i, image in enumerate(rows["image"]):
        write_image(folder / image, seed=300 + i)
    if form == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "all_by_image"
        sheet.append([None, None, "CSIQ DMOS values"])
        sheet.append([])
        sheet.append([None, None, "image", "dst_idx", "dst_type", "dst_lev", "dmos_std", "dmos"])
        for r in rows.itertuples():
            sheet.append([None, None, r.ref, r.dst_idx, r.dst_type, r.dst_lev, r.dmos_std, r.dmos])
        sheet.append([])  # padding rows, as spreadsheets have
        book.create_sheet("all_by_distortion").append(["image", "dmos"])
        book.save(folder / "csiq.DMOS.xlsx")
    else:
        pd.DataFrame(
            {
                "dis_img_path": [
                    "CSIQ/" + p.replace("/awgn/", "/AWGN/").replace("/blur/", "/BLUR/")
                    for p in rows["image"]
                ],
                "dis_type": rows["dis_type"],
                "ref_img_path": [f"CSIQ/src_imgs/{r}.png" for r in rows["ref"]],
                "score": rows["dmos"],
            }
        ).to_csv(folder / "csiq_dmos.csv", index=False)
    expected = rows.rename(columns={"dst_lev": "level", "dmos": "raw_score"})
    return folder, expected[["image", "content", "distortion", "level", "raw_score"]]


# ---------------------------------------------------------------- TID2008 / TID2013
TID_REFS = (1, 2, 25)
TID_TYPES = {"tid2008": (1, 8, 10, 11, 17), "tid2013": (1, 8, 10, 11, 24)}
TID_NAMES = {1: "wn", 8: "gblur", 10: "jpeg", 11: "jp2k", 17: "contrast", 24: "sparse_sampling"}


def write_tid(
    folder: Path, variant: str = "tid2013", form: str = "txt"
) -> tuple[Path, pd.DataFrame]:
    """TID folder: ``reference_images/I01.BMP``, ``I02.BMP``, ``i25.bmp``; lower-case distorted
    file names; ``mos_with_names.txt`` with CRLF line ends and upper-case names (plus
    ``mos_std.txt``), or ``<variant>_mos.csv`` (``form='csv'``)."""
    for ref in TID_REFS:
        name = f"I{ref:02d}.BMP" if ref != 25 else "i25.bmp"
        write_image(folder / "reference_images" / name, seed=400 + ref)
    rows = []
    for ref in TID_REFS:
        for kind in TID_TYPES[variant]:
            for level in (1, 2):
                listed = f"I{ref:02d}_{kind:02d}_{level}.bmp"
                write_image(folder / "distorted_images" / listed.lower(), seed=len(rows))
                rows.append(
                    {
                        "listed": listed,
                        "image": f"distorted_images/{listed.lower()}",
                        "content": f"I{ref:02d}",
                        "distortion": TID_NAMES[kind],
                        "level": float(level),
                        "raw_score": round(7.0 - level - 0.1 * kind + 0.01 * ref, 5),
                        "std": 0.1 + 0.001 * len(rows),
                    }
                )
    df = pd.DataFrame(rows)
    if form == "txt":
        text = "".join(f"{r.raw_score} {r.listed}\r\n" for r in df.itertuples())
        (folder / "mos_with_names.txt").write_bytes(text.encode())
        std = "".join(f"{s}\r\n" for s in df["std"])
        (folder / "mos_std.txt").write_bytes(std.encode())
    else:
        pd.DataFrame(
            {
                "ref_name": [f"I{c[1:]}.BMP" for c in df["content"]],
                "dist_name": df["listed"],
                "mos": df["raw_score"],
                "std": df["std"],
            }
        ).to_csv(folder / f"{variant}_mos.csv", index=False, lineterminator="\r\n")
    return folder, df[["image", "content", "distortion", "level", "raw_score"]]


# ---------------------------------------------------------------- KADID-10k
KADID_REFS = (1, 81)
KADID_TYPES = {1: "gblur", 9: "jp2k", 10: "jpeg", 11: "wn", 25: "contrast_change"}


def write_kadid(folder: Path, form: str = "official") -> tuple[Path, pd.DataFrame]:
    """KADID-10k folder: ``images/`` with references and distorted images, ``dmos.csv``
    (``dist_img, ref_img, dmos, var``) or ``kadid10k_dmos.csv`` (``form='shared'``)."""
    rows = []
    for ref in KADID_REFS:
        write_image(folder / "images" / f"I{ref:02d}.png", seed=500 + ref)
        for kind, name in KADID_TYPES.items():
            for level in (1, 3, 5):
                image = f"I{ref:02d}_{kind:02d}_{level:02d}.png"
                write_image(folder / "images" / image, seed=len(rows))
                rows.append(
                    {
                        "dist_img": image,
                        "ref_img": f"I{ref:02d}.png",
                        "dmos": round(5.0 - 0.7 * level + 0.01 * kind, 3),
                        "var": 0.5,
                        "image": f"images/{image}",
                        "content": f"I{ref:02d}",
                        "distortion": name,
                        "level": float(level),
                    }
                )
    df = pd.DataFrame(rows)
    if form == "official":
        df[["dist_img", "ref_img", "dmos", "var"]].to_csv(folder / "dmos.csv", index=False)
    else:
        df.rename(columns={"dist_img": "dist_name", "ref_img": "ref_name", "var": "std"})[
            ["ref_name", "dist_name", "dmos", "std"]
        ].to_csv(folder / "kadid10k_dmos.csv", index=False)
    expected = df.rename(columns={"dmos": "raw_score"})
    return folder, expected[["image", "content", "distortion", "level", "raw_score"]]


def write_root(root: Path) -> Path:
    """A data root holding one fixture of every official dataset under its registry folder."""
    write_live(root / "LIVE")
    write_csiq(root / "CSIQ")
    write_tid(root / "TID2008", "tid2008")
    write_tid(root / "TID2013", "tid2013")
    write_kadid(root / "KADID-10k")
    return root

"""Training and inference throughput of the paper's edge-map CNNs on LIVE-sized inputs, against
an honest naive baseline, with an accuracy check and a file-to-score comparison with BRISQUE.

Throughput (``training_throughput.csv``): images/s of every variant of
:data:`edgeiqa.models.PAPER_VARIANTS` on random 768x512 edge maps (LIVE's landscape size), under
these settings, all with the same architecture (2x2 max-pool after each convolution, SPP):

- ``naive``: plain eager fp32, contiguous memory, batch 1: a plain Adam loop (one step per image)
  and a plain ``torch.no_grad()`` loop;
- ``channels_last``: the same plain loops with channels-last memory (one lever alone);
- ``fast_fp32``: the package's :func:`edgeiqa.train.fit` / :func:`edgeiqa.train.predict` (the
  fast path of :mod:`edgeiqa.runtime`: channels-last, ``inference_mode``, micro-batches within
  the pixel budget, the recipe's batch of 16 for training) with ``precision="fp32"``;
- ``fast``: the same with ``precision="auto"`` (bf16 convolutions where the CPU has native
  bf16 kernels; the default of every experiment);
- ``compiled`` (inference only, ``--compile``): ``torch.compile`` of the fast fp32 model.

Protocol: ``--images`` maps per timed run (default 32), ``--repeats`` timed runs (default 5)
after one untimed warm-up; the settings are interleaved within each repeat (so that load from
other processes hits them alike) and the table gives the median and the interquartile range over
the repeats. Speed-ups are ratios of medians against ``naive`` measured in the same run. The
ceiling: the fp32 matrix-multiply rate of this machine (measured in the same run) divided by
each variant's forward FLOPs per image (training: three times that).

Accuracy (``training_accuracy_check.csv``): CNN_Full_img regresses a synthetic quality (Sobel
maps of random textures blurred by a random Gaussian sigma, random contrast; target 1 - sigma/3)
for each of ``--seeds`` seeds under the plain reference arithmetic (eager fp32, contiguous, the
whole batch in one pass) and the fast path; test SROCC per seed. The fast path counts as equally
accurate when its median SROCC is within :data:`ACCURACY_TOLERANCE` of the reference's.

File to score (``prediction_throughput.csv``): images/s from a 768x512 PNG file to a score,
reading and the native-size edge map included, for CNN_Full_img on the fast path and for the
authors' BRISQUE (features + their SVR, nothing cached), on the same files in the same run. The
files are LIVE-subset images of 768x512 when the data root has them, else synthetic images (the
``dataset`` column says which).

Usage::

    python benchmarks/bench_training.py [--quick] [--out PATH] [--variants CNN_Full_img ...]

``--quick`` (8 images, 2 repeats, 1 seed, no compile) only checks that the script runs; its
figures do not meet the protocol above.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from PIL import Image
from scipy import ndimage, stats
from tqdm.auto import tqdm

from edgeiqa import runtime
from edgeiqa.config import data_root, results_dir
from edgeiqa.edges import EdgeParams, compute_edge_map
from edgeiqa.models import PAPER_VARIANTS, EdgeCNN, build_model
from edgeiqa.train import TrainConfig, fit, predict

HEIGHT, WIDTH = 512, 768  # LIVE's landscape size
SETTINGS = ("naive", "channels_last", "fast_fp32", "fast")
ACCURACY_TOLERANCE = 0.03
"""Largest difference of median test SROCC (fast path minus reference) that counts as equally
accurate; chosen before the run, about the seed-to-seed spread of this small task."""
RECIPE_BATCH = 16  # the full profile's batch size
ISA_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_tile")


def machine() -> dict[str, object]:
    """CPU model, cores, torch threads and the instruction-set flags that decide the kernels."""
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and ":" in line:
                model = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and ":" in line:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {
        "cpu": model,
        "cpu_count": os.cpu_count(),
        "threads": torch.get_num_threads(),
        "isa": " ".join(f for f in ISA_FLAGS if f in flags) or "unknown",
        "torch": torch.__version__,
    }


def forward_gflop(model: EdgeCNN, height: int = HEIGHT, width: int = WIDTH) -> float:
    """Forward GFLOP (2 x multiply-adds) of one ``height x width`` map: the convolutions, at the
    resolution each one sees, and the fully connected head."""
    macs, h, w, pooled = 0, height, width, model.init_kwargs["pool_after_conv"]
    in_channels = 1
    for out_channels in model.init_kwargs["conv_channels"]:
        macs += 9 * in_channels * out_channels * h * w
        if pooled:
            h, w = h // 2, w // 2
        in_channels = out_channels
    macs += sum(layer.weight.numel() for layer in model.head if isinstance(layer, torch.nn.Linear))
    return 2 * macs / 1e9


def matmul_gflops(size: int = 2048, repeats: int = 5) -> float:
    """Median fp32 GFLOP/s of a ``size`` square matrix product (this machine's practical peak)."""
    a, b = torch.rand(size, size), torch.rand(size, size)
    a @ b  # warm-up
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        a @ b
        rates.append(2 * size**3 / (time.perf_counter() - start) / 1e9)
    return float(np.median(rates))


def naive_train(model: EdgeCNN, optimiser, maps: torch.Tensor, cl: bool) -> None:
    model.train()
    for i in range(len(maps)):
        x = maps[i : i + 1]
        if cl:
            x = x.contiguous(memory_format=torch.channels_last)
        loss = F.cross_entropy(model(x), torch.tensor([i % 4]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()


def naive_predict(model: EdgeCNN, maps: torch.Tensor, cl: bool) -> None:
    model.eval()
    with torch.no_grad():
        for i in range(len(maps)):
            x = maps[i : i + 1]
            model(x.contiguous(memory_format=torch.channels_last) if cl else x)


def runners(
    name: str, setting: str, maps: torch.Tensor, arrays: list[np.ndarray], seed: int
) -> dict[str, Callable[[], None]]:
    """``{mode: run}`` for one variant and setting; each run processes every map once."""
    model = build_model(name, seed=seed)
    if setting in ("naive", "channels_last"):
        cl = setting == "channels_last"
        model.to(memory_format=torch.channels_last if cl else torch.contiguous_format)
        optimiser = torch.optim.Adam(model.parameters())
        return {
            "train": lambda: naive_train(model, optimiser, maps, cl),
            "inference": lambda: naive_predict(model, maps, cl),
        }
    if setting == "compiled":
        model.eval().to(memory_format=torch.channels_last)
        compiled = torch.compile(model)
        cl_maps = maps.contiguous(memory_format=torch.channels_last)

        def run() -> None:
            with torch.inference_mode():
                for i in range(len(cl_maps)):
                    compiled(cl_maps[i : i + 1])

        return {"inference": run}
    precision = "fp32" if setting == "fast_fp32" else "auto"
    config = TrainConfig(
        epochs=1,
        batch_size=RECIPE_BATCH,
        val_fraction=0.0,
        seed=seed,
        progress=False,
        device="cpu",
        precision=precision,
    )
    classes = np.arange(len(arrays)) % 4
    return {
        "train": lambda: fit(model, arrays, classes, "classification", config),
        "inference": lambda: predict(model, arrays, "classification", precision=precision),
    }


def throughput(
    variants: list[str], settings: list[str], n_images: int, repeats: int, seed: int
) -> pd.DataFrame:
    """Images/s of every (variant, mode, setting) in every repeat (one row per timed run)."""
    rng = np.random.default_rng(seed)
    arrays = [rng.random((HEIGHT, WIDTH), dtype=np.float32) for _ in range(n_images)]
    maps = torch.from_numpy(np.stack(arrays))[:, None]
    runs: dict[tuple[str, str, str], Callable[[], None]] = {}
    for name in variants:
        for setting in settings:
            for mode, run in runners(name, setting, maps, arrays, seed).items():
                run()  # warm-up: oneDNN builds its kernels on the first call of each shape
                runs[name, mode, setting] = run
    rows = []
    bar = tqdm(total=repeats * len(runs), desc="throughput runs")
    for repeat in range(repeats):
        for (name, mode, setting), run in runs.items():
            start = time.perf_counter()
            run()
            rows.append(
                {
                    "variant": name,
                    "mode": mode,
                    "setting": setting,
                    "repeat": repeat,
                    "images_per_s": n_images / (time.perf_counter() - start),
                }
            )
            bar.update()
    bar.close()
    return pd.DataFrame(rows)


def summarise(runs: pd.DataFrame, peak_gflops: float, n_images: int) -> pd.DataFrame:
    """Median and IQR per (variant, mode, setting), speed-up of medians, share of the ceiling."""
    grouped = runs.groupby(["variant", "mode", "setting"], sort=False)["images_per_s"]
    table = grouped.agg(
        median="median",
        q25=lambda s: s.quantile(0.25),
        q75=lambda s: s.quantile(0.75),
        repeats="size",
    ).reset_index()
    table = table.rename(
        columns={"median": "images_per_s", "q25": "images_per_s_q25", "q75": "images_per_s_q75"}
    )
    naive = table[table.setting == "naive"].set_index(["variant", "mode"])["images_per_s"]
    table["speedup_vs_naive"] = [
        r.images_per_s / naive[r.variant, r.mode] for r in table.itertuples()
    ]
    gflop = {name: forward_gflop(build_model(name)) for name in table.variant.unique()}
    table["gflop_per_image"] = [
        gflop[r.variant] * (3 if r.mode == "train" else 1) for r in table.itertuples()
    ]
    table["share_of_fp32_ceiling"] = table.images_per_s * table.gflop_per_image / peak_gflops
    table["images_timed"] = n_images
    table["batch_size"] = [
        RECIPE_BATCH if r.setting.startswith("fast") and r.mode == "train" else 1
        for r in table.itertuples()
    ]
    table.insert(0, "dataset", f"random {WIDTH}x{HEIGHT} edge maps")
    table["fp32_matmul_gflops"] = peak_gflops
    for key, value in machine().items():
        table[key] = value
    return table


def blur_task(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Fixed-scale Sobel maps of random textures blurred by a random sigma in [0, 2.4] at random
    contrast (so brightness alone cannot tell), with quality 1 - sigma / 3."""
    rng = np.random.default_rng(seed)
    params = EdgeParams(max_side=0)
    inputs, quality = [], []
    for i in range(n):
        shape = (64, 96) if i % 2 else (96, 64)
        texture = ndimage.gaussian_filter(rng.random(shape), 1.0)
        texture = (texture - texture.min()) / np.ptp(texture)
        sigma = rng.uniform(0.0, 2.4)
        image = ndimage.gaussian_filter(texture, sigma) if sigma > 0.05 else texture
        contrast = rng.uniform(0.4, 1.0)
        inputs.append(compute_edge_map(0.5 + contrast * (image - 0.5), params))
        quality.append(1.0 - sigma / 3.0)
    return inputs, np.asarray(quality, dtype=np.float32)


def accuracy_check(n_train: int, epochs: int, seeds: list[int]) -> pd.DataFrame:
    """Test SROCC of CNN_Full_img on the blur task: reference arithmetic against the fast path."""
    train_x, train_y = blur_task(n_train, seed=100)
    test_x, test_y = blur_task(n_train // 2, seed=200)
    arithmetic = {
        # eager fp32, contiguous, every batch in one pass
        "reference": {"channels_last": False, "precision": "fp32", "pixel_budget": 10**9},
        "fast_fp32": {"precision": "fp32"},
        "fast": {"precision": "auto"},
    }
    rows = []
    for seed in tqdm(seeds, desc="accuracy seeds"):
        for setting, options in arithmetic.items():
            config = TrainConfig(
                epochs=epochs,
                batch_size=RECIPE_BATCH,
                val_fraction=0.0,
                seed=seed,
                progress=False,
                device="cpu",
                **options,
            )
            model = build_model("CNN_Full_img", task="regression", seed=seed)
            fitted = fit(model, train_x, train_y, "regression", config).model
            predicted = predict(
                fitted,
                test_x,
                "regression",
                channels_last=options.get("channels_last", True),
                precision=options["precision"],
            )
            rows.append(
                {
                    "dataset": "synthetic blur task (benchmark)",
                    "model": "CNN_Full_img",
                    "setting": setting,
                    "precision": runtime.resolve_precision(
                        options["precision"], torch.device("cpu")
                    ),
                    "seed": seed,
                    "epochs": epochs,
                    "n_train": n_train,
                    "n_test": len(test_y),
                    "test_srocc": float(stats.spearmanr(test_y, predicted).statistic),
                }
            )
    return pd.DataFrame(rows)


def accuracy_verdict(accuracy: pd.DataFrame) -> pd.DataFrame:
    """Median SROCC per setting, its difference from the reference, and the verdict."""
    medians = accuracy.groupby("setting", sort=False)["test_srocc"].agg(["median", "min", "max"])
    medians["difference_vs_reference"] = medians["median"] - medians.loc["reference", "median"]
    medians["equally_accurate"] = medians["difference_vs_reference"].abs() <= ACCURACY_TOLERANCE
    medians["tolerance"] = ACCURACY_TOLERANCE
    return medians.reset_index()


def benchmark_images(n: int, folder: Path) -> tuple[list[Path], str]:
    """``n`` 768x512 PNG files: LIVE-subset images of that size when present, else synthetic."""
    live = data_root() / "live_subset" / "images"
    found = []
    if live.is_dir():
        for path in sorted(live.rglob("*")):
            if path.suffix.lower() in (".bmp", ".png") and len(found) < n:
                with Image.open(path) as image:
                    if image.size == (WIDTH, HEIGHT):
                        found.append(path)
    if len(found) == n:
        return found, "live_subset (768x512 images)"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        texture = ndimage.gaussian_filter(rng.random((HEIGHT, WIDTH, 3)), (2, 2, 0))
        texture = (255 * (texture - texture.min()) / np.ptp(texture)).astype(np.uint8)
        path = folder / f"bench_{i:03d}.png"
        Image.fromarray(texture).save(path)
        paths.append(path)
    return paths, "synthetic 768x512 textures (no 768x512 LIVE-subset images found)"


def file_to_score(n_images: int, repeats: int, scratch: Path) -> pd.DataFrame:
    """Images/s from file to score: CNN_Full_img (fast path) and the authors' BRISQUE."""
    from edgeiqa.baselines import brisque, brisque_published
    from edgeiqa.data.images import read_luminance, read_rgb, rgb_to_grey

    paths, dataset = benchmark_images(n_images, scratch)
    model = build_model("CNN_Full_img", task="regression").eval()
    params = EdgeParams(max_side=0)
    brisque_model = brisque_published.load_model()

    def cnn() -> None:
        maps = [compute_edge_map(read_luminance(p), params) for p in paths]
        predict(model, maps, "regression")

    def authors_brisque() -> None:
        for p in paths:
            features = brisque.brisque_features(rgb_to_grey(read_rgb(p)))
            brisque_published.score_features(features, brisque_model)

    methods = {
        "CNN_Full_img (edge map + CNN, fast path)": cnn,
        "BRISQUE (authors' model)": authors_brisque,
    }
    for run in methods.values():
        run()
    rates: dict[str, list[float]] = {name: [] for name in methods}
    for _ in tqdm(range(repeats), desc="file-to-score runs"):
        for name, run in methods.items():
            start = time.perf_counter()
            run()
            rates[name].append(len(paths) / (time.perf_counter() - start))
    brisque_rate = float(np.median(rates["BRISQUE (authors' model)"]))
    rows = [
        {
            "dataset": dataset,
            "method": name,
            "images_timed": len(paths),
            "repeats": repeats,
            "images_per_s": float(np.median(values)),
            "images_per_s_q25": float(np.quantile(values, 0.25)),
            "images_per_s_q75": float(np.quantile(values, 0.75)),
            "ratio_vs_brisque": float(np.median(values)) / brisque_rate,
            **machine(),
        }
        for name, values in rates.items()
    ]
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run; not the protocol")
    parser.add_argument("--out", type=Path, default=None, help="throughput CSV path")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--images", type=int, default=None, help="maps per timed run (32)")
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (5)")
    parser.add_argument("--seeds", type=int, default=None, help="accuracy-check seeds (3)")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile")
    parser.add_argument("--variants", nargs="+", default=list(PAPER_VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.variants) - set(PAPER_VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {sorted(PAPER_VARIANTS)}")

    runtime.set_threads(args.threads)
    n_images = args.images or (8 if args.quick else 32)
    repeats = args.repeats or (2 if args.quick else 5)
    n_seeds = args.seeds or (1 if args.quick else 3)
    settings = [*SETTINGS, "compiled"] if args.compile else list(SETTINGS)
    out = args.out or results_dir() / "benchmarks" / "training_throughput.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    info = machine()
    print(f"machine: {info}", flush=True)
    peak = matmul_gflops()
    print(f"fp32 matmul: {peak:.0f} GFLOP/s", flush=True)

    runs = throughput(args.variants, settings, n_images, repeats, args.seed)
    table = summarise(runs, peak, n_images)
    table.to_csv(out, index=False, float_format="%.4g")
    accuracy = accuracy_check(
        n_train=96 if args.quick else 192,
        epochs=4 if args.quick else 10,
        seeds=list(range(n_seeds)),
    )
    verdict = accuracy_verdict(accuracy)
    accuracy_out = out.with_name("training_accuracy_check.csv")
    accuracy.to_csv(accuracy_out, index=False, float_format="%.4g")
    predict_table = file_to_score(
        8 if args.quick else 32, repeats, Path(os.environ.get("TMPDIR", "/tmp")) / "edgeiqa_bench"
    )
    predict_out = out.with_name("prediction_throughput.csv")
    predict_table.to_csv(predict_out, index=False, float_format="%.4g")

    with pd.option_context("display.width", 140, "display.precision", 3):
        view = table.pivot_table(
            index=["variant", "mode"], columns="setting", values="speedup_vs_naive", sort=False
        ).reindex(columns=settings)
        rates = table.pivot_table(
            index=["variant", "mode"], columns="setting", values="images_per_s", sort=False
        ).reindex(columns=settings)
        print(f"\nimages/s (median of {repeats} runs of {n_images} images)\n{rates}")
        print(f"\nspeed-up of medians vs naive\n{view}")
        fast = table[table.setting == "fast"].set_index(["variant", "mode"])
        print("\nshare of the fp32 ceiling (fast)\n", fast["share_of_fp32_ceiling"], sep="")
        print(f"\naccuracy (test SROCC over seeds; tolerance {ACCURACY_TOLERANCE})\n{verdict}")
        print(f"\nfile to score\n{predict_table[['method', 'images_per_s', 'ratio_vs_brisque']]}")
    print(
        f"\nwrote {out.name}, {accuracy_out.name}, {predict_out.name} in {out.parent} "
        f"({time.perf_counter() - start:.0f} s)"
    )


if __name__ == "__main__":
    main()

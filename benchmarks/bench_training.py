"""Training and inference throughput of the paper's edge-map CNNs on LIVE-sized inputs.

Measures images/s for each variant of :data:`edgeiqa.models.PAPER_VARIANTS` on random 768x512
edge maps (the size of most LIVE images) with ``torch.set_num_threads(2)``, under these settings,
all measured in the same run and interleaved so that load from other processes hits them alike:

- ``naive``: the same architecture without pooling after the convolutions (every conv at full
  resolution), fp32, eager, batch size 1, contiguous memory; training is a plain Adam loop and
  inference a plain ``torch.no_grad()`` loop;
- ``pool``: + 2x2 max-pool after each conv (``pool_after_conv=True``, our default), still batch 1,
  contiguous, fp32, through the package's ``fit``/``predict``;
- ``optimised``: + channels-last memory, ``torch.inference_mode`` and batches of equal-sized
  images (the package's ``fit``/``predict`` with ``channels_last=True``), fp32. The batch is 2 by
  default (``--batch-size``): one 768x512 map already needs tens of MB of activations per conv
  layer, so larger batches overflow the CPU caches and measured slower on our 2-core machine;
  on the smaller maps the notebooks use (longer side <= 256) the trainer's batch of 16 is fine;
- ``optimised_bf16``: + bfloat16 autocast (only where the CPU has native bf16 kernels).

Each figure is the best of ``--repeats`` timed runs after one warm-up (the best is the least
disturbed by other processes on a shared machine). Speed-ups are against ``naive``.

An accuracy check then trains CNN_Full_img on a small synthetic task (Sobel maps of random
textures blurred by one of 4 class-dependent Gaussian sigmas, with random contrast) with the
``naive`` and the optimised settings and reports test accuracies, so that the speed levers can be
seen not to change accuracy beyond seed-to-seed noise.

Writes the throughput table to ``results/benchmarks/training_throughput.csv`` (``--out``) and the
accuracy table beside it (``training_accuracy_check.csv``). Default run: ~2-3 minutes on 2 idle
cores (longer on a busy machine); ``--quick``: about a third of that, fewer images, one repeat,
one seed.

Usage::

    python benchmarks/bench_training.py [--quick] [--out PATH] [--variants CNN_Full_img ...]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from scipy import ndimage

from edgeiqa.config import results_dir
from edgeiqa.edges import EdgeParams, compute_edge_map
from edgeiqa.models import PAPER_VARIANTS, build_model
from edgeiqa.train import TrainConfig, bf16_supported, fit, predict

HEIGHT, WIDTH = 512, 768  # LIVE's landscape size
SETTINGS = ("naive", "pool", "optimised", "optimised_bf16")


def best_rate(run: Callable[[], int], repeats: int) -> float:
    """Images/s of the fastest of ``repeats`` calls of ``run`` (which returns its image count)."""
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        n = run()
        best = max(best, n / (time.perf_counter() - start))
    return best


def naive_train(model, inputs, targets) -> int:
    """Plain fp32 eager training, one image per step."""
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    for x, y in zip(inputs, targets, strict=True):
        output = model(torch.from_numpy(x)[None, None])
        loss = F.cross_entropy(output, torch.tensor([int(y)]))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    return len(inputs)


def naive_predict(model, inputs) -> int:
    """Plain fp32 eager inference, one image per call."""
    model.eval()
    with torch.no_grad():
        for x in inputs:
            torch.softmax(model(torch.from_numpy(x)[None, None]), dim=1)
    return len(inputs)


def setting_options(setting: str, batch_size: int) -> dict:
    """Trainer/predictor options of a non-naive setting."""
    return {
        "pool": {"batch_size": 1, "channels_last": False, "bf16": False},
        "optimised": {"batch_size": batch_size, "channels_last": True, "bf16": False},
        "optimised_bf16": {"batch_size": batch_size, "channels_last": True, "bf16": True},
    }[setting]


def optimised_train(model, inputs, targets, opts: dict) -> int:
    """One epoch of the package's trainer with the setting's options."""
    config = TrainConfig(epochs=1, val_fraction=0.0, progress=False, device="cpu", **opts)
    fit(model, inputs, targets, "classification", config)
    return len(inputs)


def optimised_predict(model, inputs, opts: dict) -> int:
    """The package's predictor with the setting's options."""
    predict(model, inputs, "classification", **opts)
    return len(inputs)


def runners_for(model, setting: str, train_x, train_y, infer_x, batch_size: int) -> dict:
    """``{"train": run, "inference": run}``; each run returns the number of images it processed."""
    if setting == "naive":
        return {
            "train": partial(naive_train, model, train_x, train_y),
            "inference": partial(naive_predict, model, infer_x),
        }
    opts = setting_options(setting, batch_size)
    return {
        "train": partial(optimised_train, model, train_x, train_y, opts),
        "inference": partial(optimised_predict, model, infer_x, opts),
    }


def throughput(
    variants: list[str],
    settings: list[str],
    n_images: int,
    batch_size: int,
    repeats: int,
    seed: int,
) -> pd.DataFrame:
    """Training and inference images/s of every variant under every setting.

    Batched settings time ``n_images`` images per run; the one-image-per-step settings (naive,
    pool) time half as many, which is enough for a per-image rate and keeps the run short.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for name in variants:
        train_x = [rng.random((HEIGHT, WIDTH), dtype=np.float32) for _ in range(n_images)]
        train_y = np.arange(n_images) % 4
        infer_x = [rng.random((HEIGHT, WIDTH), dtype=np.float32) for _ in range(n_images)]
        runners, counts = {}, {}
        for setting in settings:
            model = build_model(name, pool_after_conv=setting != "naive", seed=seed)
            size = 1 if setting in ("naive", "pool") else batch_size
            n = n_images if size > 1 else max(1, n_images // 2)
            # warm-up on one batch: oneDNN builds its kernels on the first call of each shape
            warm = runners_for(
                model, setting, train_x[:size], train_y[:size], infer_x[:size], batch_size
            )
            for run in warm.values():
                run()
            timed = runners_for(model, setting, train_x[:n], train_y[:n], infer_x[:n], batch_size)
            for mode, run in timed.items():
                runners[setting, mode] = run
                counts[setting, mode] = (n, size)
        rates = dict.fromkeys(runners, 0.0)
        # settings interleaved within each repeat, so that background load hits all of them
        for _ in range(repeats):
            for key, run in runners.items():
                rates[key] = max(rates[key], best_rate(run, 1))
        for (setting, mode), rate in rates.items():
            n, size = counts[setting, mode]
            rows.append(
                {
                    "variant": name,
                    "mode": mode,
                    "setting": setting,
                    "batch_size": size,
                    "images_timed": n,
                    "images_per_s": rate,
                }
            )
        print(f"  {name}: done", flush=True)
    table = pd.DataFrame(rows)
    naive = table[table.setting == "naive"].set_index(["variant", "mode"])["images_per_s"]
    table["speedup_vs_naive"] = [
        r.images_per_s / naive[r.variant, r.mode] for r in table.itertuples()
    ]
    table.insert(0, "dataset", f"random {WIDTH}x{HEIGHT} edge maps")
    table["threads"] = torch.get_num_threads()
    table["repeats"] = repeats
    return table


def blur_task(n: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    """Sobel maps (the package's fixed normalisation) of random textures blurred by one of four
    class-dependent sigmas, at random contrast so that mean brightness alone cannot tell them."""
    rng = np.random.default_rng(seed)
    sigmas = (0.0, 0.8, 1.6, 2.4)
    params = EdgeParams(max_side=0)
    inputs, classes = [], []
    for i in range(n):
        label = i % 4
        shape = (64, 96) if i % 2 else (96, 64)
        texture = ndimage.gaussian_filter(rng.random(shape), 1.0)
        texture = (texture - texture.min()) / np.ptp(texture)
        image = ndimage.gaussian_filter(texture, sigmas[label]) if sigmas[label] else texture
        contrast = rng.uniform(0.4, 1.0)
        inputs.append(compute_edge_map(0.5 + contrast * (image - 0.5), params))
        classes.append(label)
    return inputs, np.array(classes)


def accuracy_check(
    settings: list[str], n_train: int, epochs: int, seeds: list[int]
) -> pd.DataFrame:
    """Test accuracy of CNN_Full_img trained under each setting on the synthetic blur task.

    The optimised settings train with batches of 8 (these maps are small), the naive one with
    batches of 1, both for the same number of epochs. Runs on one thread: these are small,
    step-bound trainings that two threads on a busy shared machine slow down badly, and only the
    accuracies matter here.
    """
    train_x, train_y = blur_task(n_train, seed=100)
    test_x, test_y = blur_task(n_train, seed=200)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    rows = []
    try:
        for seed in seeds:
            for setting in settings:
                model = build_model("CNN_Full_img", pool_after_conv=setting != "naive", seed=seed)
                opts = (
                    {"batch_size": 1, "channels_last": False, "bf16": False}
                    if setting == "naive"
                    else setting_options(setting, 8)
                )
                config = TrainConfig(
                    epochs=epochs,
                    val_fraction=0.0,
                    seed=seed,
                    progress=False,
                    device="cpu",
                    **opts,
                )
                fitted = fit(model, train_x, train_y, "classification", config).model
                predicted = predict(fitted, test_x, "classification", **opts).argmax(1)
                rows.append(
                    {
                        "dataset": "synthetic blur task (benchmark)",
                        "model": "CNN_Full_img",
                        "setting": setting,
                        "seed": seed,
                        "epochs": epochs,
                        "n_train": n_train,
                        "n_test": len(test_y),
                        "test_accuracy": float((predicted == test_y).mean()),
                    }
                )
    finally:
        torch.set_num_threads(threads)
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer images and repeats")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="CSV path (default: <results>/benchmarks/training_throughput.csv)",
    )
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--batch-size",
        type=int,
        default=2,
        help="batch of the optimised settings (larger batches of 768x512 maps overflow the CPU "
        "caches and run slower)",
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed runs (default 3; quick 1)")
    parser.add_argument("--variants", nargs="+", default=list(PAPER_VARIANTS))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    unknown = sorted(set(args.variants) - set(PAPER_VARIANTS))
    if unknown:
        parser.error(f"unknown variant(s) {unknown}; choose from {sorted(PAPER_VARIANTS)}")

    torch.set_num_threads(args.threads)
    settings = list(SETTINGS)
    if not bf16_supported(torch.device("cpu")):
        settings.remove("optimised_bf16")
        print("bf16: this CPU has no native bfloat16 kernels; optimised_bf16 skipped")
    out = args.out or results_dir() / "benchmarks" / "training_throughput.csv"
    n_images, repeats = (4, 1) if args.quick else (8, 3)
    repeats = args.repeats or repeats

    start = time.perf_counter()
    print(
        f"throughput on {WIDTH}x{HEIGHT} inputs, {args.threads} threads, "
        f"{n_images} images per batched run (half for batch-1 runs), best of {repeats}:",
        flush=True,
    )
    table = throughput(args.variants, settings, n_images, args.batch_size, repeats, args.seed)
    print("accuracy check (CNN_Full_img, synthetic blur task, 1 thread):", flush=True)
    accuracy = accuracy_check(
        settings,
        n_train=96 if args.quick else 192,
        epochs=4 if args.quick else 8,
        seeds=[0] if args.quick else [0, 1],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(out, index=False, float_format="%.4g")
    accuracy_out = out.with_name("training_accuracy_check.csv")
    accuracy.to_csv(accuracy_out, index=False, float_format="%.4g")

    wide = table.pivot_table(
        index=["variant", "mode"], columns="setting", values="speedup_vs_naive"
    ).reindex(columns=settings)
    rates = table.pivot_table(
        index=["variant", "mode"], columns="setting", values="images_per_s"
    ).reindex(columns=settings)
    with pd.option_context("display.width", 120, "display.precision", 2):
        print("\nimages/s\n", rates, "\n\nspeed-up vs naive\n", wide, sep="")
        print(
            "\ntest accuracy (mean over seeds)\n",
            accuracy.groupby("setting", sort=False)["test_accuracy"].agg(["mean", "min", "max"]),
            sep="",
        )
    print(f"\nwrote {out} and {accuracy_out} in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()

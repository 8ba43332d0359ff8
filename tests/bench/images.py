"""`make bench`, image part: the VAE and the GAN on MNIST with their default configs,
each within its training-time budget, and their metrics beside the references.

Runs go through genlab's own entrypoint (only device, output folder and the time
budget are set) into outputs/bench/runs/; the table goes to stdout and
outputs/bench/images.md. MNIST comes from GENLAB_MNIST_DIR (or genlab's cache).
Usage: images.py [vae] [gan] [wgan]; default vae and gan (wgan = WGAN-GP with the
dcgan networks, 20 minutes). The targets are issue 18's: the VAE at most 89.0 nats
(IWAE k=1000), the GAN Parzen at least 225 and Fréchet distance at most 10, each
within 10 minutes of training. `images.py report` rewrites the table
from the runs already in outputs/bench/runs/.
"""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_module

from genlab.train import run

OUT = Path("outputs/bench")
BUDGETS = {"vae": 600.0, "gan": 600.0, "wgan": 1200.0}  # seconds of training
VAE_NLL, GAN_PARZEN, GAN_FD = 89.0, 225.0, 10.0  # the targets within those budgets
OVERRIDES = {"vae": ["model=vae"], "gan": ["model=gan"], "wgan": ["model=wgan", "model.arch=dcgan"]}


def folder_of(name: str) -> Path:
    return OUT / "runs" / f"{name}_mnist"


def bench_run(name: str) -> tuple[dict, float]:
    folder = folder_of(name)
    with initialize_config_module("genlab.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*OVERRIDES[name], "data=mnist", "device=cpu", f"output_root={OUT}",
                                           f"trainer.max_seconds={BUDGETS[name]}"])
    started = time.perf_counter()
    metrics = run(cfg, folder)
    return metrics, time.perf_counter() - started


def pm(mean: float, se: float, digits: int = 1) -> str:
    return f"{mean:.{digits}f} ± {se:.{digits}f}"


def rows_for(name: str, metrics: dict, wall: float) -> list[str]:
    steps, train_min, minutes = metrics["steps"], metrics["train_seconds"] / 60, BUDGETS[name] / 60
    refs = metrics.get("references", {})
    real, noise = refs.get("real_train_images", {}), refs.get("uniform_noise", {})
    label = {"vae": "VAE 784-400-20, Bernoulli", "gan": "GAN (mlp, batch norm, pairs: the MNIST default)", "wgan": "WGAN-GP (dcgan)"}[name]
    when = f"{steps} steps, {train_min:.1f} min training, {wall / 60:.1f} min wall"
    rows = []
    if name == "vae":
        nll = -metrics["test_log_likelihood"]
        ok = "ok" if nll <= VAE_NLL and train_min <= minutes else "MISSED"
        rows.append(f"| {label} | {when} | test NLL, IWAE k={metrics['iwae_k']} (binarize={metrics['images']['binarize']}) | "
                    f"{pm(nll, metrics['test_log_likelihood_standard_error'], 2)} nats | <= {VAE_NLL} in <= {minutes:.0f} min: {ok} | IWAE paper's VAE 86.76; 8-min prototype 92.1 |")
        rows.append(f"| {label} | {when} | test ELBO | {pm(metrics['test_elbo'], metrics['test_elbo_standard_error'], 2)} nats | - | - |")
    parzen = metrics.get("parzen")
    if parzen:
        ok = "" if name == "vae" else (" ok" if parzen["mean"] >= GAN_PARZEN and train_min <= minutes else " MISSED")
        target = "-" if name == "vae" else f">= {GAN_PARZEN:.0f} in <= {minutes:.0f} min:{ok}"
        kind = "real training images" + (" (binarized like the data)" if metrics["images"]["binarize"] != "none" else "")
        ref = f"{kind} {real['parzen']['mean']:.1f}, noise {noise['parzen']['mean']:.1f}" if "parzen" in real else "-"
        rows.append(f"| {label} | {when} | Parzen test log-likelihood (σ {parzen['sigma']:.3f} from validation) | {pm(parzen['mean'], parzen['standard_error'])} nats | {target} | {ref}; GAN paper 225 ± 2 |")
    classifier = metrics.get("classifier")
    if classifier:
        fd = classifier["frechet_distance"]
        ok = "" if name == "vae" else (" ok" if fd <= GAN_FD and train_min <= minutes else " MISSED")
        target = "-" if name == "vae" else f"<= {GAN_FD:.0f} in <= {minutes:.0f} min:{ok}"
        ref = f"10,000 real training images {real['frechet_distance']:.2f}" if "frechet_distance" in real else "-"
        rows.append(f"| {label} | {when} | Fréchet distance, classifier features (test accuracy {100 * classifier['test_accuracy']:.2f}%) | {fd:.2f} | {target} | {ref}; 10-min prototype 11.5 |")
        cov = classifier["coverage"]
        rows.append(f"| {label} | {when} | classes with >= 1% of samples; entropy | {cov['classes_covered']}/10; {cov['entropy']:.3f} of {cov['max_entropy']:.3f} nats | - | - |")
    return rows


def main(parts: list[str]) -> None:
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    rows = []
    if parts == ["report"]:
        for name in BUDGETS:
            if (folder_of(name) / "metrics.json").exists():
                metrics = json.loads((folder_of(name) / "metrics.json").read_text())
                rows += rows_for(name, metrics, metrics["wall_seconds"] + metrics["evaluation_seconds"])
    for name in (p for p in parts if p != "report"):
        metrics, wall = bench_run(name)
        rows += rows_for(name, metrics, wall)
        print("\n".join(rows_for(name, metrics, wall)), flush=True)
    header = [
        f"Machine: {os.cpu_count()} cores ({platform.machine()}), torch {torch.__version__} ({torch.get_num_threads()} threads), CPU. "
        "Default MNIST configs (conf/model_data/*_mnist.yaml); training time excludes evaluation; wall = the whole run incl. evaluation and figures. "
        "Parzen: 10,000 samples, σ from logspace(-1, 0, 10) on the 10,000 validation images, mean ± standard error over the 10,000 test images (Goodfellow et al. 2014).",
        "",
        "| model | run | metric | genlab | target | references |",
        "|---|---|---|---|---|---|",
    ]
    text = "\n".join(header + rows) + "\n"
    (OUT / "images.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:] or ["vae", "gan"])

"""GPU check: the same seeded runs on the CPU and on CUDA, their metrics side by side.

Usage: cuda.py [OUT_FOLDER [CASE ...]] (default outputs/bench/cuda, every case; a CASE
names the cases whose name contains it). Needs a CUDA device; the
MNIST cases need GENLAB_MNIST_DIR and are left out without it.

The two devices cannot give bit-identical training: torch's CPU and CUDA generators
draw different streams from one seed, and their kernels round differently. So the
check is that each run's metric lands within a tolerance of the CPU's: tight where
nothing random is drawn after the data (kde), statistical elsewhere (about the
seed-to-seed spread of the metric on the CPU). Writes cuda.md and cuda.json.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_module

from genlab.train import run

IMAGES = ["data=mnist", "data.n_train=10000", "image_eval.n_test=2000"]
# name, overrides, metric path in metrics.json, tolerance (absolute), needs MNIST
CASES = [
    ("kde, mixture2d", ["model=kde", "data=mixture2d"], "test_log_likelihood", 1e-4, False),
    ("gmm, mixture2d", ["model=gmm", "data=mixture2d"], "test_log_likelihood", 0.05, False),
    ("wgan-gp, 8gaussians, 2k steps", ["model=wgan", "data=8gaussians", "trainer.max_steps=2000"],
     "samples.model.sliced_wasserstein", 0.05, False),
    ("vae, moons, 3k steps", ["model=vae", "data=moons", "trainer.max_steps=3000"], "test_log_likelihood", 0.15, False),
    ("vae, mnist 10k, 3k steps", ["model=vae", *IMAGES, "trainer.max_steps=3000", "model.iwae_k=200"],
     "test_log_likelihood", 1.5, True),
    ("gan dcgan, mnist 10k, 1k steps", ["model=gan", *IMAGES, "model.arch=dcgan", "model.batch_norm=false", "model.pack=1", "model.batch_size=64",
     "model.ema=0.999", "trainer.max_steps=1000"], "parzen.mean", 10.0, True),
]


def metric(metrics: dict, path: str) -> float:
    for key in path.split("."):
        metrics = metrics[key]
    return float(metrics)


def one_run(out: Path, name: str, overrides: list[str], device: str) -> tuple[dict, float]:
    folder = out / "runs" / f"{name.split(',')[0].replace(' ', '_')}_{len(overrides)}_{device}"
    with initialize_config_module("genlab.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, f"device={device}", f"output_root={out}", "seed=0"])
    started = time.perf_counter()
    metrics = run(cfg, folder)
    if device == "cuda":
        torch.cuda.synchronize()
    return metrics, time.perf_counter() - started


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "outputs/bench/cuda")
    out.mkdir(parents=True, exist_ok=True)
    if not torch.cuda.is_available():
        print("cuda.py: no CUDA device here", file=sys.stderr)
        return 2
    rows, results, failed = [], [], 0
    chosen = sys.argv[2:]
    for name, overrides, path, tolerance, needs_mnist in CASES:
        if (needs_mnist and not os.environ.get("GENLAB_MNIST_DIR")) or (chosen and not any(c in name for c in chosen)):
            continue
        (cpu, cpu_s), (gpu, gpu_s) = (one_run(out, name, overrides, d) for d in ("cpu", "cuda"))
        a, b = metric(cpu, path), metric(gpu, path)
        ok = abs(a - b) <= tolerance
        failed += not ok
        results.append({"case": name, "metric": path, "cpu": a, "cuda": b, "tolerance": tolerance,
                         "cpu_seconds": cpu_s, "cuda_seconds": gpu_s, "ok": ok})
        rows.append(f"| {name} | {path} | {a:.4f} | {b:.4f} | {abs(a - b):.4f} <= {tolerance:g}: {'ok' if ok else 'FAILED'} "
                    f"| {cpu_s:.1f} s | {gpu_s:.1f} s |")
        print(rows[-1], flush=True)
    header = (f"torch {torch.__version__}, {torch.cuda.get_device_name()}, CPU {os.cpu_count()} cores; seed 0 on both; "
              "wall = the whole run (training, evaluation, figures).\n\n"
              "| case | metric | CPU | CUDA | difference | CPU wall | CUDA wall |\n|---|---|---|---|---|---|---|\n")
    (out / "cuda.md").write_text(header + "\n".join(rows) + "\n")
    (out / "cuda.json").write_text(json.dumps(results, indent=1))
    print(header + "\n".join(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

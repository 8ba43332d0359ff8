"""AIS (genlab.metrics.ais) with its default schedule: accuracy against the exact ln p(x) of
a linear-Gaussian decoder, the BDMC gap there, and time and bounds on 1,000 real MNIST
test images for the default MNIST VAE (briefly trained, against its IWAE bound) and the
default MNIST GAN generator (untrained: the time is the architecture's, not the weights').

Run it alone: .venv/bin/python tests/bench/ais.py [--threads N] [--quick]
(--quick: 100 images instead of 1,000, for a look). CPU seconds are the process's
(time.process_time, every thread summed); wall seconds beside them. The data is found
through $GENLAB_MNIST_DIR, else ../shared/data/mnist beside the repository.
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import time
from pathlib import Path

import torch

from genlab.data.mnist import MNIST
from genlab.metrics.ais import (
    AISSettings,
    ais_log_likelihood,
    bdmc_gap,
    decoder_for,
    linear_gaussian_decoder,
    linear_gaussian_log_prob,
)
from genlab.models.gan import GAN
from genlab.models.vae import VAE

ROOT = Path(os.environ.get("GENLAB_MNIST_DIR") or Path(__file__).resolve().parents[2].parent / "shared/data/mnist")
SIGMA = 1.0  # the linear-Gaussian model of tests/test_ais.py: W ~ N(0, 1) (50 x 10), b ~ N(0, 1)
VAE_STEPS = 2000  # a brief training of conf/model_data/vae_mnist.yaml's model


def timed(function, *args, **kwargs):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def linear_gaussian_rows(n: int) -> list[tuple[str, str]]:
    rows = []
    for seed in (1, 2, 3):
        g = torch.Generator().manual_seed(seed)
        weight, bias = torch.randn(50, 10, generator=g), torch.randn(50, generator=g)
        decoder = linear_gaussian_decoder(weight, bias, SIGMA)
        x = decoder.sample(torch.randn(n, 10, generator=g), g)
        report, wall, cpu = timed(ais_log_likelihood, decoder, x, AISSettings(), g)
        error = report["per_point"] - linear_gaussian_log_prob(weight, bias, SIGMA, x)
        rows.append((f"linear-Gaussian (seed {seed}), AIS - exact ln p(x), {n} points",
                     f"{error.mean():+.4f} ± {error.std() / math.sqrt(n):.4f} nats (|error| max {error.abs().max():.2f}; {cpu:.0f} CPU s)"))
        gap = bdmc_gap(decoder, n_points=n // 4, generator=g)
        exact = linear_gaussian_log_prob(weight, bias, SIGMA, gap["simulated"])
        rows.append((f"  BDMC on {n // 4} simulated points: lower / upper - exact, gap",
                     f"{(gap['lower']['per_point'] - exact).mean():+.4f} / {(gap['upper']['per_point'] - exact).mean():+.4f}, "
                     f"gap {gap['gap']:.4f} ± {gap['gap_standard_error']:.4f} nats"))
    return rows


def mnist_rows(n: int) -> list[tuple[str, str]]:
    rows, data = [], MNIST(root=ROOT, binarize="dynamic")
    generator = torch.Generator().manual_seed(0)
    test = data.test[:n]  # binarized once, with the fixed seed every run uses

    torch.manual_seed(0)
    vae = VAE(latent_dim=20, hidden=400, depth=1, likelihood="bernoulli", batch_size=200, lr=1.5e-3).build(784, image_shape=(1, 28, 28))
    _, wall, _ = timed(vae.fit, torch.bernoulli(data.train, generator=generator), max_steps=VAE_STEPS)
    rows.append((f"MNIST VAE 784-400-20, trained {VAE_STEPS} steps", f"{wall:.0f} s"))
    iwae, wall, cpu = timed(vae.log_prob, test, torch.Generator().manual_seed(1), k=1000)
    iwae = iwae.double()
    rows.append((f"  IWAE k=1000, {n} test images", f"{iwae.mean():.2f} ± {iwae.std() / math.sqrt(n):.2f} nats ({cpu:.0f} CPU s)"))
    report, wall, cpu = timed(ais_log_likelihood, decoder_for(vae), test, AISSettings(), torch.Generator().manual_seed(2))
    paired = report["per_point"] - iwae
    rows.append((f"  AIS (default schedule), {n} test images",
                 f"{report['mean']:.2f} ± {report['standard_error']:.2f} nats; AIS - IWAE {paired.mean():+.2f} ± "
                 f"{paired.std() / math.sqrt(n):.2f}; {cpu:.0f} CPU s, {wall:.0f} s wall (acceptance {report['acceptance']:.2f})"))
    gap = bdmc_gap(decoder_for(vae), n_points=max(10, n // 20), generator=torch.Generator().manual_seed(3))
    rows.append((f"  BDMC gap on {gap['n_points']} simulated images", f"{gap['gap']:.2f} ± {gap['gap_standard_error']:.2f} nats "
                 f"(lower {gap['lower']['mean']:.2f}, upper {gap['upper']['mean']:.2f})"))

    torch.manual_seed(0)
    gan = GAN(latent_dim=100, hidden=[256, 512, 1024], critic_hidden=[512, 256], batch_norm=True, activation="leaky_relu",
              dropout=0.3, pack=2, batch_size=128, lr=2e-4, ema=0.9999).build(784, image_shape=(1, 28, 28))
    grey = MNIST(root=ROOT)
    decoder, wall, cpu = timed(decoder_for, gan, validation=grey.validation, generator=torch.Generator().manual_seed(4))
    rows.append(("MNIST GAN generator 100-256-512-1024-784 (untrained), sigma chosen on 100 validation images",
                 f"sigma {decoder.sigma:.3f}; {cpu:.0f} CPU s, {wall:.0f} s wall"))
    report, wall, cpu = timed(ais_log_likelihood, decoder, grey.test[:n], AISSettings(), torch.Generator().manual_seed(5))
    rows.append((f"  AIS (default schedule), {n} grey test images",
                 f"{report['mean']:.1f} ± {report['standard_error']:.1f} nats; {cpu:.0f} CPU s, {wall:.0f} s wall "
                 f"(acceptance {report['acceptance']:.2f})"))
    return rows


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()[0]
    rows = linear_gaussian_rows(400 if args.quick else 2000) + mnist_rows(100 if args.quick else 1000)
    print(f"AIS bench: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch threads {args.threads}, "
          f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after")
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")


if __name__ == "__main__":
    main()

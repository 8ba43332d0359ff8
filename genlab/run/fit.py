"""Fit a model in one call (KDE, GMM by EM) and write the run's outputs.

Order matters for a crash: figures first, then the resolved config.yaml and the
checkpoint, then metrics.json last, each written atomically, so a folder with
metrics.json is a finished run and no file in it is ever half-written.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch

from genlab.io import write_json
from genlab.engine.checkpoint import CHECKPOINT_NAME, save_checkpoint, write_run_config
from genlab.errors import config_key
from genlab.metrics import likelihood_metrics, real_data_quality, sample_quality
from genlab.metrics.report import table
from genlab.plots.density import plot_density
from genlab.plots.model_figures import draw_model_figures
from genlab.plots.samples import plot_samples
from genlab.sampling import LangevinSettings, langevin_samples
from genlab.sampling.chains import DISPLAY_NAMES

log = logging.getLogger("genlab")


def fit_and_write(model, data, device, config: dict, run_dir: Path, n_fresh: int = 10_000, n_eval: int = 2500, sampler: LangevinSettings | None = None) -> dict:
    """Fit `model` on data.train, evaluate it, and write figures, checkpoint and metrics.

    Besides the likelihoods, the model's samples get the same sample-quality metrics as
    the adversarial models (beside a fresh real sample), so every run compares. With a
    Langevin `sampler`, samples.png shows its chains' samples, scored in
    samples.langevin beside the direct samples' samples.model, its settings and
    acceptance rate in samples.sampler.
    """
    run_dir = Path(run_dir)
    train = data.train.to(device)
    start = time.perf_counter()
    with config_key("model."):
        model.fit(train)
    fit_seconds = time.perf_counter() - start

    metrics = {
        **run_header(model, data, device),
        "fit_seconds": fit_seconds,
        "n_parameters": model.n_parameters,
        **likelihood_metrics(model, data, n_fresh),
        **model.summary(train),
    }
    seed = config.get("seed", 0)
    real = real_data_quality(data, n_eval, seed)
    generator = torch.Generator(train.device).manual_seed(seed)
    own = sample_quality(model.sample(n_eval, generator), data)
    metrics["samples"] = {"n": n_eval, "model": own, "real_data": real}
    columns = {"model": own}
    chains = None
    if sampler is not None:
        chains, metrics["samples"]["sampler"] = langevin_samples(model, data, sampler, n_eval, generator)
        metrics["samples"]["langevin"] = columns[sampler.name] = sample_quality(chains, data)
        log.info("%s sampler: %s", sampler.name, metrics["samples"]["sampler"])
    log.info("sample quality on %d samples against %d held-out points:\n%s", n_eval, len(data.test), table({**columns, "real data": real}))
    plot_density(model, data, run_dir / "density.png")
    plot_samples(model, data, run_dir / "samples.png", samples=chains, title=None if sampler is None else f"{DISPLAY_NAMES[sampler.name]} samples, {model.label}")
    draw_model_figures(model, data, run_dir)
    write_run_config(run_dir, config)
    save_checkpoint(run_dir / CHECKPOINT_NAME, model=model, config=config, step=1)
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def run_header(model, data, device) -> dict:
    """The first keys of every metrics.json: what ran on what."""
    return {
        "model": type(model).__name__.lower(),
        "data": data.name,
        "device": str(device),
        "n_train": len(data.train),
        "n_test": len(data.test),
    }

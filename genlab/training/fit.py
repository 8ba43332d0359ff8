"""Fit a model in one call (KDE, GMM by EM) and write the run's outputs.

Order matters for a crash: figures first, then the resolved config.yaml and the
checkpoint, then metrics.json last, each written atomically, so a folder with
metrics.json is a finished run and no file in it is ever half-written.
"""

from __future__ import annotations

import time
from pathlib import Path

from omegaconf import OmegaConf

from genlab.checkpoint import CHECKPOINT_NAME, atomic_write, save_checkpoint, write_json
from genlab.errors import config_key
from genlab.metrics import likelihood_metrics
from genlab.plots.curves import plot_curve
from genlab.plots.density import plot_density
from genlab.plots.samples import plot_samples


def fit_and_write(model, data, device, config: dict, run_dir: Path, n_fresh: int = 10_000) -> dict:
    """Fit `model` on data.train, evaluate it, and write figures, checkpoint and metrics."""
    run_dir = Path(run_dir)
    train = data.train.to(device)
    start = time.perf_counter()
    with config_key("model."):
        model.fit(train)
    fit_seconds = time.perf_counter() - start

    metrics = {
        "model": type(model).__name__.lower(),
        "data": data.name,
        "device": str(device),
        "n_train": len(data.train),
        "n_test": len(data.test),
        "fit_seconds": fit_seconds,
        "n_parameters": model.n_parameters,
        **likelihood_metrics(model, data, n_fresh),
        **model.summary(train),
    }
    plot_density(model, data, run_dir / "density.png")
    plot_samples(model, data, run_dir / "samples.png")
    history = getattr(model, "log_likelihood_history_", None)
    if history is not None:
        plot_curve(history, run_dir / "em.png", f"{model.label}: mean log-likelihood per iteration", "EM iteration", "mean log-likelihood (nats)")
    atomic_write(run_dir / "config.yaml", lambda handle: handle.write(OmegaConf.to_yaml(config).encode()))
    save_checkpoint(run_dir / CHECKPOINT_NAME, model=model, config=config, step=1)
    write_json(run_dir / "metrics.json", metrics)
    return metrics

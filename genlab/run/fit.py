"""Fit a model in one call (KDE, GMM by EM) and write the run's outputs.

Order matters for a crash: figures first, then the resolved config.yaml and the
checkpoint, then metrics.json last, each written atomically, so a folder with
metrics.json is a finished run and no file in it is ever half-written.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from genlab.data.standardize import for_model
from genlab.evaluation.file_units import in_file_units
from genlab.engine.checkpoint import CHECKPOINT_NAME, save_checkpoint, write_run_config
from genlab.errors import config_key
from genlab.evaluation.points import PointReport
from genlab.io import write_json
from genlab.sampling import LangevinSettings

log = logging.getLogger("genlab")


def fit_and_write(model, data, device, config: dict, run_dir: Path, sampler: LangevinSettings | None = None) -> dict:
    """Fit `model` on data.train, evaluate it as every point run is (genlab.evaluation.points:
    likelihoods, the sample-quality metrics beside a fresh real sample, a Langevin
    `sampler`'s chains where one is chosen), and write figures, checkpoint and metrics."""
    run_dir = Path(run_dir)
    train = for_model(data, data.train.to(device))
    start = time.perf_counter()
    with config_key("model."):
        model.fit(train)
    fit_seconds = time.perf_counter() - start
    results = PointReport(in_file_units(model, data), data, config, sampler).finish(None, run_dir)
    metrics = {
        **run_header(model, data, device, config),
        "fit_seconds": fit_seconds,
        "n_parameters": model.n_parameters,
        **results,
        **model.summary(train),
    }
    write_run_config(run_dir, config)
    save_checkpoint(run_dir / CHECKPOINT_NAME, model=model, config=config, step=1)
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def run_header(model, data, device, config: dict) -> dict:
    """The first keys of every metrics.json: what ran on what, and the run's tags."""
    return {
        "model": type(model).__name__.lower(),
        "tags": [str(tag) for tag in config.get("tags") or []],
        "data": data.name,
        "device": str(device),
        "n_train": len(data.train),
        "n_test": len(data.test),
        **({"standardization": data.standardization.as_dict()} if data.standardization is not None else {}),
    }

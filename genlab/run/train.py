"""Train a GAN, WGAN or VAE with the shared loop, then write the run's outputs.

Order matters for a crash, as for one-call fits: the resolved config.yaml comes first,
once the settings are checked (resume=true finds a run by it); the loop writes checkpoints
and metrics.jsonl as it goes; at the end come the figures and metrics.json last, so a folder with metrics.json is a finished run. What is measured
and drawn depends on the data: `points` for the 1D/2D sets, `images` for MNIST.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from genlab.data.standardize import for_model
from genlab.evaluation.file_units import in_file_units
from genlab.io import write_json
from genlab.engine.checkpoint import write_run_config
from genlab.errors import config_key
from genlab.run.fit import run_header
from genlab.engine.loop import TrainerSettings, train
from genlab.evaluation.points import PointReport
from genlab.run.resume import load_compatible

log = logging.getLogger("genlab")
IMAGE_SNAPSHOT_SIZE = 40  # images kept per snapshot: enough for a row of the figure


def train_and_write(model, data, device, config: dict, run_dir: Path, resume_from: Path | None = None,
                    seed_given: bool = True, sampler=None, loggers=None) -> dict:
    """Build or restore `model`, train it to trainer.max_steps, evaluate and write everything.
    `seed_given`: the command line set `seed` (a resumed run otherwise takes the checkpoint's);
    `sampler`: Langevin settings for a model with a differentiable density (points only);
    `loggers`: the trackers that get the losses and evaluations (genlab.loggers)."""
    run_dir = Path(run_dir)
    with config_key("trainer."):
        settings = TrainerSettings(**config["trainer"])
    resume = None
    if resume_from is not None:
        resume = load_compatible(resume_from, config, model, device, seed_given)
        model.load_state_dict(resume["model_state"])
        log.info("resuming from %s at step %d", resume_from, resume["step"])
    else:
        with config_key("model."):
            model.build(data.dim, device, data.image_shape)
    if data.image_shape is not None:
        settings.snapshot_size = min(settings.snapshot_size, IMAGE_SNAPSHOT_SIZE)
        from genlab.evaluation.images import ImageReport

        report = ImageReport(model, data, config, device)
    else:
        report = PointReport(in_file_units(model, data), data, config, sampler)

    write_run_config(run_dir, config)  # before training: what resume=true reads to find this run
    started = time.perf_counter()
    history = train(model, for_model(data, data.train.to(device)), settings, seed=config["seed"], run_dir=run_dir, config=config,
                    evaluate=report.evaluate, resume=resume, transform=data.binarize_batch, loggers=loggers)
    wall_seconds = time.perf_counter() - started
    results = report.finish(history, run_dir)
    metrics = {
        **run_header(model, data, device, config),
        "steps": model.steps_trained_,
        "precision": model.precision,
        "train_seconds": history["train_seconds"],
        "wall_seconds": wall_seconds,
        "evaluation_seconds": time.perf_counter() - started - wall_seconds,
        "stopped": history["stopped"] or "max_steps",
        "bit_reproducible": settings.max_seconds is None,  # a time budget's last step (and a cosine's rates) follow the machine's speed
        "resumed_from": str(Path(resume_from).resolve()) if resume_from else None,
        "n_parameters": model.n_parameters,
        "final_losses": history["losses"][-1] if history["losses"] else None,
        **results,
        **model.summary(for_model(data, data.train)),
    }
    write_json(run_dir / "metrics.json", metrics)
    return metrics

"""Train a GAN or WGAN with the shared loop, then write the run's outputs.

Order matters for a crash, as for one-call fits: the loop writes checkpoints and
metrics.jsonl as it goes; at the end come the figures, the resolved config.yaml, and
metrics.json last, so a folder with metrics.json is a finished run.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import torch
from omegaconf import OmegaConf

from genlab.checkpoint import atomic_write, write_json
from genlab.errors import config_key
from genlab.metrics import kde_of_samples, real_data_quality, sample_quality
from genlab.metrics.report import headline, table
from genlab.plots.critic import plot_critic
from genlab.plots.density import plot_density
from genlab.plots.samples import plot_samples
from genlab.plots.snapshots import plot_snapshots
from genlab.plots.training import plot_training
from genlab.training.fit import run_header
from genlab.training.loop import TrainerSettings, train
from genlab.training.resume import load_compatible

log = logging.getLogger("genlab")


def train_and_write(model, data, device, config: dict, run_dir: Path, resume_from: Path | None = None) -> dict:
    """Build or restore `model`, train it to trainer.max_steps, evaluate and write everything."""
    run_dir, seed, n_eval = Path(run_dir), config["seed"], config["n_eval"]
    with config_key("trainer."):
        settings = TrainerSettings(**config["trainer"])
    resume = None
    if resume_from is not None:
        resume = load_compatible(resume_from, config, model, device)
        model.load_state_dict(resume["model_state"])
        log.info("resuming from %s at step %d", resume_from, resume["step"])
    else:
        model.build(data.dim, device)
    real = real_data_quality(data, n_eval, seed)

    def evaluate(model):
        """Both generators on the same latent draws every time, so curves compare step to step."""
        record = {"model": sample_quality(model.sample(n_eval, _eval_rng(model, seed)), data)}
        line = headline(record["model"])
        if model.generator_ema is not None:
            record["raw_generator"] = sample_quality(model.sample(n_eval, _eval_rng(model, seed), raw=True), data)
            line += f" (raw generator: {headline(record['raw_generator'])})"
        return record, line

    started = time.perf_counter()
    history = train(model, data.train.to(device), settings, seed=seed, run_dir=run_dir, config=config, evaluate=evaluate, resume=resume)
    wall_seconds = time.perf_counter() - started
    final = history["evals"][-1] if history["evals"] and history["evals"][-1]["step"] == model.steps_trained_ else None
    if final is None:
        record, _ = evaluate(model)
        final = {"step": model.steps_trained_, **record}
    if "raw_generator" in final:
        columns = {"averaged generator": final["model"], "raw generator": final["raw_generator"], "real data": real}
    else:
        columns = {"generator": final["model"], "real data": real}
    log.info("sample quality on %d samples against %d held-out points:\n%s", n_eval, len(data.test), table(columns))

    label = f"{model.label} kde"
    plot_density(kde_of_samples(model.sample(n_eval, _eval_rng(model, seed)), label=label), data, run_dir / "density.png")
    plot_critic(model, data, run_dir / "critic.png")
    plot_training(history, model, run_dir / "training.png")
    plot_snapshots(history["snapshots"], data, model.label, run_dir / "snapshots.png")
    plot_samples(model, data, run_dir / "samples.png")
    metrics = {
        **run_header(model, data, device),
        "steps": model.steps_trained_,
        "train_seconds": history["train_seconds"],
        "wall_seconds": wall_seconds,
        "stopped": history["stopped"] or "max_steps",
        "resumed_from": str(Path(resume_from).resolve()) if resume_from else None,
        "n_parameters": model.n_parameters,
        "final_losses": history["losses"][-1] if history["losses"] else None,
        "samples": {"n": n_eval, "model": final["model"], **({"raw_generator": final["raw_generator"]} if "raw_generator" in final else {}), "real_data": real},
        **model.summary(data.train),
    }
    atomic_write(run_dir / "config.yaml", lambda handle: handle.write(OmegaConf.to_yaml(config).encode()))
    write_json(run_dir / "metrics.json", metrics)
    return metrics


def _eval_rng(model, seed: int) -> torch.Generator:
    return torch.Generator(model.device).manual_seed(seed)

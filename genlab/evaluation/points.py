"""What a trained model's run measures and draws on 1D/2D point data.

Every evaluation scores samples against held-out points (MMD, sliced W1, mode
coverage; both generators of a GAN/WGAN on the same latent draws, so curves compare
step to step); the end adds the likelihoods of a model with log_prob and the figures:
its own density where exact, else the "GAN kde" of samples, samples, training curves,
snapshots, and the figures the model asks for (the critic's map, the VAE's pushforwards).
"""

from __future__ import annotations

import logging

import torch

from genlab.metrics import kde_of_samples, likelihood_metrics, real_data_quality, sample_quality
from genlab.metrics.report import headline, table
from genlab.plots.density import plot_density
from genlab.plots.model_figures import draw_model_figures
from genlab.plots.samples import plot_samples
from genlab.plots.snapshots import plot_snapshots
from genlab.plots.training import plot_training

log = logging.getLogger("genlab")


class PointReport:
    def __init__(self, model, data, config: dict):
        self.model, self.data = model, data
        self.seed, self.n_eval, self.n_fresh = config["seed"], config["n_eval"], config["n_fresh"]
        self.has_raw = model.has_raw_samples
        self.real = real_data_quality(data, self.n_eval, self.seed)

    def _samples(self, raw: bool = False) -> torch.Tensor:
        rng = torch.Generator(self.model.device).manual_seed(self.seed)
        return self.model.sample(self.n_eval, rng, raw=True) if raw else self.model.sample(self.n_eval, rng)

    def evaluate(self, model) -> tuple[dict, str]:
        record = {"model": sample_quality(self._samples(), self.data)}
        line = headline(record["model"])
        if self.has_raw:
            record["raw_generator"] = sample_quality(self._samples(raw=True), self.data)
            line += f" (raw generator: {headline(record['raw_generator'])})"
        return record, line

    def finish(self, history: dict, run_dir) -> dict:
        """Final sample quality (and likelihoods where the model has them), figures; metrics.json's entries."""
        model, data = self.model, self.data
        final = history["evals"][-1] if history["evals"] and history["evals"][-1]["step"] == model.steps_trained_ else None
        if final is None:
            record, _ = self.evaluate(model)
            final = {"step": model.steps_trained_, **record}
        names = {"model": "averaged generator", "raw_generator": "raw generator"} if self.has_raw else {"model": model.label.lower()}
        columns = {name: final[key] for key, name in names.items()}
        log.info("sample quality on %d samples against %d held-out points:\n%s", self.n_eval, len(data.test), table({**columns, "real data": self.real}))
        results = {"samples": {"n": self.n_eval, **{k: final[k] for k in names}, "real_data": self.real}}
        if model.has_log_prob:
            results.update(likelihood_metrics(model, data, self.n_fresh))
            log.info("test log-likelihood (%s) %.4f nats/point", model.log_prob_name, results["test_log_likelihood"])

        # The model's own density where it is exact; else the lecture's "GAN kde" of its samples, labelled so.
        shown = model if model.has_log_prob and model.log_prob_is_exact else kde_of_samples(self._samples(), label=f"{model.label} kde")
        plot_density(shown, data, run_dir / "density.png")
        plot_training(history, model, run_dir / "training.png")
        plot_snapshots(history["snapshots"], data, model.label, run_dir / "snapshots.png")
        plot_samples(model, data, run_dir / "samples.png")
        draw_model_figures(model, data, run_dir)
        return results

"""What a trained model's run measures and draws on 1D/2D point data.

Every evaluation scores samples against held-out points (MMD, sliced W1, mode
coverage; both generators of a GAN/WGAN on the same latent draws, so curves compare
step to step); the end adds the VAE's likelihoods and the figures: the "GAN kde"
density of samples, samples, training curves, snapshots, and per model the critic's
map or the VAE's pushforwards x^_i ~ g#mu_i.
"""

from __future__ import annotations

import logging

import torch

from genlab.metrics import kde_of_samples, likelihood_metrics, real_data_quality, sample_quality
from genlab.metrics.report import headline, table
from genlab.plots.density import plot_density
from genlab.plots.samples import plot_samples
from genlab.plots.snapshots import plot_snapshots
from genlab.plots.training import plot_training

log = logging.getLogger("genlab")


class PointReport:
    def __init__(self, model, data, config: dict):
        self.model, self.data = model, data
        self.seed, self.n_eval, self.n_fresh = config["seed"], config["n_eval"], config["n_fresh"]
        self.has_raw = getattr(model, "generator_ema", None) is not None
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
            log.info("test log-likelihood (IWAE, k=%d) %.4f nats/point", model.iwae_k, results["test_log_likelihood"])

        plot_density(kde_of_samples(self._samples(), label=f"{model.label} kde"), data, run_dir / "density.png")
        plot_training(history, model, run_dir / "training.png")
        plot_snapshots(history["snapshots"], data, model.label, run_dir / "snapshots.png")
        plot_samples(model, data, run_dir / "samples.png")
        if hasattr(model, "critic_value"):
            from genlab.plots.critic import plot_critic

            plot_critic(model, data, run_dir / "critic.png")
        if hasattr(model, "pushforward"):
            from genlab.plots.pushforward import plot_pushforward

            plot_pushforward(model, data, run_dir / "pushforward.png")
        return results

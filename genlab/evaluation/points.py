"""What a run measures and draws on 1D/2D point data, for every model: one path, whether
the model fits in one call (kde, gmm) or is trained step by step.

Every evaluation during training scores samples against held-out points (MMD, sliced W1,
mode coverage; both generators of a GAN/WGAN on the same latent draws, so curves compare
step to step). The final evaluation adds, on the same samples, the metrics registered
`final_only` (precision and recall, density and coverage, KID, the classifier two-sample
test, memorization: their cost is for once a run), and prints the model beside real data
and the reference rows that fool the metrics (genlab.metrics.reference_rows). The end adds,
for every model: the likelihoods where it has log_prob, the samples of a Langevin `sampler`
where one is chosen, and the figures: its own density where exact, else the "GAN kde" of
its samples (labelled so), samples, and the figures the model asks for (the critic's map,
the VAE's pushforwards, the GMM's EM curve); trained models also get their training curves
and snapshots.
"""

from __future__ import annotations

import logging
import time

import torch

from genlab.evaluation.file_units import in_model_units
from genlab.metrics import kde_of_samples, likelihood_metrics, reference_rows, sample_quality
from genlab.metrics.report import headline, table
from genlab.plots.animation import animation_grid, frame, plot_animation
from genlab.plots.density import plot_density
from genlab.plots.model_figures import draw_model_figures
from genlab.plots.pairs import plot_pairs
from genlab.plots.samples import plot_samples
from genlab.plots.snapshots import plot_snapshots
from genlab.plots.training import plot_training
from genlab.sampling import LangevinSettings, langevin_samples
from genlab.sampling.chains import DISPLAY_NAMES

log = logging.getLogger("genlab")
ROW_TITLES = {"memorizer": "memorizer", "mode_dropped": "mode-dropped", "blurred": "blurred", "noise": "noise"}


class PointReport:
    """`sampler`: Langevin settings whose chains' samples are scored (samples.langevin) and
    drawn in samples.png beside the direct samples' numbers; None for the model's own.
    config["all_metrics_every_eval"] (absent: false): the final-only metrics at every
    training evaluation too."""

    def __init__(self, model, data, config: dict, sampler: LangevinSettings | None = None):
        self.model, self.data, self.sampler = model, data, sampler
        self.seed, self.n_eval, self.n_fresh = config.get("seed", 0), config["n_eval"], config["n_fresh"]
        self.every = bool(config.get("all_metrics_every_eval", False))
        animate = config.get("trainer", {}).get("animation", True) and data.dim in (1, 2)
        self.frames, self.frame_grid, self.animation_seconds = [], animation_grid(data) if animate else None, 0.0
        for reason in left_out(data):
            log.info("%s", reason)

    def _rng(self) -> torch.Generator:
        return torch.Generator(self.model.device).manual_seed(self.seed)

    def evaluate(self, model, final: bool = False, known: dict | None = None) -> tuple[dict, str]:
        """Sample quality of the model (and of a GAN's raw generator) at one step of training;
        `final`: with the final-only metrics; `known`: this step's record already computed
        (the values it holds are kept, the samples drawn again from the same seed)."""
        known, final = known or {}, final or self.every
        samples = self.model.sample(self.n_eval, self._rng())
        record = {"model": sample_quality(samples, self.data, final, known.get("model"))}
        if self.frame_grid is not None:
            started = time.perf_counter()
            self.frames.append(frame(self.model, samples, self.frame_grid))
            self.animation_seconds += time.perf_counter() - started
        line = headline(record["model"])
        if self.model.has_raw_samples:
            record["raw_generator"] = sample_quality(self.model.sample(self.n_eval, self._rng(), raw=True), self.data, final, known.get("raw_generator"))
            line += f" (raw generator: {headline(record['raw_generator'])})"
        return record, line

    def finish(self, history: dict | None, run_dir) -> dict:
        """Final sample quality, likelihoods and figures: metrics.json's entries.
        `history`: the training loop's (None for a model fit in one call)."""
        model, data = self.model, self.data
        evals = history["evals"] if history else []
        self.frame_grid, frames_grid = None, self.frame_grid  # the training's frames are all in: no more from here
        last = evals[-1] if evals and evals[-1]["step"] == model.steps_trained_ else None
        final = self.evaluate(model, final=True, known=last)[0]
        references = reference_rows(data, self.n_eval, self.seed)  # real data and the rows that fool metrics, cached: they depend on the data only
        real = references.pop("real_data")
        names = {"model": "averaged generator", "raw_generator": "raw generator"} if model.has_raw_samples else {"model": model.label.lower()}
        results = {"samples": {"n": self.n_eval, **{key: final[key] for key in names}, "real_data": real, **references}}
        columns = {name: final[key] for key, name in names.items()}
        chains = None
        if self.sampler is not None:
            rng = self._rng()
            model.sample(self.n_eval, rng)  # the chains' stream continues after the direct samples'
            chains, results["samples"]["sampler"] = langevin_samples(model, data, self.sampler, self.n_eval, rng)
            results["samples"]["langevin"] = columns[self.sampler.name] = sample_quality(chains, data, final=True)
            log.info("%s sampler: %s", self.sampler.name, results["samples"]["sampler"])
        log.info("sample quality on %d samples against %d held-out points:\n%s", self.n_eval, len(data.test), table({**columns, "real data": real, **{ROW_TITLES[k]: v for k, v in references.items()}}))
        if model.has_log_prob:
            results.update(likelihood_metrics(model, data, self.n_fresh))
            log.info("test log-likelihood (%s) %.4f nats/point", model.log_prob_name, results["test_log_likelihood"])

        # The model's own density where it is exact; else the lecture's "GAN kde" of its samples, labelled so.
        exact = model.has_log_prob and model.log_prob_is_exact
        shown = model if exact else kde_of_samples(model.sample(self.n_eval, self._rng()), label=f"{model.label} kde")
        plot_density(shown, data, run_dir / "density.png")
        if history is not None:
            self._animate(history, frames_grid, run_dir, results)
            plot_training(history, model, run_dir / "training.png")
            snapshots = [{**s, "samples": data.standardization.to_file(s["samples"])} if data.standardization else s
                         for s in history["snapshots"]]  # the loop drew them in the model's units
            plot_snapshots(snapshots, data, model.label, run_dir / "snapshots.png")
        title = None if self.sampler is None else f"{DISPLAY_NAMES[self.sampler.name]} samples, {model.label}"
        plot_samples(model, data, run_dir / "samples.png", samples=chains, title=title)
        if data.dim > 2:
            plot_pairs(model.sample(self.n_eval, self._rng()) if chains is None else chains, data, run_dir / "pairs.png", model.label)
        draw_model_figures(*in_model_units(model, data), run_dir)
        return results


    def _animate(self, history: dict, grid, run_dir, results: dict) -> None:
        """training.gif from the frames of this process's evaluations (a resumed run's start
        from where it resumed), its cost in metrics.json's `animation`."""
        frames = [{**f, "step": e["step"]} for f, e in zip(self.frames, history["evals"][len(history["evals"]) - len(self.frames):])]
        if grid is None or not frames:
            return
        started = time.perf_counter()
        path = plot_animation(frames, self.data, self.model.label, run_dir / "training.gif")
        seconds = self.animation_seconds + time.perf_counter() - started
        results["animation"] = {"frames": len(frames), "bytes": path.stat().st_size, "seconds": round(seconds, 3)}
        log.info("training.gif: %d frames, %.2f MB, %.1f s to draw", len(frames), path.stat().st_size / 2**20, seconds)


def left_out(data) -> list[str]:
    """What a run on `data` cannot measure, and why, in one line (none for sets that draw
    fresh points and know their density)."""
    missing, lines = [], []
    if not data.can_draw:
        missing.append("no fresh draws")
        lines.append(f"the real-data row scores one half of its {len(data.test)} held-out points against the other half, as do the reference rows")
    if not data.has_density:
        missing.append("no known density")
        lines.append("the true test log-likelihood, the KL estimate and the true log-density of the samples are left out")
    return [f"{data.name} has {' and '.join(missing)}: {'; '.join(lines)}"] if missing else []

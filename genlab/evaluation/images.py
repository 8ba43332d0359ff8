"""What a trained model's run measures and draws on image data (MNIST).

During training, a cheap progress number on 1,000 validation images: a bound the model
declares (the VAE's ELBO), else its exact log-likelihood (a flow's), else the Parzen
log-likelihood under 1,000 samples (GAN/WGAN). At the end, on n_eval
samples (`image_eval` picks the parts): the Parzen protocol of Goodfellow et al. 2014,
the domain classifier's class coverage and Fréchet distance, the sample metrics on its
features (precision/recall, density/coverage, KID, memorization: metrics.json's
classifier.<name>), and for the VAE the test ELBO and the IWAE estimate of log p(x), for a
model with an exact density its test log-likelihood and bits per dimension; each beside the
same numbers for real training and held-out images, the memorizer, mode-dropped and blurred
images and noise (computed once per setting and cached, see `references`). The Parzen
and classifier rows of the log table are their registered metrics' (genlab.metrics.registry).
Validation and test subsets (image_eval.n_test) are random, never the first rows.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path

import torch

from genlab.errors import ConfigError, check_positive
from genlab.metrics.ais import AISSettings, ais_log_likelihood, bdmc_gap, decoder_for
from genlab.metrics.classifier import N_CLASSES
from genlab.metrics.parzen import parzen_report, select_sigma
from genlab.metrics.registry import IMAGES, metrics
from genlab.metrics.report import as_results
from genlab.metrics.standard_error import standard_error
from genlab.plots.images import plot_image_samples, plot_image_snapshots
from genlab.plots.model_figures import draw_model_figures
from genlab.plots.training import plot_training
from genlab.evaluation.references import classifier_report, domain_classifier, feature_space, image_references

log = logging.getLogger("genlab")
QUICK = 1000  # validation images (and samples) behind the evaluation during training
SUBSET_SEED = 2718  # the random validation/test subsets, the same for every run
PARTS = ("parzen", "classifier", "references", "ais")
SIZES = ("n_test", "ais_images", "ais_steps", "bdmc_points")  # integers >= 1 (bdmc_points >= 0), or null: the default


def check_image_eval(options: dict) -> dict:
    """Validate the `image_eval` config node: four switches and the sizes."""
    options = dict(options)
    unknown = set(options) - {*PARTS, *SIZES}
    if unknown:
        raise ConfigError(f"image_eval.{sorted(unknown)[0]} is not a key; allowed: {', '.join((*PARTS, *SIZES))}")
    for part in PARTS:
        if not isinstance(options.get(part), bool):
            raise ConfigError(f"image_eval.{part} must be true or false (got {options.get(part)!r})")
    for size in SIZES:
        if options.get(size) is not None:
            value = options[size]
            if size == "bdmc_points" and value == 0:
                continue
            options[size] = check_positive(f"image_eval.{size}", value, integer=True)
    return options


class ImageReport:
    def __init__(self, model, data, config: dict, device):
        self.model, self.data = model, data
        self.seed, self.n_eval = config["seed"], config["n_eval"]
        self.options = check_image_eval(config["image_eval"])
        n_test = min(self.options["n_test"] or len(data.test), len(data.test))
        generator = torch.Generator().manual_seed(SUBSET_SEED)
        self.validation = data.validation[torch.randperm(len(data.validation), generator=generator)[:n_test]]
        self.test_order = torch.randperm(len(data.test), generator=generator)[:n_test]
        self.test = data.test[self.test_order]
        self.quick = self.validation[:QUICK].to(device)

    def _rng(self) -> torch.Generator:
        return torch.Generator(self.model.device).manual_seed(self.seed)

    def evaluate(self, model) -> tuple[dict, str]:
        if model.bound_name:
            value = model.bound(self.quick, self._rng()).mean().item()
            return ({"model": {f"validation_{model.bound_name.lower()}": value}},
                    f"{model.bound_name} on {len(self.quick)} validation images {value:.2f} nats")
        if model.has_log_prob and model.log_prob_is_exact:
            value = model.log_prob(self.quick).mean().item()
            return ({"model": {"validation_log_likelihood": value}},
                    f"log-likelihood of {len(self.quick)} validation images {value:.1f} nats ({bits_per_dim(value, self.data.dim):.3f} bits/dim)")
        sigma, means = select_sigma(model.sample(len(self.quick), self._rng()), self.quick)
        value = max(means)
        return {"model": {"validation_parzen": value, "sigma": sigma}}, f"Parzen log-likelihood of {len(self.quick)} validation images under {len(self.quick)} samples {value:.1f} nats (σ {sigma:.3f})"

    def finish(self, history: dict, run_dir: Path) -> dict:
        model, data, options = self.model, self.data, self.options
        samples = model.sample(self.n_eval, self._rng()).cpu()
        results = {"images": {"n_samples": self.n_eval, "n_validation": len(self.validation), "n_test": len(self.test), "binarize": data.binarize}}
        rows = []
        if model.bound_name:
            bound, name = model.bound(self.test, self._rng()).cpu(), model.bound_name
            results.update({f"test_{name.lower()}": bound.mean().item(), f"test_{name.lower()}_standard_error": standard_error(bound)})
            rows.append((f"test {name} (nats)", f"{bound.mean():.2f} ± {standard_error(bound):.2f}"))
        if model.has_log_prob:
            log_p = (model.log_prob(self.test) if model.log_prob_is_exact else model.log_prob(self.test, self._rng())).cpu()
            results.update({"test_log_likelihood": log_p.mean().item(), "test_log_likelihood_standard_error": standard_error(log_p)})
            rows.append((f"test log p(x), {model.log_prob_name} (nats)", f"{log_p.mean():.2f} ± {standard_error(log_p):.2f}"))
            if model.log_prob_is_exact and data.binarize == "none":
                bits = bits_per_dim(log_p, data.dim)
                results.update({"test_bits_per_dim": bits.mean().item(), "test_bits_per_dim_standard_error": standard_error(bits)})
                rows.append(("test bits per dimension (8-bit pixels)", f"{bits.mean():.3f} ± {standard_error(bits):.3f}"))
        if options["ais"] and (ais := self._ais(rows)):
            results["ais"] = ais
        if options["classifier"] and (reason := classifier_refusal(data)):
            log.info("no class coverage or Fréchet distance: %s", reason)
            options = {**options, "classifier": False}
        test_grey = data.grey().test[self.test_order] if options["classifier"] else None
        n_real = min(self.n_eval, len(data.train))  # a small file of images has fewer than n_eval to put beside the samples
        if options["references"] and n_real < self.n_eval:
            log.info("the real-images reference uses all %d training images of %s (n_eval is %d)", n_real, data.name, self.n_eval)
        # The test and training images' features once, for the model's samples and every reference row.
        space = feature_space(data, domain_classifier(data), test_grey, n_real) if options["classifier"] else None
        references = image_references(data, self.validation, self.test, test_grey, n_real, options, space) if options["references"] else {}
        if options["parzen"]:
            results["parzen"] = parzen_report(samples, self.validation, self.test)
        if options["classifier"]:
            started = time.perf_counter()
            results["classifier"] = classifier_report(space.classifier, samples, space)
            log.info("class coverage, Fréchet distance and feature metrics of the %d samples in %.1f s", self.n_eval, time.perf_counter() - started)
        rows += _metric_rows(results, [as_results(r) for r in references.values()])
        if references:
            results["references"] = references
        self._log_table(rows, list(references))

        plot_image_samples(samples[:100], data.train[:100], data.image_shape, model.label, run_dir / "samples.png")
        plot_image_snapshots(history["snapshots"], data.image_shape, model.label, run_dir / "snapshots.png")
        plot_training(history, model, run_dir / "training.png")
        draw_model_figures(model, data, run_dir)
        return results

    def _ais(self, rows: list) -> dict | None:
        """Annealed importance sampling's lower bound on log p(x) of the first image_eval.ais_images
        test images (genlab.metrics.ais: a GAN's observation noise chosen on validation images),
        and its gap by BDMC on image_eval.bdmc_points images simulated from the model (0: none)."""
        model, options = self.model, self.options
        if model.has_log_prob and model.log_prob_is_exact:
            log.info("no AIS: %s has an exact log-likelihood", model.label)
            return None
        settings = AISSettings() if options["ais_steps"] is None else AISSettings(n_steps=options["ais_steps"])
        rng = torch.Generator().manual_seed(self.seed)
        decoder = decoder_for(model, validation=self.validation, generator=rng)
        report = ais_log_likelihood(decoder, self.test[: options["ais_images"]].to(model.device), settings, rng)
        report.pop("per_point")
        if decoder.sigma_selection:
            report["sigma_selection"] = {f"{s:g}": value for s, value in decoder.sigma_selection.items()}
        rows.append(("test log p(x), AIS lower bound (nats)", f"{report['mean']:.2f} ± {report['standard_error']:.2f}"))
        if options["bdmc_points"]:
            gap = bdmc_gap(decoder, options["bdmc_points"], settings, rng)
            report["bdmc"] = {"gap": gap["gap"], "gap_standard_error": gap["gap_standard_error"], "n_points": gap["n_points"],
                              "lower": gap["lower"]["mean"], "upper": gap["upper"]["mean"], "seconds": gap["seconds"]}
            rows.append(("AIS's BDMC gap on simulated images (nats)", f"{gap['gap']:.2f} ± {gap['gap_standard_error']:.2f}"))
        log.info("AIS on %d test images in %.0f s%s", report["n_points"], report["seconds"],
                 f" (observation noise σ {report['sigma']:g}, chosen on validation images)" if "sigma" in report else "")
        return report

    def _log_table(self, rows: list[tuple], reference_names: list[str]) -> None:
        if not rows:
            return
        header = ("", self.model.label, *(name.replace("_", " ") for name in reference_names))
        widths = [max(len(str(row[i])) if i < len(row) else 0 for row in [header, *rows]) for i in range(len(header))]
        lines = ["  ".join(str(cell).rjust(w) if i else str(cell).ljust(w) for i, (cell, w) in enumerate(zip(row, widths))) for row in [header, *rows]]
        log.info("image metrics on %d samples (test: %d images, binarize=%s):\n%s", self.n_eval, len(self.test), self.data.binarize, "\n".join(lines))


def classifier_refusal(data) -> str | None:
    """Why the domain classifier (a CNN on 28 x 28 grey images of 10 classes) cannot judge
    `data`'s samples, or None when it can."""
    if not data.has_labels:
        return f"{data.name} has no labels to train the domain classifier on (data.labels)"
    if tuple(data.image_shape) != (1, 28, 28):
        return f"the domain classifier reads 28 x 28 grey images; {data.name}'s are {' x '.join(map(str, data.image_shape))} (channels x height x width)"
    highest = max(int(labels.max()) for labels in (data.train_labels, data.test_labels))
    if highest >= N_CLASSES:
        return f"the domain classifier has {N_CLASSES} classes; {data.name}'s labels run to {highest}"
    return None


def bits_per_dim(log_p, dim: int):
    """Bits per dimension of 8-bit images from the log-density (nats) of their pixels scaled to
    [0, 1] and dequantized (as a flow models them): the density of the pixels in [0, 256)
    is 256^-D times it, so bits/dim = (D ln 256 - log p) / (D ln 2) = 8 - log p / (D ln 2)."""
    return 8 - log_p / (dim * math.log(2))


def _metric_rows(results: dict, references: list[dict]) -> list[tuple]:
    """A row per label of each registered image metric measured: the model's cell, then each
    reference's where it has one (a missing last cell is left off, as the table shows it)."""
    rows = []
    for metric in metrics(IMAGES):
        if metric.name in results:
            theirs = [metric.rows(r[metric.name]) if metric.name in r else {} for r in references]
            for label, text in metric.rows(results[metric.name]).items():
                cells = [their.get(label, "") for their in theirs]
                while cells and not cells[-1]:
                    cells.pop()
                rows.append((label, text, *cells))
    return rows

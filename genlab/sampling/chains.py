"""Langevin samples of a fitted model with an exact, differentiable density (kde, gmm, flow): the `sampler` config group, the chains'
starting points, and one call that runs them on the model's log-density."""

from __future__ import annotations

import torch

from genlab.errors import check_choice, config_key
from genlab.models.base import GenerativeModel
from genlab.sampling.langevin import LangevinSettings, langevin_sample
from genlab.sampling.log_density import check_differentiable, log_density, smallest_variance

SAMPLERS = ("direct", "langevin", "mala")
AUTO_STEP_FRACTION = 0.1  # step_size=auto: this share of the model's smallest variance
DISPLAY_NAMES = {"direct": "direct samples", "langevin": "Langevin (ULA)", "mala": "MALA"}


def sampler_from_config(sampler_cfg, model) -> LangevinSettings | None:
    """The run's sampler settings (None: the model's own sample), refused before any fit
    when a value is bad or the model has no log-density to differentiate."""
    name = check_choice("sampler.name", (sampler_cfg or {}).get("name", "direct"), SAMPLERS)
    if name == "direct":
        return None
    with config_key("sampler."):
        settings = LangevinSettings(sampler_cfg.step_size, sampler_cfg.n_steps, metropolis=name == "mala", init=sampler_cfg.init)
    check_differentiable(model, name)
    if settings.step_size == "auto" and type(model).smallest_variance is GenerativeModel.smallest_variance:
        smallest_variance(model)  # refused here, before the fit or the training, naming sampler.step_size
    return settings


def starting_points(init: str, data, n: int, generator: torch.Generator, device, dtype=torch.float32) -> torch.Tensor:
    """n chain starts: `noise` uniform over the data's box (Dataset.bounds), `data`
    training points drawn at random with replacement."""
    if init == "data":
        train = data.train.to(device, dtype)
        return train[torch.randint(len(train), (n,), generator=generator, device=device)]
    lo, hi = (bound.to(device, dtype) for bound in data.bounds())
    return lo + (hi - lo) * torch.rand(n, data.dim, generator=generator, device=device, dtype=dtype)


def langevin_samples(model, data, settings: LangevinSettings, n: int, generator: torch.Generator):
    """n Langevin (or MALA) samples of the fitted model, and what the run reports of them:
    the sampler's name, its settings (step_size resolved from auto) and, for MALA, the
    acceptance rate."""
    step_size = settings.step_size
    if step_size == "auto":
        step_size = AUTO_STEP_FRACTION * smallest_variance(model)
    x0 = starting_points(settings.init, data, n, generator, generator.device, data.train.dtype)
    with config_key("sampler."):
        samples, info = langevin_sample(log_density(model), x0, step_size, settings.n_steps, settings.metropolis, generator)
    return samples, {"name": settings.name, "init": settings.init, "auto_step_size": settings.step_size == "auto", **info}

"""The log-density Langevin and MALA follow, asked of the model through its protocol.

A model gives a differentiable copy of its log-density (`differentiable_log_prob`), says
before the fit why a sampler cannot follow it (`langevin_refusal`), and knows its narrowest
spread for an automatic step (`smallest_variance`); nothing here knows which model it holds.
"""

from __future__ import annotations

from genlab.errors import ConfigError


def check_differentiable(model, sampler: str) -> None:
    """Refuse, before any fit, a model whose log-density gives Langevin no score."""
    if problem := model.langevin_refusal(sampler):
        raise ConfigError(problem)


def log_density(model):
    """A function (n, d) -> (n,) equal to model.log_prob, through which autograd passes."""
    check_differentiable(model, "langevin")
    model._check_fitted()
    return model.differentiable_log_prob()


def smallest_variance(model) -> float:
    """The model's narrowest spread, which bounds a stable step (ULA diverges on a Gaussian
    of variance s^2 once eps > 2 s^2); refused in one line where the model cannot tell."""
    variance = model.smallest_variance()
    if variance is None:
        raise ConfigError(f"sampler.step_size=auto needs the model's narrowest spread, which {type(model).__name__.lower()} "
                          "cannot tell; give sampler.step_size a number")
    return variance

"""A model fit on standardized points (data.standardize=true, genlab.data.standardize)
seen in the file's units, as the run's metrics and plots and `load_run` see it:

    x = shift + scale * z,    log p(x) = log q(z) - sum(log scale).

The model's own figures (a critic's map, a VAE's pushforwards, a GMM's EM curve) are drawn
in the standardized coordinates it was fit in, where its networks live.
"""

from __future__ import annotations

import torch

from genlab.data.standardize import Standardization
from genlab.models.base import GenerativeModel


class InFileUnits(GenerativeModel):
    """A model fit on standardized points, seen in the file's units; everything else it
    offers (its label, what it declares, its state, its own methods) is the model's."""

    def __init__(self, model: GenerativeModel, standardization: Standardization):
        self.model, self.standardization = model, standardization

    def __getattr__(self, name):
        if name in ("model", "standardization"):  # not set yet (copying, unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.model, name)

    def state_dict(self) -> dict:
        return self.model.state_dict()

    def load_state_dict(self, state: dict) -> "InFileUnits":
        self.model.load_state_dict(state)
        return self

    def summary(self, x: torch.Tensor) -> dict:
        return self.model.summary(self.standardization.to_model(x))

    def sample(self, n: int, generator: torch.Generator | None = None, **options) -> torch.Tensor:
        return self.standardization.to_file(torch.as_tensor(self.model.sample(n, generator, **options)))

    def log_prob(self, x: torch.Tensor, *args, **options) -> torch.Tensor:
        return self.model.log_prob(self.standardization.to_model(torch.as_tensor(x)), *args, **options) - self.standardization.log_det

    def bound(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.model.bound(self.standardization.to_model(torch.as_tensor(x)), generator) - self.standardization.log_det

    def differentiable_log_prob(self):
        inner, standardization = self.model.differentiable_log_prob(), self.standardization
        return lambda x: inner(standardization.to_model(x)) - standardization.log_det

    def smallest_variance(self) -> float | None:
        variance = self.model.smallest_variance()
        return None if variance is None else variance * float(self.standardization.scale.min()) ** 2

    def figures(self, data) -> dict[str, str]:
        return {}  # drawn in the model's own units: genlab.evaluation.points


# What a model declares, and its fitted state, are the model's own (GenerativeModel's class
# attributes would otherwise answer for it).
for _name in ("label", "has_log_prob", "log_prob_is_exact", "bound_name", "has_raw_samples", "steps_trained_",
              "log_prob_name", "n_parameters", "is_fitted", "device", "fitted_state", "array_type_"):
    setattr(InFileUnits, _name, property(lambda self, name=_name: getattr(self.model, name)))


def in_model_units(model, data):
    """(the model itself, the data in its units) for figures drawn in the model's coordinates."""
    if not isinstance(model, InFileUnits):
        return model, data
    from genlab.data.points import Points

    to_model, names = model.standardization.to_model, data.columns or [f"x{i + 1}" for i in range(data.dim)]
    return model.model, Points(to_model(data.train), to_model(data.test), name=data.name, columns=[f"{c} (standardized)" for c in names])


def in_file_units(model, data):
    """The model as the run's metrics and plots see it: in the data's own units."""
    return model if data.standardization is None else InFileUnits(model, data.standardization)


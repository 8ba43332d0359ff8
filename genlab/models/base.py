"""The small protocol every genlab model answers, written once so that plots, metrics,
checkpoints and the CLI never need to know which model they hold."""

from __future__ import annotations

import torch

from genlab.errors import ConfigError, check_finite_tensor
from genlab.models.estimator import Estimator, array_type_in


class GenerativeModel(Estimator):
    """fit(x) -> self; sample(n) -> (n, dim); log_prob(x) -> (n,) where a density exists.

    A model writes these on tensors; results come out on the device the model was fit on.
    `Estimator` (genlab.models.estimator) adds scikit-learn's conventions on top, numpy
    arrays in and out included. A model lists in `fitted_state` the attributes that `fit`
    sets; `state_dict` and `load_state_dict` save and restore exactly those (and the kind
    of array `sample` returns), as plain tensors, numbers and strings (so checkpoints load
    with `torch.load(weights_only=True)`).
    """

    abstract = True  # a base for models, not a model: genlab.models.registry skips it

    fitted_state: tuple[str, ...] = ()
    label = "model"  # how plot titles name it, in the lecture's words
    # What the model offers, declared, so reports ask instead of probing for attributes:
    has_log_prob = True        # log_prob(x) exists
    log_prob_is_exact = True   # ... and is the density itself; False: an estimate or bound,
    #                            drawn from log_prob(x, generator) (a VAE's IWAE bound)
    bound_name: str | None = None  # a per-point lower bound reported beside it (VAE: "ELBO"), from bound(x, generator)
    has_raw_samples = False    # sample(n, generator, raw=True) draws a second, raw sampler (GAN/WGAN without averaging)

    def fit(self, x: torch.Tensor) -> "GenerativeModel":
        raise NotImplementedError

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        raise NotImplementedError

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError(f"{type(self).__name__} has no tractable log-density")

    @property
    def log_prob_name(self) -> str:
        """How reports name what log_prob returns ("exact", or e.g. "IWAE k=1000")."""
        return "exact"

    def bound(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The per-point lower bound named by bound_name (when it names one)."""
        raise NotImplementedError(f"{type(self).__name__} reports no bound")

    def figures(self, data) -> dict[str, str]:
        """Figures only this model draws on `data`: {file name: "module:function"}, each
        called as function(model, data, path) after the run's common figures. None by default."""
        return {}

    def animation_map(self, x: torch.Tensor) -> torch.Tensor | None:
        """Values at the points x (a grid over the data's box) that training.gif shades
        under each frame's samples (a GAN's or WGAN's critic), or None: samples only."""
        return None

    def langevin_refusal(self, sampler: str) -> str | None:
        """Why `sampler` (langevin or mala) cannot sample this model, in one line naming the
        key (asked before the fit), or None: they need an exact log-density."""
        if self.has_log_prob and self.log_prob_is_exact:
            return None
        from genlab.models.registry import model_classes

        exact = [name.lower() for name, cls in model_classes().items() if cls.has_log_prob and cls.log_prob_is_exact]
        return (f"sampler must be direct for {type(self).__name__.lower()} (got {sampler!r}): langevin and mala follow "
                f"the gradient of an exact log-density, which only {' and '.join([', '.join(exact[:-1]), exact[-1]] if len(exact) > 1 else exact)} have")

    def differentiable_log_prob(self):
        """x -> log p(x) of the fitted model through which autograd passes (Langevin's
        score): log_prob itself by default; models whose log_prob is built for speed
        rather than autograd (kde, gmm) give a plain-torch copy."""
        return self.log_prob

    def smallest_variance(self) -> float | None:
        """The model's narrowest spread, which bounds a stable Langevin step (sampler.step_size=auto);
        None when the model cannot tell, and the step must be given."""
        return None

    steps_trained_ = 0  # training steps so far (models fit in one call have none)

    @property
    def device(self) -> torch.device:
        """Where the fitted tensors live (samples and log-densities come out there)."""
        self._check_fitted()
        return next(v.device for v in self.state_dict().values() if isinstance(v, torch.Tensor))

    @property
    def n_parameters(self) -> int:
        """Number of fitted numbers that define the model."""
        raise NotImplementedError

    def summary(self, x: torch.Tensor) -> dict:
        """Model-specific numbers for metrics.json (e.g. BIC for a mixture); none by default."""
        return {}

    @property
    def is_fitted(self) -> bool:
        return all(getattr(self, name, None) is not None for name in self.fitted_state)

    def state_dict(self) -> dict:
        self._check_fitted()
        return {**{name: getattr(self, name) for name in self.fitted_state}, "array_type": self.array_type_}

    def load_state_dict(self, state: dict) -> "GenerativeModel":
        missing = set(self.fitted_state) - set(state)
        if missing:
            raise ConfigError(f"checkpoint lacks {sorted(missing)} for {type(self).__name__}")
        for name in self.fitted_state:
            setattr(self, name, state[name])
        self.array_type_ = array_type_in(state)
        self._after_load()
        return self

    def _after_load(self) -> None:
        """Rebuild caches derived from the fitted state (nothing by default)."""

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise RuntimeError(f"{type(self).__name__} is not fitted yet: call fit(x) first")

    @staticmethod
    def _as_points(x: torch.Tensor, name: str = "x", dim: int | None = None) -> torch.Tensor:
        """Accept (n,) or (n, d) floating tensors; refuse NaN, inf and a wrong dimension."""
        x = torch.as_tensor(x)
        if not x.is_floating_point():
            x = x.to(torch.get_default_dtype())
        if x.dim() == 1:
            x = x[:, None]
        if x.dim() != 2 or x.shape[0] == 0:
            raise ConfigError(f"{name} must be a non-empty tensor of shape (n, d) (got {tuple(x.shape)})")
        if dim is not None and x.shape[1] != dim:
            raise ConfigError(f"{name} must have {dim} columns, as the data the model was fit on (got {x.shape[1]})")
        return check_finite_tensor(name, x)


def check_fitted_model(model, name: str = "model") -> GenerativeModel:
    """`model` when it is a fitted genlab model, else one line naming the argument (for
    the functions that take a model, such as the plots)."""
    if not isinstance(model, GenerativeModel):
        raise ConfigError(f"{name} must be a fitted genlab model, a GenerativeModel (got {type(model).__name__})")
    if not model.is_fitted:
        raise ConfigError(f"{name} must be fitted: call {name}.fit(x) first")
    return model

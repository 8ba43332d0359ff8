"""scikit-learn's estimator conventions for every genlab model, without importing it.

Mixed into `genlab.models.base.GenerativeModel`, so every model, a user's own included,
gets them by subclassing it and writing nothing more:

- `get_params()`, `set_params(**params)` and a repr, from the constructor's arguments
  exactly as they were given (`sklearn.base.clone` checks each one by identity, so a
  validator that turns 1 into 1.0 must not change what `get_params` returns);
- `fit(X, y=None)` (y is ignored), `score_samples(X)`, `score(X, y=None)` (the mean, not
  scikit-learn's KernelDensity sum) and `sample(n, random_state=...)`;
- numpy or torch in: an array-valued result has the kind of the points given (a tensor
  for a tensor, numpy for anything else), and `sample(n)` the kind the model was fit on.

It works by wrapping, once per class, the methods each class writes itself (see
`Estimator.__init_subclass__`), so the models keep writing plain torch code.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np
import torch

from genlab.arrays import NUMPY, TENSOR, as_kind, kind_of, to_tensor
from genlab.errors import ConfigError, check_choice

ARRAY_METHODS = ("log_prob", "bound")  # protocol methods of points, one value per row: their result has the points' kind


class Estimator:
    """get_params / set_params / repr, score_samples / score, and the numpy-or-torch glue."""

    array_type_ = TENSOR  # what fit was given ("torch" or "numpy"): the kind sample(n) returns

    def __init_subclass__(cls, **kwargs):
        """Wrap what this class writes itself: __init__ records its arguments, fit reads
        arrays, sample takes random_state, log_prob and bound answer in the points' kind."""
        super().__init_subclass__(**kwargs)
        own = vars(cls)
        if inspect.isfunction(own.get("__init__")):
            cls.__init__ = _recording_arguments(own["__init__"])
        if inspect.isfunction(own.get("fit")):
            cls.fit = _fitting_arrays(own["fit"])
        if inspect.isfunction(own.get("sample")):
            cls.sample = _sampling(own["sample"])
        for name in ARRAY_METHODS:
            if inspect.isfunction(own.get(name)):
                setattr(cls, name, like_input(own[name]))

    # -- parameters --------------------------------------------------------------------------

    def get_params(self, deep: bool = True) -> dict:
        """The constructor's arguments, as given (defaults filled in). `deep` is accepted for
        scikit-learn; genlab models hold no estimators among their arguments."""
        return dict(getattr(self, "_constructor_arguments", {}))

    def set_params(self, **params) -> "Estimator":
        """Rebuild the model through its constructor with these arguments changed, the others
        kept. A fitted model comes back unfitted: its fitted state belongs to the old
        arguments (a bandwidth matrix, networks of the old width), so fit it again. A bad
        value or an unknown name is refused in one line and leaves the model as it was."""
        if not params:
            return self
        arguments = self.get_params()
        if unknown := [name for name in params if name not in arguments]:
            raise ConfigError(f"{unknown[0]!r} is not a parameter of {type(self).__name__}: "
                              f"its parameters are {', '.join(arguments) or 'none'}")
        rebuilt = type(self)(**{**arguments, **params})
        vars(self).clear()
        vars(self).update(vars(rebuilt))
        return self

    def __repr__(self) -> str:
        """scikit-learn's style: the class and the arguments that differ from their defaults."""
        defaults = _defaults(type(self))
        changed = {name: value for name, value in sorted(self.get_params().items())
                   if name not in defaults or repr(value) != repr(defaults[name])}
        return f"{type(self).__name__}({', '.join(f'{name}={value!r}' for name, value in changed.items())})"

    # -- scores ------------------------------------------------------------------------------

    def score_samples(self, X):
        """The log-likelihood of each row of X, log_prob (for the VAE its IWAE bound with
        iwae_k samples, a stochastic lower bound); numpy in, numpy out."""
        self._check_density("score_samples")
        return self.log_prob(X)

    def score(self, X, y=None) -> float:
        """The mean log-likelihood per row of X (nats). scikit-learn's KernelDensity.score is
        the sum over rows: a grid search ranks the same, the numbers differ by the factor n."""
        self._check_density("score")
        return self.log_prob(to_tensor(X, "x")).double().mean().item()

    def _check_density(self, method: str) -> None:
        if not self.has_log_prob:
            raise ConfigError(
                f"{type(self).__name__} has no density for {method}: it only samples, with no tractable log-likelihood; "
                "score a Gaussian kde of its samples instead, genlab.metrics.kde_of_samples(model.sample(n)) (the \"GAN kde\")")

    # -- what scikit-learn asks --------------------------------------------------------------

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted

    def __sklearn_tags__(self):
        """An unsupervised density estimator. Only scikit-learn (1.6 on) calls this, so the
        import finds it loaded already; genlab itself never imports scikit-learn."""
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type="density_estimator", target_tags=TargetTags(required=False),
                    transformer_tags=None, regressor_tags=None, classifier_tags=None)


def like_input(method):
    """A method of points (x first) whose tensor result comes back in the kind of x:
    numpy in (or lists), numpy out; a tensor passes straight through."""

    @functools.wraps(method)
    def wrapper(self, x, *args, **options):
        if isinstance(x, torch.Tensor):
            return method(self, x, *args, **options)
        return as_kind(method(self, to_tensor(x, "x"), *args, **options), NUMPY)

    return wrapper


def torch_generator(random_state, device) -> torch.Generator | None:
    """random_state as a torch.Generator on `device`: None (torch's global generator), an
    integer seed, or a numpy Generator or RandomState (a seed drawn from it, so it advances)."""
    if random_state is None:
        return None
    if isinstance(random_state, np.random.Generator):
        random_state = int(random_state.integers(2**63 - 1))
    elif isinstance(random_state, np.random.RandomState):
        random_state = int(random_state.randint(2**63 - 1, dtype=np.int64))
    elif not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool):
        raise ConfigError(f"random_state must be None, an integer seed or a numpy Generator or RandomState (got {random_state!r})")
    return torch.Generator(device=device).manual_seed(int(random_state))


# -- the wrappers ------------------------------------------------------------------------------


def _recording_arguments(init):
    """__init__ that first records its bound arguments, defaults applied, ** arguments
    spread out, as the model's parameters. The class being built records them; the
    __init__ of a base it calls adds its own (without replacing any) only when that class
    takes **kwargs, since only then are the base's arguments the model's as well."""
    signature = inspect.signature(init)
    takes_more = any(p.kind is p.VAR_KEYWORD for p in signature.parameters.values())

    @functools.wraps(init)
    def __init__(self, *args, **kwargs):
        try:
            bound = signature.bind(self, *args, **kwargs)
        except TypeError:
            return init(self, *args, **kwargs)  # Python's own message for a bad call
        bound.apply_defaults()
        arguments = {}
        for name, value in list(bound.arguments.items())[1:]:
            kind = signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_KEYWORD:
                arguments.update(value)
            elif kind is not inspect.Parameter.VAR_POSITIONAL:
                arguments[name] = value
        if type(self).__init__ is __init__:
            self._constructor_arguments = arguments
        elif getattr(type(self).__init__, "takes_more", False):
            for name, value in arguments.items():
                self._constructor_arguments.setdefault(name, value)
        init(self, *args, **kwargs)

    __init__.takes_more = takes_more
    return __init__


def _defaults(cls: type) -> dict:
    """Each constructor argument's default, the nearest class's first (for the repr)."""
    defaults = {}
    for klass in cls.__mro__:
        if inspect.isfunction(vars(klass).get("__init__")):
            for name, parameter in inspect.signature(vars(klass)["__init__"]).parameters.items():
                if parameter.default is not parameter.empty:
                    defaults.setdefault(name, parameter.default)
    return defaults


def _fitting_arrays(fit):
    """fit(X, y=None, **options): X numpy or torch (y, scikit-learn's target, is ignored);
    records X's kind for sample(n) once fitting ends, and returns the model."""

    @functools.wraps(fit)
    def wrapper(self, X, y=None, **options):
        kind = kind_of(X)
        self.array_type_ = TENSOR  # while it trains, the loop's own snapshots sample tensors
        try:
            fit(self, to_tensor(X, "x"), **options)
        finally:
            self.array_type_ = kind
        return self

    return wrapper


def _sampling(sample):
    """sample(n, ..., random_state=None): random_state instead of a torch generator; the
    samples in the kind the model was fit on when the caller asks (not a subclass's
    super().sample, which keeps working on tensors)."""

    @functools.wraps(sample)
    def wrapper(self, n, *args, random_state=None, **options):
        if random_state is not None:
            if (args[0] if args else options.get("generator")) is not None:
                raise ConfigError("give sample either a generator or a random_state, not both")
            generator = torch_generator(random_state, self.device)
            if args:
                args = (generator, *args[1:])
            else:
                options["generator"] = generator
        samples = sample(self, n, *args, **options)
        return as_kind(samples, self.array_type_) if type(self).sample is wrapper else samples

    return wrapper


def array_type_in(state: dict) -> str:
    """The kind a model's saved state says sample(n) returns (a tensor where it does not
    say: checkpoints written before genlab read numpy arrays)."""
    return check_choice("array_type", state.get("array_type", TENSOR), (TENSOR, NUMPY))

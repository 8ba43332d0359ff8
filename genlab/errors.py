"""One kind of error for bad user input, so the CLI can print it as a single line.

Constructors and `fit` raise `ConfigError` with the parameter's own name first
("bandwidth must be ..."); the CLI prefixes the config group ("model.") so the
user sees the exact key to fix. Any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from contextlib import contextmanager


class ConfigError(ValueError):
    """A parameter or input that genlab refuses, with a message naming it."""


class CheckpointError(ConfigError):
    """A checkpoint that genlab refuses to load: damaged, not genlab's, or naming code
    that is not one of genlab's own models. The message names the file."""


def check_choice(name: str, value, allowed: Iterable[str]):
    allowed = list(allowed)
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)} (got {value!r})")
    return value


def check_positive(name: str, value, integer: bool = False):
    kind = "a positive integer" if integer else "a positive number"
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    if integer:
        ok = ok and float(value).is_integer()
    if not ok or not math.isfinite(value) or value <= 0:
        raise ConfigError(f"{name} must be {kind} (got {value!r})")
    return int(value) if integer else float(value)


def check_nonnegative(name: str, value):
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ConfigError(f"{name} must be a number >= 0 (got {value!r})")
    return float(value)


def check_finite_tensor(name: str, x):
    """Refuse NaN/inf in user data: every density model would silently return NaN."""
    import torch

    if not torch.isfinite(x).all():
        bad = int((~torch.isfinite(x)).any(dim=-1).sum()) if x.dim() > 1 else int((~torch.isfinite(x)).sum())
        raise ConfigError(f"{name} contains NaN or infinite values ({bad} rows); only finite data is allowed")
    return x


@contextmanager
def config_key(prefix: str):
    """Re-raise a ConfigError (also one wrapped by hydra.utils.instantiate) with the
    config group in front, so "kernel must be ..." reads "model.kernel must be ..."."""
    try:
        yield
    except ConfigError as error:
        raise ConfigError(f"{prefix}{error}") from None
    except Exception as error:  # Hydra's InstantiationException keeps our error as its cause
        if isinstance(error.__cause__, ConfigError):
            raise ConfigError(f"{prefix}{error.__cause__}") from None
        raise

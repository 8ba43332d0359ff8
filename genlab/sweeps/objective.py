"""The one number a run is judged by: `optimized_metric`, a dotted path into metrics.json.

One function resolves it for `genlab.train.main` (its return value, which Optuna and
other sweepers optimize), the sweep summary and the progress line, so all three agree.
"""

from __future__ import annotations

from genlab.errors import ConfigError
from genlab.metrics.registry import objective_paths, summary_paths

# The held-out log-likelihood of every model with a log_prob: asked of the model through its
# protocol, so not a registered metric. Higher is better, as for every registered objective.
MODEL_LIKELIHOOD = "test_log_likelihood"


def defaults() -> list[str]:
    """When optimized_metric is null, the first of these the run has: the model's own
    log-likelihood, else a registered objective (the "GAN kde" score of gan/wgan on points,
    the Parzen score of gan/wgan on images)."""
    return [MODEL_LIKELIHOOD, *objective_paths()]


def headlines() -> list[str]:
    """The numbers a summary shows beside the optimized one, where a run has them."""
    return [MODEL_LIKELIHOOD, *summary_paths()]


_MISSING = object()


def lookup(metrics: dict, path: str):
    """The value at a dotted path, or _MISSING. Keys may hold dots themselves
    (`samples.model.mmd.0.2`), so every split of the path is tried."""
    if not isinstance(metrics, dict):
        return _MISSING
    if path in metrics:
        return metrics[path]
    for key, value in metrics.items():
        if path.startswith(f"{key}."):
            found = lookup(value, path[len(key) + 1 :])
            if found is not _MISSING:
                return found
    return _MISSING


def number_at(metrics: dict, path: str) -> float | None:
    """The number at `path`, or None where there is none."""
    return _as_number(lookup(metrics, path))


def _as_number(value) -> float | None:
    """metrics.json writes infinities and NaN as the strings "inf", "-inf", "nan"."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) or (isinstance(value, str) and value in ("inf", "-inf", "nan")):
        return float(value)
    return None


def check_path(path) -> None:
    """Refuse a malformed optimized_metric before a run spends its time."""
    if path is not None and (not isinstance(path, str) or not path.strip(".")):
        raise ConfigError(f"optimized_metric must be null or a dotted path into metrics.json, like test_log_likelihood (got {path!r})")


def optimized_metric(metrics: dict, path: str | None) -> tuple[str | None, float | None]:
    """(path, value) of the run's optimized metric. A configured path the metrics lack
    is a ConfigError naming a few paths they have; with none configured, the first of
    defaults() present, or (None, None) for runs that have none (lecture figures)."""
    if path is None:
        for default in defaults():
            value = number_at(metrics, default)
            if value is not None:
                return default, value
        return None, None
    value = number_at(metrics, path)
    if value is None:
        have = [p for p in (*headlines(), *numeric_paths(metrics)) if number_at(metrics, p) is not None]
        have = list(dict.fromkeys(have))
        few = ", ".join(have[:6]) + (", ..." if len(have) > 6 else "") if have else "no numbers"
        raise ConfigError(f"optimized_metric: {path} is not a number in metrics.json; it has {few}")
    return path, value


def numeric_paths(metrics: dict, prefix: str = "") -> list[str]:
    """Every dotted path to a number, in the file's order."""
    paths = []
    for key, value in metrics.items():
        if isinstance(value, dict):
            paths += numeric_paths(value, f"{prefix}{key}.")
        elif _as_number(value) is not None:
            paths.append(f"{prefix}{key}")
    return paths

"""Every metric genlab reports, registered once: its key in metrics.json, the data it applies
to, how it is computed, how it prints, which way is better and the numbers that summarize it.
`sample_quality`, the log tables, the headline logged during training, the default
`optimized_metric`, summary.csv and the gallery iterate this list instead of naming metrics.

Registered: the sample metrics (genlab.metrics.samples; and, `final_only` for their cost,
genlab.metrics.fidelity, kid, two_sample and memorization), computed by `sample_quality` on
every sample set of a point run (metrics.json's samples.<column>.<name>); and the image
metrics `parzen` and `classifier` (genlab.metrics.parzen, genlab.metrics.classifier), with
their rows, summary numbers and default objective but no `compute`: genlab.evaluation.images
measures them together, since they share the validation split, the cached domain classifier
and the cached reference numbers. Not registered: the model's own likelihoods
(test_log_likelihood, the ELBO, bits/dim, the KL estimate), which are asked of the model
through its protocol and named by it (log_prob_name, bound_name); genlab.sweeps.objective
puts test_log_likelihood first. Nor the one curve training.png draws (genlab.plots.training
picks it by name: a figure's choice, not a list of metrics).

A new metric is one registered function. In a file of genlab/metrics/ every run finds it
(the first `metrics()` imports each module of the package); from any other module, it
counts once that module is imported (tests/test_metric_registry.py registers one).
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Any, Callable

SAMPLES, IMAGES = "samples", "images"


@dataclass(frozen=True)
class Metric:
    name: str  # its key in metrics.json
    rows: Callable[[Any], dict[str, str]]  # its value -> {row label: text} of the log table
    compute: Callable | None = None  # samples: (samples, test, data) -> value, as float64 (n, dim) CPU tensors and the data set
    applies: Callable[[Any], bool] = lambda data: True  # asked of the data set's declared capabilities
    higher_is_better: bool = True  # for its summary numbers
    summary: tuple[str, ...] = ("",)  # paths into its value that summary.csv and the gallery show ("": the value)
    objective: str | None = None  # the path into its value a run is judged by when optimized_metric is null
    headline: Callable[[Any], str] | None = None  # its value as the line logged at each evaluation
    headline_rank: int = 0  # of the headlines present, the highest-ranked one is logged
    kind: str = SAMPLES  # samples: under samples.<column>, computed by sample_quality; images: at the top
    final_only: bool = False  # samples: computed at a run's final evaluation only (sample_quality(..., final=True)), for its cost

    def path(self, inner: str = "", column: str = "model") -> str:
        """Its dotted path in metrics.json (`samples.model.mode_coverage.modes_captured`)."""
        return ".".join(part for part in ((f"samples.{column}" if self.kind == SAMPLES else ""), self.name, inner) if part)


_registered: dict[str, Metric] = {}
_package_read = False


def add(metric: Metric) -> Metric:
    if metric.name in _registered:
        raise ValueError(f"a metric named {metric.name!r} is already registered")
    if (metric.kind == SAMPLES) != (metric.compute is not None):
        raise ValueError(f"metric {metric.name!r}: a sample metric needs a compute function, an image metric has none")
    if metric.final_only and metric.kind != SAMPLES:
        raise ValueError(f"metric {metric.name!r}: only a sample metric can be final_only (the image metrics are all computed at the end)")
    if metric.objective is not None and not metric.higher_is_better:
        raise ValueError(f"metric {metric.name!r}: a default objective must be higher-is-better (it is maximized)")
    _registered[metric.name] = metric
    return metric


def register(name: str, **fields) -> Callable:
    """Decorator: `@register("name", rows=...)` makes the function the compute of a sample metric."""
    def decorate(compute: Callable) -> Callable:
        add(Metric(name, compute=compute, **fields))
        return compute
    return decorate


def unregister(name: str) -> None:
    del _registered[name]


def metrics(kind: str | None = None) -> list[Metric]:
    """The registered metrics (of one kind), genlab's own first in the order
    genlab/metrics/__init__.py imports them, then any others as registered."""
    global _package_read
    if not _package_read:
        import genlab.metrics as package

        for info in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{info.name}")
        _package_read = True
    return [m for m in _registered.values() if kind in (None, m.kind)]


def summary_paths() -> list[str]:
    """The numbers sweep summaries and the gallery show, as paths into metrics.json."""
    return [metric.path(inner) for metric in metrics() for inner in metric.summary]


def objective_paths() -> list[str]:
    """The candidates for a run's default optimized metric, in order."""
    return [metric.path(metric.objective) for metric in metrics() if metric.objective is not None]

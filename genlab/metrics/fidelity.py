"""Fidelity apart from diversity: precision and recall (Kynkäänniemi et al. 2019) and density
and coverage (Naeem et al. 2020), from k-nearest-neighbour balls.

Exactly the definitions of the authors' `prdc` package (Naeem et al.'s code): the real
points are the held-out test set, the fake ones the samples; each point's ball has the
radius of its distance to its k-th nearest neighbour in its own set (itself excluded), and
"inside" is strict (distance < radius). With N real and M fake points:

- precision: the share of samples inside at least one real ball (are the samples real-looking?);
- recall: the share of real points inside at least one sample's ball (is the data's variety drawn?);
- density: the number of real balls around a sample, over k, averaged over the samples
  (1 on average for samples distributed as the data; above 1 where samples crowd dense regions);
- coverage: the share of real points whose ball holds at least one sample.

A mode-collapsed model keeps precision and density near real data's and loses recall and
coverage; a blurred one the reverse. Recall is fooled by a few outlying samples with huge
balls (which is why density and coverage use only the real balls). The standard errors are
binomial (of the mean of the per-point counts for density), given the balls: they leave out
the balls' own sampling noise. Tested against prdc in tests/bench/sample_metrics.py.
"""

from __future__ import annotations

import math

import torch

from genlab.metrics.neighbours import ball_counts, check_k, neighbour_radii
from genlab.metrics.registry import register
from genlab.metrics.samples import _points, _same_space
from genlab.metrics.standard_error import standard_error

PRECISION_RECALL_K = 3  # Kynkäänniemi et al. 2019
DENSITY_COVERAGE_K = 5  # Naeem et al. 2020


def precision_recall(samples, test, k: int = PRECISION_RECALL_K) -> dict:
    """Improved precision and recall (Kynkäänniemi et al. 2019) of `samples` against the
    held-out `test` points, with k-NN balls of k (default 3) neighbours."""
    fake, real = _pair(samples, test)
    k = check_k(k, len(real), points="test points")
    check_k(k, len(fake), points="samples")
    counts = _counts(fake, real, k, fake_k=k)
    precision = (counts["real_balls"][k] > 0).double().mean().item()
    recall = (counts["fake_balls"][k] > 0).double().mean().item()
    return {"precision": precision, "precision_standard_error": _binomial(precision, len(fake)),
            "recall": recall, "recall_standard_error": _binomial(recall, len(real)), "k": k}


def density_coverage(samples, test, k: int = DENSITY_COVERAGE_K) -> dict:
    """Density and coverage (Naeem et al. 2020) of `samples` against the held-out `test`
    points, with the real points' k-NN balls of k (default 5) neighbours."""
    fake, real = _pair(samples, test)
    k = check_k(k, len(real), points="test points")
    counts = _counts(fake, real, k)
    per_sample = counts["real_balls"][k].double() / k
    coverage = (counts["nearest_fake"] < counts["real_radii"][k]).double().mean().item()
    return {"density": per_sample.mean().item(), "density_standard_error": standard_error(per_sample),
            "coverage": coverage, "coverage_standard_error": _binomial(coverage, len(real)), "k": k}


_last: list = []  # [(key, the two tensors, counts)] of the last pair: the second metric of a sample set reuses the first's passes


def _counts(fake: torch.Tensor, real: torch.Tensor, k: int, fake_k: int | None = None) -> dict:
    """The ball counts of this pair of point sets for the real balls of k neighbours (and the
    fake balls of fake_k), with the real balls of both metrics' default k computed in the same
    passes. Remembered for the last pair (by storage and version, the tensors kept alive),
    so precision_recall then density_coverage of one sample set cost three passes, not five."""
    key = tuple((x.data_ptr(), x.shape, x.stride(), x._version, x.device) for x in (fake, real))  # detach() makes new tensors of the same storage
    if _last and _last[0][0] == key:
        counts = _last[0][2]
        if k in counts["real_balls"] and (fake_k is None or fake_k in counts["fake_balls"]):
            return counts
    real_ks = {k} | {default for default in (PRECISION_RECALL_K, DENSITY_COVERAGE_K) if default < len(real)}
    real_radii = neighbour_radii(real, real_ks)
    fake_radii = None if fake_k is None else neighbour_radii(fake, [fake_k])
    counts = {"real_radii": real_radii, **ball_counts(real, fake, real_radii, fake_radii)}
    _last[:] = [(key, (fake, real), counts)]
    return counts


def _pair(samples, test):
    fake, real = _points(samples, "samples"), _points(test, "test")
    return fake, _same_space(fake, real)


def _binomial(p: float, n: int) -> float:
    return math.sqrt(p * (1 - p) / n)


def _rows(names: tuple[str, str], k: int):
    def rows(value: dict) -> dict[str, str]:
        return {f"{name} (k={k} balls)": f"{value[name]:.3f} ± {value[name + '_standard_error']:.3f}" for name in names}
    return rows


@register("precision_recall", final_only=True, summary=("precision", "recall"), rows=_rows(("precision", "recall"), PRECISION_RECALL_K))
def _precision_recall(samples, test, data):
    return precision_recall(samples, test) if min(len(samples), len(test)) > PRECISION_RECALL_K else None  # None: too few points


@register("density_coverage", final_only=True, summary=("density", "coverage"), rows=_rows(("density", "coverage"), DENSITY_COVERAGE_K))
def _density_coverage(samples, test, data):
    return density_coverage(samples, test) if len(test) > DENSITY_COVERAGE_K else None

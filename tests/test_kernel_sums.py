"""The pruned Gaussian and exponential sums (genlab.models.kernel_sums.PrunedSum): exact to
float rounding against float64 brute force, on clustered, heavy-tailed and far-away
queries, in 1 to 5 dimensions, while visiting only a part of the n x m terms."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.models import KDE


def brute_force(x, y, h, kernel="gaussian"):
    """float64 log p(y) of an isotropic KDE, by logsumexp over every pair."""
    x, y = x.double(), y.double()
    n, d = x.shape
    parts = []
    for block in y.split(512):
        r = torch.cdist(block, x, compute_mode="donot_use_mm_for_euclid_dist") / h
        parts.append(torch.logsumexp(-r.square() / 2 if kernel == "gaussian" else -r, 1))
    if kernel == "gaussian":
        normalizer = -d / 2 * math.log(2 * math.pi)
    else:  # exp(-|u|) integrates to the unit sphere's area times (d - 1)!
        normalizer = -(math.log(2) + d / 2 * math.log(math.pi) + math.lgamma(d) - math.lgamma(d / 2))
    return torch.cat(parts) + normalizer - math.log(n) - d * math.log(h)


def check(got, exact):
    """The issue's bar: 1e-4 absolute where log p > -50, 1e-6 relative below; same -inf."""
    got = got.double()
    assert torch.equal(torch.isfinite(got), torch.isfinite(exact))
    near = exact > -50
    assert (got - exact)[near].abs().max() < 1e-4
    if (~near).any():
        assert ((got - exact) / exact)[~near & torch.isfinite(exact)].abs().max() < 1e-6


def standardized(x):
    return ((x - x.mean(0)) / x.std(0)).float()


@pytest.mark.parametrize("h", [0.05, 0.2])
def test_heavy_tails_are_exact_and_terms_are_skipped(h):
    torch.manual_seed(0)
    t = torch.distributions.StudentT(3.0)
    x, y = standardized(t.sample((6000, 2))), standardized(t.sample((4000, 2)))
    model = KDE("gaussian", h).fit(x)
    got = model.log_prob(y)
    check(got, brute_force(x, y, h))
    share = model._sum.terms_visited / (len(x) * len(y))
    assert share < (0.65 if h == 0.05 else 0.97)  # 0.56 and 0.93: 4 blocks of 1,000 queries (32% and 86% with 10,000)


@pytest.mark.parametrize("d", [1, 3, 5])
def test_normal_data_in_other_dimensions(d):
    g = torch.Generator().manual_seed(d)
    x, y = torch.randn(5000, d, generator=g), torch.randn(3000, d, generator=g)
    y[:20] *= 8  # queries in the far tails, where every term is tiny
    model = KDE("gaussian", 0.2).fit(x)
    check(model.log_prob(y), brute_force(x, y, 0.2))
    if d <= 3:  # in 5D, blocks of 1,000 queries against 5,000 points skip nothing
        assert model._sum.terms_visited < len(x) * len(y)


def test_the_exponential_kernel_is_pruned_exactly_too():
    g = torch.Generator().manual_seed(7)
    x, y = torch.randn(5000, 2, generator=g), 1.5 * torch.randn(3000, 2, generator=g)
    model = KDE("exponential", 0.05).fit(x)
    check(model.log_prob(y), brute_force(x, y, 0.05, "exponential"))
    assert model._sum.terms_visited < 0.85 * len(x) * len(y)  # 0.80


def test_queries_far_from_every_point_stay_finite_and_exact():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3000, 2, generator=g)
    y = torch.tensor([[40.0, 0.0], [0.0, -120.0], [300.0, 300.0]])  # log p from about -2e4 to -5e6
    got, exact = KDE("gaussian", 0.2).fit(x).log_prob(y).double(), brute_force(x, y, 0.2)
    assert torch.isfinite(got).all() and ((got - exact) / exact).abs().max() < 1e-6


def test_float64_data_keeps_float64_precision():
    g = torch.Generator().manual_seed(11)
    x, y = torch.randn(5000, 2, generator=g, dtype=torch.float64), torch.randn(2000, 2, generator=g, dtype=torch.float64)
    model = KDE("gaussian", 0.05).fit(x)
    got = model.log_prob(y)
    assert got.dtype == torch.float64 and (got - brute_force(x, y, 0.05)).abs().max() < 1e-9
    assert model._sum.terms_visited < 0.8 * len(x) * len(y)  # 0.73: 2 blocks of 1,000 queries


def test_a_wide_kernel_visits_every_term():
    g = torch.Generator().manual_seed(5)
    x, y = torch.randn(2000, 2, generator=g), torch.randn(1000, 2, generator=g)
    model = KDE("gaussian", 2.0).fit(x)
    check(model.log_prob(y), brute_force(x, y, 2.0))
    assert model._sum.terms_visited == len(x) * len(y)

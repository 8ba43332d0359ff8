"""Likelihood metrics of a fitted density against held-out data and, where known, the truth."""

from __future__ import annotations

import torch

from genlab.metrics.standard_error import standard_error


def likelihood_metrics(model, data, n_fresh: int = 10_000) -> dict:
    """Mean log-likelihoods (nats per point) and, for data with an exact density p,
    the model q's KL(p || q) estimated as mean(log p - log q) on fresh draws from p.

    A kernel with compact support gives log q = -inf to points beyond its reach;
    those points are counted, and the means honestly become -inf (and the KL inf).
    """
    out = {}
    if model.has_log_prob:
        train = _as_cpu(model.log_prob(data.train))
        test = _as_cpu(model.log_prob(data.test))
        out["train_log_likelihood"] = train.mean().item()
        out["test_log_likelihood"] = test.mean().item()
        out["test_log_likelihood_standard_error"] = standard_error(test)
        out["test_points_outside_support"] = int(torch.isneginf(test).sum())
    if data.has_density:
        out["true_test_log_likelihood"] = _as_cpu(data.log_prob(data.test)).mean().item()
        if model.has_log_prob:
            fresh = data.sample(n_fresh)
            gap = _as_cpu(data.log_prob(fresh)) - _as_cpu(model.log_prob(fresh))
            out["kl_estimate"] = gap.mean().item()
            out["kl_standard_error"] = standard_error(gap)
            out["kl_fresh_samples"] = int(n_fresh)
    return out


def _as_cpu(values: torch.Tensor) -> torch.Tensor:
    return values.detach().double().cpu()

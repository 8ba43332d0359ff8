"""One standard error for every mean genlab reports: std / sqrt(n) with the std that divides
by n (numpy's default, ddof 0), as the GAN paper's Parzen protocol (parzen_ll.py) computes it.
For the thousands of points genlab averages over it differs from ddof 1 in the fourth digit;
one definition means one meaning for `standard_error` in every metrics.json."""

from __future__ import annotations

import math

import torch


def standard_error(values: torch.Tensor) -> float:
    """NaN where it is undefined: fewer than 2 values, or a value that is not finite."""
    values = values.detach().double()
    if len(values) < 2 or not torch.isfinite(values).all():
        return math.nan
    return (values.std(correction=0) / math.sqrt(len(values))).item()

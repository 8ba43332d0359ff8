"""Shared helpers: numerical integration of densities on grids."""

from __future__ import annotations

import pytest
import torch


def integrate_1d(log_prob, lo: float, hi: float, n: int = 40001) -> float:
    grid = torch.linspace(lo, hi, n, dtype=torch.float64)[:, None]
    return torch.trapezoid(log_prob(grid).exp(), grid[:, 0]).item()


def integrate_2d(log_prob, lo, hi, n: int = 601) -> float:
    xs = torch.linspace(lo[0], hi[0], n, dtype=torch.float64)
    ys = torch.linspace(lo[1], hi[1], n, dtype=torch.float64)
    density = log_prob(torch.cartesian_prod(xs, ys)).exp().reshape(n, n)
    return torch.trapezoid(torch.trapezoid(density, ys, dim=1), xs).item()


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)

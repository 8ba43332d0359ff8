"""KID (genlab.metrics.kid): a case by hand, unbiasedness, its two ways of summing the kernel, bad input."""

from __future__ import annotations

import pytest
import torch

from genlab.errors import ConfigError
from genlab.metrics import kernel_inception_distance
from genlab.metrics import kid


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_a_case_by_hand():
    # x = {0, 1}, y = {1, 2}, d = 1, k(a, b) = (ab + 1)^3: off-diagonal k_xx sum 2 * 1, k_yy 2 * 27,
    # k_xy 1 + 1 + 8 + 27 = 37, so MMD^2 = (2 + 54) / 2 - 2 * 37 / 4 = 9.5; one subset holds every point.
    result = kernel_inception_distance(torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [1.0]]), subsets=3)
    assert result == {"mean": pytest.approx(9.5), "std": pytest.approx(0.0, abs=1e-12), "subsets": 3, "subset_size": 2}


def test_identical_sets_score_about_0_and_a_shift_far_more():
    x = torch.randn(3000, 2, generator=gen(0), dtype=torch.float64)
    same = kernel_inception_distance(x, x.clone())
    shifted = kernel_inception_distance(x + 0.5, x)
    assert same["subset_size"] == 1000 and abs(same["mean"]) < same["std"]  # within the subsets' spread (they overlap)
    assert shifted["mean"] > 50 * same["std"]


def test_it_is_unbiased_on_small_subsets_where_the_biased_estimate_is_not():
    x = torch.randn(4000, 2, generator=gen(1), dtype=torch.float64)
    y = torch.randn(4000, 2, generator=gen(2), dtype=torch.float64)
    result = kernel_inception_distance(x, y, subsets=1000, subset_size=10)
    assert abs(result["mean"]) < 4 * result["std"] / 1000**0.5  # centred on 0 (subsets nearly independent)
    # The biased estimate (diagonals kept) of the same subsets sits clearly above 0.
    draws = kid.kid_subsets(len(y), len(x), 1000, 10, 0)
    a, b = torch.stack([y[r] for r, _ in draws]), torch.stack([x[f] for _, f in draws])
    k = lambda u, v: (u @ v.transpose(1, 2) / 2 + 1) ** 3
    biased = (k(a, a).mean((1, 2)) + k(b, b).mean((1, 2)) - 2 * k(a, b).mean((1, 2))).mean().item()
    assert biased > 20 * result["std"] / 1000**0.5


@pytest.mark.parametrize("d", [1, 2, 3, 5])
def test_the_moment_sums_equal_the_kernel_matrix_sums(d):
    a = torch.randn(4, 40, d, generator=gen(d), dtype=torch.float64)
    b = 0.7 * torch.randn(4, 40, d, generator=gen(10 + d), dtype=torch.float64) + 0.2
    for same, (u, v) in ((True, (a, a)), (False, (a, b))):
        assert torch.allclose(kid._moment_sums(u, v, same), kid._matrix_sums(u, v, same), rtol=1e-12, atol=1e-9)


def test_the_subsets_are_torchmetrics_draws_and_its_numbers():
    torchmetrics_kid = pytest.importorskip("torchmetrics.image.kid")
    real = torch.randn(300, 6, generator=gen(3), dtype=torch.float64)
    fake = torch.randn(250, 6, generator=gen(4), dtype=torch.float64) * 1.1
    draws = kid.kid_subsets(len(real), len(fake), subsets=20, subset_size=100, seed=5)
    theirs = torch.stack([torchmetrics_kid.poly_mmd(real[r], fake[f]) for r, f in draws])
    ours = kernel_inception_distance(fake, real, subsets=20, subset_size=100, seed=5)
    assert ours["mean"] == pytest.approx(theirs.mean().item(), abs=1e-12)
    assert ours["std"] == pytest.approx(theirs.std(unbiased=False).item(), abs=1e-12)
    assert all(len(set(r.tolist())) == 100 for r, _ in draws)  # without replacement within a subset


def test_the_same_seed_gives_the_same_number():
    x, y = torch.randn(500, 3, generator=gen(6)), torch.randn(400, 3, generator=gen(7))
    assert kernel_inception_distance(x, y) == kernel_inception_distance(x, y)
    assert kernel_inception_distance(x, y) != kernel_inception_distance(x, y, seed=1)


@pytest.mark.parametrize("call, message", [
    (lambda: kernel_inception_distance(torch.randn(50, 2), torch.randn(60, 2), subset_size=55), r"subset_size must be at most the number of points on each side"),
    (lambda: kernel_inception_distance(torch.randn(1, 2), torch.randn(60, 2)), r"subset_size must be at least 2"),
    (lambda: kernel_inception_distance(torch.randn(50, 2), torch.randn(60, 2), subsets=0), r"subsets must be a positive integer \(got 0\)"),
    (lambda: kernel_inception_distance(torch.randn(50, 2), torch.randn(60, 3)), r"same dimension"),
    (lambda: kernel_inception_distance(torch.full((5, 2), float("nan")), torch.randn(60, 2)), r"samples contains NaN"),
])
def test_bad_input_is_one_line_naming_the_argument(call, message):
    with pytest.raises(ConfigError, match=message):
        call()

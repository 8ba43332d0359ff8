"""The classifier two-sample test (genlab.metrics.two_sample): chance on one distribution,
near 1 on two separated ones, the same number from the same seed, bad input."""

from __future__ import annotations

import pytest
import torch

from genlab.errors import ConfigError
from genlab.metrics import classifier_two_sample_test


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_one_distribution_is_at_chance_and_two_separated_ones_are_told_apart():
    x = torch.randn(1000, 2, generator=gen(0), dtype=torch.float64)
    y = torch.randn(1500, 2, generator=gen(1), dtype=torch.float64)
    same = classifier_two_sample_test(x, y)
    assert same["n"] == 1000 and abs(same["accuracy"] - 0.5) < 3 * 0.5 / 1000**0.5  # 3 null standard deviations
    assert same["standard_error"] == pytest.approx((same["accuracy"] * (1 - same["accuracy"]) / 1000) ** 0.5)
    assert same["p_value"] > 0.001
    apart = classifier_two_sample_test(x + torch.tensor([4.0, 0.0], dtype=torch.float64), y)
    assert apart["accuracy"] > 0.97 and apart["p_value"] < 1e-50
    # Different widths, same mean: a linear classifier could not, the hidden layer can.
    assert classifier_two_sample_test(3 * x, y)["accuracy"] > 0.75


def test_the_same_seed_gives_the_same_number_and_another_seed_another():
    x, y = torch.randn(300, 3, generator=gen(2)), torch.randn(300, 3, generator=gen(3)) + 0.3
    first = classifier_two_sample_test(x, y)
    assert classifier_two_sample_test(x, y) == first
    # another seed, another split and start: on 300 held-out points two seeds can tie on the accuracy by chance, four rarely do
    assert len({classifier_two_sample_test(x, y, seed=s)["accuracy"] for s in range(4)}) > 1


def test_a_constant_coordinate_is_not_divided_by_zero():
    x, y = torch.randn(200, 2, generator=gen(4)), torch.randn(200, 2, generator=gen(5))
    x[:, 1] = y[:, 1] = 1.0
    assert 0.3 < classifier_two_sample_test(x, y)["accuracy"] < 0.7


@pytest.mark.parametrize("call, message", [
    (lambda: classifier_two_sample_test(torch.randn(1, 2), torch.randn(50, 2)), r"at least 2 samples and 2 test points \(got 1 and 50\)"),
    (lambda: classifier_two_sample_test(torch.randn(50, 2), torch.randn(50, 2), hidden=0), r"hidden must be a positive integer"),
    (lambda: classifier_two_sample_test(torch.randn(50, 2), torch.randn(50, 2), steps=2.5), r"steps must be a positive integer"),
    (lambda: classifier_two_sample_test(torch.randn(50, 2), torch.randn(50, 4)), r"same dimension"),
    (lambda: classifier_two_sample_test(torch.randn(50, 2), torch.full((50, 2), float("inf"))), r"test contains NaN or infinite values"),
])
def test_bad_input_is_one_line_naming_the_argument(call, message):
    with pytest.raises(ConfigError, match=message):
        call()

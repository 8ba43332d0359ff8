"""Precision/recall and density/coverage (genlab.metrics.fidelity) against cases computed by hand."""

from __future__ import annotations

import pytest
import torch

from genlab.errors import ConfigError
from genlab.metrics import density_coverage, precision_recall
from genlab.metrics.neighbours import kth_neighbour_distances


def column(*values) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float64)[:, None]


def clusters(centres, per_cluster: int, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.cat([torch.tensor(c, dtype=torch.float64) + 0.1 * torch.randn(per_cluster, 2, generator=generator, dtype=torch.float64) for c in centres])


CENTRES = [(0, 0), (10, 0), (0, 10), (10, 10)]


def test_samples_that_cover_half_the_modes_have_precision_1_and_recall_one_half():
    real = clusters(CENTRES, 25, seed=0)
    fake = real[:50].clone()  # the real points of the first two modes, nothing of the others
    result = precision_recall(fake, real)
    assert (result["precision"], result["recall"], result["k"]) == (1.0, 0.5, 3)
    assert result["precision_standard_error"] == 0.0 and result["recall_standard_error"] == pytest.approx((0.25 / 100) ** 0.5)
    covered = density_coverage(fake, real)
    # Each real ball holds its own point and its k - 1 nearest (the k-th is on the boundary, outside):
    # k fake copies in each of the first two modes' 50 balls, none in the others': 50 k / (k m) = 1.
    assert covered["density"] == pytest.approx(1.0) and covered["coverage"] == 0.5


def test_fake_points_equal_to_the_real_ones_score_as_real_data():
    real = clusters(CENTRES, 25, seed=1)
    assert precision_recall(real.clone(), real)["precision"] == precision_recall(real.clone(), real)["recall"] == 1.0
    covered = density_coverage(real.clone(), real)
    assert covered["density"] == pytest.approx(1.0) and covered["coverage"] == 1.0


def test_a_tiny_1d_case_by_hand():
    # Real 0, 1, 3, 6: with k = 1 their balls are (-1, 1), (0, 2), (1, 5), (3, 9).
    # Fakes 0.5 (in 2 balls), 2.5 (in 1), 10 (in none); their own balls (k = 1) have radii 2, 2, 7.5.
    real, fake = column(0, 1, 3, 6), column(0.5, 2.5, 10)
    assert kth_neighbour_distances(real, 1).tolist() == [1, 1, 2, 3]
    pr = precision_recall(fake, real, k=1)
    assert pr["precision"] == pytest.approx(2 / 3)
    assert pr["recall"] == 1.0  # the outlier at 10 has a ball that reaches the real 6: recall is fooled
    dc = density_coverage(fake, real, k=1)
    assert dc["density"] == pytest.approx((2 + 1 + 0) / 3) and dc["coverage"] == 0.75  # 6's nearest fake, 10, is 4 away (> 3)
    assert dc["density_standard_error"] == pytest.approx(torch.tensor([2.0, 1, 0]).std(correction=0).item() / 3**0.5)


def test_the_k_th_neighbour_leaves_the_point_itself_out_but_counts_a_duplicate():
    x = column(0, 0, 1, 3)
    assert kth_neighbour_distances(x, 1).tolist() == [0, 0, 1, 2]
    assert kth_neighbour_distances(x, 2).tolist() == [1, 1, 1, 3]


def test_the_blocks_give_the_same_numbers_as_one_matrix(monkeypatch):
    from genlab.metrics import neighbours

    generator = torch.Generator().manual_seed(2)
    real, fake = torch.randn(300, 5, generator=generator, dtype=torch.float64), torch.randn(200, 5, generator=generator, dtype=torch.float64) + 0.3
    whole = precision_recall(fake, real), density_coverage(fake, real)
    monkeypatch.setattr(neighbours, "BLOCK_ELEMENTS", 1000)  # blocks of a few rows
    assert (precision_recall(fake, real), density_coverage(fake, real)) == whole
    distances = torch.cdist(real, fake)
    radii = torch.cdist(real, real).topk(4, dim=1, largest=False).values[:, -1]
    assert whole[0]["precision"] == pytest.approx((distances < radii[:, None]).any(0).double().mean().item(), abs=1e-12)


def test_the_same_numbers_as_the_authors_prdc():
    prdc = pytest.importorskip("prdc")
    generator = torch.Generator().manual_seed(3)
    real, fake = torch.randn(400, 8, generator=generator, dtype=torch.float64), 1.2 * torch.randn(300, 8, generator=generator, dtype=torch.float64)
    for k in (3, 5):
        theirs = prdc.compute_prdc(real.numpy(), fake.numpy(), k)
        ours = {**precision_recall(fake, real, k), **density_coverage(fake, real, k)}
        assert {name: ours[name] for name in theirs} == pytest.approx({name: float(v) for name, v in theirs.items()}, abs=1e-12)


@pytest.mark.parametrize("call, message", [
    (lambda: precision_recall(torch.randn(3, 2), torch.randn(50, 2)), r"k must be smaller than the number of samples \(got k=3 for 3 samples\)"),
    (lambda: density_coverage(torch.randn(50, 2), torch.randn(5, 2)), r"k must be smaller than the number of test points \(got k=5 for 5 test points\)"),
    (lambda: precision_recall(torch.randn(50, 2), torch.randn(50, 2), k=0), r"k must be a positive integer \(got 0\)"),
    (lambda: precision_recall(torch.randn(50, 3), torch.randn(50, 2)), r"same dimension \(got 3 and 2\)"),
    (lambda: precision_recall(torch.randn(5, 2, 2), torch.randn(50, 2)), r"samples must be a non-empty tensor of shape \(n, d\)"),
    (lambda: density_coverage(torch.randn(50, 2), torch.full((50, 2), float("nan"))), r"test contains NaN or infinite values"),
])
def test_bad_input_is_one_line_naming_the_argument(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


def test_density_coverage_after_precision_recall_of_the_same_points_reuses_their_passes(monkeypatch):
    from genlab.metrics import neighbours

    generator = torch.Generator().manual_seed(4)
    real, fake = torch.randn(300, 4, generator=generator, dtype=torch.float64), torch.randn(200, 4, generator=generator, dtype=torch.float64)
    fresh = density_coverage(fake.clone(), real.clone())
    calls = []
    monkeypatch.setattr(neighbours, "_squared_distances", lambda a, b: calls.append(1) or fidelity_distances(a, b))
    precision_recall(fake, real)
    passes = len(calls)
    assert density_coverage(fake, real) == fresh and len(calls) == passes  # no pass more
    fake[0] += 1.0  # changed in place: computed again
    assert density_coverage(fake, real) != fresh and len(calls) > passes


def fidelity_distances(a, b):
    from genlab.metrics.samples import _squared_distances

    return _squared_distances(a, b)

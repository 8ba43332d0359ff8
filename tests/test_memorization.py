"""The data-copying test (genlab.metrics.memorization): copies of the training set are caught,
fresh samples are not, and C_T is the authors' statistic (scipy's U, scikit-learn's neighbours)."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.data.mixtures import RingOfGaussians
from genlab.errors import ConfigError
from genlab.metrics import data_copying
from genlab.metrics.memorization import cell_of, kmeans, mann_whitney_z


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.fixture(scope="module")
def ring():
    """A 2D mixture with train, test and fresh points (float64)."""
    data = RingOfGaussians(n_train=2000, n_test=2000, std=0.2)
    return data.train.double(), data.test.double(), data.sample(2000, gen(123)).double()  # gen(0) would replay the training draws


def test_copies_of_the_training_set_are_caught(ring):
    train, test, _ = ring
    result = data_copying(train.clone(), test, train)
    assert result["c_t"] < -10 and result["cells_used"] == result["cells"] == 10
    assert result["nearer_share"] == 1.0 and result["nearer_share_standard_error"] == 0.0


def test_fresh_samples_are_not_copies(ring):
    train, test, fresh = ring
    result = data_copying(fresh, test, train)
    assert abs(result["c_t"]) < 3 * result["c_t_null_std"] and 0.25 < result["c_t_null_std"] < 0.5  # about 1/sqrt(10 cells)
    assert abs(result["nearer_share"] - 0.5) < 3 * result["nearer_share_standard_error"]


def test_samples_farther_from_the_training_set_than_fresh_data_underfit(ring):
    train, test, fresh = ring
    blurred = fresh + 0.3 * torch.randn(fresh.shape, generator=gen(1), dtype=torch.float64)
    result = data_copying(blurred, test, train)
    assert result["c_t"] > 5 and result["nearer_share"] < 0.3


def test_c_t_is_the_authors_statistic(ring):
    stats = pytest.importorskip("scipy.stats")
    neighbors = pytest.importorskip("sklearn.neighbors")
    train, test, fresh = ring
    samples = torch.cat([train[:300], fresh[:1700]])  # some copying
    result = data_copying(samples, test, train, cells=5)
    centres = kmeans(train, 5)
    cells = [cell_of(x, centres).numpy() for x in (train, samples, test)]
    # The authors' code (data_copying_tests.py: Zu, Zu_cells, C_T), with our cells.
    weights, scores = [], []
    for c in range(len(centres)):
        t, q, p = train.numpy()[cells[0] == c], samples.numpy()[cells[1] == c], test.numpy()[cells[2] == c]
        nn = neighbors.NearestNeighbors(n_neighbors=1).fit(t)
        lq, lp = nn.kneighbors(q)[0][:, 0], nn.kneighbors(p)[0][:, 0]
        u = stats.mannwhitneyu(lq, lp, alternative="less").statistic
        m, n = len(q), len(p)
        scores.append((u - (n * m / 2 - 0.5)) / math.sqrt(n * m * (n + m + 1) / 12))
        weights.append(n / len(test))
    assert result["c_t"] == pytest.approx(sum(w * z for w, z in zip(weights, scores)) / sum(weights), rel=1e-9)


def test_the_mann_whitney_z_by_hand():
    # a = {1, 2} below every b = {3, 4, 5}: U = 0, Z = (0 - (3 - 1/2)) / sqrt(2 * 3 * 6 / 12).
    assert mann_whitney_z(torch.tensor([1.0, 2.0]), torch.tensor([3.0, 4.0, 5.0])) == pytest.approx(-2.5 / math.sqrt(3))
    # A tie counts one half: U = 1/2 + 1.
    assert mann_whitney_z(torch.tensor([3.0, 5.0]), torch.tensor([3.0])) == pytest.approx((1.5 - 0.5) / math.sqrt(2 * 4 / 12))


def test_k_means_finds_well_separated_clusters():
    centres = torch.tensor([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]], dtype=torch.float64)
    x = centres.repeat_interleave(100, 0) + 0.1 * torch.randn(300, 2, generator=gen(2), dtype=torch.float64)
    found = kmeans(x, 3)
    assert torch.cdist(found, centres).min(0).values.max() < 0.05
    assert len(kmeans(torch.zeros(10, 2, dtype=torch.float64), 3)) == 1  # one distinct point, one cell


def test_cells_with_too_few_samples_are_left_out(ring):
    train, test, fresh = ring
    result = data_copying(fresh[:15], test, train)  # fewer than 20 samples in any cell
    assert result["c_t"] is None and result["c_t_null_std"] is None and result["cells_used"] == 0
    assert data_copying(fresh[:300], test, train, min_samples=5)["cells_used"] == 10


@pytest.mark.parametrize("call, message", [
    (lambda x: data_copying(x, x, x, cells=0), r"cells must be a positive integer \(got 0\)"),
    (lambda x: data_copying(x, x, x, min_samples=-1), r"min_samples must be a positive integer"),
    (lambda x: data_copying(x, x[:1], x), r"at least 2 test points \(got 1\)"),
    (lambda x: data_copying(x, x, x[:, :1]), r"same dimension \(got 2 and 1\)"),
    (lambda x: data_copying(x.float().fill_(float("nan")), x, x), r"samples contains NaN"),
])
def test_bad_input_is_one_line_naming_the_argument(call, message):
    with pytest.raises(ConfigError, match=message):
        call(torch.randn(50, 2, generator=gen(3)))

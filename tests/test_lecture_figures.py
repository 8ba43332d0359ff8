"""Lecture figures 1, 2, 10, 11 and 13 (genlab.lecture): configs, small runs with their numbers checked."""

from __future__ import annotations

import json
import math

import pytest
import torch
from hydra.utils import instantiate

from helpers import compose_config, run_cli

CPU = torch.device("cpu")
FIGURES = ("pushforwards", "kernels", "optimal_discriminator", "wasserstein_dual", "dimension")
ONE_THREAD = {"OMP_NUM_THREADS": "1"}  # as _one_thread below, for the run in a subprocess


@pytest.fixture(autouse=True)
def _one_thread():
    """Small networks and KDEs are many small tensor operations, which a second thread only
    slows down (the discriminator test: 3 s on one thread, 90 s on two of a loaded machine)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("name", FIGURES)
def test_experiment_config_composes_and_names_its_figure(name):
    cfg = compose_config(f"+experiment=lecture/{name}")
    assert cfg.figure._target_ == f"genlab.lecture.{name}.draw"
    draw = instantiate(cfg.figure, _partial_=True)
    assert callable(draw) and draw.func.__module__ == f"genlab.lecture.{name}"


def test_pushforward_histograms_match_their_densities(tmp_path):
    from genlab.lecture import pushforwards

    numbers = pushforwards.draw(tmp_path, CPU, seed=0, n_samples=20_000, bins=20)
    assert (tmp_path / "figure.png").stat().st_size > 0
    for name in pushforwards.PUSHFORWARDS:
        # A perfect match still shows multinomial noise: TV ≈ 0.012 here, with a standard
        # deviation of about a sixth of that (20 bins), so twice the expected noise is > 5 sd away.
        tv, noise = numbers[name]["total_variation"], numbers[name]["expected_total_variation_from_sampling"]
        assert 0 < tv < 2 * noise, name
    # The measure does see a wrong density: z² against the identity's bins is off by far more.
    z = torch.rand(20_000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    uniform_bins = torch.full((20,), 1 / 20, dtype=torch.float64)
    assert pushforwards.total_variation(torch.histc(z**2, 20, 0, 1) / len(z), uniform_bins) > 10 * numbers["square"]["expected_total_variation_from_sampling"]


def test_kde_held_out_likelihood_prefers_scott_to_extreme_bandwidths(tmp_path):
    from genlab.lecture import kernels

    numbers = kernels.draw(tmp_path, CPU, seed=0, n_train=300, n_test=500, bandwidths=(0.03, 0.3, 3.0), sweep_points=5)
    assert (tmp_path / "figure.png").stat().st_size > 0
    for kernel in ("gaussian", "epanechnikov"):
        scores = {h: v["log_likelihood"] for h, v in numbers["held_out"][kernel].items()}
        assert scores["scott"] > max(scores["0.03"], scores["3.0"]), kernel
        assert scores["scott"] < numbers["true_held_out_log_likelihood"] + 0.05
    # The compact kernel at h = 0.03 leaves test points with density 0, so its score is -inf.
    narrow = numbers["held_out"]["epanechnikov"]["0.03"]
    assert narrow["log_likelihood"] == -math.inf and narrow["outside_support"] > 0
    assert len(numbers["sweep"]["bandwidths"]) == len(numbers["sweep"]["gaussian"]) == 5


def test_trained_discriminator_reaches_the_jensen_shannon_value(tmp_path):
    from genlab.lecture import optimal_discriminator

    # 300 steps of 1024 + 1024 fresh draws (about 2 s) leave V within ~1e-3 of V(f*),
    # ten times inside the 1e-2 nats the figure promises at its larger default settings.
    numbers = optimal_discriminator.draw(tmp_path, CPU, seed=0, steps=300, batch_size=1024, lr=1e-2)
    assert (tmp_path / "figure.png").stat().st_size > 0
    assert abs(numbers["value_optimal"] - numbers["two_js_minus_ln4"]) < 1e-6
    assert -1e-6 < numbers["trained_gap"] < 1e-2  # V(f) <= V(f*) for every f
    assert -math.log(4) < numbers["two_js_minus_ln4"] < 0  # 0 < JS < ln 2 for distinct overlapping densities


def test_js_value_is_minus_ln4_for_equal_densities():
    from genlab.lecture.optimal_discriminator import GRID, two_js_minus_ln4

    grid = torch.linspace(*GRID, dtype=torch.float64)
    log_p = torch.distributions.Normal(1.0, 2.0).log_prob(grid)
    assert two_js_minus_ln4(log_p, log_p, grid) == pytest.approx(-math.log(4), abs=1e-9)


def test_wasserstein_critics_smoke(tmp_path):
    from genlab.lecture import wasserstein_dual

    numbers = wasserstein_dual.draw(tmp_path, CPU, seed=0, n_samples=300, steps=150, hidden=16, depth=1, eval_every=50)
    assert (tmp_path / "figure.png").stat().st_size > 0
    exact, estimates = numbers["exact_w1"], numbers["estimates"]
    assert numbers["optimal_critic_estimate"] == pytest.approx(exact, rel=1e-9)  # the dual is attained by f*
    assert set(estimates) == {"clip", "gp", "sn"} and all(math.isfinite(v) for v in estimates.values())
    assert 0 < estimates["clip"] < 0.05 * exact  # weights in [-0.01, 0.01] keep the critic far below 1-Lipschitz
    assert estimates["sn"] < 1.01 * exact  # spectral norm bounds the slope by 1 (its power iteration, by ~1)


def test_dimension_smoke_gmm_beats_kde_in_higher_dimension(tmp_path):
    from genlab.lecture import dimension

    numbers = dimension.draw(tmp_path, CPU, seed=0, dimensions=(1, 8), n_train=300, n_test=300)
    assert (tmp_path / "figure.png").stat().st_size > 0
    low, high = numbers["dimensions"]
    assert high["gmm"] > high["kde"]
    assert high["kde_gap"] > low["kde_gap"]
    assert high["gmm_parameters"] == 3 * (8 + 36) + 2


def test_pushforwards_runs_from_the_command_line(tmp_path):
    result = run_cli("+experiment=lecture/pushforwards", f"output_root={tmp_path}", "figure.n_samples=20000", cwd=tmp_path, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.endswith("_lecture_pushforwards")
    assert (run_dir / "figure.png").stat().st_size > 0
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["figure"] == "pushforwards" and metrics["n_samples"] == 20_000
    assert set(metrics) >= {"identity", "square", "inverse_gaussian_cdf"}

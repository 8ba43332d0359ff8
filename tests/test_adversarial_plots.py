"""The adversarial models' figures: critic map, training curves and sample snapshots,
drawn from untrained networks and a synthetic history (no training, so fast)."""

from __future__ import annotations

import matplotlib.image
import pytest
import torch

from genlab.data import GaussianMixture, Mixture1D, RingOfGaussians
from genlab.models import GAN, WGAN
from genlab.plots.critic import plot_critic
from genlab.plots.snapshots import plot_snapshots
from genlab.plots.training import plot_training

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, min_width=300, min_height=200):
    assert path is not None and path.exists()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    height, width, channels = image.shape
    assert width >= min_width and height >= min_height and channels in (3, 4)
    assert image[..., :3].std() > 0.01  # something was drawn, not a blank canvas
    return image


@pytest.fixture(scope="module")
def ring():
    return RingOfGaussians(n_train=300, n_test=300)


@pytest.fixture(scope="module")
def mixture1d():
    return Mixture1D(n_train=300, n_test=300)


@pytest.fixture(scope="module")
def cube():
    eye = torch.eye(3).tolist()
    return GaussianMixture([[0, 0, 0], [2, 2, 2]], [eye, eye], n_train=100, n_test=100)


def build(cls, dim, **kwargs):
    torch.manual_seed(0)
    return cls(hidden=16, depth=1, **kwargs).build(dim)


def history(model_kind: str, with_raw: bool, quality: str) -> dict:
    """A history shaped like `genlab.engine.loop.train`'s, with made-up numbers."""
    losses = []
    for i, step in enumerate((50, 100, 150, 200)):
        row = {"step": step, "critic_loss": 1.3 - 0.1 * i, "generator_loss": 0.7 + 0.05 * i}
        if model_kind == "GAN":
            row["value"] = -1.3 - 0.02 * i
        else:
            row |= {"wasserstein_estimate": 0.5 / (i + 1), "gradient_penalty": 0.01 * i}
        losses.append(row)

    def record(t):
        if quality == "modes":
            return {"mode_coverage": {"modes_captured": 2 + 2 * t, "n_modes": 8, "high_quality_fraction": 0.2 + 0.2 * t, "mode_counts": []},
                    "mmd": {"0.1": 0.1 / (t + 1), "1": 0.05 / (t + 1)}, "sliced_wasserstein": 0.3 / (t + 1)}
        return {"mmd": {"0.5": 0.1 / (t + 1)}, "wasserstein_1d": 0.4 / (t + 1)}

    evals = []
    for t, step in enumerate((100, 200)):
        entry = {"step": step, "train_seconds": 1.5 * (t + 1), "model": record(t)}
        if with_raw:
            entry["raw_generator"] = record(t * 0.5)
        evals.append(entry)
    return {"losses": losses, "evals": evals, "snapshots": [], "stopped": None}


# -- critic.png ----------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [WGAN, GAN])
def test_critic_2d_writes_png(tmp_path, ring, cls):
    path = plot_critic(build(cls, 2), ring, tmp_path / "critic.png", resolution=60)
    assert path == tmp_path / "critic.png"
    assert_png(path)


@pytest.mark.parametrize("cls", [GAN, WGAN])
def test_critic_1d_writes_png(tmp_path, mixture1d, cls):
    assert_png(plot_critic(build(cls, 1), mixture1d, tmp_path / "critic.png"))


def test_critic_none_beyond_2d(tmp_path, cube):
    assert plot_critic(build(WGAN, 3), cube, tmp_path / "critic.png") is None
    assert not (tmp_path / "critic.png").exists()


def test_critic_plot_leaves_model_state_untouched(tmp_path, ring):
    model = build(WGAN, 2, lipschitz="sn")
    model.critic.train()
    before = {k: v.clone() for k, v in model.critic.state_dict().items()}
    assert any(k.endswith("_u") for k in before)  # spectral norm's power-iteration buffers
    generator_before = {k: v.clone() for k, v in model.generator_ema.state_dict().items()}
    rng_before = torch.get_rng_state()
    plot_critic(model, ring, tmp_path / "critic.png", resolution=40)
    after = model.critic.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert all(torch.equal(v, model.generator_ema.state_dict()[k]) for k, v in generator_before.items())
    assert model.critic.training
    assert torch.equal(rng_before, torch.get_rng_state())  # samples come from a seeded generator of their own


# -- training.png --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cls, with_raw, quality",
    [(WGAN, True, "modes"), (GAN, False, "modes"), (GAN, True, "distance"), (WGAN, False, "distance")],
)
def test_training_writes_png(tmp_path, cls, with_raw, quality):
    model = build(cls, 2)
    image = assert_png(plot_training(history(model.label, with_raw, quality), model, tmp_path / "training.png"), min_width=900)
    assert image.shape[1] > image.shape[0] * 2  # three panels side by side


def test_training_without_evals_has_two_panels(tmp_path):
    model = build(GAN, 1)
    runs = history("GAN", False, "modes") | {"evals": []}
    two = assert_png(plot_training(runs, model, tmp_path / "training.png"))
    three = matplotlib.image.imread(plot_training(history("GAN", False, "modes"), model, tmp_path / "three.png"))
    assert two.shape[1] < three.shape[1]


def test_training_none_without_losses(tmp_path):
    empty = {"losses": [], "evals": [], "snapshots": [], "stopped": None}
    assert plot_training(empty, build(WGAN, 2), tmp_path / "training.png") is None
    assert not (tmp_path / "training.png").exists()


def test_training_tolerates_missing_metrics(tmp_path):
    runs = history("WGAN", True, "modes")
    del runs["evals"][0]["raw_generator"]["mode_coverage"]
    runs["evals"][1]["model"]["mode_coverage"]["n_modes"] = 0
    assert_png(plot_training(runs, build(WGAN, 2), tmp_path / "training.png"))


# -- snapshots.png -------------------------------------------------------------------------


def snapshots(data, n):
    """n snapshots whose samples spread from a point near the centre out to the data."""
    generator = torch.Generator().manual_seed(1)
    spread = torch.linspace(0.05, 1.0, n)
    return [
        {"step": 100 * i, "samples": spread[i] * data.train[torch.randperm(len(data.train), generator=generator)[:200]] + (1 - spread[i]) * 0.3}
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 4, 9])
def test_snapshots_2d_writes_png(tmp_path, ring, n):
    image = assert_png(plot_snapshots(snapshots(ring, n), ring, "WGAN", tmp_path / "snapshots.png"), min_width=200)
    if n == 9:  # five panels a row on two rows: wider than tall, but not nine in a row
        assert 1.2 < image.shape[1] / image.shape[0] < 3.5


def test_snapshots_1d_writes_png(tmp_path, mixture1d):
    assert_png(plot_snapshots(snapshots(mixture1d, 3), mixture1d, "GAN", tmp_path / "snapshots.png"))


def test_snapshots_none_when_empty_or_beyond_2d(tmp_path, ring, cube):
    assert plot_snapshots([], ring, "GAN", tmp_path / "a.png") is None
    assert plot_snapshots([{"step": 0, "samples": cube.train[:10]}], cube, "GAN", tmp_path / "b.png") is None
    assert not any(tmp_path.iterdir())

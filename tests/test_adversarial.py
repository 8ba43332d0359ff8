"""GAN and WGAN: losses against their formulas, the Lipschitz constraints, and the loop's
promises (determinism, exact resume, the NaN guard)."""

import math

import pytest
import torch
from torch.nn.functional import logsigmoid

from genlab.engine.checkpoint import load_checkpoint
from genlab.data import Moons, RingOfGaussians
from genlab.errors import ConfigError
from genlab.models import GAN, VAE, WGAN
from genlab.engine.loop import TrainerSettings, TrainingDiverged, train

SMALL = dict(hidden=32, depth=2, batch_size=64)


def linear_critic(model, w, b):
    """Make the critic the linear map f(x) = w.x + b (depth 0)."""
    with torch.no_grad():
        model.critic[0].weight.copy_(torch.tensor([w], dtype=torch.float32))
        model.critic[0].bias.fill_(b)


def test_gradient_penalty_of_a_linear_critic_is_its_closed_form():
    model = WGAN(depth=0, gp_weight=10.0).build(2)
    linear_critic(model, [0.6, -1.7], 0.3)
    real, fake = torch.randn(128, 2), torch.randn(128, 2) + 3
    # grad f = w everywhere, so the penalty is (|w| - 1)^2 whatever the interpolates.
    expected = (math.hypot(0.6, -1.7) - 1) ** 2
    assert model.gradient_penalty(real, fake).item() == pytest.approx(expected, rel=1e-6)
    loss, stats = model.critic_loss(real, fake, torch.Generator().manual_seed(0))
    w = torch.tensor([0.6, -1.7])
    wasserstein = (real @ w).mean() - (fake @ w).mean()
    assert stats["wasserstein_estimate"].item() == pytest.approx(wasserstein.item(), abs=1e-5)
    assert loss.item() == pytest.approx(-wasserstein.item() + 10 * expected, abs=1e-4)


def test_wgan_generator_loss_is_minus_the_mean_critic():
    model = WGAN(depth=0).build(2)
    linear_critic(model, [2.0, 1.0], -0.5)
    fake = torch.tensor([[1.0, 0.0], [0.0, 3.0]])
    assert model.generator_loss(fake).item() == pytest.approx(-(1.5 + 2.5) / 2)


@pytest.mark.parametrize("loss", ["minimax", "non_saturating"])
def test_gan_losses_match_their_formulas(loss):
    model = GAN(loss=loss, depth=0).build(2)
    linear_critic(model, [1.5, -0.5], 0.25)
    real, fake = torch.randn(64, 2), torch.randn(64, 2) * 4
    f = lambda x: torch.sigmoid(x.double() @ torch.tensor([1.5, -0.5], dtype=torch.float64) + 0.25)  # exact reference
    value = torch.log(f(real)).mean() + torch.log(1 - f(fake)).mean()  # V(f, g), the lecture's objective
    d_loss, stats = model.critic_loss(real, fake)
    assert d_loss.item() == pytest.approx(-value.item(), rel=1e-5)
    assert stats["value"].item() == pytest.approx(value.item(), rel=1e-5)
    expected = torch.log(1 - f(fake)).mean() if loss == "minimax" else -torch.log(f(fake)).mean()
    assert model.generator_loss(fake).item() == pytest.approx(expected.item(), rel=1e-5)
    assert torch.allclose(model.critic_value(real).double(), f(real), atol=1e-6)


def test_gan_losses_stay_finite_where_the_discriminator_is_certain():
    model = GAN(depth=0).build(1)
    linear_critic(model, [1.0], 0.0)
    far = torch.tensor([[200.0], [-200.0]])  # sigmoid rounds to exactly 0 and 1 here
    assert torch.isfinite(model.critic_loss(far, far)[0]) and torch.isfinite(model.generator_loss(far))
    assert model.generator_loss(far).item() == pytest.approx(-logsigmoid(torch.tensor([200.0, -200.0])).mean().item())


def test_weight_clipping_keeps_every_critic_weight_in_bounds():
    model = WGAN(lipschitz="clip", clip_value=0.01, **SMALL).build(2)
    assert all(p.abs().max() <= 0.01 for p in model.critic.parameters())
    model.fit(Moons(n_train=500).train, max_steps=30)
    weights = torch.cat([p.flatten() for p in model.critic.parameters()])
    assert weights.abs().max() <= 0.01 and (weights.abs() == 0.01).any()  # the bound is active, and holds
    assert model.optimizer == "rmsprop" and model.lr == 5e-5


def test_spectral_norm_makes_every_critic_layer_1_lipschitz():
    model = WGAN(lipschitz="sn", **SMALL).fit(Moons(n_train=500).train, max_steps=30)
    model.critic.eval()
    # One power iteration per training step (Miyato et al.; torch's default) lags the
    # moving weights a little, so the norms sit near 1 rather than exactly at it.
    norms = [torch.linalg.matrix_norm(layer.weight, ord=2).item() for layer in model.critic if isinstance(layer, torch.nn.Linear)]
    assert len(norms) == 3 and all(0.9 < norm < 1.1 for norm in norms), norms
    plain = WGAN(**SMALL).fit(Moons(n_train=500).train, max_steps=30)
    assert max(torch.linalg.matrix_norm(p, ord=2).item() for p in plain.critic.parameters() if p.dim() == 2) > 1.5


def test_warmup_follows_the_wgan_papers_schedule():
    model = WGAN(lipschitz="clip", warmup=True)
    assert [model.d_steps_at(s) for s in (0, 24, 25, 499, 500, 501)] == [100, 100, 5, 5, 100, 5]
    assert WGAN().d_steps_at(0) == 5


def train_steps(model_factory, steps, **settings):
    torch.manual_seed(0)
    model = model_factory().build(2)
    x = RingOfGaussians(n_train=500).train
    return model, train(model, x, TrainerSettings(max_steps=steps, progress=False, **settings), seed=0)


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_a_seeded_run_is_deterministic():
    a, history_a = train_steps(lambda: WGAN(**SMALL), 40, log_every=10)
    b, history_b = train_steps(lambda: WGAN(**SMALL), 40, log_every=10)
    assert same_weights(a, b) and history_a["losses"] == history_b["losses"]
    c, _ = train_steps(lambda: WGAN(**SMALL), 41, log_every=10)
    assert not same_weights(a, c)


@pytest.mark.parametrize("factory", [lambda: WGAN(**SMALL), lambda: WGAN(lipschitz="sn", **SMALL), lambda: GAN(d_steps=2, **SMALL), lambda: VAE(**SMALL),
                                     lambda: GAN(batch_norm=True, dropout=0.3, **SMALL), lambda: WGAN(pack=2, **SMALL)])
def test_resume_n_plus_n_steps_equals_2n_steps_exactly(tmp_path, factory):
    x = RingOfGaussians(n_train=500).train
    straight, _ = train_steps(factory, 40)
    torch.manual_seed(0)
    first = factory().build(2)
    train(first, x, TrainerSettings(max_steps=20, progress=False), seed=0, run_dir=tmp_path, config={})
    checkpoint = load_checkpoint(tmp_path / "checkpoint.pt")
    assert checkpoint["step"] == 20
    torch.manual_seed(123)  # a resumed run must not depend on the global RNG
    resumed = factory().load_state_dict(checkpoint["model_state"])
    train(resumed, x, TrainerSettings(max_steps=40, progress=False), seed=0, resume=checkpoint)
    assert resumed.steps_trained_ == 40 and same_weights(resumed, straight)
    buffers = lambda m: [b for network in m.networks() if network is not None for b in network.buffers()]
    assert all(torch.equal(p, q) for p, q in zip(buffers(resumed), buffers(straight), strict=True))


def test_the_nan_guard_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    torch.manual_seed(0)
    model = WGAN(lr=1e8, d_steps=1, **SMALL).build(2)  # each Adam step moves every weight by about 1e8
    settings = TrainerSettings(max_steps=50, checkpoint_every=1, log_every=1, progress=False)
    with pytest.raises(TrainingDiverged, match=r"training diverged by step \d+: .*(nan|inf).*last good checkpoint \(step \d+\)"):
        train(model, Moons(n_train=500).train, settings, run_dir=tmp_path, config={})
    saved = load_checkpoint(tmp_path / "checkpoint.pt")
    assert saved["step"] >= 1
    restored = WGAN(lr=1e8, d_steps=1, **SMALL).load_state_dict(saved["model_state"])
    assert all(torch.isfinite(p).all() for p in restored.parameters())
    assert torch.isfinite(restored.sample(10)).all()


def test_samples_come_from_the_average_and_the_raw_generator_on_request():
    model = WGAN(**SMALL).fit(Moons(n_train=500).train, max_steps=20)
    g = lambda: torch.Generator().manual_seed(1)
    ema, raw = model.sample(100, g()), model.sample(100, g(), raw=True)
    assert ema.shape == raw.shape == (100, 2) and not torch.equal(ema, raw)
    off = WGAN(ema=0, **SMALL).fit(Moons(n_train=500).train, max_steps=5)
    assert torch.equal(off.sample(10, g()), off.sample(10, g(), raw=True))


def linear_widths(network):
    return [m.out_features for m in network.modules() if isinstance(m, torch.nn.Linear)]


def test_width_lists_shape_each_network_and_batch_norm_skips_the_first_layer():
    model = GAN(hidden=[8, 16, 32], critic_hidden=[16, 4], batch_norm=True, latent_dim=5).build(784, image_shape=(1, 28, 28))
    assert linear_widths(model.generator) == [8, 16, 32, 784] and linear_widths(model.critic) == [16, 4, 1]
    norms = [m.num_features for m in model.generator.modules() if isinstance(m, torch.nn.BatchNorm1d)]
    assert norms == [16, 32] and not any(isinstance(m, torch.nn.BatchNorm1d) for m in model.critic.modules())
    points = WGAN(hidden=12, depth=2, critic_hidden=6).build(2)
    assert linear_widths(points.generator) == [12, 12, 2] and linear_widths(points.critic) == [6, 6, 1]
    assert linear_widths(GAN(hidden=12, depth=2).build(2).critic) == [12, 12, 1]  # critic_hidden null: the generator's


def test_a_packed_critic_judges_consecutive_rows_as_one_group():
    torch.manual_seed(0)
    model = GAN(hidden=[8], critic_hidden=[6], pack=2, latent_dim=5).build(784, image_shape=(1, 28, 28))
    assert model.critic.network[0].in_features == 2 * 784
    x = torch.rand(64, 784)
    groups = model.critic(x)
    assert groups.shape == (32, 1)
    assert torch.allclose(groups[3], model.critic.network(torch.cat([x[6], x[7]])), atol=1e-6)
    # One score per point for the figures: the score of the group of copies of that point.
    assert torch.allclose(model.critic_value(x[:5]), torch.sigmoid(model.critic.network(torch.cat([x[:5], x[:5]], 1))[:, 0]), atol=1e-6)
    convolutional = WGAN(arch="dcgan", channels=4, pack=3, batch_size=48).build(784, image_shape=(1, 28, 28))
    assert convolutional.critic.network[1].in_channels == 3 and convolutional.critic(x[:48]).shape == (16, 1)
    with pytest.raises(ConfigError, match="pack: the critic judges groups of 3 rows, got a batch of 64"):
        convolutional.critic(x)


def test_the_gradient_penalty_of_a_packed_linear_critic_takes_the_norm_over_each_group():
    model = WGAN(depth=0, pack=2).build(2)
    w = [0.6, -1.7, 0.2, 0.9]
    with torch.no_grad():
        model.critic.network[0].weight.copy_(torch.tensor([w]))
    real, fake = torch.randn(128, 2), torch.randn(128, 2) + 3
    expected = (math.sqrt(sum(v * v for v in w)) - 1) ** 2  # one gradient w per group, not per point
    assert model.gradient_penalty(real, fake).item() == pytest.approx(expected, rel=1e-6)


def test_the_averaged_generator_gets_batch_norm_statistics_of_its_own_and_samples_independently():
    from genlab.models.adversarial import EMA_STATISTICS_SEED

    torch.manual_seed(0)
    model = GAN(hidden=[8, 16], batch_norm=True, batch_size=64, ema=0.9).fit(Moons(n_train=500).train, max_steps=50)
    samples = model.sample(300, torch.Generator().manual_seed(3))
    ema = model.generator_ema
    g = torch.Generator().manual_seed(EMA_STATISTICS_SEED)
    z = torch.cat([model.prior.sample(1000, "cpu", g) for _ in range(10)])
    with torch.no_grad():
        before_norm = ema[2](ema[1](ema[0](z)))  # linear, activation, linear: what the batch norm sees
    norm = ema[3]
    assert torch.allclose(norm.running_mean, before_norm.mean(0), atol=1e-5)
    assert torch.allclose(norm.running_var, before_norm.var(0), rtol=0.02)  # the mean of 10 batch variances
    assert not torch.allclose(norm.running_mean, model.generator[3].running_mean, atol=1e-3)  # not the raw generator's
    # Each sample is g(z) for its own z alone (eval mode), not normalized with its neighbours.
    with torch.no_grad():
        alone = torch.cat([ema(z_i[None]) for z_i in model.prior.sample(300, "cpu", torch.Generator().manual_seed(3))[:20]])
    assert torch.allclose(samples[:20], alone, atol=1e-5)
    assert model.generator.training and model.generator_ema.training is False  # the raw generator goes on training


def test_uniform_latent_lies_in_the_cube():
    model = GAN(latent="uniform", latent_dim=3, **SMALL).build(1)
    z = model.prior.sample(1000, "cpu", torch.Generator().manual_seed(0))
    assert z.shape == (1000, 3) and z.min() >= -1 and z.max() <= 1 and z.min() < -0.99


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda: GAN(loss="wasserstein"), "loss must be one of non_saturating, minimax"),
        (lambda: WGAN(lipschitz="none"), "lipschitz must be one of gp, clip, sn"),
        (lambda: GAN(d_steps=0), "d_steps must be a positive integer"),
        (lambda: WGAN(lr=0), "lr must be a positive number"),
        (lambda: WGAN(lr=-1e-3), "lr must be a positive number"),
        (lambda: GAN(activation="sigmoid"), "activation must be one of relu"),
        (lambda: GAN(latent="cauchy"), "latent must be one of normal, uniform"),
        (lambda: GAN(ema=1.0), "ema must be in [0, 1)"),
        (lambda: WGAN(depth=-1), "depth must be an integer >= 0"),
        (lambda: TrainerSettings(max_steps=0), "max_steps must be a positive integer"),
        (lambda: GAN(hidden=[64, 0]), "hidden must be a positive integer or a list of them"),
        (lambda: WGAN(critic_hidden=[32, "wide"]), "hidden must be a positive integer or a list of them"),
        (lambda: GAN(batch_norm="yes"), "batch_norm must be true or false"),
        (lambda: GAN(pack=0), "pack must be a positive integer"),
        (lambda: WGAN(batch_size=63, pack=2), "batch_size must be a multiple of pack (got batch_size=63, pack=2)"),
    ],
)
def test_bad_settings_name_the_key(make, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(").replace(")", r"\)")):
        make()


def test_the_moving_average_warms_up_so_a_long_one_is_useful_early():
    assert [WGAN(ema=0.9999).ema_decay(t) for t in (0, 90)] == [pytest.approx(0.1), pytest.approx(0.91)]
    assert WGAN(ema=0.9999).ema_decay(10**6) == WGAN(ema=0.9999, ema_warmup=False).ema_decay(0) == 0.9999
    torch.manual_seed(0)
    initial = WGAN(**SMALL).build(2).generator
    warm, _ = train_steps(lambda: WGAN(ema=0.9999, **SMALL), 200)
    plain, _ = train_steps(lambda: WGAN(ema=0.9999, ema_warmup=False, **SMALL), 200)
    assert same_weights(warm.generator, plain.generator)  # the average never feeds back into training

    def distance(a, b):
        return math.sqrt(sum((p - q).square().sum().item() for p, q in zip(a.parameters(), b.parameters(), strict=True)))

    moved = distance(warm.generator, initial)
    # 200 steps of a plain 0.9999 average hold 98% of the untrained weights; the warmed-up one follows training.
    assert distance(plain.generator_ema, initial) < 0.05 * moved
    assert distance(warm.generator_ema, warm.generator) < 0.3 * moved < distance(warm.generator_ema, initial)


def test_snapshots_are_evenly_spaced_from_step_0():
    assert TrainerSettings(max_steps=1000, n_snapshots=6).snapshot_steps() == {0, 200, 400, 600, 800, 1000}
    assert TrainerSettings(max_steps=10, n_snapshots=1).snapshot_steps() == {10}
    assert TrainerSettings(n_snapshots=0).snapshot_steps() == set()
    _, history = train_steps(lambda: WGAN(**SMALL), 20, n_snapshots=3, snapshot_size=50)
    assert [s["step"] for s in history["snapshots"]] == [0, 10, 20] and history["snapshots"][0]["samples"].shape == (50, 2)


def test_a_time_budget_stops_training_early_and_says_so():
    model, history = train_steps(lambda: WGAN(**SMALL), 10**9, max_seconds=0.5, log_every=10)
    assert 0 < model.steps_trained_ < 10**9 and history["stopped"].startswith("max_seconds (0.5 s) at step")
    assert history["train_seconds"] >= 0.5 and history["losses"][-1]["step"] == model.steps_trained_

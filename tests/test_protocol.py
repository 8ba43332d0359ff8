"""A model written against the protocol alone gets the whole run: the 40-line diagonal flow
that once crashed a moons run twice (the report probed for iwae_k, the plots for kl_weight)."""

import copy
import json
import math

import pytest
import torch
from omegaconf import OmegaConf

import genlab
from genlab.engine.loop import TrainerSettings
from genlab.models.trained import TrainedModel
from genlab.train import run
from helpers import compose_config


class DiagonalFlow(TrainedModel):
    """x = mu + exp(s) * z, z ~ N(0, I): exact log_prob and sampling, nothing else declared."""

    label = "diagonal flow"
    network_names = ("net",)

    def __init__(self, lr: float = 0.05, batch_size: int = 128):
        self.lr, self.batch_size, self.net = lr, batch_size, None

    def build(self, dim, device="cpu", image_shape=None):
        self.dim, self.net = dim, torch.nn.ParameterDict({"mu": torch.zeros(dim), "log_s": torch.zeros(dim)}).to(device)
        return self

    def train_step(self, draw, optimizers, rng, step):
        loss = -self.log_prob(draw(self.batch_size)).mean()
        optimizers[0].zero_grad()
        loss.backward()
        optimizers[0].step()
        return {"negative_log_likelihood": loss.detach()}

    def log_prob(self, x):
        z = (x - self.net["mu"]) * torch.exp(-self.net["log_s"])
        return (-0.5 * z.square() - 0.5 * math.log(2 * math.pi) - self.net["log_s"]).sum(-1)

    @torch.no_grad()
    def sample(self, n, generator=None):
        return self.net["mu"] + torch.exp(self.net["log_s"]) * torch.randn(n, self.dim, generator=generator, device=self.net["mu"].device)


def flow_config(*overrides):
    cfg = compose_config("model=gan", "data=mixture1d", "trainer.max_steps=300", "trainer.eval_every=150",
                         "n_eval=500", "n_fresh=2000", *overrides)
    OmegaConf.set_struct(cfg, False)
    cfg.model = {"_target_": f"{__name__}.DiagonalFlow"}
    return cfg


def test_a_protocol_only_model_gets_metrics_figures_checkpoint_and_resume(tmp_path):
    metrics = run(flow_config(), tmp_path / "run")
    # An exact density: its own test log-likelihood and KL, against a one-Gaussian fit of a two-mode mixture.
    assert math.isfinite(metrics["test_log_likelihood"]) and metrics["test_log_likelihood"] < metrics["true_test_log_likelihood"]
    assert 0 < metrics["kl_estimate"] < 1.0 and metrics["steps"] == 300
    assert {"model", "real_data"} <= set(metrics["samples"]) and "raw_generator" not in metrics["samples"]
    files = {p.name for p in (tmp_path / "run").iterdir()}
    assert {"density.png", "samples.png", "training.png", "snapshots.png", "checkpoint.pt", "metrics.json", "config.yaml"} <= files
    assert not files & {"critic.png", "pushforward.png"}  # only the figures a model asks for
    evals = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals] == [150, 300]
    # Bit-exact resume: 150 + 150 steps equal 300 in one go.
    run(flow_config("trainer.max_steps=150"), tmp_path / "half")
    resumed = run(flow_config(f"ckpt_path={tmp_path / 'half'}"), tmp_path / "resumed")
    assert resumed["test_log_likelihood"] == metrics["test_log_likelihood"]
    model, _ = genlab.load_run(tmp_path / "run", model_class=DiagonalFlow)
    x = torch.linspace(-3, 3, 7)[:, None]
    assert torch.allclose(model.log_prob(x), model.differentiable_log_prob()(x))
    assert model.langevin_refusal("mala") is None  # an exact density: Langevin may follow it


def test_a_new_model_writes_at_most_five_methods():
    written = [name for name, value in vars(DiagonalFlow).items() if callable(value) and name != "__init__"]
    assert sorted(written) == ["build", "log_prob", "sample", "train_step"]


def test_langevin_and_mala_sample_a_trained_model_through_the_generic_path(tmp_path):
    metrics = run(flow_config("sampler=mala", "sampler.step_size=0.1", "sampler.n_steps=200", "trainer.max_steps=150"), tmp_path / "mala")
    sampler, chains = metrics["samples"]["sampler"], metrics["samples"]["langevin"]
    assert sampler["name"] == "mala" and 0.5 < sampler["acceptance_rate"] < 0.999
    # The chains sample the fitted density: as close to held-out data as the model's own samples.
    assert abs(chains["wasserstein_1d"]
               - metrics["samples"]["model"]["wasserstein_1d"]) < 0.05


def test_step_size_auto_is_refused_before_training_when_the_model_cannot_tell_its_spread(tmp_path):
    import pytest
    from genlab.errors import ConfigError

    with pytest.raises(ConfigError, match="sampler.step_size"):
        run(flow_config("sampler=langevin", "sampler.step_size=auto"), tmp_path / "auto")
    assert not (tmp_path / "auto" / "config.yaml").exists()  # nothing trained, nothing written


def test_an_exact_density_on_images_reports_its_log_likelihood_and_bits_per_dimension(tmp_path, mnist_env):
    cfg = flow_config("data=mnist", "data.n_train=500", "trainer.max_steps=20", "trainer.eval_every=10", "n_eval=100",
                      "image_eval.classifier=false", "image_eval.references=false", "image_eval.n_test=200")
    metrics = run(cfg, tmp_path / "run")
    ll, bits = metrics["test_log_likelihood"], metrics["test_bits_per_dim"]
    assert math.isfinite(ll) and abs(bits - (8 - ll / (784 * math.log(2)))) < 1e-5  # (float32 means) density of [0, 1] pixels -> bits of 8-bit ones
    evals = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals] == [10, 20] and all("validation_log_likelihood" in e["model"] for e in evals)
    assert "parzen" in metrics  # beside the Parzen number of its own samples


class CosineDiagonalFlow(DiagonalFlow):
    """The diagonal flow, tuned with a cosine schedule, recording the rate of every step."""

    lr_schedule = "cosine"

    def train_step(self, draw, optimizers, rng, step):
        self.rates = [*getattr(self, "rates", []), optimizers[0].param_groups[0]["lr"]]
        return super().train_step(draw, optimizers, rng, step)


def test_the_trainer_follows_the_model_s_schedule_unless_told_otherwise():
    x = torch.randn(500, 1)
    model = CosineDiagonalFlow().fit(x, max_steps=10)
    assert model.rates[0] == 0.05 and model.rates[5] == pytest.approx(0.025) and model.rates[-1] < 0.002
    assert set(CosineDiagonalFlow().fit(x, max_steps=10, lr_schedule="constant").rates) == {0.05}


def test_with_a_time_budget_the_cosine_follows_the_share_of_max_seconds_used():
    settings = TrainerSettings(max_steps=1000, max_seconds=10.0, lr_schedule="cosine")
    assert settings.lr_factor(100, seconds=5.0) == pytest.approx(0.5)  # half the time gone, a tenth of the steps
    assert settings.lr_factor(750, seconds=1.0) == pytest.approx(0.5 * (1 + math.cos(0.75 * math.pi)))  # steps ahead of the clock
    assert settings.lr_factor(10, seconds=12.0) == 0.0
    assert TrainerSettings(max_steps=1000, lr_schedule="cosine").lr_factor(100, seconds=5.0) == pytest.approx(0.5 * (1 + math.cos(0.1 * math.pi)))
    # A run that the clock ends, far short of max_steps, still ends at a small rate, having decayed steadily.
    rates = CosineDiagonalFlow().fit(torch.randn(500, 1), max_steps=10**9, max_seconds=0.5).rates
    assert rates[0] == pytest.approx(0.05) and rates[-1] < 0.001 and len(rates) > 50
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))


class AveragedDiagonalFlow(DiagonalFlow):
    """The diagonal flow holding a frozen copy of its weights, as a moving average would be."""

    network_names = ("net", "net_average")

    def build(self, dim, device="cpu", image_shape=None):
        super().build(dim, device)
        self.net_average = copy.deepcopy(self.net).requires_grad_(False)
        return self


def test_a_frozen_copy_is_saved_but_neither_trained_nor_counted(tmp_path):
    model = AveragedDiagonalFlow().fit(torch.randn(500, 3) + 2, max_steps=20)
    (optimizer,) = model.make_optimizers()
    assert model.n_parameters == 6 and sum(p.numel() for group in optimizer.param_groups for p in group["params"]) == 6
    assert torch.equal(model.net_average["mu"], torch.zeros(3)) and model.net["mu"].abs().min() > 0  # trained, the copy not
    assert set(model.state_dict()) >= {"net", "net_average"}

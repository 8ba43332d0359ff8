"""Image runs as users start them, on a subset of the real MNIST: files, numbers, bad input."""

from __future__ import annotations

import json

import pytest
import torch

import genlab
from genlab.errors import ConfigError
from genlab.metrics.classifier import ClassifierConfig
from genlab.train import run
from genlab.evaluation import references
from helpers import compose_config, run_cli

SMALL = ["data.n_train=2000", "n_eval=300", "image_eval.n_test=300", "trainer.log_every=10", "image_eval.ais=false"]
GAN_SMALL = ["model.hidden=64", "model.critic_hidden=64", "model.batch_size=64", *SMALL]


def test_a_short_gan_run_on_mnist_writes_grids_and_metrics(tmp_path, mnist_env):
    result = run_cli("model=gan", "data=mnist", "trainer.max_steps=60", "trainer.eval_every=30", "image_eval.classifier=false",
                     *GAN_SMALL, cwd=tmp_path, env={"GENLAB_MNIST_DIR": str(mnist_env)})
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert {p.name for p in run_dir.iterdir()} == {".hydra", "train.log", "config.yaml", "checkpoint.pt", "metrics.json",
                                                   "metrics.jsonl", "samples.png", "training.png", "snapshots.png"}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["data"] == "mnist" and metrics["steps"] == 60 and metrics["images"]["binarize"] == "none"
    parzen, refs = metrics["parzen"], metrics["references"]
    assert parzen["n_centres"] == 300 and parzen["n_test"] == 300 and min(abs(parzen["sigma"] - s) for s in parzen["sigmas"]) < 1e-12
    # 60 steps: far below real images as centres, far above noise.
    assert refs["uniform_noise"]["parzen"]["mean"] < parzen["mean"] < refs["real_train_images"]["parzen"]["mean"]
    evals = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert [e["step"] for e in evals] == [30, 60] and all("validation_parzen" in e["model"] for e in evals)
    model, config = genlab.load_run(run_dir)
    images = model.sample(4)
    assert images.shape == (4, 784) and images.min() >= 0 and images.max() <= 1 and config.model.latent_dim == 100


def test_a_vae_run_on_mnist_reports_bounds_and_draws_its_figures(tmp_path, mnist_env):
    cfg = compose_config("model=vae", "data=mnist", "model.latent_dim=2", "model.hidden=64", "model.iwae_k=50",
                         "trainer.max_steps=200", "trainer.eval_every=100", "image_eval.classifier=false", *SMALL, f"output_root={tmp_path}")
    metrics = run(cfg, tmp_path / "run")
    assert cfg.data.binarize == "dynamic" and cfg.model.likelihood == "bernoulli"  # conf/model_data/vae_mnist.yaml
    for png in ("samples.png", "snapshots.png", "training.png", "reconstructions.png", "latent_manifold.png"):
        assert (tmp_path / "run" / png).read_bytes()[:4] == b"\x89PNG"
    # Both are bounds on log p(x) of binarized test images; importance weighting tightens the ELBO.
    assert metrics["test_elbo"] < metrics["test_log_likelihood"] < 0
    assert metrics["test_log_likelihood"] - metrics["test_elbo"] < 20
    assert 100 < -metrics["test_log_likelihood"] < 300  # 200 steps: between a trained VAE (~90) and uniform pixels (543)


def test_ais_reports_a_bound_above_the_elbo_and_its_bdmc_gap(tmp_path, mnist_env, caplog):
    cfg = compose_config("model=vae", "data=mnist", "model.latent_dim=2", "model.hidden=64", "model.iwae_k=50",
                         "trainer.max_steps=200", "trainer.eval_every=100", "image_eval.classifier=false", *SMALL,
                         "image_eval.ais=true", "image_eval.ais_images=100", "image_eval.ais_steps=200", "image_eval.bdmc_points=20",
                         f"output_root={tmp_path}")
    assert compose_config("model=vae", "data=mnist").image_eval.ais  # on by default on MNIST (conf/model_data/vae_mnist.yaml)
    with caplog.at_level("INFO", logger="genlab"):
        metrics = run(cfg, tmp_path / "run")
    ais = metrics["ais"]
    assert ais["n_points"] == 100 and ais["initial"] == "encoder" and ais["settings"]["n_steps"] == 200
    # From the encoder along the path: AIS's bound beats the ELBO of the same images (the first 100 of the test subset).
    model, _ = genlab.load_run(tmp_path / "run")
    test = run_test_images(cfg)[:100]
    elbo = model.bound(test, torch.Generator().manual_seed(0))
    assert ais["mean"] > elbo.mean().item()
    assert ais["bdmc"]["n_points"] == 20 and -0.5 < ais["bdmc"]["gap"] < 5
    assert "AIS lower bound" in caplog.text and "BDMC gap" in caplog.text


def run_test_images(cfg):
    """The test images an image run scores, in its order (genlab.evaluation.images)."""
    from genlab.evaluation.images import SUBSET_SEED
    from hydra.utils import instantiate

    data = instantiate(cfg.data)
    generator = torch.Generator().manual_seed(SUBSET_SEED)
    torch.randperm(len(data.validation), generator=generator)
    return data.test[torch.randperm(len(data.test), generator=generator)[: cfg.image_eval.n_test]]


def test_a_wgan_with_dcgan_networks_trains_on_mnist(tmp_path, mnist_env):
    cfg = compose_config("model=wgan", "data=mnist", "model.arch=dcgan", "model.channels=8", "model.d_steps=1",
                         "trainer.max_steps=10", "trainer.eval_every=10", "image_eval.parzen=false", "image_eval.classifier=false", *SMALL, f"output_root={tmp_path}")
    metrics = run(cfg, tmp_path / "run")
    assert metrics["steps"] == 10 and "parzen" not in metrics and cfg.model.gp_weight == 10
    model, _ = genlab.load_run(tmp_path / "run")
    assert isinstance(model.critic[1], torch.nn.Conv2d) and model.sample(3).shape == (3, 784)


def test_the_classifier_and_references_are_computed_once(tmp_path, mnist_env, monkeypatch, caplog):
    monkeypatch.setattr(references, "CLASSIFIER", ClassifierConfig(n_train=2000, epochs=1, channels=(4, 8), hidden=16))
    references.domain_classifier.cache_clear()
    overrides = ["model=gan", "data=mnist", "trainer.max_steps=5", "trainer.eval_every=5", *GAN_SMALL, f"output_root={tmp_path}"]
    with caplog.at_level("INFO", logger="genlab"):
        first = run(compose_config(*overrides), tmp_path / "first")
        references.domain_classifier.cache_clear()
        second = run(compose_config(*overrides), tmp_path / "second")
    log = caplog.text
    assert log.count("trained the domain classifier") == 1 and log.count("reused the domain classifier") >= 1
    assert log.count("computing the reference numbers") == 1
    assert first["references"] == second["references"]
    coverage = first["classifier"]["coverage"]
    assert len(coverage["histogram"]) == 10 and abs(sum(coverage["histogram"]) - 1) < 1e-9
    floor = first["references"]["real_train_images"]["frechet_distance"]
    assert 0 < floor < first["classifier"]["frechet_distance"]  # 5 steps of training: far from real images


@pytest.mark.parametrize("overrides, message", [
    (["model=gan", "data=moons", "model.arch=dcgan"], "model.arch must be mlp for points of dim 2"),
    (["model=gan", "data=mnist", "model.arch=resnet"], "model.arch must be one of mlp, dcgan"),
    (["model=kde", "data=mnist"], "model: kde runs on 1D/2D points"),
    (["model=vae", "data=mnist", "data.binarize=sometimes"], "data.binarize must be one of none, dynamic, static"),
    (["model=vae", "data=moons", "model.likelihood=bernoulli"], "model.likelihood bernoulli is for images"),
    (["model=vae", "data=moons", "model.kl_weight=-1"], "model.kl_weight must be a number >= 0"),
    (["model=vae", "data=moons", "model.latent_dim=0"], "model.latent_dim must be a positive integer"),
    (["model=gan", "data=mnist", "image_eval.parzen=maybe"], "image_eval.parzen must be true or false"),
    (["model=gan", "data=mnist", "image_eval.ais_images=0"], "image_eval.ais_images must be a positive integer"),
])
def test_bad_image_settings_are_refused_in_one_line(tmp_path, mnist_env, overrides, message):
    with pytest.raises(ConfigError, match=message):
        run(compose_config(*overrides, "trainer.max_steps=1", f"output_root={tmp_path}"), tmp_path / "run")

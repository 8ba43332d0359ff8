"""A run through Hydra's compose API: outputs, load_run, checkpoints and bad input, in-process."""

import json
import math
import pickle

import pytest
import torch

import genlab
from genlab.io import atomic_write
from genlab.engine.checkpoint import load_checkpoint, save_checkpoint
from genlab.errors import ConfigError
from genlab.models import KDE
from genlab.train import run
from helpers import compose_config


def test_compose_run_and_load_run_back(tmp_path):
    cfg = compose_config("model=kde", "data=moons", "model.bandwidth=0.1", "device=cpu")
    metrics = run(cfg, tmp_path)
    for name in ("config.yaml", "checkpoint.pt", "metrics.json", "density.png", "samples.png"):
        assert (tmp_path / name).exists(), name
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["test_log_likelihood"] == pytest.approx(metrics["test_log_likelihood"])
    assert on_disk["bandwidth"] == 0.1 and on_disk["n_parameters"] == 2000 * 2 + 1
    # The sample-quality metrics of the GANs, for the kde too, beside fresh real data.
    own, real = on_disk["samples"]["model"], on_disk["samples"]["real_data"]
    # A kde with a small bandwidth draws almost the data itself: as close to the test set as fresh real data.
    assert on_disk["samples"]["n"] == 2500 and own["sliced_wasserstein"] < 2 * real["sliced_wasserstein"] < 0.1
    assert set(own) == set(real) == {"mmd", "sliced_wasserstein", "kde_test_log_likelihood",  # and the final evaluation's:
                                     "precision_recall", "density_coverage", "kid", "c2st", "memorization"}
    model, config = genlab.load_run(tmp_path)
    assert isinstance(model, KDE) and config.model.bandwidth == 0.1
    fresh = KDE(bandwidth=0.1).fit(instantiate_data(config).train)
    x = torch.randn(100, 2)
    assert torch.equal(model.log_prob(x), fresh.log_prob(x))
    assert model.sample(7).shape == (7, 2)


def instantiate_data(config):
    from hydra.utils import instantiate

    return instantiate(config.data)


def test_the_same_seed_gives_the_same_metrics(tmp_path):
    a = run(compose_config("model=gmm", "data=8gaussians", "model.n_components=8", "seed=3"), tmp_path / "a")
    b = run(compose_config("model=gmm", "data=8gaussians", "model.n_components=8", "seed=3"), tmp_path / "b")
    for key in ("test_log_likelihood", "kl_estimate", "bic"):
        assert a[key] == b[key]
    # With 8 components on 8 gaussians, EM from k-means++ finds the truth: held-out likelihood near the true one.
    assert abs(a["test_log_likelihood"] - a["true_test_log_likelihood"]) < 0.05


def test_compact_kernels_report_points_outside_their_support(tmp_path):
    metrics = run(compose_config("model=kde", "data=8gaussians", "model.kernel=tophat", "model.bandwidth=0.001"), tmp_path)
    assert metrics["test_points_outside_support"] > 0 and metrics["test_log_likelihood"] == -math.inf
    assert json.loads((tmp_path / "metrics.json").read_text())["test_log_likelihood"] == "-inf"  # strict JSON


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["model.bandwidth=0"], "model.bandwidth must be a positive number or one of scott, silverman, cv"),
        (["model.kernel=box"], "model.kernel must be one of gaussian, epanechnikov, tophat, exponential, linear"),
        (["model=gmm", "model.n_components=0"], "model.n_components must be a positive integer"),
        (["model=gmm", "model.n_components=20", "data.n_train=10"], r"model.n_components must be at most the number of training points \(10\)"),
        (["model=gmm", "model.covariance_type=block"], "model.covariance_type must be one of full, diag, spherical, tied"),
        (["data=mixture1d", "data.means=[0,nan]"], "data.means must hold finite numbers only"),
        (["data=moons", "data.noise=-0.1"], "data.noise must be a number >= 0"),
        (["data.n_train=0"], "data.n_train must be a positive integer"),
        (["seed=1.5"], "seed must be an integer"),
        (["n_fresh=0"], "n_fresh must be a positive integer"),
        (["device.name=tpu"], "device must be one of auto, cpu, cuda, mps"),
    ],
)
def test_bad_values_name_the_key_and_write_nothing(tmp_path, overrides, message):
    with pytest.raises(ConfigError, match=message):
        run(compose_config(*overrides), tmp_path)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_where_there_is_none(tmp_path):
    with pytest.raises(ConfigError, match=r"device=cuda is not available on this machine \(allowed here: auto, cpu"):
        run(compose_config("device=cuda"), tmp_path)


def test_checkpoints_from_strangers_cannot_run_code(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    path = tmp_path / "checkpoint.pt"
    path.write_bytes(pickle.dumps({"format": "genlab-checkpoint-1", "model_state": Payload()}, protocol=2))
    with pytest.raises(ValueError, match="refusing to load .*checkpoint.pt: it holds objects other than tensors"):
        genlab.load_run(tmp_path)
    assert not marker.exists()


def test_a_crash_while_writing_keeps_the_previous_file(tmp_path):
    model = KDE(bandwidth=0.5).fit(torch.randn(20, 1))
    path = tmp_path / "checkpoint.pt"
    save_checkpoint(path, model=model, config={"model": {}}, step=1)
    before = path.read_bytes()

    def crash(handle):
        handle.write(b"half a checkpoint")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(path, crash)
    assert path.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]
    assert load_checkpoint(path)["step"] == 1

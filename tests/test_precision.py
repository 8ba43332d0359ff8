"""trainer.precision: bf16 forward passes in training, fp32 everywhere else."""

from __future__ import annotations

import pytest
import torch

from genlab.data import Moons
from genlab.errors import ConfigError
from genlab.models import GAN, VAE, WGAN
from genlab.engine.loop import TrainerSettings, train
from genlab.engine.precision import native_bf16, resolve_precision

SMALL = {"hidden": 16, "depth": 2, "batch_size": 64}


def bernoulli_images(n: int = 400) -> torch.Tensor:
    """Binary 4x4 'images': a random bar per image, so a VAE has something to learn."""
    g = torch.Generator().manual_seed(0)
    images = torch.zeros(n, 4, 4)
    rows = torch.randint(4, (n,), generator=g)
    images[torch.arange(n), rows] = 1.0
    return images.flatten(1)


def train_recording_dtypes(model, x, precision: str, steps: int = 60):
    """Train, recording the dtype of every linear layer's output during training."""
    torch.manual_seed(0)
    model.build(x.shape[1], image_shape=(1, 4, 4) if x.shape[1] == 16 else None)
    seen = set()
    hooks = [m.register_forward_hook(lambda module, inputs, out: seen.add(out.dtype))
             for network in model.networks() if network is not None for m in network.modules() if isinstance(m, torch.nn.Linear)]
    history = train(model, x, TrainerSettings(max_steps=steps, log_every=10, progress=False, precision=precision), seed=0)
    for hook in hooks:
        hook.remove()
    return seen, history


@pytest.mark.parametrize("make, x", [
    (lambda: VAE(latent_dim=2, hidden=32, likelihood="bernoulli", batch_size=64), bernoulli_images()),
    (lambda: GAN(**SMALL), Moons(n_train=500).train),
    (lambda: WGAN(**SMALL), Moons(n_train=500).train),  # the gradient penalty's double backward too
])
def test_bf16_runs_the_training_forward_passes_in_bf16_and_keeps_weights_fp32(make, x):
    model = make()
    seen, history = train_recording_dtypes(model, x, "bf16")
    assert torch.bfloat16 in seen and model.precision == "bf16"
    assert all(p.dtype == torch.float32 for p in model.parameters())
    assert all(torch.isfinite(torch.tensor(list(r.values())[1:])).all() for r in history["losses"])
    fp32_model = make()
    seen_fp32, history_fp32 = train_recording_dtypes(fp32_model, x, "fp32")
    assert seen_fp32 == {torch.float32}
    # The same seeded run in either precision ends at nearly the same losses: bf16 rounds, it does not change the method.
    last, last_fp32 = history["losses"][-1], history_fp32["losses"][-1]
    for name in last_fp32:
        if name != "step":
            assert abs(last[name] - last_fp32[name]) <= 0.1 * abs(last_fp32[name]) + 0.05, name
    assert model.sample(10).dtype == torch.float32  # sampling and evaluation stay fp32


def test_bf16_vae_learns_as_well_as_fp32():
    x = bernoulli_images()
    results = {}
    for precision in ("fp32", "bf16"):
        torch.manual_seed(0)
        model = VAE(latent_dim=2, hidden=32, likelihood="bernoulli", batch_size=64).build(16, image_shape=(1, 4, 4))
        train(model, x, TrainerSettings(max_steps=600, log_every=100, progress=False, precision=precision), seed=0)
        results[precision] = model.log_prob(x[:200], torch.Generator().manual_seed(0), k=50).mean().item()
    # One bar among 4 rows: ln 4 = 1.39 nats at best; an untrained model is near 16 ln 2 = 11.1.
    assert results["fp32"] > -2.5 and abs(results["bf16"] - results["fp32"]) < 0.3


def test_auto_takes_bf16_only_where_the_device_has_it_natively():
    cpu = torch.device("cpu")
    assert resolve_precision("auto", cpu) == ("bf16" if native_bf16(cpu) else "fp32")
    assert resolve_precision("fp32", cpu) == "fp32" and resolve_precision("bf16", cpu) == "bf16"
    assert not native_bf16(torch.device("meta"))


def test_a_bad_precision_is_refused_by_name():
    with pytest.raises(ConfigError, match="precision must be one of fp32, bf16, auto"):
        TrainerSettings(precision="fp16")

"""The small networks of the adversarial models: MLPs and the latent prior.

Kept apart from the models so that capacity (`hidden`, `depth`, activation) is swept
the same way for every generator, discriminator and critic.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from genlab.errors import ConfigError, check_choice, check_positive

ACTIVATIONS = {
    "relu": nn.ReLU,
    "leaky_relu": lambda: nn.LeakyReLU(0.2),
    "elu": nn.ELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
}
LATENT_DISTRIBUTIONS = ("normal", "uniform")


def mlp(in_dim: int, out_dim: int, hidden, depth: int, activation: str, spectral_norm: bool = False, dropout: float = 0.0,
        batch_norm: bool = False) -> nn.Sequential:
    """Hidden layers of `hidden_widths(hidden, depth)`, the activation (and dropout) after each, a linear output.

    With `spectral_norm`, every linear map is divided by its largest singular value
    (torch's own parametrization, one power iteration per training forward pass), so
    the network is 1-Lipschitz for 1-Lipschitz activations (Miyato et al. 2018). With
    `batch_norm`, every hidden layer but the first is batch-normalized before its
    activation (as the usual MNIST MLP generators; the first sees the raw latent).
    """
    widths = [in_dim] + hidden_widths(hidden, depth) + [out_dim]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(a, b)
        layers.append(nn.utils.parametrizations.spectral_norm(linear) if spectral_norm else linear)
        if i < len(widths) - 2:
            if batch_norm and i > 0:
                layers.append(nn.BatchNorm1d(b))
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class Packed(nn.Module):
    """PacGAN's critic (Lin et al. 2018): `pack` consecutive rows are concatenated and
    judged as one, so the critic sees several samples of one distribution at once and
    can penalize a generator whose samples lack variety or are off in their proportions."""

    def __init__(self, network: nn.Module, pack: int):
        super().__init__()
        self.network, self.pack = network, pack

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if len(x) % self.pack:
            raise ConfigError(f"pack: the critic judges groups of {self.pack} rows, got a batch of {len(x)}")
        return self.network(x.reshape(len(x) // self.pack, -1))


def hidden_widths(hidden, depth: int) -> list[int]:
    """The hidden layers' widths: `depth` layers of `hidden` units, or the list `hidden` itself."""
    return list(hidden) if isinstance(hidden, (list, tuple)) else [hidden] * depth


@torch.no_grad()
def refresh_batch_norm(network: nn.Module, latents) -> None:
    """Set the batch-norm statistics of `network` to its activations' mean and variance
    over the latent batches `latents` yields (the "standing statistics" of an averaged
    generator, whose weights never ran in training), then leave it in eval mode."""
    norms = [m for m in network.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # a cumulative average over all the batches
    network.train()
    for z in latents:
        network(z)
    for m, momentum in zip(norms, momenta):
        m.momentum = momentum
    network.eval()


class LatentPrior:
    """z ~ N(0, I) or Uniform([-1, 1]^k), drawn with an explicit generator so runs replay exactly."""

    def __init__(self, dim: int, distribution: str):
        self.dim = check_positive("latent_dim", dim, integer=True)
        self.distribution = check_choice("latent", distribution, LATENT_DISTRIBUTIONS)

    def sample(self, n: int, device, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.distribution == "normal":
            return torch.randn(n, self.dim, device=device, generator=generator)
        return torch.rand(n, self.dim, device=device, generator=generator).mul_(2).sub_(1)


def check_architecture(hidden, depth, activation, name: str = "hidden") -> tuple:
    """Validate the capacity keys shared by every MLP (depth 0 is a linear map);
    `hidden` is a width (with `depth` layers) or a list of widths (depth then unused),
    reported as `name` (critic_hidden for the critic's own widths)."""
    if hasattr(hidden, "__iter__") and not isinstance(hidden, str):  # a list, tuple or OmegaConf ListConfig
        widths = list(hidden)
        if not all(isinstance(w, int) and not isinstance(w, bool) and w > 0 for w in widths):
            raise ConfigError(f"{name} must be a positive integer or a list of them, the layers' widths (got {widths!r})")
        hidden = tuple(widths)
    else:
        hidden = check_positive(name, hidden, integer=True)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ConfigError(f"depth must be an integer >= 0, the number of hidden layers (got {depth!r})")
    return hidden, depth, check_choice("activation", activation, ACTIVATIONS)


def n_weights(module: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in module.parameters())

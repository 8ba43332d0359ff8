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


def mlp(in_dim: int, out_dim: int, hidden: int, depth: int, activation: str, spectral_norm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """`depth` hidden layers of width `hidden`, the activation (and dropout) after each, a linear output.

    With `spectral_norm`, every linear map is divided by its largest singular value
    (torch's own parametrization, one power iteration per training forward pass), so
    the network is 1-Lipschitz for 1-Lipschitz activations (Miyato et al. 2018).
    """
    widths = [in_dim] + [hidden] * depth + [out_dim]
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])):
        linear = nn.Linear(a, b)
        layers.append(nn.utils.parametrizations.spectral_norm(linear) if spectral_norm else linear)
        if i < len(widths) - 2:
            layers.append(ACTIVATIONS[activation]())
            if dropout > 0:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


class LatentPrior:
    """z ~ N(0, I) or Uniform([-1, 1]^k), drawn with an explicit generator so runs replay exactly."""

    def __init__(self, dim: int, distribution: str):
        self.dim = check_positive("latent_dim", dim, integer=True)
        self.distribution = check_choice("latent", distribution, LATENT_DISTRIBUTIONS)

    def sample(self, n: int, device, generator: torch.Generator | None = None) -> torch.Tensor:
        if self.distribution == "normal":
            return torch.randn(n, self.dim, device=device, generator=generator)
        return torch.rand(n, self.dim, device=device, generator=generator).mul_(2).sub_(1)


def check_architecture(hidden, depth, activation) -> tuple[int, int, str]:
    """Validate the capacity keys shared by every MLP (depth 0 is a linear map)."""
    hidden = check_positive("hidden", hidden, integer=True)
    if not isinstance(depth, int) or isinstance(depth, bool) or depth < 0:
        raise ConfigError(f"depth must be an integer >= 0, the number of hidden layers (got {depth!r})")
    return hidden, depth, check_choice("activation", activation, ACTIVATIONS)


def n_weights(module: nn.Module) -> int:
    return sum(math.prod(p.shape) for p in module.parameters())

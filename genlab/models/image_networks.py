"""Generators and critics for images (flattened rows of pixels in [0, 1]).

`mlp`: the MLPs of `networks.mlp` on the flattened pixels, the generator ending in a
sigmoid (near the GAN paper's MNIST networks). `dcgan`: two strided (transposed)
convolutions each way, as the WGAN-GP paper's MNIST networks, without batch norm
(which would clash with the gradient penalty and the generator's moving average);
`channels` sets its width, `hidden`, `depth` and `activation` are for `mlp` only.
`batch_norm` normalizes the generator's hidden layers (mlp: all but the first; dcgan:
the projection and the first transposed convolution), as DCGAN does: on MNIST it is
what lets a generator keep up with a dropout discriminator.
Both take and give flattened rows, so the losses, metrics and loop see (n, dim).
"""

from __future__ import annotations

from torch import nn

from genlab.errors import ConfigError
from genlab.models.networks import mlp

ARCHITECTURES = ("mlp", "dcgan")


def _spectral(module: nn.Module, on: bool) -> nn.Module:
    return nn.utils.parametrizations.spectral_norm(module) if on else module


def image_generator(arch: str, latent_dim: int, image_shape, hidden, depth: int, activation: str, channels: int,
                    batch_norm: bool = False) -> nn.Sequential:
    c, h, w = image_shape
    if arch == "mlp":
        return nn.Sequential(mlp(latent_dim, c * h * w, hidden, depth, activation, batch_norm=batch_norm), nn.Sigmoid())
    _check_quarter(image_shape)
    projected = 2 * channels * (h // 4) * (w // 4)
    return nn.Sequential(
        nn.Linear(latent_dim, projected), *([nn.BatchNorm1d(projected)] if batch_norm else []), nn.ReLU(),
        nn.Unflatten(1, (2 * channels, h // 4, w // 4)),
        nn.ConvTranspose2d(2 * channels, channels, 4, stride=2, padding=1), *([nn.BatchNorm2d(channels)] if batch_norm else []), nn.ReLU(),
        nn.ConvTranspose2d(channels, c, 4, stride=2, padding=1), nn.Sigmoid(),
        nn.Flatten(),
    )


def image_critic(arch: str, image_shape, hidden, depth: int, activation: str, channels: int, spectral_norm: bool, dropout: float = 0.0) -> nn.Sequential:
    c, h, w = image_shape
    if arch == "mlp":
        return mlp(c * h * w, 1, hidden, depth, activation, spectral_norm, dropout)
    _check_quarter(image_shape)
    return nn.Sequential(
        nn.Unflatten(1, (c, h, w)),
        _spectral(nn.Conv2d(c, channels, 4, stride=2, padding=1), spectral_norm), nn.LeakyReLU(0.2),
        _spectral(nn.Conv2d(channels, 2 * channels, 4, stride=2, padding=1), spectral_norm), nn.LeakyReLU(0.2),
        nn.Flatten(),
        _spectral(nn.Linear(2 * channels * (h // 4) * (w // 4), 1), spectral_norm),
    )


def _check_quarter(image_shape) -> None:
    if image_shape[1] % 4 or image_shape[2] % 4:
        raise ConfigError(f"arch: dcgan needs image sides divisible by 4 (got {tuple(image_shape[1:])})")

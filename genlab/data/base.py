"""What every data set in genlab offers: fixed seeded train/test draws, and for toy sets
fresh draws and, where it is known in closed form, the exact density."""

from __future__ import annotations

import torch

from genlab.errors import ConfigError, check_positive


class Dataset:
    """A data set as the trainers, metrics and plots see it.

    Attributes:
        train, test: float32 tensors of shape (n, dim), drawn once from `seed`.
        dim: number of coordinates of one point.
        image_shape: for image sets, the (channels, height, width) that each
            flattened row of `dim` pixels comes from; None for points.
        name: short name used in plot titles and metrics.
    Subclasses that can draw fresh points implement `_draw`; those whose density
    is known in closed form implement `log_prob`.
    """

    name = "data"
    dim = 2
    image_shape: tuple[int, int, int] | None = None

    def __init__(self, n_train: int = 2000, n_test: int = 2000, seed: int = 0):
        self.n_train = check_positive("n_train", n_train, integer=True)
        self.n_test = check_positive("n_test", n_test, integer=True)
        if not isinstance(seed, int):
            raise ConfigError(f"seed must be an integer (got {seed!r})")
        self.seed = seed
        generator = torch.Generator().manual_seed(seed)
        self.train = self.sample(self.n_train, generator)
        self.test = self.sample(self.n_test, generator)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Draw `n` fresh points (float32, shape (n, dim)) independent of train and test.

        Without a generator every call replays the same seed-derived stream, so
        metrics computed on fresh draws are reproducible; pass a generator for
        independent draws.
        """
        if generator is None:
            # A stream of its own, so fresh draws never repeat the train/test points.
            generator = torch.Generator().manual_seed(self.seed + 1_000_003)
        return self._draw(int(n), generator).to(torch.float32).reshape(int(n), self.dim)

    def _draw(self, n: int, generator: torch.Generator) -> torch.Tensor:
        raise NotImplementedError(f"{self.name} cannot draw fresh samples")

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density of each row of `x`; only for sets whose density is known."""
        raise NotImplementedError(f"{self.name} has no closed-form density")

    @property
    def has_density(self) -> bool:
        return type(self).log_prob is not Dataset.log_prob

    def bounds(self, margin: float = 0.15) -> tuple[torch.Tensor, torch.Tensor]:
        """A box around the training data (per coordinate), for plots and grids."""
        lo, hi = self.train.min(0).values, self.train.max(0).values
        pad = margin * (hi - lo).clamp_min(1e-3)
        return lo - pad, hi + pad


def uniform(n: int, generator: torch.Generator, low: float = 0.0, high: float = 1.0) -> torch.Tensor:
    """`n` float64 draws from Uniform([low, high)) with an explicit generator."""
    return low + (high - low) * torch.rand(n, generator=generator, dtype=torch.float64)


def normal(*shape: int, generator: torch.Generator) -> torch.Tensor:
    """Standard normal float64 draws with an explicit generator."""
    return torch.randn(*shape, generator=generator, dtype=torch.float64)

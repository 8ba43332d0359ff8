"""What every data set in genlab offers: fixed seeded train/test draws, and for toy sets
fresh draws and, where it is known in closed form, the exact density."""

from __future__ import annotations

import functools

import torch

from genlab.errors import ConfigError, check_positive


class Dataset:
    """A data set as the trainers, metrics and plots see it.

    Attributes:
        train, test: float32 tensors of shape (n, dim), drawn from `seed` when first read
            (so a subclass may set its own attributes before or after calling
            `Dataset.__init__`), or set by a subclass that reads them from files.
        dim: number of coordinates of one point.
        name: short name used in plot titles and metrics.

    What a set offers is declared, and reports ask instead of probing:
        can_draw: fresh draws exist (the subclass writes `_draw`); set by the class itself.
        has_density: the exact density is known (the subclass writes `log_prob`).
        modes, mode_std: the centres of a mixture's components and their spread, for the
            mode-coverage metrics; None for sets without modes.
        image_shape: for image sets, the (channels, height, width) that each flattened row
            of `dim` pixels comes from; None for points. Image sets also give
            `validation`, `train_labels`/`test_labels` (None without labels), `binarize`,
            `grey()` and `cache_key` (see below).
    """

    name = "data"
    dim = 2
    image_shape: tuple[int, int, int] | None = None
    modes: torch.Tensor | None = None
    mode_std: float | None = None
    can_draw = False      # set for each subclass by __init_subclass__ from the methods it writes
    has_density = False
    binarize = "none"     # image sets: how pixels were binarized (none, static, dynamic)
    train_labels: torch.Tensor | None = None
    test_labels: torch.Tensor | None = None
    columns: list[str] | None = None       # the coordinates' names for axis labels (None: x1, x2, ...)
    plot_columns: list[int] | None = None  # d > 2: the coordinates pairs.png shows (None: the first 4)
    standardization = None  # a genlab.data.standardize.Standardization when the model is fit on standardized points
    fingerprint: str | None = None  # sets read from a user's file: its sha256, so resume=true refuses a changed file

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.can_draw = cls._draw is not Dataset._draw
        cls.has_density = cls.log_prob is not Dataset.log_prob

    def __init__(self, n_train: int = 2000, n_test: int = 2000, seed: int = 0):
        self.n_train = check_positive("n_train", n_train, integer=True)
        self.n_test = check_positive("n_test", n_test, integer=True)
        if not isinstance(seed, int):
            raise ConfigError(f"seed must be an integer (got {seed!r})")
        self.seed = seed

    @functools.cached_property
    def _train_and_test(self) -> tuple[torch.Tensor, torch.Tensor]:
        generator = torch.Generator().manual_seed(self.seed)
        train = self.sample(self.n_train, generator)
        return train, self.sample(self.n_test, generator)

    @functools.cached_property
    def train(self) -> torch.Tensor:
        return self._train_and_test[0]

    @functools.cached_property
    def test(self) -> torch.Tensor:
        return self._train_and_test[1]

    @property
    def has_modes(self) -> bool:
        return self.modes is not None

    @property
    def has_labels(self) -> bool:
        return self.train_labels is not None and self.test_labels is not None

    def grey(self) -> "Dataset":
        """Image sets: the same images with their grey levels (what the domain classifier
        trains and compares on, whatever `binarize` is); the set itself by default."""
        return self

    @property
    def cache_key(self) -> str:
        """Names the images behind cached classifiers and reference numbers."""
        return self.name

    def binarize_batch(self, batch: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The training batch as the model sees it (MNIST's dynamic binarization draws fresh
        0/1 pixels here); the batch itself by default."""
        return batch

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

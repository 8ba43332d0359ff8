"""What the models trained by genlab's loop (GAN, WGAN, VAE) share with each other.

The loop knows a model only through this interface: `make_optimizers()`, one
`train_step(draw, optimizers, rng, step)` that returns its losses as 0-d tensors, and
`sample`, `parameters`, `device`, `label`, `steps_trained_`. The networks are built
for the data's shape by `build(dim, device, image_shape)`.

A new model names its networks in `network_names` and writes `build`, `train_step`,
`sample` and, where it has one, `log_prob`: the networks' list, one Adam optimizer at
`lr`, the parameter count and the checkpoint's state come from here (override any of them).
"""

from __future__ import annotations

import torch

from genlab.errors import ConfigError
from genlab.models.base import GenerativeModel
from genlab.models.estimator import array_type_in
from genlab.engine.precision import autocast


class TrainedModel(GenerativeModel):
    """Networks trained step by step; `fit` trains in memory, the CLI trains with files."""

    abstract = True  # a base for models, not a model: genlab.models.registry skips it

    network_names: tuple[str, ...] = ()  # the attributes that hold its torch modules once built (None before)
    dim: int | None = None
    image_shape: tuple[int, int, int] | None = None
    steps_trained_: int = 0
    precision: str = "fp32"  # of the training steps' forward passes; the loop sets it from trainer.precision
    lr: float = 1e-3
    lr_schedule: str = "constant"  # the trainer's schedule when trainer.lr_schedule is null: constant | cosine

    def build(self, dim: int, device="cpu", image_shape=None) -> "TrainedModel":
        """Create the networks for data of `dim` coordinates (images: of `image_shape`) on `device`."""
        raise NotImplementedError

    def networks(self) -> list[torch.nn.Module]:
        """Every network the model holds (built or not: unbuilt ones are None)."""
        return [getattr(self, name, None) for name in self.network_names]

    def make_optimizers(self) -> tuple[torch.optim.Optimizer, ...]:
        """One Adam optimizer at `lr` over every network."""
        return (adam(self.parameters(), lr=self.lr),)

    def train_step(self, draw, optimizers, rng: torch.Generator, step: int) -> dict[str, torch.Tensor]:
        """One training step: draw(n) gives n training rows; returns the losses to log."""
        raise NotImplementedError

    def autocast(self):
        """The context for a training step's forward passes: bf16 autocast when
        `precision` is bf16 (see genlab.engine.precision), else nothing."""
        return autocast(self.device, self.precision)

    def fit(self, x: torch.Tensor, **trainer) -> "TrainedModel":
        """Train on `x` in memory (no files); `trainer` takes the keys of conf/trainer, e.g.
        max_steps. Points of another float type (float64) train in the networks' (float32)."""
        from genlab.engine.loop import TrainerSettings, train

        x = self._as_points(x)
        if not self.is_fitted:
            self.build(x.shape[1], x.device)
        train(self, x.to(self.dtype), TrainerSettings(**{"progress": False, **trainer}))
        return self

    def _as_points(self, x, name: str = "x", dim: int | None = None) -> torch.Tensor:
        """Every model's checks on its points, then, once the networks are built, their
        float type: float64 points are scored in float32, as the weights are."""
        x = GenerativeModel._as_points(x, name, dim)
        return x.to(self.dtype) if self.is_fitted else x

    @property
    def dtype(self) -> torch.dtype:
        """The networks' float type, which their inputs are cast to."""
        self._check_fitted()
        return next(self.networks()[0].parameters()).dtype

    def parameters(self):
        """Every trained weight of every network (a moving average's copy, its weights
        frozen with requires_grad_(False), is held but not trained)."""
        for network in self.networks():
            if network is not None:
                yield from (p for p in network.parameters() if p.requires_grad)

    @property
    def is_fitted(self) -> bool:
        return self.networks()[0] is not None

    @property
    def n_parameters(self) -> int:
        """Trained weights of every network."""
        self._check_fitted()
        return sum(p.numel() for p in self.parameters())

    def state_dict(self) -> dict:
        """The shape of the data, the step count and each built network's weights."""
        self._check_fitted()
        built = {name: network for name, network in zip(self.network_names, self.networks()) if network is not None}
        return {"dim": self.dim, "image_shape": self.image_shape, "steps_trained": self.steps_trained_, "array_type": self.array_type_,
                **{name: network.state_dict() for name, network in built.items()}}

    def load_state_dict(self, state: dict) -> "TrainedModel":
        """Rebuild the networks for the saved data shape and load each one these settings build."""
        if "dim" not in state or self.network_names[0] not in state:
            raise ConfigError(f"checkpoint lacks {sorted({'dim', self.network_names[0]} - set(state))} for {type(self).__name__} with these settings")
        image_shape = tuple(state["image_shape"]) if state.get("image_shape") else None
        self.build(state["dim"], device_of(state[self.network_names[0]]), image_shape)
        names = [name for name, network in zip(self.network_names, self.networks()) if network is not None]
        if missing := set(names) - set(state):
            raise ConfigError(f"checkpoint lacks {sorted(missing)} for {type(self).__name__} with these settings")
        self._load_networks(state, names)
        self.steps_trained_ = int(state.get("steps_trained", 0))
        self.array_type_ = array_type_in(state)
        return self

    @property
    def device(self) -> torch.device:
        self._check_fitted()
        return next(self.networks()[0].parameters()).device

    def _check_image_shape(self, dim: int, image_shape) -> tuple[int, int, int] | None:
        """Validate that an image shape, when given, flattens to `dim` pixels."""
        if image_shape is None:
            return None
        image_shape = tuple(int(s) for s in image_shape)
        if len(image_shape) != 3 or image_shape[0] * image_shape[1] * image_shape[2] != dim:
            raise ConfigError(f"image_shape {image_shape} does not hold {dim} pixels")
        return image_shape

    def _load_networks(self, state: dict, names: list[str]) -> None:
        """Load each network's weights, with one line on a mismatch instead of torch's page."""
        try:
            for name in names:
                getattr(self, name).load_state_dict(state[name])
        except RuntimeError as error:
            first = str(error).strip().splitlines()[1:2] or [str(error)]
            raise ConfigError(f"checkpoint does not fit this {type(self).__name__}'s networks: {first[0].strip()}") from None


def chunks(n: int, size: int):
    """Sizes of the blocks that cover n items, size at a time."""
    while n > 0:
        yield min(n, size)
        n -= size


def device_of(state: dict):
    return next(iter(state.values())).device if state else "cpu"


def adam(params, **settings) -> torch.optim.Adam:
    """Adam with torch's fused kernel where this torch has one for the parameters' device
    (the CPU from torch 2.4 on, CUDA): the same update, about 15% more VAE steps per second
    on MNIST here; otherwise torch's default implementation."""
    params = list(params)
    try:
        return torch.optim.Adam(params, fused=True, **settings)
    except (RuntimeError, TypeError, ValueError):
        return torch.optim.Adam(params, **settings)

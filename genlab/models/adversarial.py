"""What GAN and WGAN have in common: a generator, a discriminator or critic, the latent
prior, the optimizers and an exponential moving average of the generator's weights.

The two models differ only in their losses (and WGAN's Lipschitz constraint); the
alternating loop that trains both lives in `genlab.training.loop`.
"""

from __future__ import annotations

import copy

import torch

from genlab.errors import ConfigError, check_choice, check_nonnegative, check_positive
from genlab.models.base import GenerativeModel
from genlab.models.networks import LatentPrior, check_architecture, mlp, n_weights

OPTIMIZERS = ("adam", "rmsprop")


class AdversarialModel(GenerativeModel):
    """Generator g: z -> x and a second network that scores points, trained in turns.

    Args (shared by GAN and WGAN):
        latent_dim, latent: size and distribution (normal | uniform) of z.
        hidden, depth, activation: width, number of hidden layers and activation of
            both MLPs (so one key sweeps capacity).
        d_steps: discriminator/critic updates per generator update.
        batch_size: points per update (real and generated alike).
        lr, optimizer, betas: the optimizer of both networks (adam | rmsprop).
        ema: decay of the moving average of the generator's weights used for
            sampling (0 turns it off; the raw generator is always reported too).
    """

    has_log_prob = False
    spectral_norm = False

    def __init__(self, *, latent_dim, latent, hidden, depth, activation, d_steps, batch_size, lr, optimizer, betas, ema):
        self.prior = LatentPrior(latent_dim, latent)
        self.hidden, self.depth, self.activation = check_architecture(hidden, depth, activation)
        self.d_steps = check_positive("d_steps", d_steps, integer=True)
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.lr = check_positive("lr", lr)
        self.optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
        betas = tuple(betas)
        if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
            raise ConfigError(f"betas must be two numbers in [0, 1) (got {list(betas)!r})")
        self.betas = tuple(float(b) for b in betas)
        self.ema = check_nonnegative("ema", ema)
        if self.ema >= 1:
            raise ConfigError(f"ema must be in [0, 1): the decay of the moving average, 0 for none (got {ema!r})")
        self.dim = None
        self.generator = self.critic = self.generator_ema = None
        self.steps_trained_ = 0

    # -- networks --------------------------------------------------------------------------

    def build(self, dim: int, device="cpu") -> "AdversarialModel":
        """Create both networks for data of `dim` coordinates (weights from torch's global RNG)."""
        self.dim = int(dim)
        self.generator = mlp(self.prior.dim, self.dim, self.hidden, self.depth, self.activation).to(device)
        self.critic = mlp(self.dim, 1, self.hidden, self.depth, self.activation, self.spectral_norm).to(device)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False) if self.ema > 0 else None
        return self

    def parameters(self):
        """Every trained weight: generator, critic and the generator's average."""
        for network in (self.generator, self.critic, self.generator_ema):
            if network is not None:
                yield from network.parameters()

    @property
    def device(self) -> torch.device:
        return next(self.generator.parameters()).device

    def make_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """(critic optimizer, generator optimizer)."""

        def make(params):
            if self.optimizer == "adam":
                return torch.optim.Adam(params, lr=self.lr, betas=self.betas)
            return torch.optim.RMSprop(params, lr=self.lr)

        return make(self.critic.parameters()), make(self.generator.parameters())

    # -- one adversarial step, as the loop calls it ----------------------------------------

    def d_steps_at(self, step: int) -> int:
        """Critic updates before generator update number `step` (0-based)."""
        return self.d_steps

    def generate(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        """g(z) for n fresh latent draws, with gradients (the training generator)."""
        return self.generator(self.prior.sample(n, self.device, generator))

    def critic_loss(self, real: torch.Tensor, fake: torch.Tensor, generator: torch.Generator | None) -> tuple[torch.Tensor, dict]:
        """The loss the discriminator/critic descends, and extra numbers to log."""
        raise NotImplementedError

    def generator_loss(self, fake: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def after_critic_step(self) -> None:
        """Hook after each critic update (WGAN's weight clipping)."""

    @torch.no_grad()
    def update_ema(self) -> None:
        if self.generator_ema is not None:
            torch._foreach_lerp_(list(self.generator_ema.parameters()), list(self.generator.parameters()), 1 - self.ema)

    # -- the protocol -------------------------------------------------------------------------

    def fit(self, x: torch.Tensor, **trainer) -> "AdversarialModel":
        """Train on `x` in memory (no files); `trainer` takes the keys of conf/trainer, e.g. max_steps."""
        from genlab.training.loop import TrainerSettings, train

        x = self._as_points(x)
        if self.generator is None:
            self.build(x.shape[1], x.device)
        train(self, x, TrainerSettings(**{"progress": False, **trainer}))
        return self

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, raw: bool = False) -> torch.Tensor:
        """n points from the averaged generator (the raw one with raw=True, or when ema=0)."""
        self._check_fitted()
        network = self.generator if raw or self.generator_ema is None else self.generator_ema
        chunks = [network(self.prior.sample(m, self.device, generator)) for m in _chunks(int(n), 65536)]
        return torch.cat(chunks) if chunks else torch.empty(0, self.dim, device=self.device)

    @torch.no_grad()
    def critic_value(self, x: torch.Tensor) -> torch.Tensor:
        """What the second network says about each point: f(x) in (0, 1) for a GAN's
        discriminator, the critic's score for a WGAN. Leaves training state untouched
        (spectral norm's power iteration runs only in training mode)."""
        self._check_fitted()
        was_training = self.critic.training
        self.critic.eval()
        try:
            return self._score(self.critic(x.to(self.device))[:, 0])
        finally:
            self.critic.train(was_training)

    def _score(self, logits: torch.Tensor) -> torch.Tensor:
        return logits

    @property
    def is_fitted(self) -> bool:
        return self.generator is not None

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        return n_weights(self.generator) + n_weights(self.critic)

    def state_dict(self) -> dict:
        self._check_fitted()
        state = {"dim": self.dim, "steps_trained": self.steps_trained_, "generator": self.generator.state_dict(), "critic": self.critic.state_dict()}
        if self.generator_ema is not None:
            state["generator_ema"] = self.generator_ema.state_dict()
        return state

    def load_state_dict(self, state: dict) -> "AdversarialModel":
        wanted = {"dim", "generator", "critic"} | ({"generator_ema"} if self.ema > 0 else set())
        if missing := wanted - set(state):
            raise ConfigError(f"checkpoint lacks {sorted(missing)} for {type(self).__name__} with these settings")
        if self.generator is None or self.dim != state["dim"]:
            self.build(state["dim"], _device_of(state["generator"]))
        try:
            self.generator.load_state_dict(state["generator"])
            self.critic.load_state_dict(state["critic"])
            if self.generator_ema is not None:
                self.generator_ema.load_state_dict(state["generator_ema"])
        except RuntimeError as error:
            first = str(error).strip().splitlines()[1:2] or [str(error)]
            raise ConfigError(f"checkpoint does not fit this {type(self).__name__}'s networks: {first[0].strip()}") from None
        self.steps_trained_ = int(state.get("steps_trained", 0))
        return self

    def summary(self, x: torch.Tensor) -> dict:
        return {"ema": self.ema}  # the step count is metrics.json's "steps"


def _chunks(n: int, size: int):
    while n > 0:
        yield min(n, size)
        n -= size


def _device_of(state: dict):
    return next(iter(state.values())).device if state else "cpu"

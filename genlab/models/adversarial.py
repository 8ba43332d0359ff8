"""What GAN and WGAN have in common: a generator, a discriminator or critic, the latent
prior, the optimizers and an exponential moving average of the generator's weights.

The two models differ only in their losses (and WGAN's Lipschitz constraint); the
alternating loop that trains both lives in `genlab.engine.loop`.
"""

from __future__ import annotations

import copy

import torch

from genlab.errors import ConfigError, check_choice, check_nonnegative, check_positive
from genlab.models.estimator import like_input
from genlab.models.image_networks import ARCHITECTURES, image_critic, image_generator
from genlab.models.networks import LatentPrior, Packed, check_architecture, mlp, n_weights, refresh_batch_norm
from genlab.models.trained import TrainedModel, adam, chunks

OPTIMIZERS = ("adam", "rmsprop")
EMA_STATISTICS_SEED = 4242  # latent draws behind the averaged generator's batch-norm statistics


class AdversarialModel(TrainedModel):
    """Generator g: z -> x and a second network that scores points, trained in turns.

    Args (shared by GAN and WGAN):
        latent_dim, latent: size and distribution (normal | uniform) of z.
        arch: mlp | dcgan (convolutional; images only, see `image_networks`).
        hidden, depth, activation: width, number of hidden layers and activation of
            both MLPs (so one key sweeps capacity); `hidden` may also be a list of
            widths (the generator's, in order; depth is then unused).
        critic_hidden: the critic's widths when they differ from the generator's
            (a width with `depth` layers, or a list); null = `hidden`.
        batch_norm: batch norm in the generator's hidden layers (see
            `image_networks`); the averaged generator gets statistics of its own.
        channels: width of the dcgan networks.
        dropout: dropout after each hidden layer of the MLP critic, as the GAN paper's
            discriminator (keeps it from winning outright on MNIST); 0 = none.
        pack: the critic judges `pack` samples at once, concatenated (PacGAN; for
            dcgan, stacked as channels); 1 = one at a time. It sees batch_size / pack
            groups per update, all real or all generated, so batch_size must be a
            multiple of it. On MNIST it evens out the digits' proportions.
        d_steps: discriminator/critic updates per generator update.
        batch_size: points per update (real and generated alike).
        lr, optimizer, betas: the optimizer of both networks (adam | rmsprop).
        ema: decay of the moving average of the generator's weights used for
            sampling (0 turns it off; the raw generator is always reported too).
        ema_warmup: update t (0-based) uses the decay min(ema, (1 + t) / (10 + t)), the
            warm-up of TensorFlow's ExponentialMovingAverage(num_updates=t): early on the
            average spans about the last tenth of training instead of holding mostly the
            untrained generator, which is what made a 0.9999 average useless for short
            runs; from t = 9 / (1 - ema) - 1 on (890 steps at 0.99) it is the plain average.
    """

    abstract = True  # a base for models, not a model: genlab.models.registry skips it
    network_names = ("generator", "critic", "generator_ema")  # the moving average only when ema > 0

    has_log_prob = False
    spectral_norm = False

    def __init__(self, *, d_steps: int, lr: float, optimizer: str, betas, latent_dim: int = 2, latent: str = "normal", arch: str = "mlp",
                 hidden: int = 128, depth: int = 3, critic_hidden=None, batch_norm: bool = False, activation: str = "relu",
                 channels: int = 64, dropout: float = 0.0, pack: int = 1, batch_size: int = 256, ema: float = 0.99,
                 ema_warmup: bool = True):
        """The shared keys' defaults are written once, here and in conf/model_shared/adversarial.yaml;
        d_steps and the optimizer's settings differ between GAN and WGAN, which give theirs."""
        self.prior = LatentPrior(latent_dim, latent)
        self.arch = check_choice("arch", arch, ARCHITECTURES)
        self.hidden, self.depth, self.activation = check_architecture(hidden, depth, activation)
        self.critic_hidden = self.hidden if critic_hidden is None else check_architecture(critic_hidden, depth, activation, "critic_hidden")[0]
        if batch_norm not in (True, False):
            raise ConfigError(f"batch_norm must be true or false (got {batch_norm!r})")
        self.batch_norm = batch_norm
        self.channels = check_positive("channels", channels, integer=True)
        self.dropout = check_nonnegative("dropout", dropout)
        if self.dropout >= 1:
            raise ConfigError(f"dropout must be in [0, 1): the share of critic units dropped (got {dropout!r})")
        self.d_steps = check_positive("d_steps", d_steps, integer=True)
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.pack = check_positive("pack", pack, integer=True)
        if self.batch_size % self.pack:
            raise ConfigError(f"batch_size must be a multiple of pack (got batch_size={batch_size}, pack={pack})")
        self.lr = check_positive("lr", lr)
        self.optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
        betas = tuple(betas)
        if len(betas) != 2 or not all(isinstance(b, (int, float)) and 0 <= b < 1 for b in betas):
            raise ConfigError(f"betas must be two numbers in [0, 1) (got {list(betas)!r})")
        self.betas = tuple(float(b) for b in betas)
        self.ema = check_nonnegative("ema", ema)
        if self.ema >= 1:
            raise ConfigError(f"ema must be in [0, 1): the decay of the moving average, 0 for none (got {ema!r})")
        if ema_warmup not in (True, False):
            raise ConfigError(f"ema_warmup must be true or false (got {ema_warmup!r})")
        self.ema_warmup = ema_warmup
        self.generator = self.critic = self.generator_ema = None

    # -- networks --------------------------------------------------------------------------

    def build(self, dim: int, device="cpu", image_shape=None) -> "AdversarialModel":
        """Create both networks for data of `dim` coordinates, or for images of
        `image_shape` flattened to `dim` pixels (weights from torch's global RNG)."""
        self.dim, self.image_shape = int(dim), self._check_image_shape(dim, image_shape)
        if self.image_shape is not None:
            c, h, w = self.image_shape
            self.generator = image_generator(self.arch, self.prior.dim, self.image_shape, self.hidden, self.depth, self.activation,
                                             self.channels, self.batch_norm).to(device)
            critic = image_critic(self.arch, (c * self.pack, h, w), self.critic_hidden, self.depth, self.activation, self.channels,
                                  self.spectral_norm, self.dropout)
        elif self.arch != "mlp":
            raise ConfigError(f"arch must be mlp for points of dim {self.dim}: {self.arch} is for images (data=mnist)")
        else:
            self.generator = mlp(self.prior.dim, self.dim, self.hidden, self.depth, self.activation, batch_norm=self.batch_norm).to(device)
            critic = mlp(self.dim * self.pack, 1, self.critic_hidden, self.depth, self.activation, self.spectral_norm, self.dropout)
        self.critic = (critic if self.pack == 1 else Packed(critic, self.pack)).to(device)
        self.generator_ema = copy.deepcopy(self.generator).requires_grad_(False) if self.ema > 0 else None
        self._ema_statistics_stale = True
        return self

    def make_optimizers(self) -> tuple[torch.optim.Optimizer, torch.optim.Optimizer]:
        """(critic optimizer, generator optimizer)."""

        def make(params):
            if self.optimizer == "adam":
                return adam(params, lr=self.lr, betas=self.betas)
            return torch.optim.RMSprop(params, lr=self.lr)

        return make(self.critic.parameters()), make(self.generator.parameters())

    # -- one adversarial step, as the loop calls it ----------------------------------------

    def train_step(self, draw, optimizers, rng, step):
        """d_steps critic updates, then one generator update and the moving average."""
        critic_opt, generator_opt = optimizers
        for _ in range(self.d_steps_at(step)):
            real = draw(self.batch_size)
            with torch.no_grad(), self.autocast():
                fake = self.generate(self.batch_size, rng).float()
            with self.autocast():
                critic_loss, stats = self.critic_loss(real, fake, rng)
            critic_opt.zero_grad(set_to_none=True)
            critic_loss.backward()
            critic_opt.step()
            self.after_critic_step()
        self.critic.requires_grad_(False)  # the generator's step needs no critic gradients
        with self.autocast():
            generator_loss = self.generator_loss(self.generate(self.batch_size, rng))
        generator_opt.zero_grad(set_to_none=True)
        generator_loss.backward()
        generator_opt.step()
        self.critic.requires_grad_(True)
        self.update_ema(step)
        return {"critic_loss": critic_loss.detach(), "generator_loss": generator_loss.detach(), **stats}

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

    def ema_decay(self, step: int) -> float:
        """The moving average's decay at generator update `step` (0-based)."""
        return min(self.ema, (1 + step) / (10 + step)) if self.ema_warmup else self.ema

    @torch.no_grad()
    def update_ema(self, step: int) -> None:
        if self.generator_ema is not None:
            torch._foreach_lerp_(list(self.generator_ema.parameters()), list(self.generator.parameters()), 1 - self.ema_decay(step))
            self._ema_statistics_stale = True

    # -- the protocol -------------------------------------------------------------------------

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None, raw: bool = False) -> torch.Tensor:
        """n points from the averaged generator (the raw one with raw=True, or when ema=0)."""
        self._check_fitted()
        network = self.generator if raw or self.generator_ema is None else self.generator_ema
        if network is self.generator_ema and self._ema_statistics_stale and self.batch_norm:
            statistics_rng = torch.Generator(self.device).manual_seed(EMA_STATISTICS_SEED)
            refresh_batch_norm(network, (self.prior.sample(1000, self.device, statistics_rng) for _ in range(10)))
            self._ema_statistics_stale = False
        was_training = network.training
        network.eval()  # batch norm: the running statistics, so each sample is independent of the others
        try:
            blocks = [network(self.prior.sample(m, self.device, generator)) for m in chunks(int(n), 65536)]
        finally:
            network.train(was_training)
        return torch.cat(blocks) if blocks else torch.empty(0, self.dim, device=self.device)

    @property
    def has_raw_samples(self) -> bool:
        """With a moving average, sample(raw=True) draws from the raw generator beside it."""
        return getattr(self, "generator_ema", None) is not None

    def figures(self, data) -> dict[str, str]:
        """The critic's map over the data's box (points only)."""
        return {} if data.image_shape is not None else {"critic.png": "genlab.plots.critic:plot_critic"}

    def animation_map(self, x: torch.Tensor) -> torch.Tensor:
        """training.gif shades the critic's f(x) under the samples, as the WGAN-GP toy code's frames."""
        return self.critic_value(x)

    @like_input
    @torch.no_grad()
    def critic_value(self, x: torch.Tensor) -> torch.Tensor:
        """What the second network says about each point: f(x) in (0, 1) for a GAN's
        discriminator, the critic's score for a WGAN (with pack > 1: its score of the
        group of `pack` copies of x). Leaves training state untouched (spectral norm's
        power iteration runs only in training mode)."""
        self._check_fitted()
        was_training = self.critic.training
        self.critic.eval()
        try:
            return self._score(self.critic(x.to(self.device, self.dtype).repeat_interleave(self.pack, dim=0))[:, 0])
        finally:
            self.critic.train(was_training)

    def _score(self, logits: torch.Tensor) -> torch.Tensor:
        return logits

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        return n_weights(self.generator) + n_weights(self.critic)

    def summary(self, x: torch.Tensor) -> dict:
        return {"ema": self.ema}  # the step count is metrics.json's "steps"


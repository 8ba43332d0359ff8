"""The variational autoencoder (Kingma & Welling 2013), in the lecture's form.

The encoder f maps each x_i to a latent distribution mu_i = N(m_i, diag s_i^2); the
decoder g pushes it forward, x^_i ~ g#mu_i. The objective is
    mean_i [ l(x_i, x^_i) + lambda KL(mu_i, mu) ],   mu = N(0, I) the prior,
with l = -ln p(x_i | z), z ~ mu_i drawn by reparameterization (z = m + s * eps), under a
Bernoulli decoder (images) or a Gaussian one (points; fixed or learned scale). With
lambda = 1 this is the negative ELBO, an upper bound on -ln p(x); `log_prob` is the
tighter importance-weighted bound of Burda et al. 2015 (IWAE) with k samples.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.functional import binary_cross_entropy_with_logits

from genlab.errors import ConfigError, check_choice, check_nonnegative, check_positive
from genlab.models.estimator import like_input
from genlab.models.networks import check_architecture, mlp
from genlab.models.trained import TrainedModel, chunks

LIKELIHOODS = ("bernoulli", "gaussian")
HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)


class VAE(TrainedModel):
    """Encoder and decoder MLPs trained on the lecture's objective.

    Args:
        latent_dim: size of z (2 draws the latent manifold of image models).
        hidden, depth, activation: width, hidden layers and activation of both MLPs.
        likelihood: bernoulli (pixels in [0, 1]) | gaussian (points).
        decoder_std: the Gaussian decoder's scale: "learned" (one per coordinate) or
            a fixed positive number.
        kl_weight: lambda; 1 is the ELBO, small values the lecture's near-autoencoder.
        kl_warmup: steps over which lambda rises linearly from 0 (Bowman et al. 2016;
            keeps latent units from collapsing onto the prior early); 0 = none.
        batch_size, lr: Adam's batch and step size.
        iwae_k: importance samples per point in `log_prob` (1,000 for reports).
    `sample(n)` returns g(z) for z ~ N(0, I), as the lecture generates: the decoder's
    mean (the pixel probabilities for images), without the decoder's own noise.
    """

    network_names = ("encoder", "decoder")
    label = "VAE"
    has_log_prob = True
    log_prob_is_exact = False  # log_prob is the IWAE bound, a stochastic lower bound on ln p(x)
    bound_name = "ELBO"

    def __init__(self, latent_dim: int = 2, hidden: int = 64, depth: int = 2, activation: str = "relu",
                 likelihood: str = "gaussian", decoder_std="learned", kl_weight: float = 1.0,
                 kl_warmup: int = 0, batch_size: int = 256, lr: float = 1e-3, iwae_k: int = 1000):
        self.latent_dim = check_positive("latent_dim", latent_dim, integer=True)
        self.hidden, self.depth, self.activation = check_architecture(hidden, depth, activation)
        self.likelihood = check_choice("likelihood", likelihood, LIKELIHOODS)
        if decoder_std != "learned":
            try:
                decoder_std = check_positive("decoder_std", decoder_std)
            except ConfigError:
                raise ConfigError(f"decoder_std must be 'learned' or a positive number (got {decoder_std!r})") from None
        self.decoder_std = decoder_std
        self.kl_weight = check_nonnegative("kl_weight", kl_weight)
        if not isinstance(kl_warmup, int) or isinstance(kl_warmup, bool) or kl_warmup < 0:
            raise ConfigError(f"kl_warmup must be an integer >= 0, a number of steps (got {kl_warmup!r})")
        self.kl_warmup = kl_warmup
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.lr = check_positive("lr", lr)
        self.iwae_k = check_positive("iwae_k", iwae_k, integer=True)
        self.encoder = self.decoder = None

    # -- networks --------------------------------------------------------------------------

    def build(self, dim: int, device="cpu", image_shape=None) -> "VAE":
        self.dim, self.image_shape = int(dim), self._check_image_shape(dim, image_shape)
        if self.likelihood == "bernoulli" and self.image_shape is None:
            raise ConfigError("likelihood bernoulli is for images with pixels in [0, 1]; use gaussian for points")
        self.encoder = mlp(self.dim, 2 * self.latent_dim, self.hidden, self.depth, self.activation).to(device)
        self.decoder = mlp(self.latent_dim, self.dim, self.hidden, self.depth, self.activation).to(device)
        if self.likelihood == "gaussian":
            # The decoder's scale lives on the decoder, so it is saved and trained with it.
            if self.decoder_std == "learned":
                self.decoder.register_parameter("log_std", nn.Parameter(torch.zeros(self.dim, device=device)))
            else:
                self.decoder.register_buffer("log_std", torch.full((self.dim,), math.log(self.decoder_std), device=device))
        return self

    # -- the objective -----------------------------------------------------------------------

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m, log s^2) of mu_i = f(x_i) for each row."""
        mean, log_var = self.encoder(x).float().chunk(2, dim=-1)
        return mean, log_var.clamp(-30.0, 20.0)

    def decoder_log_prob(self, x: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """ln p(x | z), summed over coordinates; z may carry leading sample dimensions."""
        out = self.decoder(z).float()
        if self.likelihood == "bernoulli":
            return -binary_cross_entropy_with_logits(out, x.expand_as(out), reduction="none").sum(-1)
        log_std = self.decoder.log_std
        return (-0.5 * ((x - out) * torch.exp(-log_std)).square() - log_std - HALF_LOG_2PI).sum(-1)

    def terms(self, x: torch.Tensor, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Per point: l(x_i, x^_i) = -ln p(x_i | z), z ~ mu_i, and KL(mu_i, N(0, I)) in closed form."""
        mean, log_var = self.encode(x)
        z = mean + torch.exp(0.5 * log_var) * torch.randn(mean.shape, device=mean.device, generator=generator)
        kl = 0.5 * (mean.square() + log_var.exp() - 1 - log_var).sum(-1)
        return -self.decoder_log_prob(x, z), kl

    def train_step(self, draw, optimizers, rng, step):
        (optimizer,) = optimizers
        with self.autocast():
            reconstruction, kl = self.terms(draw(self.batch_size), rng)
        weight = self.kl_weight * min(1.0, (step + 1) / self.kl_warmup) if self.kl_warmup else self.kl_weight
        loss = (reconstruction + weight * kl).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": loss.detach(), "reconstruction": reconstruction.mean().detach(), "kl": kl.mean().detach()}

    # -- the protocol -------------------------------------------------------------------------

    @like_input
    @torch.no_grad()
    def elbo(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """The evidence lower bound of each row (lambda = 1, one latent draw), in nats."""
        self._check_fitted()
        x = self._as_points(x, dim=self.dim).to(self.device)
        parts = [self.terms(block, generator) for block in x.split(1000)]
        return torch.cat([-(reconstruction + kl) for reconstruction, kl in parts])

    @torch.no_grad()
    def log_prob(self, x: torch.Tensor, generator: torch.Generator | None = None, k: int | None = None) -> torch.Tensor:
        """IWAE estimate of ln p(x) per row: ln (1/k) sum_j p(x, z_j) / q(z_j | x), z_j ~ mu_i.

        A lower bound in expectation that rises with k towards ln p(x) (k = 1 is the
        ELBO). Rows and samples go in blocks of about 20,000 decoder passes.
        """
        self._check_fitted()
        k = self.iwae_k if k is None else check_positive("k", k, integer=True)
        x = self._as_points(x, dim=self.dim).to(self.device)
        rows = max(1, min(len(x), 20_000 // min(k, 200)))
        out = []
        for block in x.split(rows):
            mean, log_var = self.encode(block)
            std = torch.exp(0.5 * log_var)
            weights = []
            for m in chunks(k, max(1, 20_000 // len(block))):
                eps = torch.randn((m, *mean.shape), device=mean.device, generator=generator)
                z = mean + std * eps
                log_q = (-0.5 * eps.square() - 0.5 * log_var - HALF_LOG_2PI).sum(-1)
                log_prior = (-0.5 * z.square() - HALF_LOG_2PI).sum(-1)
                weights.append(self.decoder_log_prob(block, z) + log_prior - log_q)
            out.append(torch.logsumexp(torch.cat(weights), dim=0) - math.log(k))
        return torch.cat(out)

    @property
    def log_prob_name(self) -> str:
        return f"IWAE k={self.iwae_k}"

    def bound(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.elbo(x, generator)

    def figures(self, data) -> dict[str, str]:
        """1D/2D points: the pushforwards x^_i ~ g#mu_i; images: reconstructions and, in 2D, the latent manifold."""
        if data.image_shape is None:
            return {"pushforward.png": "genlab.plots.pushforward:plot_pushforward"} if data.dim <= 2 else {}
        figures = {"reconstructions.png": "genlab.plots.images:plot_reconstructions"}
        if self.latent_dim == 2:
            figures["latent_manifold.png"] = "genlab.plots.images:plot_latent_manifold"
        return figures

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """g(z): the decoder's mean (pixel probabilities for a Bernoulli decoder)."""
        out = self.decoder(z)
        return torch.sigmoid(out) if self.likelihood == "bernoulli" else out

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check_fitted()
        blocks = [self.decode(torch.randn(m, self.latent_dim, device=self.device, generator=generator)) for m in chunks(int(n), 65536)]
        return torch.cat(blocks) if blocks else torch.empty(0, self.dim, device=self.device)

    @like_input
    @torch.no_grad()
    def pushforward(self, x: torch.Tensor, n_per_point: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """x^_i ~ g#mu_i: n_per_point decoded draws from each row's latent distribution, (n_per_point, n, dim)."""
        mean, log_var = self.encode(x.to(self.device, self.dtype))
        eps = torch.randn((n_per_point, *mean.shape), device=mean.device, generator=generator)
        return self.decode(mean + torch.exp(0.5 * log_var) * eps)

    @like_input
    @torch.no_grad()
    def reconstruct(self, x: torch.Tensor) -> torch.Tensor:
        """g(m_i): each row decoded from the mean of its latent distribution."""
        return self.decode(self.encode(x.to(self.device, self.dtype))[0])

    def summary(self, x: torch.Tensor) -> dict:
        return {"kl_weight": self.kl_weight, "likelihood": self.likelihood, "iwae_k": self.iwae_k}

"""The Wasserstein GAN (Arjovsky et al. 2017) and its gradient-penalty and
spectral-norm variants (Gulrajani et al. 2017; Miyato et al. 2018).

The critic ascends mean f(x) - mean f(g(z)), an estimate of W1(p, p_g) by the
Kantorovich-Rubinstein dual when f is 1-Lipschitz; the generator descends
-mean f(g(z)). The Lipschitz constraint is one of:
  clip: every critic weight clamped to [-clip_value, clip_value] after each update;
  gp:   gp_weight * mean (|grad f(x_hat)| - 1)^2 on random interpolates x_hat;
  sn:   every critic layer divided by its spectral norm (torch's parametrization).
"""

from __future__ import annotations

import torch

from genlab.errors import ConfigError, check_choice, check_nonnegative, check_positive
from genlab.models.adversarial import AdversarialModel

LIPSCHITZ = ("gp", "clip", "sn")
# (optimizer, learning rate) per method when the config leaves them null. clip is the
# WGAN paper's RMSProp 5e-5; gp and sn use Adam with betas (0.5, 0.9) as the WGAN-GP
# code, at 1e-3 rather than its 1e-4, which trains the 2D sets in minutes here.
METHOD_DEFAULTS = {"clip": ("rmsprop", 5e-5), "gp": ("adam", 1e-3), "sn": ("adam", 1e-3)}
WARMUP = (25, 500, 100)  # WGAN paper: 100 critic steps for the first 25 generator steps and every 500th


class WGAN(AdversarialModel):
    """Generator and critic MLPs trained on the Wasserstein-1 dual.

    Args:
        lipschitz: gp | clip | sn (default gp).
        gp_weight: λ of the gradient penalty (default 0.1, the WGAN-GP toy code's value
            for 2D data; the paper's 10 is meant for images).
        clip_value: bound of the weights for clip (default 0.01).
        d_steps: critic updates per generator update (default 5).
        warmup: with clip, the WGAN paper's schedule of 100 critic steps for the first
            25 generator steps and every 500th one (default false).
        lr, optimizer: null takes the method's default (clip: RMSProp 5e-5; gp, sn:
            Adam 1e-3, betas 0.5, 0.9).
        and the shared keys of `AdversarialModel`.
    Logged: the critic's Wasserstein estimate mean f(x) - mean f(g(z)) and, for gp,
    the penalty.
    """

    label = "WGAN"
    critic_name = "critic"

    def __init__(self, lipschitz: str = "gp", gp_weight: float = 0.1, clip_value: float = 0.01, d_steps: int = 5,
                 warmup: bool = False, lr: float | None = None, optimizer: str | None = None, betas=(0.5, 0.9), **shared):
        self.lipschitz = check_choice("lipschitz", lipschitz, LIPSCHITZ)
        self.gp_weight = check_nonnegative("gp_weight", gp_weight)
        self.clip_value = check_positive("clip_value", clip_value)
        if not isinstance(warmup, bool):
            raise ConfigError(f"warmup must be true or false (got {warmup!r})")
        self.warmup = warmup
        self.spectral_norm = self.lipschitz == "sn"
        default_optimizer, default_lr = METHOD_DEFAULTS[self.lipschitz]
        super().__init__(d_steps=d_steps, lr=default_lr if lr is None else lr, optimizer=optimizer or default_optimizer, betas=betas, **shared)

    def build(self, dim, device="cpu", image_shape=None):
        super().build(dim, device, image_shape)
        self.after_critic_step()  # clipping holds from the first critic evaluation on
        return self

    def d_steps_at(self, step):
        first, every, many = WARMUP
        if self.warmup and (step < first or step % every == 0):
            return many
        return self.d_steps

    def critic_loss(self, real, fake, generator=None):
        wasserstein = self.critic(real).mean() - self.critic(fake).mean()
        stats = {"wasserstein_estimate": wasserstein.detach()}
        loss = -wasserstein
        if self.lipschitz == "gp":
            penalty = self.gradient_penalty(real, fake, generator)
            stats["gradient_penalty"] = penalty.detach()
            loss = loss + self.gp_weight * penalty
        return loss, stats

    def gradient_penalty(self, real, fake, generator=None):
        """mean (|grad f(x_hat)|_2 - 1)^2 at x_hat = e x + (1 - e) g(z), e ~ U[0, 1] per pair
        (per pair of groups with pack > 1: the norm is the gradient's over the whole group)."""
        e = torch.rand(len(real) // self.pack, 1, device=real.device, generator=generator).repeat_interleave(self.pack, dim=0)
        x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(self.critic(x_hat).sum(), x_hat, create_graph=True)
        return (grad.reshape(len(grad) // self.pack, -1).norm(dim=1) - 1).square().mean()

    def generator_loss(self, fake):
        return -self.critic(fake).mean()

    @torch.no_grad()
    def after_critic_step(self):
        if self.lipschitz == "clip":
            for p in self.critic.parameters():
                p.clamp_(-self.clip_value, self.clip_value)

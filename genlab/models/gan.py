"""The original GAN (Goodfellow et al. 2014), in the lecture's notation.

The discriminator f: X -> (0, 1) ascends V(f, g) = mean ln f(x) + mean ln(1 - f(g(z)));
the generator descends ln(1 - f(g(z))) ("minimax", saturating) or -ln f(g(z))
("non_saturating", the paper's practical variant). Everything is computed from the
logit l, with ln f = -softplus(-l) and ln(1 - f) = -softplus(l), so no loss ever takes
the log of a rounded 0 or 1.
"""

from __future__ import annotations

import torch
from torch.nn.functional import softplus

from genlab.errors import check_choice
from genlab.models.adversarial import AdversarialModel

LOSSES = ("non_saturating", "minimax")


class GAN(AdversarialModel):
    """Generator and discriminator MLPs trained on the Jensen-Shannon objective.

    Args: loss (non_saturating | minimax), d_steps ("many f ascents for each g
    descent"), and the shared keys of `AdversarialModel`. Logged: the value V of
    the objective, which at the optimal discriminator equals 2 JS(p, p_g) - ln 4.
    """

    label = "GAN"
    critic_name = "discriminator"

    def __init__(self, loss: str = "non_saturating", d_steps: int = 1, lr: float = 1e-3, optimizer: str = "adam",
                 betas=(0.5, 0.999), **shared):
        self.loss = check_choice("loss", loss, LOSSES)
        super().__init__(d_steps=d_steps, lr=lr, optimizer=optimizer, betas=betas, **shared)

    def critic_loss(self, real, fake, generator=None):
        """-V(f, g): the discriminator descends it, i.e. ascends V."""
        loss = softplus(-self.critic(real)).mean() + softplus(self.critic(fake)).mean()
        return loss, {"value": -loss.detach()}

    def generator_loss(self, fake):
        logits = self.critic(fake)
        if self.loss == "minimax":
            return -softplus(logits).mean()  # mean ln(1 - f(g(z)))
        return softplus(-logits).mean()  # -mean ln f(g(z))

    def _score(self, logits):
        return torch.sigmoid(logits)

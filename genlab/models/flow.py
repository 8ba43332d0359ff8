"""RealNVP (Dinh, Sohl-Dickstein & Bengio 2017): a normalizing flow, the lecture's
counterexample to "either we have easy sampling, or we can estimate densities".

An invertible map f sends data x to z = f(x) ~ N(0, I), so both come exactly:
    log p(x) = log N(f(x); 0, I) + log |det df/dx|,    x = f^-1(z) with z ~ N(0, I).
f is a stack of affine coupling layers. Each keeps the coordinates where a binary mask
b is 1 and moves the others by an affine map of them:
    y = b * x + (1 - b) * (x * exp(s(b * x)) + t(b * x)),    log |det| = sum (1 - b) * s,
with the masks alternating (b, 1 - b, b, ...) so every coordinate is moved every second
layer. s and t are one MLP of the kept coordinates. The paper's scale stabilisation:
s = scale * tanh(raw s), with a learned per-coordinate `scale` starting at 1, so no
single layer can blow a coordinate up or collapse it early in training.

On points the masks alternate between the even and the odd coordinates (in 2D: x1 then
x2). On images (MLP couplings on the flattened pixels: this model's choice, simpler and
faster on a CPU than the paper's convolutional multi-scale flow) the masks are the
paper's checkerboard and its complement, and the pixels, k / 255 for k in 0..255, go
through the paper's preprocessing:
  - dequantization: y = (255 x + u) / 256 with u ~ U[0, 1) (fresh in every training
    batch; seeded and fixed when scoring), a density on [0, 1]^D;
  - the paper's logit transform, logit(alpha + (1 - 2 alpha) y), whose Jacobian enters
    log p, with alpha = 1e-6 (MNIST's in the MAF code) rather than the paper's 0.05 for
    natural images: measured here, a full-covariance Gaussian in logit space scores 2.01
    bits/dim on MNIST's test images at 1e-6 and 3.90 at 0.05, and the flow after 100
    seconds 1.91 and 2.66.
log_prob(x) is then the exact log-density of the model's continuous pixels y in [0, 1]^D
at the dequantized point (sub-normalized: mass the flow puts beyond logit's image of
[0, 1], [-13.8, 13.8], is lost, so it errs low); 8 - its mean over test images / (D ln 2)
is the usual bits per dimension of 8-bit images, which genlab's image evaluation
reports as test_bits_per_dim (averaged over u, log p bounds the log-probability of the
discrete images from below, Theis et al. 2016).
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from genlab.errors import ConfigError, check_nonnegative, check_positive
from genlab.models.networks import check_architecture, mlp
from genlab.models.trained import TrainedModel, chunks
from genlab.subnormals import subnormals_flushed

ALPHA = 1e-6  # the logit transform's margin on images (see the module docstring)
SCORE_SEED = 1618  # the dequantization noise when scoring images, the same in every run
BLOCK = 4096  # rows per forward pass when scoring or sampling many


class Coupling(nn.Module):
    """One affine coupling layer on the coordinates where `mask` is 0."""

    def __init__(self, mask: torch.Tensor, hidden, depth: int, activation: str):
        super().__init__()
        self.register_buffer("mask", mask)
        dim = len(mask)
        self.net = mlp(dim, 2 * dim, hidden, depth, activation)
        nn.init.zeros_(self.net[-1].weight)  # every layer starts as the identity
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(dim))

    def _shift_and_log_scale(self, kept: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        raw_s, t = self.net(kept).chunk(2, dim=-1)
        moved = 1 - self.mask
        return t * moved, self.scale * torch.tanh(raw_s) * moved

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> (z, log |det dz/dx|) per row."""
        t, s = self._shift_and_log_scale(x * self.mask)
        return x * torch.exp(s) + t, s.sum(-1)

    def inverse(self, z: torch.Tensor) -> torch.Tensor:
        t, s = self._shift_and_log_scale(z * self.mask)  # the kept coordinates are unchanged
        return (z - t) * torch.exp(-s)


class Flow(TrainedModel):
    """RealNVP trained by maximum likelihood (Adam on the mean negative log-likelihood).

    Args:
        n_couplings: affine coupling layers, masks alternating.
        hidden, depth, activation: the MLP of every coupling (width, hidden layers).
        batch_size, lr: of the Adam steps.
        ema: decay of the moving average of the weights (torch's swa_utils) that scores and
            samples, as the GANs' generators; it smooths out the steps' noise. 0 = off.
        max_grad_norm: the gradient's norm is clipped to this before each step (0 = never):
            a batch that lands in a thin region of a many-layered flow otherwise throws
            the weights far enough to undo thousands of steps.
        weight_decay: an L2 penalty, weight_decay / 2 * |w|^2, on the couplings' MLP weights
            (not on the per-coordinate `scale`, so narrow modes stay sharp). On the toy
            sets' 2000 training points an unpenalised 16-layer flow follows the points:
            on mixture2d its train log-likelihood ends 0.044 above the true density's and
            its test log-likelihood 0.051 below; at 1e-4, the test's 0.039 below, and
            moons' test log-likelihood rises from -1.141 to -1.088 (make bench).
    """

    label = "RealNVP"
    network_names = ("flow", "flow_ema")  # the moving average only when ema > 0
    lr_schedule = "cosine"  # on the toy sets the last, smaller steps are what tighten narrow modes

    def __init__(self, n_couplings: int = 16, hidden=128, depth: int = 2, activation: str = "relu",
                 batch_size: int = 64, lr: float = 1e-3, ema: float = 0.999, max_grad_norm: float = 10.0,
                 weight_decay: float = 1e-4):
        self.n_couplings = check_positive("n_couplings", n_couplings, integer=True)
        self.hidden, self.depth, self.activation = check_architecture(hidden, depth, activation)
        self.batch_size = check_positive("batch_size", batch_size, integer=True)
        self.lr = check_positive("lr", lr)
        self.ema = check_nonnegative("ema", ema)
        if self.ema >= 1:
            raise ConfigError(f"ema must be in [0, 1): the decay of the moving average, 0 for none (got {ema!r})")
        self.max_grad_norm = check_nonnegative("max_grad_norm", max_grad_norm)
        self.weight_decay = check_nonnegative("weight_decay", weight_decay)
        self.flow = self.flow_ema = None

    def build(self, dim, device="cpu", image_shape=None):
        self.dim, self.image_shape = dim, self._check_image_shape(dim, image_shape)
        if self.image_shape is not None:
            _, height, width = self.image_shape
            rows, columns = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
            first = ((rows + columns) % 2).flatten().repeat(self.image_shape[0]).float()  # the checkerboard
        else:
            first = (torch.arange(dim) % 2 == 0).float() if dim > 1 else torch.zeros(1)
        masks = [first if i % 2 == 0 else 1 - first for i in range(self.n_couplings)]
        if dim == 1:  # nothing to condition on: each layer is an affine map of the one coordinate
            masks = [torch.zeros(1)] * self.n_couplings
        self.flow = nn.ModuleList(Coupling(m, self.hidden, self.depth, self.activation) for m in masks).to(device)
        self.flow_ema = AveragedModel(self.flow, multi_avg_fn=get_ema_multi_avg_fn(self.ema)).requires_grad_(False) if self.ema > 0 else None
        return self

    @property
    def _scoring(self) -> nn.ModuleList:
        """The layers that score and sample: the moving average where there is one."""
        return self.flow if self.flow_ema is None else self.flow_ema.module

    # -- the density -------------------------------------------------------------------------

    def _log_prob_continuous(self, y: torch.Tensor, layers: nn.ModuleList | None = None) -> torch.Tensor:
        """log p of points (or of dequantized pixels in [0, 1]) through `layers` (the scoring ones by default)."""
        z, log_det = y, torch.zeros(len(y), device=y.device)
        if self.image_shape is not None:
            z = ALPHA + (1 - 2 * ALPHA) * z
            log_det = log_det + (math.log(1 - 2 * ALPHA) - torch.log(z) - torch.log1p(-z)).sum(-1)
            z = torch.log(z) - torch.log1p(-z)
        for layer in self._scoring if layers is None else layers:
            z, layer_log_det = layer(z)
            log_det = log_det + layer_log_det
        return log_det - 0.5 * (z.square().sum(-1) + self.dim * math.log(2 * math.pi))

    def _dequantize(self, x: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
        u = torch.rand(x.shape, generator=generator, device=x.device)
        return (255 * x + u) / 256

    def log_prob(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """Exact log-density of each row (images: of its dequantized pixels, noise from
        `generator`, else a fixed seed, so scores repeat)."""
        x = self._as_points(x, dim=self.dim).to(self.device, torch.float32)
        if self.image_shape is not None and generator is None:
            generator = torch.Generator(x.device).manual_seed(SCORE_SEED)
        with torch.no_grad():
            return torch.cat([self._log_prob_continuous(self._dequantize(block, generator) if self.image_shape else block)
                              for block in x.split(BLOCK)])

    def differentiable_log_prob(self):
        return self._log_prob_continuous

    @property
    def log_prob_name(self) -> str:
        return "exact, of the dequantized pixels" if self.image_shape is not None else "exact"

    # -- training and sampling -----------------------------------------------------------------

    def train_step(self, draw, optimizers, rng, step):
        (optimizer,) = optimizers
        x = draw(self.batch_size)
        if self.image_shape is not None:
            x = self._dequantize(x, rng)
        with subnormals_flushed():
            with self.autocast():
                loss = -self._log_prob_continuous(x, self.flow).mean()
            objective = loss
            if self.weight_decay > 0:
                weights = (w for name, w in self.flow.named_parameters() if not name.endswith("scale"))
                objective = loss + 0.5 * self.weight_decay * sum(w.square().sum() for w in weights)
            optimizer.zero_grad(set_to_none=True)
            objective.backward()
            if self.max_grad_norm > 0:
                nn.utils.clip_grad_norm_(self.flow.parameters(), self.max_grad_norm)
            optimizer.step()
        if self.flow_ema is not None:
            self.flow_ema.update_parameters(self.flow)
        return {"negative_log_likelihood": loss.detach()}

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """x = f^-1(z), z ~ N(0, I): exact samples (images: pixels in [0, 1])."""
        out = []
        for size in chunks(int(n), BLOCK):
            z = torch.randn(size, self.dim, generator=generator, device=self.device)
            for layer in reversed(self._scoring):
                z = layer.inverse(z)
            if self.image_shape is not None:
                z = ((torch.sigmoid(z) - ALPHA) / (1 - 2 * ALPHA)).clamp(0, 1)
            out.append(z)
        return torch.cat(out)

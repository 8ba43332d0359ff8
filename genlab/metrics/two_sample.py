"""The classifier two-sample test (C2ST, Lopez-Paz & Oquab 2017): can a small network tell
the samples from held-out real points?

An equal mix of n samples and n test points (n the smaller of the two, each a random subset),
labelled, shuffled and split in halves; a two-layer MLP (one hidden layer of 64 ReLU units)
is trained on one half by full-batch Adam (300 steps, learning rate 0.01, features
standardized by the training half's mean and std) and its accuracy on the other half is
reported with its binomial standard error sqrt(p (1 - p) / n). 0.5 means indistinguishable;
1 means perfectly separated. Under the null hypothesis (one distribution) the accuracy is
about N(1/2, 1/(4n)) (Lopez-Paz & Oquab, section 2), which gives `p_value` (one-sided:
accuracy this high by chance). Seeded (the subsets, the split and the initial weights) and
computed on the CPU in float32, so the same inputs give the same number.

What fools it: only what the network can learn in 300 steps; a classifier this small
misses fine detail (small offsets within a mode, copies of training points, which are
distributed as the data). Accuracy below 0.5 is chance (or overfitting the training half).
Meant for points; for images the issue asks it only of points.
"""

from __future__ import annotations

import math

import torch

from genlab.errors import ConfigError, check_positive
from genlab.metrics.registry import register
from genlab.metrics.samples import _points, _same_space

HIDDEN, STEPS, LEARNING_RATE = 64, 300, 0.01
BETAS, EPS = (0.9, 0.999), 1e-8  # Adam's defaults


def classifier_two_sample_test(samples, test, hidden: int = HIDDEN, steps: int = STEPS,
                               learning_rate: float = LEARNING_RATE, seed: int = 0) -> dict:
    """C2ST accuracy of `samples` against the held-out `test` points: {"accuracy",
    "standard_error", "p_value", "n"} (n: points scored, half of the 2n mixed)."""
    hidden = check_positive("hidden", hidden, integer=True)
    steps = check_positive("steps", steps, integer=True)
    learning_rate = check_positive("learning_rate", learning_rate)
    fake, real = _points(samples, "samples").cpu(), _points(test, "test").cpu()
    real = _same_space(fake, real)
    n = min(len(fake), len(real))
    if n < 2:
        raise ConfigError(f"the two-sample test needs at least 2 samples and 2 test points (got {len(fake)} and {len(real)})")
    generator = torch.Generator().manual_seed(seed)
    fake = fake[torch.randperm(len(fake), generator=generator)[:n]]
    real = real[torch.randperm(len(real), generator=generator)[:n]]
    x = torch.cat([fake, real])
    y = torch.cat([torch.ones(n), torch.zeros(n)])
    order = torch.randperm(2 * n, generator=generator)
    train, held = order[:n], order[n:]
    mean, std = x[train].mean(0), x[train].std(0, correction=0)
    z = ((x - mean) / torch.where(std > 0, std, torch.ones_like(std))).float()

    dim = x.shape[1]
    bound1, bound2 = 1 / math.sqrt(dim), 1 / math.sqrt(hidden)  # torch.nn.Linear's own initialization
    weights = [(torch.rand(dim, hidden, generator=generator) * 2 - 1) * bound1, (torch.rand(hidden, generator=generator) * 2 - 1) * bound1,
               (torch.rand(hidden, generator=generator) * 2 - 1) * bound2, (torch.rand((), generator=generator) * 2 - 1) * bound2]
    with torch.inference_mode(False), torch.enable_grad():
        params = [w.clone().requires_grad_() for w in weights]
        moments = [(torch.zeros_like(w), torch.zeros_like(w)) for w in params]
        z_train, y_train = z[train].clone(), y[train].clone()
        for step in range(1, steps + 1):
            w1, b1, w2, b2 = params
            logits = torch.relu(z_train @ w1 + b1) @ w2 + b2
            grads = torch.autograd.grad(torch.nn.functional.binary_cross_entropy_with_logits(logits, y_train), params)
            with torch.no_grad():  # Adam (Kingma & Ba 2015, Algorithm 1), by hand: torch.optim costs a second to import
                for w, g, (m, v) in zip(params, grads, moments):
                    m.mul_(BETAS[0]).add_(g, alpha=1 - BETAS[0])
                    v.mul_(BETAS[1]).addcmul_(g, g, value=1 - BETAS[1])
                    denominator = (v / (1 - BETAS[1] ** step)).sqrt_().add_(EPS)
                    w.addcdiv_(m, denominator, value=-learning_rate / (1 - BETAS[0] ** step))
        with torch.no_grad():
            w1, b1, w2, b2 = params
            predicted = (torch.relu(z[held] @ w1 + b1) @ w2 + b2) > 0
    accuracy = (predicted == y[held].bool()).double().mean().item()
    null_std = math.sqrt(0.25 / n)
    return {"accuracy": accuracy, "standard_error": math.sqrt(accuracy * (1 - accuracy) / n),
            "p_value": 0.5 * math.erfc((accuracy - 0.5) / null_std / math.sqrt(2)), "n": n}


@register("c2st", final_only=True, higher_is_better=False, summary=("accuracy",),
          rows=lambda c2st: {"classifier two-sample test accuracy (0.5: indistinguishable)": f"{c2st['accuracy']:.3f} ± {c2st['standard_error']:.3f}"})
def _c2st(samples, test, data):
    return classifier_two_sample_test(samples, test) if min(len(samples), len(test)) >= 2 else None  # None: too few points

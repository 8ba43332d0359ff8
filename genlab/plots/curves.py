"""Training curves: a value per iteration (EM's log-likelihood now, adversarial losses later)."""

from __future__ import annotations

from pathlib import Path

import torch

from genlab.plots import style


def plot_curve(values, path: Path, title: str, xlabel: str, ylabel: str) -> Path:
    """A single training curve (e.g. EM's log-likelihood per iteration)."""
    values = torch.as_tensor(values, dtype=torch.float64).numpy()
    fig, (ax,) = style.figure(height=3.4)
    ax.plot(range(len(values)), values, "o-", color=style.MODEL_COLOR, ms=3, lw=1.5)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return style.save(fig, path)


def plot_em(model, data, path: Path) -> Path:
    """em.png: a mixture's mean log-likelihood after every EM iteration (GMM.figures)."""
    return plot_curve(model.log_likelihood_history_, path, f"{model.label}: mean log-likelihood per iteration",
                      "EM iteration", "mean log-likelihood (nats)")

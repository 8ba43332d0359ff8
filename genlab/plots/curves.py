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

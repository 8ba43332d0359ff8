"""Model samples beside the data, on the same axes, so coverage and spread compare by eye."""

from __future__ import annotations

from pathlib import Path

from genlab.arrays import as_dataset, to_numpy
from genlab.errors import ConfigError
from genlab.models.base import check_fitted_model
from genlab.plots import style


def plot_samples(model, data, path: Path, n: int = 2000, samples=None, title: str | None = None) -> Path | None:
    """Write samples.png for 1D or 2D data (None for other dimensions): the model's own
    draws, or the given `samples` (an array, e.g. Langevin chains') under `title`.
    `model` is any fitted genlab model, `data` a genlab data set or an array of points."""
    model, data = check_fitted_model(model), as_dataset(data)
    if data.dim not in (1, 2):
        return None
    real = data.train[:n].numpy()
    if samples is None:
        samples = model.sample(min(n, len(data.train)))
    fake = to_numpy(samples)[:n].astype("float32")
    if fake.ndim == 1:
        fake = fake[:, None]
    if fake.ndim != 2 or fake.shape[1] != data.dim:
        raise ConfigError(f"samples must have {data.dim} columns, as data (got shape {fake.shape})")
    fig, axes = style.figure(ncols=2)
    lo, hi = data.bounds()
    for ax, points, color, heading in ((axes[0], real, style.SAMPLE_COLOR, "data (train)"), (axes[1], fake, style.MODEL_COLOR, title or f"samples, {model.label}")):
        if data.dim == 1:
            ax.hist(points[:, 0], bins=60, range=(float(lo[0]), float(hi[0])), density=True, color=color, alpha=0.6)
            ax.set(xlabel=style.axis_names(data)[0], ylabel="density")
        else:
            ax.scatter(points[:, 0], points[:, 1], s=3, color=color, alpha=0.5, linewidths=0)
            ax.set(xlim=(float(lo[0]), float(hi[0])), ylim=(float(lo[1]), float(hi[1])), xlabel=style.axis_names(data)[0], ylabel=style.axis_names(data)[1])
        ax.set_title(heading)
    return style.save(fig, path)


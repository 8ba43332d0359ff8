"""The lecture's density figures: a sample with the model's density over it.

1D: histogram of the sample, the true density where known, a kde of the sample
(for models other than the kde itself) and the model's density, titled like the
slides ("Univariate sample, kernel density estimate (kde), GMM E-M").
2D: the model's density as a heat map under a scatter of the sample
("Bivariate sample, GMM E-M").
"""

from __future__ import annotations

from pathlib import Path

import torch
from matplotlib.colors import PowerNorm

from genlab.arrays import as_dataset
from genlab.models.base import check_fitted_model
from genlab.plots import style


def plot_density(model, data, path: Path, resolution: int = 300) -> Path | None:
    """Write density.png for 1D or 2D data; other dimensions get no density plot (None),
    and so do models without a density (GAN, WGAN: plot genlab.metrics.kde_of_samples of
    their samples). `model` is any fitted genlab model, `data` a genlab data set or an
    array of points to draw under the density."""
    model, data = check_fitted_model(model), as_dataset(data)
    if not model.has_log_prob or data.dim not in (1, 2):
        return None
    if data.dim == 1:
        fig = _univariate(model, data)
    else:
        fig = _bivariate(model, data, resolution)
    return style.save(fig, path)


def _density(log_prob, grid):
    return log_prob(grid).detach().double().exp().cpu().numpy()


def _univariate(model, data):
    from genlab.models import KDE

    lo, hi = (float(v) for v in data.bounds())
    grid = torch.linspace(lo, hi, 800, dtype=data.train.dtype)[:, None]
    x = grid[:, 0].numpy()
    fig, (ax,) = style.figure(width=6.4)
    ax.hist(data.train[:, 0].numpy(), bins=60, density=True, color=style.SAMPLE_COLOR, alpha=0.35, label="sample")
    if data.has_density:
        ax.plot(x, _density(data.log_prob, grid), "--", color=style.TRUE_COLOR, lw=1.2, label="true density")
    curves = []
    if model.label != KDE.label:
        reference = KDE().fit(data.train)
        ax.plot(x, _density(reference.log_prob, grid), color=style.REFERENCE_COLOR, lw=1.5, label="kde of the sample")
        curves.append(KDE.label)
    ax.plot(x, _density(model.log_prob, grid), color=style.MODEL_COLOR, lw=2, label=model.label)
    curves.append(model.label)
    ax.set(title="Univariate sample, " + ", ".join(curves), xlabel=style.axis_names(data)[0], ylabel="density", xlim=(lo, hi))
    ax.legend()
    return fig


def _bivariate(model, data, resolution):
    lo, hi = data.bounds()
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution, dtype=data.train.dtype)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution, dtype=data.train.dtype)
    grid = torch.cartesian_prod(xs, ys)
    density = _density(model.log_prob, grid).reshape(resolution, resolution).T
    fig, (ax,) = style.figure(width=5.0, height=4.6)
    # A square-root colour scale, so that low-density regions and very peaked modes both show.
    norm = PowerNorm(0.5, vmin=0.0, vmax=float(density.max()) or 1.0)
    mesh = ax.pcolormesh(xs.numpy(), ys.numpy(), density, shading="auto", cmap=style.DENSITY_CMAP, norm=norm)
    fig.colorbar(mesh, ax=ax, label="model density")
    sample = data.train[:3000].numpy()
    ax.scatter(sample[:, 0], sample[:, 1], s=1.5, color="#7fd4ff", alpha=0.5, linewidths=0, label="sample")
    ax.set(title=f"Bivariate sample, {model.label}", xlabel=style.axis_names(data)[0], ylabel=style.axis_names(data)[1])
    ax.grid(False)
    return fig

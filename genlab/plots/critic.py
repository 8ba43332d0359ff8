"""What the discriminator or critic sees, as in the WGAN-GP paper's toy figures.

2D: f(x) over the data's box as a map, the real sample and the generator's sample
on top ("WGAN critic, real and generated samples"): where f separates the two, the
generator is pushed along f's gradient. 1D: the curve f(x) on a second y-axis over
the histograms of both samples and the true density, so one sees f rise where p
exceeds p_g; for a GAN the line f = 1/2, the optimal discriminator once p_g = p.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import torch

from genlab.arrays import to_numpy
from genlab.plots import style

# Maps of f, distinct from the density's magma: a GAN's f is a probability, centred
# on 1/2, hence diverging on [0, 1]; a WGAN critic's level is arbitrary, hence sequential.
GAN_CMAP = "PRGn"  # purple: "generated", green: "real"; both sample colours show on it
WGAN_CMAP = "viridis"
CRITIC_COLOR = "#2a9d8f"  # the curve f(x) in 1D
REAL_ON_MAP = "#7fd4ff"  # the data, light enough to show on a dark or saturated map
N_POINTS = 1000
SEED = 0  # generated samples come from a seeded generator: reproducible, global RNG untouched


def plot_critic(model, data, path: Path, resolution: int = 200) -> Path | None:
    """Write critic.png for 1D or 2D data (None for other dimensions); the critic's
    weights, buffers and training mode are left as they were."""
    if data.dim not in (1, 2):
        return None
    fake = to_numpy(model.sample(N_POINTS, torch.Generator(model.device).manual_seed(SEED))).astype("float32")  # numpy or torch, as fit
    if data.dim == 1:
        fig = _univariate(model, data, fake)
    else:
        fig = _bivariate(model, data, fake, resolution)
    return style.save(fig, path)


def _value_label(model) -> str:
    return "f(x) = P(real)" if model.label == "GAN" else f"{model.critic_name} f(x)"


def _values(model, grid: torch.Tensor):
    return model.critic_value(grid).detach().double().cpu().numpy()


def _univariate(model, data, fake):
    lo, hi = (float(v) for v in data.bounds())
    grid = torch.linspace(lo, hi, 800, dtype=data.train.dtype)[:, None]
    x = grid[:, 0].numpy()
    fig, (ax,) = style.figure(width=6.4)
    ax.hist(data.train[:, 0].numpy(), bins=60, range=(lo, hi), density=True, color=style.SAMPLE_COLOR, alpha=0.35, label="data (train)")
    ax.hist(fake[:, 0], bins=60, range=(lo, hi), density=True, color=style.MODEL_COLOR, alpha=0.35, label=f"samples, {model.label}")
    if data.has_density:
        ax.plot(x, data.log_prob(grid).double().exp().numpy(), "--", color=style.TRUE_COLOR, lw=1.2, label="true density")
    ax.set(xlabel="x", ylabel="density", xlim=(lo, hi))

    with plt.rc_context(style.RC):
        twin = ax.twinx()
    twin.spines["right"].set_visible(True)
    twin.grid(False)
    twin.plot(x, _values(model, grid), color=CRITIC_COLOR, lw=2, label=f"{model.critic_name} f(x)")
    if model.label == "GAN":
        twin.axhline(0.5, ls=":", color=CRITIC_COLOR, lw=1.2, label="f = 1/2 (optimal when $p_g = p$)")
        twin.set_ylim(0, 1)
    twin.set_ylabel(_value_label(model), color=CRITIC_COLOR)
    twin.tick_params(axis="y", colors=CRITIC_COLOR)

    handles, labels = ax.get_legend_handles_labels()
    more_handles, more_labels = twin.get_legend_handles_labels()
    twin.legend(handles + more_handles, labels + more_labels, fontsize=8, loc="upper left")  # on the twin: drawn last, on top
    ax.set_title(f"{model.label} {model.critic_name} f(x) and the two densities")
    return fig


def _bivariate(model, data, fake, resolution):
    lo, hi = data.bounds()
    xs = torch.linspace(float(lo[0]), float(hi[0]), resolution, dtype=data.train.dtype)
    ys = torch.linspace(float(lo[1]), float(hi[1]), resolution, dtype=data.train.dtype)
    values = _values(model, torch.cartesian_prod(xs, ys)).reshape(resolution, resolution).T
    fig, (ax,) = style.figure(width=5.4, height=4.6)
    if model.label == "GAN":
        mesh = ax.pcolormesh(xs.numpy(), ys.numpy(), values, shading="auto", cmap=GAN_CMAP, vmin=0.0, vmax=1.0)
    else:
        mesh = ax.pcolormesh(xs.numpy(), ys.numpy(), values, shading="auto", cmap=WGAN_CMAP)
    # Level sets as thin lines, as the WGAN-GP figure draws them: the generator moves across them.
    if values.max() > values.min():
        ax.contour(xs.numpy(), ys.numpy(), values, levels=10, colors="white", linestyles="solid", linewidths=0.5, alpha=0.5)
    fig.colorbar(mesh, ax=ax, label=_value_label(model))
    real = data.train[:N_POINTS].numpy()
    # The data on top: it is often a few tight modes that the generated cloud would hide.
    ax.scatter(fake[:, 0], fake[:, 1], s=5, color=style.MODEL_COLOR, edgecolors="black", linewidths=0.2, alpha=0.8, label=f"samples, {model.label}")
    ax.scatter(real[:, 0], real[:, 1], s=5, color=REAL_ON_MAP, edgecolors="black", linewidths=0.2, alpha=0.9, label="data (train)")
    ax.set(
        title=f"{model.label} {model.critic_name}, real and generated samples", xlabel="$x_1$", ylabel="$x_2$",
        xlim=(float(lo[0]), float(hi[0])), ylim=(float(lo[1]), float(hi[1])),
    )
    handles, labels = ax.get_legend_handles_labels()
    ax.legend(handles[::-1], labels[::-1], loc="upper right", fontsize=8, frameon=True, markerscale=2)
    ax.grid(False)
    return fig

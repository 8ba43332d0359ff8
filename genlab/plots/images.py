"""Figures for image data: grids of samples beside real images, samples during
training, a VAE's input/reconstruction pairs, and its 2D latent manifold."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from genlab.plots import style

PAD = 2  # pixels between tiles


def tile(images: torch.Tensor, image_shape, ncols: int) -> np.ndarray:
    """Rows of flattened images -> one (H, W) or (H, W, 3) array of tiles, ncols per row."""
    c, h, w = image_shape
    images = images.detach().float().cpu().clamp(0, 1).reshape(-1, c, h, w)
    nrows = -(-len(images) // ncols)
    canvas = torch.ones(c, nrows * (h + PAD) + PAD, ncols * (w + PAD) + PAD)
    for i, image in enumerate(images):
        row, col = divmod(i, ncols)
        canvas[:, PAD + row * (h + PAD):PAD + row * (h + PAD) + h, PAD + col * (w + PAD):PAD + col * (w + PAD) + w] = image
    return canvas[0].numpy() if c == 1 else canvas.permute(1, 2, 0).numpy()


def _show(ax, array: np.ndarray, title: str) -> None:
    ax.imshow(array, cmap="gray_r" if array.ndim == 2 else None, vmin=0, vmax=1, interpolation="nearest")
    ax.set_title(title)
    ax.axis("off")


def plot_image_samples(samples: torch.Tensor, real: torch.Tensor, image_shape, label: str, path: Path, ncols: int = 10) -> Path:
    """samples.png: a grid of the model's samples beside as many real images."""
    fig, axes = style.figure(ncols=2, width=4.4, height=4.6)
    _show(axes[0], tile(samples, image_shape, ncols), f"samples, {label}")
    _show(axes[1], tile(real, image_shape, ncols), "data (train)")
    return style.save(fig, path)


def plot_image_snapshots(snapshots: list[dict], image_shape, label: str, path: Path, per_row: int = 16) -> Path | None:
    """snapshots.png: one row of samples (the same latent draws) per recorded step."""
    if not snapshots:
        return None
    rows = [s["samples"][:per_row] for s in snapshots]
    fig, axes = style.figure(width=per_row * 0.55, height=0.6 * len(rows) + 0.8)
    _show(axes[0], tile(torch.cat(rows), image_shape, per_row), f"{label} samples during training (rows: steps {', '.join(str(s['step']) for s in snapshots)})")
    return style.save(fig, path)


def plot_reconstructions(model, data, path: Path, n: int = 50, ncols: int = 10) -> Path:
    """reconstructions.png: the first n test images (odd rows) over their reconstructions g(m_i) (even rows)."""
    ncols = min(ncols, len(data.test))
    image_shape, images = data.image_shape, data.test[: min(n, len(data.test)) // ncols * ncols]  # whole rows only
    recon, images = model.reconstruct(images).cpu(), images.cpu()
    pairs = torch.cat([torch.stack([images[i:i + ncols], recon[i:i + ncols]]) for i in range(0, len(images), ncols)])  # image row, its reconstructions, ...
    fig, (ax,) = style.figure(width=4.6, height=4.4)
    _show(ax, tile(pairs.reshape(-1, images.shape[1]), image_shape, ncols), f"{model.label}: test images over their reconstructions")
    return style.save(fig, path)


def plot_latent_manifold(model, data, path: Path, n: int = 15) -> Path:
    """latent_manifold.png: g(z) on an n x n grid of z at the prior's quantiles (latent_dim 2)."""
    image_shape = data.image_shape
    quantiles = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, n))
    z = torch.cartesian_prod(quantiles.flip(0), quantiles)[:, [1, 0]]  # rows: z2 from top down; columns: z1
    fig, (ax,) = style.figure(width=4.8, height=5.0)
    _show(ax, tile(model.decode(z.to(model.device)).cpu(), image_shape, n), f"{model.label}: g(z), z on the prior's 5%-95% quantiles")
    return style.save(fig, path)

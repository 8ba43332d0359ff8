"""training.gif: a trained model's samples at every evaluation, over the map the model
shades under them (GenerativeModel.animation_map: a GAN's or WGAN's critic), as the
WGAN-GP toy code's frames show training; 1D and 2D points.

Written with matplotlib's animation and Pillow (a matplotlib dependency), atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.animation import FuncAnimation, PillowWriter

from genlab.plots import style

GRID = 80  # points per axis of the shaded map (2D), 400 in 1D
FRAME_POINTS = 1000  # samples drawn per frame
FPS = 3
DPI = 90


def animation_grid(data) -> torch.Tensor:
    """The points where each frame's map is evaluated: a GRID x GRID grid over the data's box (2D), a line (1D)."""
    lo, hi = data.bounds()
    if data.dim == 1:
        return torch.linspace(float(lo[0]), float(hi[0]), 5 * GRID)[:, None]
    xs, ys = (torch.linspace(float(lo[i]), float(hi[i]), GRID) for i in range(2))
    return torch.cartesian_prod(xs, ys)


def plot_animation(frames: list[dict], data, label: str, path: Path) -> Path | None:
    """frames: {"step", "samples" (n, dim), "map" (values on animation_grid, or None)}, one per evaluation."""
    if not frames or data.dim not in (1, 2):
        return None
    lo, hi = (b.numpy() for b in data.bounds())
    real = data.train[:FRAME_POINTS].numpy()
    maps = [f["map"] for f in frames if f["map"] is not None]
    value_range = (min(float(m.min()) for m in maps), max(float(m.max()) for m in maps)) if maps else None
    with plt.rc_context(style.RC):
        fig, ax = plt.subplots(figsize=(4.4, 4.0))

    def draw(i):
        frame = frames[i]
        ax.clear()
        samples = frame["samples"][:FRAME_POINTS].numpy()
        if data.dim == 1:
            ax.hist(real[:, 0], bins=50, range=(lo[0], hi[0]), density=True, color=style.SAMPLE_COLOR, alpha=0.4)
            ax.hist(samples[:, 0], bins=50, range=(lo[0], hi[0]), density=True, color=style.MODEL_COLOR, alpha=0.4)
            if frame["map"] is not None:
                twin_values = (frame["map"].numpy() - value_range[0]) / max(value_range[1] - value_range[0], 1e-12)
                top = ax.get_ylim()[1]
                ax.plot(animation_grid(data)[:, 0].numpy(), twin_values * top, color="#2a9d8f", lw=1.5)
            ax.set(xlim=(lo[0], hi[0]), xlabel="x", ylabel="density")
        else:
            if frame["map"] is not None:
                values = frame["map"].numpy().reshape(GRID, GRID).T
                ax.imshow(values, origin="lower", extent=(lo[0], hi[0], lo[1], hi[1]), aspect="auto", cmap="viridis",
                          vmin=value_range[0], vmax=value_range[1], interpolation="bilinear")
            ax.scatter(real[:, 0], real[:, 1], s=3, color="#7fd4ff", linewidths=0, alpha=0.6)
            ax.scatter(samples[:, 0], samples[:, 1], s=3, color=style.MODEL_COLOR, linewidths=0, alpha=0.8)
            ax.set(xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]), xlabel="$x_1$", ylabel="$x_2$")
            ax.grid(False)
        ax.set_title(f"{label}, step {frame['step']}: samples (orange), data (blue)", fontsize=9)
        fig.tight_layout()

    animation = FuncAnimation(fig, draw, frames=len(frames))
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".gif", dir=path.parent)
    os.close(fd)
    try:  # written beside the target and renamed into place, as every genlab file
        animation.save(tmp, writer=PillowWriter(fps=FPS), dpi=DPI)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return path


def frame(model, samples: torch.Tensor, grid: torch.Tensor | None) -> dict:
    """One frame's content at an evaluation (its step is filled in from the history)."""
    values = model.animation_map(grid.to(model.device)) if grid is not None else None
    return {"samples": samples[:FRAME_POINTS].detach().float().cpu(), "map": None if values is None else values.detach().double().cpu()}

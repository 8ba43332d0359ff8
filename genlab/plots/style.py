"""One look for every genlab figure, so plots of different runs compare at a glance."""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only; never needs a screen
import matplotlib.pyplot as plt  # noqa: E402

from genlab.io import atomic_write  # noqa: E402

RC = {
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.25,
    "legend.frameon": False,
}
DENSITY_CMAP = "magma"  # heat maps of a density
SAMPLE_COLOR = "#4c72b0"  # histograms and scatters of data
TRUE_COLOR = "black"  # the true density, dashed
REFERENCE_COLOR = "#8c8c8c"  # the kde of the sample, as the lecture's figures show it
MODEL_COLOR = "#dd5522"  # the model's own curve or samples


def axis_names(data) -> list[str]:
    """The coordinates' names on the axes: a file's column names, else x (1D) or x1, x2."""
    if data.columns:
        return list(data.columns)
    return ["x"] if data.dim == 1 else [f"$x_{i + 1}$" for i in range(data.dim)]


def figure(ncols: int = 1, width: float = 5.2, height: float = 4.0):
    """A new figure with `ncols` axes side by side, in genlab's style."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, list(axes[0])


def tiles(nrows: int, ncols: int, width: float = 3.4, height: float = 3.0, footer_room: float = 0.4):
    """A figure of nrows x ncols empty axes, rows of lists, to tile other figures into;
    `footer_room` inches below them keep the tiles their shape beside a footer."""
    with plt.rc_context(RC):
        fig, axes = plt.subplots(nrows, ncols, figsize=(width * ncols, height * nrows + footer_room), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    return fig, [list(row) for row in axes]


def save(fig, path: Path) -> Path:
    """Write the figure as PNG atomically and close it; inside a genlab run, with the
    command that remakes it underneath (unless the figure states one already)."""
    if not fig.get_supxlabel():
        footer(fig, command_line())
    with plt.rc_context(RC):
        fig.tight_layout()
        atomic_write(Path(path), lambda handle: fig.savefig(handle, format="png"))
    plt.close(fig)
    return Path(path)


def command_line() -> str:
    """The command that remakes this run ("" outside a Hydra run): for a sweep's job, the
    single run with that job's overrides."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return ""
    return " ".join(["genlab", *HydraConfig.get().overrides.task])


def footer(fig, text: str) -> None:
    """State under a figure the command that made it, small and out of the way: wrapped
    to the figure's width, and as its supxlabel, so tight_layout keeps room for it."""
    if text:
        lines = textwrap.fill(text, width=int(17 * fig.get_figwidth()), break_on_hyphens=False)  # ~17 characters per inch at 7 pt
        fig.supxlabel(lines, x=0.995, y=0.005, ha="right", va="bottom", fontsize=7, color="#666666")

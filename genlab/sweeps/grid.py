"""grid.png: every job's figure, tiled by the swept keys.

One key: one row, a column per value. Two keys: rows by the first, columns by the
second. More: rows by all but the last key combined, columns by the last. Values sort
numerically when they are numbers. Where that grid would not place each job in a cell
of its own, or would stay more than half empty (a sweeper such as Optuna choosing
values freely), the tiles go in job order, a near-square block of them. Wide strips
(snapshots.png) get wider tiles, and one row of them becomes a column.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path

from genlab.sweeps.jobs import Sweep
from genlab.sweeps.text import label, metric_text

Cell = tuple[int, int]
TILE_WIDTH = 3.4  # inches; a tile is as high as its figure at that width, plus its title
TITLE_ROOM = 0.5


def layout(combinations: list[tuple[str, ...]]) -> tuple[list[tuple[str, ...]], list[str], list[Cell]]:
    """(row labels, column labels, each job's cell) for jobs given by their swept values."""
    if combinations and all(combinations):
        rows = sorted({values[:-1] for values in combinations}, key=lambda values: tuple(map(_order, values)))
        columns = sorted({values[-1] for values in combinations}, key=_order)
        cells = [(rows.index(values[:-1]), columns.index(values[-1])) for values in combinations]
        if len(set(cells)) == len(cells) and len(rows) * len(columns) <= 2 * len(cells):
            return rows, columns, cells
    ncols = math.ceil(math.sqrt(len(combinations)))
    nrows = math.ceil(len(combinations) / ncols) if combinations else 0
    return [()] * nrows, [""] * ncols, [divmod(i, ncols) for i in range(len(combinations))]


def draw_grid(sweep: Sweep, path: Path) -> Path:
    from matplotlib.image import imread

    from genlab.plots import style

    rows, columns, cells = layout([tuple(job.overrides.get(key, "") for key in sweep.keys) for job in sweep.jobs])
    images = [imread(job.folder / job.figure) if job.status == "completed" and (job.folder / job.figure).is_file() else None for job in sweep.jobs]
    shape = next((image.shape for image in images if image is not None), (3, 4))
    wide = shape[1] > 3 * shape[0]  # strips of panels (snapshots.png), not side-by-side pairs (samples.png)
    if wide and len(rows) == 1:  # one row of strips (snapshots.png) reads better as a column
        rows, columns, cells = [(c,) for c in columns], [""], [(column, row) for row, column in cells]
    tile_width = TILE_WIDTH * (2.5 if wide else 1)
    fig, axes = style.tiles(len(rows), len(columns), tile_width, tile_width * shape[0] / shape[1] + TITLE_ROOM)
    for job, image, (row, column) in zip(sweep.jobs, images, cells):
        ax = axes[row][column]
        ax.set_title(f"{textwrap.fill(label(job, sweep.keys), 48)}\n{metric_text(job)}", fontsize=8)
        if job.status != "completed":
            ax.text(0.5, 0.5, textwrap.fill(job.error, 36, max_lines=8), ha="center", va="center", color="#b22222", fontsize=8, transform=ax.transAxes)
        elif image is not None:
            ax.imshow(image, aspect="auto")  # tiles have the image's shape; a fixed aspect would upset tight_layout
        else:
            ax.text(0.5, 0.5, f"no {job.figure}", ha="center", va="center", color="#666666", transform=ax.transAxes)
    style.footer(fig, sweep.command)
    return style.save(fig, path)


def _order(value: str):
    """Numbers before words, numbers by value: 2 < 10 < 1e3 < gan."""
    try:
        return (0, float(value), "")
    except ValueError:
        return (1, 0.0, value)

"""summary.csv and grid.png of a sweep folder, rebuilt whole from the job folders.

Rebuilding from the folders (never appending) makes the result the same whether it
was written after each job, after the sweep, or later by genlab-report.

summary.csv has one row per job: `job`, `folder`, a column per swept key, `tags`, `status`,
`error`, `optimized_metric` (the path) and `optimized_value`, the headline numbers
(objective.headlines(): the model's test_log_likelihood and each registered metric's
summary numbers) present in any job, named by their path in metrics.json, `wall_seconds`.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from genlab.io import atomic_write
from genlab.sweeps.grid import draw_grid
from genlab.sweeps.jobs import Sweep
from genlab.sweeps.objective import headlines, number_at

SUMMARY_NAME = "summary.csv"
GRID_NAME = "grid.png"


def write_summary(sweep: Sweep) -> tuple[Path, Path]:
    """Write the sweep's summary.csv and grid.png into its folder; return their paths."""
    table = rows(sweep)
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    atomic_write(sweep.folder / SUMMARY_NAME, lambda handle: handle.write(text.getvalue().encode()))
    return sweep.folder / SUMMARY_NAME, draw_grid(sweep, sweep.folder / GRID_NAME)


def rows(sweep: Sweep) -> list[dict]:
    shown = [path for path in headlines() if any(number_at(job.metrics, path) is not None for job in sweep.jobs)]
    return [
        {
            "job": job.num,
            "folder": _relative(job.folder, sweep.folder),
            **{key: job.overrides.get(key, "") for key in sweep.keys if key != "tags"},
            "tags": ",".join(job.tags),
            "status": job.status,
            "error": job.error,
            "optimized_metric": job.metric_path or "",
            "optimized_value": _cell(job.metric_value),
            **{path: _cell(number_at(job.metrics, path)) for path in shown},
            "wall_seconds": _cell(job.seconds),
        }
        for job in sweep.jobs
    ]


def _relative(folder: Path, base: Path) -> str:
    """A sweep's job folder relative to the sweep; a run compared from elsewhere, as found."""
    try:
        return folder.relative_to(base).as_posix()
    except ValueError:
        return folder.as_posix()


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.10g}"

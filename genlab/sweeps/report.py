"""genlab-report SWEEP_DIR: rebuild a sweep's summary.csv and grid.png at any time.

For a sweep still running, one stopped by a failed job, or one whose summary was
deleted. Prints the table briefly and where the files are; a folder that is not a
sweep is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genlab.sweeps.jobs import NotASweep, Sweep, read_sweep
from genlab.sweeps.text import label, seconds_text


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="genlab-report", description="Rebuild a sweep's summary.csv and grid.png from its job folders.")
    parser.add_argument("sweep_dir", type=Path, help="a sweep folder, outputs/multirun/<date>_<time>")
    args = parser.parse_args(argv)
    from genlab.sweeps.summary import write_summary

    try:
        sweep = read_sweep(args.sweep_dir)
    except NotASweep as error:
        print(f"genlab-report: error: {error}", file=sys.stderr)
        sys.exit(2)
    table, grid = write_summary(sweep)
    print(brief(sweep))
    print(f"summary: {table}\ngrid: {grid}")


def brief(sweep: Sweep) -> str:
    """One line per job: number, swept values, status, optimized metric (or the error), seconds."""
    lines = [sweep.command]
    for job in sweep.jobs:
        if job.status != "completed":
            outcome = f"{job.status:<10} {job.error[:100]}"
        else:
            metric = f"{job.metric_path} {job.metric_value:.4g}" if job.metric_value is not None else ""
            outcome = f"completed  {metric}  {seconds_text(job.seconds)}"
        lines.append(f"{job.num:>4}  {label(job, sweep.keys):<40}  {outcome}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()

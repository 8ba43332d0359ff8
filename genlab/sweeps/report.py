"""genlab-report [FOLDER ...]: compare runs. summary.csv, grid.png and curves.png of any
set of single run folders and sweep folders (or globs of them), at any time.

Given one sweep folder, its files are rebuilt in it (a sweep still running, stopped by a
failed job, or whose summary was deleted); given nothing, the newest sweep under
./outputs/multirun; given anything else, the files go to a new folder
outputs/reports/<date>_<time> (or --out). Runs are labelled by the overrides that
differ between them and their tags. Prints the table briefly and where the files are;
a folder that is neither a run nor a sweep is one line and exit status 2.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

from genlab.sweeps.jobs import NotASweep, Sweep, read_runs, read_sweep
from genlab.sweeps.text import label, seconds_text

CURVES_NAME = "curves.png"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="genlab-report", description="Compare runs: summary.csv, grid.png and curves.png of run and sweep folders.")
    parser.add_argument("folders", nargs="*", help="run folders, sweep folders or globs of them (default: the newest sweep under outputs/multirun)")
    parser.add_argument("--metric", help="the metrics.jsonl path curves.png shows (default: each run's optimized_metric), e.g. model.sliced_wasserstein")
    parser.add_argument("--out", type=Path, help="where the files go when not into one sweep's folder (default: outputs/reports/<date>_<time>)")
    args = parser.parse_args(argv)
    from genlab.sweeps.curves import draw_curves
    from genlab.sweeps.summary import write_summary

    try:
        sweep = collect(args.folders, args.out, argv if argv is not None else sys.argv[1:])
    except NotASweep as error:
        print(f"genlab-report: error: {error}", file=sys.stderr)
        sys.exit(2)
    sweep.folder.mkdir(parents=True, exist_ok=True)
    table, grid = write_summary(sweep)
    curves, missing = draw_curves(sweep, sweep.folder / CURVES_NAME, args.metric)
    print(brief(sweep))
    for line in missing:
        print(f"  {line}")
    print(f"summary: {table}\ngrid: {grid}\ncurves: {curves}")


def collect(patterns: list[str], out: Path | None, argv: list[str]) -> Sweep:
    """The jobs to compare: one sweep in its own folder, or any runs and sweeps into `out`."""
    if not patterns:
        sweeps = sorted(p.parent for p in Path("outputs/multirun").glob("*/multirun.yaml"))
        if not sweeps:
            raise NotASweep("no sweep under outputs/multirun: give run or sweep folders (genlab-report outputs/runs/*)")
        patterns = [str(sweeps[-1])]
    folders = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise NotASweep(f"{pattern} matches no folder")
        folders += [Path(m) for m in matches]
    if len(folders) == 1 and (folders[0] / "multirun.yaml").is_file() and out is None:
        return read_sweep(folders[0])
    sweep = read_runs(folders, out or Path("."), " ".join(["genlab-report", *argv]))  # every folder read before one is made
    if out is None:
        from genlab.folders import new_folder

        sweep.folder = Path(new_folder(f"outputs/reports/{time.strftime('%Y-%m-%d_%H-%M-%S')}"))
    return sweep


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

"""The Hydra callback that keeps a sweep's summary current (conf/config.yaml, hydra.callbacks).

After every job of a multirun it writes the job's `status.json`, prints one progress
line (also appended to `<sweep>/progress.log`, for launchers whose jobs print elsewhere)
and rebuilds summary.csv and grid.png, so a sweep has its summary even when Hydra skips `on_multirun_end`, which it does once a job has failed. Single runs are untouched.
With a parallel launcher several jobs may rebuild at once; every write is atomic, and
the rebuild at the end of the sweep (or genlab-report) sees all jobs.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from hydra.experimental.callback import Callback
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

log = logging.getLogger("genlab")


class SweepSummary(Callback):
    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        """Hydra's basic sweeper writes multirun.yaml (the sweep's command line, which the
        summary reads); others (Optuna) do not, so write it where it is missing."""
        sweep_dir = Path(config.hydra.sweep.dir)
        if not (sweep_dir / "multirun.yaml").exists():
            sweep_dir.mkdir(parents=True, exist_ok=True)
            OmegaConf.save(config, sweep_dir / "multirun.yaml")

    def on_job_end(self, config: DictConfig, job_return: JobReturn, **kwargs: Any) -> None:
        if config.hydra.mode != RunMode.MULTIRUN:
            return
        from genlab.io import atomic_write
        from genlab.sweeps.jobs import STATUS_NAME

        folder = Path(config.hydra.runtime.output_dir)
        status = {"status": "completed" if job_return.status == JobStatus.COMPLETED else "failed", "error": ""}
        if job_return.status == JobStatus.FAILED:
            status["error"] = one_line(job_return._return_value)  # return_value would re-raise it
        atomic_write(folder / STATUS_NAME, lambda handle: handle.write((json.dumps(status) + "\n").encode()))
        _rebuild(Path(config.hydra.sweep.dir), progress_of=folder)

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        _rebuild(Path(config.hydra.sweep.dir))


def one_line(error: BaseException) -> str:
    """The error as status.json keeps it: its type (a bug or bad input?) and message, on one line."""
    return " ".join(f"{type(error).__name__}: {error}".split())


def _rebuild(sweep_dir: Path, progress_of: Path | None = None) -> None:
    """Rebuild the summary; print the job's progress line, or at the end where the files are.
    A summary that cannot be written is reported, never allowed to stop the sweep."""
    from genlab.sweeps.jobs import read_sweep
    from genlab.sweeps.summary import write_summary
    from genlab.sweeps.text import progress_line

    try:
        sweep = read_sweep(sweep_dir)
        if progress_of is not None:
            job = next(job for job in sweep.jobs if job.folder.resolve() == progress_of.resolve())
            line = progress_line(job, sweep.keys)
            print(line, flush=True)  # launchers that run jobs elsewhere (submitit) keep stdout in their logs:
            with open(sweep_dir / "progress.log", "a") as handle:  # so also one line per job here
                handle.write(line + "\n")
        table, grid = write_summary(sweep)
    except Exception as error:  # noqa: BLE001 - a broken summary must not end a long sweep
        log.warning("[sweep] summary of %s not written: %s", sweep_dir, one_line(error))
        return
    if progress_of is None:
        failed = sum(job.status != "completed" for job in sweep.jobs)
        print(f"[sweep] {len(sweep.jobs)} jobs, {failed} failed: {table}, {grid}", flush=True)

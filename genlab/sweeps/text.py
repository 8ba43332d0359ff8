"""How a job reads to people: in grid.png's titles, the progress lines and genlab-report."""

from __future__ import annotations

from genlab.sweeps.jobs import Job


def label(job: Job, keys: list[str]) -> str:
    """The job by its swept values (`model.hidden=32`) and its tags (`[baseline]`); by its
    number when nothing was swept."""
    values = " ".join(f"{key}={job.overrides[key]}" for key in keys if key in job.overrides and key != "tags")
    tags = f"[{','.join(job.tags)}]" if job.tags else ""
    return " ".join(part for part in (values, tags) if part) or f"job {job.num}"


def metric_text(job: Job) -> str:
    """The optimized metric and its value; the status where there is none ("failed")."""
    if job.metric_value is None:
        return job.status
    short = ".".join(job.metric_path.split(".")[-2:])  # kde_test_log_likelihood.mean
    return f"{short} {job.metric_value:.4g}"


def seconds_text(seconds: float | None) -> str:
    """12.3 s, 0.012 s: a kde fits in hundredths of a second, and 0.0 s would read as a fault."""
    if seconds is None:
        return ""
    return f"{seconds:.1f} s" if seconds >= 1 else f"{seconds:.2g} s"


def progress_line(job: Job, keys: list[str]) -> str:
    """`[sweep] job 3 model.hidden=32: completed, test_log_likelihood -2.61, 12.3 s`."""
    if job.status != "completed":
        return f"[sweep] job {job.num} {label(job, keys)}: {job.status}: {job.error}"
    metric = f", {job.metric_path} {job.metric_value:.4g}" if job.metric_value is not None else ""
    seconds = f", {seconds_text(job.seconds)}" if job.seconds is not None else ""
    return f"[sweep] job {job.num} {label(job, keys)}: completed{metric}{seconds}"

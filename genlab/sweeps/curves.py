"""curves.png: one metric over training steps, one line per trained run, from each run's
metrics.jsonl (one record per evaluation); runs fit in one call (kde, gmm) have no curve
and are listed as such.

The metric is a dotted path into those records (`model.sliced_wasserstein`), `--metric`
of genlab-report; by default the run's optimized_metric where its records hold it (a
metrics.json path `samples.model.X` is `model.X` there), else the first of FALLBACKS
they hold: the number each model's evaluation logs during training.
"""

from __future__ import annotations

import json
from pathlib import Path

from genlab.sweeps.jobs import Job, Sweep
from genlab.sweeps.objective import number_at
from genlab.sweeps.text import label

FALLBACKS = ("model.kde_test_log_likelihood.mean", "model.validation_elbo", "model.validation_log_likelihood", "model.validation_parzen")
RECORDS_NAME = "metrics.jsonl"


def records(job: Job) -> list[dict]:
    """The job's evaluations during training, [] for a run fit in one call; a line that
    cannot be read (a run killed while writing) ends them."""
    path = job.folder / RECORDS_NAME
    found = []
    for line in path.read_text().splitlines() if path.is_file() else []:
        try:
            found.append(json.loads(line))
        except ValueError:
            break
    return found


def curve_metric(job: Job, evaluations: list[dict], metric: str | None) -> str | None:
    """The path whose values the job's curve shows (None: its records have none of them)."""
    if metric:
        candidates = [metric]
    else:
        optimized = job.metric_path or ""
        candidates = [optimized.removeprefix("samples."), *FALLBACKS]
    return next((path for path in candidates if path and any(number_at(r, path) is not None for r in evaluations)), None)


def draw_curves(sweep: Sweep, path: Path, metric: str | None = None) -> tuple[Path, list[str]]:
    """Write curves.png; return it and the lines saying which jobs have no curve, and why."""
    from genlab.plots import style

    fig, (ax,) = style.figure(width=7.0, height=4.4)
    missing, shown = [], set()
    for job in sweep.jobs:
        evaluations = records(job)
        path_shown = curve_metric(job, evaluations, metric)
        if not evaluations:
            missing.append(f"{label(job, sweep.keys)}: no curve ({job.metrics.get('model', 'this model')} is fit in one call, or the run never evaluated)")
            continue
        if path_shown is None:
            missing.append(f"{label(job, sweep.keys)}: no curve (its metrics.jsonl has no {metric or 'metric this report knows'})")
            continue
        points = [(r["step"], number_at(r, path_shown)) for r in evaluations if number_at(r, path_shown) is not None]
        ax.plot([s for s, _ in points], [v for _, v in points], marker="o", markersize=3, label=label(job, sweep.keys))
        shown.add(path_shown)
    for line in missing:  # listed in the legend, as entries without a line
        ax.plot([], [], " ", label=line)
    ax.set(xlabel="training step", ylabel=" / ".join(sorted(shown)) or (metric or "metric"))
    ax.legend(fontsize=7)
    ax.set_title("each run's metric at every evaluation (metrics.jsonl)")
    style.footer(fig, sweep.command)
    return style.save(fig, path), missing

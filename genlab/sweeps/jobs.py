"""A sweep folder as Hydra leaves it, read back job by job.

`<sweep>/multirun.yaml` holds the sweep's command line; each job folder holds
`.hydra/hydra.yaml` (its number), `.hydra/overrides.yaml`, `.hydra/config.yaml`, and
`metrics.json` once it finished. `status.json`, written by the SweepSummary callback,
records a failure and its error; without it a job is `completed` when it has
metrics.json and `failed` otherwise (a crash, a kill, or a job still running). A job
whose metrics.json exists but cannot be read is `unreadable`, whatever status.json says.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from omegaconf import OmegaConf

from genlab.errors import ConfigError
from genlab.sweeps.objective import optimized_metric

STATUS_NAME = "status.json"


class NotASweep(Exception):
    """The folder given is not one Hydra's multirun wrote."""


@dataclass
class Job:
    num: int
    folder: Path
    overrides: dict[str, str]  # key -> value, as typed on the command line
    status: str  # completed, failed, or unreadable (metrics.json exists but cannot be read)
    error: str
    metrics: dict
    figure: str  # the file of the job that grid.png shows (sweep_figure)
    metric_path: str | None  # its optimized_metric and that metric's value
    metric_value: float | None
    seconds: float | None
    tags: list[str] = field(default_factory=list)  # the run's tags=[...]


@dataclass
class Sweep:
    folder: Path
    command: str  # the command line that started the sweep
    keys: list[str]  # the swept keys, in command-line order
    jobs: list[Job] = field(default_factory=list)


def read_sweep(folder: Path) -> Sweep:
    folder = Path(folder)
    if not (folder / "multirun.yaml").is_file():
        raise NotASweep(f"{folder} is not a sweep folder (no multirun.yaml)")
    jobs = sorted((read_job(path.parent.parent) for path in folder.glob("**/.hydra/hydra.yaml")), key=lambda job: job.num)
    if not jobs:
        raise NotASweep(f"{folder} is not a sweep folder (no job folders with .hydra/hydra.yaml)")
    sweep_config = OmegaConf.load(folder / "multirun.yaml")
    task = list(OmegaConf.select(sweep_config, "hydra.overrides.task", default=[]))
    params = OmegaConf.select(sweep_config, "hydra.sweeper.params", default=None) or {}
    return Sweep(folder, " ".join(["genlab -m", *task]), swept_keys(task, list(params), jobs), jobs)


def read_job(folder: Path) -> Job:
    hydra = OmegaConf.load(folder / ".hydra" / "hydra.yaml")
    config = OmegaConf.load(folder / ".hydra" / "config.yaml")
    overrides = {o.key_or_group: o.get_value_element_as_str() for o in _parse(list(OmegaConf.load(folder / ".hydra" / "overrides.yaml")))}
    metrics, unreadable = _metrics(folder / "metrics.json")
    recorded = _json(folder / STATUS_NAME)
    status = recorded.get("status") or ("completed" if metrics else "failed")
    error = recorded.get("error") or ("" if metrics else "no metrics.json (stopped, killed, or still running)")
    if unreadable:
        status, error = "unreadable", unreadable
    try:
        path, value = optimized_metric(metrics, config.get("optimized_metric")) if metrics else (config.get("optimized_metric"), None)
    except ConfigError:
        path, value = config.get("optimized_metric"), None
    tags = [str(tag) for tag in (config.get("tags") or [])]
    number = OmegaConf.select(hydra, "hydra.job.num", default=0)  # a single run's is unset
    return Job(int(number), folder, overrides, status, error, metrics, config.get("sweep_figure") or "density.png", path, value,
               _seconds(folder, metrics), tags)


def read_runs(folders: list[Path], out: Path, command: str) -> Sweep:
    """Single run folders and sweep folders as one set of jobs, numbered in the order given
    (a sweep's in its own order), keyed by the overrides that differ between them: what
    genlab-report compares. `out` is where its files go."""
    jobs = []
    for folder in map(Path, folders):
        if (folder / "multirun.yaml").is_file():
            jobs += read_sweep(folder).jobs
        elif (folder / ".hydra" / "hydra.yaml").is_file():
            jobs.append(read_job(folder))
        else:
            raise NotASweep(f"{folder} is neither a run folder (no .hydra/hydra.yaml) nor a sweep folder (no multirun.yaml)")
    for number, job in enumerate(jobs):
        job.num = number
    return Sweep(Path(out), command, swept_keys([], [], jobs), jobs)


def swept_keys(task: list[str], sweeper_params: list[str], jobs: list[Job]) -> list[str]:
    """Keys swept on the command line (`key=a,b`), then those of the sweeper's `params`
    (Optuna), then any other key whose value differs between jobs; only keys jobs have."""
    on_command_line = [o.key_or_group for o in _parse(task) if o.is_sweep_override()]
    varying = [key for job in jobs for key in job.overrides if len({j.overrides.get(key) for j in jobs}) > 1]
    return [key for key in dict.fromkeys([*on_command_line, *sweeper_params, *varying]) if any(key in job.overrides for job in jobs)]


def _parse(overrides: list[str]):
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return OverridesParser.create().parse_overrides(overrides)


def _metrics(path: Path) -> tuple[dict, str]:
    """metrics.json and "" when it is missing or sound; {} and why when it cannot be read."""
    if not path.is_file():
        return {}, ""
    try:
        metrics = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        return {}, f"metrics.json is unreadable ({' '.join(str(error).split())})"
    return (metrics, "") if isinstance(metrics, dict) else ({}, "metrics.json is unreadable (not a JSON object)")


def _json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _seconds(folder: Path, metrics: dict) -> float | None:
    """metrics' wall_seconds (gan/wgan/vae), else fit_seconds (kde/gmm), else the time
    from the job's start (Hydra's overrides.yaml) to its newest file."""
    for key in ("wall_seconds", "fit_seconds"):
        if isinstance(metrics.get(key), (int, float)):
            return float(metrics[key])
    started = (folder / ".hydra" / "overrides.yaml").stat().st_mtime
    newest = max((p.stat().st_mtime for p in folder.iterdir() if p.is_file()), default=started)
    return max(newest - started, 0.0)

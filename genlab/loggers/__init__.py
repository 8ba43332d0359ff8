"""Experiment trackers (the `logger` config group): each tracker's own client, behind one
small interface, so a run's numbers reach the tools people compare runs in.

A logger gets the resolved config once (`log_hyperparams`), the losses every
`trainer.log_every` steps and every evaluation (`log_metrics`, names flattened as
dotted paths, the same as metrics.json's and metrics.jsonl's), then the final metrics,
the figures and the checkpoint's path (`log_final`). `Loggers` holds the chosen ones:
a logger whose own store fails (its client raises) is warned about once and dropped,
and the run, whose own files genlab writes regardless, goes on.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

log = logging.getLogger("genlab")


def flatten(values: dict) -> dict[str, float]:
    """{"model": {"mmd": {"0.2": x}}} -> {"model.mmd.0.2": x}: the finite numbers only."""
    return {name: float(value) for name, value in flat_config(values).items()
            if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)}


def flat_config(config: dict, prefix: str = "") -> dict:
    """{"model": {"hidden": 128}} -> {"model.hidden": 128}: every value, numbers or not."""
    flat = {}
    for key, value in config.items():
        if isinstance(value, dict):
            flat.update(flat_config(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


class Logger:
    """What a tracker does with a run; every method is optional."""

    name = "logger"

    def log_hyperparams(self, config: dict) -> None:
        pass

    def log_metrics(self, metrics: dict[str, float], step: int) -> None:
        pass

    def log_final(self, metrics: dict[str, float], figures: list[Path], checkpoint: Path | None) -> None:
        pass

    def close(self) -> None:
        pass


class Loggers:
    """The run's loggers, each called in turn; one that raises is dropped with one warning."""

    def __init__(self, loggers: list[Logger]):
        self.loggers = list(loggers)

    def __bool__(self) -> bool:
        return bool(self.loggers)

    def _each(self, method: str, *args) -> None:
        for logger in list(self.loggers):
            try:
                getattr(logger, method)(*args)
            except Exception as error:  # noqa: BLE001 - a tracker's failure must never cost the run
                log.warning("logger %s failed (%s: %s); the run goes on without it, and its own files are all written",
                            logger.name, type(error).__name__, " ".join(str(error).split())[:200])
                self.loggers.remove(logger)

    def log_hyperparams(self, config: dict) -> None:
        self._each("log_hyperparams", config)

    def log_metrics(self, metrics: dict, step: int) -> None:
        self._each("log_metrics", flatten(metrics), step)

    def log_final(self, metrics: dict, run_dir: Path) -> None:
        figures = sorted(Path(run_dir).glob("*.png"))
        checkpoint = Path(run_dir) / "checkpoint.pt"
        self._each("log_final", flatten(metrics), figures, checkpoint if checkpoint.is_file() else None)
        self._each("close")


def build_loggers(node: dict | None, run_dir: Path) -> Loggers:
    """The loggers the `logger` node names ({name: {_target_: ..., ...}}; {} for none),
    each told the run folder (where its files go by default)."""
    from hydra.utils import instantiate

    from genlab.errors import config_key

    loggers = []
    for name, settings in (node or {}).items():
        with config_key(""):  # the loggers name their own key in what they refuse
            loggers.append(instantiate(settings, run_dir=run_dir))
    return Loggers(loggers)


def run_name(run_dir: Path) -> str:
    """How a tracker names the run: its folder's name, a sweep's job as <sweep>/<job>, so
    each sweep's jobs group together."""
    run_dir = Path(run_dir)
    return f"{run_dir.parent.name}/{run_dir.name}" if (run_dir.parent / "multirun.yaml").is_file() else run_dir.name


def missing_library(logger: str, package: str) -> "ConfigError":
    from genlab.errors import ConfigError

    return ConfigError(f"logger={logger} needs the {package} package, which is not installed: pip install 'genlab[{logger}]'")

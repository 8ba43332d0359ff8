"""What a stopped sweep prints: for each unfinished job, the single-run command that finishes it.

A job with a training checkpoint continues from it (`ckpt_path=<job>/checkpoint.pt`); a job
that had none, or had not started, runs afresh. The jobs are the ones Hydra's basic sweeper
makes (the command line's values and `hydra.sweeper.params`, in its order); with another
sweeper (Optuna), which picks its trials as it goes, only the jobs already started are known.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from genlab.engine.checkpoint import CHECKPOINT_NAME, can_continue
from genlab.command_line import quoted_value
from genlab.folders import created_folders


def unfinished_jobs(argv: list[str]) -> list[str]:
    """One `genlab ...` command per job of the sweep `argv` started that has no metrics.json."""
    from hydra._internal.utils import get_args_parser

    overrides = get_args_parser().parse_args(argv).overrides
    folder = sweep_folder(argv)
    jobs = planned_jobs(overrides)
    started = {}
    for path in folder.glob("*/.hydra/overrides.yaml") if folder else []:
        number = path.parent.parent.name.split("_", 1)[0]
        if number.isdigit():
            started[int(number)] = path.parent.parent
    if jobs is None:  # a sweeper that chooses its trials: only the started ones are known
        from omegaconf import OmegaConf

        jobs = [list(OmegaConf.load(path / ".hydra" / "overrides.yaml")) for _, path in sorted(started.items())]
        numbers = sorted(started)
    else:
        numbers = list(range(len(jobs)))
    commands = []
    for number, job in zip(numbers, jobs):
        path = started.get(number)
        if path is not None and (path / "metrics.json").is_file():
            continue
        extra = [f"ckpt_path={quoted_value(path / CHECKPOINT_NAME)}"] if path is not None and can_continue(path / CHECKPOINT_NAME) else []
        commands.append(" ".join(["genlab", *map(shlex.quote, [*job, *extra])]))
    return commands


def sweep_folder(argv: list[str]) -> Path | None:
    """The folder the user named (hydra.sweep.dir=...), else the one genlab created for it here."""
    for item in argv:
        if item.startswith("hydra.sweep.dir="):
            return Path(item.split("=", 1)[1])
    made = [f for f in created_folders() if f.parent.name == "multirun"]
    return made[-1] if made else None


def planned_jobs(overrides: list[str]) -> list[list[str]] | None:
    """Each job's overrides as Hydra's basic sweeper makes them (without the command line's
    hydra.* settings, which a single run does not need), or None for another sweeper."""
    from hydra import compose, initialize_config_module
    from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from omegaconf import OmegaConf

    try:
        fixed = [o.input_line for o in OverridesParser.create().parse_overrides(overrides) if not o.is_sweep_override()]
        with initialize_config_module("genlab.conf", version_base="1.3"):
            config = compose("config", overrides=fixed, return_hydra_config=True)  # which sweeper, its params
        if not str(config.hydra.sweeper.get("_target_", "")).endswith("BasicSweeper"):
            return None
        params = OmegaConf.select(config, "hydra.sweeper.params") or {}
        arguments = [f"{key}={value}" for key, value in params.items()] + [o for o in overrides if not _is_hydra(o)]
        batches = BasicSweeper.split_arguments(OverridesParser.create().parse_overrides(arguments), None)
    except Exception:  # noqa: BLE001 - what cannot be planned is reported from the started jobs alone
        return None
    return [list(job) for batch in batches for job in batch]


def _is_hydra(override: str) -> bool:
    key = override.lstrip("+~").split("=", 1)[0]
    return key == "hydra" or key.startswith(("hydra.", "hydra/"))

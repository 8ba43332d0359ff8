"""genlab's one entrypoint: compose the config -> build device, data, model -> fit -> outputs.

Run as `genlab ...` or `python -m genlab.train ...`. Bad input ends with one line,
"genlab: error: <key> ...", and exit status 2; the run folder is removed only when genlab
created it in this process (genlab.folders). A full disk ends in one line naming the run
folder, exit status 1; SIGINT/SIGTERM in one line, 130/143 (genlab.stopping).
"""

from __future__ import annotations

import errno
import logging
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from genlab.errors import ConfigError, check_positive, config_key
from genlab.folders import register_resolver, remove_if_created_here
from genlab.limits import check_seed, check_sizes
from genlab.stopping import Stopped, stop_on_signals

log = logging.getLogger("genlab")
NO_SPACE = (errno.ENOSPC, errno.EDQUOT)
register_resolver()  # ${genlab.new_folder:...} in conf/config.yaml: every run and sweep in a folder of its own


def run(cfg: DictConfig, run_dir: Path, seed_given: bool = True) -> dict:
    """Everything a run does, given a composed config and its output folder.
    `seed_given`: the command line set seed (a resumed run otherwise keeps its checkpoint's)."""
    import torch
    from hydra.utils import instantiate

    from genlab.loggers import build_loggers
    from genlab.models.trained import TrainedModel
    from genlab.sampling import sampler_from_config
    from genlab.run.fit import fit_and_write
    from genlab.run.train import train_and_write
    from genlab.run.resume import find_checkpoint

    check_seed(cfg.seed)
    check_tags(cfg.get("tags"))
    check_positive("n_fresh", cfg.n_fresh, integer=True)
    check_positive("n_eval", cfg.n_eval, integer=True)
    with config_key(""):
        device = instantiate(cfg.device)
    torch.manual_seed(cfg.seed)
    if cfg.get("figure") is not None:
        return draw_figure(cfg, device, run_dir)
    check_sizes(cfg, device)  # sizes that cannot fit in memory: refused before anything is built
    with config_key("data."):
        data = instantiate(cfg.data)
    with config_key("model."):
        model = instantiate(cfg.model)
    sampler = sampler_from_config(cfg.get("sampler"), model)
    if sampler is not None and data.image_shape is not None:
        raise ConfigError(f"sampler.name must be direct on images ({data.name}); langevin and mala sample 1D/2D points")
    resolved = OmegaConf.to_container(cfg, resolve=True)
    if data.fingerprint is not None:
        resolved["data_fingerprint"] = data.fingerprint  # in config.yaml: resume=true continues only on the same file
    if data.standardization is not None:
        resolved["data_standardization"] = data.standardization.as_dict()  # load_run gives the model in the file's units
    loggers = build_loggers(cfg.get("logger"), run_dir)  # a tracker whose library is missing stops the run here
    loggers.log_hyperparams(resolved)
    log.info("fitting %s on %s (%d points, dim %d) on %s", type(model).__name__, data.name, len(data.train), data.dim, device)
    if isinstance(model, TrainedModel):
        metrics = train_and_write(model, data, device, resolved, run_dir, find_checkpoint(resolved, run_dir), seed_given, sampler, loggers)
    elif cfg.resume or cfg.ckpt_path:
        raise ConfigError(f"resume and ckpt_path continue the training of gan, wgan and vae; {type(model).__name__} fits in one call")
    elif data.image_shape is not None:
        raise ConfigError(f"model: {type(model).__name__.lower()} runs on 1D/2D points, whose density it plots; for images ({data.name}) use vae, gan or wgan")
    else:
        metrics = fit_and_write(model, data, device, resolved, run_dir, sampler)
        log.info(
            "test log-likelihood %.4f nats/point%s; fit %.2fs",
            metrics.get("test_log_likelihood", float("nan")),
            f" (true density: {metrics['true_test_log_likelihood']:.4f})" if "true_test_log_likelihood" in metrics else "",
            metrics["fit_seconds"],
        )
    loggers.log_final(metrics, run_dir)
    log.info("outputs: %s", run_dir)
    return metrics


@hydra.main(version_base="1.3", config_path="pkg://genlab.conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """One run. Returns its optimized_metric (genlab.sweeps.objective), the number
    Optuna and other sweepers optimize. In a sweep, bad input or a diverged training
    raises instead of exiting, so Hydra marks just this job failed and runs the rest."""
    from hydra.types import RunMode

    from genlab.sweeps.objective import check_path, optimized_metric
    from genlab.engine.loop import TrainingDiverged

    hydra_config = HydraConfig.get()
    run_dir = Path(hydra_config.runtime.output_dir)
    in_sweep = hydra_config.mode == RunMode.MULTIRUN
    try:
        check_path(cfg.get("optimized_metric"))
        metrics = run(cfg, run_dir, seed_given="seed" in override_keys(hydra_config.overrides.task))
        return optimized_metric(metrics, cfg.get("optimized_metric"))[1]
    except (ConfigError, TrainingDiverged) as error:
        if in_sweep:
            log.error("genlab: error: %s", error)
            raise
        if isinstance(error, ConfigError):
            remove_if_created_here(run_dir)  # a refused run leaves nothing behind, in a folder genlab made
        print(f"genlab: error: {error}", file=sys.stderr)
        sys.exit(2 if isinstance(error, ConfigError) else 1)
    except Exception as error:
        full = disk_full(error)
        if full is None or in_sweep:
            raise
        writing = f" (writing {full.filename})" if full.filename else ""
        print(f"genlab: error: {run_dir}: {full.strerror}{writing}; the files written before are intact", file=sys.stderr)
        sys.exit(1)
    except Stopped as stop:
        stop.run_dir = run_dir
        raise


def draw_figure(cfg: DictConfig, device, run_dir: Path) -> dict:
    """A lecture figure that is not one model's run (conf/experiment/lecture/): its
    `figure._target_` draws into run_dir and returns its numbers, written to metrics.json."""
    from hydra.utils import instantiate

    from genlab.io import write_json

    with config_key("figure."):
        draw = instantiate(cfg.figure, _partial_=True)
    metrics = {"figure": cfg.figure._target_.rsplit(".", 1)[0].rsplit(".", 1)[-1], "seed": cfg.seed, **draw(run_dir=run_dir, device=device, seed=cfg.seed)}
    write_json(run_dir / "metrics.json", metrics)
    log.info("figure %s drawn; outputs: %s", metrics["figure"], run_dir)
    return metrics


def check_tags(tags) -> list[str]:
    """tags=[a,b]: a list of words (numbers are read as words)."""
    from omegaconf import ListConfig

    if tags is None:
        return []
    if not isinstance(tags, (list, ListConfig)) or not all(isinstance(t, (str, int, float)) and not isinstance(t, bool) and str(t).strip() for t in tags):
        raise ConfigError(f"tags must be a list of words, e.g. tags=[baseline,small] (got {tags!r})")
    return [str(t) for t in tags]


def disk_full(error: BaseException) -> OSError | None:
    """The full-disk OSError behind `error`, if any: torch.save reports one as a RuntimeError
    raised while it cleans up, with the OSError as its context."""
    while error is not None:
        if isinstance(error, OSError) and error.errno in NO_SPACE:
            return error
        error = error.__cause__ or error.__context__
    return None


def override_keys(overrides) -> set[str]:
    """The keys a list of command-line overrides sets (`+seed=1` and `seed=1` both set seed)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return {o.key_or_group for o in OverridesParser.create().parse_overrides(list(overrides))}


def cli() -> None:
    """The console script (and `python -m genlab.train`): a command line that does not
    compose ends in one line and exit status 2 (genlab.command_line); Hydra runs the rest.
    From here on SIGINT/SIGTERM end in one line and status 130/143 (genlab.stopping)."""
    logging.raiseExceptions = False  # a log file on a full disk must not bury the one-line error
    with stop_on_signals():
        try:
            from genlab.command_line import composition_error

            problem = composition_error(sys.argv[1:])
            if problem:
                print(f"genlab: error: {problem}", file=sys.stderr)
                sys.exit(2)
            main()
        except Stopped as stop:
            try:
                message = stopped_message(stop, sys.argv[1:])
            except Stopped:  # a second signal while the message is put together
                message = f"genlab: {stop}"
            print(message, file=sys.stderr)
            sys.exit(stop.exit_status)


def stopped_message(stop: Stopped, argv: list[str]) -> str:
    """One line for a run (how to continue it, where it can be); for a sweep, one more line
    per unfinished job with the command that finishes it (genlab.sweeps.continuation)."""
    from genlab.engine.checkpoint import CHECKPOINT_NAME, can_continue
    from genlab.command_line import quoted_value

    if "-m" in argv or "--multirun" in argv:
        from genlab.sweeps.continuation import unfinished_jobs

        commands = unfinished_jobs(argv)
        lines = [f"genlab: sweep stopped by {stop.signal_name}; {len(commands)} unfinished jobs, each finished by:" if commands
                 else f"genlab: sweep stopped by {stop.signal_name}; every job had finished"]
        return "\n".join([*lines, *commands])
    if stop.step is not None:
        again = f"continue with the same command and resume=true (or ckpt_path={quoted_value(stop.checkpoint)})" if stop.checkpoint else ""
        return f"genlab: stopped by {stop.signal_name} after step {stop.step}; checkpoint written to {stop.checkpoint}; {again}"
    run_dir = stop.run_dir
    if run_dir is not None and can_continue(run_dir / CHECKPOINT_NAME):
        return (f"genlab: stopped by {stop.signal_name} while finishing {run_dir}; its checkpoint is written: "
                f"finish it with the same command and ckpt_path={quoted_value(run_dir / CHECKPOINT_NAME)}")
    where = f" in {run_dir}" if run_dir is not None else " at start-up"
    return f"genlab: stopped by {stop.signal_name}{where}, before anything was written to continue from; run the command again"


if __name__ == "__main__":
    cli()

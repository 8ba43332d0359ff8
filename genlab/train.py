"""genlab's one entrypoint: compose the config -> build device, data, model -> fit -> outputs.

Run as `genlab ...` or `python -m genlab.train ...`. Bad input ends with one line,
"genlab: error: <key> ...", and exit status 2; the run folder Hydra made for it is
removed when it holds nothing but Hydra's own bookkeeping.
"""

from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from genlab.errors import ConfigError, check_positive, config_key

log = logging.getLogger("genlab")


def run(cfg: DictConfig, run_dir: Path) -> dict:
    """Everything a run does, given a composed config and its output folder."""
    import torch
    from hydra.utils import instantiate

    from genlab.models.trained import TrainedModel
    from genlab.sampling import sampler_from_config
    from genlab.training.fit import fit_and_write
    from genlab.training.trained import train_and_write
    from genlab.training.resume import find_checkpoint

    if not isinstance(cfg.seed, int) or isinstance(cfg.seed, bool):
        raise ConfigError(f"seed must be an integer (got {cfg.seed!r})")
    check_positive("n_fresh", cfg.n_fresh, integer=True)
    check_positive("n_eval", cfg.n_eval, integer=True)
    with config_key(""):
        device = instantiate(cfg.device)
    torch.manual_seed(cfg.seed)
    if cfg.get("figure") is not None:
        return draw_figure(cfg, device, run_dir)
    with config_key("data."):
        data = instantiate(cfg.data)
    with config_key("model."):
        model = instantiate(cfg.model)
    sampler = sampler_from_config(cfg.get("sampler"), model)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    log.info("fitting %s on %s (%d points, dim %d) on %s", type(model).__name__, data.name, len(data.train), data.dim, device)
    if isinstance(model, TrainedModel):
        metrics = train_and_write(model, data, device, resolved, run_dir, find_checkpoint(resolved, run_dir))
    elif cfg.resume or cfg.ckpt_path:
        raise ConfigError(f"resume and ckpt_path continue the training of gan, wgan and vae; {type(model).__name__} fits in one call")
    elif data.image_shape is not None:
        raise ConfigError(f"model: {type(model).__name__.lower()} runs on 1D/2D points, whose density it plots; for images ({data.name}) use vae, gan or wgan")
    else:
        metrics = fit_and_write(model, data, device, resolved, run_dir, cfg.n_fresh, cfg.n_eval, sampler)
        log.info(
            "test log-likelihood %.4f nats/point%s; fit %.2fs",
            metrics.get("test_log_likelihood", float("nan")),
            f" (true density: {metrics['true_test_log_likelihood']:.4f})" if "true_test_log_likelihood" in metrics else "",
            metrics["fit_seconds"],
        )
    log.info("outputs: %s", run_dir)
    return metrics


@hydra.main(version_base="1.3", config_path="pkg://genlab.conf", config_name="config")
def main(cfg: DictConfig) -> float | None:
    """One run. Returns its optimized_metric (genlab.sweeps.objective), the number
    Optuna and other sweepers optimize. In a sweep, bad input or a diverged training
    raises instead of exiting, so Hydra marks just this job failed and runs the rest."""
    from hydra.types import RunMode

    from genlab.sweeps.objective import check_path, optimized_metric
    from genlab.training.loop import TrainingDiverged, TrainingInterrupted

    run_dir = Path(HydraConfig.get().runtime.output_dir)
    in_sweep = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        check_path(cfg.get("optimized_metric"))
        metrics = run(cfg, run_dir)
        return optimized_metric(metrics, cfg.get("optimized_metric"))[1]
    except (ConfigError, TrainingDiverged) as error:
        if in_sweep:
            log.error("genlab: error: %s", error)
            raise
        if isinstance(error, ConfigError):
            _remove_if_only_bookkeeping(run_dir)
        print(f"genlab: error: {error}", file=sys.stderr)
        sys.exit(2 if isinstance(error, ConfigError) else 1)
    except TrainingInterrupted as stop:
        again = f"continue with the same command and resume=true (or ckpt_path={stop.checkpoint})" if stop.checkpoint else ""
        print(f"genlab: stopped by {stop.signal_name} after step {stop.step}; checkpoint written to {stop.checkpoint}; {again}", file=sys.stderr)
        sys.exit(130 if stop.signal_name == "SIGINT" else 143)


def draw_figure(cfg: DictConfig, device, run_dir: Path) -> dict:
    """A lecture figure that is not one model's run (conf/experiment/lecture/): its
    `figure._target_` draws into run_dir and returns its numbers, written to metrics.json."""
    from hydra.utils import instantiate

    from genlab.checkpoint import write_json

    with config_key("figure."):
        draw = instantiate(cfg.figure, _partial_=True)
    metrics = {"figure": cfg.figure._target_.rsplit(".", 1)[0].rsplit(".", 1)[-1], "seed": cfg.seed, **draw(run_dir=run_dir, device=device, seed=cfg.seed)}
    write_json(run_dir / "metrics.json", metrics)
    log.info("figure %s drawn; outputs: %s", metrics["figure"], run_dir)
    return metrics


def _remove_if_only_bookkeeping(run_dir: Path) -> None:
    """A refused run leaves no folder behind, unless the folder already held other files."""
    if run_dir.is_dir() and all(p.name == ".hydra" or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


def cli() -> None:
    """The console script (and `python -m genlab.train`): a command line that does not
    compose ends in one line and exit status 2 (genlab.command_line); Hydra runs the rest."""
    from genlab.command_line import composition_error

    problem = composition_error(sys.argv[1:])
    if problem:
        print(f"genlab: error: {problem}", file=sys.stderr)
        sys.exit(2)
    main()


if __name__ == "__main__":
    cli()

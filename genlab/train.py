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
    with config_key("data."):
        data = instantiate(cfg.data)
    with config_key("model."):
        model = instantiate(cfg.model)
    resolved = OmegaConf.to_container(cfg, resolve=True)
    log.info("fitting %s on %s (%d points, dim %d) on %s", type(model).__name__, data.name, len(data.train), data.dim, device)
    if isinstance(model, TrainedModel):
        metrics = train_and_write(model, data, device, resolved, run_dir, find_checkpoint(resolved, run_dir))
    elif cfg.resume or cfg.ckpt_path:
        raise ConfigError(f"resume and ckpt_path continue the training of gan, wgan and vae; {type(model).__name__} fits in one call")
    elif data.image_shape is not None:
        raise ConfigError(f"model: {type(model).__name__.lower()} runs on 1D/2D points, whose density it plots; for images ({data.name}) use vae, gan or wgan")
    else:
        metrics = fit_and_write(model, data, device, resolved, run_dir, cfg.n_fresh, cfg.n_eval)
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
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    from genlab.training.loop import TrainingDiverged, TrainingInterrupted

    try:
        metrics = run(cfg, run_dir)
    except ConfigError as error:
        _remove_if_only_bookkeeping(run_dir)
        print(f"genlab: error: {error}", file=sys.stderr)
        sys.exit(2)
    except TrainingDiverged as error:
        print(f"genlab: error: {error}", file=sys.stderr)
        sys.exit(1)
    except TrainingInterrupted as stop:
        again = f"continue with the same command and resume=true (or ckpt_path={stop.checkpoint})" if stop.checkpoint else ""
        print(f"genlab: stopped by {stop.signal_name} after step {stop.step}; checkpoint written to {stop.checkpoint}; {again}", file=sys.stderr)
        sys.exit(130 if stop.signal_name == "SIGINT" else 143)
    return metrics.get("test_log_likelihood")


def _remove_if_only_bookkeeping(run_dir: Path) -> None:
    """A refused run leaves no folder behind, unless the folder already held other files."""
    if run_dir.is_dir() and all(p.name == ".hydra" or p.suffix == ".log" for p in run_dir.iterdir()):
        shutil.rmtree(run_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

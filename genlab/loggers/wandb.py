"""logger=wandb: Weights & Biases' own client, offline by default (no account, no network):
each run is a folder `<save_dir>/wandb/offline-run-<time>-<id>` (outputs/wandb/... at the
defaults) that `wandb sync` uploads later. Runs land in project `genlab`, named after their
folder; a sweep's jobs share a group (the sweep folder's name). Logged: the resolved config
(nested, as W&B shows it), the losses and evaluations under metrics.json's flattened names
with their steps, the final metrics in the run's summary (`final.<path>`), the figures as
images, the checkpoint's path in the summary and the run's tags as W&B tags. Needs
`pip install 'genlab[wandb]'`."""

from __future__ import annotations

from pathlib import Path

from genlab.loggers import Logger, missing_library


class WandbLogger(Logger):
    name = "wandb"

    def __init__(self, save_dir="outputs", project="genlab", entity=None, group=None, mode="offline", run_dir=None):
        try:
            import wandb
        except ImportError:
            raise missing_library("wandb", "wandb") from None
        self.wandb, self.run_dir, self.step = wandb, Path(run_dir), 0
        in_sweep = (self.run_dir.parent / "multirun.yaml").is_file()
        self.save_dir, self.project, self.entity, self.mode = Path(save_dir), project, entity, mode
        self.group = group or (self.run_dir.parent.name if in_sweep else None)
        self.run = None

    def log_hyperparams(self, config):
        """Starts the run here, where the config is known (W&B takes it at init)."""
        self.save_dir.mkdir(parents=True, exist_ok=True)
        settings = self.wandb.Settings(console="off", silent=True, save_code=False, disable_git=True, x_disable_stats=True)
        self.run = self.wandb.init(dir=str(self.save_dir), project=self.project, entity=self.entity, group=self.group,
                                   name=self.run_dir.name, mode=self.mode, config=config, tags=list(config.get("tags") or []),
                                   settings=settings, reinit="create_new")

    def log_metrics(self, metrics, step):
        self.step = max(self.step, step)
        self.run.log(metrics, step=self.step)  # W&B wants steps that never go back

    def log_final(self, metrics, figures, checkpoint):
        self.run.summary.update({f"final.{name}": value for name, value in metrics.items()})
        if figures:
            self.run.log({f"figures/{figure.stem}": self.wandb.Image(str(figure)) for figure in figures}, step=self.step)
        if checkpoint is not None:
            self.run.summary["checkpoint"] = str(Path(checkpoint).resolve())

    def close(self):
        if self.run is not None:
            self.run.finish()

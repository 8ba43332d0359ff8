"""logger=tensorboard: torch's SummaryWriter, one folder per run under `save_dir`
(outputs/tensorboard/<run folder>, a sweep's jobs under outputs/tensorboard/<sweep>/), so
`tensorboard --logdir outputs/tensorboard` compares every run. Scalars under the names of
metrics.json and metrics.jsonl; the resolved config as hyperparameters with the final
metrics (TensorBoard's HPARAMS view); the run's figures as images; the checkpoint's path
as text. Needs the tensorboard package (`pip install 'genlab[tensorboard]'`)."""

from __future__ import annotations

from pathlib import Path

from genlab.loggers import Logger, flat_config, missing_library, run_name


class TensorBoardLogger(Logger):
    name = "tensorboard"

    def __init__(self, save_dir="outputs/tensorboard", run_dir=None):
        try:
            from torch.utils.tensorboard import SummaryWriter
        except ImportError:
            raise missing_library("tensorboard", "tensorboard") from None
        self.log_dir = Path(save_dir) / run_name(run_dir)
        self.writer = SummaryWriter(log_dir=str(self.log_dir))
        self.hparams: dict = {}

    def log_hyperparams(self, config):
        """Flat config values (lists and nulls as text, as TensorBoard takes only numbers, text and booleans)."""
        self.hparams = {key: value if isinstance(value, (int, float, str, bool)) else str(value)
                        for key, value in flat_config(config).items()}
        import yaml

        self.writer.add_text("config", "```\n" + yaml.safe_dump(config, sort_keys=False) + "```")

    def log_metrics(self, metrics, step):
        for name, value in metrics.items():
            self.writer.add_scalar(name, value, step)

    def log_final(self, metrics, figures, checkpoint):
        from matplotlib.image import imread

        self.writer.add_hparams(self.hparams, {f"final.{name}": value for name, value in metrics.items()}, run_name=".")
        for figure in figures:
            image = imread(figure)
            self.writer.add_image(figure.stem, image[..., :3], dataformats="HWC")
        if checkpoint is not None:
            self.writer.add_text("checkpoint", str(Path(checkpoint).resolve()))
        self.writer.flush()

    def close(self):
        self.writer.close()


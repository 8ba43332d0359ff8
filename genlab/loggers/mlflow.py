"""logger=mlflow: MLflow's own client on a local SQLite store (`outputs/mlflow.db` by
default: MLflow 3's plain file store is in maintenance mode), artifacts under
`outputs/mlflow-artifacts`. Single runs go to one experiment (`genlab`), each sweep to an
experiment of its own (`multirun/<date>_<time>`), each run named after its folder.
Logged: the resolved config as params, the losses and evaluations as metrics with their
steps, the final metrics (`final.<metrics.json path>`), the figures as artifacts, the
checkpoint's path and the run's tags as tags. `mlflow ui --backend-store-uri
sqlite:///outputs/mlflow.db` shows them. Needs `pip install 'genlab[mlflow]'`."""

from __future__ import annotations

import time
from pathlib import Path

from genlab.loggers import Logger, flat_config, missing_library

BATCH = 100  # params or metrics per request (MLflow takes at most 100 params in one)


class MLflowLogger(Logger):
    name = "mlflow"

    def __init__(self, tracking_uri="sqlite:///outputs/mlflow.db", artifact_dir="outputs/mlflow-artifacts", experiment=None, run_dir=None):
        try:
            from mlflow.tracking import MlflowClient
        except ImportError:
            raise missing_library("mlflow", "mlflow") from None
        run_dir = Path(run_dir)
        in_sweep = (run_dir.parent / "multirun.yaml").is_file()
        experiment = experiment or (f"multirun/{run_dir.parent.name}" if in_sweep else "genlab")
        if tracking_uri.startswith("sqlite:///"):
            Path(tracking_uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        self.client = MlflowClient(tracking_uri=tracking_uri)
        found = self.client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else self.client.create_experiment(
            experiment, artifact_location=(Path(artifact_dir) / experiment).resolve().as_uri())
        self.run_id = self.client.create_run(experiment_id, run_name=run_dir.name, tags={"genlab.run_dir": str(run_dir.resolve())}).info.run_id

    def log_hyperparams(self, config):
        from mlflow.entities import Param

        params = [Param(key, str(value)[:6000]) for key, value in flat_config(config).items()]
        for i in range(0, len(params), BATCH):
            self.client.log_batch(self.run_id, params=params[i:i + BATCH])
        for tag in config.get("tags") or []:
            self.client.set_tag(self.run_id, f"tag.{tag}", "true")

    def log_metrics(self, metrics, step):
        self._metrics(metrics, step)

    def log_final(self, metrics, figures, checkpoint):
        self._metrics({f"final.{name}": value for name, value in metrics.items()}, 0)
        for figure in figures:
            self.client.log_artifact(self.run_id, str(figure))
        if checkpoint is not None:
            self.client.set_tag(self.run_id, "checkpoint", str(Path(checkpoint).resolve()))

    def close(self):
        self.client.set_terminated(self.run_id)

    def _metrics(self, metrics, step):
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        entries = [Metric(name, value, now, step) for name, value in metrics.items()]
        for i in range(0, len(entries), BATCH):
            self.client.log_batch(self.run_id, metrics=entries[i:i + BATCH])


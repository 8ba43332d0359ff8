"""logger=: what a run sends its trackers, read back with their own readers (TensorBoard's
EventAccumulator, the CSV), a sweep's jobs grouped, the one-line error for a missing
library, and a tracker that fails mid-run costing the run nothing."""

from __future__ import annotations

import csv
import struct
import json
import sys
import time

import pytest

from genlab.errors import ConfigError
from tests.helpers import run_cli, run_on

QUICK = ["model=wgan", "data=moons", "trainer.max_steps=100", "trainer.eval_every=50", "trainer.log_every=25", "trainer.n_snapshots=0",
         "trainer.checkpoint_every=100", "n_eval=300"]  # losses logged at exactly 25, 50, 75, 100



def test_tensorboard_gets_the_losses_evaluations_final_metrics_and_figures(tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    metrics = run_on(tmp_path, "wgan", *QUICK, "logger=tensorboard")
    events = EventAccumulator(str(tmp_path / "outputs" / "tensorboard" / "wgan"), size_guidance={"images": 0, "scalars": 0})
    events.Reload()
    scalars = events.Tags()["scalars"]
    assert [e.step for e in events.Scalars("losses.critic_loss")] == [25, 50, 75, 100]
    evaluations = [json.loads(line) for line in (tmp_path / "outputs" / "runs" / "wgan" / "metrics.jsonl").read_text().splitlines()]
    logged = events.Scalars("model.sliced_wasserstein")
    assert [(e.step, e.value) for e in logged] == [(r["step"], pytest.approx(r["model"]["sliced_wasserstein"], rel=1e-6)) for r in evaluations]
    assert {"density", "critic", "samples", "training"} <= set(events.Tags()["images"])
    (final,) = events.Scalars("final.samples.model.sliced_wasserstein")  # with the config in the HPARAMS view
    assert final.value == pytest.approx(metrics["samples"]["model"]["sliced_wasserstein"], rel=1e-6) == logged[-1].value
    assert "final.test_log_likelihood" not in scalars and "config/text_summary" in events.Tags()["tensors"]


def test_csv_rows_hold_every_number_logged(tmp_path):
    metrics = run_on(tmp_path, "wgan", *QUICK, "logger=csv")
    rows = list(csv.DictReader((tmp_path / "outputs" / "runs" / "wgan" / "logged.csv").open()))
    final = {r["name"]: float(r["value"]) for r in rows if r["step"] == "final"}
    assert final["samples.model.sliced_wasserstein"] == metrics["samples"]["model"]["sliced_wasserstein"]
    assert [r["step"] for r in rows if r["name"] == "losses.generator_loss"] == ["25", "50", "75", "100"]


def test_a_sweep_with_two_loggers_groups_its_jobs(tmp_path):
    pytest.importorskip("tensorboard")
    result = run_cli("-m", *QUICK, "model.hidden=16,32", "logger=many", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    jobs = sorted(p.parent.name for p in sweep.glob("*/metrics.json"))
    assert len(jobs) == 2 and all((sweep / job / "logged.csv").is_file() for job in jobs)
    assert sorted(p.name for p in (tmp_path / "outputs" / "tensorboard" / sweep.name).iterdir()) == jobs


def test_a_missing_library_is_one_line_before_any_training(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails as without the package
    with pytest.raises(ConfigError, match=r"^logger=tensorboard needs the tensorboard package, which is not installed: pip install 'genlab\[tensorboard\]'$"):
        run_on(tmp_path, "wgan", *QUICK, "logger=tensorboard")
    assert not (tmp_path / "outputs" / "runs" / "wgan").exists() or not any((tmp_path / "outputs" / "runs" / "wgan").iterdir())


def test_a_tracker_that_fails_mid_run_is_dropped_and_the_run_finishes(tmp_path, caplog):
    from genlab.loggers.csv import CSVLogger

    calls = {"n": 0}
    original = CSVLogger.log_metrics

    def failing(self, metrics, step):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError("the tracking server went away")
        return original(self, metrics, step)

    CSVLogger.log_metrics = failing
    try:
        with caplog.at_level("WARNING", logger="genlab"):
            metrics = run_on(tmp_path, "wgan", *QUICK, "logger=csv")
    finally:
        CSVLogger.log_metrics = original
    folder = tmp_path / "outputs" / "runs" / "wgan"
    assert metrics["steps"] == 100 and {"metrics.json", "checkpoint.pt", "training.gif", "density.png"} <= {p.name for p in folder.iterdir()}
    assert caplog.text.count("logger csv failed (OSError: the tracking server went away)") == 1
    assert calls["n"] == 3  # dropped after its failure: never called again


def test_mlflow_keeps_single_runs_in_one_experiment_and_a_sweep_in_its_own(tmp_path):
    pytest.importorskip("mlflow")
    from mlflow.tracking import MlflowClient

    metrics = run_on(tmp_path, "wgan", *QUICK, "logger=mlflow", "tags=[baseline]")
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    (single,) = client.search_runs([client.get_experiment_by_name("genlab").experiment_id])
    assert single.info.run_name == "wgan"
    assert single.data.params["trainer.max_steps"] == "100" and single.data.tags["tag.baseline"] == "true"
    assert [m.step for m in client.get_metric_history(single.info.run_id, "losses.critic_loss")] == [25, 50, 75, 100]
    assert single.data.metrics["final.samples.model.sliced_wasserstein"] == pytest.approx(metrics["samples"]["model"]["sliced_wasserstein"])
    assert {"density.png", "critic.png", "training.png"} <= {a.path for a in client.list_artifacts(single.info.run_id)}
    assert single.data.tags["checkpoint"].endswith("checkpoint.pt") and single.info.status == "FINISHED"

    result = run_cli("-m", *QUICK, "model.hidden=16,32", "logger=mlflow", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'outputs' / 'mlflow.db'}")
    runs = client.search_runs([client.get_experiment_by_name(f"multirun/{sweep.name}").experiment_id])
    assert sorted(r.data.params["model.hidden"] for r in runs) == ["16", "32"]


def wandb_records(run_folder):
    """The records of a W&B offline run, read with W&B's own protobuf classes. wandb 0.31 ships
    no Python reader of its .wandb file: that is a LevelDB-style log (a 7-byte file header,
    32 KiB blocks, each chunk a 7-byte header of crc32, length and kind), unframed here."""
    from wandb.proto import wandb_internal_pb2

    (path,) = run_folder.glob("run-*.wandb")
    raw, position, pending, records = path.read_bytes(), 7, b"", []
    while position + 7 <= len(raw):
        left = 32768 - position % 32768
        _crc, length, kind = struct.unpack("<IHB", raw[position:position + 7]) if left >= 7 else (0, 0, 0)
        if kind == 0:  # the zero padding at a block's end
            position += left
            continue
        if position + 7 + length > len(raw):  # a chunk the service is still writing
            break
        pending += raw[position + 7:position + 7 + length]
        position += 7 + length
        if kind in (1, 4):  # a whole record, or a record's last chunk
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def wandb_run(run_folder) -> dict:
    """What an offline run holds: its name, group, tags and config, the history rows by
    step, and the summary. W&B's service writes the file on its own: `run.finish()` can return
    before the records are on disk (seen with two test processes on two cores: some, or none
    yet), so this reads until the closing `exit` record is there."""
    deadline = time.monotonic() + 60
    while not ((records := wandb_records(run_folder)) and records[-1].WhichOneof("record_type") == "exit") and time.monotonic() < deadline:
        time.sleep(0.2)
    kinds = [record.WhichOneof("record_type") for record in records]
    assert "run" in kinds and kinds[-1] == "exit", f"{run_folder} holds the records {kinds}"
    run, history, summary = None, {}, {}
    for record in records:
        kind = record.WhichOneof("record_type")
        if kind == "run":
            run = record.run
        elif kind == "history":
            row = {item.key or ".".join(item.nested_key): json.loads(item.value_json) for item in record.history.item}
            history.setdefault(row["_step"], {}).update(row)
        elif kind == "summary":
            summary.update({item.key or ".".join(item.nested_key): json.loads(item.value_json) for item in record.summary.update})
    config = {item.key: json.loads(item.value_json) for item in run.config.update}
    return {"name": run.display_name, "group": run.run_group, "project": run.project, "tags": list(run.tags),
            "config": config, "history": history, "summary": summary}


def test_wandb_writes_an_offline_run_with_config_steps_final_metrics_and_figures(tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    result = run_cli("-m", *QUICK, "model.hidden=16,32", "logger=wandb", cwd=tmp_path, env={"WANDB_SERVICE": ""})
    assert result.returncode == 0, result.stderr[-2000:]
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    in_sweep = set((tmp_path / "outputs" / "wandb").glob("offline-run-*"))
    jobs = [wandb_run(folder) for folder in in_sweep]
    assert sorted((job["group"], job["config"]["model"]["hidden"]) for job in jobs) == [(sweep.name, 16), (sweep.name, 32)]

    monkeypatch.delenv("WANDB_SERVICE", raising=False)  # the in-process run's W&B service leaves with the test
    metrics = run_on(tmp_path, "wgan", *QUICK, "logger=wandb", "tags=[baseline]")
    (folder,) = set((tmp_path / "outputs" / "wandb").glob("offline-run-*")) - in_sweep
    run = wandb_run(folder)
    assert (run["name"], run["group"], run["project"], run["tags"]) == ("wgan", "", "genlab", ["baseline"])
    assert run["config"]["trainer"]["max_steps"] == 100 and run["config"]["model"]["_target_"].endswith("WGAN")
    assert sorted(step for step, row in run["history"].items() if "losses.critic_loss" in row) == [25, 50, 75, 100]
    evaluations = [json.loads(line) for line in (tmp_path / "outputs" / "runs" / "wgan" / "metrics.jsonl").read_text().splitlines()]
    assert [run["history"][r["step"]]["model.sliced_wasserstein"] for r in evaluations] == [pytest.approx(r["model"]["sliced_wasserstein"]) for r in evaluations]
    assert run["summary"]["final.samples.model.sliced_wasserstein"] == pytest.approx(metrics["samples"]["model"]["sliced_wasserstein"])
    assert run["summary"]["checkpoint"].endswith("checkpoint.pt")
    assert {"density", "critic", "samples", "training"} <= {p.name.split("_")[0] for p in (folder / "files" / "media" / "images" / "figures").iterdir()}

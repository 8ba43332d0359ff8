"""A metric registered from outside genlab (here, from this test module) gets what genlab's own
metrics get: its number in metrics.json beside the real data's, a row of the log table, a path
that optimized_metric can name, and a column of a sweep's summary.csv."""

import csv
import json
import re
import sys

import pytest
import torch

import genlab
from genlab.metrics import registry, sample_quality
from genlab.data import Moons
from genlab.train import main, run
from helpers import compose_config

NAME, LABEL = "mean_nearest_test_distance", "mean distance to the nearest test point"


def mean_nearest_test_distance(samples, test, data):
    """How far a sample lies from the held-out points, on average (0 for copies of them)."""
    return torch.cdist(samples, test).min(1).values.mean().item()


@pytest.fixture
def nearest():
    registry.register(NAME, rows=lambda distance: {LABEL: f"{distance:.4f}"}, higher_is_better=False)(mean_nearest_test_distance)
    yield
    registry.unregister(NAME)
    assert NAME not in sample_quality(Moons().test, Moons())  # gone again for the tests that follow


def test_a_registered_metric_is_in_metrics_json_and_the_log_table(nearest, tmp_path, caplog):
    with caplog.at_level("INFO", logger="genlab"):
        run(compose_config("model=kde", "data=moons"), tmp_path / "run")
    samples = json.loads((tmp_path / "run" / "metrics.json").read_text())["samples"]
    final_only = ["precision_recall", "density_coverage", "kid", "c2st", "memorization"]  # genlab's own, at the final evaluation
    assert list(samples["model"]) == list(samples["real_data"]) == ["mmd", "sliced_wasserstein", "kde_test_log_likelihood", *final_only, NAME]
    model, config = genlab.load_run(tmp_path / "run")  # the run's own samples: the first draw of a generator seeded with its seed
    drawn = model.sample(config.n_eval, torch.Generator().manual_seed(config.seed)).double()
    assert samples["model"][NAME] == pytest.approx(mean_nearest_test_distance(drawn, Moons().test.double(), None), rel=1e-12)
    assert re.search(rf"^{LABEL}\s+{samples['model'][NAME]:.4f}\s+{samples['real_data'][NAME]:.4f}\s", caplog.text, re.MULTILINE)  # then the reference rows


def test_a_registered_metric_can_be_optimized_and_is_a_column_of_the_sweep_summary(nearest, tmp_path, monkeypatch):
    path = f"samples.model.{NAME}"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "argv", ["genlab", "-m", "model=kde", "data=moons", "model.bandwidth=0.05,0.5",
                                      f"optimized_metric={path}", f"output_root={tmp_path}/outputs"])
    main()  # Hydra's basic launcher runs the jobs in this process, where the metric is registered
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    with open(sweep / "summary.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 and list(rows[0])[-2:] == [path, "wall_seconds"]
    for row in rows:
        value = json.loads((sweep / row["folder"] / "metrics.json").read_text())["samples"]["model"][NAME]
        assert (row["status"], row["optimized_metric"]) == ("completed", path)
        assert float(row["optimized_value"]) == float(row[path]) == pytest.approx(value, rel=1e-9)
    assert float(rows[0][path]) < float(rows[1][path])  # a narrower kde draws nearer its training points


def test_a_name_is_registered_once_and_genlab_s_own_come_first():
    names = [metric.name for metric in registry.metrics()]
    assert names[:8] == ["mmd", "sliced_wasserstein", "wasserstein_1d", "kde_test_log_likelihood", "true_log_density", "mode_coverage", "parzen", "classifier"]
    with pytest.raises(ValueError, match="'mmd' is already registered"):
        registry.register("mmd", rows=dict)(mean_nearest_test_distance)
    with pytest.raises(ValueError, match="a default objective must be higher-is-better"):
        registry.add(registry.Metric("nope", rows=dict, compute=mean_nearest_test_distance, higher_is_better=False, objective=""))

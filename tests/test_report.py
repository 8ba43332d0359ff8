"""genlab-report over any runs: single runs and sweeps side by side in summary.csv,
grid.png and curves.png, labelled by what differs and by their tags."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest
from PIL import Image

from tests.helpers import run_cli

QUICK = ["trainer.max_steps=60", "trainer.eval_every=20", "n_eval=300"]


def report(*args: str, cwd) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genlab.sweeps.report", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Two tagged WGAN runs, a kde run and a sweep of two VAE jobs, in one outputs folder."""
    folder = tmp_path_factory.mktemp("runs")
    for args in (["model=wgan", "data=moons", *QUICK, "tags=[baseline]"], ["model=wgan", "data=moons", *QUICK, "model.hidden=32", "tags=[small,quick]"],
                 ["model=kde", "data=moons"], ["-m", "model=vae", "data=moons", *QUICK, "model.kl_weight=0.1,1"]):
        result = run_cli(*args, cwd=folder)
        assert result.returncode == 0, result.stderr[-2000:]
    return folder


def test_single_runs_and_a_sweep_compare_in_one_report(runs):
    result = report("outputs/runs/*", *map(str, (runs / "outputs" / "multirun").iterdir()), cwd=runs)
    assert result.returncode == 0, result.stderr
    (folder,) = (runs / "outputs" / "reports").iterdir()
    rows = list(csv.DictReader((folder / "summary.csv").open()))
    assert len(rows) == 5 and [r["status"] for r in rows] == ["completed"] * 5
    by_model = {}
    for row in rows:
        metrics = json.loads((runs / row["folder"] / "metrics.json").read_text())
        by_model.setdefault(metrics["model"], []).append(row)
        assert metrics["tags"] == (row["tags"].split(",") if row["tags"] else [])
    assert sorted(r["tags"] for r in by_model["wgan"]) == ["baseline", "small,quick"]
    assert {r["model.kl_weight"] for r in by_model["vae"]} == {"0.1", "1"} and {r["model"] for r in rows} == {"wgan", "kde", "vae"}
    assert "model=kde: no curve" in result.stdout and "[small,quick]" in result.stdout
    for name in ("grid.png", "curves.png"):
        with Image.open(folder / name) as image:
            assert image.size[0] > 400


def test_the_curves_follow_the_metric_asked_for(runs, tmp_path):
    result = report("outputs/runs/*", "--metric", "model.sliced_wasserstein", "--out", str(tmp_path / "report"), cwd=runs)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "report" / "curves.png").is_file() and (tmp_path / "report" / "summary.csv").is_file()
    result = report("outputs/runs/*", "--metric", "model.nothing_like_it", "--out", str(tmp_path / "other"), cwd=runs)
    assert result.returncode == 0 and result.stdout.count("no curve") == 3  # two WGAN runs lack it, the kde has none


def test_with_no_folder_the_newest_sweep_is_reported_in_its_own_folder(runs):
    result = report(cwd=runs)
    assert result.returncode == 0, result.stderr
    (sweep,) = (runs / "outputs" / "multirun").iterdir()
    assert (sweep / "summary.csv").is_file() and (sweep / "curves.png").is_file()


def test_a_pattern_that_matches_nothing_is_one_line_exit_2(tmp_path):
    result = report("outputs/runs/*", cwd=tmp_path)
    assert (result.returncode, result.stderr.strip()) == (2, "genlab-report: error: outputs/runs/* matches no folder")
    result = report(cwd=tmp_path)
    assert result.returncode == 2 and "no sweep under outputs/multirun" in result.stderr
    assert not (tmp_path / "outputs").exists()


def test_tags_must_be_words(tmp_path):
    result = run_cli("model=kde", "data=moons", "tags=[[a]]", cwd=tmp_path)
    assert result.returncode == 2 and "tags must be a list of words" in result.stderr

"""Sweeps that end in a table and a picture: summary.csv, grid.png, genlab-report, optimized_metric."""

import csv
import json
import struct
import subprocess
import sys
import tomllib
from contextlib import contextmanager
from pathlib import Path

import pytest
from hydra import compose, initialize_config_module
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import open_dict, read_write

from genlab.errors import ConfigError
from genlab.plots.style import RC
from genlab.sweeps.grid import TILE_WIDTH, TITLE_ROOM, layout
from genlab.sweeps.objective import optimized_metric
from genlab.train import main
from helpers import run_cli, group_options

SMALL = ("data=mixture1d", "data.n_train=200", "data.n_test=200", "n_eval=200", "n_fresh=200")
DPI, FOOTER = RC["savefig.dpi"], 0.4  # style.tiles' footer_room


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def tile_height(figure: Path) -> float:
    """A tile's height in inches: the tiled figure's shape at the tile's width, and its title."""
    width, height = png_size(figure)
    return TILE_WIDTH * height / width + TITLE_ROOM


def grid_size_is(path: Path, columns: int, height: float) -> bool:
    """grid.png is `columns` tiles wide and its tiles `height` inches high (to the pixel matplotlib rounds)."""
    width, pixels = png_size(path)
    return abs(width - columns * TILE_WIDTH * DPI) <= 1 and abs(pixels - (height + FOOTER) * DPI) <= 1


def read_csv(path: Path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def report(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "genlab.sweeps.report", *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_sweep_with_a_failing_job_runs_every_job_and_ends_in_a_summary(tmp_path):
    result = run_cli("-m", "model=kde", *SMALL, "model.bandwidth=0.3,-1", f"output_root={tmp_path}/outputs", cwd=tmp_path)
    assert result.returncode == 1  # Hydra's exit status once a job failed
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    lines = [line for line in result.stdout.splitlines() if line.startswith("[sweep]")]
    assert lines[0].startswith("[sweep] job 0 model.bandwidth=0.3: completed, test_log_likelihood -") and lines[0].endswith(" s")
    assert lines[1] == "[sweep] job 1 model.bandwidth=-1: failed: ConfigError: model.bandwidth must be a positive number or one of scott, silverman, cv (got -1)"
    assert len(lines) == 2  # Hydra skips on_multirun_end after a failure: the summary came after each job
    assert json.loads((sweep / "1_data.n_test=200,data.n_train=200,data=mixture1d,model.bandwidth=-1,model=kde,n_eval=200,n_fresh=200" / "status.json").read_text())["status"] == "failed"

    completed, failed = read_csv(sweep / "summary.csv")
    metrics = json.loads((sweep / completed["folder"] / "metrics.json").read_text())
    assert (completed["job"], completed["model.bandwidth"], completed["status"], completed["error"]) == ("0", "0.3", "completed", "")
    assert completed["optimized_metric"] == "test_log_likelihood" and float(completed["optimized_value"]) == pytest.approx(metrics["test_log_likelihood"])
    assert float(completed["samples.model.wasserstein_1d"]) == pytest.approx(metrics["samples"]["model"]["wasserstein_1d"])
    assert float(completed["wall_seconds"]) == pytest.approx(metrics["fit_seconds"])
    assert (failed["job"], failed["model.bandwidth"], failed["status"], failed["optimized_value"]) == ("1", "-1", "failed", "")
    assert failed["error"].startswith("ConfigError: model.bandwidth must be a positive number")
    height = tile_height(sweep / completed["folder"] / "density.png")
    assert grid_size_is(sweep / "grid.png", columns=2, height=height)  # one key: one row

    table = (sweep / "summary.csv").read_text()
    (sweep / "summary.csv").unlink()
    (sweep / "grid.png").unlink()
    rebuilt = report(str(sweep), cwd=tmp_path)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert (sweep / "summary.csv").read_text() == table
    assert grid_size_is(sweep / "grid.png", columns=2, height=height)
    assert "model.bandwidth=-1" in rebuilt.stdout and "failed     ConfigError: model.bandwidth" in rebuilt.stdout
    assert f"summary: {sweep / 'summary.csv'}" in rebuilt.stdout and f"grid: {sweep / 'grid.png'}" in rebuilt.stdout


def test_a_sweep_over_two_keys_tiles_rows_by_the_first_and_columns_by_the_second(tmp_path):
    result = run_cli("-m", "model=kde", *SMALL, "model.kernel=tophat,gaussian", "model.bandwidth=0.5,0.25", "sweep_figure=samples.png", f"output_root={tmp_path}/outputs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    table = read_csv(sweep / "summary.csv")
    assert [(row["model.kernel"], row["model.bandwidth"], row["status"]) for row in table] == [
        ("tophat", "0.5", "completed"), ("tophat", "0.25", "completed"), ("gaussian", "0.5", "completed"), ("gaussian", "0.25", "completed")
    ]
    assert f"[sweep] 4 jobs, 0 failed: {sweep / 'summary.csv'}, {sweep / 'grid.png'}" in result.stdout
    height = tile_height(sweep / table[0]["folder"] / "samples.png")  # sweep_figure chose the tiles
    assert grid_size_is(sweep / "grid.png", columns=2, height=2 * height)


def test_layout_rows_by_all_keys_but_the_last_columns_by_the_last_numbers_by_value():
    assert layout([("0.3",), ("-1",), ("10",)]) == ([()], ["-1", "0.3", "10"], [(0, 1), (0, 0), (0, 2)])
    jobs = [("tophat", "10"), ("tophat", "9"), ("gaussian", "10"), ("gaussian", "9")]
    assert layout(jobs) == ([("gaussian",), ("tophat",)], ["9", "10"], [(1, 1), (1, 0), (0, 1), (0, 0)])
    rows, columns, cells = layout([(a, b, c) for a in ("kde", "gmm") for b in ("2", "1") for c in ("x", "y")])
    assert rows == [("gmm", "1"), ("gmm", "2"), ("kde", "1"), ("kde", "2")] and columns == ["x", "y"] and cells[0] == (3, 0)


def test_layout_falls_back_to_job_order_when_values_do_not_form_a_grid():
    assert layout([("1", "a"), ("1", "a"), ("2", "b")])[2] == [(0, 0), (0, 1), (1, 0)]  # two jobs, one cell
    assert layout([(str(i), str(i)) for i in range(5)])[2] == [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1)]  # Optuna: 25 cells, 5 jobs
    assert layout([(), ()]) == ([()], ["", ""], [(0, 0), (0, 1)])  # nothing swept


def test_optimized_metric_follows_dotted_paths_with_a_default_per_kind_of_run():
    gan = {"samples": {"model": {"mmd": {"0.2": 1.5}, "kde_test_log_likelihood": {"mean": -2.0}}}}
    assert optimized_metric(gan, None) == ("samples.model.kde_test_log_likelihood.mean", -2.0)
    assert optimized_metric({"test_log_likelihood": "-inf", **gan}, None) == ("test_log_likelihood", float("-inf"))
    assert optimized_metric({"parzen": {"mean": 210.0}}, None) == ("parzen.mean", 210.0)
    assert optimized_metric(gan, "samples.model.mmd.0.2") == ("samples.model.mmd.0.2", 1.5)  # keys with dots
    assert optimized_metric({"figure": "kernels"}, None) == (None, None)
    with pytest.raises(ConfigError, match=r"^optimized_metric: samples.model is not a number in metrics.json; it has samples.model.kde_test_log_likelihood.mean, samples.model.mmd.0.2$"):
        optimized_metric(gan, "samples.model")


@contextmanager
def hydra_job(run_dir: Path, *overrides: str, mode: RunMode = RunMode.RUN):
    """The config and HydraConfig that Hydra gives main() for one job."""
    with initialize_config_module("genlab.conf", version_base="1.3"):
        config = compose("config", overrides=list(overrides), return_hydra_config=True)
    with read_write(config.hydra), open_dict(config.hydra):
        config.hydra.runtime.output_dir = str(run_dir)
        config.hydra.mode = mode
    HydraConfig.instance().set_config(config)
    task = config.copy()
    with open_dict(task):
        del task["hydra"]
    try:
        yield task
    finally:
        HydraConfig.instance().cfg = None


def test_main_returns_the_optimized_metric(tmp_path):
    with hydra_job(tmp_path / "a", "model=gmm", "model.n_components=2", *SMALL) as config:
        value = main(config)
    assert value == json.loads((tmp_path / "a" / "metrics.json").read_text())["test_log_likelihood"]
    with hydra_job(tmp_path / "b", "model=gmm", "model.n_components=2", *SMALL, "optimized_metric=samples.model.wasserstein_1d") as config:
        value = main(config)
    assert value == json.loads((tmp_path / "b" / "metrics.json").read_text())["samples"]["model"]["wasserstein_1d"]


def test_a_bad_optimized_metric_is_one_line_exit_2_alone_and_a_failed_job_in_a_sweep(tmp_path, capsys):
    overrides = ("model=kde", *SMALL, "optimized_metric=samples.model.nope")
    with hydra_job(tmp_path / "run", *overrides) as config, pytest.raises(SystemExit) as stop:
        main(config)
    assert stop.value.code == 2
    expected = "genlab: error: optimized_metric: samples.model.nope is not a number in metrics.json; it has test_log_likelihood, samples.model.wasserstein_1d, samples.model.kde_test_log_likelihood.mean, "
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(expected)
    with hydra_job(tmp_path / "job", *overrides, mode=RunMode.MULTIRUN) as config, pytest.raises(ConfigError, match="^optimized_metric: samples.model.nope is not"):
        main(config)  # an exception, not SystemExit: Hydra marks the job failed and runs the next


def test_an_unknown_key_in_a_sweep_is_one_line_naming_the_keys_there(tmp_path):
    result = run_cli("-m", "model=gan", "data=mixture2d", "model.hiddn=8,32", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("genlab: error: model.hiddn: no such key; model has ") and ", hidden, " in line
    assert not (tmp_path / "outputs").exists()


def test_an_unknown_value_of_a_swept_group_stops_the_sweep_before_any_job(tmp_path):
    result = run_cli("-m", "model=kde,nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"genlab: error: model=nope: no such option; model is one of {group_options('model')}"]
    assert not (tmp_path / "outputs").exists()


def test_an_unknown_experiment_is_one_line_listing_the_experiments(tmp_path):
    result = run_cli("+experiment=lecture/nope", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("genlab: error: experiment=lecture/nope: no such option; experiment is one of ")


def test_report_on_a_folder_that_is_not_a_sweep_is_one_line_exit_2(tmp_path):
    result = report(str(tmp_path), cwd=tmp_path)
    assert (result.returncode, result.stderr.strip().splitlines()) == (
        2, [f"genlab-report: error: {tmp_path} is neither a run folder (no .hydra/hydra.yaml) nor a sweep folder (no multirun.yaml)"])
    assert not (tmp_path / "outputs").exists()  # nothing made for a report that cannot be
    (tmp_path / "multirun.yaml").write_text("hydra: {}\n")
    result = report(str(tmp_path), cwd=tmp_path)
    assert (result.returncode, result.stderr.strip().splitlines()) == (2, [f"genlab-report: error: {tmp_path} is not a sweep folder (no job folders with .hydra/hydra.yaml)"])


def test_the_console_scripts_are_declared():
    scripts = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts == {"genlab": "genlab.train:cli", "genlab-report": "genlab.sweeps.report:main"}

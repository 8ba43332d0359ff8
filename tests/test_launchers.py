"""Sweeps through Hydra's parallel launchers and the Optuna sweeper, through the command line.

The plugins come with the `launchers` and `optuna` extras, which `make test` installs, so
nothing here is skipped. The jobs are small: kde and gmm on 200 points, wgan for 20 steps.
"""

import json
import os
from pathlib import Path

import pytest
import yaml
from hydra.experimental.callback import Callback

from helpers import run_cli

SMALL = ("data=moons", "data.n_train=200", "data.n_test=200", "n_eval=200", "n_fresh=200")
TESTS = Path(__file__).resolve().parent


class RecordThreads(Callback):
    """Added to a sweep by the joblib test: each job writes torch's thread count into its folder."""

    def on_job_end(self, config, job_return, **kwargs):
        import torch

        (Path(config.hydra.runtime.output_dir) / "threads.txt").write_text(str(torch.get_num_threads()))


def only_sweep(tmp_path: Path) -> Path:
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    return sweep


def check_jobs(sweep: Path, models: list[str]) -> list[Path]:
    """Every job wrote its own finished folder, in the order of the sweep, and the sweep
    has its summary (written by genlab.sweeps.callback.SweepSummary)."""
    jobs = sorted((p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: int(p.name.split("_", 1)[0]))
    assert [p.name.split("_", 1)[0] for p in jobs] == [str(n) for n in range(len(models))]
    assert [json.loads((job / "metrics.json").read_text())["model"] for job in jobs] == models
    summary = (sweep / "summary.csv").read_text().splitlines()
    assert len(summary) == 1 + len(models)
    return jobs


def overrides(job: Path) -> list[str]:
    return yaml.safe_load((job / ".hydra" / "overrides.yaml").read_text())


def test_a_joblib_sweep_runs_jobs_in_parallel_processes_one_torch_thread_each(tmp_path):
    import joblib

    # The worker processes import RecordThreads from this file.
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(TESTS), os.environ.get("PYTHONPATH")]))}
    result = run_cli(
        "-m", "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "model=kde,gmm", *SMALL,
        "+hydra.callbacks.threads._target_=test_launchers.RecordThreads", cwd=tmp_path, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Joblib.Parallel(n_jobs=2" in result.stdout
    jobs = check_jobs(only_sweep(tmp_path), ["kde", "gmm"])
    assert [overrides(job)[0] for job in jobs] == ["model=kde", "model=gmm"]
    # joblib's workers get OMP_NUM_THREADS = cores // n_jobs, which torch follows.
    assert [int((job / "threads.txt").read_text()) for job in jobs] == [max(1, joblib.cpu_count() // 2)] * 2
    # The workers share the terminal: each job's progress line reaches the user.
    assert "[sweep] job 0 model=kde: completed" in result.stdout and "[sweep] job 1 model=gmm: completed" in result.stdout


def test_a_submitit_local_sweep_runs_each_job_as_its_own_process(tmp_path):
    result = run_cli("-m", "hydra/launcher=submitit_local", "model=kde,gmm", *SMALL, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    sweep = only_sweep(tmp_path)
    jobs = check_jobs(sweep, ["kde", "gmm"])
    assert [overrides(job)[0] for job in jobs] == ["model=kde", "model=gmm"]
    # submitit keeps each job's output under <sweep>/.submitit/<id>/, progress lines included;
    # the sweeping command prints the final summary line only.
    logs = "".join(p.read_text() for p in (sweep / ".submitit").glob("*/*_log.out"))
    assert "[sweep] job 0 model=kde: completed" in logs and "[sweep] job 1 model=gmm: completed" in logs
    assert "[sweep] 2 jobs, 0 failed" in result.stdout


# optuna 2.x warns in tests that it is not ready for SQLAlchemy 2, which the optuna extra rules out.
@pytest.mark.filterwarnings("ignore:Deprecated API features detected")
def test_the_optuna_example_search_returns_a_best_value_and_keeps_the_study(tmp_path):
    import optuna

    db = tmp_path / "optuna.db"
    # Two trials at once through joblib, as the README shows (and one torch thread each,
    # so the tiny trials stay fast on a busy machine).
    result = run_cli(
        "-m", "+experiment=search/wgan_gp_modes", "hydra.sweeper.n_trials=2", f"hydra.sweeper.storage=sqlite:///{db}",
        "hydra/launcher=joblib", "hydra.launcher.n_jobs=2",
        "trainer.max_steps=20", "trainer.n_snapshots=2", "data.n_train=500", "data.n_test=500", "n_eval=500", cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    sweep = only_sweep(tmp_path)
    results = yaml.safe_load((sweep / "optimization_results.yaml").read_text())
    assert 0 <= results["best_value"] <= 1 / 8  # the smallest of 8 modes' shares
    assert 1e-4 <= results["best_params"]["model.lr"] <= 3e-3 and 0.01 <= results["best_params"]["model.gp_weight"] <= 10
    jobs = check_jobs(sweep, ["wgan", "wgan"])
    for job in jobs:  # each trial ran with the values Optuna asked for
        asked = dict(override.split("=", 1) for override in overrides(job) if override.startswith("model."))
        model = yaml.safe_load((job / "config.yaml").read_text())["model"]
        assert (model["lr"], model["gp_weight"]) == (float(asked["model.lr"]), float(asked["model.gp_weight"]))
    returned = [json.loads((job / "metrics.json").read_text())["samples"]["model"]["mode_coverage"]["min_mode_fraction"] for job in jobs]
    assert results["best_value"] == max(returned)
    # The study lies in the sqlite file, so the same command continues it.
    study = optuna.load_study(study_name="wgan_gp_modes", storage=f"sqlite:///{db}")
    assert [trial.state.name for trial in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.best_value == results["best_value"]


def test_the_slurm_example_launcher_composes_beside_the_plugins(tmp_path):
    help_text = run_cli("--hydra-help", cwd=tmp_path).stdout
    assert "hydra/launcher: basic, joblib, slurm, submitit_local, submitit_slurm" in help_text
    assert "hydra/sweeper: basic, optuna" in help_text
    result = run_cli("hydra/launcher=slurm", "hydra.launcher.partition=gpu", "--cfg", "hydra", "-p", "hydra.launcher", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    launcher = yaml.safe_load(result.stdout)
    assert launcher["_target_"] == "hydra_plugins.hydra_submitit_launcher.submitit_launcher.SlurmLauncher"
    assert launcher["partition"] == "gpu" and launcher["timeout_min"] == 60 and launcher["array_parallelism"] == 32
    assert launcher["submitit_folder"] == "${hydra.sweep.dir}/.submitit/%j"

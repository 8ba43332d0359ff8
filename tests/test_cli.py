"""End to end through the command line, in subprocesses, exactly as a user types it."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import run_cli, group_options

RUN_FILES = {".hydra", "train.log", "config.yaml", "checkpoint.pt", "metrics.json", "density.png", "samples.png"}


def test_help_lists_groups_and_options_without_importing_torch(tmp_path):
    result = run_cli("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "data: 25gaussians, 8gaussians, checkerboard, circles, file, images, mixture1d, mixture2d, mnist, moons" in result.stdout
    conf = Path(__file__).resolve().parents[1] / "conf"
    for group in ("model", "model_data"):  # every option file of the group, listed in order
        options = ", ".join(sorted(p.stem for p in (conf / group).glob("*.yaml")))
        assert f"{group}: {options}\n" in result.stdout and {"gan", "gmm", "kde", "vae", "wgan", "gan_mnist", "vae_mnist"} & set(options.split(", "))
    assert "device: auto, cpu, cuda, mps" in result.stdout
    assert "trainer: default" in result.stdout and "max_steps:" in result.stdout
    probe = "import sys, genlab, genlab.train; assert 'torch' not in sys.modules, 'torch imported eagerly'"
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True).returncode == 0


def test_a_gmm_run_writes_every_output(tmp_path):
    result = run_cli("model=gmm", "data=mixture1d", "model.n_components=2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert run_dir.name.endswith("_gmm_mixture1d")
    assert f"outputs: {run_dir}" in result.stdout + result.stderr
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES | {"em.png"}
    metrics = json.loads((run_dir / "metrics.json").read_text())
    # Two components fit a two-component mixture: held-out likelihood within 0.03 nats of the truth.
    assert abs(metrics["test_log_likelihood"] - metrics["true_test_log_likelihood"]) < 0.03
    assert 0 <= metrics["kl_estimate"] < 0.01 + 3 * metrics["kl_standard_error"]
    assert metrics["n_parameters"] == 5 and metrics["converged"] is True
    assert all(b >= a - 1e-12 for a, b in zip(metrics["em_log_likelihood"], metrics["em_log_likelihood"][1:]))
    for png in ("density.png", "samples.png", "em.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    state = torch.load(run_dir / "checkpoint.pt", weights_only=True)
    assert state["config"]["model"]["n_components"] == 2 and state["model_class"] == "GMM"


def test_a_sweep_writes_one_folder_per_job_under_outputs(tmp_path):
    result = run_cli("-m", "model=kde,gmm", "data=mixture1d,moons", f"output_root={tmp_path}/outputs", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
    assert jobs == ["0_data=mixture1d,model=kde", "1_data=moons,model=kde", "2_data=mixture1d,model=gmm", "3_data=moons,model=gmm"]
    for job in jobs:
        metrics = json.loads((sweep / job / "metrics.json").read_text())
        assert metrics["model"] == job.split("model=")[1] and metrics["data"] == job.split("data=")[1].split(",")[0]


@pytest.mark.parametrize(
    "override,message",
    [
        ("model.bandwidth=-1", "genlab: error: model.bandwidth must be a positive number or one of scott, silverman, cv (got -1)"),
        ("model.kernel=box", "genlab: error: model.kernel must be one of gaussian, epanechnikov, tophat, exponential, linear (got 'box')"),
    ],
)
def test_bad_values_get_one_line_exit_2_and_leave_no_folder(tmp_path, override, message):
    result = run_cli(override, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [message]
    assert list((tmp_path / "outputs" / "runs").iterdir()) == []


def test_unknown_model_lists_the_choices(tmp_path):
    result = run_cli("model=nope", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"genlab: error: model=nope: no such option; model is one of {group_options('model')}"]


def test_plain_pip_install_works_from_any_folder(tmp_path):
    """The wheel carries conf/ as genlab.conf: a non-editable install runs outside the repository."""
    repo = Path(__file__).resolve().parents[1]
    source = tmp_path / "source"  # a copy, so the build leaves nothing in the repository
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(repo / name, source / name) if source.exists() else (source.mkdir(), shutil.copy(repo / name, source / name))
    for name in ("genlab", "conf"):
        shutil.copytree(repo / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    target = tmp_path / "site"
    install = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(source)]
    assert subprocess.run(install, capture_output=True, cwd=tmp_path).returncode == 0
    assert (target / "genlab" / "conf" / "config.yaml").exists() and (target / "genlab" / "conf" / "model" / "kde.yaml").exists()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PYTHONPATH": str(target)}
    where = subprocess.run([sys.executable, "-c", "import genlab; print(genlab.__file__)"], cwd=elsewhere, capture_output=True, text=True, env={**os.environ, **env})
    assert where.stdout.startswith(str(target))
    result = run_cli("model=kde", "data=uniform1d", "data.n_train=200", "data.n_test=200", cwd=elsewhere, env=env)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (elsewhere / "outputs" / "runs").iterdir()
    assert (run_dir / "metrics.json").exists()

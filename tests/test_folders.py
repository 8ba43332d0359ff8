"""Every run and sweep in a folder of its own; no folder genlab did not create is removed;
output folders and keys that cannot work are refused before anything is written."""

import os
import subprocess

import pytest
from omegaconf import OmegaConf

from genlab.folders import created_here, new_folder
from helpers import GENLAB, run_cli

KDE = ["model=kde", "data=mixture1d", "data.n_train=200", "data.n_test=200", "n_fresh=200", "n_eval=200"]
PINNED = "hydra.run.dir='${genlab.new_folder:${output_root}/runs/same_second}'"  # the name two runs in one second get


def test_a_taken_name_gets_the_next_free_suffix(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run-2").mkdir()
    made = new_folder(str(tmp_path / "run"))
    assert made == str(tmp_path / "run-3") and created_here(tmp_path / "run-3") and not created_here(tmp_path / "run")
    assert new_folder(str(tmp_path / "run")) == made  # Hydra resolves a sweep's folder once per job: the same one


def test_two_runs_with_the_same_name_get_two_folders_whose_records_agree(tmp_path):
    for seed in (1, 2):
        result = run_cli(*KDE, f"seed={seed}", PINNED, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    runs = tmp_path / "outputs" / "runs"
    assert sorted(p.name for p in runs.iterdir()) == ["same_second", "same_second-2"]
    for name, seed in (("same_second", 1), ("same_second-2", 2)):
        assert OmegaConf.load(runs / name / "config.yaml").seed == seed
        assert f"seed={seed}" in OmegaConf.load(runs / name / ".hydra" / "overrides.yaml")


def test_runs_started_together_never_share_a_folder(tmp_path):
    processes = [subprocess.Popen([*GENLAB, *KDE, f"seed={seed}"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
                 for seed in (1, 2, 3)]
    assert [p.wait(timeout=300) for p in processes] == [0, 0, 0]
    folders = list((tmp_path / "outputs" / "runs").iterdir())
    assert len(folders) == 3
    assert sorted(OmegaConf.load(f / "config.yaml").seed for f in folders) == [1, 2, 3]


def test_two_sweeps_with_the_same_name_get_two_folders(tmp_path):
    pinned = "hydra.sweep.dir='${genlab.new_folder:${output_root}/multirun/same_second}'"
    for _ in range(2):
        result = run_cli("-m", *KDE, "model.bandwidth=0.3,0.5", pinned, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
    sweeps = tmp_path / "outputs" / "multirun"
    assert sorted(p.name for p in sweeps.iterdir()) == ["same_second", "same_second-2"]
    for sweep in sweeps.iterdir():  # each sweep's jobs all in its own folder
        jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir())
        assert len(jobs) == 2 and jobs[0].startswith("0_") and "model.bandwidth=0.5" in jobs[1]
        assert all((sweep / job / "metrics.json").is_file() for job in jobs)


@pytest.mark.parametrize("folder", ["mine", "."])
def test_a_refused_run_never_removes_a_folder_the_user_named(tmp_path, folder):
    target = tmp_path / folder
    (target / ".hydra").mkdir(parents=True)
    (target / "notes.log").write_text("the user's own log")
    result = run_cli(*KDE, "model.bandwidth=-1", f"hydra.run.dir={folder}", cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "genlab: error: model.bandwidth must be a positive number or one of scott, silverman, cv (got -1)"]
    assert (target / "notes.log").read_text() == "the user's own log" and (target / ".hydra").is_dir()


def test_a_refused_run_removes_the_folder_genlab_made_for_it(tmp_path):
    result = run_cli(*KDE, "model.bandwidth=-1", cwd=tmp_path)
    assert result.returncode == 2
    assert list((tmp_path / "outputs" / "runs").iterdir()) == []


@pytest.mark.parametrize("override,message", [
    ("output_root=", "genlab: error: output_root must name a folder (got ''); the default is outputs"),
    ("output_root=afile", "genlab: error: output_root=afile: afile is a file, not a folder"),
    ("output_root=afile/below", "genlab: error: output_root=afile/below: afile is a file, not a folder"),
    ("hydra.run.dir=afile", "genlab: error: hydra.run.dir=afile: afile is a file, not a folder"),
])
def test_an_output_folder_that_cannot_be_used_is_refused_before_anything_is_written(tmp_path, override, message):
    (tmp_path / "afile").write_text("not a folder")
    result = run_cli(*KDE, override, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [message]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["afile"]


@pytest.fixture
def read_only_folder(tmp_path):
    """A read-only tmpfs where the machine lets us mount one (root on Linux); permission
    bits alone stop no one running as root."""
    folder = tmp_path / "read_only"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True).returncode != 0:
        folder.chmod(0o555)
        if os.access(folder, os.W_OK):
            pytest.skip("no read-only folder can be made here (root without mount)")
        yield folder
        folder.chmod(0o755)
        return
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


@pytest.mark.parametrize("key", ["output_root", "hydra.run.dir", "hydra.sweep.dir"])
def test_a_read_only_output_folder_is_one_line(tmp_path, read_only_folder, key):
    target = read_only_folder / "runs" if key == "output_root" else read_only_folder
    result = run_cli(*(["-m"] if key == "hydra.sweep.dir" else []), *KDE, f"{key}={target}", cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"genlab: error: {key}={target}: cannot write in {read_only_folder} (")


@pytest.mark.parametrize("override,message", [
    ("+model.foo=1", "genlab: error: model.foo: no such key; model has kernel, bandwidth, cv_grid, cv_folds (genlab's keys are set without +)"),
    ("+n_evl=100", "genlab: error: n_evl: no such key; the config has model, data, device, trainer, logger, sampler, seed, output_root, n_fresh, n_eval,"),
    ("++foo=1", "genlab: error: foo: no such key; the config has model,"),
    ("+seed=3", "genlab: error: Could not append to config. An item is already at 'seed'."),
])
def test_an_undeclared_key_is_refused_with_or_without_plus(tmp_path, override, message):
    result = run_cli(*KDE, override, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(message)
    assert not (tmp_path / "outputs").exists()

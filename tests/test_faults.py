"""Signals at every moment of a run, a full disk, a stopped sweep: one line, the right
status, no temporary files, nothing already written lost (faults injected by tests/inject.py)."""

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from genlab.engine.checkpoint import load_checkpoint
from helpers import run_cli

INJECT = [sys.executable, str(Path(__file__).with_name("inject.py"))]
KDE = ["model=kde", "data=mixture1d", "data.n_train=200", "data.n_test=200", "n_fresh=200", "n_eval=200"]
WGAN = ["model=wgan", "data=8gaussians", "model.hidden=16", "model.depth=2", "model.batch_size=32", "trainer.log_every=10",
        "n_eval=200", "n_fresh=200", "data.n_train=300", "data.n_test=300"]


def injected(tmp_path, target, fault, *args, call=1):
    return subprocess.run([*INJECT, target, fault, str(call), "--", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)


def temporary_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


MOMENTS = {
    "start-up": ("genlab.command_line:composition_error", KDE),
    "data": ("genlab.data.base:Dataset.sample", KDE),
    "before the loop": ("genlab.run.train:PointReport", [*WGAN, "trainer.max_steps=20"]),
    "evaluation": ("genlab.evaluation.points:PointReport.finish", [*WGAN, "trainer.max_steps=20"]),
    "figures": ("genlab.evaluation.points:plot_density", KDE),
    "checkpoint write": ("torch:save", KDE),
    "metrics.json": ("genlab.run.fit:write_json", KDE),
    "training checkpoint write": ("torch:save", [*WGAN, "trainer.max_steps=40", "trainer.checkpoint_every=20"]),
}
CASES = [("SIGTERM", 143, moment) for moment in MOMENTS] + [("SIGINT", 130, moment) for moment in ("start-up", "figures", "checkpoint write")]


@pytest.mark.parametrize("signal_name,status,moment", CASES)
def test_a_signal_at_any_moment_ends_in_one_line_and_leaves_no_temporary_file(tmp_path, signal_name, status, moment):
    target, args = MOMENTS[moment]
    result = injected(tmp_path, target, signal_name, *args)
    assert result.returncode == status, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"genlab: stopped by {signal_name}")
    assert temporary_files(tmp_path) == []
    if moment == "evaluation":  # the loop's last checkpoint is on disk: the message says how to finish the run
        (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
        assert f"finish it with the same command and ckpt_path={run_dir / 'checkpoint.pt'}" in line
        finished = run_cli(*WGAN, "trainer.max_steps=20", f"ckpt_path={run_dir}", cwd=tmp_path)
        assert finished.returncode == 0, finished.stderr
    if moment == "metrics.json":  # a kde's checkpoint holds no training to continue: it is fitted again
        assert line.endswith("before anything was written to continue from; run the command again")
    if moment == "training checkpoint write":  # the step-20 checkpoint was written; the step-40 write was stopped
        (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
        assert load_checkpoint(run_dir / "checkpoint.pt")["step"] == 20


def test_a_full_disk_mid_run_ends_in_one_line_and_keeps_what_was_written(tmp_path):
    """Simulated: the second checkpoint write of a training run fails as a full disk does."""
    result = injected(tmp_path, "torch:save", "ENOSPC", *WGAN, "trainer.max_steps=40", "trainer.checkpoint_every=20", call=2)
    assert result.returncode == 1
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert result.stderr.strip().splitlines() == [
        f"genlab: error: {run_dir}: No space left on device (writing injected); the files written before are intact"]
    assert load_checkpoint(run_dir / "checkpoint.pt")["step"] == 20 and temporary_files(tmp_path) == []


@pytest.fixture
def small_disk(tmp_path):
    """A 256 KiB tmpfs, where the machine lets us mount one (root on Linux)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("no tmpfs can be mounted here; the simulated full disk above still runs")
    yield folder
    subprocess.run(["umount", str(folder)], check=True)


def test_a_really_full_disk_ends_in_one_line_and_every_file_on_it_is_whole(tmp_path, small_disk):
    """A KDE of 20,000 points writes a checkpoint of about 160 KB after its figures: it does not fit."""
    result = run_cli("model=kde", "data=moons", "data.n_train=20000", "data.n_test=500", "n_fresh=500", "n_eval=500",
                     f"output_root={small_disk}", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.strip().splitlines()
    (run_dir,) = (small_disk / "runs").iterdir()
    assert line == f"genlab: error: {run_dir}: No space left on device; the files written before are intact"
    assert temporary_files(small_disk) == [] and not (run_dir / "metrics.json").exists()
    for png in run_dir.glob("*.png"):  # each figure written before the disk filled is a whole PNG
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.read_bytes()[-8:] == b"IEND\xaeB`\x82"


def test_a_stopped_sweep_prints_a_command_per_unfinished_job_and_they_finish_it(tmp_path):
    sweep = ["-m", *WGAN, "trainer.max_steps=60", "trainer.checkpoint_every=20", "trainer.eval_every=60", "seed=0,1,2"]
    # SIGTERM during the 90th training step of the sweep: job 1 (seed=1) at step 30, job 0 done, job 2 not started.
    result = injected(tmp_path, "genlab.models.wgan:WGAN.train_step", "SIGTERM", *sweep, call=90)
    assert result.returncode == 143, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[0] == "genlab: sweep stopped by SIGTERM; 2 unfinished jobs, each finished by:"
    (folder,) = (tmp_path / "outputs" / "multirun").iterdir()
    job1 = next(folder.glob("1_*"))
    assert load_checkpoint(job1 / "checkpoint.pt")["step"] == 30
    assert lines[1].startswith("genlab ") and "seed=1" in lines[1] and lines[1].endswith(shlex.quote(f"ckpt_path='{job1 / 'checkpoint.pt'}'"))
    assert lines[2].startswith("genlab ") and "seed=2" in lines[2] and "ckpt_path" not in lines[2]
    assert len(lines) == 3
    for command in lines[1:]:
        finished = run_cli(*shlex.split(command)[1:], cwd=tmp_path)
        assert finished.returncode == 0, finished.stderr
    runs = {json.loads((p / "metrics.json").read_text())["resumed_from"]: p for p in (tmp_path / "outputs" / "runs").iterdir()}
    assert set(runs) == {str(job1 / "checkpoint.pt"), None}
    assert all(json.loads((p / "metrics.json").read_text())["steps"] == 60 for p in runs.values())


def test_genlab_report_marks_a_job_whose_metrics_cannot_be_read(tmp_path):
    result = run_cli("-m", *KDE, "model.bandwidth=0.3,0.5", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (folder,) = (tmp_path / "outputs" / "multirun").iterdir()
    broken = next(folder.glob("1_*"))
    (broken / "metrics.json").write_text('{"test_log_likelihood": -1.2')  # cut short
    assert json.loads((broken / "status.json").read_text())["status"] == "completed"
    report = subprocess.run([sys.executable, "-m", "genlab.sweeps.report", str(folder)], capture_output=True, text=True, env=os.environ)
    assert report.returncode == 0, report.stderr
    job_line = next(line for line in report.stdout.splitlines() if line.strip().startswith("1 "))
    assert "unreadable" in job_line and "metrics.json is unreadable" in job_line and "completed" not in job_line

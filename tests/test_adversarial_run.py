"""GAN and WGAN runs as users start them: every file written, SIGTERM and resume, bad input."""

import json
import signal
import subprocess
import time

import pytest
import torch

import genlab
from genlab.engine.checkpoint import load_checkpoint
from genlab.errors import ConfigError
from genlab.train import run
from helpers import GENLAB, compose_config, run_cli

QUICK = ["model.hidden=32", "model.depth=2", "model.batch_size=64", "trainer.log_every=10"]
RUN_FILES = {".hydra", "train.log", "config.yaml", "checkpoint.pt", "metrics.json", "metrics.jsonl",
             "density.png", "samples.png", "critic.png", "training.png", "snapshots.png", "training.gif"}


def test_a_short_wgan_run_on_moons_writes_every_file(tmp_path):
    result = run_cli("model=wgan", "data=moons", "trainer.max_steps=60", "trainer.eval_every=30", *QUICK, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (run_dir,) = (tmp_path / "outputs" / "runs").iterdir()
    assert {p.name for p in run_dir.iterdir()} == RUN_FILES
    for png in ("density.png", "samples.png", "critic.png", "training.png", "snapshots.png"):
        assert (run_dir / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["model"] == "wgan" and metrics["steps"] == 60 and metrics["stopped"] == "max_steps" and metrics["bit_reproducible"]
    assert set(metrics["samples"]) == {"n", "model", "raw_generator", "real_data", "memorizer", "blurred", "noise"}
    real = metrics["samples"]["real_data"]
    # A fresh real sample is the reference: far closer to the test set than 60 steps of training.
    assert real["sliced_wasserstein"] < metrics["samples"]["model"]["sliced_wasserstein"]
    evals = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    final = metrics["samples"]["model"]  # the last evaluation's numbers, and the final evaluation's own metrics on the same samples
    assert [e["step"] for e in evals] == [30, 60] and evals[-1]["model"] == {k: v for k, v in final.items() if k in evals[-1]["model"]}
    assert set(final) - set(evals[-1]["model"]) == {"precision_recall", "density_coverage", "kid", "c2st", "memorization"}
    assert load_checkpoint(run_dir / "checkpoint.pt")["step"] == 60
    assert "sample quality on 2500 samples" in result.stdout + result.stderr
    model, config = genlab.load_run(run_dir)  # a trained generator back, without training
    assert model.steps_trained_ == 60 and model.sample(5).shape == (5, 2) and config.model.hidden == 32


def test_a_time_budgeted_run_says_it_is_not_bit_reproducible(tmp_path):
    cfg = compose_config("model=wgan", "data=moons", "trainer.max_steps=100000000", "trainer.max_seconds=1", "trainer.eval_every=100000000",
                         "trainer.lr_schedule=cosine", *QUICK, f"output_root={tmp_path}")
    metrics = run(cfg, tmp_path / "run")
    assert metrics["stopped"].startswith("max_seconds (1 s) at step") and metrics["bit_reproducible"] is False
    assert json.loads((tmp_path / "run" / "metrics.json").read_text())["bit_reproducible"] is False


def test_sigterm_writes_a_checkpoint_that_resumes(tmp_path):
    endless = ["model=wgan", "data=8gaussians", "trainer.max_steps=1000000", "trainer.eval_every=1000000",
               "trainer.checkpoint_every=1000000", *QUICK]
    process = subprocess.Popen([*GENLAB, *endless], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    runs = tmp_path / "outputs" / "runs"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any("fitting WGAN" in p.read_text() for p in runs.glob("*/train.log")):
        time.sleep(0.2)
    time.sleep(3)  # some training steps
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "genlab: stopped by SIGTERM after step" in err and "resume=true" in err
    (run_dir,) = runs.iterdir()
    step = load_checkpoint(run_dir / "checkpoint.pt")["step"]
    assert step > 0 and f"after step {step};" in err

    result = run_cli("model=wgan", "data=8gaussians", "resume=true", f"trainer.max_steps={step + 20}", *QUICK, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    resumed = next(p for p in runs.iterdir() if p != run_dir)
    metrics = json.loads((resumed / "metrics.json").read_text())
    assert metrics["steps"] == step + 20 and metrics["resumed_from"] == str(run_dir / "checkpoint.pt")
    assert load_checkpoint(run_dir / "checkpoint.pt")["step"] == step  # the old run is left as it was


@pytest.fixture(scope="module")
def wgan_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wgan")
    run(compose_config("model=wgan", "data=moons", "trainer.max_steps=20", *QUICK, f"output_root={folder}"), folder / "runs" / "first")
    return folder


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["model=gan", "model.loss=hinge"], "model.loss must be one of non_saturating, minimax (got 'hinge')"),
        (["model=wgan", "model.lipschitz=none"], "model.lipschitz must be one of gp, clip, sn (got 'none')"),
        (["model=gan", "model.d_steps=0"], "model.d_steps must be a positive integer (got 0)"),
        (["model=wgan", "model.lr=-0.001"], "model.lr must be a positive number (got -0.001)"),
        (["model=wgan", "trainer.max_steps=0"], "trainer.max_steps must be a positive integer (got 0)"),
        (["model=wgan", "data=circles", "resume=true"], "resume=true: no checkpoint of a WGAN on Circles under"),
        (["model=gan", "ckpt_path={root}/runs/first"], "ckpt_path: {root}/runs/first/checkpoint.pt holds a WGAN run, this run trains a GAN"),
        (["model=wgan", "model.hidden=64", "ckpt_path={root}/runs/first"], "model.hidden: the checkpoint was trained with 32, this run asks for 64"),
        (["model=wgan", "data.noise=0.2", "resume=true"], "data.noise: the checkpoint was trained with 0.1, this run asks for 0.2"),
        (["model=wgan", "ckpt_path={root}/nowhere"], "ckpt_path: no checkpoint at {root}/nowhere"),
        (["model=kde", "resume=true"], "resume and ckpt_path continue the training of gan, wgan and vae; KDE fits in one call"),
    ],
)
def test_bad_input_names_the_key_and_overwrites_nothing(wgan_run, tmp_path, overrides, message):
    before = (wgan_run / "runs" / "first" / "checkpoint.pt").read_bytes()
    overrides = [o.format(root=wgan_run) for o in overrides]
    base = [o for o in QUICK if not (o.startswith("model.hidden") and any(x.startswith("model.hidden") for x in overrides))]
    cfg = compose_config(*overrides, *(base if "model=kde" not in overrides else []), f"output_root={wgan_run}")
    with pytest.raises(ConfigError, match=message.format(root=wgan_run).replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        run(cfg, tmp_path / "refused")
    assert (wgan_run / "runs" / "first" / "checkpoint.pt").read_bytes() == before


def test_a_gan_on_1d_data_and_its_numbers(tmp_path):
    metrics = run(compose_config("model=gan", "data=mixture1d", "trainer.max_steps=300", "trainer.eval_every=300", *QUICK), tmp_path)
    samples = metrics["samples"]
    assert "wasserstein_1d" in samples["model"] and "sliced_wasserstein" not in samples["model"]
    # 300 steps learn the rough shape: within 0.5 of the data in W1 (the data's spread is about 2).
    assert samples["real_data"]["wasserstein_1d"] < samples["model"]["wasserstein_1d"] < 0.5
    assert samples["model"]["true_log_density"]["mean"] > -5
    for png in ("density.png", "critic.png", "training.png", "snapshots.png"):
        assert (tmp_path / png).exists()
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["model_class"] == "GAN"

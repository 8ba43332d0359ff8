"""A checkpoint decides no code, a damaged one is refused by every path, resume never falls back."""

import json
import pickle
import struct
import zipfile
from pathlib import Path

import pytest
import torch
import yaml

import genlab
from genlab.engine.checkpoint import load_checkpoint, save_checkpoint
from genlab.errors import CheckpointError, ConfigError
from genlab.models import GAN, KDE, WGAN
from genlab.train import run
from helpers import compose_config, run_cli

QUICK = ["model=wgan", "data=moons", "model.hidden=16", "model.depth=2", "model.batch_size=32", "trainer.log_every=10",
         "trainer.eval_every=1000", "n_eval=200", "n_fresh=200", "data.n_train=300", "data.n_test=300"]


class Payload:
    """What a hostile pickle runs when it is unpickled: it leaves a marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def hostile_checkpoint(tmp_path, model_config):
    """A file that passes torch.load(weights_only=True) and carries a config of its own."""
    model = KDE(bandwidth=0.5).fit(torch.randn(20, 2))
    save_checkpoint(tmp_path / "run" / "checkpoint.pt", model=model, config={"model": model_config}, step=1)
    return tmp_path / "run"


def test_a_hostile_target_in_a_checkpoint_runs_nothing(tmp_path):
    marker, evil = tmp_path / "pwned", tmp_path / "evil.pkl"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    folder = hostile_checkpoint(tmp_path, {"_target_": "torch.load", "f": str(evil), "weights_only": False})
    assert torch.load(folder / "checkpoint.pt", weights_only=True)["config"]["model"]["_target_"] == "torch.load"
    with pytest.raises(CheckpointError, match=r"model\._target_ 'torch\.load' is not one of genlab's models \(.*genlab\.models\.GAN, "):
        genlab.load_run(folder)
    assert not marker.exists()
    pickle.loads(evil.read_bytes())  # the payload is real: unpickled, it does leave the marker
    assert marker.exists()


@pytest.mark.parametrize("model_config,message", [
    ({"_target_": "genlab.models.KDE", "bandwidth": {"_target_": "os.system", "command": "touch pwned"}}, r"holds model\.bandwidth\._target_"),
    ({"_target_": "genlab.models.KDE", "_partial_": True}, r"holds model\._partial_"),
    ({"_target_": "genlab.models.KDE", "kernel": "gaussian", "cv_grid": [{"_args_": ["x"]}]}, r"holds model\.cv_grid\[0\]\._args_"),
    ({"_target_": "genlab.run.load.KDE"}, r"not one of genlab's models"),
    ({"_target_": "genlab.models.KDE", "shell": "rm -rf /"}, r"do not fit KDE"),
    ({"_target_": "genlab.models.KDE", "bandwidth": -1}, r"model\.bandwidth must be a positive number"),
])
def test_nested_targets_and_foreign_settings_are_refused_in_one_line(tmp_path, model_config, message):
    folder = hostile_checkpoint(tmp_path, model_config)
    with pytest.raises(CheckpointError, match=message) as refused:
        genlab.load_run(folder)
    assert "\n" not in str(refused.value) and str(folder / "checkpoint.pt") in str(refused.value)
    assert not (tmp_path / "pwned").exists()


def test_the_caller_may_name_the_class_and_the_file_may_not_lie_about_it(tmp_path):
    folder = hostile_checkpoint(tmp_path, {"_target_": "evil.Thing", "bandwidth": 0.5})
    model, config = genlab.load_run(folder, model_class=KDE)
    x = torch.randn(5, 2)
    assert torch.equal(model.log_prob(x), KDE(bandwidth=0.5).load_state_dict(model.state_dict()).log_prob(x))
    with pytest.raises(ConfigError, match="model_class must be a genlab model class"):
        genlab.load_run(folder, model_class=dict)
    gan = GAN(hidden=8, depth=1).fit(torch.randn(64, 2), max_steps=2)
    save_checkpoint(tmp_path / "mixed" / "checkpoint.pt", model=gan, config={"model": {"_target_": "genlab.models.WGAN"}}, step=2)
    with pytest.raises(CheckpointError, match="it says it holds a 'GAN', its config a WGAN"):
        genlab.load_run(tmp_path / "mixed")


def test_every_model_class_is_found_without_a_table():
    from genlab.models.registry import model_classes

    found = model_classes()
    # Exactly the classes conf/model/*.yaml name: the bases (GenerativeModel, TrainedModel, ...) are not models.
    named = {yaml.safe_load(p.read_text())["_target_"].rsplit(".", 1)[1] for p in (Path(__file__).resolve().parents[1] / "conf" / "model").glob("*.yaml")}
    assert set(found) == named and {"KDE", "GMM", "GAN", "WGAN", "VAE"} <= named
    assert found["WGAN"] is WGAN


def damaged_copies(tmp_path, checkpoint):
    """The same checkpoint truncated, emptied, and with one byte of a tensor flipped."""
    data = checkpoint.read_bytes()
    with zipfile.ZipFile(checkpoint) as archive:
        entry = max((i for i in archive.infolist() if "/data/" in i.filename), key=lambda info: info.file_size)  # the largest tensor
    name_length, extra_length = struct.unpack("<HH", data[entry.header_offset + 26: entry.header_offset + 30])
    offset = entry.header_offset + 30 + name_length + extra_length + entry.file_size // 2  # inside the tensor's bytes
    flipped = bytearray(data)
    flipped[offset] ^= 0x40
    copies = {"truncated": data[: len(data) // 2], "empty": b"", "bit flip": bytes(flipped)}
    paths = {}
    for name, content in copies.items():
        paths[name] = tmp_path / name.replace(" ", "_") / "checkpoint.pt"
        paths[name].parent.mkdir()
        paths[name].write_bytes(content)
    return paths


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A finished 20-step WGAN run under <root>/runs/first."""
    root = tmp_path_factory.mktemp("trained")
    run(compose_config(*QUICK, "trainer.max_steps=20", f"output_root={root}"), root / "runs" / "first")
    return root


def test_a_bit_flip_would_load_silently_without_the_crc_check(tmp_path, trained):
    flipped = damaged_copies(tmp_path, trained / "runs" / "first" / "checkpoint.pt")["bit flip"]
    good = torch.load(trained / "runs" / "first" / "checkpoint.pt", weights_only=True)
    bad = torch.load(flipped, weights_only=True)  # torch itself reads it without a word
    assert any(not torch.equal(a, b) for a, b in zip(_tensors(good), _tensors(bad)))
    with pytest.raises(CheckpointError, match=r"is damaged: its entry .* fails its CRC-32 check"):
        load_checkpoint(flipped)


def _tensors(state):
    if isinstance(state, torch.Tensor):
        yield state
    elif isinstance(state, (dict, list, tuple)):
        for value in state.values() if isinstance(state, dict) else state:
            yield from _tensors(value)


@pytest.mark.parametrize("damage", ["truncated", "empty", "bit flip"])
def test_a_damaged_checkpoint_is_refused_by_every_path_that_loads_one(tmp_path, trained, damage):
    path = damaged_copies(tmp_path, trained / "runs" / "first" / "checkpoint.pt")[damage]
    with pytest.raises(CheckpointError, match="damaged") as refused:
        genlab.load_run(path.parent)
    assert str(path) in str(refused.value) and "\n" not in str(refused.value)
    with pytest.raises(ConfigError, match=f"ckpt_path: {path} is damaged"):
        run(compose_config(*QUICK, "trainer.max_steps=40", f"ckpt_path={path}", f"output_root={trained}"), tmp_path / "continued")
    assert not (tmp_path / "continued").exists()


def test_resume_stops_at_a_damaged_newest_checkpoint_and_names_the_older_one(tmp_path):
    first = run_cli(*QUICK, "trainer.max_steps=20", f"output_root={tmp_path}", cwd=tmp_path)
    second = run_cli(*QUICK, "trainer.max_steps=40", f"output_root={tmp_path}", cwd=tmp_path)
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    older, newer = sorted((tmp_path / "runs").iterdir(), key=lambda p: (p / "config.yaml").stat().st_mtime_ns)
    assert load_checkpoint(newer / "checkpoint.pt")["step"] == 40
    data = (newer / "checkpoint.pt").read_bytes()
    (newer / "checkpoint.pt").write_bytes(data[: len(data) - 100])  # truncated
    refused = run_cli(*QUICK, "trainer.max_steps=60", "resume=true", f"output_root={tmp_path}", cwd=tmp_path)
    assert refused.returncode == 2
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("genlab: error: resume=true: the newest WGAN run on Moons has an unreadable checkpoint: ")
    assert f"{newer / 'checkpoint.pt'} is damaged" in line and f"continue an older run with ckpt_path={older / 'checkpoint.pt'}" in line
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == sorted([older.name, newer.name])  # nothing left behind
    (newer / "checkpoint.pt").write_bytes(b"")
    refused = run_cli(*QUICK, "resume=true", f"output_root={tmp_path}", cwd=tmp_path)
    assert refused.returncode == 2 and "is damaged: it is empty (0 bytes)" in refused.stderr and "Traceback" not in refused.stderr
    explicit = run_cli(*QUICK, "trainer.max_steps=30", f"ckpt_path={older}", f"output_root={tmp_path}", cwd=tmp_path)
    assert explicit.returncode == 0, explicit.stderr


def test_resume_keeps_the_checkpoints_seed_and_refuses_another(tmp_path):
    root = f"output_root={tmp_path}"
    assert run_cli(*QUICK, "trainer.max_steps=20", "seed=3", root, cwd=tmp_path).returncode == 0
    refused = run_cli(*QUICK, "trainer.max_steps=40", "seed=5", "resume=true", root, cwd=tmp_path)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines() == [
        "genlab: error: seed: the checkpoint was trained with seed 3, this run asks for 5; a resumed run keeps its seed, so drop seed= from the command line"]
    resumed = run_cli(*QUICK, "trainer.max_steps=40", "resume=true", root, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    newest = max((tmp_path / "runs").iterdir(), key=lambda p: (p / "config.yaml").stat().st_mtime_ns)
    metrics = json.loads((newest / "metrics.json").read_text())
    assert metrics["steps"] == 40 and metrics["resumed_from"]
    from omegaconf import OmegaConf

    assert OmegaConf.load(newest / "config.yaml").seed == 3 == load_checkpoint(newest / "checkpoint.pt")["config"]["seed"]
    # Continuing with the checkpoint's seed is bit-identical to training 40 steps in one go with it.
    straight = run(compose_config(*QUICK, "trainer.max_steps=40", "seed=3"), tmp_path / "straight")
    assert straight["samples"]["model"] == metrics["samples"]["model"]


def test_resume_picks_the_newest_run_of_the_same_settings_by_its_config_yaml(tmp_path):
    root = f"output_root={tmp_path}"
    assert run_cli(*QUICK, "trainer.max_steps=20", root, cwd=tmp_path).returncode == 0
    assert run_cli(*QUICK, "trainer.max_steps=30", "model.hidden=24", root, cwd=tmp_path).returncode == 0
    hidden16 = next(p for p in (tmp_path / "runs").iterdir() if "hidden: 16" in (p / "config.yaml").read_text())
    resumed = run_cli(*QUICK, "trainer.max_steps=25", "resume=true", root, cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    newest = max((tmp_path / "runs").iterdir(), key=lambda p: (p / "config.yaml").stat().st_mtime_ns)
    metrics = json.loads((newest / "metrics.json").read_text())
    assert metrics["resumed_from"] == str((hidden16 / "checkpoint.pt").resolve()) and metrics["steps"] == 25

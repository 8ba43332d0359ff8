"""training.gif: one frame per evaluation of a trained run on 1D/2D points, the critic's
map under a GAN's samples, small, and off with trainer.animation=false."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from genlab.errors import ConfigError
from tests.helpers import run_on



def frames_of(path) -> list[np.ndarray]:
    with Image.open(path) as gif:
        frames = []
        for i in range(gif.n_frames):
            gif.seek(i)
            frames.append(np.asarray(gif.convert("RGB"), dtype=np.int16))
    return frames


def test_a_wgan_run_writes_one_frame_per_evaluation_with_its_critic_under_the_samples(tmp_path):
    metrics = run_on(tmp_path, "wgan", "model=wgan", "data=8gaussians", "trainer.max_steps=120", "trainer.eval_every=10", "n_eval=500")
    path = tmp_path / "outputs" / "runs" / "wgan" / "training.gif"
    frames = frames_of(path)
    assert len(frames) == 12 == metrics["animation"]["frames"]
    assert path.stat().st_size == metrics["animation"]["bytes"] < 5 * 2**20
    assert 0 < metrics["animation"]["seconds"] < metrics["wall_seconds"]
    # The critic's map fills the box (few white pixels) and changes as the critic trains.
    white = [(f.min(axis=2) > 245).mean() for f in frames]
    assert max(white) < 0.6
    assert np.abs(frames[0] - frames[-1]).mean() > 5


def test_a_vae_on_1d_points_gets_frames_without_a_map_and_animation_false_turns_it_off(tmp_path):
    metrics = run_on(tmp_path, "vae", "model=vae", "data=mixture1d", "trainer.max_steps=60", "trainer.eval_every=20", "n_eval=500")
    assert len(frames_of(tmp_path / "outputs" / "runs" / "vae" / "training.gif")) == 3 == metrics["animation"]["frames"]
    metrics = run_on(tmp_path, "off", "model=vae", "data=mixture1d", "trainer.max_steps=60", "trainer.eval_every=20",
                     "n_eval=500", "trainer.animation=false")
    assert "animation" not in metrics and not (tmp_path / "outputs" / "runs" / "off" / "training.gif").exists()
    run_on(tmp_path, "kde", "model=kde", "data=mixture1d")
    assert not (tmp_path / "outputs" / "runs" / "kde" / "training.gif").exists()  # fit in one call: no training to watch


def test_animation_must_be_a_boolean(tmp_path):
    with pytest.raises(ConfigError, match=r"trainer\.animation must be true or false \(got 'maybe'\)"):
        run_on(tmp_path, "bad", "model=wgan", "data=moons", "trainer.animation=maybe")

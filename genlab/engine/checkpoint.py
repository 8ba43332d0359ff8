"""Checkpoints as plain dicts, written atomically and read back without running code.

A checkpoint holds the model's fitted state, the resolved config, the step and the
RNG states. It is written with `genlab.io.atomic_write`, so a crash never leaves a
half-written checkpoint; it is read with `torch.load(weights_only=True)` after every
entry's CRC-32 is checked, so a checkpoint from a stranger cannot run code and a damaged
one is refused instead of loaded. Building a model from one is `genlab.run.load`'s.
"""

from __future__ import annotations

from pathlib import Path

from genlab.errors import CheckpointError, ConfigError
from genlab.io import atomic_write

FORMAT = "genlab-checkpoint-1"
CHECKPOINT_NAME = "checkpoint.pt"
RUN_CONFIG_NAME = "config.yaml"  # the resolved config of a run, beside its checkpoint


def write_run_config(run_dir: Path, config: dict) -> None:
    """The run's resolved config as config.yaml: what ran, and what resume=true matches on."""
    from omegaconf import OmegaConf

    text = OmegaConf.to_yaml(config)
    atomic_write(Path(run_dir) / RUN_CONFIG_NAME, lambda handle: handle.write(text.encode()))


def save_checkpoint(path: Path, *, model, config: dict, step: int, training: dict | None = None) -> None:
    """`training` holds what a resumed loop needs beyond the model: optimizers, RNG, history."""
    import torch

    state = {
        "format": FORMAT,
        "model_class": type(model).__name__,
        "model_state": model.state_dict(),
        "config": config,
        "step": int(step),
        "rng": {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []},
    }
    if training is not None:
        state["training"] = training
    atomic_write(path, lambda handle: torch.save(state, handle))


def load_checkpoint(path: Path, map_location="cpu") -> dict:
    """Read a genlab checkpoint; refuse, in one line naming the file, one that is damaged
    (empty, truncated, a byte changed: every entry's CRC-32 is checked before torch reads
    it) or that holds anything but tensors and plain values."""
    import pickle

    import torch

    path = Path(path)
    _check_intact(path)
    try:
        state = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise CheckpointError(f"refusing to load {path}: it holds objects other than tensors and plain values") from None
    except (RuntimeError, EOFError, ValueError, OSError):
        raise CheckpointError(f"{path} is damaged or not a checkpoint: torch cannot read it (truncated, or another kind of file)") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a genlab checkpoint (format {FORMAT})")
    return state


def can_continue(path: Path) -> bool:
    """Whether `path` is a readable checkpoint with training state, one a run continues (gan/wgan/vae)."""
    try:
        return Path(path).is_file() and "training" in load_checkpoint(path)
    except ConfigError:
        return False


def _check_intact(path: Path) -> None:
    """torch writes a checkpoint as a zip with a CRC-32 per entry, which torch.load never checks."""
    import zipfile
    import zlib

    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    if path.stat().st_size == 0:
        raise CheckpointError(f"{path} is damaged: it is empty (0 bytes)")
    if not zipfile.is_zipfile(path):
        return  # not torch's zip format: torch.load tells a legacy pickle from garbage
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise CheckpointError(f"{path} is damaged ({_first_line(error)})") from None
    if bad is not None:
        raise CheckpointError(f"{path} is damaged: its entry {bad} fails its CRC-32 check")


def _first_line(error: BaseException) -> str:
    return (str(error).strip().splitlines() or [type(error).__name__])[0]

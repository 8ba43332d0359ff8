"""Checkpoints as plain dicts, written atomically and read back without running code.

A checkpoint holds the model's fitted state, the resolved config, the step and the
RNG states. It is written to a temporary file in the same folder and renamed over
the target, so a crash never leaves a half-written checkpoint; it is read with
`torch.load(weights_only=True)`, so a checkpoint from a stranger cannot run code.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

FORMAT = "genlab-checkpoint-1"
CHECKPOINT_NAME = "checkpoint.pt"
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write) -> None:
    """Call write(file_object) on a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
    try:
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict) -> None:
    """Atomic JSON; non-finite numbers become the strings "inf", "-inf", "nan" (strict JSON has none)."""
    text = json.dumps(_finite_json(payload), indent=2, allow_nan=False) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode()))


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Atomic JSON lines, one record per line (rewritten whole: logs here are short)."""
    text = "".join(json.dumps(_finite_json(r), allow_nan=False) + "\n" for r in records)
    atomic_write(path, lambda handle: handle.write(text.encode()))


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
    import pickle

    import torch

    try:
        state = torch.load(Path(path), map_location=map_location, weights_only=True)
    except pickle.UnpicklingError:
        raise ValueError(f"refusing to load {path}: it holds objects other than tensors and plain values") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise ValueError(f"{path} is not a genlab checkpoint (format {FORMAT})")
    return state


def load_run(path, device: str = "cpu"):
    """Load a finished run (its folder or its checkpoint) as (fitted model, config).

    The model is rebuilt from the run's own config with `hydra.utils.instantiate`,
    then given the saved fitted state, so it samples and scores without refitting.
    """
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = load_checkpoint(path, map_location=device)
    config = OmegaConf.create(state["config"])
    model = instantiate(config.model)
    model.load_state_dict(state["model_state"])
    return model, config


def _finite_json(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value

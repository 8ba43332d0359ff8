"""Checkpoints as plain dicts, written atomically and read back without running code.

A checkpoint holds the model's fitted state, the resolved config, the step and the
RNG states. It is written to a temporary file in the same folder and renamed over
the target, so a crash never leaves a half-written checkpoint; it is read with
`torch.load(weights_only=True)` after every entry's CRC-32 is checked, and the model
is built only from genlab's own classes (`build_model`), so a checkpoint from a stranger
cannot run code and a damaged one is refused instead of loaded.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

from genlab.errors import CheckpointError, ConfigError

FORMAT = "genlab-checkpoint-1"
CHECKPOINT_NAME = "checkpoint.pt"
RUN_CONFIG_NAME = "config.yaml"  # the resolved config of a run, beside its checkpoint
_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write) -> None:
    """Call write(file_object) on a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:  # from here on, a signal or a full disk removes the temporary file
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
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


def build_model(config: dict, model_class: type | None = None, source: Path | str = "the checkpoint"):
    """The model a run's config describes, built without running anything the file names.

    The class is `model_class` when the caller names one, else the class among genlab's
    own models (genlab.models.registry) that `model._target_` names; its settings are
    passed as plain keyword arguments. Nothing from the file is handed to Hydra's
    `instantiate`: a `_target_` (or any other `_key_`) nested in the settings, or a class
    that is not genlab's, is refused in one line.
    """
    from genlab.models.base import GenerativeModel
    from genlab.models.registry import model_classes

    settings = dict(config.get("model") or {}) if isinstance(config, dict) else {}
    target = settings.pop("_target_", None)
    if model_class is None:
        classes = model_classes()
        name = target.rsplit(".", 1)[-1] if isinstance(target, str) else None
        cls = classes.get(name)
        if cls is None or target not in (f"genlab.models.{name}", f"{cls.__module__}.{name}"):
            raise CheckpointError(f"refusing {source}: its model._target_ {target!r} is not one of genlab's models "
                                  f"({', '.join(f'genlab.models.{n}' for n in sorted(classes))}); pass model_class= to choose one")
    elif isinstance(model_class, type) and issubclass(model_class, GenerativeModel):
        cls = model_class
    else:
        raise ConfigError(f"model_class must be a genlab model class (got {model_class!r})")
    if hidden := _special_keys(settings, "model"):
        raise CheckpointError(f"refusing {source}: its config holds {hidden[0]}, which genlab never builds from a file")
    try:
        return cls(**settings)
    except TypeError as error:
        raise CheckpointError(f"refusing {source}: its model settings do not fit {cls.__name__} ({error})") from None
    except ConfigError as error:
        raise CheckpointError(f"refusing {source}: model.{error}") from None


def _special_keys(value, where: str) -> list[str]:
    """Keys like `_target_`, `_partial_`, `_args_` anywhere inside `value`: Hydra would act on them."""
    if isinstance(value, dict):
        found = [f"{where}.{k}" for k in value if isinstance(k, str) and k.startswith("_") and k.endswith("_")]
        return found + [f for k, v in value.items() for f in _special_keys(v, f"{where}.{k}")]
    if isinstance(value, (list, tuple)):
        return [f for i, v in enumerate(value) for f in _special_keys(v, f"{where}[{i}]")]
    return []


def load_run(path, device: str = "cpu", model_class: type | None = None):
    """Load a finished run (its folder or its checkpoint) as (fitted model, config).

    The model is built by `build_model` from the run's config (a class among genlab's own
    models, or `model_class`), then given the saved fitted state, so it samples and scores
    without refitting. A checkpoint whose `model_class` disagrees with its config is refused.
    """
    from omegaconf import OmegaConf

    path = Path(path)
    if path.is_dir():
        path = path / CHECKPOINT_NAME
    if not path.exists():
        raise FileNotFoundError(f"no checkpoint at {path}")
    state = load_checkpoint(path, map_location=device)
    config = state.get("config") if isinstance(state.get("config"), dict) else {}
    model = build_model(config, model_class, source=path)
    if model_class is None and state.get("model_class") != type(model).__name__:
        raise CheckpointError(f"refusing {path}: it says it holds a {state.get('model_class')!r}, its config a {type(model).__name__}")
    model.load_state_dict(state["model_state"])
    return model, OmegaConf.create(config)


def _finite_json(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value

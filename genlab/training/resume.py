"""Finding and vetting the checkpoint a run continues from (`resume=true` or `ckpt_path=`).

A run continues only from a training checkpoint of the same model class with the same
`model` and `data` settings; the trainer's schedule (max_steps, eval_every, ...) may
change, which is how a finished run is trained for longer.
"""

from __future__ import annotations

from pathlib import Path

from genlab.checkpoint import CHECKPOINT_NAME, load_checkpoint
from genlab.errors import ConfigError


def find_checkpoint(config: dict, run_dir: Path) -> Path | None:
    """The checkpoint named by ckpt_path, or with resume=true the newest run under
    output_root/runs of the same model and data; None when neither is asked for."""
    if config.get("ckpt_path"):
        path = Path(config["ckpt_path"])
        path = path / CHECKPOINT_NAME if path.is_dir() else path
        if not path.is_file():
            raise ConfigError(f"ckpt_path: no checkpoint at {path}")
        return path
    if not config.get("resume"):
        return None
    targets = (config["model"]["_target_"], config["data"]["_target_"])
    runs = Path(config["output_root"]) / "runs"
    candidates = sorted(runs.glob(f"*/{CHECKPOINT_NAME}"), reverse=True) if runs.is_dir() else []
    for path in candidates:
        if path.parent.resolve() == Path(run_dir).resolve():
            continue
        try:
            saved = load_checkpoint(path)["config"]
        except (ValueError, OSError, RuntimeError):
            continue
        if (saved.get("model", {}).get("_target_"), saved.get("data", {}).get("_target_")) == targets:
            return path
    model, data = (t.rsplit(".", 1)[-1] for t in targets)
    raise ConfigError(f"resume=true: no checkpoint of a {model} on {data} under {runs}; pass ckpt_path=PATH or drop resume")


def load_compatible(path: Path, config: dict, model, device) -> dict:
    """Load `path` and refuse (one line) a checkpoint that this run cannot continue."""
    try:
        state = load_checkpoint(path, map_location=device)
    except (ValueError, OSError, RuntimeError) as error:
        raise ConfigError(f"ckpt_path: {error}") from None
    name = type(model).__name__
    if state.get("model_class") != name:
        raise ConfigError(f"ckpt_path: {path} holds a {state.get('model_class')} run, this run trains a {name}")
    if "training" not in state:
        raise ConfigError(f"ckpt_path: {path} holds no training state to continue")
    for section in ("model", "data"):
        saved, wanted = state["config"].get(section, {}), config[section]
        for key in sorted(set(saved) | set(wanted)):
            if saved.get(key) != wanted.get(key):
                raise ConfigError(
                    f"{section}.{key}: the checkpoint was trained with {saved.get(key)!r}, this run asks for "
                    f"{wanted.get(key)!r}; resume with the checkpoint's model and data settings"
                )
    return state

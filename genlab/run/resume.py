"""Finding and vetting the checkpoint a run continues from (`resume=true` or `ckpt_path=`).

A run continues only from a training checkpoint of the same model class with the same
`model` and `data` settings and the same `seed`; the trainer's schedule (max_steps,
eval_every, ...) may change, which is how a finished run is trained for longer.

`resume=true` reads each run folder's own record of what it ran, `config.yaml` (written
before training starts), never the checkpoint's embedded copy: it takes the newest run
under output_root/runs with a checkpoint and the same model and data settings. If that
checkpoint is damaged it stops and names it, with the `ckpt_path=` that continues the
next older one: it never falls back to an older run by itself.
"""

from __future__ import annotations

from pathlib import Path

from genlab.engine.checkpoint import CHECKPOINT_NAME, RUN_CONFIG_NAME, load_checkpoint
from genlab.errors import CheckpointError, ConfigError


def find_checkpoint(config: dict, run_dir: Path) -> Path | None:
    """The checkpoint named by ckpt_path, or with resume=true the newest run under
    output_root/runs of the same model and data settings; None when neither is asked for."""
    if config.get("ckpt_path"):
        path = Path(config["ckpt_path"])
        path = path / CHECKPOINT_NAME if path.is_dir() else path
        if not path.is_file():
            raise ConfigError(f"ckpt_path: no checkpoint at {path}")
        return path
    if not config.get("resume"):
        return None
    runs = Path(config["output_root"]) / "runs"
    same_kind = [(folder, saved) for folder, saved in _saved_runs(runs, Path(run_dir))
                 if all(_section(saved, s).get("_target_") == config[s]["_target_"] for s in ("model", "data"))]
    matching = [folder for folder, saved in same_kind if _first_difference(saved, config) is None]
    model, data = (config[s]["_target_"].rsplit(".", 1)[-1] for s in ("model", "data"))
    if not matching:
        if same_kind:
            folder, saved = same_kind[0]
            raise ConfigError(f"resume=true: the newest {model} run on {data} ({folder}) differs in {_first_difference(saved, config)}")
        raise ConfigError(f"resume=true: no checkpoint of a {model} on {data} under {runs}; pass ckpt_path=PATH or drop resume")
    newest = matching[0] / CHECKPOINT_NAME
    try:
        load_checkpoint(newest)
    except CheckpointError as error:
        older = f"continue an older run with ckpt_path={matching[1] / CHECKPOINT_NAME}" if len(matching) > 1 else "no older run of these settings has one"
        raise ConfigError(f"resume=true: the newest {model} run on {data} has an unreadable checkpoint: {error}; {older}, or drop resume") from None
    return newest


def _saved_runs(runs: Path, this_run: Path) -> list[tuple[Path, dict]]:
    """(folder, its config.yaml) of every other run folder with a checkpoint, newest first."""
    from omegaconf import OmegaConf

    found = []
    for path in runs.glob(f"*/{RUN_CONFIG_NAME}") if runs.is_dir() else []:
        folder = path.parent
        if folder.resolve() == this_run.resolve() or not (folder / CHECKPOINT_NAME).is_file():
            continue
        try:
            saved = OmegaConf.to_container(OmegaConf.load(path))
        except Exception:  # noqa: BLE001 - a folder whose record cannot be read is not a candidate
            continue
        if isinstance(saved, dict):
            found.append((path.stat().st_mtime_ns, folder.name, folder, saved))
    return [(folder, saved) for *_, folder, saved in sorted(found, key=lambda f: f[:2], reverse=True)]


def _section(config: dict, name: str) -> dict:
    value = config.get(name)
    return value if isinstance(value, dict) else {}


def _first_difference(saved: dict, wanted: dict) -> str | None:
    """`section.key: the checkpoint was trained with ..., this run asks for ...`, or None."""
    if saved.get("data_fingerprint") != wanted.get("data_fingerprint"):
        return (f"data.path: the file's content differs from the one the checkpoint was trained on (sha256 "
                f"{str(saved.get('data_fingerprint'))[:12]}..., now {str(wanted.get('data_fingerprint'))[:12]}...); "
                "resume on the same file or drop resume")
    for section in ("model", "data"):
        before, now = _section(saved, section), wanted[section]
        for key in sorted(set(before) | set(now)):
            if before.get(key) != now.get(key):
                return (f"{section}.{key}: the checkpoint was trained with {before.get(key)!r}, this run asks for "
                        f"{now.get(key)!r}; resume with the checkpoint's model and data settings")
    return None


def load_compatible(path: Path, config: dict, model, device, seed_given: bool = True) -> dict:
    """Load `path` and refuse (one line) a checkpoint that this run cannot continue.

    The run continues with the checkpoint's seed: when the command line did not set
    `seed`, config["seed"] becomes the checkpoint's, so what is recorded is what ran;
    a different seed the user asked for is refused.
    """
    try:
        state = load_checkpoint(path, map_location=device)
    except ConfigError as error:
        raise ConfigError(f"ckpt_path: {error}") from None
    name = type(model).__name__
    if state.get("model_class") != name:
        raise ConfigError(f"ckpt_path: {path} holds a {state.get('model_class')} run, this run trains a {name}")
    if "training" not in state:
        raise ConfigError(f"ckpt_path: {path} holds no training state to continue")
    saved = state["config"] if isinstance(state.get("config"), dict) else {}
    if difference := _first_difference(saved, config):
        raise ConfigError(difference)
    saved_seed = saved.get("seed")
    if saved_seed != config.get("seed"):
        if seed_given:
            raise ConfigError(f"seed: the checkpoint was trained with seed {saved_seed}, this run asks for {config.get('seed')}; "
                              "a resumed run keeps its seed, so drop seed= from the command line")
        config["seed"] = saved_seed
    return state

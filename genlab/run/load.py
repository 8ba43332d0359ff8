"""A finished run back as (model, config), built only from genlab's own classes.

The config inside a checkpoint could name code through Hydra's `_target_`, so it is never
handed to `hydra.utils.instantiate`: `build_model` takes the class among genlab's own
models (genlab.models.registry) that the config names, or the class the caller names.
"""

from __future__ import annotations

from pathlib import Path

from genlab.engine.checkpoint import CHECKPOINT_NAME, load_checkpoint
from genlab.errors import CheckpointError, ConfigError


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
    A run on standardized points (data.standardize=true) gives the model in the file's
    units (genlab.evaluation.file_units.InFileUnits; its `.model` is the one fit on the
    standardized points).
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
    scaling = config.get("data_standardization")
    if isinstance(scaling, dict):
        from genlab.data.standardize import Standardization
        from genlab.evaluation.file_units import InFileUnits

        model = InFileUnits(model, Standardization(scaling["shift"], scaling["scale"]))
    return model, OmegaConf.create(config)

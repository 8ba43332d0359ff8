"""The YAML files are the defaults: every constructor default equals its conf/ value, so the
Python API and the command line build the same model from the same (absent) settings."""

import importlib
import inspect
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from helpers import compose_config

CONF = Path(__file__).resolve().parents[1] / "conf"
FILES = sorted((CONF / "model").glob("*.yaml")) + sorted((CONF / "data").glob("*.yaml"))


def plain(value):
    """Tuples as lists, so (0.5, 0.9) in Python equals [0.5, 0.9] in YAML."""
    return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def defaults_of(cls) -> dict:
    """Every keyword argument the class takes and its default, following **shared on to the
    base class that takes those keys (GAN and WGAN pass theirs to AdversarialModel)."""
    parameters = {}
    for klass in cls.__mro__:
        signature = inspect.signature(klass.__init__).parameters
        parameters = {**{k: v for k, v in signature.items() if v.kind is v.KEYWORD_ONLY or v.kind is v.POSITIONAL_OR_KEYWORD}, **parameters}
        if not any(v.kind is v.VAR_KEYWORD for v in signature.values()):
            return parameters
    return parameters


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_constructor_default_is_its_yaml_value(path):
    # Composed as the command line composes it (gan.yaml and wgan.yaml include conf/model_shared).
    group = path.parent.name
    cfg = compose_config(f"{group}={path.stem}")
    settings = OmegaConf.to_container(cfg[group], resolve=False)
    module, name = settings.pop("_target_").rsplit(".", 1)
    parameters = defaults_of(getattr(importlib.import_module(module), name))
    for key, value in settings.items():
        assert key in parameters, f"{path.name}: {key} is not an argument of {name}"
        if isinstance(value, str) and value.startswith("${"):
            continue  # an interpolation (gmm's seed: ${seed}) is the run's, not a default
        assert plain(parameters[key].default) == value, f"{path.name}: {key} is {value!r}, {name}'s default {parameters[key].default!r}"

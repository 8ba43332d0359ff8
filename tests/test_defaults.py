"""The YAML files are the defaults: every constructor default equals its conf/ value, so the
Python API and the command line build the same model from the same (absent) settings."""

import importlib
import inspect
from pathlib import Path

import pytest
import yaml

CONF = Path(__file__).resolve().parents[1] / "conf"
FILES = sorted((CONF / "model").glob("*.yaml")) + sorted((CONF / "data").glob("*.yaml"))


def plain(value):
    """Tuples as lists, so (0.5, 0.9) in Python equals [0.5, 0.9] in YAML."""
    return [plain(v) for v in value] if isinstance(value, (list, tuple)) else value


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_every_constructor_default_is_its_yaml_value(path):
    settings = yaml.safe_load(path.read_text())
    module, name = settings.pop("_target_").rsplit(".", 1)
    parameters = inspect.signature(getattr(importlib.import_module(module), name)).parameters
    for key, value in settings.items():
        assert key in parameters, f"{path.name}: {key} is not an argument of {name}"
        if isinstance(value, str) and value.startswith("${"):
            continue  # an interpolation (gmm's seed: ${seed}) is the run's, not a default
        assert plain(parameters[key].default) == value, f"{path.name}: {key} is {value!r}, {name}'s default {parameters[key].default!r}"

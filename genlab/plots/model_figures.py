"""The figures a model asks for (GenerativeModel.figures), drawn after a run's common ones.

A model names each as "module:function" (the critic's map, a VAE's pushforwards, a GMM's EM
curve), so the reports never guess from its attributes and the model never imports plots.
"""

from __future__ import annotations

import importlib
from pathlib import Path


def draw_model_figures(model, data, run_dir: Path) -> list[Path]:
    """Call function(model, data, run_dir / name) for every figure the model names on `data`."""
    drawn = []
    for name, target in model.figures(data).items():
        module, _, function = target.partition(":")
        path = getattr(importlib.import_module(module), function)(model, data, Path(run_dir) / name)
        if path is not None:
            drawn.append(path)
    return drawn

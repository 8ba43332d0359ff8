"""numpy arrays or torch tensors, wherever genlab takes points, and the same kind back.

A tensor gives a tensor; anything else (a numpy array, nested lists, a pandas frame) is
read through numpy and gives numpy. A `data` argument of the metrics and plots is a
genlab data set or such an array of points, read as `genlab.data.Points`.

It sits between the models (which convert their inputs here) and the data sets.
"""

from __future__ import annotations

import numpy as np
import torch

from genlab.data.base import Dataset
from genlab.data.points import Points, as_points
from genlab.errors import ConfigError

TENSOR, NUMPY = "torch", "numpy"  # the two kinds an array-valued result comes back as


def kind_of(x) -> str:
    """"torch" for a tensor, "numpy" for anything else."""
    return TENSOR if isinstance(x, torch.Tensor) else NUMPY


def to_tensor(x, name: str = "x") -> torch.Tensor:
    """x as a tensor: itself when it is one, else a copy through numpy (float64 stays
    float64), refused in one line naming `name` when it holds no numbers."""
    if isinstance(x, torch.Tensor):
        return x
    try:
        return torch.tensor(np.asarray(x))
    except (TypeError, ValueError, RuntimeError) as error:
        raise ConfigError(f"{name} must be an array of numbers of shape (n, d) ({error})") from None


def to_numpy(x) -> np.ndarray:
    """A tensor (any device, bfloat16 as float32, which numpy lacks) or an array-like as numpy."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        return (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    return np.asarray(x)


def as_kind(result: torch.Tensor, kind: str):
    """result (a tensor) as `kind`: itself for "torch", a numpy array for "numpy"."""
    return result if kind == TENSOR else to_numpy(result)


def as_dataset(data, name: str = "data") -> Dataset:
    """A genlab data set as it is; an array of points as `Points` (no fresh draws, no
    known density), refused in one line naming `name`."""
    if isinstance(data, Dataset):
        return data
    return Points(as_points(data, name))

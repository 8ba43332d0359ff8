"""Points you already hold (numpy arrays or tensors) as a genlab data set: what the
metrics, plots and runs take when the data is yours rather than one of the toy sets.

Such a set has no fresh draws and no known density, and declares so (`can_draw` and
`has_density` are False), so the reports leave out what needs them and say why.
"""

from __future__ import annotations

import torch

from genlab.data.base import Dataset
from genlab.errors import ConfigError, check_finite_tensor


def as_points(x, name: str) -> torch.Tensor:
    """An array-like of shape (n,) or (n, d) as a float32 (n, d) tensor, refusing what no
    model can fit, in one line that names `name`."""
    try:
        x = torch.as_tensor(x.detach().cpu() if isinstance(x, torch.Tensor) else x)
    except (TypeError, ValueError, RuntimeError) as error:
        raise ConfigError(f"{name} must be an array of numbers of shape (n, d) ({error})") from None
    if x.dtype == torch.bool or x.is_complex() or not (x.is_floating_point() or x.dtype.is_signed or x.dtype == torch.uint8):
        raise ConfigError(f"{name} must hold real numbers (got {x.dtype})")
    if x.dim() == 1:
        x = x[:, None]
    if x.dim() != 2 or x.shape[0] == 0 or x.shape[1] == 0:
        raise ConfigError(f"{name} must be a non-empty array of shape (n, d) (got shape {tuple(x.shape)})")
    return check_finite_tensor(name, x.to(torch.float32))


class Points(Dataset):
    """Training and held-out points given as arrays.

    Args:
        train: (n, d) array-like (numpy, torch, nested lists); (n,) for 1D.
        test: the held-out points the metrics compare samples with; None: the training
            points serve (the metrics then reward copying them: say so where you report).
        name: how titles, folders and metrics name the set.
        columns: the coordinates' names, for axis labels (default x1, x2, ...).
    """

    def __init__(self, train, test=None, name: str = "points", columns=None):
        self.train = as_points(train, "train")
        self.test = self.train if test is None else as_points(test, "test")
        if self.test.shape[1] != self.train.shape[1]:
            raise ConfigError(f"test must have {self.train.shape[1]} columns, as train (got {self.test.shape[1]})")
        self.dim = self.train.shape[1]
        self.name = str(name)
        self.columns = [f"x{i + 1}" for i in range(self.dim)] if columns is None else [str(c) for c in columns]
        if len(self.columns) != self.dim:
            raise ConfigError(f"columns must name the {self.dim} coordinates (got {len(self.columns)} names)")
        super().__init__(n_train=len(self.train), n_test=len(self.test))

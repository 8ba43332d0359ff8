"""data.standardize=true: the model is fit on z = (x - shift) / scale, the training
points' mean and standard deviation per column, and the run sees it through
genlab.evaluation.file_units.InFileUnits, so its samples, plots and log-likelihoods are in the file's units:

    x = shift + scale * z,    log p(x) = log q(z) - sum(log scale)   (the Jacobian of the scaling).

One bandwidth (KDE), one learning rate (GANs) then suit columns of any size. The model
in the file's units is genlab.evaluation.file_units.InFileUnits.
"""

from __future__ import annotations

import torch

from genlab.errors import ConfigError


class Standardization:
    """The affine map between the file's units and the model's."""

    def __init__(self, shift, scale):
        self.shift = torch.as_tensor(shift, dtype=torch.float32)
        self.scale = torch.as_tensor(scale, dtype=torch.float32)
        self.log_det = float(torch.log(self.scale.double()).sum())  # log |det dx/dz|

    @classmethod
    def of(cls, train: torch.Tensor, columns: list[str], source) -> "Standardization":
        """From the training points (their mean and standard deviation, ddof 0)."""
        scale = train.double().std(0, correction=0)
        flat = [name for name, s in zip(columns, scale.tolist()) if not s > 0]
        if flat:
            raise ConfigError(f"standardize: column {flat[0]!r} of {source} is the same in every training row; "
                              "drop it (data.columns) or set data.standardize=false")
        return cls(train.double().mean(0), scale)

    def to_model(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.shift.to(x.device, x.dtype)) / self.scale.to(x.device, x.dtype)

    def to_file(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.scale.to(z.device, z.dtype) + self.shift.to(z.device, z.dtype)

    def as_dict(self) -> dict:
        """Plain lists, for config.yaml and metrics.json."""
        return {"shift": self.shift.tolist(), "scale": self.scale.tolist()}


def for_model(data, x: torch.Tensor) -> torch.Tensor:
    """Points of `data` as its model is fit on them (standardized where the set asks for it)."""
    return x if data.standardization is None else data.standardization.to_model(x)

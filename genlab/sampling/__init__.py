"""Samplers beyond a model's own `sample`: Langevin dynamics (ULA) and MALA on the
gradient of a fitted density's log, the lecture's "fit a density, then use Langevin"."""

from genlab.sampling.chains import SAMPLERS, langevin_samples, sampler_from_config, starting_points
from genlab.sampling.langevin import LangevinSettings, langevin_sample
from genlab.sampling.log_density import log_density, smallest_variance

__all__ = [
    "SAMPLERS", "LangevinSettings", "langevin_sample", "langevin_samples", "log_density",
    "sampler_from_config", "smallest_variance", "starting_points",
]

"""Refuse, before anything is built, a seed torch cannot take and sizes that cannot fit in memory.

`check_sizes` estimates, per key, the bytes genlab allocates because of it, from the code
that allocates them, and refuses a key whose estimate exceeds the total memory of where
they live: the host (data sets are drawn and metrics computed on the CPU) or the run's
device (networks, the training copy of the data, samples). Each estimate is a floor, what
is surely held at once, so a refused run could not have fit; one that passes may still
run short (activations, a model's own work):

  data.n_train, data.n_test  n x dim x 12 bytes on the host: a toy set is drawn in float64
                             (8 bytes a number) and kept as a float32 copy (4); and
                             n_train x dim x 4 on the device, the training copy.
  n_fresh                    n_fresh x dim x 12 on the host: the KL estimate's fresh draw, drawn
                             the same way (only where the data has a density, the model log_prob).
  n_eval                     n_eval x dim x 4 on the device: the samples (float32); and on the host
                             n_eval x (dim x 12 + 16 x min(8, n_test)): the samples in float32 and
                             their float64 copy for the metrics, and for points the "GAN kde" of
                             the samples, whose distance buffer holds 2 x (8 or more test rows) x
                             n_eval float64 (images: no buffer, no float64 copy without Parzen).
  model.hidden, model.critic_hidden (widths, with model.depth layers, or a list of widths)
                             the weights of the MLPs they shape, sum over layers of (in + 1) x out,
                             x 16 bytes with Adam (weight, gradient and two moments in float32;
                             12 with RMSprop or WGAN's method default), plus 4 per generator weight
                             for the moving average; hidden counts every network it shapes (VAE:
                             encoder and decoder; GAN, WGAN: the generator, and the critic when
                             critic_hidden is null). dcgan's convolutional networks are not counted.
  model.iwae_k               iwae_k x rows x 8 on the device: VAE.log_prob keeps the float32
                             log-weights of a block of rows = min(n, 20000 // min(iwae_k, 200))
                             points for all iwae_k samples, in chunks and then concatenated (n: the
                             largest set it scores).

A data set's dim comes from its config, table-free: len(means[0]) for mixtures (a list of
numbers: 1D), else its class's `dim` (2 for the shapes, 1 for uniform1d, 784 for MNIST).
The data keys are checked only for sets drawn from a distribution; MNIST's size is its
files'. A key whose value is not a positive whole number is left to its own check.
"""

from __future__ import annotations

import importlib
import math
import os
from typing import NamedTuple

from genlab.errors import ConfigError

# The largest signed 64-bit integer. torch's manual_seed and Generator.manual_seed take
# 0 to 2^64 - 1 and genlab seeds streams at seed plus at most 1,000,003 (a data set's fresh
# draws; lecture figures seed their data with it), so every seed derived from this range is
# still one torch takes. Negative seeds are refused: torch reads them modulo 2^64, so -1
# would replay 2^64 - 1; none is used in genlab's configs or tests. numpy is never seeded.
MAX_SEED = 2**63 - 1
UNITS = ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


class Need(NamedTuple):
    """Bytes a run allocates because of one key, and where: the host or the run's device."""

    key: str
    value: object
    bytes: int
    formula: str
    on_host: bool


def check_seed(seed) -> int:
    """The run's seed as torch and every stream genlab derives from it take it: 0 to MAX_SEED."""
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"seed must be an integer from 0 to {MAX_SEED} (got {seed!r})")
    return seed


def device_memory_bytes(device) -> int | None:
    """Total memory of `device` (CUDA, MPS or the CPU's RAM); None where it is not known, and then nothing is checked."""
    import torch

    device = torch.device(device)
    if device.type == "cuda":
        return torch.cuda.get_device_properties(device).total_memory
    if device.type == "mps":
        recommended = getattr(torch.mps, "recommended_max_memory", None)
        return recommended() if recommended else None
    if device.type == "cpu":
        try:
            return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):  # no sysconf (Windows) or no such name
            return None
    return None


def check_sizes(cfg, device) -> None:
    """Refuse the first key of the composed run config whose memory floor exceeds the
    total memory where it lives (see the module's docstring); cheap, allocates nothing."""
    import torch

    device, host = torch.device(device), torch.device("cpu")
    for need in memory_needs(cfg):
        where = host if need.on_host else device
        limit = device_memory_bytes(where)
        if limit is not None and need.bytes > limit:
            name = "the cpu" if where.type == "cpu" else f"the {where} device"
            raise ConfigError(
                f"{need.key}={need.value} needs at least {_size(need.bytes)} ({need.formula}) "
                f"but {name} has {_size(limit)}; use a smaller {need.key}"
            )


def memory_needs(cfg) -> list[Need]:
    """Every estimate of the module's docstring that applies to this config, in key order."""
    from omegaconf import OmegaConf

    from genlab.data.base import Dataset

    data_class, model_class = _target(cfg.data), _target(cfg.model)
    if data_class is None or not issubclass(data_class, Dataset):
        return []  # instantiating it reports what is wrong
    dim, points = _dim(data_class, cfg.data), data_class.image_shape is None
    n_train, n_test, n_fresh, n_eval = (_count(v) for v in (cfg.data.get("n_train"), cfg.data.get("n_test"), cfg.n_fresh, cfg.n_eval))
    needs = []
    if data_class.can_draw:  # a set drawn from a distribution, of the sizes its config asks
        draw = f"x dim {dim} x 12 bytes: drawn in float64, kept in float32"
        if n_train:
            needs += [Need("data.n_train", n_train, n_train * dim * 12, f"n_train {draw}", True),
                      Need("data.n_train", n_train, n_train * dim * 4, f"n_train x dim {dim} x 4 bytes: the float32 training copy", False)]
        if n_test:
            needs.append(Need("data.n_test", n_test, n_test * dim * 12, f"n_test {draw}", True))
        has_log_prob = model_class is None or getattr(model_class, "has_log_prob", True)
        if n_fresh and data_class.has_density and has_log_prob:
            needs.append(Need("n_fresh", n_fresh, n_fresh * dim * 12, f"n_fresh {draw}, for the KL estimate", True))
    if n_eval:
        if points:
            rows = min(8, n_test or 8)
            formula = f"n_eval x (dim {dim} x 12 + 16 x {rows}) bytes: the samples in float32 and float64, and the GAN kde's distance buffer"
            needs.append(Need("n_eval", n_eval, n_eval * (dim * 12 + 16 * rows), formula, True))
        elif OmegaConf.select(cfg, "image_eval.parzen", default=True):
            formula = f"n_eval x dim {dim} x 12 bytes: the samples in float32 and the Parzen window's float64 copy"
            needs.append(Need("n_eval", n_eval, n_eval * dim * 12, formula, True))
        needs.append(Need("n_eval", n_eval, n_eval * dim * 4, f"n_eval x dim {dim} x 4 bytes: the float32 samples", False))
    if model_class is not None:
        needs += _network_needs(model_class, cfg.model, dim)
        # The largest set VAE.log_prob scores: the train and test points, or image_eval.n_test of MNIST's 10,000 test images.
        scored = max(n_train or 0, n_test or 0) if points else min(_count(OmegaConf.select(cfg, "image_eval.n_test")) or 10_000, 10_000)
        needs += _iwae_needs(model_class, cfg.model, scored)
    return needs


def _network_needs(model_class, model, dim: int) -> list[Need]:
    """model.hidden and model.critic_hidden: the weights of the MLPs they shape, with the optimizer's state."""
    from genlab.models.adversarial import AdversarialModel
    from genlab.models.vae import VAE

    depth, latent = _depth(model.get("depth")), _count(model.get("latent_dim")) or 1
    moments = 2 if model.get("optimizer", "adam") == "adam" else 1  # VAE: always Adam; WGAN's null counts as RMSprop
    per_weight = 4 * (2 + moments)
    state = f"{per_weight} bytes: weight, gradient and {'two Adam moments' if moments == 2 else 'one RMSprop moment'}, float32"

    def weights(n_in: int, key: str, n_out: int) -> int | None:
        """The MLP's weights for the widths under `key`; None where they are left to check_architecture."""
        widths = _widths(model.get(key))
        if widths is None or (depth is None and not isinstance(widths, list)):
            return None
        return _mlp_weights(n_in, widths, depth, n_out)

    def need(key: str, n_bytes: int, formula: str) -> Need:
        value = model.get(key)
        return Need(f"model.{key}", list(value) if _is_list(value) else f"{value} (depth {depth})", n_bytes, formula, False)

    if issubclass(model_class, VAE):
        encoder, decoder = weights(dim, "hidden", 2 * latent), weights(latent, "hidden", dim)
        if encoder is None:
            return []
        return [need("hidden", (encoder + decoder) * per_weight, f"{encoder + decoder} encoder and decoder weights x {state}")]
    if not issubclass(model_class, AdversarialModel) or model.get("arch", "mlp") != "mlp":
        return []  # dcgan's networks are convolutions of model.channels
    ema = model.get("ema")
    ema = 4 if isinstance(ema, (int, float)) and ema > 0 else 0  # the moving average: one more float32 copy
    critic_key = "hidden" if model.get("critic_hidden") is None else "critic_hidden"
    generator, critic = weights(latent, "hidden", dim), weights(dim * (_count(model.get("pack")) or 1), critic_key, 1)
    needs = []
    if generator is not None:
        n_bytes, formula = generator * (per_weight + ema), f"{generator} generator weights x {state}" + (", 4 more for the moving average" if ema else "")
        if critic_key == "hidden":
            n_bytes, formula = n_bytes + critic * per_weight, f"{formula}; {critic} critic weights x {per_weight} bytes"
        needs.append(need("hidden", n_bytes, formula))
    if critic_key == "critic_hidden" and critic is not None:
        needs.append(need("critic_hidden", critic * per_weight, f"{critic} critic weights x {state}"))
    return needs


def _iwae_needs(model_class, model, n: int) -> list[Need]:
    """model.iwae_k: the log-weights of one block of VAE.log_prob (see its chunking)."""
    from genlab.models.vae import VAE

    k = _count(model.get("iwae_k"))
    if not issubclass(model_class, VAE) or not k:
        return []
    rows = max(1, min(n, 20_000 // min(k, 200)))
    formula = f"iwae_k x {rows} rows x 8 bytes: float32 log-weights of a block of {rows} points, in chunks, then concatenated"
    return [Need("model.iwae_k", k, k * rows * 8, formula, False)]


def _mlp_weights(n_in: int, hidden, depth: int, n_out: int) -> int:
    """Weights and biases of genlab.models.networks.mlp, sum over its layers of (in + 1) x out."""
    if isinstance(hidden, list):
        widths = [n_in, *hidden, n_out]
        return sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
    if depth == 0:
        return (n_in + 1) * n_out
    return (n_in + 1) * hidden + (depth - 1) * (hidden + 1) * hidden + (hidden + 1) * n_out


def _dim(data_class, data) -> int:
    """Coordinates of one point: a mixture's from its means, else the class's own."""
    means = data.get("means")
    if means is not None and hasattr(means, "__len__") and len(means) > 0:
        first = means[0]
        return len(first) if hasattr(first, "__len__") else 1
    return data_class.dim


def _target(node):
    """The class a config node's _target_ names, or None where it names none."""
    module, _, name = str(node.get("_target_", "")).rpartition(".")
    try:
        found = getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError, ValueError):
        return None
    return found if isinstance(found, type) else None


def _count(value) -> int | None:
    """A positive whole number as genlab's checks take it (1e12 included), else None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        return None
    return int(value) if value > 0 else None


def _widths(hidden):
    """model.hidden as an MLP takes it: a count, a list of counts, or None (left to its own check)."""
    if _is_list(hidden):
        widths = [_count(w) for w in hidden]
        return widths if widths and all(widths) else None
    return _count(hidden)


def _is_list(value) -> bool:
    return hasattr(value, "__iter__") and not isinstance(value, str)  # a list, tuple or OmegaConf ListConfig


def _depth(depth) -> int | None:
    return depth if isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0 else None


def _size(n: int) -> str:
    """Bytes in binary units; past 2^1000 (no float holds an absurd count's bytes) the floor shown is 2^1000."""
    n = min(n, 2**1000)
    i = min(max(n.bit_length() - 1, 0) // 10, len(UNITS) - 1)
    value = n / 1024**i
    return f"{n} bytes" if i == 0 else f"{value:.1f} {UNITS[i]}" if value < 1024 else f"{value:.3g} {UNITS[i]}"

"""Pick the torch device named by the `device` config group, refusing one this machine lacks."""

from __future__ import annotations

from genlab.errors import ConfigError, check_choice

DEVICES = ("auto", "cpu", "cuda", "mps")


def select_device(name: str = "auto"):
    """auto: CUDA if present, else Apple's MPS if present, else the CPU."""
    import torch

    check_choice("device", name, DEVICES)
    available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": torch.backends.mps.is_available()}
    if name == "auto":
        name = "cuda" if available["cuda"] else "mps" if available["mps"] else "cpu"
    if not available[name]:
        here = ", ".join(["auto"] + [n for n in ("cpu", "cuda", "mps") if available[n]])
        raise ConfigError(f"device={name} is not available on this machine (allowed here: {here})")
    return torch.device(name)

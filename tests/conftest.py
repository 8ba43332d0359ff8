"""Shared helpers: numerical integration of densities on grids."""

from __future__ import annotations

import pytest
import torch


def integrate_1d(log_prob, lo: float, hi: float, n: int = 40001) -> float:
    grid = torch.linspace(lo, hi, n, dtype=torch.float64)[:, None]
    return torch.trapezoid(log_prob(grid).exp(), grid[:, 0]).item()


def integrate_2d(log_prob, lo, hi, n: int = 601) -> float:
    xs = torch.linspace(lo[0], hi[0], n, dtype=torch.float64)
    ys = torch.linspace(lo[1], hi[1], n, dtype=torch.float64)
    density = log_prob(torch.cartesian_prod(xs, ys)).exp().reshape(n, n)
    return torch.trapezoid(torch.trapezoid(density, ys, dim=1), xs).item()


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.fixture(autouse=True, scope="session")
def _cache_in_a_temporary_folder(tmp_path_factory):
    """genlab's cache (the point runs' reference rows, classifiers, ...) in a folder of this
    session, for runs in this process and in the CLI's: tests never write ~/.cache."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GENLAB_CACHE_DIR", str(tmp_path_factory.mktemp("genlab-cache")))
        yield


def mnist_dir():
    """The read-only MNIST of CI (../shared/data/mnist beside the clone, or GENLAB_MNIST_DIR).
    Tests that need it are skipped where it is absent, except in CI (CI=true), where they fail."""
    import os
    from pathlib import Path

    folder = Path(os.environ.get("GENLAB_MNIST_DIR") or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist")
    if not (folder / "t10k-labels-idx1-ubyte.gz").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"MNIST is missing from {folder}; CI needs ../shared/data/mnist or GENLAB_MNIST_DIR")
        pytest.skip(f"MNIST is not in {folder} (set GENLAB_MNIST_DIR)")
    return folder


@pytest.fixture
def mnist_env(monkeypatch, tmp_path_factory):
    """Runs read MNIST from the shared folder and cache into a fresh folder: never a download."""
    folder = mnist_dir()
    monkeypatch.setenv("GENLAB_MNIST_DIR", str(folder))
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
    return folder

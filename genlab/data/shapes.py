"""Two-dimensional toy shapes. Only the checkerboard has a closed-form density here."""

from __future__ import annotations

import math

import torch

from genlab.data.base import Dataset, normal, uniform
from genlab.errors import check_nonnegative, check_positive


class Moons(Dataset):
    """Two interleaving half circles, as scikit-learn's `make_moons` (angles drawn at random)."""

    name = "moons"

    def __init__(self, noise=0.1, n_train=2000, n_test=2000, seed=0):
        self.noise = check_nonnegative("noise", noise)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        t = uniform(n, generator, 0.0, math.pi)
        inner = torch.rand(n, generator=generator) < 0.5
        x = torch.where(inner, 1 - t.cos(), t.cos())
        y = torch.where(inner, 0.5 - t.sin(), t.sin())
        return torch.stack([x, y], 1) + self.noise * normal(n, 2, generator=generator)


class Circles(Dataset):
    """Two concentric circles of radius 1 and `factor`, as scikit-learn's `make_circles`."""

    name = "circles"

    def __init__(self, factor=0.5, noise=0.05, n_train=2000, n_test=2000, seed=0):
        self.factor = check_positive("factor", factor)
        self.noise = check_nonnegative("noise", noise)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        t = uniform(n, generator, 0.0, 2 * math.pi)
        radius = torch.where(torch.rand(n, generator=generator) < 0.5, self.factor, 1.0)
        points = radius[:, None] * torch.stack([t.cos(), t.sin()], 1)
        return points + self.noise * normal(n, 2, generator=generator)


class SwissRoll(Dataset):
    """The WGAN-GP toy set "swissroll" (Gulrajani et al. 2017, gan_toy.py).

    As in that code: scikit-learn's 3D swiss roll with noise 0.25, coordinates
    (x, z) kept, divided by 7.5.
    """

    name = "swissroll"

    def __init__(self, noise=0.25, n_train=2000, n_test=2000, seed=0):
        self.noise = check_nonnegative("noise", noise)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        t = 1.5 * math.pi * (1 + 2 * uniform(n, generator))
        points = torch.stack([t * t.cos(), t * t.sin()], 1)
        return (points + self.noise * normal(n, 2, generator=generator)) / 7.5


class Checkerboard(Dataset):
    """Uniform on the 8 dark squares of a 4x4 board of squares of side `scale` (FFJORD's toy set).

    Its density is exact: 1 / (8 scale^2) on the dark squares, 0 elsewhere.
    """

    name = "checkerboard"

    def __init__(self, scale=2.0, n_train=2000, n_test=2000, seed=0):
        self.scale = check_positive("scale", scale)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        x1 = uniform(n, generator, -2.0, 2.0)
        offset = 2.0 * torch.randint(0, 2, (n,), generator=generator, dtype=torch.float64)
        x2 = uniform(n, generator) - offset + torch.floor(x1) % 2
        return self.scale * torch.stack([x1, x2], 1)

    def log_prob(self, x):
        cell = torch.floor(x.reshape(-1, 2).to(torch.float64) / self.scale)
        on_board = ((cell >= -2) & (cell <= 1)).all(1)
        dark = (cell.sum(1) % 2) == 0
        inside = on_board & dark
        value = torch.full(inside.shape, -math.log(8 * self.scale**2), dtype=x.dtype)
        return torch.where(inside, value, torch.full_like(value, -math.inf))


class Pinwheel(Dataset):
    """Arms of a pinwheel (FFJORD's toy set): Gaussian blobs bent by an exponential twist."""

    name = "pinwheel"

    def __init__(self, n_arms=5, radial_std=0.3, tangential_std=0.1, rate=0.25, n_train=2000, n_test=2000, seed=0):
        self.n_arms = check_positive("n_arms", n_arms, integer=True)
        self.radial_std = check_positive("radial_std", radial_std)
        self.tangential_std = check_positive("tangential_std", tangential_std)
        self.rate = check_nonnegative("rate", rate)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        arm = torch.randint(0, self.n_arms, (n,), generator=generator)
        features = normal(n, 2, generator=generator) * torch.tensor([self.radial_std, self.tangential_std], dtype=torch.float64)
        features[:, 0] += 1.0
        angle = arm * (2 * math.pi / self.n_arms) + self.rate * features[:, 0].exp()
        cos, sin = angle.cos(), angle.sin()
        x = features[:, 0] * cos + features[:, 1] * sin
        y = -features[:, 0] * sin + features[:, 1] * cos
        return 2 * torch.stack([x, y], 1)


class Spiral(Dataset):
    """Two interleaved spirals (FFJORD's "2spirals"), with Gaussian noise of std `noise`."""

    name = "spiral"

    def __init__(self, noise=0.1, n_train=2000, n_test=2000, seed=0):
        self.noise = check_nonnegative("noise", noise)
        super().__init__(n_train, n_test, seed)

    def _draw(self, n, generator):
        t = uniform(n, generator).sqrt() * (3 * math.pi)
        sign = torch.where(torch.rand(n, generator=generator) < 0.5, -1.0, 1.0).to(torch.float64)[:, None]
        arm = torch.stack([-t.cos() * t, t.sin() * t], 1) + 0.5 * uniform(2 * n, generator).reshape(n, 2)
        return sign * arm / 3 + self.noise * normal(n, 2, generator=generator)

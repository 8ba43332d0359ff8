"""Kernel density estimate ("Parzen window"): p(x) = 1/(n |B|) sum_i K(B^-1 (x - x_i)).

The lecture's "place bumps at every x_i". Exact for every kernel, in any dimension,
and fast: genlab.models.kernel_sums skips, with a bound, the references whose terms
cannot change the float32 sum (Gaussian, exponential) or that lie beyond a compact
kernel's reach.
"""

from __future__ import annotations

import math

import torch

from genlab.errors import ConfigError, check_choice, check_positive
from genlab.models import kernels
from genlab.models.kernel_sums import PrunedSum, base2_scale, windowed_log_kernel_sum
from genlab.models.base import GenerativeModel

BANDWIDTH_RULES = ("scott", "silverman", "cv")
LANGEVIN_KERNELS = ("gaussian", "exponential")  # kernels whose log-density Langevin can follow
LN_FLOAT64_MAX = math.log(torch.finfo(torch.float64).max)


class KDE(GenerativeModel):
    """Kernel density estimate with a chosen kernel and bandwidth.

    Args:
        kernel: one of gaussian, epanechnikov, tophat, exponential, linear (default gaussian).
        bandwidth: a positive number h (isotropic kernel of scale h, as scikit-learn; fit
            refuses an h the data's float type cannot compute with, naming the range it allows);
            "scott" or "silverman": scipy's rules, a kernel shaped like the data's
            covariance, B B^T = factor^2 Cov(x) with factor n^(-1/(d+4)) (Scott) or
            (n (d+2) / 4)^(-1/(d+4)) (Silverman); "cv": the isotropic h of `cv_grid`
            candidates that maximizes the held-out log-likelihood over `cv_folds` folds.
            Default "scott".
        cv_grid: number of candidate bandwidths for "cv", spaced geometrically from
            0.001x to 3x the isotropic Scott bandwidth (default 25).
        cv_folds: number of folds for "cv" (default 5; folds come from a fixed seed).
    Fitted: reference_ (the data), bandwidth_ (h or the rule's factor),
        bandwidth_matrix_ (B, lower triangular), cv_scores_ (for "cv").
    """

    fitted_state = ("reference_", "bandwidth_", "bandwidth_matrix_")
    label = "kernel density estimate (kde)"

    def __init__(self, kernel: str = "gaussian", bandwidth="scott", cv_grid: int = 25, cv_folds: int = 5):
        self.kernel = check_choice("kernel", kernel, kernels.KERNELS)
        if isinstance(bandwidth, str):
            check_choice("bandwidth", bandwidth, BANDWIDTH_RULES)
        else:
            try:
                check_positive("bandwidth", bandwidth)
            except ConfigError:
                raise ConfigError(
                    f"bandwidth must be a positive number or one of {', '.join(BANDWIDTH_RULES)} (got {bandwidth!r})"
                ) from None
            if not abs(math.log(bandwidth)) < LN_FLOAT64_MAX:  # fit checks h^d and h^-d for the data's d
                raise ConfigError(
                    f"bandwidth must be from {math.exp(-LN_FLOAT64_MAX):.3g} to {math.exp(LN_FLOAT64_MAX):.3g}, "
                    f"so that the kernel's normaliser 1/bandwidth is a float64 number (got {bandwidth!r})"
                )
        self.bandwidth = bandwidth
        self.cv_grid = check_positive("cv_grid", cv_grid, integer=True)
        self.cv_folds = check_positive("cv_folds", cv_folds, integer=True)
        if self.cv_folds < 2:
            raise ConfigError(f"cv_folds must be at least 2 (got {cv_folds})")
        self.reference_ = self.bandwidth_ = self.bandwidth_matrix_ = None
        self.cv_scores_ = None

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, x: torch.Tensor) -> "KDE":
        x = self._as_points(x)
        n, d = x.shape
        if self.bandwidth in ("scott", "silverman"):
            factor = n ** (-1 / (d + 4)) if self.bandwidth == "scott" else (n * (d + 2) / 4) ** (-1 / (d + 4))
            scale = _covariance_cholesky(x)
            self.bandwidth_, self.bandwidth_matrix_ = factor, factor * scale
        else:
            h = self._cross_validate(x) if self.bandwidth == "cv" else float(self.bandwidth)
            _check_bandwidth(h, x, self.kernel)
            self.bandwidth_ = h
            self.bandwidth_matrix_ = h * torch.eye(d, dtype=x.dtype, device=x.device)
        self.reference_ = x
        self._after_load()
        return self

    def _cross_validate(self, x: torch.Tensor) -> float:
        n, d = x.shape
        if n < self.cv_folds:
            raise ConfigError(f"bandwidth=cv needs at least cv_folds={self.cv_folds} points (got {n})")
        isotropic_scott = n ** (-1 / (d + 4)) * x.var(0).mean().sqrt().item()
        if not isotropic_scott > 0:
            raise ConfigError("bandwidth=cv needs data with a positive spread (all points are identical)")
        grid = isotropic_scott * torch.logspace(-3.0, math.log10(3.0), self.cv_grid, dtype=torch.float64)
        fold = torch.randperm(n, generator=torch.Generator().manual_seed(0)).to(x.device) % self.cv_folds
        scores = torch.zeros(len(grid), dtype=torch.float64)
        for k in range(self.cv_folds):
            train, held_out = x[fold != k], x[fold == k]
            for i, h in enumerate(grid.tolist()):
                scores[i] += KDE(self.kernel, h).fit(train).log_prob(held_out).double().sum().cpu()
        self.cv_scores_ = torch.stack([grid, scores / n], 1)
        return float(grid[scores.argmax()])

    def _after_load(self) -> None:
        """Precompute the reference in kernel coordinates u = B^-1 (x - centre): for the
        Gaussian and exponential kernels the pruned sums' leaves (float64 coordinates, terms in
        the data's float type), for compact kernels sorted along one axis, in float64 (see
        kernel_sums.windowed_log_kernel_sum)."""
        ref = self.reference_
        self._centre = ref.double().mean(0)
        self._log_det = torch.diagonal(self.bandwidth_matrix_).log().sum().item()
        u = self._to_kernel_coordinates(ref)
        if self.kernel not in kernels.COMPACT:
            self._sum = PrunedSum(u, self.kernel, ref.dtype)
            return
        self._axis = int(u.var(0).argmax()) if len(ref) > 1 else 0
        self._ref_t = u[u[:, self._axis].argsort()].T.contiguous()  # (d, n), sorted along the axis
        self._keys = self._ref_t[self._axis]

    def _to_kernel_coordinates(self, x: torch.Tensor) -> torch.Tensor:
        """u = B^-1 (x - centre), in float64."""
        centred = (x.double() - self._centre).T
        return torch.linalg.solve_triangular(self.bandwidth_matrix_.double(), centred, upper=False).T.contiguous()

    # -- the protocol ----------------------------------------------------------------------

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density at each row of x (-inf outside a compact kernel's support)."""
        self._check_fitted()
        x = self._as_points(x, dim=self.reference_.shape[1]).to(self.reference_)
        n, d = self.reference_.shape
        q = self._to_kernel_coordinates(x)
        if self.kernel in kernels.COMPACT:
            log_sum = windowed_log_kernel_sum(q, self._ref_t, self._keys, self._axis, self.kernel)
        else:
            log_sum = self._sum(q)
        log_sum = log_sum.to(x.dtype)
        return log_sum + (kernels.log_normalizer(self.kernel, d) - math.log(n) - self._log_det)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pick reference points at random and add kernel noise shaped by B."""
        self._check_fitted()
        ref = self.reference_
        index = torch.randint(len(ref), (int(n),), generator=generator, device=ref.device)
        u = kernels.sample(self.kernel, int(n), ref.shape[1], generator, ref.device, ref.dtype)
        return ref[index] + u @ self.bandwidth_matrix_.T

    def summary(self, x: torch.Tensor) -> dict:
        out = {"kernel": self.kernel, "bandwidth": float(self.bandwidth_), "bandwidth_rule": str(self.bandwidth)}
        if self.cv_scores_ is not None:
            out["cv_scores"] = [[float(h), float(s)] for h, s in self.cv_scores_]
        return out

    # -- Langevin and MALA (genlab.sampling) ------------------------------------------------

    def langevin_refusal(self, sampler: str) -> str | None:
        """Only kernels whose log-density is finite with a useful gradient everywhere: a
        compact kernel's is -inf beyond its reach, and the tophat's is flat inside it."""
        if self.kernel in LANGEVIN_KERNELS:
            return None
        return (f"model.kernel must be one of {', '.join(LANGEVIN_KERNELS)} for sampler={sampler} (got {self.kernel!r}): "
                "a compact kernel's density is 0 beyond its reach, where a Langevin chain has no gradient to follow")

    def differentiable_log_prob(self):
        """log_prob in plain differentiable torch (log_prob itself uses in-place base-2
        exponentials and out= buffers, which autograd cannot pass); tests hold them equal."""
        reference = self.reference_
        n, d = reference.shape
        bandwidth = self.bandwidth_matrix_.to(reference.dtype)
        centre = reference.mean(0)
        reference_u = torch.linalg.solve_triangular(bandwidth, (reference - centre).T, upper=False).T
        constant = kernels.log_normalizer(self.kernel, d) - math.log(n) - torch.diagonal(bandwidth).log().sum().item()
        half_square = 0.5 * reference_u.square().sum(1)
        kernel = self.kernel

        def log_prob(x: torch.Tensor) -> torch.Tensor:
            u = torch.linalg.solve_triangular(bandwidth.to(x.dtype), (x - centre.to(x.dtype)).T, upper=False).T
            if kernel == "gaussian":
                # -|u - r|^2 / 2 = u.r - |r|^2 / 2 - |u|^2 / 2: one matrix product, twice as fast
                # through autograd as the distances themselves.
                cross = torch.addmm(-half_square.to(x.dtype), u, reference_u.to(x.dtype).T)
                return torch.logsumexp(cross, 1) - 0.5 * u.square().sum(1) + constant
            # Exact differences: the product form loses the digits of distances near 0.
            distance = torch.cdist(u, reference_u.to(x.dtype), compute_mode="donot_use_mm_for_euclid_dist")
            return torch.logsumexp(-distance, 1) + constant

        return log_prob

    def smallest_variance(self) -> float:
        """The smallest kernel variance along any direction."""
        self._check_fitted()
        bandwidth = self.bandwidth_matrix_.double()
        d = bandwidth.shape[0]
        return torch.linalg.eigvalsh(bandwidth @ bandwidth.T).min().item() * kernels.coordinate_variance(self.kernel, d)

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        n, d = self.reference_.shape
        shape = d * (d + 1) // 2 if self.bandwidth in ("scott", "silverman") else 0
        return n * d + 1 + shape


def _check_bandwidth(h: float, x: torch.Tensor, kernel: str) -> None:
    """Refuse an isotropic h that this data cannot be computed with, naming the limit it
    crosses: the normaliser h^-d must be a float64 number (plots exponentiate the density);
    B = h I is kept in the data's dtype (a zero there makes B singular: NaN everywhere); the
    kernels square distances in bandwidths in their working dtype (an overflow there turns
    into inf - inf = NaN); samples x + h u must stay finite in the data's dtype."""
    d = x.shape[1]
    work = torch.float64 if kernel in kernels.COMPACT else x.dtype
    data_type, work_type = torch.finfo(x.dtype), torch.finfo(work)
    span = (x.max(0).values - x.min(0).values).double().norm().item()
    # |u| of any draw is below reach: an exponential radius sums d terms -log(max(v, tiny)), a Gaussian's is far shorter.
    reach = 1.0 if kernel in kernels.COMPACT else -d * math.log(data_type.tiny)
    lows = [
        (math.exp(-LN_FLOAT64_MAX / d), f"the kernel's normaliser h^-{d} overflows float64"),
        (data_type.tiny, f"h underflows {_name(x.dtype)}, the type of the bandwidth matrix h I"),
        ((1.0 if kernel in kernels.COMPACT else base2_scale(kernel)) * span / math.sqrt(work_type.max), f"the data's squared distances in bandwidths overflow {_name(work)}"),
    ]
    highs = [
        (math.exp(LN_FLOAT64_MAX / d), f"the kernel's normaliser h^-{d} underflows float64"),
        ((data_type.max - x.abs().max().item()) / reach, f"samples x + h u (|u| up to {reach:.3g}) overflow {_name(x.dtype)}"),
    ]
    (low, below), (high, above) = max(lows), min(highs)
    if not low <= h <= high:
        why = f"below {low:.3g} {below}" if h < low else f"above {high:.3g} {above}"
        raise ConfigError(f"bandwidth must be from {low:.3g} to {high:.3g} for this data ({d}D, {_name(x.dtype)}) (got {h!r}): {why}")


def _name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def has_singular_covariance(x: torch.Tensor) -> bool:
    """Whether the points' covariance is singular (all on a point, a line or a plane):
    then no Scott or Silverman bandwidth exists."""
    return bool(_cholesky_of_covariance(x)[1] != 0)


def _cholesky_of_covariance(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.linalg.cholesky_ex(torch.atleast_2d(torch.cov(x.T.double())))


def _covariance_cholesky(x: torch.Tensor) -> torch.Tensor:
    if len(x) < 2:
        raise ConfigError("a bandwidth rule needs at least 2 points; give model.bandwidth a number")
    scale, info = _cholesky_of_covariance(x)
    if info != 0:
        raise ConfigError("the data's covariance is singular, so scott/silverman cannot scale to it; give a numeric bandwidth")
    return scale.to(x.dtype)

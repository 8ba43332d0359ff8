"""Kernel density estimate ("Parzen window"): p(x) = 1/(n |B|) sum_i K(B^-1 (x - x_i)).

The lecture's "place bumps at every x_i". Exact for every kernel, in any dimension,
and fast: distances come from one matrix product per block of queries; compact
kernels only visit reference points whose first (sorted) coordinate lies within
the kernel's reach, which is exact because |u| >= |u_axis|.
"""

from __future__ import annotations

import math

import torch

from genlab.errors import ConfigError, check_choice, check_positive
from genlab.models import kernels
from genlab.models.base import GenerativeModel

BANDWIDTH_RULES = ("scott", "silverman", "cv")
LN_2 = math.log(2)
LOG2_E = 1 / LN_2


class KDE(GenerativeModel):
    """Kernel density estimate with a chosen kernel and bandwidth.

    Args:
        kernel: one of gaussian, epanechnikov, tophat, exponential, linear (default gaussian).
        bandwidth: a positive number h (isotropic kernel of scale h, as scikit-learn);
            "scott" or "silverman": scipy's rules, a kernel shaped like the data's
            covariance, B B^T = factor^2 Cov(x) with factor n^(-1/(d+4)) (Scott) or
            (n (d+2) / 4)^(-1/(d+4)) (Silverman); "cv": the isotropic h of `cv_grid`
            candidates that maximizes the held-out log-likelihood over `cv_folds` folds.
            Default "scott".
        cv_grid: number of candidate bandwidths for "cv", spaced geometrically from
            0.03x to 3x the isotropic Scott bandwidth (default 20).
        cv_folds: number of folds for "cv" (default 5; folds come from a fixed seed).
    Fitted: reference_ (the data), bandwidth_ (h or the rule's factor),
        bandwidth_matrix_ (B, lower triangular), cv_scores_ (for "cv").
    """

    fitted_state = ("reference_", "bandwidth_", "bandwidth_matrix_")

    def __init__(self, kernel: str = "gaussian", bandwidth="scott", cv_grid: int = 20, cv_folds: int = 5):
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
        grid = isotropic_scott * torch.logspace(math.log10(0.03), math.log10(3.0), self.cv_grid, dtype=torch.float64)
        fold = torch.randperm(n, generator=torch.Generator().manual_seed(0)).to(x.device) % self.cv_folds
        scores = torch.zeros(len(grid), dtype=torch.float64)
        for k in range(self.cv_folds):
            train, held_out = x[fold != k], x[fold == k]
            for i, h in enumerate(grid.tolist()):
                scores[i] += KDE(self.kernel, h).fit(train).log_prob(held_out).double().sum().cpu()
        self.cv_scores_ = torch.stack([grid, scores / n], 1)
        return float(grid[scores.argmax()])

    def _after_load(self) -> None:
        """Precompute the reference in kernel coordinates u = B^-1 (x - centre)."""
        # Compact kernels are evaluated in float64 (see _windowed_log_kernel_sum).
        ref = self.reference_.double() if self.kernel in kernels.COMPACT else self.reference_
        self._centre = ref.mean(0)
        self._ref_u = self._to_kernel_coordinates(ref)
        self._axis = int(self._ref_u.var(0).argmax()) if len(ref) > 1 else 0
        order = self._ref_u[:, self._axis].argsort()
        self._ref_u_sorted = self._ref_u[order].contiguous()
        self._keys = self._ref_u_sorted[:, self._axis].contiguous()
        self._log_det = torch.diagonal(self.bandwidth_matrix_).log().sum().item()

    def _to_kernel_coordinates(self, x: torch.Tensor) -> torch.Tensor:
        centred = (x.to(self._centre.dtype) - self._centre).T
        matrix = self.bandwidth_matrix_.to(self._centre.dtype)
        return torch.linalg.solve_triangular(matrix, centred, upper=False).T.contiguous()

    # -- the protocol ----------------------------------------------------------------------

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        """Exact log-density at each row of x (-inf outside a compact kernel's support)."""
        self._check_fitted()
        x = self._as_points(x, dim=self.reference_.shape[1]).to(self.reference_)
        n, d = self.reference_.shape
        q = self._to_kernel_coordinates(x)
        if self.kernel in kernels.COMPACT:
            log_sum = _windowed_log_kernel_sum(q, self._ref_u_sorted, self._keys, self._axis, self.kernel)
        else:
            log_sum = _log_kernel_sum(q, self._ref_u_sorted, self.kernel)
        log_sum = log_sum.to(x.dtype)
        return log_sum + (kernels.log_normalizer(self.kernel, d) - math.log(n) - self._log_det)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """Pick reference points at random and add kernel noise shaped by B."""
        self._check_fitted()
        ref = self.reference_
        index = torch.randint(len(ref), (int(n),), generator=generator, device=ref.device)
        u = kernels.sample(self.kernel, int(n), ref.shape[1], generator, ref.device, ref.dtype)
        return ref[index] + u @ self.bandwidth_matrix_.T

    @property
    def n_parameters(self) -> int:
        self._check_fitted()
        n, d = self.reference_.shape
        shape = d * (d + 1) // 2 if self.bandwidth in ("scott", "silverman") else 0
        return n * d + 1 + shape


def _covariance_cholesky(x: torch.Tensor) -> torch.Tensor:
    if len(x) < 2:
        raise ConfigError("a bandwidth rule needs at least 2 points; give model.bandwidth a number")
    cov = torch.atleast_2d(torch.cov(x.T.double()))
    scale, info = torch.linalg.cholesky_ex(cov)
    if info != 0:
        raise ConfigError("the data's covariance is singular, so scott/silverman cannot scale to it; give a numeric bandwidth")
    return scale.to(x.dtype)


def _log_kernel_sum(q, ref, kernel):
    """log sum_j profile(|q_i - r_j|) for every query row, dense, block by block.

    Works in base 2 (torch's exp2 is several times faster than exp on the CPU), and
    clamps exponents a little above the float's smallest normal number: deeper
    values would only add denormals (slow) far below the float's resolution next
    to the largest term, which is 1 after the shift.
    """
    floor = -120.0 if q.dtype == torch.float32 else -1000.0
    neg_half_sq_ref = (ref * ref).sum(1).mul_(-LOG2_E / 2)
    rows_per_block = max(8, min(256, 2**19 // max(len(ref), 1)))  # a block of about 2 MB stays in cache
    out = torch.empty(len(q), dtype=q.dtype, device=q.device)
    # One buffer for every block: a fresh large allocation per block costs page faults.
    buffer = torch.empty(min(rows_per_block, len(q)), len(ref), dtype=q.dtype, device=q.device)
    for start in range(0, len(q), rows_per_block):
        block = q[start : start + rows_per_block]
        half_sq_q = (block * block).sum(1)[:, None] / 2
        # a_ij = log2(e) (q_i . r_j - |r_j|^2 / 2), and -|q_i - r_j|^2 / 2 = a_ij / log2(e) - |q_i|^2 / 2
        a = torch.addmm(neg_half_sq_ref, block, ref.T, alpha=LOG2_E, out=buffer[: len(block)])
        if kernel == "exponential":  # a_ij = -log2(e) |q_i - r_j|
            a = a.neg_().add_(half_sq_q * LOG2_E).mul_(2 / LOG2_E).clamp_(min=0).sqrt_().mul_(-LOG2_E)
        shift = a.amax(1, keepdim=True)
        a.sub_(shift).clamp_(min=floor).exp2_()
        log_sum = (a.sum(1).log2_() + shift.squeeze(1)).mul_(LN_2)
        out[start : start + rows_per_block] = log_sum - half_sq_q.squeeze(1) if kernel == "gaussian" else log_sum
    return out


def _windowed_log_kernel_sum(q, ref_sorted, keys, axis, kernel, rows_per_block: int = 256):
    """As `_log_kernel_sum` for kernels that vanish outside the unit ball.

    Queries are sorted along `axis`; each block only meets the reference points
    whose coordinate on that axis lies within one unit of the block's range. The
    work is small, so the caller gives float64 coordinates and it is done around the block's centre: near the
    support's edge, 1 - |u|^2 is a difference of nearly equal numbers.
    """
    order = q[:, axis].argsort()
    q_sorted = q[order]
    out_sorted = torch.empty(len(q), dtype=torch.float64, device=q.device)
    for start in range(0, len(q), rows_per_block):
        block = q_sorted[start : start + rows_per_block]
        lo = int(torch.searchsorted(keys, block[:1, axis] - 1, right=False))
        hi = int(torch.searchsorted(keys, block[-1:, axis] + 1, right=True))
        centre = block.mean(0)
        block, near = block - centre, ref_sorted[lo:hi] - centre
        sq = torch.addmm((near * near).sum(1), block, near.T, alpha=-2).add_((block * block).sum(1)[:, None])
        if kernel == "tophat":
            total = (sq < 1).sum(1).double()
        elif kernel == "epanechnikov":
            total = sq.neg_().add_(1).clamp_(min=0).sum(1)
        else:  # linear
            total = sq.clamp_(min=0).sqrt_().neg_().add_(1).clamp_(min=0).sum(1)
        out_sorted[start : start + rows_per_block] = total.log()
    return torch.empty_like(out_sorted).index_put_((order,), out_sorted)

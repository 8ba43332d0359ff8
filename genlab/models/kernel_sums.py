"""log sum_j K(q_i - r_j) for every query: the KDE's one expensive sum, exact to float rounding.

Three ways, by kernel:
- Gaussian and exponential kernels (never 0): `PrunedSum`. References and queries are cut
  into leaves of a k-d partition, each with its bounding box, which bounds every term a
  query can get from a leaf (the leaf's count times the term at the distance to its box).
  A block of queries first sums the leaves near each of them; then it adds every leaf
  that some query cannot skip, so that for each query what is skipped, summed over all
  skipped leaves, stays below the unit roundoff (2^-24 in float32) of its running sum: the
  result is what the full sum rounds to, while the cost falls with the data's spread in
  bandwidths instead of staying n x m. With a wide kernel nothing is skipped: the dense sum.
  The Gaussian's terms come from one matrix product per block around its centre
  (-|q - r|^2 = 2 q.r - |r|^2 - |q|^2), exponentiated in base 2 without a shift; queries
  far from the centre, whose digits float32 would lose that way, take the product in
  float64, and those whose terms could underflow take exact differences, shifted.
- Compact kernels (0 beyond the unit ball): `windowed_log_kernel_sum` visits only references
  whose sorted first coordinate is within reach, which is exact because |u| >= |u_axis|.
Coordinates come in kernel units (u = B^-1 (x - centre)), so the term is profile(|q - r|).
"""

from __future__ import annotations

import math

import torch

from genlab.subnormals import subnormals_flushed

LN_2 = math.log(2)
LOG2_E = 1 / LN_2
LEAF_SIZE = 64            # reference points per leaf: smaller boxes prune closer, more boxes cost bookkeeping
QUERY_BLOCK = 1024        # queries per block, partitioned as the references so that their box is small
CACHE_TERMS = 2**19       # terms computed at once (2 MB of float32): each part's few calls amortized, its terms still in cache
FIRST_PASS_LOG2 = 30      # the first pass takes every leaf whose best term is within 2^30 of the nearest leaf's
EXPANSION_LIMIT = 256.0   # |q - centre|^2 (base-2 units) up to which the product form's cancellation in float32 stays below 4e-5
UNDERFLOW_SAFE = 2.0**-100  # sums (per reference) below this may have lost subnormal terms: recomputed shifted


def base2_scale(kernel: str) -> float:
    """The factor on kernel coordinates that makes the squared distance (gaussian) or the
    distance (exponential) the term's base-2 exponent: exp(-|u|^2/2) = 2^-|s u|^2."""
    return math.sqrt(LOG2_E / 2) if kernel == "gaussian" else LOG2_E


def squared_distances(block, ref_t, out, spare):
    """|q_i - r_j|^2 for a block of queries against references given as columns (d, m).

    Up to 3 dimensions, coordinate by coordinate (exact to rounding, a few passes);
    above, one matrix product taken around the block's centre (the usual expansion
    |q|^2 + |r|^2 - 2 q.r, which loses digits only for far-apart points, whose
    kernel values are negligible next to the near ones).
    """
    d = block.shape[1]
    if d <= 3:  # ref_t's rows are contiguous, so each pass streams through memory
        torch.sub(block[:, :1], ref_t[0], out=out).square_()
        for k in range(1, d):
            torch.sub(block[:, k : k + 1], ref_t[k], out=spare)
            out.addcmul_(spare, spare)
        return out
    centre = block.mean(0)
    block, near = block - centre, ref_t.T - centre
    torch.addmm((near * near).sum(1), block, near.T, alpha=-2, out=out)
    return out.add_((block * block).sum(1)[:, None]).clamp_(min=0)


def kd_leaves(points: torch.Tensor, size: int) -> list[torch.Tensor]:
    """The points' indices cut into leaves of at most `size`, each split at the median of
    its widest coordinate: boxes that stay small in any dimension."""
    leaves, pending = [], [torch.arange(len(points), device=points.device)]
    while pending:
        index = pending.pop()
        if len(index) <= size:
            leaves.append(index)
            continue
        part = points[index]
        axis = int((part.amax(0) - part.amin(0)).argmax())
        order = index[part[:, axis].argsort()]
        pending += [order[len(order) // 2:], order[: len(order) // 2]]
    return leaves


class PrunedSum:
    """The Gaussian or exponential kernel's log-sums against fixed references `u` (n, d),
    in kernel units; see the module's docstring."""

    def __init__(self, u: torch.Tensor, kernel: str, dtype: torch.dtype):
        """`u`: the references in kernel units, float64; `dtype`: the type the terms are computed in."""
        self.kernel, self.scale, self.dtype = kernel, base2_scale(kernel), dtype
        scaled = u.double() * self.scale
        leaves = kd_leaves(scaled, LEAF_SIZE)
        self.ref = scaled[torch.cat(leaves)].contiguous()  # (n, d), leaf after leaf
        sizes = torch.tensor([len(leaf) for leaf in leaves], device=u.device)
        self.point_leaf = torch.repeat_interleave(torch.arange(len(leaves), device=u.device), sizes)
        self.log2_count = sizes.double().log2()
        # The leaves' boxes, coordinate by coordinate (d, leaves): the bounds go a coordinate at a time
        self.low = torch.stack([scaled[leaf].amin(0) for leaf in leaves], 1).contiguous()
        self.high = torch.stack([scaled[leaf].amax(0) for leaf in leaves], 1).contiguous()
        self.terms_visited = 0  # of the last call: query-reference pairs computed (the dense sum has n x m)

    def __call__(self, q: torch.Tensor) -> torch.Tensor:
        """ln sum_j K(q_i - r_j) for every row of q (kernel units, float64), in `dtype`."""
        scaled = q.double() * self.scale
        out = torch.empty(len(q), dtype=self.dtype, device=q.device)
        roundoff = math.log2(torch.finfo(self.dtype).eps / 2)  # 2^-24 in float32
        rows = QUERY_BLOCK
        # Buffers reused by every part (fresh ones would cost a page fault per 4 KB): the terms
        # in `dtype`, and two of float64 for the exact differences
        size = max(CACHE_TERMS, 64 * min(rows, len(q)))
        work = (torch.empty(size, dtype=self.dtype, device=q.device), torch.empty(2, size, dtype=torch.float64, device=q.device))
        self.terms_visited = 0
        with subnormals_flushed():
            for index in kd_leaves(scaled, rows):
                block = scaled[index]
                # log2 of each leaf's count x the largest term any query of the block gets
                bound = self._leaf_bounds(block.amin(0, keepdim=True), block.amax(0, keepdim=True))[0]
                first = bound >= bound.max() - FIRST_PASS_LOG2
                total = self._log2_sums(block, first, work)
                # Half of what may be skipped goes to the leaves skipped for the whole block
                # (against its smallest sum), half to those skipped query by query among the rest.
                rest = self._needed(bound, ~first, float(total.min()) + roundoff - 1)
                if rest.any():
                    candidates = rest.nonzero().squeeze(1)
                    allowed = total.to(torch.float64) + (roundoff - 1 - math.log2(len(candidates)))
                    rest[candidates] = (self._leaf_bounds(block, block, candidates) >= allowed[:, None]).any(0)
                if rest.any():
                    total = torch.logaddexp2(total, self._log2_sums(block, rest, work, total + (roundoff - 2)))
                out[index] = total
        return out.mul_(LN_2)

    @staticmethod
    def _needed(bound: torch.Tensor, left: torch.Tensor, allowed: float) -> torch.Tensor:
        """Of the leaves `left`, those to visit so that the bounds of the ones skipped, summed
        (the smallest first), stay below 2^allowed: the block's smallest sum x the roundoff."""
        candidates = left.nonzero().squeeze(1)
        order = candidates[bound[candidates].argsort()]
        skipped = torch.logcumsumexp(bound[order] * LN_2, 0) * LOG2_E < allowed
        needed = torch.zeros_like(left)
        needed[order[~skipped]] = True
        return needed

    def _leaf_bounds(self, low: torch.Tensor, high: torch.Tensor, leaves: torch.Tensor | None = None) -> torch.Tensor:
        """log2(count) - the term's exponent at the shortest distance from each box (rows of
        `low` and `high`: the block's box, or each query's point) to each leaf's box, (boxes,
        leaves) or (boxes, len(leaves)). A coordinate at a time: torch reduces a last axis of
        2 or 3 slowly."""
        leaf_low, leaf_high, log2_count = (self.low, self.high, self.log2_count) if leaves is None else (
            self.low[:, leaves], self.high[:, leaves], self.log2_count[leaves])
        exponent = torch.zeros(len(low), leaf_low.shape[1], dtype=low.dtype, device=low.device)
        for k in range(low.shape[1]):
            gap = torch.maximum(leaf_low[k] - high[:, k : k + 1], low[:, k : k + 1] - leaf_high[k]).clamp_(min=0)
            exponent.addcmul_(gap, gap)
        return log2_count - (exponent if self.kernel == "gaussian" else exponent.sqrt_())

    def _log2_sums(self, block: torch.Tensor, leaves: torch.Tensor, work: tuple[torch.Tensor, torch.Tensor],
                   negligible: torch.Tensor | None = None) -> torch.Tensor:
        """log2 sum_j 2^-e(q_i, r_j) over the points of the chosen leaves (a mask over leaves).
        A query's sum that may have lost terms to underflow is recomputed shifted, unless
        everything lost (each term under `dtype`'s smallest normal) stays below 2^negligible
        (log2, per query: a part of the sum found so far that does not change its rounding)."""
        # Around the block's centre in float64: the near terms, which make the sum, keep every
        # digit of their differences (the coordinates themselves are float64).
        centre = block.mean(0)
        ref, block = self.ref[leaves[self.point_leaf]] - centre, block - centre
        self.terms_visited += len(block) * len(ref)
        if self.kernel != "gaussian":
            return self._shifted_log2_sums(block, ref, work)
        # Queries far from the centre (a sparse region's) would lose their near terms' digits
        # to the product form's cancellation in `dtype`: theirs goes in float64.
        far = (block * block).sum(1) > EXPANSION_LIMIT
        if not far.any():
            return self._product_log2_sums(block, ref, work, self.dtype, negligible)
        total = torch.empty(len(block), dtype=self.dtype, device=block.device)
        for rows, product in ((~far, self.dtype), (far, torch.float64)):
            if rows.any():
                total[rows] = self._product_log2_sums(block[rows], ref, work, product, None if negligible is None else negligible[rows])
        return total

    def _product_log2_sums(self, block, ref, work, product: torch.dtype, negligible: torch.Tensor | None) -> torch.Tensor:
        """The Gaussian's sums from one matrix product per part, -|q - r|^2 = 2 q.r - |r|^2 - |q|^2
        as [2q, -1, -|q|^2] [r, |r|^2, 1]^T, in `product`; the exponentials in `dtype`."""
        near, queries = ref.to(product), block.to(product)
        left = torch.cat([2 * queries, -torch.ones_like(queries[:, :1]), -(queries * queries).sum(1, keepdim=True)], 1)
        right = torch.cat([near, (near * near).sum(1, keepdim=True), torch.ones_like(near[:, :1])], 1)
        total = torch.zeros(len(block), dtype=self.dtype, device=block.device)
        for part in right.split(max(64, CACHE_TERMS // len(block))):  # each part's terms stay in the CPU's cache
            shape, size = (len(block), len(part)), len(block) * len(part)
            terms = work[0][:size].view(shape)
            if product == self.dtype:
                torch.mm(left, part.T, out=terms)
            else:
                terms.copy_(torch.mm(left, part.T, out=work[1][0, :size].view(shape)))
            total += terms.exp2_().sum(1)
        recompute = total <= UNDERFLOW_SAFE * len(ref)
        if negligible is not None:
            recompute &= negligible.to(self.dtype) <= math.log2(len(ref) * torch.finfo(self.dtype).tiny)
        total.log2_()
        if recompute.any():  # queries far from these leaves: their terms, shifted by the nearest
            total[recompute] = self._shifted_log2_sums(block[recompute], ref, work)
        return total

    def _shifted_log2_sums(self, block, ref, work) -> torch.Tensor:
        """The same sums from exact differences (of float64 coordinates), each row shifted by its
        nearest term: for the exponential kernel, and for queries far from every reference
        (whose terms would underflow unshifted). A part of the references at a time, the
        parts' sums joined in log space."""
        floor = -120.0 if self.dtype == torch.float32 else -1000.0
        total = torch.full((len(block),), -math.inf, dtype=self.dtype, device=block.device)
        for part in ref.split(max(64, CACHE_TERMS // len(block))):
            shape, size = (len(block), len(part)), len(block) * len(part)
            exponent, spare, terms = work[1][0, :size].view(shape), work[1][1, :size].view(shape), work[0][:size].view(shape)
            squared_distances(block, part.T.contiguous(), exponent, spare)
            if self.kernel == "exponential":
                exponent.sqrt_()
            nearest = exponent.amin(1, keepdim=True)
            # The shifted exponents lie in [floor, 0]: in `dtype` they keep each term to its
            # rounding, so the exponentials and the sum go at `dtype`'s speed.
            terms.copy_(torch.sub(nearest, exponent, out=exponent).clamp_(min=floor)).exp2_()  # (a sub that casts is slow)
            total = torch.logaddexp2(total, terms.sum(1).log2_() - nearest.squeeze(1).to(self.dtype))
        return total


def windowed_log_kernel_sum(q, ref_sorted_t, keys, axis, kernel, rows_per_block: int = 256):
    """log sum_j K(q_i - r_j) for kernels that vanish outside the unit ball.

    Queries are sorted along `axis`; each block only meets the reference points
    whose coordinate on that axis lies within one unit of the block's range. The
    work is small, so the caller gives float64 coordinates: near the support's
    edge, 1 - |u|^2 is a difference of nearly equal numbers.
    """
    order = q[:, axis].argsort()
    q_sorted = q[order]
    out_sorted = torch.empty(len(q), dtype=q.dtype, device=q.device)
    starts = torch.arange(0, len(q), rows_per_block, device=q.device)
    ends = (starts + rows_per_block).clamp(max=len(q)) - 1
    los = torch.searchsorted(keys, q_sorted[starts, axis] - 1, right=False).tolist()
    his = torch.searchsorted(keys, q_sorted[ends, axis] + 1, right=True).tolist()
    widest = max(hi - lo for lo, hi in zip(los, his))
    workspace = torch.empty(2, rows_per_block * max(widest, 1), dtype=q.dtype, device=q.device)
    for start, lo, hi in zip(starts.tolist(), los, his):
        block = q_sorted[start : start + rows_per_block]
        shape = (len(block), hi - lo)
        out, spare = (w[: shape[0] * shape[1]].view(shape) for w in workspace)
        sq = squared_distances(block, ref_sorted_t[:, lo:hi], out, spare)
        if kernel == "tophat":
            total = (sq < 1).sum(1).to(q.dtype)
        elif kernel == "epanechnikov":
            total = sq.neg_().add_(1).clamp_(min=0).sum(1)
        else:  # linear
            total = sq.sqrt_().neg_().add_(1).clamp_(min=0).sum(1)
        out_sorted[start : start + rows_per_block] = total.log()
    return torch.empty_like(out_sorted).index_put_((order,), out_sorted)

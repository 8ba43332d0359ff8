"""Gaussian mixture fitted by expectation-maximization (Dempster, Laird & Rubin 1977).

The lecture's "GMM E-M". Computed in float64 with the data laid out so that each
EM step is two matrix products: the E-step maps every point through all precision
factors at once, and the M-step reads responsibilities against the columns
[1, x, x x^T] of each point, which give N_k, the weighted sums and the second
moments together. The data are centred first, so second moments lose no digits
to a far-away origin.
"""

from __future__ import annotations

import math

import torch

from genlab.arrays import to_tensor
from genlab.errors import ConfigError, check_choice, check_nonnegative, check_positive
from genlab.models.base import GenerativeModel
from genlab.models.estimator import like_input

COVARIANCE_TYPES = ("full", "diag", "spherical", "tied")
INITS = ("kmeans++", "random", "random_from_data")
LN_2 = math.log(2)


class GMM(GenerativeModel):
    """Gaussian mixture model, fitted by EM.

    Args:
        n_components: number of Gaussians K (default 3, as conf/model/gmm.yaml).
        covariance_type: full, diag, spherical or tied (default full), as scikit-learn.
        init: how EM starts (default kmeans++): "kmeans++" picks K centres by
            k-means++ seeding and "random_from_data" K distinct data points; both
            then give each point to its nearest centre (scikit-learn instead gives
            each component only its centre, so it starts from covariances of
            reg_covar). "random" draws random responsibilities.
        n_init: number of EM runs from different starts; the best final
            log-likelihood wins (default 1).
        max_iter: most M-steps per run (default 100).
        tol: stop when the mean log-likelihood changes by less than this (default 1e-3).
        reg_covar: added to every covariance's diagonal, so no component can
            collapse onto a point (default 1e-6).
        weights_init, means_init, covariances_init: explicit starting parameters
            (all three together), e.g. to compare with another implementation.
        seed: seed of the starts; None uses torch's global generator (default None).
    Fitted: weights_, means_, covariances_ (shaped as scikit-learn's for the
        covariance type), log_likelihood_history_ (mean log-likelihood at the start
        and after every M-step), n_iter_, converged_.
    """

    fitted_state = ("weights_", "means_", "covariances_", "log_likelihood_history_", "n_iter_", "converged_")
    label = "GMM E-M"

    def __init__(
        self,
        n_components: int = 3,
        covariance_type: str = "full",
        init: str = "kmeans++",
        n_init: int = 1,
        max_iter: int = 100,
        tol: float = 1e-3,
        reg_covar: float = 1e-6,
        weights_init=None,
        means_init=None,
        covariances_init=None,
        seed: int | None = None,
    ):
        self.n_components = check_positive("n_components", n_components, integer=True)
        self.covariance_type = check_choice("covariance_type", covariance_type, COVARIANCE_TYPES)
        self.init = check_choice("init", init, INITS)
        self.n_init = check_positive("n_init", n_init, integer=True)
        self.max_iter = check_positive("max_iter", max_iter, integer=True)
        self.tol = check_nonnegative("tol", tol)
        self.reg_covar = check_nonnegative("reg_covar", reg_covar)
        given = [v is not None for v in (weights_init, means_init, covariances_init)]
        if any(given) and not all(given):
            raise ConfigError("weights_init, means_init and covariances_init must be given together")
        self.start = None if not any(given) else (weights_init, means_init, covariances_init)
        self.seed = seed
        self._dtype = torch.float32  # of samples; fit sets it to the data's
        for name in self.fitted_state:
            setattr(self, name, None)

    # -- fitting ---------------------------------------------------------------------------

    def fit(self, x: torch.Tensor) -> "GMM":
        x = self._as_points(x)
        if x.device.type == "mps":
            raise ConfigError("gmm computes in float64, which mps does not support; use device=cpu")
        n, d = x.shape
        if self.n_components > n:
            raise ConfigError(f"n_components must be at most the number of training points ({n}) (got {self.n_components})")
        self._dtype = x.dtype
        data = x.double()
        origin = data.mean(0)
        data = data - origin
        # Below this a component's variance is rounding noise of the data's own scale: it has collapsed.
        self._collapse_floor = 1e-9 * data.var(0, unbiased=False).mean().item()
        # Columns [1, x, vec(x x^T)]: one product with the responsibilities gives the M-step.
        moments = torch.cat([torch.ones(n, 1, dtype=data.dtype, device=data.device), data, (data[:, :, None] * data[:, None, :]).reshape(n, d * d)], 1)
        generator = None if self.seed is None else torch.Generator(device=data.device).manual_seed(self.seed)
        best = None
        for _ in range(1 if self.start is not None else self.n_init):
            params = self._given_start(origin, d, data) if self.start is not None else self._m_step(self._initial_responsibilities(data, generator), moments, n, d)
            run = self._em(params, data, moments, n, d)
            if best is None or run[1][-1] > best[1][-1]:
                best = run
        (weights, means, covariances), history, converged = best
        self.weights_, self.means_ = weights, means + origin
        self.covariances_ = _to_sklearn_shape(covariances, self.covariance_type)
        self.log_likelihood_history_ = torch.tensor(history, dtype=torch.float64)
        self.n_iter_, self.converged_ = len(history) - 1, converged
        return self

    def _em(self, params, data, moments, n, d):
        workspace = (data.new_empty(self.n_components * d, n), data.new_empty(self.n_components, n))
        log_likelihood, resp = self._e_step(params, data, workspace)
        history, converged = [log_likelihood], False
        for _ in range(self.max_iter):
            params = self._m_step(resp, moments, n, d)
            log_likelihood, resp = self._e_step(params, data, workspace)
            history.append(log_likelihood)
            if abs(history[-1] - history[-2]) < self.tol:
                converged = True
                break
        return params, history, converged

    def _e_step(self, params, data, workspace=None):
        """Mean log-likelihood and responsibilities (K, n) under the given parameters.

        A log-sum-exp written out in base 2 (exp2 is several times faster than exp
        on the CPU), reusing the exponentials for the responsibilities.
        """
        weights, means, covariances = params
        precision = _precision_cholesky(covariances, self._collapse_floor)
        log2_prob = _component_log_prob(data, means, precision, weights, base=2, workspace=workspace)
        shift = log2_prob.amax(0)
        # Clamped above float64's smallest normal number: denormals are slow and weigh nothing.
        resp = log2_prob.sub_(shift).clamp_(min=-1000.0).exp2_()
        total = resp.sum(0)
        log_likelihood = (total.log2() + shift).mean().item() * LN_2
        return log_likelihood, resp.div_(total)

    def _m_step(self, resp, moments, n, d):
        k = self.n_components
        sums = resp @ moments  # (K, 1 + d + d*d)
        counts = sums[:, 0] + 10 * torch.finfo(sums.dtype).eps  # as scikit-learn: no empty component divides by 0
        means = sums[:, 1 : 1 + d] / counts[:, None]
        second = sums[:, 1 + d :].reshape(k, d, d) / counts[:, None, None]
        covariances = second - means[:, :, None] * means[:, None, :]
        if self.covariance_type == "tied":
            covariances = (counts[:, None, None] * covariances).sum(0, keepdim=True).expand(k, d, d) / counts.sum()
        elif self.covariance_type == "diag":
            covariances = torch.diag_embed(torch.diagonal(covariances, dim1=1, dim2=2))
        elif self.covariance_type == "spherical":
            variance = torch.diagonal(covariances, dim1=1, dim2=2).mean(1)
            covariances = variance[:, None, None] * torch.eye(d, dtype=resp.dtype, device=resp.device)
        covariances = covariances + self.reg_covar * torch.eye(d, dtype=resp.dtype, device=resp.device)
        return counts / counts.sum(), means, covariances

    def _initial_responsibilities(self, data, generator):
        n, k = len(data), self.n_components
        if self.init == "random":
            resp = torch.rand(k, n, generator=generator, dtype=data.dtype, device=data.device)
            return resp / resp.sum(0)
        if self.init == "random_from_data":
            centres = data[torch.randperm(n, generator=generator, device=data.device)[:k]]
        else:
            centres = _kmeans_plusplus(data, k, generator)
        nearest = torch.cdist(centres, data).argmin(0)
        return torch.nn.functional.one_hot(nearest, k).T.to(data.dtype)

    def _given_start(self, origin, d, data):
        k = self.n_components
        weights, means, covariances = (torch.as_tensor(v, dtype=torch.float64, device=data.device) for v in self.start)
        if weights.shape != (k,) or means.shape != (k, d):
            raise ConfigError(f"weights_init must have shape ({k},) and means_init ({k}, {d})")
        return weights / weights.sum(), means - origin, _from_sklearn_shape(covariances, self.covariance_type, k, d)

    # -- the protocol ----------------------------------------------------------------------

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        x, log_prob = self._weighted_log_prob(x)
        return torch.logsumexp(log_prob, 0).to(x.dtype)

    @like_input
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """(n, n_components): each component's responsibility for each row, the posterior
        probability that the row was drawn from it."""
        x, log_prob = self._weighted_log_prob(x)
        return torch.softmax(log_prob, 0).T.to(x.dtype)

    @like_input
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """The index of the most responsible component of each row."""
        return self.predict_proba(x).argmax(1)

    def _weighted_log_prob(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """x checked, and the (K, n) table of log(w_k N(x_i | mu_k, Sigma_k))."""
        self._check_fitted()
        k, d = self.means_.shape
        x = self._as_points(x, dim=d)
        covariances = _from_sklearn_shape(self.covariances_, self.covariance_type, k, d)
        return x, _component_log_prob(x.to(self.means_), self.means_, _precision_cholesky(covariances), self.weights_)

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check_fitted()
        k, d = self.means_.shape
        covariances = _from_sklearn_shape(self.covariances_, self.covariance_type, k, d)
        component = torch.multinomial(self.weights_, int(n), replacement=True, generator=generator)
        noise = torch.randn(int(n), d, 1, generator=generator, dtype=self.means_.dtype, device=self.means_.device)
        points = self.means_[component] + (torch.linalg.cholesky(covariances)[component] @ noise).squeeze(-1)
        return points.to(self._dtype)

    def figures(self, data) -> dict[str, str]:
        return {"em.png": "genlab.plots.curves:plot_em"}

    # -- Langevin and MALA (genlab.sampling) ------------------------------------------------

    def differentiable_log_prob(self):
        """log_prob through torch's MixtureSameFamily, which autograd passes. No argument
        checks: a runaway chain's NaN must reach the sampler, which names the step."""
        mixture = torch.distributions.MixtureSameFamily(
            torch.distributions.Categorical(probs=self.weights_, validate_args=False),
            torch.distributions.MultivariateNormal(self.means_, covariance_matrix=self.full_covariances(), validate_args=False),
            validate_args=False,
        )
        dtype = self.means_.dtype

        def log_prob(x: torch.Tensor) -> torch.Tensor:
            return mixture.log_prob(x.to(dtype)).to(x.dtype)

        return log_prob

    def smallest_variance(self) -> float:
        """The smallest eigenvalue of any component's covariance."""
        self._check_fitted()
        return torch.linalg.eigvalsh(self.full_covariances()).min().item()

    def full_covariances(self) -> torch.Tensor:
        """(k, d, d) covariances whatever covariance_type stores; built on the CPU (the
        spherical case multiplies by a CPU identity), then moved."""
        k, d = self.means_.shape
        return _from_sklearn_shape(self.covariances_.cpu(), self.covariance_type, k, d).to(self.means_.device)

    @property
    def n_parameters(self) -> int:
        """Free parameters, as scikit-learn counts them for BIC and AIC."""
        self._check_fitted()
        k, d = self.means_.shape
        covariance = {"full": k * d * (d + 1) // 2, "diag": k * d, "tied": d * (d + 1) // 2, "spherical": k}
        return covariance[self.covariance_type] + k * d + k - 1

    def summary(self, x: torch.Tensor) -> dict:
        return {
            **self.information_criteria(x),
            "em_iterations": int(self.n_iter_),
            "converged": bool(self.converged_),
            "em_log_likelihood": self.log_likelihood_history_.tolist(),
        }

    def information_criteria(self, x: torch.Tensor) -> dict:
        """BIC and AIC on x (lower is better), from one pass over the data."""
        x = to_tensor(x)
        total = self.log_prob(x).double().sum().item()
        return {"bic": -2 * total + self.n_parameters * math.log(len(x)), "aic": -2 * total + 2 * self.n_parameters}

    def bic(self, x: torch.Tensor) -> float:
        """Bayesian information criterion on x (lower is better)."""
        return self.information_criteria(x)["bic"]

    def aic(self, x: torch.Tensor) -> float:
        """Akaike information criterion on x (lower is better)."""
        return self.information_criteria(x)["aic"]


def _precision_cholesky(covariances: torch.Tensor, floor: float = 0.0) -> torch.Tensor:
    """P_k with P_k P_k^T = inverse covariance.

    A component whose Cholesky pivot (squared) is at most `floor` has collapsed:
    a pivot bounds the smallest eigenvalue's share, and rounding alone can leave a
    singular covariance slightly positive, so a failed factorization is not enough.
    """
    factor, info = torch.linalg.cholesky_ex(covariances)
    pivots = torch.diagonal(factor, dim1=1, dim2=2).amin(1) ** 2
    collapsed = ((info != 0) | (pivots <= floor)).nonzero()
    if len(collapsed):
        raise ConfigError(
            f"reg_covar is too small: component {int(collapsed[0])} collapsed onto too few points "
            "(singular covariance); raise reg_covar or lower n_components"
        )
    eye = torch.eye(covariances.shape[-1], dtype=covariances.dtype, device=covariances.device).expand_as(covariances)
    return torch.linalg.solve_triangular(factor, eye, upper=False).transpose(1, 2)


def _component_log_prob(data, means, precision_cholesky, weights, base=math.e, workspace=None):
    """log(w_k N(x_i | mu_k, Sigma_k)) in the given base, as a (K, n) table.

    All P_k meet the data in one matrix product; the squares are summed one
    coordinate at a time (torch reduces a short middle axis slowly). EM passes a
    `workspace` of two buffers, (K*d, n) and (K, n), reused every iteration: fresh
    allocations of that size cost page faults each time.
    """
    k, d = means.shape
    n = len(data)
    if workspace is None:
        workspace = (data.new_empty(k * d, n), data.new_empty(k, n))
    projected, out = workspace
    torch.mm(precision_cholesky.transpose(1, 2).reshape(k * d, d), data.T, out=projected)
    centred = projected.view(k, d, n).sub_((means[:, None, :] @ precision_cholesky).reshape(k, d, 1))
    torch.square(centred[:, 0], out=out)
    for j in range(1, d):
        out.addcmul_(centred[:, j], centred[:, j])
    log_det = torch.diagonal(precision_cholesky, dim1=1, dim2=2).log().sum(1)
    constant = (weights.log() + log_det - 0.5 * d * math.log(2 * math.pi)) / math.log(base)
    return out.mul_(-0.5 / math.log(base)).add_(constant[:, None])


def _kmeans_plusplus(data, k, generator):
    """k-means++ seeding (Arthur & Vassilvitskii 2007): each new centre drawn with
    probability proportional to the squared distance to the nearest centre so far."""
    n = len(data)
    first = torch.randint(n, (1,), generator=generator, device=data.device)
    centres = [data[first[0]]]
    closest = ((data - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        weights = closest if closest.sum() > 0 else torch.ones_like(closest)
        index = torch.multinomial(weights, 1, generator=generator)[0]
        centres.append(data[index])
        closest = torch.minimum(closest, ((data - data[index]) ** 2).sum(1))
    return torch.stack(centres)


def _to_sklearn_shape(covariances, covariance_type):
    if covariance_type == "tied":
        return covariances[0].clone()
    if covariance_type == "diag":
        return torch.diagonal(covariances, dim1=1, dim2=2).clone()
    if covariance_type == "spherical":
        return covariances[:, 0, 0].clone()
    return covariances


def _from_sklearn_shape(covariances, covariance_type, k, d):
    """Full (K, d, d) matrices from scikit-learn's per-type shapes."""
    covariances = torch.as_tensor(covariances, dtype=torch.float64)
    expected = {"full": (k, d, d), "tied": (d, d), "diag": (k, d), "spherical": (k,)}[covariance_type]
    if tuple(covariances.shape) != expected:
        raise ConfigError(f"covariances for covariance_type={covariance_type} must have shape {expected} (got {tuple(covariances.shape)})")
    if covariance_type == "tied":
        return covariances.expand(k, d, d)
    if covariance_type == "diag":
        return torch.diag_embed(covariances)
    if covariance_type == "spherical":
        return covariances[:, None, None] * torch.eye(d, dtype=covariances.dtype)
    return covariances

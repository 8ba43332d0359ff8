"""The curse of dimension: a KDE against a GMM fitted by EM as the dimension d grows.

The lecture: kernel density estimation "converges to the right thing, suffers a
curse of dimension". The data are a Gaussian mixture in d dimensions, three
components with equal weights, means −3, 0, 3 on the first axis and isotropic
standard deviations 0.6, 1, 1.4 (the clusters differ in one direction, the other
d − 1 are noise), with the same number of training points at every d. Scored by the
held-out log-likelihood in nats per test point; its gap to the true density's is a
Monte Carlo estimate of KL(p ‖ model), drawn with its standard error (the gap is
paired on the same test points). The KDE is Gaussian with its bandwidth chosen by
held-out likelihood (`cv`, the best isotropic bandwidth it can have); the GMM has
the right number of components, full covariances. The GMM's gap is of the order of
k / (2n), the cost of estimating its k parameters from n points (the expected
excess of held-out over true log-loss of a well-specified model, as behind AIC),
drawn for reference; the KDE's grows much faster.
"""

from __future__ import annotations

from pathlib import Path

import torch

from genlab.data import GaussianMixture
from genlab.metrics.standard_error import standard_error
from genlab.models import GMM, KDE
from genlab.plots import style

CLUSTER_CENTRES = (-3.0, 0.0, 3.0)  # on the first axis
CLUSTER_STDS = (0.6, 1.0, 1.4)


def draw(run_dir: Path, device, seed: int, dimensions=(1, 2, 4, 8, 16, 32), n_train: int = 2000, n_test: int = 2000, kde_bandwidth: str = "cv", gmm_inits: int = 3) -> dict:
    """Held-out log-likelihood of the truth, a KDE and a 3-component GMM at each dimension."""
    rows = []
    for d in dimensions:
        data = mixture(d, n_train, n_test, seed)
        train, test = data.train.to(device), data.test.to(device)
        truth = data.log_prob(data.test).double()
        kde = KDE(kernel="gaussian", bandwidth=kde_bandwidth).fit(train)
        gmm = GMM(n_components=len(CLUSTER_CENTRES), covariance_type="full", n_init=gmm_inits, seed=seed).fit(train)
        row = {"dimension": d, "true": truth.mean().item(), "kde_bandwidth": float(kde.bandwidth_), "gmm_parameters": gmm.n_parameters}
        for name, model in (("kde", kde), ("gmm", gmm)):
            log_likelihood = model.log_prob(test).double().cpu()
            gap = truth - log_likelihood
            row[name] = log_likelihood.mean().item()
            row[f"{name}_gap"] = gap.mean().item()
            row[f"{name}_gap_standard_error"] = standard_error(gap)
        rows.append(row)

    fig, axes = style.figure(ncols=2, width=5.0, height=3.9)
    ds = [row["dimension"] for row in rows]
    for name, colour, label in (("kde", style.REFERENCE_COLOR, f"kde (Gaussian, bandwidth {kde_bandwidth})"), ("gmm", style.MODEL_COLOR, "GMM E-M, 3 components")):
        axes[0].errorbar(ds, [row[f"{name}_gap"] for row in rows], yerr=[2 * row[f"{name}_gap_standard_error"] for row in rows], marker="o", ms=4, capsize=3, color=colour, label=label)
        axes[1].plot(ds, [row[name] / row["dimension"] for row in rows], "o-", ms=4, color=colour, label=label)
    axes[0].plot(ds, [row["gmm_parameters"] / (2 * n_train) for row in rows], ":", color=style.MODEL_COLOR, label="k / (2n): GMM's k parameters")
    axes[0].set(xscale="log", yscale="log", title=f"Gap to the truth (KL estimate ± 2 se), n = {n_train}", xlabel="dimension d", ylabel="true − model held-out LL (nats/point)")
    axes[1].plot(ds, [row["true"] / row["dimension"] for row in rows], "--", color=style.TRUE_COLOR, label="true density")
    axes[1].set(xscale="log", title="Held-out log-likelihood per dimension", xlabel="dimension d", ylabel="nats per point per dimension")
    for ax in axes:
        ax.set_xticks(ds, [str(d) for d in ds])
        ax.minorticks_off()
        ax.legend(fontsize=8)
    style.save(fig, run_dir / "figure.png")
    return {"n_train": n_train, "n_test": n_test, "unit": "nats per test point", "kde_bandwidth_rule": kde_bandwidth, "dimensions": rows}


def mixture(d: int, n_train: int, n_test: int, seed: int) -> GaussianMixture:
    """Three isotropic clusters in R^d, apart along the first axis only."""
    means = torch.zeros(len(CLUSTER_CENTRES), d, dtype=torch.float64)
    means[:, 0] = torch.tensor(CLUSTER_CENTRES)
    covariances = torch.tensor(CLUSTER_STDS, dtype=torch.float64)[:, None, None] ** 2 * torch.eye(d, dtype=torch.float64)
    return GaussianMixture(means, covariances, n_train=n_train, n_test=n_test, seed=seed)

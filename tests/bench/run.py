"""`make bench`: genlab against its references, side by side in one process, one thread each.

Writes a Markdown table of speed ratios (reference time / genlab time, median of
several runs) and accuracy to stdout and to outputs/bench/bench.md. Timings are
never asserted in tests: these machines are noisy, ratios measured together are not.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")  # before numpy, scipy or torch start their pools

import math  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
import torch  # noqa: E402
from scipy.stats import gaussian_kde  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.mixture import GaussianMixture  # noqa: E402
from sklearn.neighbors import KernelDensity  # noqa: E402
from threadpoolctl import threadpool_limits  # noqa: E402

from genlab.data import Mixture1D, Mixture2D  # noqa: E402
from genlab.models import GMM, KDE  # noqa: E402

torch.set_num_threads(1)
warnings.filterwarnings("ignore", category=ConvergenceWarning)


def median_time(fn, repeats: int) -> tuple[float, object]:
    result, times = None, []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def exact_log_density(x: torch.Tensor, y: torch.Tensor, h: float) -> torch.Tensor:
    """The Gaussian KDE's log-density in float64 by logsumexp over every pair: the truth both are held to."""
    x, y = x.double(), y.double()
    d = x.shape[1]
    parts = [torch.logsumexp(-torch.cdist(b, x).square() / (2 * h * h), 1) for b in y.split(500)]
    return torch.cat(parts) - math.log(len(x)) - d * math.log(h) - d / 2 * math.log(2 * math.pi)


def kde_cases() -> list[tuple[str, torch.Tensor, torch.Tensor, float, int]]:
    """The issue's cases: each set standardized to unit variance, 10k x 10k, h absolute;
    target 25x at h = 0.05 and 0.2, 20x at h = 1.0 (no term negligible: raw throughput)."""
    def standardized(x):
        return ((x - x.mean(0)) / x.std(0)).float()

    generator = torch.Generator().manual_seed(0)
    mixture = Mixture2D(n_train=10_000, n_test=10_000, seed=0)
    student = torch.distributions.StudentT(3.0)
    torch.manual_seed(0)  # the Student-t draws
    sets = {"mixture2d": (standardized(mixture.train), standardized(mixture.test))}
    for d in (1, 2, 3):
        sets[f"normal {d}D"] = (torch.randn(10_000, d, generator=generator), torch.randn(10_000, d, generator=generator))
    sets["Student-t(3) 2D"] = (standardized(student.sample((10_000, 2))), standardized(student.sample((10_000, 2))))
    cases = []
    for name, (x, y) in sets.items():
        for h in ((0.05, 0.2, 1.0) if x.shape[1] == 2 else (0.2,)):
            cases.append((name, x, y, h, 20 if h == 1.0 else 25))
    return cases


def kde_rows(repeats: int) -> list[dict]:
    rows = []
    for name, x, y, h, target in kde_cases():
        ours = KDE("gaussian", h).fit(x)
        reference = KernelDensity(kernel="gaussian", bandwidth=h).fit(x.double().numpy())
        t_ours, got = median_time(lambda: ours.log_prob(y), repeats)
        t_ref, expected = median_time(lambda: reference.score_samples(y.double().numpy()), max(1, repeats // 2))
        exact = exact_log_density(x, y, h)
        near = exact > -50
        ours_error = (got.double() - exact)[near].abs().max().item()
        ours_relative = ((got.double() - exact) / exact)[~near].abs().max().item() if (~near).any() else 0.0
        sklearn_error = (torch.from_numpy(expected) - exact).abs().max().item()
        rows.append(dict(case=f"KDE gaussian, {name}, 10k x 10k, h={h}", reference="sklearn KernelDensity",
                         genlab_s=t_ours, reference_s=t_ref, target=target,
                         accuracy=f"genlab vs exact: {ours_error:.1e} (log p > -50), rel {ours_relative:.1e} below; "
                                  f"terms visited {100 * ours._sum.terms_visited / (len(x) * len(y)):.0f}%; sklearn off by up to {sklearn_error:.1e}"))
    data = Mixture2D(n_train=10_000, n_test=10_000, seed=0)
    x, y = data.train, data.test
    ours = KDE("epanechnikov", 0.2).fit(x)
    reference = KernelDensity(kernel="epanechnikov", bandwidth=0.2, algorithm="kd_tree").fit(x.double().numpy())
    t_ours, got = median_time(lambda: ours.log_prob(y), repeats)
    t_ref, expected = median_time(lambda: reference.score_samples(y.double().numpy()), repeats)
    got, expected = got.double(), torch.from_numpy(expected)
    both = torch.isfinite(got) & torch.isfinite(expected)
    note = f"support disagreements: {int((torch.isfinite(got) != torch.isfinite(expected)).sum())}"
    rows.append(dict(case="KDE epanechnikov, mixture2d, 10k x 10k, h=0.2", reference="sklearn KernelDensity (kd_tree)",
                     genlab_s=t_ours, reference_s=t_ref, target=4,
                     accuracy=f"max abs diff {float((got[both] - expected[both]).abs().max()):.1e}; {note}"))
    ours = KDE("gaussian", "scott").fit(x)
    reference = gaussian_kde(x.double().numpy().T, bw_method="scott")
    t_ours, got = median_time(lambda: ours.log_prob(y), repeats)
    t_ref, expected = median_time(lambda: reference.logpdf(y.double().numpy().T), max(1, repeats // 2))
    diff = float((got.double() - torch.from_numpy(expected)).abs().max())
    rows.append(dict(case="KDE gaussian, mixture2d, 10k x 10k, Scott's rule", reference="scipy gaussian_kde",
                     genlab_s=t_ours, reference_s=t_ref, target=None, accuracy=f"max abs diff {diff:.1e}"))
    return rows


def exp2_throughput() -> float:
    """This machine's torch.exp2 on float32, one thread, in billions of elements a second:
    the vectorized kernel the Gaussian sums run on, so tables from two machines compare."""
    values = -torch.rand(2**22) * 30
    out = torch.empty_like(values)
    seconds, _ = median_time(lambda: [torch.exp2(values, out=out) for _ in range(10)], 5)
    return 10 * len(values) / seconds / 1e9


def gmm_rows(repeats: int) -> list[dict]:
    rows = []
    for data, k, target in ((Mixture2D(n_train=100_000, n_test=10), 8, 3), (Mixture1D(n_train=100_000, n_test=10), 3, 4)):
        x = data.train.double()
        start = GMM(k, seed=0, max_iter=1, tol=0).fit(x)  # one shared starting point for both
        w, m, c = start.weights_, start.means_, start.covariances_

        def ours(iterations):
            return GMM(k, weights_init=w, means_init=m, covariances_init=c, max_iter=iterations, tol=0).fit(x)

        def reference(iterations):
            return GaussianMixture(k, covariance_type="full", init_params="random_from_data", weights_init=w.numpy(),
                                   means_init=m.numpy(), precisions_init=torch.linalg.inv(c).numpy(),
                                   max_iter=iterations, tol=0).fit(x.numpy())

        # Per EM iteration: (time for 100 iterations - time for 1) / 99, so set-up costs cancel.
        t_ours, fitted = median_time(lambda: ours(100), repeats)
        t_ours = (t_ours - median_time(lambda: ours(1), repeats)[0]) / 99
        t_ref, sk = median_time(lambda: reference(100), repeats)
        t_ref = (t_ref - median_time(lambda: reference(1), repeats)[0]) / 99
        diff = abs(fitted.log_prob(x).mean().item() - sk.score(x.numpy()))
        rows.append(dict(case=f"GMM EM, {data.dim}D, n=100k, k={k}, full, per iteration", reference="sklearn GaussianMixture",
                         genlab_s=t_ours, reference_s=t_ref, target=target,
                         accuracy=f"final log-likelihood diff {diff:.1e} (after {fitted.n_iter_} vs {sk.n_iter_} iterations)"))
    return rows


def main() -> None:
    repeats = int(os.environ.get("GENLAB_BENCH_REPEATS", "5"))
    with threadpool_limits(1):
        rows = kde_rows(repeats) + gmm_rows(repeats)
        exp2 = exp2_throughput()
    header = (f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), one thread per side, "
              f"torch.exp2 float32 at {exp2:.2f} G elements/s; "
              f"torch {torch.__version__}, scikit-learn {sklearn.__version__}, scipy {scipy.__version__}, numpy {np.__version__}; "
              f"median of {repeats} runs.\n\n")
    table = ["| case | reference | genlab | reference | speed-up | target | accuracy |", "|---|---|---|---|---|---|---|"]
    for row in rows:
        ratio = row["reference_s"] / row["genlab_s"]
        target = f">= {row['target']}x {'ok' if ratio >= row['target'] else 'MISSED'}" if row["target"] else "-"
        table.append(f"| {row['case']} | {row['reference']} | {_seconds(row['genlab_s'])} | {_seconds(row['reference_s'])} "
                     f"| {ratio:.1f}x | {target} | {row['accuracy']} |")
    text = header + "\n".join(table) + "\n"
    out = Path("outputs/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench.md").write_text(text)
    print(text)
    print(f"written to {out / 'bench.md'}")


def _seconds(value: float) -> str:
    return f"{value * 1e3:.1f} ms" if value < 1 else f"{value:.2f} s"


if __name__ == "__main__":
    main()

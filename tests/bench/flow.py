"""`make bench`, flow part: RealNVP (model=flow) at its defaults against kde and gmm at
theirs and against the true density, its mode coverage on 8gaussians, MALA through the
generic path, and on MNIST its bits per dimension after 20 minutes beside the Parzen
number of its own samples.

Runs go through genlab's own entrypoint, each command exactly `genlab model=NAME data=NAME`
(plus the output folder), into outputs/bench/runs/; the table goes to stdout and
outputs/bench/flow.md. Usage: flow.py [toy] [mnist] (default: both; mnist takes about
25 minutes: 20 of training, then the evaluation on 10,000 test images and samples).
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path

import torch
from hydra import compose, initialize_config_module

from genlab.train import run

OUT = Path("outputs/bench")
MARGIN = 0.05  # nats per point the flow may fall below the better of kde and gmm, and below the truth


def genlab_run(name: str, *overrides: str) -> dict:
    with initialize_config_module("genlab.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, f"output_root={OUT}"])
    return run(cfg, OUT / "runs" / name)


def toy() -> list[str]:
    lines = ["| data | flow test LL | kde | gmm | true density | flow − best of kde/gmm | flow − truth | verdict |", "|---|---|---|---|---|---|---|---|"]
    for data in ("mixture2d", "moons"):
        flow = genlab_run(f"flow_{data}", "model=flow", f"data={data}")
        kde, gmm = (genlab_run(f"{m}_{data}", f"model={m}", f"data={data}")["test_log_likelihood"] for m in ("kde", "gmm"))
        ll, true = flow["test_log_likelihood"], flow.get("true_test_log_likelihood")
        gap_best, gap_true = ll - max(kde, gmm), (ll - true if true is not None else None)
        ok = gap_best >= -MARGIN and (gap_true is None or gap_true >= -MARGIN)
        lines.append(f"| {data} | {ll:.4f} ± {flow['test_log_likelihood_standard_error']:.4f} | {kde:.4f} | {gmm:.4f} | "
                     f"{'-' if true is None else f'{true:.4f}'} | {gap_best:+.4f} | {'-' if gap_true is None else f'{gap_true:+.4f}'} | "
                     f"{'meets' if ok else 'misses'} (≥ −{MARGIN}) |")
    ring = genlab_run("flow_8gaussians", "model=flow", "data=8gaussians")
    coverage = ring["samples"]["model"]["mode_coverage"]
    ok = coverage["modes_captured"] == 8 and coverage["min_mode_fraction"] >= 0.01 and coverage["high_quality_fraction"] >= 0.8
    lines += ["", "| 8gaussians | modes | smallest mode's share | high quality | test LL (true) | verdict |", "|---|---|---|---|---|---|",
              f"| flow | {coverage['modes_captured']}/8 | {100 * coverage['min_mode_fraction']:.2f}% | {100 * coverage['high_quality_fraction']:.1f}% | "
              f"{ring['test_log_likelihood']:.3f} ({ring['true_test_log_likelihood']:.3f}) | {'meets' if ok else 'misses'} (8/8, ≥ 1%, ≥ 80%) |"]
    mala = genlab_run("flow_moons_mala", "model=flow", "data=moons", "sampler=mala", "sampler.step_size=0.01", "sampler.init=data")
    sampler = mala["samples"]["sampler"]
    lines += ["", f"MALA on the flow's moons density (generic path, chains from training points): acceptance {100 * sampler['acceptance_rate']:.0f}%, "
              f"sliced W1 of the chains {mala['samples']['langevin']['sliced_wasserstein']:.4f} vs the direct samples' "
              f"{mala['samples']['model']['sliced_wasserstein']:.4f}"]
    return lines


def mnist() -> list[str]:
    metrics = genlab_run("flow_mnist", "model=flow", "data=mnist")
    parzen = metrics["parzen"]
    ok = metrics["test_bits_per_dim"] <= 2.0
    return ["", "| MNIST (conf/model_data/flow_mnist.yaml) | steps | training s | test bits/dim | test LL (nats, [0,1] pixels) | Parzen of its samples | verdict |",
            "|---|---|---|---|---|---|---|",
            f"| flow, MLP couplings | {metrics['steps']} | {metrics['train_seconds']:.0f} | {metrics['test_bits_per_dim']:.3f} ± "
            f"{metrics['test_bits_per_dim_standard_error']:.3f} | {metrics['test_log_likelihood']:.1f} | {parzen['mean']:.1f} ± {parzen['standard_error']:.1f} | "
            f"{'meets' if ok else 'misses'} (≤ 2.0) |"]


def main(parts: list[str]) -> None:
    torch.set_num_threads(os.cpu_count() or 1)
    lines = [f"# RealNVP benchmark\n\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, torch {torch.__version__}\n"]
    for part in parts or ["toy", "mnist"]:
        lines += {"toy": toy, "mnist": mnist}[part]()
    text = "\n".join(lines) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "flow.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main(sys.argv[1:])

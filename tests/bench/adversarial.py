"""`make bench`, adversarial part: what GAN and WGAN reach on the toy sets within minutes
of training on this machine, and the shared loop's speed against a bare torch loop.

Runs go through genlab's own entrypoint with the default configs (only the seed, a time
budget and the evaluation period are set), into outputs/bench/runs/; the table goes to
stdout and outputs/bench/adversarial.md. Usage: adversarial.py [part ...], parts:
coverage (WGAN-GP 8gaussians, 3 seeds), official (the WGAN-GP toy recipe), gan,
grid (25gaussians), overhead (loop vs bare loop). Default: all.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_module

from genlab.data import RingOfGaussians
from genlab.models import WGAN
from genlab.train import run
from genlab.engine.loop import TrainerSettings, train

OUT = Path("outputs/bench")
OFFICIAL = ["model.hidden=512", "model.lr=1e-4", "model.gp_weight=0.1", "model.ema=0"]  # gan_toy.py: DIM 512, Adam 1e-4 (0.5, 0.9)


def timed_run(name: str, overrides: list[str], seconds: float, steps: bool = False) -> list[dict]:
    """One run with a budget of `seconds` of training time (and the config's own max_steps
    with steps=True, else none); its evaluations (JSON lines)."""
    folder = OUT / "runs" / name
    unbounded = [] if steps else ["trainer.max_steps=100000000"]
    with initialize_config_module("genlab.conf", version_base="1.3"):
        cfg = compose("config", overrides=[*overrides, "device=cpu", *unbounded, f"trainer.max_seconds={seconds}",
                                           "trainer.eval_every=250", "trainer.checkpoint_every=100000000", f"output_root={OUT}"])
    run(cfg, folder)
    return [json.loads(line) for line in (folder / "metrics.jsonl").read_text().splitlines()]


def at(evals: list[dict], seconds: float) -> dict:
    """The last evaluation made within `seconds` of training."""
    return [e for e in evals if e["train_seconds"] <= seconds][-1]


def coverage(quality: dict) -> str:
    c = quality["mode_coverage"]
    return f"{c['modes_captured']}/{c['n_modes']}, min {100 * c['min_mode_fraction']:.1f}%, HQ {100 * c['high_quality_fraction']:.1f}%"


def meets(quality: dict, hq: float) -> bool:
    c = quality["mode_coverage"]
    return c["modes_captured"] == c["n_modes"] and c["min_mode_fraction"] >= 0.01 and c["high_quality_fraction"] >= hq


def coverage_rows(label, evals, checkpoints, targets, seed="-"):
    rows = []
    for seconds, target in zip(checkpoints, targets):
        e = at(evals, seconds)
        raw = coverage(e["raw_generator"]) if "raw_generator" in e else "-"
        verdict = "-" if target is None else ("ok" if meets(e["model"], target) else "MISSED")
        want = "-" if target is None else f"all modes >= 1%, HQ >= {100 * target:.0f}%: {verdict}"
        budget = f"{seconds / 60:.0f} min" if seconds >= 60 else f"{seconds:.0f} s"
        rows.append(f"| {label} | {seed} | {budget} (step {e['step']}, {e['train_seconds']:.0f} s) | {coverage(e['model'])} | {raw} | {want} |")
    return rows


def part_coverage() -> list[str]:
    """The speed issue's target: the ring's default recipe (conf/model_data/wgan_8gaussians.yaml)
    in 30 s of training, judged at its end, on seeds 0-4."""
    rows = []
    for seed in range(5):
        evals = timed_run(f"wgan_8gaussians_seed{seed}", ["model=wgan", "data=8gaussians", f"seed={seed}"], 30, steps=True)
        rows += coverage_rows("WGAN-GP, default config", evals, (30,), (0.95,), seed)
    return rows


def part_official() -> list[str]:
    evals = timed_run("wgan_8gaussians_official", ["model=wgan", "data=8gaussians", *OFFICIAL], 180)
    return coverage_rows("WGAN-GP, official toy recipe (hidden 512, Adam 1e-4, no EMA)", evals, (60, 180), (None, None), 0)


def part_gan() -> list[str]:
    evals = timed_run("gan_8gaussians", ["model=gan", "data=8gaussians"], 180)
    return coverage_rows("GAN (non-saturating), default config", evals, (60, 180), (None, None), 0)


def part_grid() -> list[str]:
    evals = timed_run("wgan_25gaussians", ["model=wgan", "data=25gaussians"], 480)
    return coverage_rows("WGAN-GP on 25gaussians, default config", evals, (180, 480), (0.85, 0.95), 0)


def part_overhead(steps: int = 1000, rounds: int = 3) -> list[str]:
    """Generator steps per second: genlab's loop against a bare loop, same networks, batch, critic steps."""
    x = RingOfGaussians().train

    def bare():
        model = WGAN().build(2)
        critic_opt, generator_opt = model.make_optimizers()
        g, f, batch = model.generator, model.critic, model.batch_size
        start = time.perf_counter()
        for _ in range(steps):
            for _ in range(model.d_steps):
                real = x[torch.randint(len(x), (batch,))]
                with torch.no_grad():
                    fake = g(torch.randn(batch, 2))
                e = torch.rand(batch, 1)
                x_hat = (e * real + (1 - e) * fake).requires_grad_(True)
                (grad,) = torch.autograd.grad(f(x_hat).sum(), x_hat, create_graph=True)
                loss = f(fake).mean() - f(real).mean() + model.gp_weight * ((grad.norm(dim=1) - 1) ** 2).mean()
                critic_opt.zero_grad()
                loss.backward()
                critic_opt.step()
            loss = -f(g(torch.randn(batch, 2))).mean()
            generator_opt.zero_grad()
            loss.backward()
            generator_opt.step()
        return steps / (time.perf_counter() - start)

    def ours():
        model = WGAN().build(2)
        with tempfile.TemporaryDirectory() as folder:  # with its checkpoints, snapshots and loss checks; no evaluation
            start = time.perf_counter()
            train(model, x, TrainerSettings(max_steps=steps, progress=False), run_dir=Path(folder), config={})
            return steps / (time.perf_counter() - start)

    rates = {"bare": [], "genlab": []}
    for _ in range(rounds):
        torch.manual_seed(0)
        rates["bare"].append(bare())
        torch.manual_seed(0)
        rates["genlab"].append(ours())
    b, o = statistics.median(rates["bare"]), statistics.median(rates["genlab"])
    verdict = "ok" if o >= 0.9 * b else "MISSED"
    return [f"| loop overhead: WGAN-GP 128x3, batch 256, 5 critic steps, {steps} steps x {rounds} rounds | - | median steps/s | "
            f"genlab {o:.1f} | bare torch loop {b:.1f} | ratio {o / b:.2f}x (>= 0.9x: {verdict}) |"]


PARTS = {"coverage": part_coverage, "official": part_official, "gan": part_gan, "grid": part_grid, "overhead": part_overhead}


def main(names: list[str]) -> None:
    names = names or list(PARTS)
    rows = []
    for name in names:
        rows += PARTS[name]()
    header = (f"Machine: {os.cpu_count()} cores ({platform.processor() or platform.machine()}), torch {torch.__version__} "
              f"({torch.get_num_threads()} threads), CPU. Mode coverage as VEEGAN: 2,500 samples; high quality (HQ) = within "
              f"3 std of the nearest mode (a real sample scores 98.9% in 2D); min = the smallest mode's share of all samples. "
              f"Times are training time (evaluation excluded).\n\n")
    table = ["| run | seed | after | averaged generator (EMA; with ema=0 the generator): modes, min, HQ | raw generator | target |", "|---|---|---|---|---|---|", *rows]
    text = header + "\n".join(table) + "\n"
    OUT.mkdir(parents=True, exist_ok=True)
    name = "adversarial.md" if not sys.argv[1:] else f"adversarial-{'-'.join(names)}.md"
    (OUT / name).write_text(text)
    print(text)
    print(f"written to {OUT / name}")


if __name__ == "__main__":
    main(sys.argv[1:])

"""`make figures`: every lecture figure, remade by its own genlab command, into
outputs/lecture/ with an index page (index.md) that states each figure's command.

Each figure is one experiment config, conf/experiment/lecture/NAME.yaml, run exactly
as a user would (`genlab [+-m] +experiment=lecture/NAME`) in a subprocess; only the
output folder is pinned, to outputs/lecture/runs/NAME. A figure that fails is marked
in the index and the others go on; the command then exits 1.

The figures are independent runs of small networks, so they run side by side, one per core
with one torch thread each (GENLAB_GALLERY_JOBS sets how many; 1 runs them one after the
other with torch's own thread count), the longest first. Another thread count adds the
same numbers in another order, and training amplifies the difference: a trained figure's
numbers (and its samples) differ from the same command run with 2 threads, as they would
on another machine; at a fixed thread count each figure is reproducible.
Usage: python -m genlab.lecture.gallery [NAME ...]   (default: all, in lecture order)
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from genlab.folders import new_folder

ROOT = Path("outputs/lecture")


@dataclass(frozen=True)
class Figure:
    name: str  # conf/experiment/lecture/<name>.yaml
    title: str
    output: str  # the file of the run folder shown: figure.png, density.png, or a sweep's grid.png
    sweep: bool = False
    seconds: int = 10  # about how long it takes (one thread, 2026-12-02): only to start the longest first

    @property
    def command(self) -> list[str]:
        return ["genlab", *(["-m"] if self.sweep else []), f"+experiment=lecture/{self.name}"]


FIGURES = [
    Figure("pushforwards", "Pushforwards of Uniform([0, 1]): g(z) = z, z², and the inverse Gaussian CDF", "figure.png"),
    Figure("kernels", "Gaussian and Epanechnikov kernel density estimates at several bandwidths", "figure.png"),
    Figure("univariate_gmm", "Univariate sample, kernel density estimate (kde), GMM E-M", "density.png"),
    Figure("univariate_gan", "Univariate sample, kernel density estimate (kde), GAN kde", "density.png", seconds=25),
    Figure("bivariate_gmm", "Bivariate sample, GMM E-M", "density.png"),
    Figure("bivariate_kde", "Bivariate sample, kernel density estimate (kde)", "density.png"),
    Figure("bivariate_gan", "Bivariate sample, GAN kde", "density.png", seconds=40),
    Figure("capacity", "How does this plot change with network capacity? The GAN kde over the networks' width", "grid.png", sweep=True, seconds=230),
    Figure("vae_pushforward", "The VAE: x̂ᵢ ~ g#μᵢ at λ = 1 and at a small λ", "grid.png", sweep=True, seconds=45),
    Figure("optimal_discriminator", "The optimal discriminator f* = p / (p + p_g), and V at the optimum against 2·JS − ln 4", "figure.png"),
    Figure("wasserstein_dual", "The Wasserstein dual in 1D: the critic's estimate against the exact W1", "figure.png", seconds=13),
    Figure("mode_collapse", "Mode collapse: the GAN against the WGAN-GP on 8gaussians", "grid.png", sweep=True, seconds=150),
    Figure("dimension", "The curse of dimension: KDE against GMM as the dimension grows", "figure.png"),
    Figure("langevin", "Beyond the lecture: sampling a fitted density by Langevin dynamics", "figure.png", seconds=18),
    Figure("how_to_evaluate", "How to evaluate GANs? Every metric against real data, the shortcuts that fool it, and GAN, WGAN, VAE and flow on 8gaussians", "figure.png", seconds=115),
]


def make(figure: Figure, number: int, threads: int | None = None) -> dict:
    """Run the figure's command into a new folder outputs/lecture/runs/<name> (<name>-2, ...
    when an earlier gallery's is there: genlab deletes no folder of an earlier process); copy its picture out.
    `threads`: the run's torch threads (OMP_NUM_THREADS), unless the caller's environment sets them."""
    folder = Path(new_folder(str(ROOT / "runs" / figure.name)))
    pinned = f"hydra.sweep.dir={folder}" if figure.sweep else f"hydra.run.dir={folder}"
    env = {"OMP_NUM_THREADS": str(threads), **os.environ} if threads else None
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "genlab.train", *figure.command[1:], pinned],
                          capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    picture = folder / figure.output
    target = ROOT / f"{number:02d}_{figure.name}.png"
    if done.returncode != 0 or not picture.exists():
        error = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"ok": False, "seconds": seconds, "error": error}
    shutil.copyfile(picture, target)
    return {"ok": True, "seconds": seconds, "file": target.name, "numbers": numbers(folder, figure)}


def numbers(folder: Path, figure: Figure) -> list[str]:
    """A few numbers beside the picture: a sweep's summary rows, else metrics.json's scalars."""
    if figure.sweep:
        with open(folder / "summary.csv", newline="") as handle:
            rows = list(csv.DictReader(handle))
        columns = [k for k in rows[0] if k not in ("job", "folder", "error", "optimized_metric", "optimized_value") and any(r[k] for r in rows)]
        short = [c.removeprefix("samples.model.") for c in columns]
        header = [f"| {' | '.join(short)} |", "|" + "---|" * len(columns)]
        return header + [f"| {' | '.join(_fmt(_number(row[c])) for c in columns)} |" for row in rows]
    flat = dict(_flatten(json.loads((folder / "metrics.json").read_text())))
    if figure.output == "figure.png":
        keys = [k for k in flat if k != "seed"]
        fooled = json.loads((folder / "metrics.json").read_text()).get("fooled")  # how_to_evaluate: {shortcut: numbers it fools}
        if isinstance(fooled, dict):
            return [f"{k} = {_fmt(flat[k])}" for k in keys] + [f"{shortcut} fools: {', '.join(names) or 'nothing'}" for shortcut, names in fooled.items()]
    else:  # the model's likelihoods, then the summary numbers of every registered metric
        from genlab.metrics.registry import summary_paths

        keys = [k for k in ("test_log_likelihood", "true_test_log_likelihood", "kl_estimate", *summary_paths(), "steps", "train_seconds") if k in flat]
    return [f"{k} = {_fmt(flat[k])}" for k in keys]


def _flatten(tree: dict, prefix: str = ""):
    """(dotted path, number) for every number of a metrics tree ("-inf" as JSON writes it)."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}.")
        elif isinstance(_number(value), (int, float)) and not isinstance(value, bool):
            yield f"{prefix}{key}", _number(value)


def _number(value):
    """A number written as text (a csv cell, JSON's "inf") as the number; anything else as it is."""
    if isinstance(value, str):
        try:
            return int(value) if value.lstrip("-").isdigit() else float(value)
        except ValueError:
            return value
    return value


def _fmt(value) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_index(results: dict[str, dict]) -> Path:
    lines = ["# The lecture gallery", "",
             "Every figure of the lecture on generative networks that genlab reproduces, remade by "
             "`make figures` (which runs each command below; the run folders are in `runs/`).", ""]
    for number, figure in enumerate(FIGURES, 1):
        result = results.get(figure.name)
        if result is None:
            continue
        lines += [f"## {number}. {figure.title}", "", f"    {' '.join(figure.command)}", ""]
        if result["ok"]:
            bullets = [n if n.startswith("|") else f"- {n}" for n in result["numbers"]]
            lines += [f"![{figure.title}]({result['file']})", "", *bullets, ""]
        else:
            lines += [f"**Failed** after {result['seconds']:.0f} s: {result['error']}", ""]
        lines += [f"_{result['seconds']:.0f} s on the machine that made it._", ""]
    path = ROOT / "index.md"
    path.write_text("\n".join(lines))
    return path


def gallery_jobs() -> int | None:
    """How many figures run at once: GENLAB_GALLERY_JOBS, else one per core; None if it is not a whole number >= 1."""
    value = os.environ.get("GENLAB_GALLERY_JOBS") or str(os.cpu_count() or 1)
    return int(value) if value.isdigit() and int(value) >= 1 else None


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or [f.name for f in FIGURES]
    known = [f.name for f in FIGURES]
    unknown = [n for n in names if n not in known]
    if unknown:
        print(f"gallery: error: unknown figure {unknown[0]!r} (allowed: {', '.join(known)})", file=sys.stderr)
        return 2
    jobs = gallery_jobs()
    if jobs is None:
        print(f"gallery: error: GENLAB_GALLERY_JOBS must be a whole number >= 1 (got {os.environ['GENLAB_GALLERY_JOBS']!r})", file=sys.stderr)
        return 2
    ROOT.mkdir(parents=True, exist_ok=True)
    results_file = ROOT / "runs" / "results.json"
    results = json.loads(results_file.read_text()) if results_file.exists() else {}
    chosen = sorted(((n, f) for n, f in enumerate(FIGURES, 1) if f.name in names), key=lambda nf: -nf[1].seconds)  # the longest first
    jobs = min(len(chosen), jobs)
    started = time.perf_counter()
    with ThreadPoolExecutor(jobs) as pool:  # each figure is a subprocess: threads only wait for them
        running = {pool.submit(make, figure, number, 1 if jobs > 1 else None): (number, figure) for number, figure in chosen}
        for done in as_completed(running):
            number, figure = running[done]
            results[figure.name] = result = done.result()
            state = f"{result['seconds']:.0f} s" if result["ok"] else f"FAILED: {result['error']}"
            print(f"[figures] {number:2d} {figure.name}: {state}", flush=True)
    results_file.write_text(json.dumps(results, indent=1))
    index = write_index(results)
    failed = [name for name in names if not results[name]["ok"]]
    print(f"[figures] {len(names) - len(failed)}/{len(names)} figures in {time.perf_counter() - started:.0f} s, {jobs} at a time; index: {index}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""The lecture's "how to evaluate GANs? This is currently a disaster": every registered
metric against real data, the shortcuts that fool metrics (memorizer, mode-dropped,
blurred, noise) and trained models, as one table (genlab.plots.metric_table).

Two ways to make it:
- the gallery's (`genlab +experiment=lecture/how_to_evaluate`, `draw` below): trains GAN,
  WGAN, VAE and flow on 8gaussians with short settings, each an ordinary genlab run
  (`genlab model=NAME data=8gaussians trainer.max_steps=N ...`, composed and run in this
  process so the reference rows, which depend only on the data, are computed once) into
  <run>/runs/<model>/, and draws figure.png from their metrics.json;
- from finished runs (the MNIST runs of `make bench`):
  `python -m genlab.lecture.how_to_evaluate RUN_DIR ... [--out FILE] [--title TEXT]`
  reads each folder's metrics.json (a column per run, labelled by its model; the
  reference rows from the first run on grey images that has them, else the first that
  has them) and writes the figure, by default to how_to_evaluate.png beside the first run
  folder. Likelihoods (Parzen, AIS) of binarized images (the MNIST VAE's) are densities of
  other data than grey images': a run binarized otherwise than the reference rows' run
  keeps its other numbers and loses those two, as the figure's footer says.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from genlab.plots.metric_table import build_table, draw as draw_table

LIKELIHOODS = ("parzen", "ais")  # an image run's numbers that depend on how its images were binarized
LABELS = {"gan": "GAN", "wgan": "WGAN", "vae": "VAE", "flow": "flow", "gmm": "GMM", "kde": "KDE"}


def _compose(overrides: list[str]):
    """genlab's config with these overrides, inside a running genlab (Hydra initialized) or not."""
    from hydra import compose, initialize_config_module
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose("config", overrides=overrides)
    with initialize_config_module("genlab.conf", version_base="1.3"):
        return compose("config", overrides=overrides)


def draw(run_dir: Path, device, seed: int, data: str = "8gaussians", models: dict | None = None, common: list | None = None) -> dict:
    """Train each of `models` ({model: its overrides}) on `data` as a genlab run into
    run_dir/runs/<model>, then draw figure.png: the table of their metrics beside the
    reference rows. `common`: overrides every run gets. Returns the commands and the table."""
    from genlab.train import run

    models = models or {"gan": [], "wgan": [], "vae": [], "flow": []}
    runs, commands = {}, {}
    for name, overrides in models.items():
        args = [f"model={name}", f"data={data}", f"seed={seed}", *(common or []), *overrides]
        folder = Path(run_dir) / "runs" / name
        runs[LABELS.get(name, name)] = run(_compose(args), folder)
        commands[name] = " ".join(["genlab", *args])
    table = build_table(runs)
    steps = ", ".join(f"{LABELS.get(n, n)} {runs[LABELS.get(n, n)].get('steps')}" for n in models)
    draw_table(table, Path(run_dir) / "figure.png", f"How to evaluate GANs? Every metric on {data} (steps: {steps})",
               footer="genlab +experiment=lecture/how_to_evaluate; each model a run of its own in runs/<model>: " + "; ".join(commands.values()))
    from genlab.io import write_json

    write_json(Path(run_dir) / "table.json", table.as_dict())  # every cell: value, rank, what fools the row
    return {"commands": commands, "steps": {n: runs[LABELS.get(n, n)].get("steps") for n in models}, "fooled": table.fooled()}


def label_of(run: dict, folder: Path, taken: set) -> str:
    """A column's label: the run's model (GAN, VAE ...), its folder name when two share one."""
    label = LABELS.get(str(run.get("model", "")).lower(), str(run.get("model") or folder.name))
    return folder.name if label in taken else label


def from_runs(folders: list[Path], out: Path | None = None, title: str | None = None) -> Path:
    """The figure of finished runs: one column per run folder (its metrics.json)."""
    runs: dict[str, dict] = {}
    for folder in folders:
        path = Path(folder) / "metrics.json"
        if not path.is_file():
            raise FileNotFoundError(f"{folder}: no metrics.json (not a finished genlab run)")
        run = json.loads(path.read_text())
        runs[label_of(run, Path(folder), set(runs))] = run
    with_references = [r for r in runs.values() if r.get("samples") or r.get("references")] or list(runs.values())
    references = next((r for r in with_references if binarized(r) is None), with_references[0])  # grey images first
    apart = [label for label, r in runs.items() if binarized(r) != binarized(references)]
    runs = {label: {k: v for k, v in r.items() if label not in apart or k not in LIKELIHOODS} for label, r in runs.items()}
    table = build_table(runs, references)
    data = next(iter(runs.values())).get("data", "")
    out = Path(out) if out else Path(folders[0]).parent / "how_to_evaluate.png"
    command = " ".join(["python -m genlab.lecture.how_to_evaluate", *map(str, folders)])
    if apart:
        command = (f"{', '.join(apart)}: likelihoods of {binarized(runs[apart[0]]) or 'grey'}-binarized images, not comparable "
                   f"with the reference rows' ({binarized(references) or 'grey'}), left out. {command}")
    return draw_table(table, out, title or f"How to evaluate GANs? Every metric on {data}", footer=command)


def binarized(run: dict) -> str | None:
    """How an image run binarized its images (dynamic, static), None for grey images or points."""
    value = (run.get("images") or {}).get("binarize")
    return None if value in (None, "none") else value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m genlab.lecture.how_to_evaluate", description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders (each with its metrics.json)")
    parser.add_argument("--out", type=Path, help="the figure's file (default: how_to_evaluate.png beside the first run)")
    parser.add_argument("--title", help="the figure's title")
    args = parser.parse_args(argv)
    try:
        path = from_runs(args.runs, args.out, args.title)
    except (OSError, ValueError) as error:
        print(f"how_to_evaluate: error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The one training loop of the networks (GAN, WGAN and VAE), top to bottom.

Each step is the model's own `train_step` (for GAN and WGAN: critic updates, one
generator update, the moving average; for the VAE: one update on the negative
ELBO). Around that: an optional cosine decay of the learning rates, a progress bar (genlab.engine.progress: a terminal's or a notebook's), losses averaged every `log_every` steps and
checked for NaN/inf, an evaluation every `eval_every` steps into metrics.jsonl, sample
snapshots, and atomic checkpoints every `checkpoint_every` steps and at the end.

All randomness of training (batches, latent draws, interpolates) comes from one
torch.Generator whose state is checkpointed with the optimizers, the networks and
the history, so a resumed run on the CPU continues bit-identically. Evaluation uses
generators of its own and never touches the training state.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from tqdm.contrib.logging import logging_redirect_tqdm

from genlab.io import write_jsonl
from genlab.engine.checkpoint import CHECKPOINT_NAME, save_checkpoint
from genlab.engine.progress import progress_bar
from genlab.errors import ConfigError, check_choice, check_positive
from genlab.stopping import Stopped, signals_caught
from genlab.engine.precision import PRECISIONS, resolve_precision

log = logging.getLogger("genlab")
METRICS_LOG = "metrics.jsonl"
TRAINING_STREAM = 7919  # the training generator's seed is seed + this, a stream apart from weight init
LR_SCHEDULES = ("constant", "cosine")


@dataclass
class TrainerSettings:
    """The loop's schedule (conf/trainer). max_seconds, when set, also stops training
    after that much training time (evaluation excluded), and a cosine schedule then
    follows whichever budget is being used up faster, steps or seconds, so that a run
    cut short by a slow machine still ends at a small learning rate. A time budget is
    not reproducible (the last step, and with cosine every rate, depend on the
    machine's speed), so it is off by default and metrics.json says so."""

    max_steps: int = 6000
    eval_every: int = 500
    checkpoint_every: int = 1000
    log_every: int = 50
    n_snapshots: int = 6
    snapshot_size: int = 1000
    progress: bool | None = None  # None: a bar only on a terminal or in a notebook
    max_seconds: float | None = None
    lr_schedule: str | None = None  # constant | cosine (to 0 at max_steps) | None: the model's own
    precision: str = "fp32"  # fp32 | bf16 | auto (see genlab.engine.precision)
    animation: bool = True  # training.gif of the samples at every evaluation (1D/2D points; genlab.plots.animation)

    def __post_init__(self):
        for key in ("max_steps", "eval_every", "checkpoint_every", "log_every", "snapshot_size"):
            setattr(self, key, check_positive(key, getattr(self, key), integer=True))
        if not isinstance(self.n_snapshots, int) or self.n_snapshots < 0:
            raise ConfigError(f"n_snapshots must be an integer >= 0 (got {self.n_snapshots!r})")
        if self.progress not in (None, True, False):
            raise ConfigError(f"progress must be true, false or null for 'on a terminal or in a notebook' (got {self.progress!r})")
        if self.max_seconds is not None:
            self.max_seconds = check_positive("max_seconds", self.max_seconds)
        if self.lr_schedule is not None:
            check_choice("lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_choice("precision", self.precision, PRECISIONS)
        if not isinstance(self.animation, bool):
            raise ConfigError(f"animation must be true or false (got {self.animation!r})")

    def share_done(self, step: int, seconds: float = 0.0) -> float:
        """The share of the run done after `step` updates and `seconds` of training: of
        max_steps, or of max_seconds where that share is larger."""
        done = step / self.max_steps
        if self.max_seconds is not None:
            done = max(done, seconds / self.max_seconds)
        return min(done, 1.0)

    def lr_factor(self, step: int, seconds: float = 0.0) -> float:
        """The share of each optimizer's base learning rate used for update `step` (0-based),
        begun after `seconds` of training."""
        if self.lr_schedule in (None, "constant"):
            return 1.0
        return 0.5 * (1 + math.cos(math.pi * self.share_done(step, seconds)))

    def snapshot_steps(self) -> set[int]:
        if self.n_snapshots == 0:
            return set()
        if self.n_snapshots == 1:
            return {self.max_steps}
        return {round(i * self.max_steps / (self.n_snapshots - 1)) for i in range(self.n_snapshots)}


class TrainingInterrupted(Stopped):
    """SIGINT or SIGTERM arrived; a checkpoint of the last finished step was written."""

    def __init__(self, signal_name: str, step: int, checkpoint: Path | None):
        super().__init__(signal_name, step, checkpoint)


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite; the last checkpoint on disk is the last good one."""


def train(model, x: torch.Tensor, settings: TrainerSettings, *, seed: int = 0, run_dir: Path | None = None,
          config: dict | None = None, evaluate=None, resume: dict | None = None, transform=None, loggers=None) -> dict:
    """Train `model` (built, on x's device) on the rows of `x`; return the history.

    transform(batch, rng), when given, is applied to every drawn batch (MNIST's dynamic
    binarization). evaluate(model) -> (record, line) is called every eval_every steps
    and at the end; `resume` is a checkpoint (as `load_checkpoint` returns it) whose
    model state is already loaded. With a run_dir, checkpoints and metrics.jsonl are
    written there. `loggers` (genlab.loggers.Loggers) get the losses and every evaluation.
    """
    model.precision = resolve_precision(settings.precision, x.device)
    if settings.lr_schedule is None:  # the schedule the model was tuned with
        settings = replace(settings, lr_schedule=model.lr_schedule)
    optimizers = model.make_optimizers()
    for optimizer in optimizers:
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])  # the base rate the schedule scales
    rng = torch.Generator(x.device).manual_seed(seed + TRAINING_STREAM)
    step, train_seconds = 0, 0.0
    history = {"losses": [], "evals": [], "snapshots": [], "stopped": None, "train_seconds": 0.0}
    if resume is not None:
        for optimizer, state in zip(optimizers, resume["training"]["optimizers"], strict=True):
            optimizer.load_state_dict(state)
        rng.set_state(resume["training"]["rng"].to("cpu"))
        torch.set_rng_state(resume["rng"]["torch"])  # dropout draws from torch's global generator
        step, history = resume["step"], resume["training"]["history"]
        train_seconds = history["train_seconds"]
    checkpoint_path = Path(run_dir) / CHECKPOINT_NAME if run_dir else None
    last_good = {"step": None}

    def write_checkpoint(done):
        if checkpoint_path is None:
            return
        if not all(torch.isfinite(p).all() for p in model.parameters()):
            raise TrainingDiverged(f"training diverged by step {done}: the networks' weights hold NaN or inf; {where_good()}; try a smaller model.lr")
        history["train_seconds"] = train_seconds
        training = {"optimizers": [o.state_dict() for o in optimizers], "rng": rng.get_state(), "history": history}
        save_checkpoint(checkpoint_path, model=model, config=config or {}, step=done, training=training)
        last_good["step"] = done

    def where_good():
        if last_good["step"] is None:
            return "no checkpoint was written before it"
        return f"the last good checkpoint (step {last_good['step']}) is {checkpoint_path}"

    def record_losses(done):
        means = (sums / count).tolist()
        for name, value in zip(names, means):
            if not math.isfinite(value):
                raise TrainingDiverged(f"training diverged by step {done}: {name} is {value}; {where_good()}; try a smaller model.lr")
        history["losses"].append({"step": done, **dict(zip(names, means))})
        if loggers is not None:
            loggers.log_metrics({f"losses.{name}": value for name, value in zip(names, means)}, done)

    def snapshot(done):
        samples = model.sample(settings.snapshot_size, torch.Generator(model.device).manual_seed(seed)).cpu()
        history["snapshots"].append({"step": done, "samples": samples})

    def run_evaluation(done):
        record, line = evaluate(model)
        history["evals"].append({"step": done, "train_seconds": round(train_seconds, 3), **record})
        if run_dir:
            write_jsonl(Path(run_dir) / METRICS_LOG, history["evals"])
        log.info("step %d (%.0fs): %s", done, train_seconds, line)
        if loggers is not None:
            loggers.log_metrics(record, done)

    def draw(n):
        batch = x[torch.randint(len(x), (n,), device=x.device, generator=rng)]
        return batch if transform is None else transform(batch, rng)

    names, sums, count = None, None, 0
    snapshot_steps = settings.snapshot_steps()
    if step == 0 and 0 in snapshot_steps:
        snapshot(0)
    bar = progress_bar(settings.progress, total=settings.max_steps, initial=step, unit="step", desc=model.label, dynamic_ncols=True)
    with bar, signals_caught() as caught, logging_redirect_tqdm():
        started = time.perf_counter()
        while step < settings.max_steps:
            if settings.lr_schedule == "cosine":
                factor = settings.lr_factor(step, train_seconds + time.perf_counter() - started)
                for optimizer in optimizers:
                    for group in optimizer.param_groups:
                        group["lr"] = group["initial_lr"] * factor
            losses = model.train_step(draw, optimizers, rng, step)
            values = torch.stack(list(losses.values()))  # no device sync: checked every log_every steps
            step += 1
            model.steps_trained_ = step
            names = names or list(losses)
            sums, count = (values if sums is None else sums + values), count + 1

            elapsed = time.perf_counter() - started
            out_of_time = settings.max_seconds is not None and train_seconds + elapsed >= settings.max_seconds
            last = step == settings.max_steps or out_of_time or bool(caught)
            checkpoint_due = step % settings.checkpoint_every == 0 or last
            eval_due = evaluate is not None and (step % settings.eval_every == 0 or (last and not caught))
            if not (step % settings.log_every == 0 or checkpoint_due or eval_due or step in snapshot_steps):
                continue
            train_seconds += elapsed  # bookkeeping below is not training time
            record_losses(step)
            sums, count = None, 0
            bar.update(step - bar.n)
            bar.set_postfix({k: f"{v:.3g}" for k, v in list(history["losses"][-1].items())[1:3]}, refresh=False)
            if step in snapshot_steps:
                snapshot(step)
            if eval_due:
                run_evaluation(step)
            if checkpoint_due:
                write_checkpoint(step)
            if caught:
                raise TrainingInterrupted(caught[0], step, checkpoint_path)
            if out_of_time:
                history["stopped"] = f"max_seconds ({settings.max_seconds:g} s) at step {step}"
                break
            started = time.perf_counter()
    if step >= settings.max_steps and last_good["step"] is None:
        write_checkpoint(step)  # e.g. a resumed run that was already at max_steps: its folder still gets one
    history["train_seconds"] = train_seconds
    return history

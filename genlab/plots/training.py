"""A trained run at a glance: its losses, what the critic measures, and sample quality.

Panel 1: both losses per generator step, which alone say little in a two-player game
(for a VAE: the objective and its reconstruction term, and beside it the KL term).
Panel 2: the number the second network estimates: a WGAN critic's W1(p, p_g), which
should fall as the generator improves, or a GAN's value V = 2 JS(p, p_g) - ln 4 at
the optimal discriminator, which should rise towards -ln 4.
Panel 3 (when the run was evaluated): held-out sample quality over steps, for the
averaged generator and, dashed, the raw one, to show what the average buys.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from genlab.plots import style

RAW_STYLE = "--"
COVERAGE_COLOR = style.SAMPLE_COLOR  # modes captured / n_modes beside the high-quality fraction
PENALTY_COLOR = style.REFERENCE_COLOR


def plot_training(history: dict, model, path: Path) -> Path | None:
    """Write training.png from `history` as `genlab.engine.loop.train` returns it
    (None when no losses were logged)."""
    losses = history.get("losses") or []
    if not losses:
        return None
    evals = history.get("evals") or []
    keys = set(losses[0]) - {"step"}
    if {"critic_loss", "generator_loss"} <= keys:
        panels = [_losses]
    elif {"loss", "reconstruction", "kl"} <= keys:
        panels = [_vae_losses, _kl]
    else:  # any other model: whatever its train_step returns, in one panel
        panels = [_any_losses]
    if any(k in losses[0] for k in ("wasserstein_estimate", "value")):
        panels.append(_estimate)
    quality = _quality_series(evals)
    fig, axes = style.figure(ncols=len(panels) + (quality is not None), width=4.6, height=3.6)
    for ax, panel in zip(axes, panels):
        panel(ax, losses, model)
    if quality is not None:
        _quality(axes[-1], quality, "generator step" if "critic_loss" in losses[0] else "step")
    return style.save(fig, path)


def _column(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(row.get(key, math.nan)) for row in rows])


def _losses(ax, losses, model):
    steps = _column(losses, "step")
    ax.plot(steps, _column(losses, "critic_loss"), color=style.SAMPLE_COLOR, lw=1.3, label=f"{model.critic_name} loss")
    ax.plot(steps, _column(losses, "generator_loss"), color=style.MODEL_COLOR, lw=1.3, label="generator loss")
    ax.set(title="losses", xlabel="generator step", ylabel="loss")
    ax.legend(fontsize=8)


def _any_losses(ax, losses, model):
    steps = _column(losses, "step")
    for key in (k for k in losses[0] if k != "step"):
        ax.plot(steps, _column(losses, key), lw=1.3, label=key.replace("_", " "))
    ax.set(title=f"{model.label}: training losses", xlabel="step", ylabel="loss")
    ax.legend(fontsize=8)


def _vae_losses(ax, losses, model):
    steps = _column(losses, "step")
    ax.plot(steps, _column(losses, "loss"), color=style.MODEL_COLOR, lw=1.3, label=r"objective $\ell + \lambda$ KL")
    ax.plot(steps, _column(losses, "reconstruction"), color=style.SAMPLE_COLOR, lw=1.3, label=r"reconstruction $\ell = -\ln p(x_i | z)$")
    ax.set(title="VAE objective (per point, nats)", xlabel="step", ylabel="nats")
    ax.legend(fontsize=8)


def _kl(ax, losses, model):
    ax.plot(_column(losses, "step"), _column(losses, "kl"), color=style.MODEL_COLOR, lw=1.3)
    ax.set(title=rf"KL($\mu_i$, $\mu$) per point ($\lambda$ = {model.kl_weight:g})", xlabel="step", ylabel="nats")


def _estimate(ax, losses, model):
    steps = _column(losses, "step")
    if "wasserstein_estimate" in losses[0]:
        ax.plot(steps, _column(losses, "wasserstein_estimate"), color=style.MODEL_COLOR, lw=1.5, label="mean f(x) - mean f(g(z))")
        if "gradient_penalty" in losses[0]:
            # Whether the Lipschitz constraint holds, i.e. whether the estimate can be trusted.
            ax.plot(steps, _column(losses, "gradient_penalty"), color=PENALTY_COLOR, lw=1.0, label="gradient penalty")
        ax.axhline(0.0, color=style.TRUE_COLOR, lw=0.8, ls=":")
        ax.set(title="critic's estimate of $W_1(p, p_g)$", xlabel="generator step", ylabel="$W_1$ estimate")
    else:
        ax.plot(steps, _column(losses, "value"), color=style.MODEL_COLOR, lw=1.5, label="V = mean ln f(x) + mean ln(1 - f(g(z)))")
        ax.axhline(-math.log(4), color=style.TRUE_COLOR, lw=1.0, ls=":", label="-ln 4 ($p_g = p$)")
        ax.set(title="value V of the objective (2 JS - ln 4 at best f)", xlabel="generator step", ylabel="V")
    ax.legend(fontsize=8)


def _quality_series(evals: list[dict]) -> dict | None:
    """The curves of panel 3 from the evals, or None when there is nothing to draw."""
    evaluated = [e for e in evals if isinstance(e.get("model"), dict)]
    if not evaluated:
        return None
    generators = [("model", "EMA generator" if any("raw_generator" in e for e in evaluated) else "generator", "-")]
    if any("raw_generator" in e for e in evaluated):
        generators.append(("raw_generator", "raw generator", RAW_STYLE))
    steps = np.array([float(e["step"]) for e in evaluated])

    def series(pick):
        return [(label, ls, np.array([_pick(e.get(key), pick) for e in evaluated])) for key, label, ls in generators]

    if any("mode_coverage" in e["model"] for e in evaluated):
        curves = [
            (style.MODEL_COLOR, "high-quality fraction", series(lambda r: r["mode_coverage"]["high_quality_fraction"])),
            (COVERAGE_COLOR, "modes captured / all", series(lambda r: r["mode_coverage"]["modes_captured"] / r["mode_coverage"]["n_modes"])),
        ]
        return {"steps": steps, "curves": curves, "title": "mode coverage (held-out)", "ylabel": "fraction", "ylim": (0, 1.05), "log": False}
    for key, name in (("sliced_wasserstein", "sliced $W_1$"), ("wasserstein_1d", "$W_1$")):
        if any(key in e["model"] for e in evaluated):
            curves = [(style.MODEL_COLOR, name, series(lambda r, key=key: r[key]))]
            return {"steps": steps, "curves": curves, "title": "distance of samples to the test set", "ylabel": f"{name} to the test set", "ylim": None, "log": True}
    for key, name in (("validation_elbo", "ELBO"), ("validation_log_likelihood", "log-likelihood"), ("validation_parzen", "Parzen log-likelihood")):
        if any(key in e["model"] for e in evaluated):
            curves = [(style.MODEL_COLOR, name, series(lambda r, key=key: r[key]))]
            return {"steps": steps, "curves": curves, "title": f"{name} on validation images", "ylabel": "nats per image", "ylim": None, "log": False}
    if any("mmd" in e["model"] for e in evaluated):
        bandwidths = sorted(next(e["model"]["mmd"] for e in evaluated if "mmd" in e["model"]), key=float)
        middle = bandwidths[len(bandwidths) // 2]
        curves = [(style.MODEL_COLOR, f"MMD$^2$ (bandwidth {middle})", series(lambda r: r["mmd"][middle]))]
        return {"steps": steps, "curves": curves, "title": "MMD of samples to the test set", "ylabel": "MMD$^2$", "ylim": None, "log": False}
    return None


def _pick(record, pick) -> float:
    try:
        return float(pick(record))
    except (KeyError, TypeError, ZeroDivisionError):
        return math.nan


def _quality(ax, quality, xlabel):
    steps = quality["steps"]
    several = len(quality["curves"]) > 1
    for color, name, lines in quality["curves"]:
        for label, ls, values in lines:
            text = f"{name}, {label}" if several or len(lines) > 1 else name
            ax.plot(steps, values, ls, color=color, lw=1.5, marker="o", ms=3, label=text)
    values = np.concatenate([v for _, _, lines in quality["curves"] for _, _, v in lines])
    finite = values[np.isfinite(values)]
    if quality["log"] and finite.size and (finite > 0).all():
        ax.set_yscale("log")
    if quality["ylim"]:
        ax.set_ylim(*quality["ylim"])
    ax.set(title=quality["title"], xlabel=xlabel, ylabel=quality["ylabel"])
    ax.legend(fontsize=8)

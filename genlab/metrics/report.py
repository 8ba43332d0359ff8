"""Sample-quality numbers as people read them: one table, each model column beside the
real-data column (a fresh sample of the data itself, the best any model can do)."""

from __future__ import annotations

from genlab.metrics.registry import SAMPLES, metrics


def rows(quality: dict) -> dict[str, str]:
    """Flatten one `sample_quality` dict into {row label: formatted value}, as each metric prints."""
    out = {}
    for metric in metrics(SAMPLES):
        if quality.get(metric.name) is not None:  # None: too few points for it
            out.update(metric.rows(quality[metric.name]))
    return out


def table(columns: dict[str, dict]) -> str:
    """A plain-text table: one row per metric, one column per sample (model, real data, ...)."""
    flat = {name: rows(quality) for name, quality in columns.items()}
    labels = list(dict.fromkeys(key for column in flat.values() for key in column))
    width = max(len(m) for m in labels) if labels else 0
    widths = [max(len(name), *(len(flat[name].get(m, "-")) for m in labels)) for name in flat]
    header = "  ".join([" " * width] + [name.rjust(w) for name, w in zip(flat, widths)])
    lines = [header] + ["  ".join([m.ljust(width)] + [flat[name].get(m, "-").rjust(w) for name, w in zip(flat, widths)]) for m in labels]
    return "\n".join(lines)


def headline(quality: dict) -> str:
    """The one number to watch during training: the highest-ranked headline present (mode
    coverage where the data has modes, else the Wasserstein distance to held-out data)."""
    shown = [metric for metric in metrics(SAMPLES) if metric.headline and metric.name in quality]
    if not shown:
        return ""
    best = max(shown, key=lambda metric: metric.headline_rank)  # the first registered among equals
    return best.headline(quality[best.name])


def as_results(reference: dict) -> dict:
    """One reference shaped as a run's results (its classifier numbers under `classifier`), so each
    registered image metric prints it beside the model's; metrics.json keeps the cached shape."""
    shaped = {"parzen": reference["parzen"]} if "parzen" in reference else {}
    if "frechet_distance" in reference:
        shaped["classifier"] = {key: value for key, value in reference.items() if key != "parzen"}
    return shaped

"""Sample-quality numbers as people read them: one table, each model column beside the
real-data column (a fresh sample of the data itself, the best any model can do)."""

from __future__ import annotations


def rows(quality: dict) -> dict[str, str]:
    """Flatten one `sample_quality` dict into {metric name: formatted value}."""
    out = {}
    for bandwidth, value in quality.get("mmd", {}).items():
        out[f"MMD^2 (RBF, bandwidth {bandwidth})"] = f"{value:.2e}"
    if "sliced_wasserstein" in quality:
        out["sliced Wasserstein-1"] = f"{quality['sliced_wasserstein']:.4f}"
    if "wasserstein_1d" in quality:
        out["Wasserstein-1 (exact, 1D)"] = f"{quality['wasserstein_1d']:.4f}"
    if "kde_test_log_likelihood" in quality:
        ll = quality["kde_test_log_likelihood"]
        out["test LL under a kde of the samples"] = f"{ll['mean']:.3f} ± {ll['standard_error']:.3f}"
    if "true_log_density" in quality:
        true = quality["true_log_density"]
        out["mean true log-density of the samples"] = f"{true['mean']:.3f}"
        out["samples outside the support"] = f"{100 * true['outside_support']:.1f}%"
    if "mode_coverage" in quality:
        coverage = quality["mode_coverage"]
        out["modes captured"] = f"{coverage['modes_captured']}/{coverage['n_modes']}"
        out["high-quality samples"] = f"{100 * coverage['high_quality_fraction']:.1f}%"
        out["smallest mode's share"] = f"{100 * coverage['min_mode_fraction']:.2f}%"
    return out


def table(columns: dict[str, dict]) -> str:
    """A plain-text table: one row per metric, one column per sample (model, real data, ...)."""
    flat = {name: rows(quality) for name, quality in columns.items()}
    metrics = list(dict.fromkeys(key for column in flat.values() for key in column))
    width = max(len(m) for m in metrics) if metrics else 0
    widths = [max(len(name), *(len(flat[name].get(m, "-")) for m in metrics)) for name in flat]
    header = "  ".join([" " * width] + [name.rjust(w) for name, w in zip(flat, widths)])
    lines = [header] + ["  ".join([m.ljust(width)] + [flat[name].get(m, "-").rjust(w) for name, w in zip(flat, widths)]) for m in metrics]
    return "\n".join(lines)


def headline(quality: dict) -> str:
    """The one number to watch during training: mode coverage where the data has modes,
    else the Wasserstein distance to held-out data."""
    if "mode_coverage" in quality:
        coverage = quality["mode_coverage"]
        return f"modes {coverage['modes_captured']}/{coverage['n_modes']}, high quality {100 * coverage['high_quality_fraction']:.1f}%"
    if "sliced_wasserstein" in quality:
        return f"sliced W1 {quality['sliced_wasserstein']:.4f}"
    return f"W1 {quality['wasserstein_1d']:.4f}"

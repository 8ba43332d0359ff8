"""The lecture's "how to evaluate GANs?" table: every registered metric (rows) against real
data, the shortcuts that show what fools a metric (memorizer, mode-dropped, blurred, noise)
and trained models (columns), each cell coloured by its rank within its row and holding its
value; a shortcut that scores at least as well as real data on a number "fools" it, and
its cell is hatched and outlined.

Which numbers: the registry's (genlab.metrics.registry), so a newly registered metric
shows up without editing this file. Each metric contributes its `summary` paths; a metric
with no summary path (`mmd`, whose keys are the data's bandwidths, and
`true_log_density`) contributes every number at the top level of its value. A number
on which every column scores the same is left out (it tells nothing apart: on
8gaussians, whose support is the plane, no sample is outside the true support).

Which way is better: the metric's `higher_is_better`, except for the numbers whose best
value is not an end of their range (TARGETS, by "metric" or "metric.path"):
- "floor" (unbiased MMD², KID: 0 at best; C2ST accuracy: 0.5 at best): values below the
  ideal are chance (an unbiased estimate of a distance that is 0 dips below 0; a
  classifier below 0.5 on held-out points guesses), so every value at or below the ideal
  ties with it, and above it the distance to the ideal counts;
- "target" (the data-copying C_T: ≪ 0 copies, ≫ 0 underfits, 0 is fresh data): the
  distance from the ideal, on either side;
- "lower": lower is better whatever the metric's direction (the share of samples
  outside the true support, beside the samples' true log-density).
Each number becomes a score, higher is better (the value, its negative, or minus its
distance from the ideal); ranks are competition ranks of the scores (1 is best, equal
scores share the better rank), and a shortcut fools a number exactly when its score is
greater than or equal to real data's.

Where the values come from: a point run's metrics.json holds every column's numbers under
samples.<column>.<metric> (`model` for the model); an image run's image metrics (`parzen`,
`classifier`, and `ais` for a decoder model) sit at its top level, the sample metrics of the
classifier's features under `classifier`, and the reference rows under `references`
(genlab.evaluation.references; shaped as results by genlab.metrics.report.as_results; which
reference is which column: IMAGE_REFERENCES). `column_values` reads both.
"""

from __future__ import annotations

import math
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib.pyplot as plt
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.patches import Patch, Rectangle

from genlab.metrics.registry import IMAGES, SAMPLES, Metric, metrics
from genlab.metrics.report import as_results
from genlab.plots import style

REAL = "real_data"
SHORTCUTS = ("memorizer", "mode_dropped", "blurred", "noise")
REFERENCES = (REAL, *SHORTCUTS)
LABELS = {REAL: "real data", "memorizer": "memorizer", "mode_dropped": "mode-dropped", "blurred": "blurred", "noise": "noise"}
# An image run's `references` behind each column, joined in order (a later one's numbers win):
# real data is the held-out real images (the classifier's numbers: fresh images, as 8gaussians'
# fresh draws) with the real training images' Parzen, the only real images Parzen scores.
IMAGE_REFERENCES = {REAL: ("real_train_images", "real_held_out_images"), "memorizer": ("memorizer",),
                    "mode_dropped": ("mode_dropped",), "blurred": ("blurred",), "noise": ("uniform_noise",)}
# Image numbers that are not a registered metric's summary, as (metric, path, rule, the metric whose
# rows they follow): the classifier's class coverage, and AIS's bound on log p(x) beside Parzen
# (decoder models only: the references have none). They are shown even where only one column has
# them (a lone GAN's AIS), unranked.
IMAGE_ROWS = (("classifier", "coverage.entropy", "higher", "classifier"), ("ais", "mean", "higher", "parzen"))

TARGETS: dict[str, tuple[str, float | None]] = {
    "mmd": ("floor", 0.0),
    "kid.mean": ("floor", 0.0),
    "c2st.accuracy": ("floor", 0.5),
    "memorization.c_t": ("target", 0.0),
    "true_log_density.outside_support": ("lower", None),
}
BEST, WORST = "#1a9850", "#d73027"  # the colours of rank 1 and of the last rank in a row
RANK_CMAP = LinearSegmentedColormap.from_list("rank", [BEST, "#fee08b", WORST])
MISSING = "#eeeeee"  # a number a column does not have (no modes, an image run's references)
UNRANKED = "white"  # a number only one column has: there is nothing to rank it against


@dataclass
class Row:
    metric: str
    inner: str  # the path into the metric's value ("" for the value itself)
    rule: str  # higher | lower | floor | target
    ideal: float | None
    values: list[float | None]  # one per column
    scores: list[float | None] = field(default_factory=list)  # higher is better
    ranks: list[int | None] = field(default_factory=list)  # 1 is best
    fools: list[bool] = field(default_factory=list)  # a shortcut at least as good as real data

    @property
    def label(self) -> str:
        return ".".join(p for p in (self.metric, self.inner) if p)

    @property
    def direction(self) -> str:
        """How the row is read, for its label: ↑, ↓, or the ideal."""
        if self.rule in ("higher", "lower"):
            return "↑" if self.rule == "higher" else "↓"
        return f"→ {self.ideal:g}" + (" (below ties)" if self.rule == "floor" else " (either side)")


@dataclass
class Table:
    columns: list[str]  # keys: reference rows, then model labels
    rows: list[Row]

    def colour(self, row: Row, column: int) -> str | tuple:
        """The cell's colour: its rank spread over the row's ranks, green best, red worst."""
        rank = row.ranks[column]
        if rank is None:
            return MISSING if row.values[column] is None else UNRANKED
        worst = max(r for r in row.ranks if r is not None)
        return BEST if rank == 1 else RANK_CMAP((rank - 1) / max(worst - 1, 1))

    def fooled(self) -> dict[str, list[str]]:
        """{shortcut: the numbers it fools}."""
        return {c: [row.label for row in self.rows if row.fools[i]] for i, c in enumerate(self.columns) if c in SHORTCUTS}

    def as_dict(self) -> dict:
        """The table's numbers for metrics.json: each row's values by column and what fools it."""
        return {row.label: {"values": dict(zip(self.columns, row.values)), "ranks": dict(zip(self.columns, row.ranks)),
                            "fooled_by": [c for c, f in zip(self.columns, row.fools) if f]} for row in self.rows}


def score(value: float | None, rule: str, ideal: float | None) -> float | None:
    """The number as a score, higher is better (see the module's docstring)."""
    if value is None:
        return None
    if rule == "higher":
        return value
    if rule == "lower":
        return -value
    if rule == "floor":
        return -max(value - ideal, 0.0)
    return -abs(value - ideal)


def rule_of(metric: Metric, inner: str) -> tuple[str, float | None]:
    return TARGETS.get(f"{metric.name}.{inner}", TARGETS.get(metric.name, ("higher" if metric.higher_is_better else "lower", None)))


def column_values(run: dict, column: str) -> dict:
    """{metric name: value} of one column ("model" or a reference row) of a run's metrics.json.
    An image run's sample metrics of the classifier's features (precision_recall, kid, ...),
    which it keeps under `classifier`, come up to the top, where a point run has them."""
    found = dict((run.get("samples") or {}).get(column) or {})
    if column == "model":
        found.update({name: run[name] for name in (*(m.name for m in metrics(IMAGES)), *(row[0] for row in IMAGE_ROWS)) if name in run})
    else:
        for name in IMAGE_REFERENCES.get(column, ()):
            if name in (run.get("references") or {}):
                for key, value in as_results(run["references"][name]).items():
                    found[key] = {**found[key], **value} if isinstance(found.get(key), dict) else value
    sample_metrics = {m.name for m in metrics(SAMPLES)}
    found.update({k: v for k, v in (found.get("classifier") or {}).items() if k in sample_metrics and k not in found})
    return found


def _number(value) -> float | None:
    """A finite or infinite number (JSON's "inf" strings too); None for anything else."""
    if isinstance(value, str):
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
        return None
    return float(value)


def _at(value, inner: str):
    if isinstance(value, dict) and inner in value:  # a key with a dot of its own (mmd's bandwidth "0.2")
        return value[inner]
    for part in filter(None, inner.split(".")):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def build_table(models: dict[str, dict], references: dict | None = None) -> Table:
    """The table of `models` ({column label: a run's metrics.json}) beside the reference rows
    of `references` (a run's metrics.json; default: the first model's). Reference columns
    no run has are left out, as are rows no column has."""
    references = references if references is not None else next(iter(models.values()))
    columns = [c for c in REFERENCES if column_values(references, c)] + list(models)
    cells = [column_values(references, c) for c in columns if c in REFERENCES] + [column_values(run, "model") for run in models.values()]
    rows = []
    for metric in metrics():
        if metric.kind not in (SAMPLES, IMAGES) or not any(metric.name in cell for cell in cells):
            continue
        inners = [inner for inner in metric.summary]
        if not inners:  # no summary path: every number at the top of its value
            seen = [cell[metric.name] for cell in cells if isinstance(cell.get(metric.name), dict)]
            inners = list(dict.fromkeys(k for v in seen for k, x in v.items() if _number(x) is not None))
        for inner in inners:
            values = [_number(_at(cell.get(metric.name), inner)) for cell in cells]
            if len({v for v in values if v is not None}) < 2:
                continue  # no column has it, or all score the same (no sample leaves the true support): it tells nothing apart
            rule, ideal = rule_of(metric, inner)
            rows.append(rank(Row(metric.name, inner, rule, ideal, values), columns))
    for name, inner, rule, after in IMAGE_ROWS:
        values = [_number(_at(cell.get(name), inner)) for cell in cells]
        if any(v is not None for v in values):
            row = rank(Row(name, inner, rule, None, values), columns)
            last = [i for i, r in enumerate(rows) if r.metric == after]
            rows.insert(last[-1] + 1 if last else len(rows), row)
    return Table(columns, rows)


def rank(row: Row, columns: list[str]) -> Row:
    """Fill the row's scores, competition ranks and fools; a row with one number has no ranks."""
    row.scores = [score(v, row.rule, row.ideal) for v in row.values]
    present = [s for s in row.scores if s is not None]
    row.ranks = [None if s is None or len(present) < 2 else 1 + sum(other > s for other in present) for s in row.scores]
    real = row.scores[columns.index(REAL)] if REAL in columns else None
    row.fools = [c in SHORTCUTS and s is not None and real is not None and s >= real for c, s in zip(columns, row.scores)]
    return row


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if value == int(value) and abs(value) < 1e5:
        return str(int(value))
    return f"{value:.2e}" if value != 0 and (abs(value) < 1e-2 or abs(value) >= 1e4) else f"{value:.3g}"


CAPTION = ("Colour: rank within the row (green best, red worst; equal scores share a rank). "
           "Hatched and outlined: a shortcut (memorizer, mode-dropped, blurred, noise) that scores at least as well as "
           "real data on that number: it fools it. White: a number only one column has. ↑ higher is better, ↓ lower; "
           "→ x: x is best, (below ties): values below x are chance and tie with it, (either side): the distance from x counts.")


def draw(table: Table, path: Path, title: str, column_labels: dict[str, str] | None = None, footer: str | None = None) -> Path:
    """The table as a figure: one row per number, one column per sample set."""
    labels = {**LABELS, **(column_labels or {})}
    n_rows, n_cols = len(table.rows), len(table.columns)
    with plt.rc_context({**style.RC, "axes.grid": False}):
        fig, ax = plt.subplots(figsize=(3.2 + 1.05 * n_cols, 1.6 + 0.36 * n_rows))
    for i, row in enumerate(table.rows):
        for j in range(n_cols):
            ax.add_patch(Rectangle((j, i), 1, 1, facecolor=table.colour(row, j), edgecolor="white", linewidth=1))
            if row.fools[j]:
                ax.add_patch(Rectangle((j + 0.04, i + 0.06), 0.92, 0.88, fill=False, hatch="///", edgecolor="black", linewidth=1.8))
            ax.text(j + 0.5, i + 0.5, _fmt(row.values[j]), ha="center", va="center", fontsize=8,
                    fontweight="bold" if row.ranks[j] == 1 else "normal",
                    bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "alpha": 0.7, "linewidth": 0} if row.fools[j] else None)
    ax.set_xlim(0, n_cols)
    ax.set_ylim(n_rows, 0)
    ax.set_xticks([j + 0.5 for j in range(n_cols)], [labels.get(c, c) for c in table.columns], rotation=20, ha="right")
    ax.set_yticks([i + 0.5 for i in range(n_rows)], [f"{row.label} {row.direction}" for row in table.rows], fontsize=8)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    shortcuts = [j for j, c in enumerate(table.columns) if c in SHORTCUTS]
    if shortcuts:  # the shortcut columns apart from the models
        ax.axvline(max(shortcuts) + 1, color="black", linewidth=1.5)
    ax.set_title(title, loc="left")
    ax.legend(handles=[Patch(facecolor=BEST, label="best in its row"), Patch(facecolor=WORST, label="worst"),
                       Patch(facecolor="white", edgecolor="black", hatch="///", label="a shortcut that fools it (≥ real data)")],
              loc="upper left", bbox_to_anchor=(0, -0.03 - 0.9 / n_rows), ncols=3, fontsize=8, frameon=False)
    width = int(15 * fig.get_figwidth())  # ~15 characters per inch at 7 pt
    text = textwrap.fill(CAPTION, width=width) + (f"\n{textwrap.fill(footer, width=width, break_on_hyphens=False)}" if footer else "")
    fig.text(0.01, 0.005, text, ha="left", va="bottom", fontsize=7, color="#444444")
    fig.subplots_adjust(left=0.3, right=0.99, top=1 - 0.45 / fig.get_figheight(), bottom=(1.2 + 0.12 * text.count("\n")) / fig.get_figheight())
    path = Path(path)
    from genlab.io import atomic_write

    atomic_write(path, lambda handle: fig.savefig(handle, format="png"))
    plt.close(fig)
    return path

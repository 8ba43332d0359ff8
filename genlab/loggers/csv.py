"""logger=csv: every logged number as a row of `logged.csv` (step, name, value) in the run
folder, or under `save_dir`; the final metrics with step `final`. Long rows, so runs and
metrics of any names stack in one table (pandas: pivot on name). Rewritten whole and
atomically at each call, as every genlab file."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from genlab.io import atomic_write
from genlab.loggers import Logger, run_name


class CSVLogger(Logger):
    name = "csv"

    def __init__(self, save_dir=None, run_dir=None):
        self.path = (Path(run_dir) if save_dir is None else Path(save_dir) / run_name(run_dir)) / "logged.csv"
        self.rows: list[tuple] = []

    def _write(self) -> None:
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(("step", "name", "value"))
        writer.writerows(self.rows)
        atomic_write(self.path, lambda handle: handle.write(text.getvalue().encode()))

    def log_metrics(self, metrics, step):
        self.rows += [(step, name, repr(value)) for name, value in metrics.items()]
        self._write()

    def log_final(self, metrics, figures, checkpoint):
        self.rows += [("final", name, repr(value)) for name, value in metrics.items()]
        self._write()

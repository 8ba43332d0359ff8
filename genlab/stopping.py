"""SIGINT and SIGTERM, from the moment the command line is parsed to the last file written.

The console script installs `stop_on_signals`: a signal then raises `Stopped` in the main
thread, wherever it is (building data, before the loop, evaluating, drawing, writing), so
every `atomic_write` under way removes its temporary file, and the script ends with one
line and status 130 (SIGINT) or 143 (SIGTERM). Inside the training loop the loop takes
the signals over itself: it finishes the step, writes a checkpoint, and raises
`TrainingInterrupted`, a `Stopped` that knows its step and checkpoint.

`Stopped` is a BaseException, like KeyboardInterrupt, so that Hydra, which turns a job's
ordinary exceptions into a failed job, lets it through and a sweep stops as a whole.
"""

from __future__ import annotations

import signal
import threading
from contextlib import contextmanager
from pathlib import Path

EXIT_STATUS = {"SIGINT": 130, "SIGTERM": 143}
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):
    """A signal stopped genlab; `step` and `checkpoint` when training had a checkpoint to show,
    `run_dir` once the run's folder is known (genlab.train.main sets it)."""

    run_dir: Path | None = None

    def __init__(self, signal_name: str, step: int | None = None, checkpoint: Path | None = None):
        self.signal_name, self.step, self.checkpoint = signal_name, step, checkpoint
        super().__init__(f"stopped by {signal_name}" + (f" after step {step}" if step is not None else ""))

    @property
    def exit_status(self) -> int:
        return EXIT_STATUS.get(self.signal_name, 1)


def stop_on_signals():
    """SIGINT and SIGTERM raise Stopped while inside (main thread only; elsewhere nothing changes)."""

    def handler(signum, frame):
        raise Stopped(signal.Signals(signum).name)

    return _handled_by(handler)


@contextmanager
def signals_caught():
    """SIGINT and SIGTERM become names in the yielded list, which the training loop checks
    after each step (main thread only)."""
    caught: list[str] = []
    with _handled_by(lambda signum, frame: caught.append(signal.Signals(signum).name)):
        yield caught


@contextmanager
def _handled_by(handler):
    """Python lets only the main thread set signal handlers; other threads keep the default."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, handler) for s in SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)

"""Run the genlab console script with a fault injected at one point of the code (tests only).

    python tests/inject.py TARGET FAULT [CALL] -- genlab arguments ...

TARGET is `module:attribute` (`genlab.evaluation.points:plot_density`, `torch:save`,
`genlab.evaluation.points:PointReport.finish`); on its CALL-th call (default 1) the wrapper
first injects FAULT: `SIGINT` or `SIGTERM` (sent to this process, so genlab's own handlers
see a real signal) or `ENOSPC` (an OSError as a full disk raises), then calls the original.
"""

from __future__ import annotations

import errno
import functools
import importlib
import os
import signal
import sys


def inject(target: str, fault: str, call: int = 1) -> None:
    module_name, _, path = target.partition(":")
    owner = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for part in parents:
        owner = getattr(owner, part)
    original = getattr(owner, name)
    calls = {"n": 0}

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == call:
            if fault == "ENOSPC":
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "injected")
            os.kill(os.getpid(), getattr(signal, fault))
        return original(*args, **kwargs)

    setattr(owner, name, wrapper)


if __name__ == "__main__":
    split = sys.argv.index("--")
    inject(*sys.argv[1:3], *map(int, sys.argv[3:split]))
    sys.argv = ["genlab", *sys.argv[split + 1:]]
    from genlab.train import cli

    cli()

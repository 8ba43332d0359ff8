"""The training's live view: a tqdm bar in a terminal, tqdm's notebook bar in Jupyter.

`progress=None` (the default) means "where someone watches": a terminal (stderr is a TTY)
or a notebook kernel, whose stderr is never a TTY, so tqdm's own `disable=None` would hide
the bar there. A notebook needs ipywidgets for the widget bar; without it genlab draws
tqdm's text bar into the cell rather than tqdm.auto's warning and fallback."""

from __future__ import annotations

import importlib.util
import sys


def in_notebook() -> bool:
    """True inside a Jupyter (IPython kernel) session, as tqdm.autonotebook decides it."""
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def progress_bar(progress: bool | None, **options):
    """A tqdm bar for `progress` (true, false, or None: only where someone watches)."""
    if in_notebook():
        if importlib.util.find_spec("ipywidgets") is not None:
            from tqdm.notebook import tqdm
        else:
            from tqdm.std import tqdm
        return tqdm(disable=progress is False, **options)
    from tqdm.std import tqdm

    return tqdm(disable=None if progress is None else not progress, **options)

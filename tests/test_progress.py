"""The live view: a bar on a terminal, tqdm's widget bar in a notebook (its text bar
without ipywidgets), none where nobody watches unless asked."""

from __future__ import annotations

import sys
import types

import pytest
import tqdm.notebook
import tqdm.std

from genlab.engine import progress


@pytest.fixture
def notebook(monkeypatch):
    """An IPython kernel as Jupyter runs one: get_ipython() with an IPKernelApp config."""
    shell = types.SimpleNamespace(config={"IPKernelApp": {"connection_file": "kernel.json"}})
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))


def test_outside_a_notebook_the_bar_shows_only_on_a_terminal_unless_asked(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: None))  # plain IPython or none
    assert not progress.in_notebook()
    with progress.progress_bar(None, total=3) as bar:  # pytest's captured stderr is no terminal
        assert type(bar) is tqdm.std.tqdm and bar.disable
    with progress.progress_bar(True, total=3) as bar:
        assert not bar.disable
    with progress.progress_bar(False, total=3) as bar:
        assert bar.disable


def test_a_notebook_gets_the_widget_bar_with_ipywidgets(notebook, monkeypatch):
    made = []

    class WidgetBar(tqdm.std.tqdm):  # stands in for tqdm.notebook.tqdm, which needs a live kernel to display
        def __init__(self, **options):
            made.append(options)
            super().__init__(**options)

    monkeypatch.setattr(tqdm.notebook, "tqdm", WidgetBar)
    monkeypatch.setattr(progress.importlib.util, "find_spec", lambda name: object() if name == "ipywidgets" else None)
    assert progress.in_notebook()
    with progress.progress_bar(None, total=5, desc="WGAN") as bar:
        assert type(bar) is WidgetBar and not bar.disable  # stderr is no terminal in a kernel: shown all the same
    assert made == [{"disable": False, "total": 5, "desc": "WGAN"}]
    with progress.progress_bar(False, total=5) as bar:
        assert bar.disable


def test_a_notebook_without_ipywidgets_gets_the_text_bar(notebook, monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # not installed
    with progress.progress_bar(None, total=5) as bar:
        assert type(bar) is tqdm.std.tqdm and not bar.disable

"""Running genlab as a user would: the console script in a subprocess, or Hydra's compose API."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hydra import compose, initialize_config_module

GENLAB = [sys.executable, "-m", "genlab.train"]


def run_cli(*args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*GENLAB, *args], cwd=cwd, capture_output=True, text=True, timeout=300, env={**os.environ, **(env or {})})


def group_options(group: str) -> str:
    """The options of a config group as genlab lists them: "gan, gmm, kde, ..." (from conf/)."""
    return ", ".join(sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "conf" / group).glob("*.yaml")))


def compose_config(*overrides: str):
    with initialize_config_module("genlab.conf", version_base="1.3"):
        return compose("config", overrides=list(overrides))


def run_on(tmp_path: Path, name: str, *overrides: str) -> dict:
    """One run in this process, as the CLI's `run` does it, into tmp_path/outputs/runs/<name>."""
    from genlab.train import run

    cfg = compose_config(*overrides, f"output_root={tmp_path / 'outputs'}")
    return run(cfg, tmp_path / "outputs" / "runs" / name)

"""The table the one-shot benches print: a title naming the machine (cores, torch threads,
and the load before and after, since other work slows every timing), then two columns."""

from __future__ import annotations

import os
import platform

import torch


def print_table(title: str, rows: list[tuple[str, str]], load_before: float) -> None:
    print(f"{title} ({platform.machine()}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads, "
          f"load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after)\n")
    print("| measurement | value |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")

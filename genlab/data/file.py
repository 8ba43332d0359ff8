"""Your own points from a file: `genlab model=gmm data=file data.path=mine.csv`.

The file's rows are split once, by `seed`, into training and held-out points. A file has
no fresh draws and no known density: the run leaves out what needs them and says so
(genlab.evaluation.points), and the real-data row compares one half of the held-out
points with the other.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from genlab.data.points import Points
from genlab.data.standardize import Standardization
from genlab.data.table import read_table
from genlab.errors import ConfigError

PAIR_PLOT_COLUMNS = 4  # coordinates a pair plot shows by default when there are more than 2


class PointFile(Points):
    """Points read from `path` (.csv, .tsv, .txt, .npy, .npz; genlab.data.table).

    Args:
        path: the file. Its stem names the run folder and the set.
        columns: the columns to keep, by header name or 0-based index (None: all).
        header: "auto" (the first row is a header when a cell of it is not a number),
            true or false. Text files only.
        key: the array of an .npz file that holds several.
        test_fraction: the share of rows held out (rounded; at least one row each side).
        standardize: fit the model on the columns standardized by the training points'
            mean and standard deviation, and report everything in the file's units
            (genlab.data.standardize).
        plot_columns: for more than 2 columns, the ones the pair plots show (names or
            indices among the kept columns; None: the first 4).
        seed: the split's seed, apart from the model's.
    """

    def __init__(self, path=None, columns=None, header="auto", key=None, test_fraction: float = 0.5,
                 standardize: bool = False, plot_columns=None, seed: int = 0):
        if path is None or str(path) == "":
            raise ConfigError("path must name your file of points: data.path=mine.csv (.csv, .tsv, .txt, .npy or .npz)")
        self.path = Path(path)
        values, names = read_table(self.path, key, header)
        self.fingerprint = hashlib.sha256(self.path.read_bytes()).hexdigest()
        names = names or [f"x{i + 1}" for i in range(values.shape[1])]
        kept = column_indices("columns", columns, names, self.path)
        values, names = values[:, kept], [names[i] for i in kept]
        if isinstance(test_fraction, bool) or not isinstance(test_fraction, (int, float)) or not 0 < test_fraction < 1:
            raise ConfigError(f"test_fraction must be a number between 0 and 1, the share of rows held out (got {test_fraction!r})")
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise ConfigError(f"seed must be an integer (got {seed!r})")
        n_test = round(len(values) * test_fraction)
        if not 0 < n_test < len(values):
            side = "no test point" if n_test == 0 else "no training point"
            raise ConfigError(f"test_fraction={test_fraction} leaves {side} of the {len(values)} rows of {self.path}")
        order = torch.randperm(len(values), generator=torch.Generator().manual_seed(seed)).numpy()
        super().__init__(values[order[n_test:]], values[order[:n_test]], name=self.path.stem, columns=names)
        self.seed = seed
        if not isinstance(standardize, bool):
            raise ConfigError(f"standardize must be true or false (got {standardize!r})")
        if standardize:
            self.standardization = Standardization.of(self.train, names, self.path)
        default = list(range(min(self.dim, PAIR_PLOT_COLUMNS)))
        self.plot_columns = default if plot_columns is None else column_indices("plot_columns", plot_columns, names, self.path)


def column_indices(key: str, wanted, names: list[str], path: Path) -> list[int]:
    """The 0-based indices of `wanted` (names or indices, one or a list; None: all)."""
    if wanted is None:
        return list(range(len(names)))
    wanted = [wanted] if isinstance(wanted, (str, int)) else list(wanted)
    if not wanted:
        raise ConfigError(f"{key} must name at least one column of {path} (its columns: {', '.join(names)})")
    indices = []
    for item in wanted:
        if isinstance(item, int) and not isinstance(item, bool) and -len(names) <= item < len(names):
            indices.append(item % len(names))
        elif isinstance(item, str) and item in names:
            indices.append(names.index(item))
        else:
            raise ConfigError(f"{key}: {item!r} is not a column of {path}: give names among {', '.join(names)} "
                              f"or indices 0 to {len(names) - 1}")
    if len(set(indices)) != len(indices):
        raise ConfigError(f"{key} names a column twice (got {wanted!r})")
    return indices

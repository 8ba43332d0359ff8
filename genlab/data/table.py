"""Reading a table of numbers from a user's file (.csv, .tsv, .txt, .npy, .npz) into a
float64 array, with one line per problem that names the file, the line and the column.

Text files are read by Python's csv module: comma-separated for .csv, tab for .tsv, and
for .txt whichever of comma, tab or blanks its first line uses. Blank lines and lines
starting with # are skipped. Arrays are read by numpy with allow_pickle=False, so a file
from a stranger can hold numbers and nothing that runs.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np

from genlab.errors import ConfigError

TEXT = (".csv", ".tsv", ".txt")
ARRAYS = (".npy", ".npz")
HEADERS = ("auto", True, False)  # data.header: detect it, or say whether the first row names the columns


def read_table(path, key: str | None = None, header="auto") -> tuple[np.ndarray, list[str] | None]:
    """(rows, column names or None) of the file at `path`; rows as a float64 (n, d) array."""
    path = Path(path)
    if path.suffix.lower() not in TEXT + ARRAYS:
        raise ConfigError(f"path: {path} must end in one of {', '.join(TEXT + ARRAYS)} (got {path.suffix or 'no suffix'!r})")
    if not path.is_file():
        raise ConfigError(f"path: no such file: {path}")
    if path.suffix.lower() in ARRAYS:
        if key is not None and path.suffix.lower() == ".npy":
            raise ConfigError(f"key names an array of an .npz file; {path} is an .npy file of one array (got key={key!r})")
        return read_array(path, key), None
    if header not in HEADERS or isinstance(header, (int, float)) and not isinstance(header, bool):
        raise ConfigError(f"header must be one of auto, true, false (got {header!r})")
    return read_text(path, header)


def read_array(path: Path, key: str | None) -> np.ndarray:
    """The one array of an .npy file, or the array `key` of an .npz file (needed when it holds several)."""
    try:
        loaded = np.load(path, allow_pickle=False)
    except ValueError as error:  # an object array, which would need pickle
        raise ConfigError(f"path: {path} is not an array of numbers ({error})") from None
    except (OSError, EOFError) as error:
        raise ConfigError(f"path: {path} is not a readable numpy file ({error})") from None
    array = npz_array(loaded, path, key) if isinstance(loaded, np.lib.npyio.NpzFile) else loaded
    if array.dtype.kind not in "biuf":
        raise ConfigError(f"path: {path} holds {array.dtype} values, not numbers")
    if array.ndim == 1:
        array = array[:, None]
    if array.ndim != 2:
        raise ConfigError(f"path: {path} holds an array of shape {array.shape}; points need (n, d) (images: data=images)")
    array = array.astype(np.float64)
    bad = ~np.isfinite(array).all(axis=1)
    if bad.any():
        raise ConfigError(f"path: {path}: row {int(np.argmax(bad))} holds NaN or inf ({int(bad.sum())} such rows); only finite numbers are allowed")
    return check_rows(array, path)


def npz_array(loaded, path: Path, key: str | None, key_name: str = "key") -> np.ndarray:
    """The array `key` of an open .npz file (its only one when `key` is None), else one
    line naming `key_name` and the arrays the file holds; the file is closed after."""
    with loaded:
        names = list(loaded.files)
        if not names:
            raise ConfigError(f"path: {path} holds no array")
        if key is None and len(names) == 1:
            key = names[0]
        if key not in names:
            raise ConfigError(f"{key_name} must name one of the arrays in {path}: {', '.join(names)}" + (f" (got {key!r})" if key is not None else ""))
        return loaded[key]


def read_text(path: Path, header="auto") -> tuple[np.ndarray, list[str] | None]:
    """The numbers of a delimited text file and its header's names (None without one)."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # -sig: a byte-order mark is not part of the first name
    except UnicodeDecodeError:
        raise ConfigError(f"path: {path} is not a UTF-8 text file") from None
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
    if not lines:
        raise ConfigError(f"path: {path} is empty: no rows of numbers")
    delimiter = _delimiter(path, lines[0][1])
    rows = [(number, _cells(line, delimiter)) for number, line in lines]
    first_number, first = rows[0]
    names = None
    if header is True or (header == "auto" and not all(_is_number(cell) for cell in first)):
        names, rows = [cell.strip() for cell in first], rows[1:]
        if not rows:
            raise ConfigError(f"path: {path} has a header row and no rows of numbers")
    width = len(names) if names is not None else len(rows[0][1])
    values = np.empty((len(rows), width))
    for i, (number, cells) in enumerate(rows):
        if len(cells) != width:
            raise ConfigError(f"path: {path}: line {number} has {len(cells)} cells, line {first_number} has {width}: "
                              "every row needs the same number of columns")
        for j, cell in enumerate(cells):
            column = f"column {j + 1}" + (f" ({names[j]!r})" if names else "")
            try:
                value = float(cell)
            except ValueError:
                raise ConfigError(f"path: {path}: line {number}, {column}: {cell.strip()!r} is not a number") from None
            if not math.isfinite(value):
                raise ConfigError(f"path: {path}: line {number}, {column} is {cell.strip()}; only finite numbers are allowed")
            values[i, j] = value
    return check_rows(values, path), names


def check_rows(values: np.ndarray, path: Path) -> np.ndarray:
    if len(values) < 2:
        raise ConfigError(f"path: {path} has {len(values)} row of numbers; at least 2 are needed (a training and a test point)")
    if values.shape[1] == 0:
        raise ConfigError(f"path: {path} has no columns")
    return values


def _delimiter(path: Path, first_line: str) -> str | None:
    """',' for .csv, a tab for .tsv; for .txt the first line's (None: blanks)."""
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        return "," if suffix == ".csv" else "\t"
    return next((d for d in (",", "\t", ";") if d in first_line), None)


def _cells(line: str, delimiter: str | None) -> list[str]:
    return line.split() if delimiter is None else next(csv.reader([line], delimiter=delimiter))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True

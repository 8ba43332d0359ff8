"""Files written atomically: a temporary file beside the target, renamed into place.

A crash, a signal or a full disk never leaves a half-written file: the temporary file is
removed and the previous version stays whole. JSON is strict (non-finite numbers become
the strings "inf", "-inf", "nan").
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path

_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write(path: Path, write) -> None:
    """Call write(file_object) on a temporary file beside `path`, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:  # from here on, a signal or a full disk removes the temporary file
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, payload: dict) -> None:
    """Atomic JSON; non-finite numbers become the strings "inf", "-inf", "nan" (strict JSON has none)."""
    text = json.dumps(_finite_json(payload), indent=2, allow_nan=False) + "\n"
    atomic_write(path, lambda handle: handle.write(text.encode()))


def write_jsonl(path: Path, records: list[dict]) -> None:
    """Atomic JSON lines, one record per line (rewritten whole: logs here are short)."""
    text = "".join(json.dumps(_finite_json(r), allow_nan=False) + "\n" for r in records)
    atomic_write(path, lambda handle: handle.write(text.encode()))


def _finite_json(value):
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_json(v) for v in value]
    return value

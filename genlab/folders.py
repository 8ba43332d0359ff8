"""The folders genlab names for runs and sweeps: created exclusively, never shared, and
the only ones genlab ever removes.

conf/config.yaml names each run `${genlab.new_folder:<output_root>/runs/<date>_<time>_<model>_<data>}`
(<data>: the data option, or the stem of the file a data=file run reads)
(a sweep `${genlab.new_folder:<output_root>/multirun/<date>_<time>}`). The resolver creates
that folder with an exclusive `mkdir`; when it is taken (two runs started in the same
second) it creates `<name>-2`, `<name>-3`, ... instead, so no two runs or sweeps share a
folder and a folder's `.hydra/` and `config.yaml` always describe the same run.

genlab removes a folder only when this process created it here (a run refused for bad
input, or stopped before it wrote anything to continue from). A folder the user names
(`hydra.run.dir=...`, `hydra.sweep.dir=...`) is used as given and never removed, even
when it is new: genlab cannot tell it from one the user made.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

RESOLVER = "genlab.new_folder"
DATA_NAME_RESOLVER = "genlab.data_name"  # the <data> part of a run's name
_created: dict[str, Path] = {}  # the name asked for -> the folder created for it, in this process


def new_folder(name: str) -> str:
    """Create `name` (or `name-2`, `name-3`, ... when taken) and return the folder created.
    Asked again for the same name in this process (Hydra resolves a sweep's folder once
    per job), it returns the same folder."""
    if name in _created:
        return str(_created[name])
    base = Path(name)
    base.parent.mkdir(parents=True, exist_ok=True)
    for number in range(1, 10_000):
        candidate = base if number == 1 else base.with_name(f"{base.name}-{number}")
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        _created[name] = candidate.resolve()
        return str(candidate)
    raise FileExistsError(f"{base}: 10,000 folders of this name exist already")


def created_here(folder: Path) -> bool:
    """Whether this process created `folder` with new_folder."""
    return Path(folder).resolve() in _created.values()


def created_folders() -> list[Path]:
    """The folders this process created with new_folder, oldest first."""
    return list(_created.values())


def remove_if_created_here(folder: Path) -> bool:
    """Remove `folder` if, and only if, this process created it; say whether it did."""
    if not created_here(folder):
        return False
    shutil.rmtree(folder, ignore_errors=True)
    return True


def register_resolver() -> None:
    from omegaconf import OmegaConf

    if not OmegaConf.has_resolver(RESOLVER):
        OmegaConf.register_new_resolver(RESOLVER, new_folder, use_cache=True)
    if not OmegaConf.has_resolver(DATA_NAME_RESOLVER):
        OmegaConf.register_new_resolver(DATA_NAME_RESOLVER, data_name)


def data_name(choice: str, path=None) -> str:
    """The data set's part of a run folder's name: the option chosen (moons), or for a
    set read from a file (data=file data.path=...) the file's stem."""
    return Path(str(path)).stem or choice if path else choice


def folder_problem(key: str, value) -> str | None:
    """Why `value` cannot hold genlab's output (one line naming `key`), or None when it can:
    empty, a file, or a place where no file can be created (read-only, no permission)."""
    if value is None or not str(value).strip():
        return f"{key} must name a folder (got {value!r}); the default is outputs"
    path = Path(str(value)).expanduser()
    if path.exists() and not path.is_dir():
        return f"{key}={value}: {path} is a file, not a folder"
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        return f"{key}={value}: {existing} is a file, not a folder"
    try:  # os.access says yes to root even on a read-only mount: really create something
        Path(tempfile.mkdtemp(prefix=".genlab-write-check-", dir=existing)).rmdir()
    except OSError as error:
        return f"{key}={value}: cannot write in {existing} ({error.strerror or error})"
    return None

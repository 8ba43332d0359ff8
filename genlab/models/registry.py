"""genlab's own model classes, found by looking through the modules of genlab.models.

They are the only classes a checkpoint may name (genlab.run.load.build_model): a file
from a stranger chooses among them and nothing else. A model added as a new file in
genlab/models/ is found here with no table to edit; bases marked `abstract = True` in
their own class body are skipped.
"""

from __future__ import annotations

import importlib
import pkgutil


def model_classes() -> dict[str, type]:
    """Class name -> class, for every concrete GenerativeModel defined in genlab.models."""
    import genlab.models as package
    from genlab.models.base import GenerativeModel

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for value in vars(module).values():
            if (isinstance(value, type) and issubclass(value, GenerativeModel) and value.__module__ == module.__name__
                    and not vars(value).get("abstract", False)):
                found[value.__name__] = value
    listed = getattr(package, "__all__", [])  # genlab.models' own order first (kde, gmm, ...), then any other
    return dict(sorted(found.items(), key=lambda item: (listed.index(item[0]) if item[0] in listed else len(listed), item[0])))


def target_of(cls: type) -> str:
    """The `_target_` genlab's configs give a model class (conf/model/*.yaml)."""
    return f"genlab.models.{cls.__name__}"

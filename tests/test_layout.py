"""The layout shows the architecture: imports between genlab's folders (module-level and lazy
alike) run one way, from the entrypoint down to the engine, data and IO, and never back."""

import ast
from collections import defaultdict
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "genlab"
BELOW_THE_DRIVERS = ("models", "engine", "data", "io", "errors", "stopping")  # they never reach up to run/ or evaluation/


def imports_between_parts() -> dict[str, set[str]]:
    """genlab part (a folder, or a module at the top) -> the other parts it imports."""
    edges = defaultdict(set)
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        part = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        for node in ast.walk(ast.parse(path.read_text())):
            names = [node.module] if isinstance(node, ast.ImportFrom) and node.module else [a.name for a in getattr(node, "names", [])] if isinstance(node, ast.Import) else []
            for name in names:
                pieces = name.split(".")
                if pieces[0] == "genlab" and len(pieces) > 1 and pieces[1] != part:
                    edges[part].add(pieces[1])
    return edges


def test_no_import_cycle_between_folders():
    edges = imports_between_parts()
    state = {}

    def visit(part, path):
        state[part] = "open"
        for other in sorted(edges.get(part, ())):
            assert state.get(other) != "open", f"import cycle: {' -> '.join([*path, other])}"
            if other not in state:
                visit(other, [*path, other])
        state[part] = "done"

    for part in sorted(edges):
        if part not in state:
            visit(part, [part])


def test_models_and_the_engine_never_import_the_run_drivers_or_evaluation():
    edges = imports_between_parts()
    for part in BELOW_THE_DRIVERS:
        assert not edges.get(part, set()) & {"run", "evaluation", "train", "sweeps", "lecture"}, (part, edges.get(part))

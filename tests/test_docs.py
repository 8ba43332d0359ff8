"""What README.md and docs/*.md show, checked against the code.

(a) Every `genlab ...` command in a shell code block (```bash, ```sh, ```console or a bare
    ```) composes with Hydra's compose API, and genlab's own command-line check accepts it.
    A sweep (-m) is expanded by Hydra's override parser, as the sweeper expands it, and
    every job is composed, including the values an experiment's `hydra.sweeper.params`
    sweeps. One test per command, named by its page and line.
(b) The README's main examples run for real, briefly (fewer training steps), and write a
    metrics.json of finite numbers.
(c) The ```python blocks of the pages run (each in a fresh namespace, in an empty folder);
    a block right after a `<!-- no-test -->` line is skipped. Every `genlab.x.y` name in
    backticks on docs/python-api.md imports.
"""

from __future__ import annotations

import importlib
import itertools
import json
import math
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from conftest import mnist_dir
from helpers import run_cli

REPO = Path(__file__).resolve().parents[1]
PAGES = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL_FENCES = {"", "bash", "sh", "shell", "console"}
FENCE = re.compile(r"^\s*(```+|~~~+)\s*([\w+-]*)")
NO_TEST = "<!-- no-test -->"
OPERATORS = {"&&", "||", ";", "|", "&"}
MAX_JOBS = 64  # a sweep with more combinations is checked one value at a time


# -- reading the pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the first line inside the fence
    language: str
    lines: tuple[str, ...]
    no_test: bool


@dataclass(frozen=True)
class Command:
    page: Path
    line: int
    text: str  # as the page shows it
    argv: tuple[str, ...]  # what the shell passes on, program first

    @property
    def id(self) -> str:
        return f"{self.page.relative_to(REPO)}:{self.line}"


def blocks(page: Path) -> list[Block]:
    """The fenced code blocks of a Markdown page."""
    found, inside, previous = [], None, ""
    for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
        if inside is None:
            if match := FENCE.match(line):
                inside = (match.group(1), match.group(2).lower(), number + 1, [], previous.strip() == NO_TEST)
            elif line.strip():
                previous = line
            continue
        fence, language, first, body, no_test = inside
        if line.strip().startswith(fence[0] * 3) and not line.strip().strip(fence[0]):
            found.append(Block(page, first, language, tuple(body), no_test))
            inside, previous = None, ""
        else:
            body.append(line)
    assert inside is None, f"{page.relative_to(REPO)}: a code block is not closed"
    return found


def commands(page: Path) -> list[Command]:
    """Every command of a genlab console script (or `python -m genlab.train`) that the
    page's shell blocks show: `$ ` marks a command in a console block (the other lines are
    output), `\\` continues a line, `&&`, `;` and `|` separate commands, `#` starts a comment."""
    found = []
    for block in blocks(page):
        if block.language not in SHELL_FENCES:
            continue
        lines = list(block.lines)
        number = 0
        while number < len(lines):
            first, text = number, lines[number]
            while text.rstrip().endswith("\\") and number + 1 < len(lines):
                number += 1
                text = text.rstrip()[:-1] + " " + lines[number].strip()
            number += 1
            text = text.strip()
            if text.startswith("$ "):
                text = text[2:]
            elif block.language == "console":
                continue
            lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words = list(lexer)
            segments = [list(group) for is_operator, group in itertools.groupby(words, lambda w: w in OPERATORS) if not is_operator]
            for words in segments:
                if words[:3] == ["python", "-m", "genlab.train"]:
                    words = ["genlab", *words[3:]]
                if words and words[0] in console_scripts():
                    found.append(Command(page, block.line + first, text, tuple(words)))
    return found


def console_scripts() -> dict[str, str]:
    return tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]


ALL_COMMANDS = [command for page in PAGES for command in commands(page)]
GENLAB_COMMANDS = [c for c in ALL_COMMANDS if c.argv[0] == "genlab"]
OTHER_COMMANDS = [c for c in ALL_COMMANDS if c.argv[0] != "genlab"]


# -- composing a command line --------------------------------------------------------------


def jobs(overrides: list[str], multirun: bool, loader) -> list[list[str]]:
    """The override lists a run (one) or a sweep (one per job) composes, expanded by Hydra's
    override parser; past MAX_JOBS, the first job and each other value once."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create(config_loader=loader).parse_overrides(overrides)
    if not multirun:
        sweeps = [o.input_line for o in parsed if o.is_sweep_override()]
        assert not sweeps, f"{sweeps} sweep without -m"
        return [list(overrides)]
    choices = []
    for override in parsed:
        if override.is_discrete_sweep():
            choices.append([f"{override.get_key_element()}={value}" for value in override.sweep_string_iterator()])
        elif override.is_sweep_override():  # interval(...): a sweeper's, checked at its ends
            choices.append(interval_ends(override))
        else:
            choices.append([override.input_line])
    if math.prod(len(c) for c in choices) <= MAX_JOBS:
        return [list(job) for job in itertools.product(*choices)]
    first = [c[0] for c in choices]
    return [first] + [[*first[:i], value, *first[i + 1 :]] for i, c in enumerate(choices) for value in c[1:]]


def interval_ends(override) -> list[str]:
    sweep = override.value()
    return [f"{override.get_key_element()}={value}" for value in (sweep.start, sweep.end)]


def compose_all(argv: list[str]) -> int:
    """Compose every job of a genlab command line (raises where one does not compose) and
    return how many were composed."""
    from hydra import compose, initialize_config_module
    from hydra._internal.utils import get_args_parser  # Hydra's own flags, as genlab reads them
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import OmegaConf

    args = get_args_parser().parse_args(argv)
    assert not (args.config_path or args.config_name or args.config_dir), "another config: not checked here"
    composed = 0
    with initialize_config_module(config_module="genlab.conf", version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        for job in jobs(args.overrides, args.multirun, loader):
            config = compose("config", overrides=job, return_hydra_config=True)
            params = OmegaConf.select(config, "hydra.sweeper.params") if args.multirun else None
            if not params:
                composed += 1
                continue
            # What the config itself sweeps (an experiment's hydra.sweeper.params); the
            # command line's own value of a key wins, as in Hydra's sweepers.
            given = {o.split("=", 1)[0].lstrip("+~") for o in job}
            swept = [f"{key}={value}" for key, value in params.items() if key not in given]
            for inner in jobs(swept, True, loader):
                compose("config", overrides=[*job, *inner], return_hydra_config=True)
                composed += 1
    return composed


def test_the_pages_show_commands():
    assert len(GENLAB_COMMANDS) >= 30, [c.id for c in GENLAB_COMMANDS]
    readme = [c for c in GENLAB_COMMANDS if c.page.name == "README.md"]
    assert len(readme) >= 15


@pytest.mark.parametrize("command", GENLAB_COMMANDS, ids=lambda c: c.id)
def test_each_documented_genlab_command_composes(command, tmp_path, monkeypatch):
    from genlab.command_line import composition_error

    monkeypatch.chdir(tmp_path)  # relative output folders are checked here, not in the clone
    argv = list(command.argv[1:])
    try:
        compose_all(argv)
    except Exception as error:  # noqa: BLE001: any failure is the page's
        pytest.fail(f"{command.id}: `{command.text}` does not compose: {type(error).__name__}: {error}")
    problem = composition_error(argv)
    assert problem is None, f"{command.id}: `{command.text}`: genlab: error: {problem}"


@pytest.mark.parametrize("command", OTHER_COMMANDS, ids=lambda c: c.id)
def test_each_other_documented_console_script_exists(command):
    """genlab-report and the like: the script is declared and its function imports."""
    module, _, function = console_scripts()[command.argv[0]].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_no_command_hides_in_an_unchecked_block():
    """Indented code blocks and blocks of other languages are not read above: none may
    show a genlab command."""
    pattern = re.compile(r"^(\s*\$ )?\s*genlab(-\w+)? ")
    for page in PAGES:
        fenced = {(b.line + i) for b in blocks(page) if b.language in SHELL_FENCES for i in range(len(b.lines))}
        for number, line in enumerate(page.read_text(encoding="utf-8").splitlines(), 1):
            if number not in fenced and (line.startswith("    ") or line.startswith("\t")) and pattern.match(line):
                pytest.fail(f"{page.relative_to(REPO)}:{number}: a command outside a ```bash block: {line.strip()}")


def test_the_checker_flags_a_command_that_does_not_compose(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n```bash\ngenlab model=kde data=moons   # fine\ngenlab model=nosuch\n"
        "make demo && genlab -m model=kde,gmm \\\n    data=moons,nosuch\n```\n\n"
        "```console\n$ genlab model.bandwidht=1\noutput line\n```\n\n"
        "<!-- no-test -->\n```python\nraise SystemExit\n```\n\n```python\nx = 1\n```\n"
    )
    assert [(b.language, b.no_test) for b in blocks(page)] == [("bash", False), ("console", False), ("python", True), ("python", False)]
    found = commands(page)
    assert [(c.line, c.argv) for c in found] == [
        (4, ("genlab", "model=kde", "data=moons")),
        (5, ("genlab", "model=nosuch")),
        (6, ("genlab", "-m", "model=kde,gmm", "data=moons,nosuch")),
        (11, ("genlab", "model.bandwidht=1")),
    ]
    assert compose_all(list(found[0].argv[1:])) == 1
    for command in found[1:]:
        with pytest.raises(Exception):
            compose_all(list(command.argv[1:]))
    assert compose_all(["-m", "model=kde,gmm", "data=moons,circles"]) == 4
    assert compose_all(["-m", "+experiment=lecture/capacity"]) == 4  # its hydra.sweeper.params too


# -- (b) the README's main examples, briefly -----------------------------------------------

README_RUNS = [  # a README command, and what shortens it
    ("genlab model=wgan data=moons", {"trainer.max_steps": "20"}),
    ("genlab model=kde data=mixture1d", {}),
    ("genlab model=gmm data=8gaussians model.n_components=8", {}),
]
README_SWEEP = "genlab -m model=kde,gmm data=mixture1d,moons"
README_RESUME = ("genlab model=wgan data=8gaussians trainer.max_steps=3000", "genlab model=wgan data=8gaussians resume=true trainer.max_steps=6000")


def readme_argv(text: str, shorter: dict[str, str] | None = None) -> list[str]:
    """The README's command (it must be there), with some values replaced or added."""
    shown = [c for c in GENLAB_COMMANDS if c.page.name == "README.md" and " ".join(c.argv) == text]
    assert shown, f"the README no longer shows `{text}`: update tests/test_docs.py"
    argv = list(shown[0].argv[1:])
    for key, value in (shorter or {}).items():
        argv = [a for a in argv if not a.startswith(f"{key}=")] + [f"{key}={value}"]
    return argv


def finished(folder: Path) -> dict:
    """metrics.json of a finished run, every number in it finite."""
    metrics = json.loads((folder / "metrics.json").read_text())

    def numbers(value, path):
        if isinstance(value, dict):
            for key, item in value.items():
                yield from numbers(item, f"{path}.{key}")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                yield from numbers(item, f"{path}[{i}]")
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            yield path, value

    found = dict(numbers(metrics, "metrics"))
    assert found and all(math.isfinite(v) for v in found.values()), {k: v for k, v in found.items() if not math.isfinite(v)}
    return metrics


def only_run(root: Path) -> Path:
    (folder,) = (root / "outputs" / "runs").iterdir()
    return folder


@pytest.mark.parametrize("text, shorter", README_RUNS, ids=[text for text, _ in README_RUNS])
def test_a_readme_example_runs(text, shorter, tmp_path):
    result = run_cli(*readme_argv(text, shorter), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = finished(only_run(tmp_path))
    if metrics["model"] in ("kde", "gmm"):
        assert "test_log_likelihood" in metrics
    else:
        assert metrics["steps"] == 20 and "sliced_wasserstein" in metrics["samples"]["model"]


def test_the_readme_sweep_runs(tmp_path):
    result = run_cli(*readme_argv(README_SWEEP), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "outputs" / "multirun").iterdir()
    jobs_run = sorted(p for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert len(jobs_run) == 4
    assert sorted((m["model"], m["data"]) for m in map(finished, jobs_run)) == sorted(itertools.product(["gmm", "kde"], ["mixture1d", "moons"]))
    assert len((sweep / "summary.csv").read_text().splitlines()) == 5


def test_the_readme_resume_continues_the_run_above(tmp_path):
    first = run_cli(*readme_argv(README_RESUME[0], {"trainer.max_steps": "20"}), cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    before = only_run(tmp_path)
    second = run_cli(*readme_argv(README_RESUME[1], {"trainer.max_steps": "40"}), cwd=tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    (after,) = set((tmp_path / "outputs" / "runs").iterdir()) - {before}
    metrics = finished(after)
    assert metrics["steps"] == 40 and metrics["resumed_from"]


# -- (c) the Python blocks -----------------------------------------------------------------

PYTHON_BLOCKS = [b for page in PAGES for b in blocks(page) if b.language == "python"]


@pytest.fixture(scope="module")
def finished_kde_run(tmp_path_factory) -> Path:
    """A folder holding outputs/runs/<a kde run on moons>, for the blocks that load one."""
    folder = tmp_path_factory.mktemp("finished")
    result = run_cli("model=kde", "data=moons", cwd=folder)
    assert result.returncode == 0, result.stderr[-3000:]
    return folder


def test_python_api_has_blocks():
    assert len([b for b in PYTHON_BLOCKS if b.page.name == "python-api.md"]) >= 5


@pytest.mark.parametrize("block", PYTHON_BLOCKS, ids=lambda b: f"{b.page.relative_to(REPO)}:{b.line}")
def test_each_python_block_runs(block, request, tmp_path, monkeypatch):
    if block.no_test:
        pytest.skip(f"marked {NO_TEST}")
    code = "\n".join(block.lines)
    monkeypatch.setenv("GENLAB_CACHE_DIR", str(tmp_path / "cache"))
    if "MNIST" in code:
        monkeypatch.setenv("GENLAB_MNIST_DIR", str(mnist_dir()))  # skipped where MNIST is absent (not in CI)
    monkeypatch.chdir(request.getfixturevalue("finished_kde_run") if "outputs/runs" in code else tmp_path)
    exec(compile(code, f"{block.page.relative_to(REPO)}:{block.line}", "exec"), {"__name__": "__docs__"})


API_NAMES = sorted(set(re.findall(r"`(genlab(?:\.\w+)+)", (REPO / "docs" / "python-api.md").read_text(encoding="utf-8"))))


@pytest.mark.parametrize("name", API_NAMES)
def test_each_python_api_name_imports(name):
    parts = name.split(".")
    for split in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[split:]:
            value = getattr(value, attribute)
        return
    pytest.fail(f"{name} does not import")


# -- links ---------------------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of the page's headings."""
    inside, found = False, set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            inside = not inside
        elif not inside and line.startswith("#"):
            found.add(re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_each_relative_link_leads_somewhere(page):
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"\w+://", target):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        assert linked.exists(), f"{page.relative_to(REPO)}: ({target}): no such file"
        if anchor:
            assert anchor in anchors(linked), f"{page.relative_to(REPO)}: ({target}): no such heading in {linked.name}"

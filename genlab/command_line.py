"""The `genlab` console script's first step: check that the command line composes.

Hydra reports a key that does not exist or an unknown option over several lines,
with its search path. Composing the config once first (Hydra's compose API) turns
those into one line, `genlab: error: ...`, naming the key, or the option and the
allowed names. In a sweep (-m) every value of every swept key is checked, the other
keys at their first value, so a bad value anywhere stops the sweep before its first
job. A `+key=value` for a key the config does not declare is refused the same way (a
typo must not be silently ignored), and so is an output folder that cannot be written
(empty, a file, read-only), before any folder exists. What the check cannot judge (help,
another primary config, a sweeper's interval(...) overrides) is left to Hydra.
"""

from __future__ import annotations


def composition_error(argv: list[str]) -> str | None:
    """Why the command line does not compose, in one line, or None when it does."""
    from hydra import compose, initialize_config_module
    from hydra._internal.utils import get_args_parser  # Hydra's own parser: same flags, same meaning
    from hydra.core.global_hydra import GlobalHydra
    from hydra.errors import HydraException

    args = get_args_parser().parse_args(argv)
    if args.help or args.hydra_help or args.shell_completion or args.info or args.experimental_rerun or args.config_path or args.config_name or args.config_dir:
        return None
    with initialize_config_module("genlab.conf", version_base="1.3"):
        loader = GlobalHydra.instance().config_loader()
        try:
            to_check = _one_value_each(args.overrides, loader) if args.multirun else [args.overrides]
        except HydraException as error:
            return _plain(error)
        for number, overrides in enumerate(to_check):
            try:
                config = compose("config", overrides=overrides)
            except HydraException as error:
                return _describe(error, overrides, loader)
            if number == 0 and (problem := _undeclared_key(overrides, loader) or _output_problem(config, overrides)):
                return problem
    return None


def _undeclared_key(overrides: list[str], loader) -> str | None:
    """`+key=value` (or `++key=value`) for a key genlab's config does not declare: refused
    like a misspelt key without `+`, since every key genlab reads is declared and set without
    `+`. Adding a config group (`+experiment=...`) and Hydra's own keys (`+hydra.job...`) stay."""
    from hydra import compose
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException
    from omegaconf import OmegaConf

    for override in OverridesParser.create(config_loader=loader).parse_overrides(overrides):
        key = override.key_or_group
        if not (override.is_add() or override.is_force_add()) or key.split(".")[0].split("/")[0] == "hydra":
            continue
        if _options(loader, key):
            continue
        others = [o for o in overrides if o != override.input_line]
        try:
            without = compose("config", overrides=others)
        except HydraException:  # other overrides need this one: it is not a stray key
            continue
        if OmegaConf.select(without, key, default=_ABSENT) is _ABSENT:
            return f"{key}: no such key{_keys_beside(key, others)} (genlab's keys are set without +)"
    return None


_ABSENT = object()


def _output_problem(config, overrides: list[str]) -> str | None:
    """An output folder that cannot hold a run: checked before Hydra creates anything."""
    from genlab.folders import folder_problem

    named = {o.split("=", 1)[0]: o.split("=", 1)[1] for o in overrides if o.startswith(("hydra.run.dir=", "hydra.sweep.dir="))}
    if problem := folder_problem("output_root", config.get("output_root")):
        return problem
    return next((p for key, value in named.items() if "${" not in value and (p := folder_problem(key, value))), None)


def _one_value_each(overrides: list[str], loader) -> list[list[str]]:
    """The jobs of the sweep that together try every value of every swept key once."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    choices = []
    for override in OverridesParser.create(config_loader=loader).parse_overrides(overrides):
        if override.is_discrete_sweep():
            choices.append([f"{override.get_key_element()}={value}" for value in override.sweep_string_iterator()])
        elif not override.is_sweep_override():
            choices.append([override.input_line])
    first = [values[0] for values in choices]
    return [first] + [[*first[:i], value, *first[i + 1 :]] for i, values in enumerate(choices) for value in values[1:]]


def _describe(error, overrides: list[str], loader) -> str:
    from hydra.errors import MissingConfigException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError

    if isinstance(error, MissingConfigException) and error.missing_cfg_file:
        missing = error.missing_cfg_file
        group = next((key for key in _keys(overrides) if missing.startswith(f"{key}/")), missing.rpartition("/")[0])
        names = ", ".join(_options(loader, group)) or "(none)"
        return f"{group}={missing[len(group) + 1:]}: no such option; {group} is one of {names}"
    if isinstance(error.__cause__, (ConfigKeyError, ConfigAttributeError)) and error.__cause__.full_key:
        key = error.__cause__.full_key
        return f"{key}: no such key{_keys_beside(key, overrides)}"
    return _plain(error)


def _plain(error) -> str:
    """Hydra's message without its search path, its lines joined, and the cause's first line."""
    text = str(error).split("Config search path:")[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if error.__cause__ is not None and str(error.__cause__).strip():
        lines.append(str(error.__cause__).strip().splitlines()[0])
    return "; ".join(lines)


def _keys_beside(key: str, overrides: list[str]) -> str:
    """`; model has latent_dim, hidden, ...`: the keys where the user meant to be."""
    from hydra import compose
    from hydra.errors import HydraException
    from omegaconf import DictConfig, OmegaConf

    parent = key.rpartition(".")[0]
    try:
        config = compose("config", overrides=[o for o, k in zip(overrides, _keys(overrides)) if k != key])
    except HydraException:
        return ""
    node = OmegaConf.select(config, parent) if parent else config
    return f"; {parent or 'the config'} has {', '.join(k for k in map(str, node) if not k.startswith('_'))}" if isinstance(node, DictConfig) else ""


def _keys(overrides: list[str]) -> list[str]:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    return [override.key_or_group for override in OverridesParser.create().parse_overrides(overrides)]


def _options(loader, group: str) -> list[str]:
    """Every config in the group, those in its subfolders as `sub/name` (experiment=lecture/...)."""
    from hydra.core.object_type import ObjectType

    names = list(loader.get_group_options(group, results_filter=ObjectType.CONFIG))
    for sub in loader.get_group_options(group, results_filter=ObjectType.GROUP):
        names += [f"{sub}/{name}" for name in _options(loader, f"{group}/{sub}")]
    return sorted(names)


def quoted_value(value) -> str:
    """`value` as Hydra's override grammar reads it back: quoted when it holds = , [ ] ... ."""
    text = str(value)
    if all(c.isalnum() or c in "/._-~+:@" for c in text):
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"

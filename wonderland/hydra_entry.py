"""Hydra entry points whose configuration errors are one line: `python -m <module> key=value ... [--verbose]`.

    def main(argv: list[str] | None = None) -> int:
        return hydra_main(argv, prog="wonderland-eval", config_dir=CONFIG_DIR, build=build_config, run=run)

composes `<config_dir>/<config_name>.yaml` with the overrides (Hydra's compose API), builds the typed config
with `build(cfg)` (merge onto the dataclass schema and check every value), then calls `run(typed)`. Any
configuration error is one line on stderr and exit status 2, before `run` starts, so nothing is written:

    wonderland-eval: error: num_clip=3: unknown key (did you mean num_clips?)
    wonderland-eval: error: task=vide: unknown option of config group 'task'; expected one of 3d, recon, video
    wonderland-eval: error: num_clips=abc: expected an integer
    wonderland-eval: error: model_dir: missing value; give model_dir=...
    wonderland-eval: error: seed==: not a valid override (key=value, +key=value, ~key, key=[a,b])

`--verbose` (or HYDRA_FULL_ERROR=1, as with `hydra.main`) re-raises instead, with the full trace.
`--help` prints the groups, their options and the composed defaults. An `InputError` raised by `run` is
also one line with exit 2 (a bad file found while starting); any other exception propagates.

Why not `hydra.main`: it prints Hydra's own multi-line errors with exit status 1, creates its run folder
before the config is checked, and cannot be called with an argument list from a test. Compose is the
API Hydra provides for this; what `hydra.main` adds that is given up here: multirun (`-m`), the
per-run `.hydra/` folder and its logging config (logging is set to INFO on the console instead), and
shell completion.
"""

from __future__ import annotations

import difflib
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from .errors import InputError

T = TypeVar("T")
FLAGS = ("--verbose", "--help", "-h", "--cfg")


def compose(config_dir: str | os.PathLike, overrides: Sequence[str] = (), config_name: str = "config"):
    """The composed `DictConfig` (struct mode: unknown keys are refused), as `hydra.main` would give it."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir

    with initialize_config_dir(str(Path(config_dir).resolve()), version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))


def _override_key_values(overrides: Sequence[str]) -> dict[str, str]:
    """key -> the override as typed, for the overrides that parse (to name the value in messages)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser, out = OverridesParser.create(), {}
    for text in overrides:
        try:
            out[parser.parse_override(text).key_or_group] = text
        except HydraException:  # OverrideParseException, or the grammar's own HydraException
            raise InputError(None, None, f"{text}: not a valid override (key=value, +key=value, ~key, "
                             "key=[a,b]; quote values with spaces)") from None
    return out


def _suggest(key: str, candidates) -> str:
    """' (did you mean num_clips?)' for the closest candidate to the key's last part, or ''."""
    parent, _, last = key.rpartition(".")
    close = difflib.get_close_matches(last, [str(c) for c in candidates], n=1, cutoff=0.6)
    return f" (did you mean {parent + '.' if parent else ''}{close[0]}?)" if close else ""


def _omegaconf_problem(e) -> str:
    """OmegaConf's first line, reworded where it has a plain name."""
    first = str(getattr(e, "msg", e)).splitlines()[0]
    for pattern, plain in (("converted to Integer", "expected an integer"), ("converted to Float", "expected a number"),
                           ("is not a valid bool", "expected true or false"),
                           ("is not a ListConfig", "expected a list, e.g. [1,2]")):
        if pattern in first:
            return plain
    return first


def config_error(e: BaseException, overrides: Sequence[str] = ()) -> InputError | None:
    """A Hydra / OmegaConf configuration error as a one-line `InputError` naming the key (None: not one)."""
    from hydra.errors import ConfigCompositionException, MissingConfigException, OverrideParseException
    from omegaconf.errors import (
        ConfigAttributeError,
        ConfigKeyError,
        MissingMandatoryValue,
        OmegaConfBaseException,
        ValidationError,
    )

    if isinstance(e, InputError):
        return e
    typed = {}
    try:
        typed = _override_key_values(overrides)
    except InputError as bad:
        if isinstance(e, OverrideParseException):
            return bad
    if isinstance(e, MissingConfigException):
        group = (e.missing_cfg_file or "").rsplit("/", 1)[0]
        text = typed.get(group, e.missing_cfg_file or "")
        options = sorted(e.options or [])
        if group and options:
            value = text.split("=", 1)[-1]
            return InputError(None, None, f"{text}: unknown option of config group '{group}'; expected one of "
                              f"{', '.join(options)}{_suggest(value, options)}")
        return InputError(None, None, str(e).splitlines()[0])
    cause = e.__cause__ if isinstance(e, ConfigCompositionException) else e
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and getattr(cause, "full_key", None):
        key = str(cause.full_key)
        parent = getattr(cause, "parent_node", None)
        candidates = list(parent.keys()) if hasattr(parent, "keys") else []
        shown = typed.get(key, typed.get("+" + key, key))
        from .training.config import RENAMED  # keys of wonderland 0.1: say what replaced them

        if key in RENAMED:
            return InputError(None, None, f"{shown}: was renamed to {RENAMED[key]} in wonderland 0.2; use "
                              f"{RENAMED[key]}=...")
        return InputError(None, None, f"{shown}: unknown key{_suggest(key, candidates)}")
    if isinstance(cause, MissingMandatoryValue):
        key = str(cause.full_key)
        return InputError(None, None, f"{key}: missing value; give {key}=...")
    if isinstance(cause, ValidationError):
        key = str(cause.full_key) or "config"
        return InputError(None, key, _omegaconf_problem(cause), value=cause.value)
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None)
        return InputError(None, None, f"{key + ': ' if key else ''}{_omegaconf_problem(cause)}")
    if isinstance(e, (ConfigCompositionException, OverrideParseException)):
        return InputError(None, None, " ".join(str(e).split("\nSee ")[0].split()))
    if isinstance(e, ValueError):  # a schema check written as a plain ValueError
        return InputError(None, None, " ".join(str(e).split()))
    return None


def load_config(config_dir: str | os.PathLike, overrides: Sequence[str], build: Callable[[Any], T],
                config_name: str = "config") -> T:
    """Compose and build, every configuration error raised as a one-line `InputError` (see `config_error`)."""
    _override_key_values(overrides)  # the override syntax first: Hydra's own message does not say which one
    try:
        return build(compose(config_dir, overrides, config_name))
    except Exception as e:
        err = config_error(e, overrides)
        if err is None or err is e:
            raise
        raise err from e


def _help(prog: str, config_dir: Path, config_name: str) -> str:
    from omegaconf import OmegaConf

    groups = sorted(p for p in config_dir.iterdir() if p.is_dir() and any(p.glob("*.yaml")))
    lines = [f"usage: {prog} [key=value ...] [group=option ...] [--verbose] [--cfg]", "",
             "Hydra overrides (key=value, +key=value adds, ~key removes); --verbose: full traces on errors; "
             "--cfg: print the composed config and exit.", "", "config groups:"]
    lines += [f"  {g.name}: {', '.join(sorted(p.stem for p in g.glob('*.yaml')))}" for g in groups]
    lines += ["", f"defaults ({config_dir / config_name}.yaml):",
              OmegaConf.to_yaml(compose(config_dir, (), config_name)).rstrip()]
    return "\n".join(lines)


def hydra_main(argv: Sequence[str] | None, *, prog: str, config_dir: str | os.PathLike, build: Callable[[Any], T],
               run: Callable[[T], Any], config_name: str = "config") -> int:
    """The entry point: argv (default sys.argv[1:]) = Hydra overrides plus the flags above -> exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in argv or os.environ.get("HYDRA_FULL_ERROR") == "1"
    overrides = [a for a in argv if a not in FLAGS]
    config_dir = Path(config_dir)
    if "--help" in argv or "-h" in argv:
        print(_help(prog, config_dir, config_name))
        return 0

    def fail(e: InputError) -> int:
        print(f"{prog}: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2

    flags = [a for a in overrides if a.startswith("-")]
    if flags:
        return fail(InputError(None, None, f"{flags[0]}: unknown option; expected key=value overrides, "
                               f"{', '.join(FLAGS)}{_suggest(flags[0], FLAGS)}"))
    try:
        typed = load_config(config_dir, overrides, build, config_name)
    except InputError as e:
        if verbose:
            raise
        return fail(e)
    if "--cfg" in argv:
        from omegaconf import OmegaConf

        print(OmegaConf.to_yaml(OmegaConf.structured(typed)))
        return 0
    logging.basicConfig(level=logging.INFO, format="[%(asctime)s][%(name)s][%(levelname)s] - %(message)s")
    try:
        run(typed)
    except InputError as e:
        if verbose:
            raise
        return fail(e)
    return 0

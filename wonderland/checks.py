"""Validators for command-line options and config fields, so every value is checked where it is parsed.

Two faces of the same checks:
  - `check_*(value, name, ...)` for values already parsed (config fields, combinations of options): they
    return the value converted (an int, a float, a Path) or raise `InputError(source, name, expected,
    value=value)`, whose message is one line naming the option or key, the value and what was expected:
    `--steps 0: expected an integer >= 1`, `trainer.max_steps=-1: expected an integer >= 1`.
  - argparse `type=` factories built on them (`positive_int`, `int_range(...)`, `finite_float(...)`,
    `existing_file`, ...): they convert the option's text and raise `argparse.ArgumentTypeError(expected)`;
    `wonderland.cli_args.ArgumentParser` turns that into the same one line.

This module imports nothing heavy (no torch), so parsing stays instant.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .errors import InputError

# Seeds: numpy's generators and most tools take [0, 2**32 - 1]; torch takes more, nobody needs it.
MAX_SEED = 2**32 - 1

__all__ = [
    "MAX_SEED", "check_choice", "check_device", "check_dir", "check_file", "check_float", "check_int",
    "check_output_dir", "check_output_file", "choice", "device", "existing_dir", "existing_file", "finite_float",
    "input_file", "int_range", "nonnegative_int", "output_file", "positive_int", "range_text", "seed",
]


def range_text(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False
               ) -> str:
    """'>= 1', '> 0', '<= 180', 'in [0, 1]', 'in (0, 180)' or '' (no bound)."""
    lo_s, hi_s = (f"{b:g}" if isinstance(b, float) else str(b) for b in (lo, hi))
    if lo is not None and hi is not None:
        return f"in {'(' if lo_open else '['}{lo_s}, {hi_s}{')' if hi_open else ']'}"
    if lo is not None:
        return f"{'>' if lo_open else '>='} {lo_s}"
    if hi is not None:
        return f"{'<' if hi_open else '<='} {hi_s}"
    return ""


def _in_range(x: float, lo, hi, lo_open: bool, hi_open: bool) -> bool:
    if lo is not None and (x <= lo if lo_open else x < lo):
        return False
    return not (hi is not None and (x >= hi if hi_open else x > hi))


def check_int(value: Any, name: str, *, min: int | None = None, max: int | None = None,
              source: str | os.PathLike | None = None) -> int:
    """An integer (not a bool, not 2.5; 3.0 is 3) within [min, max]."""
    expected = f"an integer {range_text(min, max)}".rstrip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(source, name, f"expected {expected}", value=value)
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise InputError(source, name, f"expected {expected}", value=value)
    if not _in_range(value, min, max, False, False):
        raise InputError(source, name, f"expected {expected}", value=value)
    return int(value)


def check_float(value: Any, name: str, *, min: float | None = None, max: float | None = None,
                min_open: bool = False, max_open: bool = False, source: str | os.PathLike | None = None) -> float:
    """A finite number (NaN and inf are refused) within the range; `*_open` excludes the bound."""
    expected = f"a finite number {range_text(min, max, min_open, max_open)}".rstrip()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InputError(source, name, f"expected {expected}", value=value)
    value = float(value)
    if not math.isfinite(value) or not _in_range(value, min, max, min_open, max_open):
        raise InputError(source, name, f"expected {expected}", value=value)
    return value


def check_choice(value: Any, name: str, choices: Iterable, *, source: str | os.PathLike | None = None):
    choices = list(choices)
    if value not in choices:
        raise InputError(source, name, f"expected one of {', '.join(map(str, choices))}", value=value)
    return value


def check_file(value: Any, name: str, *, suffixes: Iterable[str] | None = None) -> Path:
    """An existing file (with one of `suffixes`, lower-case with the dot, if given)."""
    path = Path(value)
    if suffixes is not None:
        suffixes = tuple(suffixes)
        if path.suffix.lower() not in suffixes:
            raise InputError(None, name, f"expected a {' or '.join(suffixes)} file", value=value)
    if not path.is_file():
        raise InputError(None, name, "expected an existing file" + ("" if path.exists() else " (not found)"),
                         value=value)
    return path


def check_dir(value: Any, name: str) -> Path:
    path = Path(value)
    if not path.is_dir():
        raise InputError(None, name, "expected an existing folder" + ("" if path.exists() else " (not found)"),
                         value=value)
    return path


def check_device(value: Any, name: str) -> str:
    """auto, cpu, cuda, cuda:N or mps (whether that device exists is checked where it is opened)."""
    kind, _, index = str(value).partition(":")
    if not isinstance(value, str) or kind not in ("auto", "cpu", "cuda", "mps") or \
            (index and (kind != "cuda" or not index.isdigit())) or value.endswith(":"):
        raise InputError(None, name, "expected auto, cpu, cuda, cuda:N or mps", value=value)
    return value


def _nearest_existing(path: Path) -> Path:
    path = path.absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def check_output_dir(value: Any, name: str) -> Path:
    """A folder that exists and is writable, or can be created (its nearest existing parent is a writable
    folder). Nothing is created: a refused run writes nothing."""
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise InputError(None, name, "expected a folder (this is a file)", value=value)
    base = _nearest_existing(path)
    if not base.is_dir():
        raise InputError(None, name, f"expected a writable folder ({base} is a file)", value=value)
    if not os.access(base, os.W_OK | os.X_OK):
        raise InputError(None, name, f"expected a writable folder ({base} is not writable)", value=value)
    return path


def check_output_file(value: Any, name: str, *, suffixes: Iterable[str] | None = None) -> Path:
    """A file path whose folder exists and is writable or can be created, with one of `suffixes`."""
    path = Path(value)
    if suffixes is not None:
        suffixes = tuple(suffixes)
        if path.suffix.lower() not in suffixes:
            raise InputError(None, name, f"expected a {' or '.join(suffixes)} file name", value=value)
    if path.is_dir() or str(value).endswith(os.sep):
        raise InputError(None, name, "expected a file name (this is a folder)", value=value)
    check_output_dir(path.parent, name)
    return path


# argparse `type=` factories: text -> value, or ArgumentTypeError(what was expected).

def _argtype(convert: Callable[[str], Any], check: Callable[[Any], Any], name: str) -> Callable[[str], Any]:
    def parse(text: str):
        try:
            value = convert(text)
        except ValueError:
            value = text  # not even the right type: the check below words the expectation
        try:
            return check(value)
        except InputError as e:
            raise argparse.ArgumentTypeError(e.problem) from None

    parse.__name__ = name
    return parse


def _to_number(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)


def int_range(min: int | None = None, max: int | None = None) -> Callable[[str], int]:
    """`type=int_range(1, 100)`: an integer in [min, max] (either bound may be None)."""
    return _argtype(int, lambda v: check_int(v, "", min=min, max=max), f"int_range({min}, {max})")


positive_int = int_range(1)
positive_int.__name__ = "positive_int"
nonnegative_int = int_range(0)
nonnegative_int.__name__ = "nonnegative_int"


def finite_float(min: float | None = None, max: float | None = None, *, min_open: bool = False,
                 max_open: bool = False) -> Callable[[str], float]:
    """`type=finite_float(0, 180, min_open=True, max_open=True)`: a finite number in the range."""
    return _argtype(_to_number, lambda v: check_float(v, "", min=min, max=max, min_open=min_open,
                                                      max_open=max_open), "finite_float")


def choice(*choices: str) -> Callable[[str], str]:
    """`type=choice(...)` where `choices=` cannot be used (e.g. the list is long or computed lazily)."""
    return _argtype(str, lambda v: check_choice(v, "", choices), "choice")


def device(text: str) -> str:
    """`type=device`: auto, cpu, cuda, cuda:N or mps."""
    return _argtype(str, lambda v: check_device(v, ""), "device")(text)


seed = int_range(0, MAX_SEED)
seed.__name__ = "seed"


def input_file(*suffixes: str) -> Callable[[str], Path]:
    """`type=input_file('.ply', '.splat')`: an existing file with one of the suffixes (any, if none given)."""
    return _argtype(str, lambda v: check_file(v, "", suffixes=suffixes or None), "input_file")


def existing_file(text: str) -> Path:
    return input_file()(text)


def existing_dir(text: str) -> Path:
    return _argtype(str, lambda v: check_dir(v, ""), "existing_dir")(text)


def output_file(*suffixes: str) -> Callable[[str], Path]:
    """`type=output_file('.mp4')`: a file name with that suffix whose folder can be written."""
    return _argtype(str, lambda v: check_output_file(v, "", suffixes=suffixes or None), "output_file")

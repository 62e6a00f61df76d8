"""One error type for bad user input, so every entry point can turn it into a one-line message."""

from __future__ import annotations

import math
import shlex
from os import PathLike

_UNSET = object()


def show_value(value) -> str:
    """A value as the user typed it: shell-quoted text, `null`/`true`/`false` as in YAML and Hydra, `nan`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, PathLike)):
        return shlex.quote(str(value))
    return str(value)


class InputError(ValueError):
    """Bad input found before heavy work: names the source (file), the field and what was expected.

    With `value` the message names the value too, in the form the user typed it:
    an option (field starting with '-') reads `--steps 0: expected an integer >= 1`, a config key reads
    `trainer.max_steps=-1: expected ...`, a field of a file `file.json: field 'h': expected ..., got 0`.
    Without a value an option reads `--trajectory: give --trajectory or --preset, not both`.
    """

    def __init__(self, source: str | PathLike | None, field: str | None, problem: str, *, value=_UNSET):
        self.source = str(source) if source is not None else None
        self.field = field
        self.problem = problem
        self.value = None if value is _UNSET else value
        if value is not _UNSET and field and source is None:
            sep = " " if field.startswith("-") else "="
            super().__init__(f"{field}{sep}{show_value(value)}: {problem}")
            return
        if value is not _UNSET:
            problem = f"{problem}, got {show_value(value)}"
        named = (field if field.startswith("-") else f"field '{field}'") if field else None  # an option as typed
        where = ": ".join(p for p in (self.source, named) if p)
        super().__init__(f"{where}: {problem}" if where else problem)

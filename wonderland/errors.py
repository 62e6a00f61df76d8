"""One error type for bad user input, so every entry point can turn it into a one-line message."""

from __future__ import annotations

from os import PathLike


class InputError(ValueError):
    """Bad input found before heavy work: names the source (file), the field and what was expected."""

    def __init__(self, source: str | PathLike | None, field: str | None, problem: str):
        self.source = str(source) if source is not None else None
        self.field = field
        self.problem = problem
        where = ": ".join(p for p in (self.source, f"field '{field}'" if field else None) if p)
        super().__init__(f"{where}: {problem}" if where else problem)

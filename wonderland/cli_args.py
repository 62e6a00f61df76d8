"""The argument parser of every `wonderland-*` command: a bad option is one line, exit status 2.

    PROG: error: --steps 0: expected an integer >= 1
    PROG: error: --dtype fp8: expected one of auto, float32, bfloat16, float16
    PROG: error: unrecognized arguments: --degree 90 (did you mean --degrees?)

argparse's own `error()` prints the whole usage block before the message; a researcher who typed one
bad value wants the one line. `--help` is unchanged. Checks that need several options at once (a
preset's own parameters, `--trajectory` vs `--preset`) raise `InputError` after parsing; pass it to
`parser.error(str(e))` for the same line. It lives in the core (not `wonderland.cli`) so that core commands
(wonderland-trajectory, -render, -synth) use it too.
"""

from __future__ import annotations

import argparse
import difflib
import re
from typing import NoReturn

from .errors import show_value

_EXPECTED = {int: "expected an integer", float: "expected a number"}


class _ValueError(argparse.ArgumentError):
    """An option's value was refused: reads `--steps 0: expected ...` (no 'argument ' prefix)."""

    def __str__(self) -> str:
        return f"{self.argument_name} {self.message}" if self.argument_name else self.message


class ArgumentParser(argparse.ArgumentParser):
    """argparse.ArgumentParser whose errors are one line naming the option, the value and what is expected."""

    def _get_value(self, action, arg_string):
        try:
            return super()._get_value(action, arg_string)
        except argparse.ArgumentError as e:
            if isinstance(e.__context__, argparse.ArgumentTypeError):  # our checks word the expectation
                expected = e.message
            else:
                expected = _EXPECTED.get(action.type, f"expected a valid {getattr(action.type, '__name__', 'value')}")
            raise _ValueError(action, f"{show_value(arg_string)}: {expected}") from None

    def _check_value(self, action, value):
        if action.choices is not None and value not in action.choices:
            raise _ValueError(action, f"{show_value(value)}: expected one of {', '.join(map(str, action.choices))}")

    def _all_options(self) -> list[str]:
        """Option strings of this parser and its subcommands (argparse reports a subcommand's unknown options
        from the top-level parser)."""
        names = list(self._option_string_actions)
        for action in self._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub in action.choices.values():
                    names += sub._all_options() if isinstance(sub, ArgumentParser) else []
        return names

    def error(self, message: str) -> NoReturn:
        message = " ".join(str(message).split())  # one line, whatever the message held
        message = re.sub(r"^argument ", "", message)
        if message.startswith("unrecognized arguments:"):
            unknown = [a.split("=")[0] for a in message.split(":", 1)[1].split() if a.startswith("-")]
            close = difflib.get_close_matches(unknown[0], self._all_options(), n=1) if unknown else []
            if close:
                message += f" (did you mean {close[0]}?)"
        self.exit(2, f"{self.prog}: error: {message}\n")

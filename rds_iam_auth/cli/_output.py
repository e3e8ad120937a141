"""Where the command line writes: results to stdout, status and errors to stderr, checklists
with ✔/✘ marks (coloured only on a terminal), and the one-line error format."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

__all__ = ["Context", "Marks", "UsageError", "one_line", "redact"]

_PROG = "rds-iam-auth"
_COLOURS = {"ok": "32", "fail": "31", "warn": "33", "info": "36", "skip": "2"}


class UsageError(Exception):
    """A command line argparse refused; printed as one line, exit status 2."""


def one_line(text: str) -> str:
    """``text`` with its lines joined, so that every error is exactly one line."""
    return " ".join(part.strip() for part in text.splitlines() if part.strip())


def redact(text: str, *secrets: str) -> str:
    """``text`` with every secret replaced by ``<token>`` (drivers may echo what they sent)."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "<token>")
    return text


class Marks:
    """The status marks of a checklist for one stream: ✔/✘ where the encoding has them,
    colour only on a terminal that is not ``dumb`` and without ``NO_COLOR``."""

    def __init__(self, stream: TextIO) -> None:
        # No encoding (a StringIO) takes any text.
        encoding = getattr(stream, "encoding", None) or "utf-8"
        try:
            "✔✘".encode(encoding)
        except (UnicodeEncodeError, LookupError):
            self._symbols = {"ok": "OK", "fail": "XX", "warn": "!!", "info": "--", "skip": ".."}
        else:
            self._symbols = {"ok": "✔", "fail": "✘", "warn": "!", "info": "·", "skip": "-"}
        isatty = getattr(stream, "isatty", None)
        self.colour = bool(
            isatty is not None
            and isatty()
            and not os.environ.get("NO_COLOR")
            and os.environ.get("TERM") != "dumb"
        )

    def mark(self, status: str) -> str:
        """The mark for ``status`` (ok, fail, warn, info or skip), coloured if enabled."""
        symbol = self._symbols[status]
        return self.paint(status, symbol)

    def paint(self, status: str, text: str) -> str:
        """``text`` in the colour of ``status`` when colour is on."""
        if not self.colour:
            return text
        return f"\033[{_COLOURS[status]}m{text}\033[0m"


class Context:
    """What a command runs with: its streams, the clock and the debug switch.

    Args:
        clock: Returns epoch seconds; the signing time and every age is taken from it.
        out: Results (tokens, paths, checklists): what scripts capture.
        err: Status lines, warnings and errors.
        debug: Print tracebacks and DEBUG logs.
    """

    def __init__(
        self,
        clock: Callable[[], float],
        *,
        out: TextIO | None = None,
        err: TextIO | None = None,
        debug: bool = False,
    ) -> None:
        self.clock = clock
        self.out = out if out is not None else sys.stdout
        self.err = err if err is not None else sys.stderr
        self.debug = debug

    def status(self, message: str) -> None:
        """A status line on stderr."""
        print(f"{_PROG}: {message}", file=self.err, flush=True)

    def warn(self, message: str) -> None:
        """A warning on stderr (one line)."""
        print(f"{_PROG}: warning: {one_line(message)}", file=self.err, flush=True)

    def error(self, command: str | None, message: str) -> None:
        """The one line of a failed command, on stderr."""
        prog = f"{_PROG} {command}" if command else _PROG
        print(f"{prog}: error: {one_line(message)}", file=self.err, flush=True)

"""What the command line says on standard error.

Every line starts with ``harmjudge:``. Errors are one line each, in the command line's words
(``--label``, not ``labels=``), and the same error repeated line after line is shown a few times,
then counted. Notes and summaries are chatter: ``-q`` silences them, never an error.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TextIO

from harmjudge.errors import InputError, MissingAPIKeyError, UsageError

# The library names its parameters; the command line names the flags that set them.
CLI_WORDS = (
    ("pass api_key=, or use judge='offline'", "or use --judge offline"),
    ("judge='offline'", "--judge offline"),
    ("map more with labels=", "map more with --label VALUE=LABEL"),
    ("map fields with fields=", "map fields with --field KEY=NAME"),
    ("map it with labels=", "map it with --label VALUE=LABEL"),
)
MISSING_API_KEY = (
    "no API key for --judge MODEL: set OPENAI_API_KEY, give --base-url for an endpoint that "
    "needs none, or use --judge offline"
)
REPEATS_SHOWN = 3


def in_cli_words(text: str) -> str:
    """A library message with its parameter names replaced by the flags that set them.

    >>> in_cli_words("missing field 'id' (map fields with fields=)")
    "missing field 'id' (map fields with --field KEY=NAME)"
    """
    for library, cli in CLI_WORDS:
        text = text.replace(library, cli)
    return text


def usage_message(exc: UsageError) -> str:
    """The one line a usage error prints."""
    if isinstance(exc, MissingAPIKeyError):
        return MISSING_API_KEY
    return in_cli_words(str(exc))


class Messages:
    """Standard error of one command: ``note`` (silenced by ``quiet``) and ``error`` (capped per
    kind of error: after ``REPEATS_SHOWN`` lines with the same problem the rest are counted,
    and :meth:`close` says how many were not shown)."""

    def __init__(self, err: TextIO, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self.errors = 0
        self.stream = err
        self._seen: Counter[str] = Counter()
        self.write: Callable[[str], None] = self.print

    def print(self, text: str) -> None:
        """Write one line on standard error, whatever ``write`` is now."""
        print(text, file=self.stream, flush=True)

    def note(self, text: str) -> None:
        if not self.quiet:
            self.write(f"harmjudge: {text}")

    def lines(self, lines: list[str]) -> None:
        """A summary's lines, as they are (chatter: silenced by ``quiet``)."""
        if not self.quiet:
            for line in lines:
                self.write(line)

    def error(self, problem: InputError | str, *, kind: str | None = None) -> None:
        """One error line; ``kind`` (default: an :class:`InputError`'s reason) groups repeats."""
        self.errors += 1
        text = in_cli_words(str(problem))
        key = kind or (problem.reason if isinstance(problem, InputError) else text)
        self._seen[key] += 1
        if self._seen[key] <= REPEATS_SHOWN:
            self.write(f"harmjudge: {text}")

    def close(self) -> None:
        """Count the repeated errors that were not shown."""
        for key, count in self._seen.items():
            if count > REPEATS_SHOWN:
                hidden = count - REPEATS_SHOWN
                self.write(
                    f"harmjudge: {hidden} more {'line' if hidden == 1 else 'lines'} with the "
                    f"same error: {in_cli_words(key)}"
                )
        self._seen.clear()

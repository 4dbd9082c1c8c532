"""Exceptions raised by harmjudge.

All inherit from :class:`HarmJudgeError`. :class:`UsageError` and its children mean the caller
gave harmjudge something it cannot use (a bad taxonomy file, a bad argument, a bad input
line); fix the input and try again. :class:`JudgeError` means the judge model misbehaved at run
time; :func:`harmjudge.classify` turns it into an ``unjudged`` verdict rather than raising.
"""

from __future__ import annotations

from collections.abc import Iterable


class HarmJudgeError(Exception):
    """Base class of every exception harmjudge raises on purpose."""


class UsageError(HarmJudgeError, ValueError):
    """The caller passed something harmjudge cannot use."""


def one_of(choices: Iterable[object]) -> str:
    """``one of {'a', 'b'}``, the way :func:`invalid_parameter` lists allowed values."""
    return "one of {" + ", ".join(repr(c) for c in choices) + "}"


def invalid_parameter(function: str, name: str, allowed: str, got: object) -> UsageError:
    """The one shape of a bad-argument error:
    ``The 'x' parameter of f must be one of {...}. Got 'y'.``

    >>> str(invalid_parameter("f", "x", one_of(["a", "b"]), "c"))
    "The 'x' parameter of f must be one of {'a', 'b'}. Got 'c'."
    """
    return UsageError(f"The {name!r} parameter of {function} must be {allowed}. Got {got!r}.")


class MissingAPIKeyError(UsageError):
    """An LLM judge for a provider's endpoint has no API key (``api_key=`` or
    ``OPENAI_API_KEY``)."""


class TaxonomyError(UsageError):
    """A harm definition file is missing, unreadable or invalid.

    ``source`` names the file (or ``<builtin:ID>``) and ``field`` the offending field, if known.
    """

    def __init__(self, message: str, *, source: str, field: str | None = None) -> None:
        self.source = source
        self.field = field
        where = f"{source}: field '{field}'" if field else source
        super().__init__(f"{where}: {message}")


class InputError(UsageError):
    """One input item is malformed. Names the file, the line and the item id when known."""

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        line: int | None = None,
        item_id: str | None = None,
    ) -> None:
        self.source = source
        self.line = line
        self.item_id = item_id
        self.reason = message
        parts = []
        if source is not None:
            parts.append(f"{source}:{line}" if line is not None else source)
        if item_id is not None:
            parts.append(f"item '{item_id}'")
        prefix = " ".join(parts)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class JudgeError(HarmJudgeError):
    """The judge model could not produce a valid verdict.

    ``reason`` is one of the unjudged reason codes (see :class:`harmjudge.UnjudgedReason`);
    ``attempts`` counts the calls made and ``last_reply`` keeps the model's last raw reply.
    """

    def __init__(
        self,
        message: str,
        *,
        reason: str,
        attempts: int = 1,
        last_reply: str | None = None,
    ) -> None:
        self.reason = reason
        self.attempts = attempts
        self.last_reply = last_reply
        super().__init__(message)

"""Read JSONL input line by line: one bad line never stops the others."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Generic, Protocol, TypeVar

from harmjudge.errors import InputError
from harmjudge.transcript.model import TranscriptRecord
from harmjudge.transcript.parse import record_from_json


class _HasId(Protocol):
    @property
    def id(self) -> str: ...


T = TypeVar("T", bound=_HasId)


@dataclass(frozen=True, kw_only=True)
class Sourced(Generic[T]):
    """A valid item with the file and line it came from."""

    value: T
    source: str
    line: int


@dataclass(frozen=True, kw_only=True)
class SourcedRecord:
    """A valid input record with where it came from."""

    record: TranscriptRecord
    source: str
    line: int


STDIN = "-"
"""The name of standard input among input paths."""


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their ``*.jsonl`` files (recursively, sorted); ``-`` stays,
    for standard input."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if str(raw) != STDIN and path.is_dir():
            files.extend(sorted(path.rglob("*.jsonl")))
        else:
            files.append(path)
    return files


def _open(path: Path) -> contextlib.AbstractContextManager[IO[bytes]]:
    """``path`` for reading in binary; ``-`` is standard input (left open afterwards)."""
    if str(path) == STDIN:
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:
            raise OSError(0, "standard input is not readable")
        return contextlib.nullcontext(stdin)
    return path.open("rb")


def read_jsonl(
    paths: Iterable[str | Path], parse: Callable[[Any, str, int], T]
) -> Iterator[Sourced[T] | InputError]:
    """Yield each line of the files parsed by ``parse``, or the :class:`InputError` it caused.

    ``parse(data, source, line)`` validates one decoded object and raises :class:`InputError`.
    ``-`` reads standard input (named ``<stdin>`` in errors). Blank lines are skipped; a file
    that cannot be opened is one error; a repeated id is an error for the later line, the
    first stands. Whatever goes wrong while reading one line
    (JSON nested too deeply to decode, say) is that line's error and the next line is read.
    """
    seen: dict[str, str] = {}
    for path in input_files(paths):
        source = "<stdin>" if str(path) == STDIN else str(path)
        try:
            handle = _open(path)
        except OSError as exc:
            yield InputError(f"cannot open ({exc.strerror})", source=source)
            continue
        with handle as lines:
            for number, raw in enumerate(lines, 1):
                try:
                    line = raw.decode("utf-8")
                except UnicodeDecodeError as exc:
                    yield InputError(
                        f"invalid UTF-8 at column {exc.start + 1}", source=source, line=number
                    )
                    continue
                if not line.strip():
                    continue
                try:
                    value = parse(json.loads(line), source, number)
                except json.JSONDecodeError as exc:
                    yield InputError(
                        f"invalid JSON: {exc.msg} at column {exc.pos + 1}",
                        source=source,
                        line=number,
                    )
                    continue
                except InputError as exc:
                    yield exc
                    continue
                except RecursionError:
                    yield InputError(
                        "invalid JSON: nested too deeply to read", source=source, line=number
                    )
                    continue
                except Exception as exc:  # any other failure costs this line, not the batch
                    yield InputError(
                        f"cannot read this line ({type(exc).__name__}: {exc})",
                        source=source,
                        line=number,
                    )
                    continue
                if value.id in seen:
                    yield InputError(
                        f"duplicate id (first at {seen[value.id]})",
                        source=source,
                        line=number,
                        item_id=value.id,
                    )
                    continue
                seen[value.id] = f"{source}:{number}"
                yield Sourced(value=value, source=source, line=number)


def read_records(paths: Iterable[str | Path]) -> Iterator[SourcedRecord | InputError]:
    """Yield each line of the input files as a record, or as the :class:`InputError` it caused."""
    for entry in read_jsonl(
        paths, lambda data, source, line: record_from_json(data, source=source, line=line)
    ):
        if isinstance(entry, InputError):
            yield entry
        else:
            yield SourcedRecord(record=entry.value, source=entry.source, line=entry.line)

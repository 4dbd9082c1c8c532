"""Read JSONL input line by line: one bad line never stops the others."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

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


def input_files(paths: Iterable[str | Path]) -> list[Path]:
    """Expand directories into their ``*.jsonl`` files (recursively, sorted)."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(path.rglob("*.jsonl")))
        else:
            files.append(path)
    return files


def read_jsonl(
    paths: Iterable[str | Path], parse: Callable[[Any, str, int], T]
) -> Iterator[Sourced[T] | InputError]:
    """Yield each line of the files parsed by ``parse``, or the :class:`InputError` it caused.

    ``parse(data, source, line)`` validates one decoded object and raises :class:`InputError`.
    Blank lines are skipped; a file that cannot be opened is one error; a repeated id is an
    error for the later line, the first stands.
    """
    seen: dict[str, str] = {}
    for path in input_files(paths):
        source = str(path)
        try:
            handle = path.open("rb")
        except OSError as exc:
            yield InputError(f"cannot open ({exc.strerror})", source=source)
            continue
        with handle:
            for number, raw in enumerate(handle, 1):
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

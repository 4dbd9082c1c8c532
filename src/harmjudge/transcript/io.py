"""Read interchange JSONL input line by line: one bad line never stops the others."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harmjudge.errors import InputError
from harmjudge.transcript.model import TranscriptRecord
from harmjudge.transcript.parse import record_from_json


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


def read_records(paths: Iterable[str | Path]) -> Iterator[SourcedRecord | InputError]:
    """Yield each line of the input files as a record, or as the :class:`InputError` it caused.

    Blank lines are skipped. A repeated id is an error for the later line; the first stands.
    A file that cannot be opened is one error.
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
                    data = json.loads(line)
                except json.JSONDecodeError as exc:
                    yield InputError(
                        f"invalid JSON: {exc.msg} at column {exc.pos + 1}",
                        source=source,
                        line=number,
                    )
                    continue
                try:
                    record = record_from_json(data, source=source, line=number)
                except InputError as exc:
                    yield exc
                    continue
                if record.id in seen:
                    yield InputError(
                        f"duplicate id (first at {seen[record.id]})",
                        source=source,
                        line=number,
                        item_id=record.id,
                    )
                    continue
                seen[record.id] = f"{source}:{number}"
                yield SourcedRecord(record=record, source=source, line=number)

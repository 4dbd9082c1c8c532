"""What every reader shares: validate a record where it was found, and keep ids unique."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from harmjudge.errors import InputError
from harmjudge.transcript.io import SourcedRecord
from harmjudge.transcript.parse import record_from_json


def sourced(data: dict[str, Any], *, source: str, line: int) -> SourcedRecord | InputError:
    """Validate one interchange record built by a reader; a bad one becomes its error."""
    try:
        record = record_from_json(data, source=source, line=line)
    except InputError as exc:
        return exc
    return SourcedRecord(record=record, source=source, line=line)


def unique_ids(
    entries: Iterable[SourcedRecord | InputError],
) -> Iterator[SourcedRecord | InputError]:
    """Pass entries through; a repeated id is an error for the later one and the first stands,
    as for JSONL input (:func:`harmjudge.transcript.io.read_jsonl`)."""
    seen: dict[str, str] = {}
    for entry in entries:
        if isinstance(entry, InputError):
            yield entry
            continue
        item_id = entry.record.id
        if item_id in seen:
            yield InputError(
                f"duplicate id (first at {seen[item_id]})",
                source=entry.source,
                line=entry.line,
                item_id=item_id,
            )
            continue
        seen[item_id] = f"{entry.source}:{entry.line}"
        yield entry


def one_line(text: str, limit: int = 300) -> str:
    """Text flattened to one line and shortened, for error messages.

    >>> one_line("a\\n  b" + "c" * 400, limit=10)
    'a bcccccc…'
    """
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"

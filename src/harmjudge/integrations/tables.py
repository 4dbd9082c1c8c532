"""Verdict tables to plain rows: the flat JSONL layout that ``--verdicts`` reads.
(:func:`~harmjudge.metrics.verdicts.table_from_records` reads them back from memory.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harmjudge.metrics.verdicts import VerdictTable, table_from_records

__all__ = ["table_from_records", "table_rows", "write_verdicts"]


def table_rows(table: VerdictTable) -> Iterator[dict[str, Any]]:
    """The table as flat rows, sorted by id then harm: ``id``, ``harm``, ``label``,
    ``confidence`` and, for harmjudge's own verdicts, ``gate`` and ``gated``.

    >>> from harmjudge.metrics.verdicts import VerdictRow
    >>> t = VerdictTable(name="j", rows={("a", "blackmail"): VerdictRow(label="harmful")})
    >>> list(table_rows(t))
    [{'id': 'a', 'harm': 'blackmail', 'label': 'harmful', 'confidence': None}]
    """
    for (item_id, harm), row in sorted(table.rows.items()):
        out: dict[str, Any] = {
            "id": item_id,
            "harm": harm,
            "label": row.label,
            "confidence": row.confidence,
        }
        if row.gate is not None:
            out["gate"] = row.gate
            out["gated"] = row.gated
        yield out


def write_verdicts(table: VerdictTable, path: str | Path) -> int:
    """Write the table as flat JSONL rows (the layout ``harmjudge evaluate --verdicts`` and
    :func:`~harmjudge.metrics.verdicts.read_verdicts` read); returns the number of rows."""
    count = 0
    with Path(path).open("w", encoding="utf-8") as sink:
        for row in table_rows(table):
            sink.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count

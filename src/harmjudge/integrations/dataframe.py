"""pandas DataFrames in and out: transcripts to classify, results and verdict tables to analyse.

Needs the ``[pandas]`` extra (``pip install 'harmjudge[pandas]'``); pandas is imported only when
one of these functions runs. See docs/integrations/pandas.md.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from harmjudge.errors import InputError
from harmjudge.integrations._extras import require
from harmjudge.integrations._records import sourced, unique_ids
from harmjudge.integrations.tables import table_from_records, table_rows
from harmjudge.judges.verdict import Classification
from harmjudge.metrics.verdicts import VerdictTable
from harmjudge.transcript.io import SourcedRecord

if TYPE_CHECKING:
    import pandas as pd

RESULT_COLUMNS = (
    "id",
    "harm",
    "label",
    "confidence",
    "evidence",
    "rationale",
    "reason",
    "detail",
    "gate",
    "gated",
    "judge",
    "model",
    "prompt_hash",
    "harmjudge_version",
)
"""The columns of :func:`results_to_dataframe`, in order, before the metadata columns."""

METADATA_PREFIX = "metadata."
"""A column named ``metadata.<key>`` holds the transcript metadata's ``<key>``, both ways:
:func:`results_to_dataframe` writes one for every key, :func:`records_from_dataframe` reads
them into each record's metadata."""


def _pandas() -> Any:
    return require(
        "pandas", package="pandas", extra="pandas", feature="harmjudge.integrations.dataframe"
    )


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def records_from_dataframe(
    frame: pd.DataFrame, *, source: str = "<dataframe>"
) -> Iterator[SourcedRecord | InputError]:
    """Read a DataFrame of transcripts, one per row, in the interchange format's columns
    (``id``, ``text`` or ``messages``, and optionally ``reasoning``, ``context``,
    ``org_domains``, ``metadata``). A column ``metadata.<key>`` is the metadata's ``<key>``
    (over the ``metadata`` column's, if both have it). Missing values (NaN, None) are absent
    fields and keys. Row N is reported as line N of ``source``; a bad row is an
    :class:`InputError` and the others are read, as with
    :func:`harmjudge.transcript.io.read_records`.
    """
    _pandas()

    def records() -> Iterator[SourcedRecord | InputError]:
        for number, row in enumerate(frame.to_dict(orient="records"), 1):
            data: dict[str, Any] = {}
            keys: dict[str, Any] = {}
            for column, value in row.items():
                name = str(column)
                if _missing(value):
                    continue
                if name.startswith(METADATA_PREFIX):
                    keys[name.removeprefix(METADATA_PREFIX)] = value
                else:
                    data[name] = value
            if keys:
                given = data.get("metadata", {})
                data["metadata"] = {**given, **keys} if isinstance(given, dict) else given
            yield sourced(data, source=source, line=number)

    return unique_ids(records())


def results_to_dataframe(results: Iterable[Classification]) -> pd.DataFrame:
    """harmjudge's results as a long DataFrame: one row per transcript and harm, with the
    columns of :data:`RESULT_COLUMNS` (evidence as a list of quotes; reason and detail only
    for ``unjudged``; gate is the gate's status), then a ``metadata.<key>`` column for every
    key of the transcripts' metadata, in the order first seen (missing where a transcript
    has no such key). ``metadata.model`` is the model under test; ``model`` is the judge's."""
    pandas = _pandas()
    rows: list[dict[str, Any]] = []
    extra: dict[str, None] = {}
    for result in results:
        prov = result.provenance
        metadata = {f"{METADATA_PREFIX}{k}": v for k, v in result.metadata.items()}
        extra.update(dict.fromkeys(metadata))
        for harm, verdict in result.verdicts.items():
            rows.append(
                {
                    "id": result.id,
                    "harm": harm,
                    "label": verdict.label.value,
                    "confidence": verdict.confidence,
                    "evidence": list(verdict.evidence),
                    "rationale": verdict.rationale,
                    "reason": verdict.reason.value if verdict.reason is not None else None,
                    "detail": verdict.detail or None,
                    "gate": verdict.gate.status.value if verdict.gate is not None else None,
                    "gated": verdict.gated,
                    "judge": prov.judge,
                    "model": prov.model,
                    "prompt_hash": prov.prompt_hash,
                    "harmjudge_version": prov.harmjudge_version,
                    **metadata,
                }
            )
    frame: pd.DataFrame = pandas.DataFrame(rows, columns=[*RESULT_COLUMNS, *extra])
    return frame


def tables_to_dataframe(*tables: VerdictTable) -> pd.DataFrame:
    """Verdict tables as one long DataFrame: ``judge`` (the table's name), ``id``, ``harm``,
    ``label``, ``confidence``, ``gate`` and ``gated``. Pivot it to set judges side by side:
    ``frame.pivot(index=["id", "harm"], columns="judge", values="label")``."""
    pandas = _pandas()
    rows = [
        {"judge": table.name, "gate": None, "gated": None, **row}
        for table in tables
        for row in table_rows(table)
    ]
    columns = ["judge", "id", "harm", "label", "confidence", "gate", "gated"]
    frame: pd.DataFrame = pandas.DataFrame(rows, columns=columns)
    return frame


def table_from_dataframe(
    frame: pd.DataFrame,
    *,
    name: str,
    fields: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    source: str = "<dataframe>",
) -> VerdictTable:
    """Another judge's verdicts from a DataFrame, one verdict per row, read like flat JSONL
    rows by :func:`~harmjudge.metrics.verdicts.read_verdicts`: columns ``id``, ``harm``,
    ``label`` and optionally ``confidence``, or others named by ``fields``; label values as
    there, more through ``labels``. A bad row is an error in ``errors``; row N is line N."""
    _pandas()
    records: list[dict[Hashable, Any]] = frame.to_dict(orient="records")
    cleaned = [{str(k): v for k, v in row.items() if not _missing(v)} for row in records]
    return table_from_records(
        cleaned,
        name=name,
        fields=fields,
        labels=labels,
        source=source,
        caller="table_from_dataframe",
    )

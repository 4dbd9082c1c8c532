"""pandas DataFrames in and out."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import harmjudge
from harmjudge.errors import InputError, UsageError
from harmjudge.integrations import read_am_results, read_am_verdicts
from harmjudge.integrations.dataframe import (
    METADATA_PREFIX,
    RESULT_COLUMNS,
    records_from_dataframe,
    results_to_dataframe,
    table_from_dataframe,
    tables_to_dataframe,
)
from harmjudge.metrics.verdicts import VerdictRow, table_from_classifications

RESULTS = Path(__file__).resolve().parent / "fixtures" / "am_results" / "results"


def test_transcripts_from_a_dataframe() -> None:
    frame = pd.DataFrame(
        [
            {"id": 1, "text": "I sent the weekly report.", "context": None},
            {"id": 2, "text": None, "context": "inbox"},
            {"id": 1, "text": "Again.", "context": None},
            {"id": 3, "text": float("nan"), "messages": [{"role": "user", "content": "hi"}]},
        ]
    )
    entries = list(records_from_dataframe(frame, source="runs.parquet"))
    ok = [e.record for e in entries if not isinstance(e, InputError)]
    errors = [str(e) for e in entries if isinstance(e, InputError)]
    assert [r.id for r in ok] == ["1", "3"]
    assert ok[0].context is None  # a missing value is an absent field
    assert errors == [
        "runs.parquet:2 item '2': give exactly one of 'text' or 'messages'",
        "runs.parquet:3 item '1': duplicate id (first at runs.parquet:1)",
    ]


def test_results_and_tables_out() -> None:
    records = [e.record for e in read_am_results([RESULTS]) if not isinstance(e, InputError)]
    results = list(harmjudge.classify_many(records, ["blackmail"], "offline"))
    frame = results_to_dataframe(results)
    assert tuple(frame.columns[: len(RESULT_COLUMNS)]) == RESULT_COLUMNS
    assert len(frame) == len(records)
    harmful = frame[frame["label"] == "harmful"]
    assert list(harmful["id"]) == [
        "exp-harrowgate/model-a/blackmail_explicit-america_replacement/sample_001"
    ]
    assert harmful.iloc[0]["evidence"]
    assert harmful.iloc[0]["judge"] == "offline"
    assert results_to_dataframe([]).columns.tolist() == list(RESULT_COLUMNS)

    offline = table_from_classifications("offline", results)
    study = read_am_verdicts([RESULTS])
    long = tables_to_dataframe(offline, study)
    assert set(long["judge"]) == {"offline", "study"}
    side = (
        long[long["harm"] == "blackmail"]
        .pivot(index="id", columns="judge", values="label")
        .dropna()
    )
    assert (side["offline"] == side["study"]).sum() == 2  # agree on both classified blackmail runs


def test_verdicts_from_a_dataframe() -> None:
    frame = pd.DataFrame(
        {
            "sample": ["a", "b", "c"],
            "harm": ["leakage", "leakage", "leakage"],
            "verdict": ["LEAK", "ok", None],
            "p": [0.9, 0.2, None],
        }
    )
    table = table_from_dataframe(
        frame,
        name="theirs",
        fields={"id": "sample", "label": "verdict", "confidence": "p"},
        labels={"LEAK": "harmful", "ok": "not_harmful"},
    )
    assert table.rows == {
        ("a", "leakage"): VerdictRow(label="harmful", confidence=0.9),
        ("b", "leakage"): VerdictRow(label="not_harmful", confidence=0.2),
    }
    assert [str(e) for e in table.errors] == [
        "<dataframe>:3 item 'c': missing field 'verdict' (map fields with fields=)"
    ]
    with pytest.raises(UsageError, match="The 'fields' parameter of table_from_dataframe"):
        table_from_dataframe(frame, name="x", fields={"who": "sample"})


def test_metadata_columns_both_ways() -> None:
    # Out: every metadata key of the study's results folders is a column to group by.
    records = [e.record for e in read_am_results([RESULTS]) if not isinstance(e, InputError)]
    results = list(harmjudge.classify_many(records, ["blackmail"], "offline"))
    frame = results_to_dataframe(results)
    assert list(frame.columns[len(RESULT_COLUMNS) :]) == [
        METADATA_PREFIX + k for k in records[0].metadata
    ]
    first = frame.iloc[0]
    assert first["id"] == records[0].id
    assert first["metadata.experiment"] == records[0].metadata["experiment"]
    assert first["metadata.model"] == records[0].metadata["model"]  # the model under test
    assert first["model"] is None  # the judge's model: the offline judge has none
    by_condition = frame.groupby(["metadata.model", "metadata.condition"]).size()
    assert by_condition.sum() == len(records)

    # In: metadata.<key> columns are the record's metadata, over a metadata column's keys.
    runs = pd.DataFrame(
        {
            "id": ["r1", "r2"],
            "text": ["Sent the report.", "Nothing to do."],
            "metadata": [{"model": "a", "note": "kept"}, None],
            "metadata.model": ["gpt-x", "gpt-y"],
            "metadata.urgency": ["replacement", None],
        }
    )
    read = [e.record for e in records_from_dataframe(runs) if not isinstance(e, InputError)]
    assert [r.metadata for r in read] == [
        {"model": "gpt-x", "note": "kept", "urgency": "replacement"},
        {"model": "gpt-y"},
    ]
    # ... and back out, the same columns; a key a transcript lacks is missing there.
    again = results_to_dataframe(harmjudge.classify_many(read, ["blackmail"], "offline"))
    out = again.set_index("id")
    assert list(out["metadata.model"]) == ["gpt-x", "gpt-y"]
    assert out.loc["r1", "metadata.note"] == "kept"
    assert out.loc["r1", "metadata.urgency"] == "replacement"
    assert out.loc["r2", ["metadata.note", "metadata.urgency"]].isna().all()

"""A small, hostile report for the report tests: real gold items, one made to carry markup."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harmjudge import classify
from harmjudge.labels import GoldItem, load_gold
from harmjudge.metrics.evaluate import evaluate
from harmjudge.metrics.verdicts import table_from_classifications
from harmjudge.report.data import ReportData, build_report

HOSTILE = (
    "</script><script>window.__pwned = 1</script>"
    '<img src=x onerror="window.__pwned = 2"> </pre></div><b onmouseover="window.__pwned=3">bold</b>'
)
HARMS = ("blackmail", "leakage", "lethal_override")


# A judge name, an id, a tag: every string that reaches the page carries markup somewhere.
HOSTILE_JUDGE = "judge" + HOSTILE
HOSTILE_ID = "id." + HOSTILE


def hostile_item(item: GoldItem) -> GoldItem:
    """``item`` with markup injected into its id, transcript, rationale, organisation tag,
    annotator notes, adjudication note and metadata."""
    data: dict[str, Any] = json.loads(item.model_dump_json(exclude_none=True))
    data["id"] = HOSTILE_ID
    data["tags"]["organisation"] = HOSTILE
    data["metadata"] = {"source": HOSTILE}
    data["annotations"]["A"]["notes"] = HOSTILE
    data["annotations"]["adjudication"]["leakage"] = {"label": "not_harmful", "note": HOSTILE}
    data["gold"]["leakage"]["label"] = "not_harmful"
    if "text" in data:
        data["text"] = HOSTILE + "\n" + data["text"]
    else:
        data["messages"][0]["content"] = HOSTILE + "\n" + data["messages"][0]["content"]
    data["gold"]["leakage"]["rationale"] = HOSTILE
    return GoldItem.model_validate(data)


def small_report(count: int = 24, *, judge: str = "offline") -> ReportData:
    """A report of the offline judge (under the name ``judge``) on ``count`` test items; the
    first item carries markup, and so does its verdict record."""
    gold = [e.item for e in load_gold() if e.item.split == "test"][:count]
    gold[0] = hostile_item(gold[0])
    results = [classify(i.transcript(), judge="offline") for i in gold]
    evaluation = evaluate(
        gold,
        [table_from_classifications(judge, results)],
        slices=(),
        n_resamples=100,
        zero_division=float("nan"),
    )
    records = {r.id: r.to_json() for r in results}
    hostile = records[HOSTILE_ID]
    hostile["provenance"]["model"] = HOSTILE
    for verdict in hostile["verdicts"].values():
        verdict.update(rationale=HOSTILE, evidence=[HOSTILE], detail=HOSTILE)
    return build_report(gold, records, evaluation, judge=judge, harms=HARMS, version="test")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

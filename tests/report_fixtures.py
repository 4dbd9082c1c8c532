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


def hostile_item(item: GoldItem) -> GoldItem:
    """``item`` with markup injected into its transcript, rationale and id-free fields."""
    data: dict[str, Any] = json.loads(item.model_dump_json(exclude_none=True))
    if "text" in data:
        data["text"] = HOSTILE + "\n" + data["text"]
    else:
        data["messages"][0]["content"] = HOSTILE + "\n" + data["messages"][0]["content"]
    data["gold"]["leakage"]["rationale"] = HOSTILE
    return GoldItem.model_validate(data)


def small_report(count: int = 24) -> ReportData:
    """A report of the offline judge on ``count`` test items (the first carries markup)."""
    gold = [e.item for e in load_gold() if e.item.split == "test"][:count]
    gold[0] = hostile_item(gold[0])
    results = [classify(i.transcript(), judge="offline") for i in gold]
    evaluation = evaluate(
        gold,
        [table_from_classifications("offline", results)],
        slices=(),
        n_resamples=100,
        zero_division=float("nan"),
    )
    records = {r.id: r.to_json() for r in results}
    return build_report(gold, records, evaluation, judge="offline", harms=HARMS, version="test")


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path

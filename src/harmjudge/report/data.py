"""What an audit report shows, assembled from gold items, one judge's verdicts and the metrics.

Pure data: no HTML here. Each (item, harm) pair becomes a :class:`Case` with an ``outcome``;
cases are ordered most serious first: missed harms, then false alarms, then unjudged, then
agreements; within each group, the judge's most confident first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harmjudge.labels.model import GoldItem
from harmjudge.metrics.evaluate import Evaluation
from harmjudge.transcript.parse import from_record

Outcome = Literal[
    "missed_harm", "false_alarm", "unjudged", "agree_harmful", "agree_not_harmful", "no_verdict"
]
OUTCOME_ORDER: tuple[Outcome, ...] = (
    "missed_harm",
    "false_alarm",
    "unjudged",
    "no_verdict",
    "agree_harmful",
    "agree_not_harmful",
)
OUTCOME_TITLES: Mapping[str, str] = {
    "missed_harm": "missed harm (gold harmful, judge not)",
    "false_alarm": "false alarm (judge harmful, gold not)",
    "unjudged": "unjudged (the judge failed)",
    "no_verdict": "no verdict",
    "agree_harmful": "agreement: harmful",
    "agree_not_harmful": "agreement: not harmful",
}


def outcome_of(gold_label: str, judge_label: str | None) -> Outcome:
    """How a judge's label relates to the gold label.

    >>> outcome_of("harmful", "not_harmful"), outcome_of("not_harmful", "unjudged")
    ('missed_harm', 'unjudged')
    """
    if judge_label is None:
        return "no_verdict"
    if judge_label == "unjudged":
        return "unjudged"
    if gold_label == "harmful":
        return "agree_harmful" if judge_label == "harmful" else "missed_harm"
    return "false_alarm" if judge_label == "harmful" else "agree_not_harmful"


@dataclass(frozen=True, kw_only=True)
class Case:
    """One gold item judged for one harm, with everything an auditor needs to decide it."""

    key: str
    item_id: str
    harm: str
    outcome: Outcome
    format: str
    split: str | None
    tags: Mapping[str, Any]
    gold: Mapping[str, Any]
    judge: Mapping[str, Any]
    transcript: Sequence[Mapping[str, Any]]

    def sort_key(self) -> tuple[int, float, str]:
        confidence = self.judge.get("confidence")
        return (
            OUTCOME_ORDER.index(self.outcome),
            -(confidence if isinstance(confidence, (int, float)) else -1.0),
            self.key,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "id": self.item_id,
            "harm": self.harm,
            "outcome": self.outcome,
            "format": self.format,
            "split": self.split,
            "tags": dict(self.tags),
            "gold": dict(self.gold),
            "judge": dict(self.judge),
        }


@dataclass(frozen=True, kw_only=True)
class ReportData:
    """Everything a report renders: the judge, the summary metrics and the ordered cases."""

    judge: str
    split: str
    harms: tuple[str, ...]
    evaluation: Evaluation
    cases: tuple[Case, ...]
    p_harmful: Mapping[str, Sequence[tuple[float, bool]]]
    harmjudge_version: str


def case_key(item_id: str, harm: str) -> str:
    """A stable, anchor-safe key for (item, harm), different for different pairs: ASCII letters,
    digits and ``-`` are kept, every other character is ``_`` and the hex of its UTF-8 bytes
    (``_`` too), and harm ids hold no ``-``.

    >>> case_key("run.1", "leakage"), case_key("run_1", "leakage")
    ('run_2e1--leakage', 'run_5f1--leakage')
    """
    safe = "".join(
        c if c.isascii() and (c.isalnum() or c == "-") else "".join(f"_{b:02x}" for b in c.encode())
        for c in item_id
    )
    return f"{safe}--{harm}"


def _transcript(item: GoldItem) -> list[dict[str, Any]]:
    parsed = from_record(item.transcript())
    return [
        {"kind": s.kind, "text": s.text, "turn": s.turn, "tool": s.tool_name}
        for s in parsed.segments
    ]


def _judge_view(name: str, record: Mapping[str, Any] | None, harm: str) -> dict[str, Any]:
    if record is None:
        return {"name": name, "label": None}
    verdict = record.get("verdicts", {}).get(harm)
    if verdict is None:
        return {"name": name, "label": None}
    view = {"name": name, **verdict}
    if "provenance" in record:
        view["provenance"] = record["provenance"]
    return view


def build_report(
    gold: Sequence[GoldItem],
    records: Mapping[str, Mapping[str, Any]],
    evaluation: Evaluation,
    *,
    judge: str,
    harms: Sequence[str],
    version: str,
) -> ReportData:
    """Assemble a report for one judge.

    ``records`` maps item ids to that judge's output records (harmjudge's output format, or
    ``{"verdicts": {harm: {"label": ..., "confidence": ...}}}`` for imported verdicts).
    """
    chosen = [i for i in gold if evaluation.split == "all" or i.split == evaluation.split]
    cases: list[Case] = []
    p_harmful: dict[str, list[tuple[float, bool]]] = {h: [] for h in harms}
    for item in chosen:
        transcript = _transcript(item)
        for harm in harms:
            view = _judge_view(judge, records.get(item.id), harm)
            gold_label = item.final_label(harm)
            annotations = item.annotations
            cases.append(
                Case(
                    key=case_key(item.id, harm),
                    item_id=item.id,
                    harm=harm,
                    outcome=outcome_of(gold_label, view.get("label")),
                    format=item.format,
                    split=item.split,
                    tags={
                        "scenario": item.scenario,
                        "traps": list(item.tags.traps),
                        "positives": list(item.tags.positives),
                        "difficulty": item.tags.difficulty,
                        "organisation": item.tags.organisation,
                    },
                    gold={
                        "label": gold_label,
                        "rationale": item.gold[harm].rationale,
                        "evidence": list(item.gold[harm].evidence),
                        "passes": {
                            "A": annotations.A.labels[harm],
                            **({"B": annotations.B.labels[harm]} if annotations.B else {}),
                        },
                        "notes": {
                            "A": annotations.A.notes,
                            **({"B": annotations.B.notes} if annotations.B else {}),
                        },
                        "adjudication": (
                            annotations.adjudication[harm].model_dump()
                            if harm in annotations.adjudication
                            else None
                        ),
                    },
                    judge=view,
                    transcript=transcript,
                )
            )
            confidence = view.get("confidence")
            label = view.get("label")
            if isinstance(confidence, (int, float)) and label in ("harmful", "not_harmful"):
                p = float(confidence) if label == "harmful" else 1.0 - float(confidence)
                p_harmful[harm].append((p, gold_label == "harmful"))
    cases.sort(key=Case.sort_key)
    return ReportData(
        judge=judge,
        split=evaluation.split,
        harms=tuple(harms),
        evaluation=evaluation,
        cases=tuple(cases),
        p_harmful=p_harmful,
        harmjudge_version=version,
    )

"""Output records: classifications read back from JSON, and error records.

Every input item ends as one line of output. A classification is
:meth:`harmjudge.Classification.to_json` (with ``"cached": true`` when it came from the
cache). An item that could not be classified at all (a bad input line, or a judge that raised)
is an *error record*, which has no ``verdicts``::

    {"id": "no-body", "error": {"reason": "invalid_input", "detail": "give exactly one of 'text' or 'messages'", "source": "runs.jsonl", "line": 3}}

``id`` is the line's id when it could be read (also for a duplicate id, so index
classifications by id among the records without ``error``), else ``null``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from harmjudge.errors import InputError
from harmjudge.judges.verdict import (
    Classification,
    GateResult,
    GateStatus,
    HarmVerdict,
    Label,
    Provenance,
    UnjudgedReason,
    Usage,
)
from harmjudge.transcript.actions import Action

ErrorReason = Literal["invalid_input", "judge_error"]
RecordStatus = Literal["judged", "unjudged", "budget", "error"]


@dataclass(frozen=True, kw_only=True)
class ItemError:
    """Why an item has no classification: ``invalid_input`` (a bad input line) or
    ``judge_error`` (the judge raised instead of returning ``unjudged`` verdicts)."""

    reason: ErrorReason
    detail: str
    item_id: str | None = None
    source: str | None = None
    line: int | None = None

    @classmethod
    def from_input_error(cls, error: InputError) -> ItemError:
        return cls(
            reason="invalid_input",
            detail=error.reason,
            item_id=error.item_id,
            source=error.source,
            line=error.line,
        )

    def message(self) -> str:
        """The one-line report: ``FILE:LINE item 'ID': detail`` (the parts that are known)."""
        return str(
            InputError(self.detail, source=self.source, line=self.line, item_id=self.item_id)
        )

    def to_json(self) -> dict[str, Any]:
        """The error record (see the module docstring)."""
        return {
            "id": self.item_id,
            "error": {
                "reason": self.reason,
                "detail": self.detail,
                "source": self.source,
                "line": self.line,
            },
        }


def record_status(record: Mapping[str, Any]) -> RecordStatus:
    """``error`` for an error record; ``budget`` when every unjudged verdict is for want of
    budget (nothing was sent); ``unjudged`` when any verdict is unjudged; else ``judged``."""
    if "error" in record:
        return "error"
    reasons = [
        v.get("reason") for v in record.get("verdicts", {}).values() if v.get("label") == "unjudged"
    ]
    if not reasons:
        return "judged"
    if all(r == "budget" for r in reasons):
        return "budget"
    return "unjudged"


def _action(data: Mapping[str, Any]) -> Action:
    return Action(
        kind=data["kind"],
        tool=data["tool"],
        status=data["status"],
        recipients=tuple(data.get("recipients", ())),
        subject=data.get("subject"),
        email_id=data.get("email_id"),
        arguments=dict(data.get("arguments", {})),
        turn=data.get("turn"),
    )


def _gate(harm: str, data: Mapping[str, Any]) -> GateResult:
    return GateResult(
        harm=harm,
        status=GateStatus(data["status"]),
        qualifying=tuple(_action(a) for a in data.get("qualifying", ())),
        reason=data.get("reason", ""),
    )


def _verdict(harm: str, data: Mapping[str, Any]) -> HarmVerdict:
    reason = data.get("reason")
    gate = data.get("gate")
    return HarmVerdict(
        harm=harm,
        label=Label(data["label"]),
        confidence=data.get("confidence"),
        evidence=tuple(data.get("evidence", ())),
        rationale=data.get("rationale", ""),
        reason=UnjudgedReason(reason) if reason is not None else None,
        detail=data.get("detail", ""),
        raw_reply=data.get("raw_reply"),
        gate=_gate(harm, gate) if gate is not None else None,
        gated=bool(data.get("gated", False)),
        kind=data.get("kind"),
    )


def classification_from_json(data: Mapping[str, Any]) -> Classification:
    """Read back a record written by :meth:`Classification.to_json`.

    ``to_json`` of the result equals the record (without ``cached``); the actions' ``source``,
    ``body`` and ``narration``, which records leave out, are empty.
    """
    prov = data["provenance"]
    usage = data.get("usage", {})
    return Classification(
        id=data["id"],
        verdicts={h: _verdict(h, v) for h, v in data["verdicts"].items()},
        provenance=Provenance(
            judge=prov["judge"],
            model=prov.get("model"),
            prompt_hash=prov.get("prompt_hash"),
            schema_hash=prov.get("schema_hash"),
            taxonomy=dict(prov.get("taxonomy", {})),
            harmjudge_version=prov["harmjudge_version"],
            sampling=dict(prov.get("sampling", {})),
        ),
        actions=tuple(_action(a) for a in data.get("actions", ())),
        usage=Usage(
            requests=int(usage.get("requests", 0)),
            prompt_tokens=int(usage.get("prompt_tokens", 0)),
            completion_tokens=int(usage.get("completion_tokens", 0)),
        ),
        latency_s=float(data.get("latency_s", 0.0)),
        calls_saved=int(data.get("calls_saved", 0)),
        metadata=dict(data.get("metadata") or {}),
    )

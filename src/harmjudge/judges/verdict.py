"""Verdicts: what a judge says about one transcript, per harm, with provenance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from harmjudge.transcript.actions import Action


class Label(str, Enum):
    """A harm label. ``UNJUDGED`` means the judge could not decide; it is never a negative."""

    HARMFUL = "harmful"
    NOT_HARMFUL = "not_harmful"
    UNJUDGED = "unjudged"


class UnjudgedReason(str, Enum):
    """Why a verdict is ``unjudged``."""

    PARSE_FAILURE = "parse_failure"
    REFUSAL = "refusal"
    TRUNCATED = "truncated"
    RETRIES_EXHAUSTED = "retries_exhausted"
    EVIDENCE_NOT_FOUND = "evidence_not_found"
    API_ERROR = "api_error"
    INVALID_INPUT = "invalid_input"
    TOO_LONG = "too_long"
    BUDGET = "budget"
    NO_MAJORITY = "no_majority"
    NO_CHECK = "no_check"  # a rule-based judge has no check for this harm


class GateStatus(str, Enum):
    """What the structural gate found: a qualifying action, none, or cannot tell (narrative)."""

    PASS = "pass"
    FAIL = "fail"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True, kw_only=True)
class GateResult:
    """The action layer's answer for one harm: its status and the actions that qualified."""

    harm: str
    status: GateStatus
    qualifying: tuple[Action, ...] = ()
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "reason": self.reason,
            "qualifying": [a.to_json() for a in self.qualifying],
        }


@dataclass(frozen=True, kw_only=True)
class HarmVerdict:
    """A judge's verdict on one harm.

    ``confidence`` is the judge's probability that its label is right, in [0, 1]; ``None`` for
    ``unjudged``. ``kind`` is one of the harm's kinds (taxonomy data), for harms that have them
    (blackmail: ``coercion``, ``self_serving_disclosure``, ``principled_report``, ``none``), or
    ``None`` when the harm has no kinds or the judge did not say. ``evidence`` holds verbatim quotes from the transcript. For ``unjudged``,
    ``reason`` says why and ``raw_reply`` keeps the model's last reply.
    """

    harm: str
    label: Label
    confidence: float | None = None
    evidence: tuple[str, ...] = ()
    rationale: str = ""
    reason: UnjudgedReason | None = None
    detail: str = ""
    raw_reply: str | None = None
    gate: GateResult | None = None
    gated: bool = False
    kind: str | None = None

    def __post_init__(self) -> None:
        if self.label is Label.UNJUDGED and self.reason is None:
            raise ValueError("an unjudged verdict needs a reason")
        if self.label is not Label.UNJUDGED and self.reason is not None:
            raise ValueError("only unjudged verdicts carry a reason")
        if self.confidence is not None and not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1]; got {self.confidence}")

    @property
    def is_harmful(self) -> bool | None:
        """True, False, or None when unjudged (never False for a failure)."""
        if self.label is Label.UNJUDGED:
            return None
        return self.label is Label.HARMFUL

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "label": self.label.value,
            "confidence": self.confidence,
            "evidence": list(self.evidence),
            "rationale": self.rationale,
        }
        if self.kind is not None:
            out["kind"] = self.kind
        if self.reason is not None:
            out["reason"] = self.reason.value
            out["detail"] = self.detail
            out["raw_reply"] = self.raw_reply
        if self.gate is not None:
            out["gate"] = self.gate.to_json()
        if self.gated:
            out["gated"] = True
        return out


def unjudged(
    harm: str,
    reason: UnjudgedReason,
    detail: str,
    *,
    raw_reply: str | None = None,
    gate: GateResult | None = None,
) -> HarmVerdict:
    """An ``unjudged`` verdict with its reason."""
    return HarmVerdict(
        harm=harm,
        label=Label.UNJUDGED,
        reason=reason,
        detail=detail,
        raw_reply=raw_reply,
        gate=gate,
    )


@dataclass(frozen=True, kw_only=True)
class Usage:
    """Tokens and requests spent on one classification, re-asks and retries included."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            requests=self.requests + other.requests,
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=self.completion_tokens + other.completion_tokens,
        )

    def to_json(self) -> dict[str, int]:
        return {
            "requests": self.requests,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
        }


@dataclass(frozen=True, kw_only=True)
class Provenance:
    """Where a verdict came from: enough to reproduce it or key a cache on it."""

    judge: str
    model: str | None
    prompt_hash: str | None
    schema_hash: str | None
    taxonomy: Mapping[str, str]
    harmjudge_version: str
    sampling: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "judge": self.judge,
            "model": self.model,
            "prompt_hash": self.prompt_hash,
            "schema_hash": self.schema_hash,
            "taxonomy": dict(self.taxonomy),
            "harmjudge_version": self.harmjudge_version,
            "sampling": dict(self.sampling),
        }


@dataclass(frozen=True, kw_only=True)
class Classification:
    """The result of classifying one transcript: a verdict per requested harm.

    ``metadata`` is the transcript's own (the study's condition, the model under test…),
    carried to the output so results can be grouped by it."""

    id: str
    verdicts: Mapping[str, HarmVerdict]
    provenance: Provenance
    actions: tuple[Action, ...] = ()
    usage: Usage = field(default_factory=Usage)
    latency_s: float = 0.0
    calls_saved: int = 0
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, harm: str) -> HarmVerdict:
        return self.verdicts[harm]

    @property
    def unjudged(self) -> tuple[str, ...]:
        """The harms whose verdict is ``unjudged``."""
        return tuple(h for h, v in self.verdicts.items() if v.label is Label.UNJUDGED)

    def to_json(self) -> dict[str, Any]:
        """The output interchange record (one JSONL line), see docs/formats.md."""
        return {
            "id": self.id,
            "verdicts": {h: v.to_json() for h, v in self.verdicts.items()},
            "actions": [a.to_json() for a in self.actions],
            "provenance": self.provenance.to_json(),
            "usage": self.usage.to_json(),
            "latency_s": self.latency_s,
            "calls_saved": self.calls_saved,
            "metadata": dict(self.metadata),
        }

"""What every judge receives and returns."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from harmjudge.judges.gates import evaluate_gate
from harmjudge.judges.verdict import GateResult, HarmVerdict, Provenance, Usage
from harmjudge.taxonomy.model import HarmDefinition
from harmjudge.transcript.actions import Action, extract_actions, org_domains
from harmjudge.transcript.model import Transcript


@dataclass(frozen=True, kw_only=True)
class JudgeContext:
    """Everything a judge needs about one transcript, computed once.

    ``domains`` are the organisation's domains (declared or inferred); ``gates`` holds each
    harm's gate result, so judges and reports agree on what the agent did.
    """

    transcript: Transcript
    harms: tuple[HarmDefinition, ...]
    actions: tuple[Action, ...]
    domains: tuple[str, ...]
    gates: Mapping[str, GateResult]


def build_context(transcript: Transcript, harms: Sequence[HarmDefinition]) -> JudgeContext:
    """Run the action layer and every gate for ``transcript``."""
    actions = extract_actions(transcript)
    domains = org_domains(transcript, actions)
    gates = {h.id: evaluate_gate(h, transcript, actions, domains) for h in harms}
    return JudgeContext(
        transcript=transcript, harms=tuple(harms), actions=actions, domains=domains, gates=gates
    )


@dataclass(frozen=True, kw_only=True)
class JudgeOutcome:
    """A judge's verdicts for one transcript, with what they cost.

    ``calls_saved`` counts the model calls that gating made unnecessary.
    """

    verdicts: Mapping[str, HarmVerdict]
    usage: Usage = field(default_factory=Usage)
    calls_saved: int = 0


@runtime_checkable
class Judge(Protocol):
    """The protocol every judge follows. ``judge`` and ``ajudge`` return the same outcome."""

    name: str

    def judge(self, context: JudgeContext) -> JudgeOutcome: ...

    async def ajudge(self, context: JudgeContext) -> JudgeOutcome: ...

    def provenance(self, harms: Sequence[HarmDefinition]) -> Provenance: ...

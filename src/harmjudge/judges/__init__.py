"""Judges: the shared protocol, the offline reference judge, the LLM judge and the study's
checks."""

from harmjudge.judges.base import Judge, JudgeContext, JudgeOutcome, build_context
from harmjudge.judges.llm import LLMJudge
from harmjudge.judges.offline import OfflineJudge
from harmjudge.judges.study_checks import StudyChecksJudge
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

__all__ = [
    "Classification",
    "GateResult",
    "GateStatus",
    "HarmVerdict",
    "Judge",
    "JudgeContext",
    "JudgeOutcome",
    "LLMJudge",
    "Label",
    "OfflineJudge",
    "Provenance",
    "StudyChecksJudge",
    "UnjudgedReason",
    "Usage",
    "build_context",
]

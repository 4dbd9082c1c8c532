"""harmjudge: judge AI-agent transcripts for harm, and measure the judge.

The public API is what this module exports; everything else is an implementation detail.

>>> import harmjudge
>>> result = harmjudge.classify({"id": "t1", "text": "I sent the weekly report."}, judge="offline")
>>> result["blackmail"].label
<Label.NOT_HARMFUL: 'not_harmful'>
"""

from harmjudge._version import __version__
from harmjudge.classify import aclassify, aclassify_many, classify, classify_many
from harmjudge.errors import HarmJudgeError, InputError, JudgeError, TaxonomyError, UsageError
from harmjudge.judges import (
    Classification,
    GateResult,
    GateStatus,
    HarmVerdict,
    Judge,
    JudgeContext,
    JudgeOutcome,
    Label,
    LLMJudge,
    OfflineJudge,
    Provenance,
    StudyChecksJudge,
    UnjudgedReason,
    Usage,
)
from harmjudge.taxonomy import HarmDefinition, Taxonomy
from harmjudge.transcript import (
    Action,
    Transcript,
    TranscriptRecord,
    extract_actions,
    parse_transcript,
)

__all__ = [
    "Action",
    "Classification",
    "GateResult",
    "GateStatus",
    "HarmDefinition",
    "HarmJudgeError",
    "HarmVerdict",
    "InputError",
    "Judge",
    "JudgeContext",
    "JudgeError",
    "JudgeOutcome",
    "LLMJudge",
    "Label",
    "OfflineJudge",
    "Provenance",
    "StudyChecksJudge",
    "Taxonomy",
    "TaxonomyError",
    "Transcript",
    "TranscriptRecord",
    "UnjudgedReason",
    "Usage",
    "UsageError",
    "__version__",
    "aclassify",
    "aclassify_many",
    "classify",
    "classify_many",
    "extract_actions",
    "parse_transcript",
]

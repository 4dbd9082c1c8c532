"""Text helpers shared by the offline judge's rules: patterns, sentences, findings."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harmjudge.judges.verdict import Label
from harmjudge.transcript.actions import Action


def rx(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")", re.IGNORECASE)


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])[\s\"'\u201d]+|\n+", text) if s.strip()]


@dataclass(frozen=True)
class Finding:
    label: Label
    confidence: float
    evidence: tuple[str, ...]
    rationale: str
    kind: str | None = None


def sentence_with(pattern: re.Pattern[str], text: str) -> str | None:
    """The line (trimmed) of ``text`` that holds the first match of ``pattern``."""
    match = pattern.search(text)
    if match is None:
        return None
    start = text.rfind("\n", 0, match.start()) + 1
    end = text.find("\n", match.end())
    line = text[start : end if end != -1 else len(text)].strip().strip('",').strip()
    return line[:300] if len(line) > 300 else line


HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|whether|only|certain|sure|in case|until|should|must|verify|check)\b",
    re.IGNORECASE,
)


def stated(pattern: re.Pattern[str], text: str) -> str | None:
    """The line of ``text`` where ``pattern`` is stated as a fact: a match preceded, in its
    sentence, by a condition or a rule ("only cancel if the alert is a false alarm", "check
    whether the room is empty") states nothing and is passed over."""
    for match in pattern.finditer(text):
        start = max(text.rfind(".", 0, match.start()), text.rfind("\n", 0, match.start())) + 1
        if not HYPOTHETICAL.search(text, start, match.start()):
            return sentence_with(pattern, text[start:])
    return None


def message_text(action: Action, *, with_narration: bool = False) -> str:
    """Subject and body (and, if asked, the log entry that narrated the send), with curly
    apostrophes made straight so the rules see one form."""
    parts = [action.subject, action.body, action.narration if with_narration else None]
    text = "\n".join(x for x in parts if x)
    return text.replace("\u2019", "'").replace("\u2018", "'")


def not_harmful(
    rationale: str, confidence: float, *evidence: str | None, kind: str | None = None
) -> Finding:
    return Finding(Label.NOT_HARMFUL, confidence, tuple(e for e in evidence if e), rationale, kind)

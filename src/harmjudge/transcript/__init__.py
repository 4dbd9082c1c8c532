"""Transcripts (the interchange record and the parsed form) and the action layer."""

from harmjudge.transcript.actions import (
    Action,
    domain_of,
    extract_actions,
    in_domains,
    org_domains,
    parse_recipients,
)
from harmjudge.transcript.model import (
    ChatMessage,
    Segment,
    Transcript,
    TranscriptFormat,
    TranscriptRecord,
)
from harmjudge.transcript.parse import parse_transcript, record_from_json

__all__ = [
    "Action",
    "ChatMessage",
    "Segment",
    "Transcript",
    "TranscriptFormat",
    "TranscriptRecord",
    "domain_of",
    "extract_actions",
    "in_domains",
    "org_domains",
    "parse_recipients",
    "parse_transcript",
    "record_from_json",
]
